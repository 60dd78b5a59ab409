"""The bad-input corpus (tests/data/bad/): every broken file is refused with a clear
error that names its problem, and the store does not change at all.

The store is a small SYNTHETIC demo (5,000 households) plus a registered raster
with statistics and a user, so that every table holds rows and "unchanged" means something:
the checksum of every table in geodata.schema.TABLES is compared before and after.
"""
from __future__ import annotations

import functools
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from geodata import importer, rasters, schema
from geodata.demo import build_demo
from geodata.readers import ReadError, max_import_bytes, read_table
from geodata.store import open_store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
BAD = DATA / "bad"  # the committed text and spreadsheet files of the corpus
from tests.data import make_bad_corpus  # noqa: E402

# Rasters are binary data: they are made when the tests run, never committed.
RASTER_SUFFIXES = (".tif",)


@functools.lru_cache(maxsize=1)
def corpus() -> Path:
    """The whole corpus, rasters included, generated once per test session."""
    folder = Path(tempfile.mkdtemp(prefix="bad-corpus-"))
    make_bad_corpus.build(folder)
    return folder

# file -> (kind, words its error must contain). Kind "raster" is `raster add`; a
# "raster:band=N" kind passes that band.
CORPUS = {
    # encodings and file formats
    "households_utf16_without_bom.csv": ("households", "UTF-16 text without a byte-order mark"),
    "funds_latin1.csv": ("funds", "cannot decode byte 0xfc"),
    "councils_latin1_as_thai.csv": ("councils", "neither UTF-8 nor Thai Windows-874"),
    "councils_mixed_encoding.csv": ("councils", "mixes encodings"),
    "referrals_binary_nul.csv": ("referrals", "looks like a binary file"),
    "housing_png_named_csv.csv": ("housing", "looks like a binary file"),
    "households_png_named_xlsx.xlsx": ("households", "not a readable XLSX workbook"),
    "funds_csv_named_xlsx.xlsx": ("funds", "not a readable XLSX workbook"),
    "households_truncated.xlsx": ("households", "not a readable XLSX workbook"),
    "councils_old_excel.xls": ("councils", "old Excel .xls format is not supported"),
    "funds_empty.csv": ("funds", "the file is empty"),
    "funds_header_only.csv": ("funds", "only a header row, no data rows"),
    "referrals_header_only.xlsx": ("referrals", "only a header row, no data rows"),
    "housing_blank_header.csv": ("housing", "the header row) is empty"),
    "households_ragged_rows.csv": ("households", "not a well-formed CSV table"),
    "councils_header_twice.csv": ("councils", "column name 'council_id' appears twice"),
    "funds_two_tambon_columns.csv": ("funds", "both give tambon; keep one"),
    # required columns and values
    "councils_missing_key_column.csv": ("councils", "required column council_id is missing"),
    "households_missing_capital.csv": ("households", "required column capital_social is missing"),
    "referrals_missing_status.csv": ("referrals", "required column status is missing"),
    "referrals_missing_agency.xlsx": ("referrals", "required column agency is missing"),
    "households_required_value_empty.csv": ("households", "column welfare_card: is empty; a value is required"),
    "councils_formula_cell.xlsx": ("councils", "column name: is empty; a value is required"),
    # keys
    "councils_duplicate_keys.csv": ("councils", "value 'X-C001' repeats the key of row 2"),
    "households_duplicate_keys_be_ce.csv": ("households", "value 'X-H0001 / 2024' repeats the key of row 2"),
    "housing_duplicate_keys.xlsx": ("housing", "value 'X-P001' repeats the key of row 2"),
    "funds_key_already_stored.csv": ("funds", "value 'F001' is already in the store"),
    "referrals_unknown_household.csv": ("referrals", "value 'NOBODY-1' is not a household in the store"),
    # tambons and districts
    "councils_unknown_tambon.csv": ("councils", "value 'ต.หนองไม่มีจริง' is not found; did you mean"),
    "households_unknown_tambon_code.csv": ("households", "value 'TH309999' is not a tambon code of this province"),
    "households_tambon_of_other_province.csv": ("households", "value 'TH100101' is not a tambon code of this province"),
    "funds_ambiguous_nai_mueang.csv": ("funds", "value 'ในเมือง' is ambiguous, in เมืองนครราชสีมา (TH300101) or พิมาย"),
    "housing_ambiguous_ban_mai.csv": ("housing", "value 'ต.บ้านใหม่' is ambiguous"),
    "councils_tambon_in_other_district.csv": ("councils", "is in district เมืองนครราชสีมา (TH300101), not in พิมาย"),
    "households_unknown_district.csv": ("households", "column district: value 'อ.พิมายยยย' is not found"),
    # values out of range
    "households_negative_members.csv": ("households", "column members: value '-3' is not a whole number ≥ 0"),
    "housing_negative_households.csv": ("housing", "column households: value '-45' is not a whole number ≥ 0"),
    "funds_negative_money.csv": ("funds", "column fund_baht: value '-880500' is not an amount ≥ 0"),
    "councils_fractional_count.csv": ("councils", "column member_groups: value '12.5' is not a whole number"),
    "households_score_above_4.csv": ("households", "column capital_physical: value '5.0' is outside 1–4"),
    "households_score_zero.csv": ("households", "column capital_human: value '0' is outside 1–4"),
    "households_score_text.csv": ("households", "column capital_human: value 'ดี' is outside 1–4"),
    "households_not_yes_no.csv": ("households", "column welfare_card: value 'maybe' is not yes/no"),
    "housing_unknown_status.csv": ("housing", "column status: value 'finished?' is not one of"),
    # years and dates
    "households_be_year_nonsense.csv": ("households", "value '3567' is not a plausible year"),
    "councils_ce_year_nonsense.csv": ("councils", "value '1066' is not a plausible year"),
    "funds_year_typo_five_digits.csv": ("funds", "value '25530' is not a plausible year"),
    "housing_year_be_without_century.csv": ("housing", "value '67' is not a plausible year"),
    "referrals_dates_reversed.csv": ("referrals", "value '2024-06-15' is before referred_on ('2024-08-20')"),
    "referrals_dates_reversed_be.csv": ("referrals", "value '15/06/2567' is before referred_on ('20/08/2567')"),
    "referrals_impossible_date.csv": ("referrals", "value '31/02/2567' is not a date"),
    "referrals_resolved_without_date.csv": ("referrals", "is empty but status is resolved"),
    "referrals_open_with_resolved_date.csv": ("referrals", "is an open status but resolved_on is filled in"),
    # personal data (PDPA)
    "households_name_column.csv": ("households", "column 'ชื่อ-สกุล' looks like a person's name"),
    "referrals_citizen_id_column.csv": ("referrals", "look like 13-digit Thai national ID numbers"),
    "households_national_id_as_key.csv": ("households", "look like 13-digit Thai national ID numbers"),
    "councils_national_id_in_note.csv": ("councils", "look like 13-digit Thai national ID numbers"),
    "referrals_phone_column.csv": ("referrals", "column 'เบอร์โทรศัพท์' looks like a phone number"),
    "households_phone_column.xlsx": ("households", "column 'mobile_phone' looks like a phone number"),
    # rasters
    "raster_no_crs.tif": ("raster", "has no coordinate reference system"),
    "raster_png_no_georef.tif": ("raster", "has no coordinate reference system"),
    "raster_no_nodata.tif": ("raster", "declares no nodata value"),
    "raster_three_bands.tif": ("raster", "the file has 3 bands; choose one with --band"),
    "raster_rotated.tif": ("raster", "rotated grids are not supported"),
    "raster_far_away.tif": ("raster", "does not overlap the province TH30"),
    "raster_utm_labelled_lonlat.tif": ("raster", "(lon 790000.000 to 810000.000"),
    "raster_lonlat_labelled_utm.tif": ("raster", "does not overlap the province TH30"),
    "raster_truncated.tif": ("raster", "the file is corrupted"),
    "raster_garbage.tif": ("raster", "cannot be read as a raster"),
    "raster_empty.tif": ("raster", "cannot be read as a raster"),
}
# The same multi-band file with a band it does not have.
EXTRA_CASES = {"raster_three_bands.tif#band=5": ("raster:band=5", "band 5 does not exist; the file has 3 band(s)")}
NOT_BROKEN = {"councils_formula_text.csv"}
KORAT = make_bad_corpus.KORAT


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """A store where every table holds rows: demo data, an import log, a raster with statistics, a user."""
    from dashboard.auth import add_user
    from layers.rasters import tambon_stats

    folder = tmp_path_factory.mktemp("bad-inputs")
    store = open_store(folder / "atlas.duckdb")
    build_demo(store, households=5000, seed=7, progress=False)
    good = folder / "good.tif"
    make_bad_corpus.write_raster(good, size=32)
    rasters.add_raster(store, good, "good", "ดี", "Good", "units")
    tambon_stats(store, "good")
    add_user(store, "analyst1", "correct horse battery", "analyst", zones=(1,))
    empty = [table for table in schema.TABLES if store.scalar(f"SELECT count(*) FROM {table}") == 0]
    assert not empty, f"tables without rows make 'unchanged' meaningless: {empty}"
    store.original = checksums(store)
    return store


def checksums(store) -> dict[str, str]:
    return {table: store.table_checksum(table) for table in schema.TABLES}


def assert_unchanged(store) -> None:
    # Compared with the store as built: nothing in the whole module may change it.
    assert checksums(store) == store.original


def refusal(store, kind: str, path: Path) -> str:
    """Try the file the way the product does; return every error message as one text."""
    if kind.startswith("raster"):
        band = int(kind.split("band=")[1]) if "band=" in kind else None
        with pytest.raises(rasters.RasterError) as caught:
            rasters.add_raster(store, path, "broken", "เสีย", "Broken", "units", band=band)
        return str(caught.value)
    result = importer.import_file(store, kind, path)
    assert not result.ok and not result.written, f"{path.name} was accepted"
    assert result.error_count == len(result.errors)
    return "\n".join(result.errors)


def cases():
    for name, (kind, words) in CORPUS.items():
        yield pytest.param(name, kind, words, id=name)
    for case, (kind, words) in EXTRA_CASES.items():
        yield pytest.param(case.split("#")[0], kind, words, id=case)


@pytest.mark.parametrize("name, kind, words", list(cases()))
def test_each_broken_file_is_refused_clearly_and_changes_nothing(demo_store, name, kind, words):
    message = refusal(demo_store, kind, corpus() / name)
    assert words in message
    if not kind.startswith("raster"):
        assert all(line.startswith(name) for line in message.splitlines()), "every error names the file"
    assert_unchanged(demo_store)


def test_the_corpus_is_large_complete_and_reproducible():
    made = {path.name for path in corpus().iterdir()}
    assert made == set(CORPUS) | NOT_BROKEN, "every corpus file has a row in CORPUS"
    assert len(CORPUS) + len(EXTRA_CASES) >= 40
    kinds = {kind.split(":")[0] for kind, _ in CORPUS.values()}
    assert kinds == {*importer.KINDS, "raster"}
    committed = {path.name for path in BAD.iterdir() if path.is_file()}
    assert committed == {name for name in made if not name.endswith(RASTER_SUFFIXES)}
    changed = [name for name in committed if (corpus() / name).read_bytes() != (BAD / name).read_bytes()]
    assert not changed, f"run `python tests/data/make_bad_corpus.py` and commit: {changed}"


# -- a file over the size limit -----------------------------------------------------
def write_oversized_csv(path: Path, megabytes: int = 100) -> Path:
    """A valid-looking households CSV of `megabytes` MiB, written block by block."""
    row = make_bad_corpus.household().encode() + b"\n"
    block = row * (2**20 // len(row) + 1)
    with path.open("wb") as handle:
        handle.write(make_bad_corpus.HEADERS["households"].encode() + b"\n")
        for _ in range(megabytes):
            handle.write(block[: 2**20])
    return path


@pytest.fixture
def oversized(tmp_path) -> Path:
    return write_oversized_csv(tmp_path / "households_100mb.csv")


def test_a_100_mb_file_is_refused_by_its_size_before_it_is_read(demo_store, oversized, monkeypatch):
    assert oversized.stat().st_size >= 100 * 2**20 > max_import_bytes()
    message = refusal(demo_store, "households", oversized)
    assert message == ("households_100mb.csv: the file is 100 MB, over the import size limit of 50 MB; "
                       "split it into smaller files, or raise ATLAS_MAX_IMPORT_MB")
    assert_unchanged(demo_store)
    # The limit is a setting; a bad value is an error, not a silent default.
    monkeypatch.setenv("ATLAS_MAX_IMPORT_MB", "200")
    assert max_import_bytes() == 200 * 2**20
    monkeypatch.setenv("ATLAS_MAX_IMPORT_MB", "lots")
    with pytest.raises(ReadError, match="ATLAS_MAX_IMPORT_MB='lots' is not a number"):
        read_table(BAD / "funds_header_only.csv")


# -- the command line ---------------------------------------------------------------------
def cli(*args):
    return subprocess.run([sys.executable, "-m", "geodata", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("kind, name", [
    ("funds", "funds_empty.csv"),
    ("households", "households_score_above_4.csv"),
    ("referrals", "referrals_citizen_id_column.csv"),
    ("housing", "housing_ambiguous_ban_mai.csv"),
])
def test_cli_import_of_a_broken_file_exits_1_and_says_why(demo_store, kind, name):
    result = cli("import", kind, BAD / name, "--db", demo_store.location)
    assert result.returncode == 1
    assert CORPUS[name][1] in result.stderr
    assert "refused / ไม่นำเข้า" in result.stdout and "nothing written" in result.stdout
    assert_unchanged(demo_store)


def test_cli_raster_add_of_a_broken_raster_exits_1_and_says_why(demo_store):
    result = cli("raster", "add", corpus() / "raster_no_crs.tif", "--name", "broken", "--title-th", "เสีย",
                 "--title-en", "Broken", "--unit", "units", "--db", demo_store.location)
    assert result.returncode == 1
    assert "has no coordinate reference system" in result.stderr
    assert_unchanged(demo_store)


# -- names that try to leave their folder ------------------------------------------------
@pytest.mark.parametrize("name, words", [
    ("../../etc/passwd.csv", "'..' is not allowed"),
    ("rasters/../../secret.tif", "'..' is not allowed"),
    ("..\\..\\windows\\win.ini", "'..' is not allowed"),
    ("/etc/passwd", "not an absolute path"),
    ("C:/Windows/win.ini", "not an absolute path"),
    ("", "empty file name"),
])
def test_raster_names_from_users_never_leave_the_data_folder(tmp_path, name, words):
    with pytest.raises(rasters.RasterError, match=words):
        rasters.safe_data_path(name, root=tmp_path)


def test_a_symlink_out_of_the_data_folder_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "escape.tif").symlink_to(corpus() / "raster_no_crs.tif")
    with pytest.raises(rasters.RasterError, match="leads outside the data folder"):
        rasters.safe_data_path("escape.tif", root=tmp_path / "data")


def test_an_import_file_name_is_only_reported_never_used_as_a_path(demo_store, tmp_path):
    # The file is reached through "..": errors and the log carry only its base name.
    (tmp_path / "inner").mkdir()
    sneaky = tmp_path / "inner" / ".." / "funds_negative_money.csv"
    sneaky.write_bytes((BAD / "funds_negative_money.csv").read_bytes())
    result = importer.import_file(demo_store, "funds", sneaky, dry_run=True)
    assert result.file == "funds_negative_money.csv"
    assert all(line.startswith("funds_negative_money.csv row 2") for line in result.errors)
    assert ".." not in "".join(result.errors)


# -- formula-like cells --------------------------------------------------------------------
def test_formula_like_text_is_stored_as_inert_text(tmp_path):
    """Decision: the store is a database, not a spreadsheet. A cell such as
    =cmd|' /C calc'!A0 is kept exactly as written (never evaluated; an XLSX
    formula is never run either, see councils_formula_cell.xlsx); spreadsheets
    are protected where CSV files are written, by neutralising the cell there."""
    from layers import indicators, privacy

    store = open_store(tmp_path / "atlas.duckdb")
    result = importer.import_file(store, "councils", BAD / "councils_formula_text.csv")
    assert result.ok, result.errors
    written = ["=cmd|' /C calc'!A0", "+SUM(1;2)", '@HYPERLINK("http://x.invalid")', "-2+3"]
    names = store.query("SELECT council_id, name FROM councils ORDER BY council_id")
    assert list(names["name"]) == written
    log = store.query("SELECT file_name, rows_accepted FROM imports").iloc[0]
    assert (log["file_name"], log["rows_accepted"]) == ("councils_formula_text.csv", 4)
    # A CSV of the province's councils, as the product writes CSV files: no cell can run.
    councils = indicators.area_lists(store, "province", "TH30")["councils"]
    exported = pd.read_csv(io.StringIO(privacy.neutralise_frame(councils).to_csv(index=False)), dtype=str)
    assert sorted(exported["name"]) == sorted("'" + name for name in written)


def test_a_valid_raster_in_the_same_form_is_accepted(tmp_path):
    """The raster cases fail for their one defect, not because the test rasters are unusable."""
    store = open_store(tmp_path / "atlas.duckdb")
    path = tmp_path / "fine.tif"
    make_bad_corpus.write_raster(path)
    record = rasters.add_raster(store, path, "fine", "ดี", "Fine", "units")
    assert (record.width, record.height, record.nodata) == (8, 8, -9999.0)
    three = rasters.add_raster(store, corpus() / "raster_three_bands.tif", "three", "สาม", "Three", "units", band=2)
    assert three.band == 2


@pytest.mark.parametrize("kind", list(importer.KINDS))
def test_the_good_row_each_broken_file_starts_from_is_accepted(demo_store, tmp_path, kind):
    """Each broken file changes one thing in a row that is otherwise valid."""
    path = tmp_path / f"{kind}.csv"
    path.write_text(make_bad_corpus.csv_text(kind, make_bad_corpus.GOOD[kind]), encoding="utf-8")
    result = importer.import_file(demo_store, kind, path, dry_run=True)
    assert result.ok, result.errors
