"""Indicator values against a small fixture written by hand, with the expected figures
worked out by hand in the comments (independent of the SQL under test).

Tambons used (real TH30 codes; default zones):
  A = TH300101 ในเมือง,  district TH3001, zone 1
  B = TH300102 โพธิ์กลาง, district TH3001, zone 1
  C = TH300901 โนนไทย,   district TH3009, zone 1
  E = TH300902 ด่านจาก,  district TH3009, zone 1
  D = TH300201 แชะ,      district TH3002, zone 7   (a council, no households)

Households: flags are health, living, education, income, access; c = flags / 5.
Capitals are human, physical, financial, natural, social; m = their mean.
"""
from __future__ import annotations

import json
import math
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from geodata.store import TableWrite, open_store
from layers import indicators, registry
from layers.indicators import compute

A, B, C, D, E = "TH300101", "TH300102", "TH300901", "TH300201", "TH300902"


def household(hid, year, tambon, flags, capitals, card=False):
    row = {
        "household_id": hid, "survey_year": year, "tambon_pcode": tambon, "members": 4, "income_month": 5000.0,
        "welfare_card": card, "railside": False,
    }
    for name, value in zip(["human", "physical", "financial", "natural", "social"], capitals):
        row[f"capital_{name}"] = value
    for name, flag in zip(["health", "living", "education", "income", "access"], flags):
        row[f"deprived_{name}"] = flag == "1"
    return row


HOUSEHOLDS = [
    # A, latest survey 2023
    household("A1", 2023, A, "10000", (1, 1, 1, 2, 2), card=True),   # c=0.2 poor; m=7/5=1.4 hardship; targeted
    household("A2", 2023, A, "11100", (2, 2, 2, 2, 1)),              # c=0.6 poor; m=9/5=1.8 struggling
    household("A3", 2023, A, "00000", (3, 3, 3, 3, 3), card=True),   # c=0 not poor; m=3.0 getting by
    household("A4", 2023, A, "01010", (4, 4, 3, 3, 3), card=True),   # c=0.4 poor; m=17/5=3.4 well-off; targeted
    # A, older survey 2022 (counts only when 2022 is asked for)
    household("A1", 2022, A, "11111", (1, 1, 1, 1, 1), card=True),   # c=1 poor; m=1.0 hardship; targeted
    household("A5", 2022, A, "00000", (2, 3, 3, 3, 3)),              # c=0; m=14/5=2.8 getting by
    # B: only a 2022 survey, so 2022 is B's latest
    household("B1", 2022, B, "00001", (2, 2, 2, 2, 2)),              # c=0.2 poor; m=2.0 struggling
    household("B2", 2022, B, "00000", (4, 4, 4, 4, 4)),              # c=0; m=4.0 well-off
    # C, 2023
    household("C1", 2023, C, "11111", (1, 1, 2, 1, 1), card=True),   # c=1 poor; m=6/5=1.2 hardship; targeted
    household("C2", 2023, C, "00000", (3, 3, 3, 3, 4)),              # c=0; m=16/5=3.2 getting by (just below 3.25)
    household("C3", 2023, C, "00000", (2, 3, 2, 3, 2.5)),            # c=0; m=12.5/5=2.5 exactly: getting by
    # m is 8.75/5 = 1.75 exactly on paper, but the floating-point sum is 8.749999999999998:
    # must still be "struggling" (1.75 <= m), not "hardship".
    household("C4", 2023, C, "00000", (2.61, 1.41, 1.27, 2.44, 1.02)),
    # E, 2023: nobody poor; E2 lacks a social score (no level, but its other scores count)
    household("E1", 2023, E, "00000", (3, 3, 3, 3, 3)),              # m=3.0 getting by
    household("E2", 2023, E, "00000", (2, 2, 2, 2, None)),           # m unknown
]

COUNCILS = pd.DataFrame(
    [("K1", "สภา A1", A, 2010, 5), ("K2", "สภา A2", A, 2020, 3), ("K3", "สภา D", D, 2012, 4), ("K4", "สภา C", C, 2024, 2)],
    columns=["council_id", "name", "tambon_pcode", "registered_year", "member_groups"],
)
FUNDS = pd.DataFrame(
    [("F1", "กองทุน A", A, 2015, 100, 1_000_000.0), ("F2", "กองทุน B", B, 2019, 250, 2_500_000.0)],
    columns=["fund_id", "name", "tambon_pcode", "founded_year", "members", "fund_baht"],
)
HOUSING = pd.DataFrame(
    [
        ("H1", "บ้านมั่นคง A", A, "urban", 2005, 30, 1_200_000.0, False, "done"),
        ("H2", "ริมราง A", A, "railside", 2021, 12, 3_000_000.0, True, "building"),
        ("H3", "ริมราง C", C, "railside", 2010, 8, 900_000.0, True, "done"),
    ],
    columns=["project_id", "name", "tambon_pcode", "programme", "start_year", "households", "budget_baht", "railside", "status"],
)
REFERRALS = pd.DataFrame(
    [
        ("R1", "A1", "local government", "money", date(2024, 1, 10), date(2024, 1, 20), "resolved"),  # 10 days
        ("R2", "A2", "local government", "jobs", date(2024, 2, 1), date(2024, 3, 2), "resolved"),     # 30 days (leap year)
        ("R3", "A4", "hospital", "health", date(2023, 12, 1), None, "in progress"),                   # open
        ("R4", "B1", "hospital", "health", date(2024, 5, 1), date(2024, 5, 5), "resolved"),           # 4 days
        ("R5", "nobody", "hospital", "care", date(2024, 5, 1), date(2024, 5, 2), "resolved"),         # unknown household: ignored
        ("R6", "A1", "social development office", "care", date(2024, 6, 1), date(2024, 6, 29), "resolved"),  # 28 days
    ],
    columns=["referral_id", "household_id", "agency", "help_type", "referred_on", "resolved_on", "status"],
)


def fill(store, tables=("households", "councils", "welfare_funds", "housing_projects", "referrals")):
    frames = {
        "households": pd.DataFrame(HOUSEHOLDS), "councils": COUNCILS, "welfare_funds": FUNDS,
        "housing_projects": HOUSING, "referrals": REFERRALS,
    }
    store.write([TableWrite(table, frames[table]) for table in tables])
    return store


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    return fill(open_store(tmp_path_factory.mktemp("indicators") / "atlas.duckdb"))


def row(frame, pcode):
    return frame.set_index("pcode").loc[pcode]


def close(actual, expected):
    if isinstance(expected, float) and math.isnan(expected):
        return math.isnan(actual)
    return actual == pytest.approx(expected, abs=1e-12)


def check(frame, pcode, **expected):
    values = row(frame, pcode)
    wrong = {name: (values[name], want) for name, want in expected.items() if not close(values[name], want)}
    assert not wrong, f"{pcode}: (actual, expected) {wrong}"


NAN = float("nan")


# --- tambons -------------------------------------------------------------------
def test_tambon_a_uses_its_latest_survey_and_matches_hand_figures(filled):
    frame = compute(filled, "tambon")
    check(
        frame, A,
        households=4,
        # H = poor/households = {A1, A2, A4}/4 = 0.75; A = (0.2+0.6+0.4)/3 = 0.4; MPI = 0.75*0.4 = 0.3
        mpi_headcount=0.75, mpi_intensity=0.4, mpi=0.3,
        targeted_poor=2, targeted_poor_share=0.5,  # A1, A4 are poor with a card (A3 has a card but is not poor)
        share_hardship=0.25, share_struggling=0.25, share_getting_by=0.25, share_well_off=0.25,
        capital_human=(1 + 2 + 3 + 4) / 4, capital_physical=(1 + 2 + 3 + 4) / 4,
        capital_financial=(1 + 2 + 3 + 3) / 4, capital_natural=(2 + 2 + 3 + 3) / 4, capital_social=(2 + 1 + 3 + 3) / 4,
        councils=2, welfare_funds=1, fund_members=100, fund_baht=1_000_000,
        housing_projects=2, housing_households=30 + 12, railside_households=12,
        # R1, R2, R3, R6 (A1 surveyed twice still counts once); resolved 3/4; median of 10, 30, 28 = 28
        referrals=4, referrals_resolved_share=0.75, referral_median_days=28,
    )


def test_tambon_b_latest_year_is_its_own_2022(filled):
    frame = compute(filled, "tambon")
    # B1 c=0.2 poor, B2 not: H=1/2, A=0.2, MPI=0.1; capital_human (2+4)/2
    check(frame, B, households=2, mpi_headcount=0.5, mpi_intensity=0.2, mpi=0.1, targeted_poor=0,
          targeted_poor_share=0.0, share_struggling=0.5, share_well_off=0.5, capital_human=3.0,
          councils=0, welfare_funds=1, fund_members=250, housing_projects=0, housing_households=0,
          referrals=1, referrals_resolved_share=1.0, referral_median_days=4)


def test_level_boundaries_and_floating_point_sum(filled):
    frame = compute(filled, "tambon")
    # C1 hardship; C4 (m=1.75 on paper) struggling; C2 (3.2) and C3 (2.5) getting by
    check(frame, C, households=4, share_hardship=0.25, share_struggling=0.25, share_getting_by=0.5,
          share_well_off=0.0, mpi_headcount=0.25, mpi_intensity=1.0, mpi=0.25, targeted_poor=1,
          housing_projects=1, railside_households=8, councils=1,
          referrals=0, referrals_resolved_share=NAN, referral_median_days=NAN)


def test_area_without_poor_has_mpi_zero_and_no_intensity(filled):
    frame = compute(filled, "tambon")
    # E1, E2 not deprived: H=0, A undefined, MPI=0. Levels only over E1 (E2 lacks a score);
    # capital means use what is there: human (3+2)/2, social only E1's 3.
    check(frame, E, households=2, mpi_headcount=0.0, mpi_intensity=NAN, mpi=0.0, targeted_poor=0,
          share_getting_by=1.0, share_struggling=0.0, capital_human=2.5, capital_social=3.0)


def test_area_without_households_is_no_data_but_counts_are_zero(filled):
    frame = compute(filled, "tambon")
    household_columns = [i.id for i in registry.store_indicators() if i.theme == "poverty"]
    assert row(frame, D)[household_columns].isna().all()
    check(frame, D, councils=1, welfare_funds=0, fund_baht=0, housing_projects=0, referrals=0,
          referrals_resolved_share=NAN, referral_median_days=NAN)
    # Every tambon is listed, with or without data.
    assert len(frame) == 289 and frame["pcode"].is_monotonic_increasing
    untouched = row(frame, "TH300103")
    assert untouched["councils"] == 0 and math.isnan(untouched["households"])


def test_tambon_rows_carry_names_district_and_zone(filled):
    frame = compute(filled, "tambon")
    assert list(frame.columns[:7]) == ["pcode", "name_th", "name_en", "district_pcode", "district_th", "district_en", "zone"]
    a = row(frame, A)
    assert (a["name_th"], a["district_pcode"], a["zone"]) == ("ในเมือง", "TH3001", 1)


# --- higher levels come from the records -----------------------------------------
def test_district_is_computed_from_records_not_tambon_averages(filled):
    frame = compute(filled, "district")
    # TH3001 = A (2023: A1..A4) + B (2022: B1, B2) = 6 households.
    # Poor: A1 .2, A2 .6, A4 .4, B1 .2 -> H = 4/6; A = 1.4/4 = 0.35; MPI = 1.4/6.
    # (Averaging the tambons' H would give (0.75+0.5)/2 = 0.625 instead.)
    # capital_human (1+2+3+4+2+4)/6 = 16/6, not (2.5+3)/2 = 2.75.
    # Referrals R1 R2 R3 R4 R6: 4 of 5 resolved; days 10, 30, 4, 28 -> median (10+28)/2 = 19
    # (the tambons' medians 28 and 4 would average to 16).
    check(frame, "TH3001", households=6, mpi_headcount=4 / 6, mpi_intensity=0.35, mpi=1.4 / 6,
          capital_human=16 / 6, share_hardship=1 / 6, share_struggling=2 / 6, share_getting_by=1 / 6,
          share_well_off=2 / 6, targeted_poor=2, targeted_poor_share=2 / 6,
          councils=2, welfare_funds=2, fund_members=350, fund_baht=3_500_000,
          housing_projects=2, housing_households=42, railside_households=12,
          referrals=5, referrals_resolved_share=0.8, referral_median_days=19)
    assert list(frame.columns[:4]) == ["pcode", "name_th", "name_en", "zone"]
    assert len(frame) == 32


def test_zone_and_province_aggregate_records(filled):
    zone = compute(filled, "zone")
    assert zone["pcode"].tolist() == [str(n) for n in range(1, 11)]
    # Zone 1 = A(4) + B(2) + C(4) + E(2) = 12 households; poor A1 A2 A4 B1 C1 with c summing to
    # 0.2+0.6+0.4+0.2+1.0 = 2.4: H = 5/12, A = 2.4/5 = 0.48, MPI = 2.4/12 = 0.2. Targeted A1 A4 C1.
    check(zone, "1", households=12, mpi_headcount=5 / 12, mpi_intensity=0.48, mpi=0.2, targeted_poor=3,
          councils=3, housing_projects=3, housing_households=50, railside_households=20, referrals=5)
    check(zone, "7", councils=1, households=NAN, referrals=0)
    province = compute(filled, "province")
    assert province[["pcode", "name_th", "name_en"]].values.tolist() == [["TH30", "นครราชสีมา", "Nakhon Ratchasima"]]
    check(province, "TH30", households=12, mpi=0.2, councils=4, welfare_funds=2, referrals=5,
          referral_median_days=19)


# --- filters ---------------------------------------------------------------------
def test_year_filter_accepts_buddhist_era(filled):
    ce = compute(filled, "tambon", year=2022)
    be = compute(filled, "tambon", year=2565)
    pd.testing.assert_frame_equal(ce, be)
    # 2022: A1-2022 (c=1, m=1.0, card) and A5 (c=0, m=2.8): H=0.5, A=1.0, MPI=0.5
    check(ce, A, households=2, mpi_headcount=0.5, mpi_intensity=1.0, mpi=0.5, targeted_poor=1,
          share_hardship=0.5, share_getting_by=0.5)
    # C was surveyed only in 2023: no data for 2022
    check(ce, C, households=NAN, mpi=NAN)
    # In or before 2022: A's councils K1 (2010) and K2 (2020), housing H1 (2005) and H2 (2021)
    check(ce, A, councils=2, housing_projects=2)
    # No referral was made in 2022
    check(ce, A, referrals=0, referrals_resolved_share=NAN)


def test_year_filter_on_programmes_and_referrals(filled):
    frame = compute(filled, "tambon", year=2015)
    # Councils in or before 2015: A has K1 (2010), not K2 (2020); C's K4 is 2024
    check(frame, A, councils=1, welfare_funds=1, fund_members=100, housing_projects=1,
          housing_households=30, railside_households=0, households=NAN)
    check(frame, C, councils=0, housing_projects=1)
    check(frame, B, welfare_funds=0, fund_baht=0)
    in_2024 = compute(filled, "tambon", year=2024)
    # Referred in 2024: R1, R2, R6 for A (R3 was 2023): all resolved; days 10, 30, 28
    check(in_2024, A, referrals=3, referrals_resolved_share=1.0, referral_median_days=28, households=NAN)
    in_2023 = compute(filled, "tambon", year=2023)
    # Only R3, still open: share 0, no median
    check(in_2023, A, referrals=1, referrals_resolved_share=0.0, referral_median_days=NAN, households=4)
    # B has no 2023 survey
    check(in_2023, B, households=NAN)


def test_zone_filter_keeps_only_areas_in_those_zones(filled):
    tambons = compute(filled, "tambon", zones=[7])
    assert set(tambons["pcode"].str[:6]) == {"TH3002", "TH3003"}
    assert tambons["zone"].eq(7).all()
    check(tambons, D, councils=1)
    districts = compute(filled, "district", zones=[1])
    assert districts["pcode"].tolist() == ["TH3001", "TH3009", "TH3018", "TH3019"]
    zones = compute(filled, "zone", zones=[1, 3])
    assert zones["pcode"].tolist() == ["1", "3"]
    check(zones, "1", households=12)


def test_zone_level_follows_an_edited_zone_table(tmp_path):
    store = fill(open_store(tmp_path / "atlas.duckdb"))
    # Move district TH3009 (C, E) from zone 1 into zone 7.
    table = store.query("SELECT * FROM zones")
    table.loc[table["district_pcode"] == "TH3009", "zone"] = 7
    store.write([TableWrite("zones", table, mode="replace")])
    zones = compute(store, "zone")
    # zone 1 now A + B = 6 households; zone 7 gets C + E = 6 households and D's council
    check(zones, "1", households=6, councils=2)
    check(zones, "7", households=6, councils=2, mpi_headcount=1 / 6)


def test_mpi_cutoff_changes_who_is_poor(filled):
    half = compute(filled, "tambon", mpi_cutoff=0.5)
    # k=0.5: in A only A2 (c=0.6) is poor: H=1/4, A=0.6, MPI=0.15; A2 has no card -> 0 targeted
    check(half, A, mpi_headcount=0.25, mpi_intensity=0.6, mpi=0.15, targeted_poor=0)
    exact = compute(filled, "tambon", mpi_cutoff=0.4)
    # k=0.4: A4's c=0.4 reaches the cutoff: A2 and A4 poor, H=0.5, A=0.5, MPI=0.25
    check(exact, A, mpi_headcount=0.5, mpi_intensity=0.5, mpi=0.25, targeted_poor=1)


def test_levels_use_the_documented_thresholds(filled):
    frame = compute(filled, "tambon")
    # C: m 1.2 hardship, 3.2 getting by, 2.5 getting by (on the threshold), 1.75 struggling (on it, in floats)
    check(frame, C, share_hardship=0.25, share_struggling=0.25, share_getting_by=0.5, share_well_off=0.0)
    assert registry.LEVEL_THRESHOLDS == (1.75, 2.5, 3.25)


# --- the summaries behind the indicators (geodata/summaries.py) ----------------------
def test_summaries_hold_no_household_key(filled):
    cells = filled.query("SELECT * FROM household_cells")
    assert "household_id" not in cells.columns and cells["households"].sum() == len(HOUSEHOLDS)
    # Reading a summary table needs no household list: the referral homes are keys to tambons only.
    assert set(filled.query("SELECT * FROM referral_homes").columns) == {"household_id", "tambon_pcode"}


def test_summaries_follow_appends_and_replacements(tmp_path):
    store = fill(open_store(tmp_path / "atlas.duckdb"))
    before = compute(store, "tambon")
    # A2 (referred, R2) moves from A to B in a 2024 survey: its referral now counts where it lives.
    moved = household("A2", 2024, B, "00000", (3, 3, 3, 3, 3))
    store.write([TableWrite("households", pd.DataFrame([moved]))])
    after = compute(store, "tambon")
    assert row(after, A)["referrals"] == row(before, A)["referrals"] - 1
    assert row(after, B)["referrals"] == row(before, B)["referrals"] + 1
    assert row(after, B)["households"] == 1, "B's latest survey is now 2024, with A2 alone"
    # Replacing the households leaves summaries of the new records only.
    store.write([TableWrite("households", pd.DataFrame([household("Z1", 2023, E, "11111", (1, 1, 1, 1, 1))]),
                            mode="replace")])
    replaced = compute(store, "tambon")
    assert replaced["households"].sum() == 1 and row(replaced, E)["mpi_headcount"] == 1.0
    assert replaced["referrals"].sum() == 0, "no referred household has a record any more"


def test_a_failed_write_leaves_the_summaries_as_they_were(tmp_path):
    store = fill(open_store(tmp_path / "atlas.duckdb"))
    sums = {table: store.table_checksum(table) for table in ("household_cells", "referral_homes")}
    duplicate = pd.DataFrame([household("A1", 2023, B, "11111", (1, 1, 1, 1, 1))])  # A1's 2023 record exists
    with pytest.raises(Exception):
        store.write([TableWrite("households", duplicate)])
    assert {table: store.table_checksum(table) for table in sums} == sums


def test_summaries_are_not_written_directly(filled):
    from geodata.store import StoreError

    with pytest.raises(StoreError, match="summary"):
        filled.write([TableWrite("referral_homes", pd.DataFrame({"household_id": ["x"], "tambon_pcode": [A]}))])


def test_a_store_made_before_the_summaries_gets_them_when_opened(tmp_path):
    import duckdb

    path = tmp_path / "atlas.duckdb"
    expected = compute(fill(open_store(path)), "district")
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE household_cells")
        con.execute("DROP TABLE referral_homes")
    pd.testing.assert_frame_equal(compute(open_store(path), "district"), expected)


# --- empty and missing -------------------------------------------------------------
def test_tables_without_rows_give_no_data_everywhere(tmp_path):
    store = fill(open_store(tmp_path / "atlas.duckdb"), tables=("households",))
    frame = compute(store, "tambon")
    for column in ["councils", "welfare_funds", "fund_members", "fund_baht", "housing_projects",
                   "housing_households", "railside_households", "referrals", "referrals_resolved_share",
                   "referral_median_days"]:
        assert frame[column].isna().all(), column
    check(frame, A, households=4, mpi=0.3)
    empty = compute(open_store(tmp_path / "empty.duckdb"), "district")
    assert empty[indicators.indicator_columns()].isna().all().all()
    assert len(empty) == 32


def test_indicator_columns_are_floats(filled):
    frame = compute(filled, "zone")
    assert all(frame[c].dtype == np.float64 for c in indicators.indicator_columns())


def test_unknown_level_is_refused(filled):
    with pytest.raises(ValueError, match="unknown level"):
        compute(filled, "village")


# --- helpers -------------------------------------------------------------------------
def test_survey_years_and_area_names(filled):
    assert indicators.survey_years(filled) == [2022, 2023]
    names = indicators.area_names(filled, "district")
    assert list(names.columns) == ["pcode", "name_th", "name_en", "zone"]
    assert row(names, "TH3001")["name_th"] == "เมืองนครราชสีมา"
    zones = indicators.area_names(filled, "zone")
    assert zones["pcode"].tolist()[:3] == ["1", "2", "3"] and len(zones) == 10


def test_area_lists_for_a_district(filled):
    lists = indicators.area_lists(filled, "district", "TH3001")
    assert lists["councils"]["id"].tolist() == ["K1", "K2"]
    assert lists["councils"]["tambon_th"].tolist() == ["ในเมือง", "ในเมือง"]
    assert lists["welfare_funds"][["id", "tambon_pcode", "members"]].values.tolist() == [["F1", A, 100], ["F2", B, 250]]
    housing = lists["housing_projects"]
    assert housing["id"].tolist() == ["H1", "H2"]  # same tambon, so by name: บ้าน... before ริมราง...
    assert {"year", "households", "railside", "programme"} <= set(housing.columns)
    before = indicators.area_lists(filled, "zone", "1", year=2015)
    # zone 1 in or before 2015: K1 (2010; K3 lies in zone 7, K4 is 2024), H1 (A, 2005) and H3 (C, 2010)
    assert before["councils"]["id"].tolist() == ["K1"]
    assert before["housing_projects"]["id"].tolist() == ["H1", "H3"]


def test_referrals_by_agency(filled):
    table = indicators.referrals_by_agency(filled, "district", "TH3001")
    by = table.set_index("agency")
    # local government: R1 (10 d), R2 (30 d) -> 2 cases, all resolved, median 20
    # hospital: R3 open, R4 (4 d) -> 2 cases, half resolved, median 4
    # social development office: R6 (28 d)
    assert by.loc["local government"].tolist() == [2, 1.0, 20.0]
    assert by.loc["hospital"].tolist() == [2, 0.5, 4.0]
    assert by.loc["social development office"].tolist() == [1, 1.0, 28.0]
    assert table["cases"].tolist() == [2, 2, 1]
    in_2023 = indicators.referrals_by_agency(filled, "tambon", A, year=2566)
    assert in_2023["agency"].tolist() == ["hospital"] and math.isnan(in_2023["median_days"][0])


# --- command line ---------------------------------------------------------------------------
def cli_args(db, **overrides):
    values = dict(db=str(db), level="district", zone=None, year=None, mpi_cutoff=0.2, format="csv", out=None)
    return SimpleNamespace(**(values | overrides))


def test_cli_writes_csv_to_stdout_and_summary_to_stderr(filled, capsys):
    assert indicators.run_cli(cli_args(filled.location, zone=[1])) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("pcode,name_th,name_en,zone,councils,")
    assert len(lines) == 1 + 4
    assert lines[1].startswith("TH3001,เมืองนครราชสีมา,Mueang Nakhon Ratchasima,1,2,2,350,")
    assert "4 district areas" in captured.err and captured.err.count("\n") == 1


def test_cli_geojson_carries_geometry_and_values(filled, tmp_path, capsys):
    out = tmp_path / "zones.geojson"
    assert indicators.run_cli(cli_args(filled.location, level="zone", format="geojson", out=str(out))) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["features"]) == 10
    first = data["features"][0]
    assert first["properties"]["pcode"] == "1" and first["properties"]["households"] == 12
    assert first["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_cli_parquet_needs_out(filled, tmp_path, capsys):
    assert indicators.run_cli(cli_args(filled.location, format="parquet")) == 1
    out = tmp_path / "t.parquet"
    assert indicators.run_cli(cli_args(filled.location, level="tambon", format="parquet", out=str(out))) == 0
    import geopandas as gpd

    frame = gpd.read_parquet(out)
    assert len(frame) == 289 and frame.geometry.notna().all()


# --- area geometries ------------------------------------------------------------------------
def test_area_geometries_match_compute_rows_and_follow_zone_edits(tmp_path):
    from layers.areas import area_geometries

    store = open_store(tmp_path / "atlas.duckdb")
    for level in indicators.LEVELS:
        shapes = area_geometries(level, store)
        assert shapes["pcode"].tolist() == compute(store, level)["pcode"].tolist(), level
        assert shapes.crs.to_epsg() == 4326 and shapes.geometry.is_valid.all()
    before = area_geometries("zone", store)
    table = store.query("SELECT * FROM zones")
    table["zone"] = np.where(table["zone"] == 2, 1, table["zone"])  # merge zone 2 into zone 1
    store.write([TableWrite("zones", table, mode="replace")])
    after = area_geometries("zone", store)
    assert len(after) == len(before) - 1 and "2" not in after["pcode"].tolist()
    merged_area = before.set_index("pcode").loc[["1", "2"]].to_crs(32647).area.sum()
    assert after.set_index("pcode").loc[["1"]].to_crs(32647).area.iloc[0] == pytest.approx(merged_area, rel=1e-6)


def test_lists_and_referrals_for_every_area_at_once_match_one_area_at_a_time(tmp_path):
    store = fill(open_store(tmp_path / "atlas.duckdb"))
    for level in ("tambon", "district", "zone"):
        every_list = indicators.area_lists(store, level, None)
        every_case = indicators.referrals_by_agency(store, level, None)
        for area in sorted(set(every_case["area"]) | set(every_list["councils"]["area"])):
            one = indicators.area_lists(store, level, area)
            for key, frame in one.items():
                cut = every_list[key][every_list[key]["area"] == area].drop(columns="area").reset_index(drop=True)
                pd.testing.assert_frame_equal(cut, frame)
            cut = every_case[every_case["area"] == area].drop(columns="area").reset_index(drop=True)
            pd.testing.assert_frame_equal(cut, indicators.referrals_by_agency(store, level, area))
