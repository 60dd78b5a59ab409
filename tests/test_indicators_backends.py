"""The indicator SQL gives the same answers on DuckDB and PostgreSQL.

The same small, awkward data set (missing scores and flags, two survey years,
open and resolved referrals, areas without records) is written to a store of
each backend; compute() and the drill-down queries must agree at every level.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.store import TableWrite
from layers import indicators

# Tambons of three districts in different default zones, plus one district with no data.
TAMBONS = ["TH300101", "TH300102", "TH300103", "TH300104", "TH300201", "TH300202", "TH300901", "TH300902"]
CAPITALS = ["capital_human", "capital_physical", "capital_financial", "capital_natural", "capital_social"]
FLAGS = ["deprived_health", "deprived_living", "deprived_education", "deprived_income", "deprived_access"]


def _households(rng, count=400) -> pd.DataFrame:
    frame = pd.DataFrame({
        "household_id": [f"H{i:04d}" for i in range(count)],
        "survey_year": rng.choice([2022, 2023], count),
        "tambon_pcode": rng.choice(TAMBONS[:-1], count),  # the last tambon has no survey
        "members": rng.integers(1, 8, count),
        "income_month": rng.gamma(2.0, 2500.0, count),
        # Quarter steps put many households exactly on the level thresholds.
        **{name: rng.integers(4, 17, count) / 4 for name in CAPITALS},
        **{name: rng.random(count) < 0.25 for name in FLAGS},
        "welfare_card": rng.random(count) < 0.3,
        "railside": rng.random(count) < 0.1,
    })
    frame.loc[rng.random(count) < 0.05, "capital_social"] = np.nan
    frame["deprived_income"] = frame["deprived_income"].astype(object)
    frame.loc[rng.random(count) < 0.05, "deprived_income"] = None
    # Some households surveyed again the next year.
    again = frame[frame["survey_year"] == 2022].head(40).assign(survey_year=2023)
    again = again[~again["household_id"].isin(frame.loc[frame["survey_year"] == 2023, "household_id"])]
    return pd.concat([frame, again], ignore_index=True)


def _referrals(rng, households: pd.DataFrame, count=150) -> pd.DataFrame:
    referred = pd.Timestamp("2022-06-01") + pd.to_timedelta(rng.integers(0, 700, count), unit="D")
    resolved = referred + pd.to_timedelta(rng.integers(1, 200, count), unit="D")
    frame = pd.DataFrame({
        "referral_id": [f"R{i:04d}" for i in range(count)],
        "household_id": rng.choice(households["household_id"].unique(), count),
        "agency": rng.choice(["พมจ.", "อบต.", "โรงพยาบาล", "CODI"], count),
        "help_type": rng.choice(["money", "housing", "jobs"], count),
        "referred_on": referred,
        "resolved_on": resolved.where(rng.random(count) < 0.6),
        "status": "referred",
    })
    frame.loc[frame["resolved_on"].notna(), "status"] = "resolved"
    frame.loc[0, "agency"] = None
    return frame


def _programmes(rng) -> list[TableWrite]:
    councils = pd.DataFrame({
        "council_id": [f"C{i}" for i in range(12)], "name": [f"สภา {i}" for i in range(12)],
        "tambon_pcode": rng.choice(TAMBONS, 12), "registered_year": rng.integers(2008, 2025, 12),
        "member_groups": rng.integers(1, 9, 12),
    })
    funds = pd.DataFrame({
        "fund_id": [f"F{i}" for i in range(6)], "name": [f"กองทุน {i}" for i in range(6)],
        "tambon_pcode": rng.choice(TAMBONS[:4], 6), "founded_year": rng.integers(2010, 2024, 6),
        "members": rng.integers(50, 900, 6), "fund_baht": rng.gamma(2.0, 1e6, 6),
    })
    housing = pd.DataFrame({
        "project_id": [f"P{i}" for i in range(5)], "name": [f"โครงการ {i}" for i in range(5)],
        "tambon_pcode": rng.choice(TAMBONS, 5), "programme": "urban", "start_year": rng.integers(2003, 2025, 5),
        "households": rng.integers(5, 60, 5), "budget_baht": rng.gamma(2.0, 1e6, 5),
        "railside": [True, False, True, False, False], "status": "done",
    })
    return [TableWrite("councils", councils), TableWrite("welfare_funds", funds), TableWrite("housing_projects", housing)]


@pytest.fixture
def stores(both_stores):
    rng = np.random.default_rng(2024)
    households = _households(rng)
    writes = [TableWrite("households", households), TableWrite("referrals", _referrals(rng, households)),
              *_programmes(rng)]
    for store in both_stores:
        store.write(writes)
    return both_stores


def _same(duck_frame: pd.DataFrame, pg_frame: pd.DataFrame, what: str) -> None:
    pd.testing.assert_frame_equal(duck_frame, pg_frame, check_dtype=False, rtol=1e-9, obj=what)


@pytest.mark.parametrize("level", indicators.LEVELS)
def test_compute_agrees_across_backends(stores, level):
    duck, postgres = stores
    for options in ({}, {"year": 2022}, {"year": 2566}, {"zones": [1, 7]}, {"mpi_cutoff": 0.4}):
        duck_frame = indicators.compute(duck, level, **options)
        assert duck_frame[indicators.indicator_columns()].notna().any().any(), "the data reach the indicators"
        _same(duck_frame, indicators.compute(postgres, level, **options), f"{level} {options}")


def test_drill_down_queries_agree_across_backends(stores):
    duck, postgres = stores
    assert indicators.survey_years(duck) == indicators.survey_years(postgres) == [2022, 2023]
    for level, pcode in (("tambon", "TH300101"), ("district", "TH3002"), ("zone", "1"), ("province", "TH30")):
        for year in (None, 2023):
            duck_lists = indicators.area_lists(duck, level, pcode, year)
            pg_lists = indicators.area_lists(postgres, level, pcode, year)
            for key in duck_lists:
                _same(duck_lists[key], pg_lists[key], f"area_lists {level} {pcode} {year} {key}")
            _same(indicators.referrals_by_agency(duck, level, pcode, year),
                  indicators.referrals_by_agency(postgres, level, pcode, year), f"referrals {level} {pcode} {year}")
