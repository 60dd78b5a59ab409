"""The synthetic demo: published totals, plausible households, spatial pattern, determinism.

Tolerances are stated beside each assertion. The full 900,000-household build is
timed by benchmarks/bench_demo.py, not here.
"""
import re

import numpy as np
import pandas as pd
import pytest

from geodata import boundaries, demo
from geodata.__main__ import main
from geodata.schema import DATA_TABLES, columns
from geodata.store import StoreError, TableWrite, open_store

HOUSEHOLDS = 60_000
ANY_DEPRIVATION = "(deprived_health OR deprived_living OR deprived_education OR deprived_income OR deprived_access)"
# Chaloem Phra Kiat study of 749 poor households: human, physical, financial, natural, social.
PUBLISHED_POOR_MEANS = {"human": 2.01, "physical": 2.87, "financial": 2.03, "natural": 2.54, "social": 2.23}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("demo") / "atlas.duckdb")
    counts = demo.build_demo(store, households=HOUSEHOLDS, seed=7, progress=False)
    return store, counts


def latest(store, sql):
    return store.query(sql.replace("FROM hh", "FROM households WHERE survey_year = 2024"))


def test_counts_match_the_published_province_figures(built):
    store, counts = built
    assert counts == store.row_counts()
    assert counts["councils"] == 332
    assert counts["welfare_funds"] == 161
    housing = store.query("SELECT count(DISTINCT tambon_pcode) AS tambons, sum(households) AS households, "
                          "min(start_year) AS first, max(start_year) AS last FROM housing_projects").iloc[0]
    assert housing["tambons"] == 188 and housing["households"] == 7_570
    assert 2003 <= housing["first"] and housing["last"] <= 2024


def test_councils_spread_zero_one_or_two_per_tambon(built):
    store, _ = built
    per_tambon = store.query("""SELECT t.pcode, count(c.council_id) AS n FROM tambons t
                                LEFT JOIN councils c ON c.tambon_pcode = t.pcode GROUP BY t.pcode""")["n"]
    spread = per_tambon.value_counts()
    assert set(spread.index) == {0, 1, 2}
    assert spread[1] > spread[2] > spread[0] > 0, "most tambons have one council, some two, a few none"
    assert store.scalar("SELECT count(*) FROM councils WHERE registered_year NOT BETWEEN 2009 AND 2024") == 0


def test_welfare_funds_hold_about_150_thousand_members_and_400_million_baht(built):
    store, _ = built
    funds = store.query("SELECT sum(members) AS members, sum(fund_baht) AS baht, min(members) AS smallest FROM welfare_funds").iloc[0]
    assert funds["members"] == pytest.approx(150_000, rel=0.10)
    assert funds["baht"] == pytest.approx(400e6, rel=0.10)
    assert funds["smallest"] > 0


def test_housing_budgets_respect_the_programme_subsidy_ceilings(built):
    store, _ = built
    projects = store.query("SELECT * FROM housing_projects")
    labels = {key: th for key, (th, _) in demo.HOUSING_PROGRAMMES.items()}
    assert set(projects["programme"]) == set(labels.values())
    per_household = projects["budget_baht"] / projects["households"]
    rural = projects["programme"] == labels["rural"]
    rail = projects["programme"] == labels["railside"]
    assert per_household[rural].max() <= 40_000, "CODI rural repair grants reach 40,000 baht a house"
    assert per_household[rail].max() <= 160_000, "railside new-housing subsidy is at most 160,000 baht"
    assert (per_household > 0).all()
    assert projects.loc[rail, "start_year"].min() >= 2023, "the railside plan dates from March 2023"
    assert projects["railside"].equals(rail)
    assert set(projects["status"]) <= set(demo.HOUSING_STATUSES)


def test_railside_places_follow_the_north_eastern_railway(built):
    store, _ = built
    along = set(demo.railside_tambons("TH30"))
    # Seat tambons of districts the line serves are on it; remote districts' seats are not.
    assert {"TH302101", "TH302001", "TH301801", "TH300101", "TH301601", "TH301201"} <= along
    assert not {"TH302501", "TH300301", "TH301701", "TH302701"} & along
    assert 20 <= len(along) <= 80
    rail_projects = set(store.query("SELECT tambon_pcode FROM housing_projects WHERE railside")["tambon_pcode"])
    rail_households = set(store.query("SELECT DISTINCT tambon_pcode FROM households WHERE railside")["tambon_pcode"])
    assert rail_projects and rail_projects <= along
    assert rail_households and rail_households <= along
    share = store.scalar("SELECT avg(CASE WHEN railside THEN 1.0 ELSE 0 END) FROM households WHERE survey_year = 2024")
    assert 0 < share < 0.02, "railside households are a small minority"


def test_latest_survey_covers_every_tambon_and_the_earlier_one_part(built):
    store, _ = built
    years = store.query("SELECT survey_year, count(*) AS n, count(DISTINCT tambon_pcode) AS tambons "
                        "FROM households GROUP BY survey_year ORDER BY survey_year")
    assert years["survey_year"].tolist() == list(demo.SURVEY_YEARS)
    latest_year = years.iloc[-1]
    assert latest_year["n"] == HOUSEHOLDS and latest_year["tambons"] == 289
    assert 50 < years.iloc[0]["tambons"] < 289
    # The earlier year's households are the same ones, in the same tambons.
    moved = store.scalar("""SELECT count(*) FROM households a JOIN households b USING (household_id)
                            WHERE a.survey_year = 2023 AND b.survey_year = 2024 AND a.tambon_pcode <> b.tambon_pcode""")
    assert moved == 0


def test_household_values_are_in_range_and_pseudonymous(built):
    store, _ = built
    frame = store.query("SELECT * FROM households")
    assert list(frame.columns) == columns("households")
    assert frame["household_id"].str.fullmatch(r"HH\d{7}").all()
    assert frame["members"].between(1, 8).all()
    assert 2.7 <= frame["members"].mean() <= 3.3
    assert (frame["income_month"] > 0).all()
    assert 12_000 <= frame["income_month"].median() <= 25_000
    capitals = frame[[f"capital_{name}" for name in demo.CAPITALS]]
    assert ((capitals >= 1) & (capitals <= 4)).all().all()
    assert np.allclose(capitals, capitals.round(2))
    for table in DATA_TABLES:
        names = store.query(f"SELECT * FROM {table} LIMIT 0").columns
        assert not [c for c in names if re.search(r"national|citizen|id_card|first_name|last_name|phone", c)]


def test_capital_means_sit_around_the_published_study(built):
    store, _ = built
    means = ", ".join(f"avg(capital_{name}) AS {name}" for name in demo.CAPITALS)
    everyone = latest(store, f"SELECT {means} FROM hh").iloc[0]
    poor = latest(store, f"SELECT {means} FROM hh AND {ANY_DEPRIVATION}").iloc[0]
    for name, published in PUBLISHED_POOR_MEANS.items():
        # The MPI-poor resemble the study's poor households (within 0.25 points) ...
        assert poor[name] == pytest.approx(published, abs=0.25), name
        # ... and the whole province scores higher, but not by more than a point.
        assert published < everyone[name] < published + 1.0, name


def test_targeted_poor_share_is_near_the_published_1_9_percent(built):
    store, _ = built
    shares = latest(store, f"""SELECT avg(CASE WHEN {ANY_DEPRIVATION} AND welfare_card THEN 1.0 ELSE 0 END) AS targeted,
                                      avg(CASE WHEN {ANY_DEPRIVATION} THEN 1.0 ELSE 0 END) AS poor,
                                      avg(CASE WHEN welfare_card THEN 1.0 ELSE 0 END) AS card FROM hh""").iloc[0]
    assert shares["targeted"] == pytest.approx(0.019, abs=0.005)
    assert 0.02 <= shares["poor"] <= 0.08
    assert 0.30 <= shares["card"] <= 0.40
    earlier = store.scalar(f"SELECT avg(CASE WHEN {ANY_DEPRIVATION} THEN 1.0 ELSE 0 END) FROM households WHERE survey_year = 2023")
    assert earlier > shares["poor"], "the earlier survey shows more deprivation"


def test_deprivation_goes_with_low_income(built):
    store, _ = built
    incomes = latest(store, f"""SELECT median(CASE WHEN {ANY_DEPRIVATION} THEN income_month END) AS poor,
                                       median(CASE WHEN NOT {ANY_DEPRIVATION} THEN income_month END) AS others FROM hh""").iloc[0]
    assert incomes["poor"] < 0.6 * incomes["others"]


def _morans_i(values: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """Moran's I with binary weights over the (symmetric) neighbour pairs."""
    z = values - values.mean()
    return len(values) / len(first) * float((z[first] * z[second]).sum() / (z**2).sum())


def test_neighbouring_tambons_are_alike_and_the_city_is_richer(built):
    store, _ = built
    shapes = boundaries.load("tambon", "TH30")
    income = latest(store, "SELECT tambon_pcode AS pcode, avg(income_month) AS income FROM hh GROUP BY 1")
    shapes = shapes.merge(income, on="pcode")
    first, second = shapes.sindex.query(shapes.geometry, predicate="touches")
    assert len(first) > 1000
    assert _morans_i(shapes["income"].to_numpy(), first, second) > 0.2
    shuffled = np.random.default_rng(0).permutation(shapes["income"].to_numpy())
    assert abs(_morans_i(shuffled, first, second)) < 0.1, "the statistic itself tells pattern from noise"
    city = shapes[shapes["district_pcode"] == "TH3001"]["income"]
    assert city.median() > shapes["income"].median()


def test_referrals_are_ordered_and_linked_to_households(built):
    store, _ = built
    cases = store.query("SELECT * FROM referrals")
    assert 0.01 * HOUSEHOLDS < len(cases) < 0.06 * HOUSEHOLDS
    assert cases["referral_id"].is_unique
    orphans = store.scalar("SELECT count(*) FROM referrals WHERE household_id NOT IN (SELECT household_id FROM households)")
    assert orphans == 0
    assert set(cases["status"]) == set(demo.REFERRAL_STATUSES)
    assert set(cases["help_type"]) == set(demo.HELP_TYPES)
    assert set(cases["agency"]) == {th for th, _ in demo.AGENCIES.values()}
    resolved = cases["status"] == "resolved"
    assert cases["resolved_on"].notna().equals(resolved), "only resolved cases carry a resolution date"
    assert (cases.loc[resolved, "resolved_on"] >= cases.loc[resolved, "referred_on"]).all()
    assert cases["referred_on"].min() >= pd.Timestamp("2023-01-01")
    assert cases[["referred_on", "resolved_on"]].max().max() <= pd.Timestamp("2025-12-31")


def test_some_agencies_are_slower_than_others(built):
    store, _ = built
    days = store.query("""SELECT agency, median(resolved_on - referred_on) AS days FROM referrals
                          WHERE status = 'resolved' GROUP BY agency""").set_index("agency")["days"]
    assert days[demo.AGENCIES["codi"][0]] > 3 * days[demo.AGENCIES["fund"][0]]


def test_every_table_is_marked_synthetic_and_the_build_is_logged(built):
    store, counts = built
    assert store.synthetic_tables() == sorted(DATA_TABLES)
    log = store.query("SELECT * FROM imports WHERE kind = 'demo'")
    assert set(log["table_name"]) == set(DATA_TABLES) and log["synthetic"].all()
    assert log["file_name"].str.contains("seed=7").all()


def test_same_seed_gives_identical_tables_and_another_seed_differs(tmp_path):
    stores = [open_store(tmp_path / f"{name}.duckdb") for name in ("a", "b", "c")]
    for store, seed in zip(stores, (3, 3, 4)):
        demo.build_demo(store, households=4_000, seed=seed, progress=False)
    a, b, c = ({t: s.table_checksum(t) for t in DATA_TABLES} for s in stores)
    assert a == b
    assert a["households"] != c["households"] and a["councils"] != c["councils"]


def test_demo_refuses_to_replace_real_data_unless_forced(store, capsys):
    real = pd.DataFrame({"council_id": ["real-1"], "name": ["x"], "tambon_pcode": ["TH300101"],
                         "registered_year": [2012], "member_groups": [9]})
    store.write([TableWrite("councils", real)])
    before = store.table_checksum("councils")
    with pytest.raises(StoreError, match="real"):
        demo.build_demo(store, households=1_000, progress=False)
    assert store.table_checksum("councils") == before
    assert main(["demo", "--db", store.location, "--households", "1000"]) == 1
    assert "councils" in capsys.readouterr().err
    assert main(["demo", "--db", store.location, "--households", "1000", "--force"]) == 0
    assert store.scalar("SELECT count(*) FROM councils WHERE council_id = 'real-1'") == 0
    assert store.synthetic_tables() == sorted(DATA_TABLES)


def test_cli_builds_a_store_and_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    assert main(["demo", "--db", str(path), "--households", "2000", "--seed", "5"]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert "SYNTHETIC" in summary and "households 2,000" in summary and str(path) in summary
    assert open_store(path).scalar("SELECT count(*) FROM households WHERE survey_year = 2024") == 2_000


def test_cli_refuses_a_store_of_another_province(tmp_path, capsys):
    path = tmp_path / "korat.duckdb"
    open_store(path)
    assert main(["demo", "--db", str(path), "--households", "1000", "--province", "TH31"]) == 1
    assert "TH30" in capsys.readouterr().err


def test_another_province_gets_the_same_densities(tmp_path):
    store = open_store(tmp_path / "buriram.duckdb", province="TH31")
    tambons = store.scalar("SELECT count(*) FROM tambons")
    counts = demo.build_demo(store, households=3_000, seed=1, progress=False)
    assert counts["councils"] == round(332 * tambons / 289)
    assert store.scalar("SELECT count(DISTINCT tambon_pcode) FROM housing_projects") == round(188 * tambons / 289)
    assert store.scalar("SELECT count(*) FROM households WHERE railside") == 0, "no railway drawn for TH31"
    assert store.scalar("SELECT count(*) FROM households WHERE tambon_pcode NOT LIKE 'TH31%'") == 0
