"""PDPA protection: suppression rules, household lists, CSV formula neutralisation, and what
a viewer's browser actually receives from every Dash callback."""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from geodata.store import TableWrite, open_store
from layers import maplayer, privacy, registry
from tests.dash_client import call

CAPITALS = ["capital_human", "capital_physical", "capital_financial", "capital_natural", "capital_social"]
DEPRIVATIONS = ["deprived_health", "deprived_living", "deprived_education", "deprived_income", "deprived_access"]
# Values given only to the households of small tambons: if any reaches a viewer, the test sees it.
SECRET_INCOME = 98765.43
SECRET_SCORES = [3.93, 1.07, 3.87, 1.13, 3.71]


# -- a store with known small areas -----------------------------------------------------
def household_rows(counts: dict[str, int], year: int = 2024, seed: int = 1, start: int = 0,
                   secret: frozenset = frozenset()) -> pd.DataFrame:
    """`counts[pcode]` households per tambon; tambons in `secret` get the tell-tale values above."""
    rng = np.random.default_rng(seed)
    tambons = np.repeat(list(counts), list(counts.values()))
    n = len(tambons)
    rows = pd.DataFrame({
        "household_id": [f"HH0{start + i:06d}" for i in range(n)],
        "survey_year": year,
        "tambon_pcode": tambons,
        "members": rng.integers(1, 7, n),
        "income_month": rng.integers(2000, 30000, n).astype(float),
        **{column: rng.integers(100, 351, n) / 100 for column in CAPITALS},
        **{column: rng.random(n) < 0.3 for column in DEPRIVATIONS},
        "welfare_card": rng.random(n) < 0.4,
        "railside": False,
    })
    marked = np.isin(tambons, list(secret))
    rows.loc[marked, "income_month"] = SECRET_INCOME
    for column, score in zip(CAPITALS, SECRET_SCORES):
        rows.loc[marked, column] = score
    return rows


def referral_rows(household_ids, start: int = 0) -> pd.DataFrame:
    n = len(household_ids)
    referred = pd.Timestamp("2024-02-01")
    return pd.DataFrame({
        "referral_id": [f"R{start + i:05d}" for i in range(n)],
        "household_id": list(household_ids),
        "agency": ["อบต." if i % 2 else "พมจ." for i in range(n)],
        "help_type": "money",
        "referred_on": referred,
        "resolved_on": [referred + pd.Timedelta(days=10 + 7 * i) for i in range(n)],
        "status": "resolved",
    })


@pytest.fixture(scope="module")
def small_areas(tmp_path_factory):
    """A store with ordinary tambons (20–40 households), tambons of 1–4 households, a district
    whose only households are 3, and a tambon with many households but 3 referral cases."""
    store = open_store(tmp_path_factory.mktemp("privacy") / "atlas.duckdb")
    tambons = store.query("SELECT t.pcode, t.district_pcode, z.zone FROM tambons t "
                          "JOIN zones z ON z.district_pcode = t.district_pcode ORDER BY t.pcode")
    by_district = tambons.groupby("district_pcode")["pcode"].apply(list)
    small_district = by_district.index[-1]
    big = {pcode: 20 + i % 21 for i, pcode in enumerate(tambons["pcode"][::4]) if pcode not in by_district[small_district]}
    # Small tambons next to big ones, and a district whose only households are in two small tambons.
    neighbours = [by_district[d][1] for d in by_district.index[:4] if by_district[d][1] not in big]
    small = {pcode: count for pcode, count in zip(neighbours, (1, 2, 3, 4))}
    small |= {by_district[small_district][0]: 1, by_district[small_district][1]: 2}
    rows = household_rows(big | small, secret=frozenset(small))
    few_cases_tambon, many_cases_tambon = list(big)[0], list(big)[1]
    cases = [*rows.loc[rows["tambon_pcode"] == few_cases_tambon, "household_id"][:3],
             *rows.loc[rows["tambon_pcode"] == many_cases_tambon, "household_id"][:12]]
    store.write([TableWrite("households", rows), TableWrite("referrals", referral_rows(cases))])
    return {"store": store, "small": small, "small_district": small_district, "big": big,
            "few_cases": few_cases_tambon, "many_cases": many_cases_tambon, "tambons": tambons}


# -- rules on plain tables --------------------------------------------------------------
def _table(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"pcode": [f"TH30{i:04d}" for i in range(n)], **columns})


def test_every_household_figure_of_an_area_with_one_to_four_households_is_hidden():
    table = _table(households=[100, 4, 1, 0, 5], mpi_headcount=[0.2, 0.5, 1.0, np.nan, 0.4],
                   capital_human=[2.5, 3.0, 3.93, np.nan, 2.0], councils=[1, 2, 3, 4, 5])
    out = privacy.suppress_small_counts(table)
    assert out["suppressed"].tolist() == [False, True, True, False, False]
    assert out.loc[[1, 2], ["households", "mpi_headcount", "capital_human"]].isna().all().all()
    assert out.loc[4, "households"] == 5 and out.loc[4, "capital_human"] == 2.0, "5 households are shown"
    assert out["councils"].tolist() == [1, 2, 3, 4, 5], "organisation counts are not household data"
    assert privacy.hidden_mask(out, "capital_human").tolist() == [False, True, True, False, False]
    assert not privacy.hidden_mask(out, "councils").any()


def test_suppressing_a_suppressed_table_keeps_its_flags():
    table = _table(households=[100, 4], mpi_headcount=[0.2, 0.5], councils=[1, 2])
    once = privacy.suppress_small_counts(table)
    twice = privacy.suppress_small_counts(once)
    pd.testing.assert_frame_equal(twice, once)
    assert twice["suppressed"].tolist() == [False, True], "blanked counts must not clear the flag"


def test_figures_over_small_groups_inside_large_areas_are_hidden():
    table = _table(households=[200, 200, 200], mpi_headcount=[0.01, 0.5, 0.0], mpi_intensity=[0.4, 0.3, np.nan],
                   targeted_poor=[3, 40, 0], targeted_poor_share=[0.015, 0.2, 0.0],
                   referrals=[3, 10, 0], referrals_resolved_share=[1.0, 0.2, np.nan],
                   referral_median_days=[12.0, 30.0, np.nan])
    out = privacy.suppress_small_counts(table)
    hidden = {column: privacy.hidden_mask(out, column).tolist() for column in table.columns if column != "pcode"}
    assert hidden["mpi_intensity"] == [True, False, False], "2 poor households of 200"
    assert hidden["targeted_poor"] == [True, False, False] and hidden["targeted_poor_share"] == [True, False, False]
    assert hidden["referrals"] == [True, False, False] and hidden["referrals_resolved_share"] == [True, False, False]
    assert hidden["referral_median_days"] == [True, True, False], "10 cases but only 2 resolved"
    assert hidden["households"] == [False] * 3 and hidden["mpi_headcount"] == [False] * 3
    assert out.loc[2, "targeted_poor"] == 0, "zero describes nobody and is shown"


def test_the_map_layer_says_less_than_five_only_for_the_hidden_indicator():
    table = _table(households=[100, 3], councils=[2, 7], mpi_headcount=[0.25, 0.5],
                   district_pcode=["TH3001", "TH3001"], zone=[1, 1], name_th=["ก", "ข"], name_en=["A", "B"])
    poverty = maplayer.build_layer(table, "mpi_headcount", "tambon", lang="en")
    councils = maplayer.build_layer(table, "councils", "tambon", lang="en")
    assert poverty.value_text == ["25.0%", "<5"] and np.isnan(poverty.values[1])
    assert councils.value_text == ["2", "7"], "a small area's council count is not household data"


def test_referral_cases_by_agency_show_small_groups_as_less_than_five():
    frame = pd.DataFrame({"agency": ["a", "b", "c"], "cases": [3, 10, 16],
                          "resolved_share": [1.0, 0.2, 0.5], "median_days": [12.0, 30.0, 20.0]})
    out = privacy.suppress_case_table(frame)
    assert out["cases"].tolist() == ["<5", 10, 16]
    assert out["resolved_share"].tolist() == ["<5", 0.2, 0.5]
    assert out["median_days"].tolist() == ["<5", "<5", 20.0], "2 resolved cases of 10 hide their median; 8 of 16 do not"


def test_every_household_based_indicator_has_a_rule():
    table = _table(**{indicator.id: [3.0] for indicator in registry.store_indicators()})
    mask = privacy.suppression_mask(table)
    household_based = {i.id for i in registry.store_indicators() if i.household_based}
    assert set(mask.columns) == household_based and mask.all().all()


# -- household lists ---------------------------------------------------------------------
def test_household_lists_follow_the_zones_of_the_user(small_areas):
    store, tambons = small_areas["store"], small_areas["tambons"].set_index("pcode")
    pcode = next(iter(small_areas["big"]))
    zone = int(tambons.loc[pcode, "zone"])
    rows = privacy.household_list(store, pcode, allowed_zones=(zone,))
    assert list(rows.columns) == privacy.HOUSEHOLD_LIST_COLUMNS
    assert len(rows) == small_areas["big"][pcode] and rows["household_id"].str.startswith("HH0").all()
    assert len(privacy.household_list(store, pcode, allowed_zones=None)) == len(rows), "admins see every zone"
    with pytest.raises(privacy.HouseholdAccessDenied):
        privacy.household_list(store, pcode, allowed_zones=(zone % 10 + 1,))
    with pytest.raises(privacy.HouseholdAccessDenied):
        privacy.household_list(store, pcode, allowed_zones=())
    with pytest.raises(privacy.HouseholdAccessDenied):
        privacy.household_list(store, "TH3001", allowed_zones=None)  # a district is not a tambon
    assert privacy.household_list(store, pcode, None, year=2020).empty


# -- CSV formula injection -------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1",
                                  "=HYPERLINK(\"http://x\",\"click\")"])
def test_text_cells_that_start_a_formula_get_an_apostrophe(cell):
    assert privacy.neutralise_cell(cell) == "'" + cell
    frame = privacy.neutralise_frame(pd.DataFrame({"name": [cell, "ok"]}))
    assert frame["name"].tolist() == ["'" + cell, "ok"]


@pytest.mark.parametrize("cell", ["-1.5", "+66", "1e-3", "ตำบล=ใน", "plain", "", "1,234.5", "-0.25", 7, -2.5, None])
def test_numbers_and_harmless_text_stay_as_they_are(cell):
    assert privacy.neutralise_cell(cell) == cell


def test_numeric_columns_are_never_touched():
    frame = pd.DataFrame({"value": [-1.5, 2.0, np.nan], "count": pd.array([-3, 4, None], dtype="Int64"),
                          "flag": [True, False, True], "name": ["=x", "-1.5", None]})
    out = privacy.neutralise_frame(frame)
    assert out["value"].dtype == frame["value"].dtype and out["value"].iloc[0] == -1.5
    assert out["count"].dtype == frame["count"].dtype and out["flag"].tolist() == [True, False, True]
    assert out["name"].tolist()[:2] == ["'=x", "-1.5"] and pd.isna(out["name"].iloc[2])
    text = out.to_csv(index=False)
    assert "\n-1.5,-3,True,'=x\n" in text


def test_indicators_csv_neutralises_formulas_in_zone_names(tmp_path):
    from geodata.__main__ import main

    store = open_store(tmp_path / "atlas.duckdb")
    zones = store.query("SELECT * FROM zones")
    zones.loc[zones["zone"] == 1, "zone_name_en"] = "=HYPERLINK(\"http://evil\",\"Zone 1\")"
    store.write([TableWrite("zones", zones, mode="replace"), TableWrite("households", household_rows({"TH300101": 9}))])
    out = tmp_path / "zones.csv"
    assert main(["indicators", "--db", str(tmp_path / "atlas.duckdb"), "--level", "zone", "--format", "csv",
                 "--out", str(out)]) == 0
    frame = pd.read_csv(out, dtype=str)
    assert frame.loc[frame["pcode"] == "1", "name_en"].iloc[0].startswith("'=HYPERLINK")
    assert not frame["name_en"].str.startswith("=").any()


# -- what a viewer's browser receives ---------------------------------------------------------
FORBIDDEN = [re.compile(pattern) for pattern in (
    r"HH0\d", r"household_id", r"income_month", r"98,?765\.4", r"\b3\.93\b", r"\b1\.07\b", r"\b3\.87\b", r"\b1\.13\b",
    r"\b3\.71\b", r"welfare_card", r"deprived_",
)]


def assert_no_household_data(body: str, where: str) -> None:
    for pattern in FORBIDDEN:
        match = pattern.search(body)
        assert match is None, f"{where}: household-level data {match.group(0)!r} reached a viewer"


@pytest.fixture(scope="module")
def viewer(small_areas, tmp_path_factory):
    """The app of the small-areas store, with a Flask test client logged in as a viewer."""
    from dashboard import auth
    from dashboard.app import create_app

    store = small_areas["store"]
    auth.add_user(store, "viewer1", "viewer-password", "viewer")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATLAS_SECRET_KEY", "k" * 48)
        app = create_app(store.location)
    client = app.server.test_client()
    assert client.get("/").status_code == 302, "logins are required once users exist"
    log_in(client, "viewer1", "viewer-password")
    return app, client


def log_in(client, username: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"})


def view_data(**changes):
    from dashboard.state import View

    return View().with_(**changes).to_dict()


def customdata_of(response, level: str) -> list:
    from dashboard.figures import LEVEL_TRACE

    operations = response.get_json()["response"]["map"]["figure"]["operations"]
    return next(op for op in operations if op["location"] == ["data", LEVEL_TRACE[level], "customdata"])["params"]["value"]


def test_a_viewer_receives_no_household_data_and_small_counts_as_less_than_five(viewer, small_areas):
    app, client = viewer
    atlas = app.atlas
    # Indicators of this store (other tests may have registered raster indicators of their own stores).
    indicators = [i.id for i in registry.all_indicators() if i.id in atlas.table("tambon")]
    household_based = [i.id for i in registry.all_indicators() if i.household_based]
    assert set(household_based) <= set(indicators)
    small_district = small_areas["small_district"]
    hidden_areas = {
        "tambon": list(small_areas["small"]),
        "district": [small_district],
    }
    checked = 0
    for indicator in indicators:
        for level in ("tambon", "district", "zone"):
            for year in (None, 2024):
                view = view_data(indicator=indicator, level=level, year=year, lang="en")
                map_response = call(client, app, "map.figure",
                                    {"view.data": view, "map-state.data": {"focus": "", "overlay": ""}})
                ranking = call(client, app, "ranking.data", {"view.data": view, "ranking.sort_by": []})
                assert map_response.status_code == ranking.status_code == 200
                for response, where in ((map_response, "map"), (ranking, "ranking")):
                    assert_no_household_data(response.get_data(as_text=True), f"{where} {indicator} {level}")
                if indicator not in household_based or level not in hidden_areas:
                    continue
                pcodes = atlas.table(level)["pcode"].astype(str).tolist()
                values = customdata_of(map_response, level)
                rows = {row["id"]: row for row in ranking.get_json()["response"]["ranking"]["data"]}
                for pcode in hidden_areas[level]:
                    assert values[pcodes.index(pcode)][0] == "<5", f"map {indicator} {pcode}"
                    assert rows[pcode]["value"] == "<5" and rows[pcode]["_number"] is None, f"table {indicator} {pcode}"
                    checked += 1
    assert checked == len(household_based) * 2 * (len(hidden_areas["tambon"]) + 1)


def test_a_viewer_panel_shows_less_than_five_and_never_a_single_households_figures(viewer, small_areas):
    app, client = viewer
    tambons = small_areas["tambons"].set_index("pcode")
    areas = [*small_areas["small"], small_areas["small_district"], small_areas["few_cases"],
             small_areas["many_cases"], str(int(tambons.loc[next(iter(small_areas["small"])), "zone"]))]
    for area in areas:
        for lang in ("th", "en"):
            response = call(client, app, "panel.children", {"view.data": view_data(area=area, lang=lang)})
            assert response.status_code == 200
            body = json.dumps(response.get_json(), ensure_ascii=False)  # Dash escapes "<" as \u003c
            assert_no_household_data(body, f"panel {area}")
            if area in small_areas["small"] or area == small_areas["small_district"]:
                assert body.count('"<5"') >= 15, f"panel {area}: hidden figures must read <5"
    few = call(client, app, "panel.children", {"view.data": view_data(area=small_areas["few_cases"], lang="en")})
    text = json.dumps(few.get_json(), ensure_ascii=False)
    assert text.count('"<5"') >= 3, "3 referral cases: cases, share resolved and median days read <5"
    many = call(client, app, "panel.children", {"view.data": view_data(area=small_areas["many_cases"], lang="en")})
    assert '"12"' in many.get_data(as_text=True), "12 cases are shown"


def test_a_viewer_gets_no_household_link_and_no_list(viewer, small_areas):
    app, client = viewer
    for area in [*small_areas["small"], small_areas["many_cases"]]:
        response = call(client, app, "household-access.children", {"view.data": view_data(area=area)})
        assert response.get_json()["response"]["household-access"]["children"] == []
        assert client.get(f"/households/{area}").status_code == 403
        assert client.get(f"/households/{area}.csv").status_code == 403


def test_the_first_page_and_its_layout_carry_no_household_data(viewer, small_areas):
    app, client = viewer
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_household_data(response.get_data(as_text=True), path)


def test_a_viewer_export_shows_less_than_five(viewer, small_areas):
    app, client = viewer
    values = {"download-button.n_clicks": 1, "download-format.value": "folium",
              "view.data": view_data(indicator="capital_human", lang="en")}
    response = call(client, app, "download.data", values, changed=["download-button.n_clicks"])
    assert response.status_code == 200
    download = response.get_json()["response"]["download"]["data"]
    page = base64.b64decode(download["content"]).decode("utf-8") if download.get("base64") else download["content"]
    assert_no_household_data(page, "folium export")
    features = re.findall(r'"id": "(TH30\d{4})", "properties": \{[^}]*"value": "([^"]*)"', page)
    values_by_pcode = {pcode: json.loads(f'"{value}"') for pcode, value in features}  # folium writes "<" as \u003c
    assert len(values_by_pcode) == 289
    for pcode in small_areas["small"]:
        assert values_by_pcode.get(pcode) == "<5", pcode
