"""The SYNTHETIC national store: all 7,425 tambons, indicators for the whole country and
per province, and the dashboard switched to another province (Bangkok, TH10).

A small build (50,000 households over the 77 provinces) keeps this quick; the
13-million-household build and its timings are in benchmarks/bench_national.py.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata import boundaries, national
from geodata.store import NATIONAL, StoreError, open_store
from layers import indicators
from layers.atlas import Atlas

ROOT = Path(__file__).resolve().parent.parent
HOUSEHOLDS = 50_000


@pytest.fixture(scope="module")
def national_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("national") / "national.duckdb"
    national.build_national(path, households=HOUSEHOLDS, seed=3, progress=False)
    return path


@pytest.fixture(scope="module")
def store(national_db):
    return open_store(national_db)


@pytest.fixture(scope="module")
def all_tambons(store) -> pd.DataFrame:
    return indicators.compute(store, "tambon")


def test_the_store_holds_the_whole_country(store, national_db):
    assert store.meta("province") == NATIONAL
    country = boundaries.tambon_table(None)
    assert store.scalar("SELECT count(*) FROM tambons") == len(country) == 7425
    assert store.scalar("SELECT count(DISTINCT province_pcode) FROM tambons") == 77
    zones = store.query("SELECT district_pcode, zone FROM zones ORDER BY zone")
    assert len(zones) == zones["zone"].nunique() == country["district_pcode"].nunique() == 928
    assert not national_db.with_name(national_db.name + ".building").exists()


def test_every_province_has_households_and_keys_are_unique_nationwide(store):
    latest = store.query("SELECT t.province_pcode, count(*) AS n FROM households h "
                         "JOIN tambons t ON t.pcode = h.tambon_pcode WHERE h.survey_year = 2024 GROUP BY 1")
    assert latest["n"].sum() == HOUSEHOLDS and len(latest) == 77
    assert store.scalar("SELECT count(*) - count(DISTINCT household_id || '/' || survey_year) FROM households") == 0
    # Keys carry their province, and every referral points to a household of its own province.
    assert store.scalar("SELECT count(*) FROM households h JOIN tambons t ON t.pcode = h.tambon_pcode "
                        "WHERE NOT starts_with(h.household_id, t.province_pcode)") == 0
    assert store.scalar("SELECT count(*) FROM referrals r WHERE r.household_id NOT IN "
                        "(SELECT household_id FROM households)") == 0
    assert sorted(store.synthetic_tables()) == sorted(national.DATA_TABLES)
    log = store.query("SELECT table_name, rows_accepted FROM imports WHERE kind = 'national'")
    counts = store.row_counts()
    assert dict(zip(log["table_name"], log["rows_accepted"])) == counts


def test_households_are_shared_by_tambon_counts():
    tambons = boundaries.tambon_table(None)
    shares = national.households_per_province(tambons, 13_000_000)
    assert shares.sum() == 13_000_000 and len(shares) == 77
    per_tambon = shares / tambons.groupby("province_pcode").size()
    assert per_tambon.max() - per_tambon.min() < 2  # rounding only


def test_indicators_for_all_7425_tambons(all_tambons, store):
    assert len(all_tambons) == 7425
    assert list(all_tambons["pcode"]) == sorted(boundaries.tambon_table(None)["pcode"])
    assert all_tambons["households"].sum() == HOUSEHOLDS
    assert all_tambons["councils"].sum() == store.row_counts()["councils"]
    assert len(indicators.compute(store, "district")) == 928
    provinces = indicators.compute(store, "province")
    assert len(provinces) == 77 and provinces["households"].sum() == HOUSEHOLDS
    assert provinces.set_index("pcode").at["TH10", "name_en"] == "Bangkok"


@pytest.mark.parametrize("province", ["TH10", "TH30", "TH96"])
def test_a_province_filter_gives_that_provinces_rows_with_the_same_values(store, all_tambons, province):
    alone = indicators.compute(store, "tambon", province=province)
    expected = all_tambons[all_tambons["pcode"].str.startswith(province)].reset_index(drop=True)
    assert len(alone) == len(boundaries.tambon_table(province))
    pd.testing.assert_frame_equal(alone, expected)
    whole = indicators.compute(store, "province", province=province)
    assert list(whole["pcode"]) == [province]
    assert whole.at[0, "households"] == expected["households"].sum()
    assert whole.at[0, "referrals"] == expected["referrals"].sum()


def test_referrals_of_one_area_match_the_indicator_table(store, all_tambons):
    busiest = all_tambons.sort_values("referrals", ascending=False).iloc[0]
    by_agency = indicators.referrals_by_agency(store, "tambon", busiest["pcode"])
    assert by_agency["cases"].sum() == busiest["referrals"] > 0


def test_the_atlas_shows_bangkok_from_the_national_store(store):
    atlas = Atlas(store, table_cache=Path(store.location).parent / "cache", province="TH10")
    bangkok = boundaries.tambon_table("TH10")
    assert len(bangkok) == 169  # khwaeng in the boundary set (ADM3), in 50 khet
    tambons = atlas.table("tambon")
    assert list(tambons["pcode"]) == sorted(bangkok["pcode"])
    assert list(atlas.geometry("tambon")["pcode"]) == list(tambons["pcode"])
    assert len(atlas.table("district")) == len(atlas.geometry("district")) == 50
    zones = atlas.zones()
    assert len(zones) == 50 and "พระนคร" in set(zones["name_th"])
    assert list(atlas.table("zone")["pcode"]) == list(atlas.geometry("zone")["pcode"])
    assert list(atlas.table("province")["pcode"]) == ["TH10"]
    from dashboard.state import View
    from layers.profile import breadcrumb

    assert breadcrumb(atlas, View())[0]["name_en"] == "Bangkok"


def test_a_national_store_opens_on_the_default_province(store):
    atlas = Atlas(store, table_cache=Path(store.location).parent / "cache")
    assert atlas.province == "TH30"
    assert len(atlas.table("tambon")) == 289 and len(atlas.zones()) == 32
    with pytest.raises(ValueError, match="no tambons of province TH99"):
        Atlas(store, province="TH99")


def test_the_app_is_created_for_bangkok(national_db):
    from dashboard.app import create_app

    app = create_app(str(national_db), province="TH10")
    assert app.atlas.province == "TH10"
    assert len(app.atlas.table("tambon")) == 169
    page = str(app.layout().to_plotly_json())
    assert "พระนคร" in page and "Phra Nakhon" in page  # Bangkok's first khet, on the map


def test_a_province_store_keeps_its_own_province(tmp_path):
    from geodata.demo import build_demo

    korat = open_store(tmp_path / "korat.duckdb")
    build_demo(korat, households=3000, seed=2, progress=False)
    atlas = Atlas(korat, table_cache=tmp_path / "cache")
    assert atlas.province == "TH30" and len(atlas.zones()) == 10
    for level in ("tambon", "district", "zone", "province"):
        pd.testing.assert_frame_equal(indicators.compute(korat, level),
                                      indicators.compute(korat, level, province="TH30"))
    with pytest.raises(ValueError, match="it is a store for TH30"):
        Atlas(korat, province="TH10")


def test_build_refuses_an_existing_store_and_the_cli_says_so(national_db, tmp_path):
    with pytest.raises(StoreError, match="exists; use another --db, or --force"):
        national.build_national(national_db, households=1000, progress=False)
    result = subprocess.run([sys.executable, "-m", "geodata", "national", "--households", "1000", "--db",
                             str(national_db)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "exists; use another --db" in result.stderr
    refused = subprocess.run([sys.executable, "-m", "dashboard", "--province", "TH99", "--db", str(national_db)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "no tambons of province TH99" in refused.stderr


def test_the_same_seed_gives_the_same_province():
    tambons = boundaries.tambon_table(None)
    first = national.province_tables(tambons[tambons["province_pcode"] == "TH96"], "TH96", 500, seed=5)
    again = national.province_tables(tambons[tambons["province_pcode"] == "TH96"], "TH96", 500, seed=5)
    for name in national.DATA_TABLES:
        pd.testing.assert_frame_equal(first[name], again[name])
    assert np.all(first["households"]["household_id"].str.startswith("TH96HH"))
