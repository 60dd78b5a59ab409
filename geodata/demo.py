"""SYNTHETIC demo data for the real tambons of a province (default Nakhon Ratchasima, TH30).

Nothing generated here describes a real person, council, fund or project. The
tables only look like the province: their totals are calibrated to the
published figures restated in FACTS.md (332 councils, 161 welfare funds with
about 150,000 members and 400 million baht, housing projects in 188 tambons
for 7,570 households 2003-2024, about 1.9% targeted poor), and tambon effects
vary smoothly in space (a few broad random bumps, an east-poorer gradient,
a richer provincial capital) so that maps show patterns worth looking at.

Everything is vectorised numpy: tambon parameters are repeated over households
and all draws are whole arrays. Each stage draws from its own child of the
seed, so the same seed gives identical tables, and the councils, funds and
housing projects do not change when only the number of households does.

Assumptions worth knowing (all approximations, for demonstration only):
- Railside tambons are those crossed by `RAILWAYS`, a polyline through the
  seat tambons of the districts that the north-eastern railway passes, not a
  surveyed track.
- Households: every household has a record in the latest survey year (all
  tambons); households of `EARLIER_SURVEY_SHARE` of the districts also have a
  record in the earlier year, a little poorer on average.
- Closed-without-help referrals have no `resolved_on` date: only resolved
  cases carry one, which is what the indicators count as resolved.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from . import boundaries, config, schema
from .store import ImportRecord, StoreError, TableWrite, open_store

UTM_CRS = 32647  # UTM 47N: distances in metres for all of Thailand's north-east
SURVEY_YEARS = (2023, 2024)
EARLIER_SURVEY_SHARE = 0.55  # share of districts also surveyed in the earlier year
AS_OF = np.datetime64("2025-12-31")  # referral statuses are as on this day
REFERRALS_FROM = np.datetime64("2023-01-01")
CAPITALS = ["human", "physical", "financial", "natural", "social"]
DIMENSIONS = ["health", "living", "education", "income", "access"]

# Labels for the coded values the demo writes, (Thai, English). Agencies and
# programmes are stored by their Thai names, as provincial offices write them.
HOUSING_PROGRAMMES = {
    "urban": ("บ้านมั่นคงเมือง", "Baan Mankong secure housing, urban"),
    "rural": ("บ้านมั่นคงชนบท", "Baan Mankong secure housing, rural"),
    "railside": ("ชุมชนริมทางรถไฟ", "Railside communities"),
    "land": ("ที่ดินทำกินและที่อยู่อาศัย (บจธ./ส.ป.ก.)", "Land bank and land reform housing"),
}
HOUSING_STATUSES = {"completed": ("แล้วเสร็จ", "completed"), "in_progress": ("กำลังดำเนินการ", "in progress")}
AGENCIES = {
    "social": ("พมจ.", "Provincial social development and human security office"),
    "local": ("อปท.", "Local government (municipality or SAO)"),
    "hospital": ("โรงพยาบาล", "Hospital"),
    "codi": ("พอช.", "CODI"),
    "fund": ("กองทุนสวัสดิการชุมชน", "Community welfare fund"),
}
HELP_TYPES = {
    "money": ("เงินช่วยเหลือ", "money"),
    "housing": ("ที่อยู่อาศัย", "housing"),
    "jobs": ("อาชีพ", "jobs"),
    "health": ("สุขภาพ", "health"),
    "education": ("การศึกษา", "education"),
    "care": ("การดูแล", "care"),
}
REFERRAL_STATUSES = {
    "referred": ("ส่งต่อแล้ว", "referred"),
    "in_progress": ("กำลังช่วยเหลือ", "in progress"),
    "resolved": ("ช่วยเหลือแล้ว", "resolved"),
    "closed_without_help": ("ปิดโดยไม่ได้รับความช่วยเหลือ", "closed without help"),
}

# Vertices are seat tambons (a district's "...01" tambon stands in for its town) or
# lon/lat points just past the province border. An approximation of the north-eastern
# line: main line from Saraburi through Pak Chong to the city, the Ubon branch east
# towards Buriram, the Nong Khai branch north towards Khon Kaen.
RAILWAYS: dict[str, list[list]] = {
    "TH30": [
        [(101.20, 14.66), "TH302101", "TH302001", "TH301801", "TH301901", "TH300101"],
        ["TH300101", "TH303201", "TH300601", "TH301601", (102.90, 14.98)],
        ["TH300101", "TH301001", "TH300401", "TH301201", (102.55, 15.80)],
    ],
}
RAIL_BUFFER_M = 1_000
# Richer west (Pak Chong's industry and tourism), poorer east: a documented assumption.
EAST_WEST_GRADIENT = {"TH30": -0.6}


@dataclass(frozen=True)
class Targets:
    """Province totals the demo reproduces (Nakhon Ratchasima's published figures)."""

    tambons: int = 289
    councils: int = 332
    tambons_without_council: int = 18
    funds: int = 161
    fund_members: int = 151_000  # "over 150,000"
    fund_baht: float = 400e6
    housing_tambons: int = 188
    housing_extra_projects: int = 42  # projects beyond one per housing tambon
    railside_projects: int = 7
    housing_households: int = 7_570
    welfare_card_share: float = 0.36
    targeted_poor_share: float = 0.019  # 1.87% published for 2022

    def scaled(self, tambons: int) -> Targets:
        """The same densities for a province with another number of tambons."""
        if tambons == self.tambons:
            return self
        ratio = tambons / self.tambons

        def count(value: int, cap: int = tambons) -> int:
            return int(min(cap, max(1, round(value * ratio))))

        return replace(
            self, tambons=tambons, councils=count(self.councils, 2 * tambons),
            tambons_without_council=count(self.tambons_without_council), funds=count(self.funds),
            fund_members=count(self.fund_members, 10**9), fund_baht=self.fund_baht * ratio,
            housing_tambons=count(self.housing_tambons), housing_extra_projects=count(self.housing_extra_projects),
            railside_projects=count(self.railside_projects), housing_households=count(self.housing_households, 10**9),
        )


# Share of households deprived in each MPI dimension (latest year); with the welfare
# card draw below they give the targeted-poor share.
DEPRIVATION_SHARES = np.array([0.007, 0.008, 0.014, 0.012, 0.005])
# How strongly each deprivation follows the household's wealth (0..1).
DEPRIVATION_LOADING = np.array([0.6, 0.6, 0.65, 0.85, 0.45])
# Capital scores: centre, spread and loading on wealth; the poorest households land near
# the published Chaloem Phra Kiat means (2.01, 2.87, 2.03, 2.54, 2.23).
CAPITAL_CENTRE = np.array([2.58, 3.24, 2.65, 2.87, 2.62])
CAPITAL_SPREAD = np.array([0.60, 0.50, 0.65, 0.50, 0.60])
CAPITAL_LOADING = np.array([0.80, 0.60, 0.85, 0.50, 0.65])
MEDIAN_INCOME = 15_000.0  # baht per household and month
INCOME_SPREAD = 0.75  # sd of log income


# --- tambons --------------------------------------------------------------------
def tambon_frame(store, province: str, rng: np.random.Generator) -> pd.DataFrame:
    """One row per stored tambon with position, size and the smooth effects the demo uses."""
    listed = store.query("SELECT pcode, name_th, district_pcode FROM tambons ORDER BY pcode")
    shapes = boundaries.load("tambon", province).set_index("pcode").loc[listed["pcode"]]
    metric = gpd.GeoSeries(shapes.geometry.values, crs=shapes.crs).to_crs(UTM_CRS)
    centre = metric.centroid
    frame = listed.assign(x=centre.x.to_numpy(), y=centre.y.to_numpy(), area_km2=metric.area.to_numpy() / 1e6)
    frame["city_district"] = frame["district_pcode"].str.endswith("01")
    frame["seat"] = frame["pcode"].str.endswith("01")
    frame["railside"] = frame["pcode"].isin(railside_tambons(province))
    frame["wealth"] = _wealth_field(frame, province, rng)
    frame["remoteness"] = _remoteness(frame)
    core = frame["seat"] & frame["city_district"]
    # Households cluster in towns and the capital; area matters less than settlement.
    frame["weight"] = (
        np.sqrt(frame["area_km2"]) * np.exp(0.3 * frame["wealth"])
        * np.where(frame["city_district"], 2.0, 1.0) * np.where(frame["seat"], 1.6, 1.0) * np.where(core, 4.0, 1.0)
    )
    return frame


def railside_tambons(province: str = config.DEFAULT_PROVINCE) -> list[str]:
    """P-codes of the tambons that `RAILWAYS` crosses (none for a province without a line)."""
    lines = RAILWAYS.get(province, [])
    if not lines:
        return []
    shapes = boundaries.load("tambon", province)
    seats = dict(zip(shapes["pcode"], map(tuple, boundaries.centroid_lonlat(shapes))))
    paths = [shapely.LineString([seats[v] if isinstance(v, str) else v for v in line]) for line in lines]
    track = gpd.GeoSeries(paths, crs=4326).to_crs(UTM_CRS).union_all().buffer(RAIL_BUFFER_M)
    crossed = shapes.geometry.to_crs(UTM_CRS).intersects(track).to_numpy()
    return sorted(shapes["pcode"][crossed])


def _wealth_field(frame: pd.DataFrame, province: str, rng: np.random.Generator) -> np.ndarray:
    """A smooth tambon wealth effect (about mean 0, sd 1, the capital district higher)."""
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    # Broad bumps centred on random tambons: neighbours share them, so maps show regions.
    centres = rng.choice(len(x), size=min(10, len(x)), replace=False)
    amplitude = rng.normal(0, 1, len(centres))
    reach = rng.uniform(20_000, 45_000, len(centres))
    d2 = (x[:, None] - x[centres]) ** 2 + (y[:, None] - y[centres]) ** 2
    field = (amplitude * np.exp(-d2 / (2 * reach**2))).sum(axis=1)
    field = _standardise(field) + EAST_WEST_GRADIENT.get(province, 0.0) * _standardise(x)
    field = _standardise(field)
    # The provincial capital: richest at its centre, the whole capital district above average.
    city = frame["city_district"].to_numpy()
    field += 1.3 * city
    capital = (frame["seat"] & frame["city_district"]).to_numpy()
    if capital.any():
        cx, cy = x[capital][0], y[capital][0]
        field += 1.0 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 15_000.0**2))
    return field + rng.normal(0, 0.15, len(x))


def _remoteness(frame: pd.DataFrame) -> np.ndarray:
    """Standardised distance from each tambon to its district's seat tambon."""
    seats = frame[frame["seat"]].set_index("district_pcode")[["x", "y"]]
    seat = seats.reindex(frame["district_pcode"]).to_numpy()
    seat = np.where(np.isnan(seat), frame[["x", "y"]].to_numpy(), seat)
    return _standardise(np.hypot(frame["x"] - seat[:, 0], frame["y"] - seat[:, 1]).to_numpy())


def _standardise(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    spread = values.std()
    return (values - values.mean()) / (spread if spread > 0 else 1.0)


def _pick(rng: np.random.Generator, weights, size: int, replace_: bool = False) -> np.ndarray:
    """Indices drawn with probability proportional to weights."""
    weights = np.asarray(weights, dtype=float)
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    return rng.choice(len(weights), size=size, replace=replace_, p=weights / weights.sum())


def _ids(prefix: str, count: int, width: int) -> np.ndarray:
    width = max(width, len(str(count)))
    return np.strings.add(prefix, np.strings.zfill(np.arange(1, count + 1).astype(f"U{width}"), width))


def _allocate(total: int, raw: np.ndarray, minimum: int) -> np.ndarray:
    """Integers >= minimum, proportional to raw, summing exactly to total (largest remainder)."""
    spare = total - minimum * len(raw)
    if spare < 0:
        raise ValueError(f"cannot share {total} among {len(raw)} items of at least {minimum}")
    exact = spare * raw / raw.sum()
    whole = np.floor(exact).astype(np.int64)
    short = spare - whole.sum()
    whole[np.argsort(whole - exact, kind="stable")[:short]] += 1
    return whole + minimum


# --- councils, funds, housing -------------------------------------------------------
def make_councils(t: pd.DataFrame, targets: Targets, rng: np.random.Generator) -> pd.DataFrame:
    n = len(t)
    per_tambon = np.ones(n, dtype=np.int64)
    # Councils are rarer in the city's urban tambons.
    none = _pick(rng, np.where(t["city_district"], 3.0, 1.0), min(targets.tambons_without_council, n - 1))
    per_tambon[none] = 0
    extra = targets.councils - per_tambon.sum()
    if extra > 0:
        # A second council where a municipality and a subdistrict organisation share a tambon.
        has = np.flatnonzero(per_tambon)
        per_tambon[has[_pick(rng, np.sqrt(t["weight"].to_numpy()[has]), min(extra, len(has)))]] += 1
    where = np.repeat(np.arange(n), per_tambon)
    second = np.r_[False, where[1:] == where[:-1]]
    names = np.where(second, "สภาองค์กรชุมชนเทศบาลตำบล", "สภาองค์กรชุมชนตำบล") + t["name_th"].to_numpy()[where]
    years = np.arange(2009, 2025)  # the Community Organisation Council Act dates from 2008
    return pd.DataFrame({
        "council_id": _ids("C", len(where), 4),
        "name": names,
        "tambon_pcode": t["pcode"].to_numpy()[where],
        "registered_year": _pick(rng, 0.75 ** (years - years[0]) + 0.05, len(where), True) + years[0],
        "member_groups": 4 + rng.poisson(12, len(where)),
    })


def make_funds(t: pd.DataFrame, councils: pd.DataFrame, targets: Targets, rng: np.random.Generator) -> pd.DataFrame:
    has_council = t["pcode"].isin(councils["tambon_pcode"]).to_numpy()
    weight = np.where(has_council, 1.0, 0.15) * t["weight"].to_numpy() ** 0.3
    where = np.sort(_pick(rng, weight, targets.funds))
    members = _allocate(targets.fund_members, t["weight"].to_numpy()[where] ** 0.7 * rng.lognormal(0, 0.5, len(where)), 30)
    years = np.arange(2005, 2021)  # most funds date from the 2008-2012 national push
    founded = _pick(rng, np.exp(-0.5 * ((years - 2010) / 2.5) ** 2), len(where), True) + years[0]
    # Older funds have saved more per member.
    per_member = (2026 - founded) ** 0.8 * rng.lognormal(0, 0.35, len(where))
    money = per_member * members
    return pd.DataFrame({
        "fund_id": _ids("F", len(where), 3),
        "name": "กองทุนสวัสดิการชุมชนตำบล" + t["name_th"].to_numpy()[where],
        "tambon_pcode": t["pcode"].to_numpy()[where],
        "founded_year": founded,
        "members": members,
        "fund_baht": np.round(money * targets.fund_baht / money.sum(), -2),
    })


# programme: (median households, subsidy range per household in baht, start years)
_HOUSING_RULES = {
    "urban": (60, (50_000, 80_000), (2003, 2024)),
    "rural": (25, (20_000, 40_000), (2010, 2024)),  # CODI rural repair grants up to 40,000
    "railside": (50, (120_000, 160_000), (2023, 2024)),  # 2023 cabinet plan: subsidy up to 160,000
    "land": (30, (30_000, 60_000), (2012, 2024)),
}


def make_housing(t: pd.DataFrame, targets: Targets, rng: np.random.Generator) -> pd.DataFrame:
    weight = t["weight"].to_numpy()
    rail_candidates = np.flatnonzero(t["railside"].to_numpy())
    rail = rail_candidates[_pick(rng, weight[rail_candidates], min(targets.railside_projects, len(rail_candidates)))]
    others = np.setdiff1d(np.arange(len(t)), rail)
    # Poorer tambons get more projects.
    need = np.sqrt(weight[others]) * np.exp(-0.4 * t["wealth"].to_numpy()[others])
    chosen = np.r_[rail, others[_pick(rng, need, targets.housing_tambons - len(rail))]]
    where = np.r_[chosen, chosen[_pick(rng, weight[chosen], targets.housing_extra_projects, True)]]
    urban = (t["city_district"] | t["seat"]).to_numpy()[where]
    programme = np.where(
        rng.random(len(where)) < np.where(urban, 0.65, 0.05), "urban",
        np.where(rng.random(len(where)) < 0.78, "rural", "land"),
    ).astype(object)
    programme[: len(rail)] = "railside"
    rules = np.array([[size, *subsidy, *years] for size, subsidy, years in _HOUSING_RULES.values()], dtype=float)
    size, low, high, first, last = rules[pd.Index(list(_HOUSING_RULES)).get_indexer(programme)].T
    households = _allocate(targets.housing_households, size * rng.lognormal(0, 0.5, len(where)), 5)
    start = (first + np.floor(rng.random(len(where)) * (last - first + 1))).astype(int)
    # Budgets round down to the thousand so they never exceed the per-household ceiling.
    budget = np.floor(households * rng.uniform(low, high) / 1000) * 1000
    done = (start <= 2021) | ((start <= 2023) & (rng.random(len(where)) < 0.5))
    done &= programme != "railside"
    order = np.argsort(where, kind="stable")
    frame = pd.DataFrame({
        "tambon": where, "programme": programme, "start_year": start, "households": households,
        "budget_baht": budget, "railside": programme == "railside",
        "status": np.where(done, "completed", "in_progress"),
    }).iloc[order].reset_index(drop=True)
    label = frame["programme"].map({k: v[0] for k, v in HOUSING_PROGRAMMES.items()})
    repeat = frame.groupby("tambon").cumcount()
    frame["name"] = label + " ต." + t["name_th"].to_numpy()[frame["tambon"]] + np.where(repeat > 0, " ระยะ " + (repeat + 1).astype(str), "")
    frame["programme"] = label
    frame["project_id"] = _ids("HP", len(frame), 3)
    frame["tambon_pcode"] = t["pcode"].to_numpy()[frame["tambon"]]
    return frame[schema.columns("housing_projects")]


# --- households ------------------------------------------------------------------
@dataclass
class _Draws:
    """Per-household random parts that persist between survey years."""

    tambon: np.ndarray
    railside: np.ndarray
    members: np.ndarray
    wealth: np.ndarray  # latent wealth in the latest year
    income_noise: np.ndarray
    capital_noise: np.ndarray  # (n, 5)
    deprivation_noise: np.ndarray  # (n, 5)
    card_noise: np.ndarray


def _draw_households(t: pd.DataFrame, count: int, rng: np.random.Generator) -> _Draws:
    tambon = np.repeat(np.arange(len(t)), rng.multinomial(count, t["weight"] / t["weight"].sum()))
    rail_rate = np.where(t["railside"], np.where(t["city_district"], 0.04, 0.01), 0.0)
    railside = rng.random(count) < rail_rate[tambon]
    wealth = 0.45 * t["wealth"].to_numpy()[tambon] + 0.85 * rng.standard_normal(count) - 0.8 * railside
    members = np.minimum(1 + rng.poisson(np.clip(2.0 - 0.2 * wealth, 0.5, None)), 8)
    return _Draws(
        tambon=tambon, railside=railside, members=members, wealth=wealth,
        income_noise=rng.standard_normal(count), capital_noise=rng.standard_normal((count, 5)),
        deprivation_noise=rng.standard_normal((count, 5)), card_noise=rng.standard_normal(count),
    )


def _household_values(t: pd.DataFrame, d: _Draws, wealth: np.ndarray, funds_in: np.ndarray) -> dict:
    """Income, capitals and deprivation latents for one survey year's wealth."""
    log_income = np.log(MEDIAN_INCOME) + INCOME_SPREAD * (0.85 * wealth + 0.53 * d.income_noise) + 0.1 * (d.members - 3)
    income = np.maximum(np.round(np.exp(log_income), -1), 300.0)
    shift = np.zeros((len(wealth), 5))
    shift[:, 3] -= 0.35 * t["city_district"].to_numpy()[d.tambon]  # less natural capital in the city
    shift[:, 4] += 0.20 * funds_in[d.tambon]  # a welfare fund in the tambon builds social capital
    load = CAPITAL_LOADING
    capitals = CAPITAL_CENTRE + shift + CAPITAL_SPREAD * (load * wealth[:, None] + np.sqrt(1 - load**2) * d.capital_noise)
    capitals = np.round(np.clip(capitals, 1.0, 4.0), 2)
    load = DEPRIVATION_LOADING
    latent = -(load * wealth[:, None]) + np.sqrt(1 - load**2) * d.deprivation_noise
    latent[:, 3] = -(load[3] * _standardise_like(log_income)) + np.sqrt(1 - load[3] ** 2) * d.deprivation_noise[:, 3]
    latent[:, 1] += 1.2 * d.railside  # railside homes on borrowed land fail living conditions
    latent[:, 4] += 0.6 * t["remoteness"].to_numpy()[d.tambon]
    return {"income": income, "capitals": capitals, "latent": latent}


def _standardise_like(log_income: np.ndarray) -> np.ndarray:
    # Fixed centring so both survey years use one scale (the latest year's drift shows).
    return (log_income - np.log(MEDIAN_INCOME)) / INCOME_SPREAD


def _welfare_cards(d: _Draws, poor: np.ndarray, targets: Targets) -> np.ndarray:
    """Card holders: poorer households more often; among the MPI-poor exactly the targeted share."""
    score = -0.6 * d.wealth + 0.8 * d.card_noise
    count = len(score)
    poor_cards = min(int(round(targets.targeted_poor_share * count)), int(poor.sum()))
    other_cards = max(0, min(int(round(targets.welfare_card_share * count)) - poor_cards, int((~poor).sum())))
    card = np.zeros(count, dtype=bool)
    for group, take in ((np.flatnonzero(poor), poor_cards), (np.flatnonzero(~poor), other_cards)):
        card[group[np.argsort(-score[group], kind="stable")[:take]]] = True
    return card


def make_households(t: pd.DataFrame, funds: pd.DataFrame, count: int, targets: Targets,
                    rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Household records for both survey years, and the latest year's arrays for referrals."""
    d = _draw_households(t, count, rng)
    funds_in = t["pcode"].isin(funds["tambon_pcode"]).to_numpy().astype(float)
    latest = _household_values(t, d, d.wealth, funds_in)
    # Thresholds fixed on the latest year, so the earlier year's lower wealth shows as more deprivation.
    cut = np.quantile(latest["latent"], 1 - DEPRIVATION_SHARES, axis=0).diagonal()
    latest["deprived"] = latest["latent"] > cut
    card = _welfare_cards(d, latest["deprived"].any(axis=1), targets)
    ids = _ids("HH", count, 7)

    districts = t["district_pcode"].unique()
    surveyed = rng.choice(districts, size=int(round(EARLIER_SURVEY_SHARE * len(districts))), replace=False)
    earlier = np.flatnonzero(t["district_pcode"].isin(surveyed).to_numpy()[d.tambon])
    growth = 0.12 + 0.08 * rng.standard_normal(len(t))
    past = _Draws(**{k: v[earlier] for k, v in vars(d).items()})
    past_wealth = past.wealth - growth[past.tambon] + 0.2 * rng.standard_normal(len(earlier))
    before = _household_values(t, past, past_wealth, funds_in)
    before["deprived"] = before["latent"] > cut

    pcodes = t["pcode"].to_numpy()
    frames = [
        _household_frame(ids[earlier], SURVEY_YEARS[0], pcodes, past, before, card[earlier]),
        _household_frame(ids, SURVEY_YEARS[1], pcodes, d, latest, card),
    ]
    latest_arrays = {"ids": ids, "tambon": d.tambon, "deprived": latest["deprived"],
                     "capital_mean": latest["capitals"].mean(axis=1)}
    return pd.concat(frames, ignore_index=True), latest_arrays


def _household_frame(ids, year: int, pcodes, d: _Draws, values: dict, card) -> pd.DataFrame:
    frame = {
        "household_id": ids,
        "survey_year": np.full(len(ids), year, dtype=np.int32),
        "tambon_pcode": pcodes[d.tambon],
        "members": d.members.astype(np.int32),
        "income_month": values["income"],
    }
    frame |= {f"capital_{name}": values["capitals"][:, i] for i, name in enumerate(CAPITALS)}
    frame |= {f"deprived_{name}": values["deprived"][:, i] for i, name in enumerate(DIMENSIONS)}
    frame |= {"welfare_card": card, "railside": d.railside}
    return pd.DataFrame(frame)


# --- referrals ----------------------------------------------------------------------
_NEEDS = DIMENSIONS + ["capital"]  # "capital": low capitals without a deprivation
_HELP = list(HELP_TYPES)
_AGENCY = list(AGENCIES)
# P(help type | need), rows follow _NEEDS, columns _HELP.
_HELP_BY_NEED = np.array([
    [0.10, 0.00, 0.00, 0.65, 0.00, 0.25],
    [0.15, 0.70, 0.05, 0.00, 0.00, 0.10],
    [0.20, 0.00, 0.15, 0.00, 0.65, 0.00],
    [0.50, 0.00, 0.45, 0.00, 0.00, 0.05],
    [0.15, 0.05, 0.05, 0.45, 0.10, 0.20],
    [0.45, 0.10, 0.40, 0.00, 0.05, 0.00],
])
# P(agency | help type), rows follow _HELP, columns _AGENCY.
_AGENCY_BY_HELP = np.array([
    [0.45, 0.25, 0.00, 0.00, 0.30],
    [0.05, 0.35, 0.00, 0.60, 0.00],
    [0.40, 0.50, 0.00, 0.00, 0.10],
    [0.00, 0.10, 0.90, 0.00, 0.00],
    [0.45, 0.55, 0.00, 0.00, 0.00],
    [0.15, 0.35, 0.35, 0.00, 0.15],
])
_AGENCY_MEDIAN_DAYS = np.array([40.0, 30.0, 18.0, 90.0, 12.0])  # CODI and the provincial office are slow
_HELP_DAYS_FACTOR = np.array([0.7, 2.5, 1.6, 0.8, 1.0, 1.0])
_HELP_CLOSED_SHARE = np.array([0.05, 0.15, 0.10, 0.04, 0.06, 0.05])


def _categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of a row-stochastic matrix."""
    cumulative = probabilities.cumsum(axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probabilities.shape[1] - 1)


def make_referrals(t: pd.DataFrame, latest: dict, rng: np.random.Generator) -> pd.DataFrame:
    deprived, capital_mean, tambon = latest["deprived"], latest["capital_mean"], latest["tambon"]
    poor = deprived.any(axis=1)
    # About one tambon in eight has no referral system running yet.
    activity = np.where(rng.random(len(t)) < 0.12, 0.0, rng.lognormal(0, 0.4, len(t)))
    chance = np.minimum(0.9, activity[tambon] * np.where(poor, 0.45, np.where(capital_mean < 2.2, 0.03, 0.0)))
    households = np.flatnonzero(rng.random(len(chance)) < chance)
    households = np.repeat(households, 1 + (rng.random(len(households)) < 0.3))
    needs = np.c_[deprived[households].astype(float), 0.01 * np.ones(len(households))]
    need = _categorical(rng, needs)
    help_type = _categorical(rng, _HELP_BY_NEED[need])
    agency = _categorical(rng, _AGENCY_BY_HELP[help_type])
    n = len(households)
    span = int((AS_OF - REFERRALS_FROM).astype(int)) + 1
    # More cases later on, as the system spreads.
    referred = REFERRALS_FROM + np.floor(span * np.sqrt(rng.random(n))).astype("timedelta64[D]")
    days = np.ceil(_AGENCY_MEDIAN_DAYS[agency] * _HELP_DAYS_FACTOR[help_type] * rng.lognormal(0, 0.7, n))
    ended = referred + days.astype("timedelta64[D]")
    finished = ended <= AS_OF
    closed = finished & (rng.random(n) < _HELP_CLOSED_SHARE[help_type])
    resolved = finished & ~closed
    acknowledged = referred + np.ceil(rng.exponential(10, n)).astype("timedelta64[D]") <= AS_OF
    status = np.select([resolved, closed, acknowledged], ["resolved", "closed_without_help", "in_progress"], "referred")
    order = np.lexsort((households, referred))
    agency_names = np.array([AGENCIES[a][0] for a in _AGENCY], dtype=object)
    frame = pd.DataFrame({
        "referral_id": _ids("R", n, 6),
        "household_id": latest["ids"][households[order]],
        "agency": agency_names[agency[order]],
        "help_type": np.array(_HELP, dtype=object)[help_type[order]],
        "referred_on": referred[order],
        "resolved_on": np.where(resolved, ended, np.datetime64("NaT"))[order],
        "status": status[order],
    })
    return frame


# --- building -------------------------------------------------------------------
def _refuse_real_data(store) -> None:
    counts = store.row_counts()
    synthetic = set(store.synthetic_tables())
    real = [table for table, rows in counts.items() if rows and table not in synthetic]
    if real:
        raise StoreError(
            f"{store.location} holds real (imported) data in {', '.join(real)}; the demo would replace it. "
            "Use another --db, or --force to overwrite."
        )


def build_demo(store, households: int = 900_000, seed: int = 1, progress: bool = True,
               force: bool = False) -> dict[str, int]:
    """Replace the five data tables of `store` with SYNTHETIC data; returns rows per table.

    Refuses (StoreError) when a data table holds real rows, unless `force`.
    """
    if households < 1:
        raise ValueError("--households must be at least 1")
    if not force:
        _refuse_real_data(store)
    province = store.meta("province") or config.DEFAULT_PROVINCE
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    stages = ["tambons", "councils", "welfare funds", "housing", "households", "referrals", "writing"]
    with tqdm(total=len(stages), desc="demo", unit="stage", disable=not progress) as bar:
        def stage(name: str) -> None:
            bar.set_postfix_str(name)

        stage(stages[0])
        t = tambon_frame(store, province, streams[0])
        targets = Targets().scaled(len(t))
        bar.update(); stage(stages[1])
        councils = make_councils(t, targets, streams[1])
        bar.update(); stage(stages[2])
        funds = make_funds(t, councils, targets, streams[2])
        bar.update(); stage(stages[3])
        housing = make_housing(t, targets, streams[3])
        bar.update(); stage(stages[4])
        people, latest = make_households(t, funds, households, targets, streams[4])
        bar.update(); stage(stages[5])
        referrals = make_referrals(t, latest, streams[5])
        bar.update(); stage(stages[6])
        tables = {"councils": councils, "welfare_funds": funds, "housing_projects": housing,
                  "households": people, "referrals": referrals}
        record = ImportRecord(kind="demo", file_name=f"synthetic demo (seed={seed}, households={households})",
                              file_sha256="", imported_by="demo")
        store.write([TableWrite(name, rows, mode="replace", synthetic=True) for name, rows in tables.items()], record)
        bar.update()
    return {name: len(rows) for name, rows in tables.items()}


def run_cli(args) -> int:
    province = (getattr(args, "province", None) or config.DEFAULT_PROVINCE).upper()
    started = time.perf_counter()
    store = open_store(args.db, province)
    stored = store.meta("province")
    if stored and stored != province:
        raise ValueError(f"{store.location} is a store for {stored}, not {province}; use another --db")
    counts = build_demo(store, households=args.households, seed=args.seed, progress=True,
                        force=getattr(args, "force", False))
    rows = ", ".join(f"{name} {count:,}" for name, count in counts.items() if name != "households")
    rows += f", households {args.households:,} ({counts['households']:,} survey records {SURVEY_YEARS[0]}-{SURVEY_YEARS[1]})"
    where = re.sub(r"//[^/@]*@", "//", str(store.location))  # never print a database password
    print(f"demo (SYNTHETIC, seed {args.seed}): {rows} in {time.perf_counter() - started:.1f} s -> {where}")
    return 0
