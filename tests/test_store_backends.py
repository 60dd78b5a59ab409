"""The store contract, run against DuckDB and PostgreSQL/PostGIS alike.

PostgreSQL runs in a throw-away cluster (tests/pg.py); without it these tests
fail, they are never skipped.
"""
from __future__ import annotations

import threading
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from geodata import schema
from geodata.store import ImportRecord, TableWrite, open_store
from geodata.store_postgres import PostgresStore, to_psycopg
from tests import pg


def councils(ids, year=2010):
    return pd.DataFrame({"council_id": ids, "name": "สภา x", "tambon_pcode": "TH300101",
                         "registered_year": year, "member_groups": 3})


def households(n=6, seed=1):
    """Households with the awkward values: NaN counts, missing flags, long floats, Thai text."""
    rng = np.random.default_rng(seed)
    flags = rng.random((n, 7)) < 0.4
    frame = pd.DataFrame({
        "household_id": [f"H{i:04d}" for i in range(n)],
        "survey_year": 2023,
        "tambon_pcode": rng.choice(["TH300101", "TH300102", "TH300901"], n),
        "members": rng.integers(1, 8, n).astype(float),
        "income_month": rng.random(n) * 10_000,
        **{f"capital_{c}": rng.integers(1, 5, n) + rng.random(n) for c in
           ["human", "physical", "financial", "natural", "social"]},
        **{f"deprived_{d}": flags[:, i] for i, d in enumerate(["health", "living", "education", "income", "access"])},
        "welfare_card": flags[:, 5],
        "railside": flags[:, 6],
    })
    frame.loc[0, "members"] = np.nan              # an INTEGER column arriving as float with NaN
    frame.loc[1, "income_month"] = np.nan
    frame["deprived_access"] = frame["deprived_access"].astype(object)
    frame.loc[2, "deprived_access"] = None        # a missing flag
    return frame


def referrals():
    return pd.DataFrame({
        "referral_id": ["R1", "R2", "R3"],
        "household_id": ["H0000", "H0001", "H0002"],
        "agency": ["พมจ., \"ศูนย์\"", "", "line\nbreak"],   # comma, quotes, empty string, newline
        "help_type": ["money", None, "housing"],
        "referred_on": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-09"]),
        "resolved_on": pd.to_datetime(["2024-01-20", None, "2024-04-01"]),
        "status": ["resolved", "referred", "resolved"],
    })


def all_checksums(store):
    return {table: store.table_checksum(table) for table in schema.TABLES}


# -- set-up ------------------------------------------------------------------------
def test_postgresql_server_is_installed():
    # A clear failure (not a skip) when the machine lacks the server.
    assert (pg.bin_dir() / "initdb").is_file()


def test_open_store_picks_the_backend_from_the_location(tmp_path, pg_store_url):
    assert open_store(tmp_path / "a.duckdb").backend == "duckdb"
    store = open_store(pg_store_url)
    assert isinstance(store, PostgresStore) and store.backend == "postgresql"
    assert store.location == pg_store_url


def test_new_store_holds_tambons_zones_and_province(any_store):
    assert any_store.scalar("SELECT count(*) FROM tambons") == 289
    assert any_store.scalar("SELECT count(*) FROM zones") == 32
    assert any_store.scalar("SELECT count(DISTINCT zone) FROM zones") == 10
    assert any_store.meta("province") == "TH30"
    assert any_store.meta("no such key") is None
    assert any_store.row_counts() == {table: 0 for table in schema.DATA_TABLES}
    assert any_store.synthetic_tables() == []


def test_fresh_database_is_created_once_by_concurrent_openers(pg_cluster):
    url = pg_cluster.create_database()
    errors = []

    def open_it():
        try:
            open_store(url)
        except Exception as error:  # collected: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert open_store(url).scalar("SELECT count(*) FROM tambons") == 289


def test_unreachable_server_is_a_store_error_without_the_password():
    from geodata.store import StoreError

    with pytest.raises(StoreError) as error:
        open_store("postgresql://atlas:secret@127.0.0.1:1/atlas?connect_timeout=2")
    assert "secret" not in str(error.value) and "127.0.0.1" in str(error.value)


# -- writing -----------------------------------------------------------------------
def test_append_then_replace(any_store):
    any_store.write([TableWrite("councils", councils(["a", "b"]))])
    any_store.write([TableWrite("councils", councils(["c"]))])
    assert any_store.query("SELECT council_id FROM councils ORDER BY council_id")["council_id"].tolist() == ["a", "b", "c"]
    any_store.write([TableWrite("councils", councils(["z"]), mode="replace")])
    assert any_store.query("SELECT council_id FROM councils")["council_id"].tolist() == ["z"]
    assert any_store.row_counts()["councils"] == 1


def test_duplicate_key_fails_and_changes_nothing(any_store):
    any_store.write([TableWrite("councils", councils(["a", "b"]))])
    before = all_checksums(any_store)
    with pytest.raises(Exception):
        any_store.write([TableWrite("councils", councils(["c", "a"]))], ImportRecord("councils", "f.csv", "0" * 64))
    assert all_checksums(any_store) == before
    assert any_store.scalar("SELECT count(*) FROM imports") == 0


def test_failing_second_table_rolls_back_the_first(any_store):
    any_store.write([TableWrite("households", households())])
    before = all_checksums(any_store)
    with pytest.raises(Exception):
        any_store.write([
            TableWrite("councils", councils(["new"]), synthetic=True),
            TableWrite("referrals", referrals()),
            TableWrite("households", households(2)),  # keys already stored
        ])
    assert all_checksums(any_store) == before
    assert any_store.row_counts() == {**{t: 0 for t in schema.DATA_TABLES}, "households": 6}
    assert any_store.synthetic_tables() == []


def test_unknown_mode_or_missing_column_changes_nothing(any_store):
    before = all_checksums(any_store)
    with pytest.raises(Exception, match="mode"):
        any_store.write([TableWrite("councils", councils(["a"])), TableWrite("councils", councils(["b"]), mode="merge")])
    with pytest.raises(Exception, match="member_groups"):
        any_store.write([TableWrite("councils", councils(["a"]).drop(columns="member_groups"))])
    assert all_checksums(any_store) == before


def test_delete_where_replaces_only_matching_rows(any_store):
    any_store.write([TableWrite("councils", councils(["a", "b"])),
                     TableWrite("councils", councils(["c"]).assign(tambon_pcode="TH300102"))])
    renewed = councils(["a2"])
    any_store.write([TableWrite("councils", renewed, delete_where={"tambon_pcode": "TH300101"})])
    stored = any_store.query("SELECT council_id, tambon_pcode FROM councils ORDER BY council_id")
    assert stored["council_id"].tolist() == ["a2", "c"]
    with pytest.raises(Exception, match="no_column"):
        any_store.write([TableWrite("councils", renewed, delete_where={"no_column": 1})])


def test_synthetic_flag_follows_the_data(any_store):
    any_store.write([TableWrite("councils", councils(["a"]), synthetic=True)])
    assert any_store.synthetic_tables() == ["councils"]
    any_store.write([TableWrite("councils", councils(["b"]))])
    assert any_store.synthetic_tables() == ["councils"], "some rows are still synthetic"
    any_store.write([TableWrite("councils", councils(["c"]), mode="replace")])
    assert any_store.synthetic_tables() == []


def test_import_log_records_each_table(any_store):
    record = ImportRecord("households", "survey.xlsx", "ab" * 32, imported_by="analyst")
    any_store.write([TableWrite("households", households()), TableWrite("referrals", referrals())], record)
    log = any_store.query("SELECT table_name, rows_accepted, mode, imported_by, synthetic FROM imports ORDER BY table_name")
    assert log["table_name"].tolist() == ["households", "referrals"]
    assert log["rows_accepted"].tolist() == [6, 3]
    assert set(log["imported_by"]) == {"analyst"} and not log["synthetic"].any()


def test_version_changes_with_each_write(any_store):
    before = any_store.version()
    any_store.write([TableWrite("councils", councils(["a"]))])
    after = any_store.version()
    assert after != before
    assert any_store.version() == after


def test_values_round_trip(any_store):
    any_store.write([TableWrite("households", households()), TableWrite("referrals", referrals())])
    stored = any_store.query("SELECT * FROM households ORDER BY household_id")
    pd.testing.assert_series_equal(stored["income_month"], households()["income_month"], check_exact=True)
    assert np.isnan(stored.loc[0, "members"]) and stored.loc[1, "members"] == households().loc[1, "members"]
    assert stored.loc[2, "deprived_access"] is None
    ref = any_store.query("SELECT * FROM referrals ORDER BY referral_id")
    assert ref["agency"].tolist() == ["พมจ., \"ศูนย์\"", "", "line\nbreak"]
    assert pd.isna(ref.loc[1, "help_type"]) and pd.isna(ref.loc[1, "resolved_on"])
    assert ref.loc[2, "resolved_on"] == pd.Timestamp("2024-04-01")


# -- reading -----------------------------------------------------------------------
def test_query_with_named_parameters(any_store):
    any_store.write([TableWrite("councils", councils(["a", "b"], year=2010)), TableWrite("councils", councils(["c"], 2020))])
    frame = any_store.query(
        "SELECT council_id, '50%' AS label, registered_year::VARCHAR AS year_text FROM councils "
        "WHERE registered_year >= $from AND ($tambon IS NULL OR tambon_pcode = $tambon) "
        "AND name LIKE 'สภา%' ORDER BY council_id",
        {"from": 2015, "tambon": None},
    )
    assert frame.to_dict("list") == {"council_id": ["c"], "label": ["50%"], "year_text": ["2020"]}
    assert any_store.scalar("SELECT count(*) FROM councils WHERE tambon_pcode = $t", {"t": "TH300101"}) == 3
    assert any_store.scalar("SELECT 'it''s $t'") == "it's $t"


def test_result_frames_are_identical_across_backends(both_stores):
    duck, postgres = both_stores
    for store in both_stores:
        store.write([TableWrite("households", households()), TableWrite("referrals", referrals())])
    queries = [
        "SELECT * FROM households ORDER BY household_id",
        "SELECT * FROM referrals ORDER BY referral_id",
        "SELECT * FROM councils",  # empty
        """SELECT tambon_pcode, count(*) AS n, sum(members) AS members, avg(income_month) AS income,
                  bool_or(deprived_access) AS any_access, max(survey_year) AS latest
           FROM households GROUP BY tambon_pcode ORDER BY tambon_pcode""",
        "SELECT referral_id, resolved_on - referred_on AS days FROM referrals ORDER BY referral_id",
        "SELECT pcode, name_th FROM tambons ORDER BY pcode",
    ]
    for sql in queries:
        pd.testing.assert_frame_equal(duck.query(sql), postgres.query(sql), obj=sql)
    assert duck.scalar("SELECT min(referred_on) FROM referrals") == postgres.scalar("SELECT min(referred_on) FROM referrals") == date(2024, 1, 5)


def test_checksums_agree_across_backends_for_the_same_content(both_stores):
    duck, postgres = both_stores
    writes = [
        TableWrite("households", households(50, seed=7)),
        TableWrite("referrals", referrals()),
        TableWrite("councils", councils(["a", "b"])),
    ]
    for store in both_stores:
        store.write(writes)
    for table in schema.DATA_TABLES + ["tambons", "zones"]:
        assert duck.table_checksum(table) == postgres.table_checksum(table), table
    # The digest sees content, not storage order.
    shuffled = households(50, seed=7).sample(frac=1, random_state=3)
    postgres.write([TableWrite("households", shuffled, mode="replace")])
    assert duck.table_checksum("households") == postgres.table_checksum("households")
    postgres.write([TableWrite("households", shuffled.assign(income_month=shuffled["income_month"] + 1e-9), mode="replace")])
    assert duck.table_checksum("households") != postgres.table_checksum("households")


def test_texts_that_look_like_nulls_or_flags_stay_texts(any_store):
    names = ["NULL", "NA", "nan", "", "t", "f", " spaced ", "\\N", "a,b", 'say "hi"', "ไทย"]
    frame = councils([f"k{i:02d}" for i in range(len(names))]).assign(name=names)
    frame.loc[len(frame)] = ["k99", None, "TH300101", np.nan, 1]
    any_store.write([TableWrite("councils", frame)])
    stored = any_store.query("SELECT name, registered_year FROM councils ORDER BY council_id")
    assert stored["name"].tolist()[:-1] == names and pd.isna(stored["name"].iloc[-1])
    assert stored["registered_year"].iloc[:-1].eq(2010).all() and np.isnan(stored["registered_year"].iloc[-1])


def test_postgres_queries_beyond_plain_columns(pg_store_url):
    store = open_store(pg_store_url)
    # Types outside the plain scalars (arrays, geometry) come through the ordinary cursor.
    frame = store.query("SELECT ARRAY[1, 2] AS pair, geometry FROM boundaries WHERE pcode = $p", {"p": "TH30"})
    assert frame["pair"].iloc[0] == [1, 2] and isinstance(frame["geometry"].iloc[0], str)
    assert store.query("SELECT 1 AS one;")["one"].tolist() == [1]
    assert store.query("CREATE TEMP TABLE scratch (x INTEGER)").empty
    with pytest.raises(Exception, match="no_such_table"):
        store.query("SELECT * FROM no_such_table")


# -- PostGIS -----------------------------------------------------------------------
def test_boundaries_in_postgis(pg_store_url):
    store = open_store(pg_store_url)
    tambons = store.query(
        "SELECT count(*) AS n, count(*) FILTER (WHERE ST_IsValid(geometry)) AS valid, "
        "ST_Area(ST_Transform(ST_Union(geometry), 32647)) / 1e6 AS km2 FROM boundaries WHERE level = 'tambon'"
    ).iloc[0]
    assert tambons["n"] == 289 and tambons["valid"] == 289
    assert tambons["km2"] == pytest.approx(20_793, rel=0.01)
    levels = store.query("SELECT level, count(*) AS n FROM boundaries GROUP BY level ORDER BY level")
    assert dict(zip(levels["level"], levels["n"])) == {"district": 32, "province": 1, "tambon": 289}
    # Every stored tambon has its polygon, and each lies in its district's polygon.
    assert store.scalar(
        "SELECT count(*) FROM tambons t JOIN boundaries b ON b.pcode = t.pcode AND b.level = 'tambon'"
    ) == 289
    assert store.scalar(
        "SELECT count(*) FROM boundaries t JOIN boundaries d ON d.pcode = t.parent_pcode "
        "WHERE t.level = 'tambon' AND ST_Contains(d.geometry, ST_PointOnSurface(t.geometry))"
    ) == 289
    assert store.scalar("SELECT pcode FROM boundaries WHERE ST_Contains(geometry, ST_SetSRID(ST_Point(102.1, 14.97), 4326)) "
                        "AND level = 'province'") == "TH30"


# -- parameter translation -------------------------------------------------------------
@pytest.mark.parametrize("duck, psycopg", [
    ("SELECT * FROM t WHERE a = $a AND b = $b_2", "SELECT * FROM t WHERE a = %(a)s AND b = %(b_2)s"),
    ("SELECT $year::INTEGER", "SELECT %(year)s::INTEGER"),
    ("SELECT 'cost: $a' || $a", "SELECT 'cost: $a' || %(a)s"),
    ("SELECT 'it''s 5%', x % 2 FROM t", "SELECT 'it''s 5%%', x %% 2 FROM t"),
    ('SELECT "col$a" FROM t', 'SELECT "col$a" FROM t'),
    ("SELECT 1 -- uses $a, 100%\n, $b", "SELECT 1 -- uses $a, 100%%\n, %(b)s"),
    ("SELECT $$ $a $$, $q$ $a $q$", "SELECT $$ $a $$, $q$ $a $q$"),
    ("SELECT $1", "SELECT $1"),
])
def test_dollar_parameters_become_psycopg_placeholders(duck, psycopg):
    assert to_psycopg(duck) == psycopg
