import pandas as pd
import pytest

from geodata import zones
from geodata.store import TableWrite


def test_default_zones_cover_every_district_once_and_are_marked_assumed():
    table = zones.default_zones()
    assert len(table) == 32 and table["district_pcode"].is_unique
    assert table["zone"].nunique() == 10
    assert table["assumed"].all()


def test_zone_file_with_unknown_and_missing_districts_is_refused(tmp_path):
    bad = tmp_path / "zones.csv"
    bad.write_text("pcode,zone,zone_name_th,zone_name_en\nTH3001,1,a,A\nTH9999,2,b,B\n", encoding="utf-8")
    with pytest.raises(zones.ZoneFileError) as error:
        zones.read_zones(bad)
    assert "TH9999" in str(error.value) and "districts without a zone" in str(error.value)


def test_user_zone_file_replaces_the_default(store, tmp_path):
    own = tmp_path / "zones.csv"
    rows = ["pcode,zone,zone_name_th,zone_name_en"] + [f"{c},{1 + i % 2},ก{i % 2},Z{i % 2}" for i, c in enumerate(zones.default_zones()["district_pcode"])]
    own.write_text("\n".join(rows), encoding="utf-8")
    store.write([TableWrite("zones", zones.read_zones(own), mode="replace")])
    stored = store.query("SELECT zone, count(*) AS n, bool_or(assumed) AS assumed FROM zones GROUP BY zone ORDER BY zone")
    assert stored["n"].tolist() == [16, 16] and not stored["assumed"].any()


def test_new_store_holds_the_reference_tambons(store):
    assert store.scalar("SELECT count(*) FROM tambons") == 289
    assert store.meta("province") == "TH30"
    assert store.row_counts() == {t: 0 for t in ["councils", "welfare_funds", "housing_projects", "households", "referrals"]}


def _councils(ids):
    return pd.DataFrame({"council_id": ids, "name": "x", "tambon_pcode": "TH300101", "registered_year": 2010, "member_groups": 3})


def test_failed_write_leaves_every_table_as_it_was(store):
    store.write([TableWrite("councils", _councils(["a", "b"]))])
    before = store.table_checksum("councils")
    with pytest.raises(Exception):
        store.write([TableWrite("councils", _councils(["c"])), TableWrite("councils", _councils(["a"]))])
    assert store.table_checksum("councils") == before
    assert store.scalar("SELECT count(*) FROM councils") == 2


def test_replace_swaps_rows_and_synthetic_flag_follows_the_data(store):
    store.write([TableWrite("councils", _councils(["a", "b"]), synthetic=True)])
    assert store.synthetic_tables() == ["councils"]
    store.write([TableWrite("councils", _councils(["z"]), mode="append")])
    assert store.synthetic_tables() == ["councils"], "some rows are still synthetic"
    store.write([TableWrite("councils", _councils(["z"]), mode="replace")])
    assert store.synthetic_tables() == []
    assert store.query("SELECT council_id FROM councils")["council_id"].tolist() == ["z"]


def test_large_integers_come_back_exactly(store):
    assert store.scalar("SELECT 1 WHERE $x = 1", {"x": 1}) == 1
    value = 1_764_099_812_123_705_859  # a nanosecond timestamp, above 2**53
    assert int(store.query("SELECT CAST($v AS BIGINT) AS v", {"v": value})["v"].iloc[0]) == value


def test_reads_in_a_session_share_a_connection_and_writes_still_work(store):
    with store.session():
        before = store.scalar("SELECT count(*) FROM councils")
        store.write([TableWrite("councils", _councils(["s1"]))])
        assert store.scalar("SELECT count(*) FROM councils") == before + 1
    assert store.scalar("SELECT count(*) FROM councils") == before + 1


def test_a_session_opens_one_connection_and_only_when_something_is_read(store, monkeypatch):
    opened = []
    connect = store._connect
    monkeypatch.setattr(store, "_connect", lambda read_only: opened.append(read_only) or connect(read_only))
    with store.session():
        pass  # a block served from caches, as most map updates are
    assert opened == []
    with store.session():
        for _ in range(3):
            store.scalar("SELECT count(*) FROM tambons")
        with store.session():  # nested blocks share it too
            store.query("SELECT pcode FROM tambons LIMIT 1")
    assert opened == [True]
    store.scalar("SELECT 1")  # outside a session, each read has its own, released at once
    assert opened == [True, True]
