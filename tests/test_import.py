"""Imports: readers, validation (every error kind, all at once), PII refusal, atomicity, CLI."""
import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geodata import importer, schema
from geodata.importer import import_file
from geodata.readers import ReadError, read_table

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = ROOT / "examples"

HOUSEHOLD_HEADER = ("household_id,tambon,district,survey_year,members,income_month,capital_human,capital_physical,"
                    "capital_financial,capital_natural,capital_social,deprived_health,deprived_living,"
                    "deprived_education,deprived_income,deprived_access,welfare_card,railside")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def households_csv(path: Path, *rows: str) -> Path:
    return write(path, "\n".join([HOUSEHOLD_HEADER, *rows]) + "\n")


def good_household(key: str = "H1", tambon: str = "TH300101", year: str = "2024") -> str:
    return f"{key},{tambon},,{year},4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(store) -> dict:
    return {table: store.table_checksum(table) for table in [*schema.DATA_TABLES, "imports", "datasets"]}


def import_examples(store, *kinds):
    for kind in kinds:
        result = import_file(store, kind, EXAMPLES / f"{kind}.csv")
        assert result.ok, result.errors


def only_error(result) -> str:
    assert not result.ok
    assert result.error_count == 1, result.errors
    return result.errors[0]


# -- examples and encodings ------------------------------------------------------
def test_every_example_file_imports_cleanly_in_order(store):
    import_examples(store, "councils", "funds", "housing", "households", "referrals")
    counts = store.row_counts()
    assert counts == {"councils": 5, "welfare_funds": 4, "housing_projects": 4, "households": 6, "referrals": 4}
    log = store.query("SELECT kind, file_name, rows_accepted, file_sha256 FROM imports ORDER BY kind")
    assert list(log["kind"]) == ["councils", "funds", "households", "housing", "referrals"]
    assert log.set_index("kind").at["households", "file_sha256"] == sha256(EXAMPLES / "households.csv")


def test_example_values_are_stored_converted(store):
    import_examples(store, "councils", "funds", "housing", "households", "referrals")
    council = store.query("SELECT * FROM councils WHERE council_id = 'C001'").iloc[0]
    assert (council["tambon_pcode"], council["registered_year"], council["member_groups"]) == ("TH301501", 2009, 18)
    fund = store.query("SELECT * FROM welfare_funds WHERE fund_id = 'F004'").iloc[0]
    assert (fund["tambon_pcode"], fund["founded_year"], fund["fund_baht"]) == ("TH301008", 2011, 720000.0)
    house = store.query("SELECT * FROM households WHERE household_id = 'HH-0003'").iloc[0]
    assert (house["tambon_pcode"], house["survey_year"], bool(house["deprived_health"])) == ("TH300106", 2024, True)
    referral = store.query("SELECT * FROM referrals WHERE referral_id = 'R-0003'").iloc[0]
    assert pd.Timestamp(referral["referred_on"]).date() == date(2024, 7, 3)
    assert pd.Timestamp(referral["resolved_on"]).date() == date(2024, 7, 10)
    assert (referral["status"], referral["help_type"]) == ("resolved", "health")
    statuses = store.query("SELECT referral_id, status FROM referrals ORDER BY referral_id")["status"]
    assert list(statuses) == ["resolved", "in_progress", "resolved", "referred"]


def test_windows_874_file_with_thai_headers(store):
    raw = (DATA / "councils_cp874.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    result = import_file(store, "councils", DATA / "councils_cp874.csv")
    assert result.ok, result.errors
    rows = store.query("SELECT * FROM councils ORDER BY council_id")
    assert list(rows["tambon_pcode"]) == ["TH301501", "TH300208", "TH300102"]
    assert list(rows["registered_year"]) == [2009, 2010, 2011]
    assert rows.at[0, "name"] == "สภาองค์กรชุมชนตำบลในเมือง"
    assert rows.at[2, "member_groups"] == 12


def test_utf8_bom_file_with_baht_amounts_and_dash_for_empty(store):
    assert (DATA / "funds_bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    result = import_file(store, "funds", DATA / "funds_bom.csv")
    assert result.ok, result.errors
    rows = store.query("SELECT * FROM welfare_funds ORDER BY fund_id")
    assert list(rows["tambon_pcode"]) == ["TH300106", "TH301008"]
    assert rows.at[0, "members"] == 1200 and rows.at[0, "fund_baht"] == 2_500_000
    assert pd.isna(rows.at[1, "fund_baht"])


def test_read_table_gives_strings_and_spreadsheet_row_numbers(tmp_path):
    path = write(tmp_path / "t.csv", "id,code,n\n\nA,00123,1\n,,\nB,007,2.50\n")
    frame, header = read_table(path)
    assert header == ["id", "code", "n"]
    assert list(frame.index) == [3, 5]  # row 2 and row 4 are blank, still counted
    assert list(frame["code"]) == ["00123", "007"]
    assert list(frame["n"]) == ["1", "2.50"]


def test_short_rows_are_padded_and_long_rows_refused(tmp_path):
    frame, _ = read_table(write(tmp_path / "short.csv", "a,b,c\n1,2\n3,4,5\n"))
    assert list(frame.loc[2]) == ["1", "2", ""]
    with pytest.raises(ReadError, match="not a well-formed CSV"):
        read_table(write(tmp_path / "long.csv", "a,b\n1,2\n3,4,5\n"))


def test_semicolon_and_utf16_files_are_read(tmp_path):
    frame, _ = read_table(write(tmp_path / "semi.csv", "a;b\n1;ในเมือง\n"))
    assert frame.loc[2, "b"] == "ในเมือง"
    frame, _ = read_table(write(tmp_path / "u16.txt", "a\tb\n1\tในเมือง\n", "utf-16"))
    assert frame.loc[2, "b"] == "ในเมือง"


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"household_id,tambon\n", "only a header row"),
    (b"\n\nhousehold_id\nH1\n", "header row"),
    (b"a,b\n1,2\x00\x01\x02\n", "binary"),
    (b"a,b\n1,\x81\xdb\n", "cannot decode"),
    (b"a,a\n1,2\n", "appears twice"),
])
def test_unreadable_csv_files_get_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ReadError, match=message):
        read_table(path)


def make_households_xlsx(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HOUSEHOLD_HEADER.split(","))
    for row in rows:
        sheet.append(row)
    book.create_sheet("ignored").append(["only the first sheet is read"])
    book.save(path)
    return path


def test_xlsx_with_numbers_dates_and_thai(store, tmp_path):
    path = make_households_xlsx(tmp_path / "households.xlsx", [
        ["H1", "ในเมือง", "พิมาย", 2567, 4, 4500.0, 2, 3, 2, 2.5, 2, 0, 1, 0, 1, 0, "ใช่", "ไม่ใช่"],
        ["H2", 300101, None, 2024, 3, 5200.5, 1, 1, 1, 1, 1, True, False, False, False, False, "no", None],
    ])
    frame, _ = read_table(path)
    assert frame.loc[3, "tambon"] == "300101" and frame.loc[2, "survey_year"] == "2567"
    result = import_file(store, "households", path)
    assert result.ok, result.errors
    rows = store.query("SELECT * FROM households ORDER BY household_id")
    assert list(rows["tambon_pcode"]) == ["TH301501", "TH300101"]
    assert list(rows["survey_year"]) == [2024, 2024]
    assert bool(rows.at[1, "deprived_health"]) and pd.isna(rows.at[1, "railside"])


def test_xlsx_dates_become_iso_dates(store, tmp_path):
    import_examples(store, "households")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["referral_id", "household_id", "agency", "help_type", "referred_on", "resolved_on", "status"])
    sheet.append(["R1", "HH-0001", "อบต.", "money", datetime(2024, 5, 23), date(2024, 6, 1), "resolved"])
    book.save(tmp_path / "referrals.xlsx")
    result = import_file(store, "referrals", tmp_path / "referrals.xlsx")
    assert result.ok, result.errors
    row = store.query("SELECT * FROM referrals").iloc[0]
    assert pd.Timestamp(row["referred_on"]).date() == date(2024, 5, 23)


def test_truncated_or_fake_xlsx_gets_a_clear_error(store, tmp_path):
    good = make_households_xlsx(tmp_path / "good.xlsx", [["H1"] + [""] * 17])
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    fake = write(tmp_path / "fake.xlsx", "this is not a spreadsheet")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    for path, message in ((truncated, "XLSX"), (fake, "XLSX"), (old, ".xls")):
        with pytest.raises(ReadError, match=message):
            read_table(path)
        result = import_file(store, "households", path)
        assert result.refused_because == "read" and message in only_error(result)


# -- Buddhist Era ------------------------------------------------------------------
@pytest.mark.parametrize("given, stored", [("2567", 2024), ("2024", 2024), ("๒๕๖๗", 2024), ("2493", 1950)])
def test_years_in_be_or_ce_are_stored_ce(store, tmp_path, given, stored):
    result = import_file(store, "households", households_csv(tmp_path / "h.csv", good_household(year=given)))
    assert result.ok, result.errors
    assert store.scalar("SELECT survey_year FROM households") == stored


@pytest.mark.parametrize("given, expected", [
    ("23/05/2567", date(2024, 5, 23)), ("23/05/2024", date(2024, 5, 23)), ("2024-05-23", date(2024, 5, 23)),
    ("2567-05-23", date(2024, 5, 23)), ("23 พ.ค. 2567", date(2024, 5, 23)), ("23 พฤษภาคม 2567", date(2024, 5, 23)),
    ("๒๓/๐๕/๒๕๖๗", date(2024, 5, 23)), ("3.7.2024", date(2024, 7, 3)),
])
def test_dates_in_be_or_ce(store, tmp_path, given, expected):
    import_examples(store, "households")
    path = write(tmp_path / "r.csv", f"referral_id,household_id,agency,help_type,referred_on,status\n"
                                     f"R1,HH-0001,อบต.,money,{given},referred\n")
    result = import_file(store, "referrals", path)
    assert result.ok, result.errors
    assert pd.Timestamp(store.scalar("SELECT referred_on FROM referrals")).date() == expected


# -- every validation error, named by file, row, column and value ---------------------
@pytest.mark.parametrize("row, expected", [
    ("H1,TH300101,,2024,-1,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column members: value '-1' is not a whole number"),
    ("H1,TH300101,,2024,2.5,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column members: value '2.5' is not a whole number"),
    ("H1,TH300101,,2024,many,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column members: value 'many'"),
    ("H1,TH300101,,2024,4,-5,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column income_month: value '-5' is not an amount ≥ 0"),
    ("H1,TH300101,,2024,4,4500,5,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column capital_human: value '5' is outside 1–4"),
    ("H1,TH300101,,2024,4,4500,2,0.5,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column capital_physical: value '0.5' is outside 1–4"),
    ("H1,TH300101,,1890,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column survey_year: value '1890' is not a plausible year"),
    ("H1,TH300101,,2700,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column survey_year: value '2700' is not a plausible year"),
    ("H1,TH300101,,2024,4,4500,2,3,2,2.5,2,0,1,0,maybe,0,yes,no", "row 2, column deprived_income: value 'maybe' is not yes/no"),
    ("H1,TH300101,,2024,4,4500,2,3,2,2.5,2,0,1,0,1,0,,no", "row 2, column welfare_card: is empty; a value is required"),
    (",TH300101,,2024,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column household_id: is empty; a value is required"),
    ("H1,ในเมือง,,2024,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no",
     "row 2, column tambon: value 'ในเมือง' is ambiguous, in เมืองนครราชสีมา (TH300101) or พิมาย (TH301501)"),
    ("H1,ในเมอง,พิมาย,2024,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no",
     "row 2, column tambon: value 'ในเมอง' is not found in district พิมาย; did you mean ในเมือง / Nai Mueang (พิมาย, TH301501)"),
    ("H1,ในเมือง,พิมายย,2024,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column district: value 'พิมายย' is not found"),
    ("H1,,,2024,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no", "row 2, column tambon: is empty; a value is required"),
])
def test_each_household_error_names_file_row_column_and_value(store, tmp_path, row, expected):
    result = import_file(store, "households", households_csv(tmp_path / "h.csv", row))
    assert only_error(result).startswith("h.csv " + expected.split(":")[0])
    assert expected in only_error(result)
    assert result.refused_because == "validation" and result.rows_accepted == 0


def test_missing_required_column_is_named_with_its_accepted_headers(store, tmp_path):
    path = write(tmp_path / "c.csv", "council_id,tambon\nC1,TH300101\n")
    error = only_error(import_file(store, "councils", path))
    assert error.startswith("c.csv row 1: required column name is missing")
    assert "'ชื่อสภา'" in error


def test_two_columns_for_one_field_are_refused(store, tmp_path):
    path = write(tmp_path / "c.csv", "council_id,name,ตำบล,รหัสตำบล\nC1,x,โพธิ์กลาง,TH300102\n")
    assert "columns 'ตำบล' and 'รหัสตำบล' both give tambon" in only_error(import_file(store, "councils", path))


def test_duplicate_keys_within_a_file(store, tmp_path):
    path = households_csv(tmp_path / "h.csv", good_household("H1"), good_household("H2"), good_household("H1"),
                          good_household("H1", year="2023"))
    error = only_error(import_file(store, "households", path))
    assert error == "h.csv row 4, column household_id + survey_year: value 'H1 / 2024' repeats the key of row 2"


def test_housing_status_and_railside_values(store, tmp_path):
    path = write(tmp_path / "p.csv", "project_id,name,tambon,start_year,households,railside,status\n"
                                     "P1,a,TH300101,2567,10,ใช่,เสร็จแล้ว\nP2,b,TH300101,2020,5,sometimes,finished\n")
    result = import_file(store, "housing", path)
    assert result.error_count == 2
    assert "p.csv row 3, column railside: value 'sometimes' is not yes/no" in result.errors[0]
    assert "p.csv row 3, column status: value 'finished' is not one of: planned" in result.errors[1]


REFERRAL_HEADER = "referral_id,household_id,agency,help_type,referred_on,resolved_on,status"


@pytest.mark.parametrize("row, expected", [
    ("R1,HH-0001,อบต.,money,2024-06-05,2024-06-01,resolved",
     "row 2, column resolved_on: value '2024-06-01' is before referred_on ('2024-06-05')"),
    ("R1,HH-0001,อบต.,money,2024-02-30,,referred", "row 2, column referred_on: value '2024-02-30' is not a date"),
    ("R1,HH-0001,อบต.,money,12/31/2024,,referred", "row 2, column referred_on: value '12/31/2024' is not a date"),
    ("R1,HH-0001,อบต.,money,2024-02-03,,done", "row 2, column status: value 'done' is not one of: referred"),
    ("R1,HH-0001,อบต.,money,2024-02-03,,resolved", "row 2, column resolved_on: is empty but status is resolved"),
    ("R1,HH-0001,อบต.,money,2024-02-03,2024-03-01,กำลังดำเนินการ",
     "row 2, column status: value 'กำลังดำเนินการ' is an open status but resolved_on is filled in"),
    ("R1,HH-9999,อบต.,money,2024-02-03,,referred",
     "row 2, column household_id: value 'HH-9999' is not a household in the store"),
])
def test_each_referral_error(store, tmp_path, row, expected):
    import_examples(store, "households")
    result = import_file(store, "referrals", write(tmp_path / "r.csv", f"{REFERRAL_HEADER}\n{row}\n"))
    assert expected in only_error(result)


@pytest.mark.parametrize("given, stored", [
    ("referred", "referred"), ("in progress", "in_progress"), ("ส่งต่อแล้ว", "referred"),
    ("ปิดโดยไม่ได้รับความช่วยเหลือ", "closed_without_help"), ("Closed Without Help", "closed_without_help"),
])
def test_referral_status_spellings(store, tmp_path, given, stored):
    import_examples(store, "households")
    result = import_file(store, "referrals", write(tmp_path / "r.csv", f"{REFERRAL_HEADER}\nR1,HH-0001,a,care,"
                                                                       f"2024-01-01,,{given}\n"))
    assert result.ok, result.errors
    assert store.scalar("SELECT status FROM referrals") == stored


def test_all_errors_of_a_file_are_reported_at_once(store, tmp_path):
    path = households_csv(
        tmp_path / "h.csv",
        good_household("H1"),
        "H2,TH300101,,2024,4,4500,5,3,2,2.5,2,0,1,0,1,0,yes,no",     # score
        "H3,ในเมือง,,2024,4,4500,2,3,2,2.5,2,0,1,0,1,0,yes,no",      # ambiguous tambon
        "H4,TH300101,,1700,-2,4500,2,3,2,2.5,2,0,1,0,1,0,maybe,no",  # year, members, welfare card
        good_household("H1"),                                       # duplicate key
    )
    result = import_file(store, "households", path)
    assert result.error_count == 6
    prefixes = [line.split(":")[0] for line in result.errors]
    assert prefixes == [
        "h.csv row 3, column capital_human", "h.csv row 4, column tambon", "h.csv row 5, column survey_year",
        "h.csv row 5, column members", "h.csv row 5, column welfare_card",
        "h.csv row 6, column household_id + survey_year",
    ]


def test_extra_columns_are_reported_and_ignored(store, tmp_path):
    path = write(tmp_path / "c.csv", "council_id,name,tambon,หมายเหตุ,contact\nC1,x,TH300101,note,someone\n")
    result = import_file(store, "councils", path)
    assert result.ok
    assert result.warnings == ["c.csv: column(s) not used and ignored: หมายเหตุ, contact"]


def test_thai_headers_with_spaces_and_english_headers_with_case(store, tmp_path):
    path = write(tmp_path / "c.csv", "Council ID, ชื่อ สภา ,Tambon,อำเภอ,ปี\nC1,x,ต.บ้านใหม่,อ.หนองบุญมาก,2560\n")
    result = import_file(store, "councils", path)
    assert result.ok, result.errors
    assert store.scalar("SELECT tambon_pcode FROM councils") == "TH302209"


# -- personal data ---------------------------------------------------------------
@pytest.mark.parametrize("kind, header", [
    ("households", "ชื่อ-สกุล"), ("households", "ชื่อ"), ("households", "นามสกุล"), ("households", "first_name"),
    ("households", "Surname"), ("households", "citizen_id"), ("households", "เลขบัตรประชาชน"),
    ("households", "เบอร์โทรศัพท์"), ("referrals", "name"), ("referrals", "id_card"), ("referrals", "ที่อยู่"),
])
def test_person_like_header_refuses_the_file_and_says_why(store, tmp_path, kind, header):
    import_examples(store, "households")
    if kind == "households":
        path = write(tmp_path / "f.csv", f"{HOUSEHOLD_HEADER},{header}\n{good_household('X1')},somebody\n")
    else:
        path = write(tmp_path / "f.csv", f"{REFERRAL_HEADER},{header}\nR1,HH-0001,a,care,2024-01-01,,referred,x\n")
    before = sha256(store.path)
    result = import_file(store, kind, path)
    error = only_error(result)
    assert result.refused_because == "personal-data"
    assert f"column '{header}' looks like" in error and "pseudonymous" in error
    assert sha256(store.path) == before


@pytest.mark.parametrize("value", ["1101700203451", "1-1017-00203-45-1", "1 1017 00203 45 1", "๑๑๐๑๗๐๐๒๐๓๔๕๑"])
def test_thirteen_digit_values_refuse_any_kind_without_echoing_them(store, tmp_path, value):
    path = write(tmp_path / "c.csv", f"council_id,name,tambon,contact\nC1,x,TH300101,none\nC2,y,TH300102,{value}\n")
    result = import_file(store, "councils", path)
    error = only_error(result)
    assert "column contact" in error and "13-digit Thai national ID" in error and "row 3" in error
    assert value not in error
    assert store.row_counts()["councils"] == 0


def test_personal_data_refusal_comes_alone_and_other_refusals_are_not_called_personal(store, tmp_path):
    path = write(tmp_path / "h.csv", "household_id,tambon,ชื่อ-สกุล\nH1,ในเมือง,นาย ก\n")
    result = import_file(store, "households", path)
    assert result.refused_because == "personal-data"
    assert result.error_count == 1 and "ชื่อ-สกุล" in result.errors[0]
    missing = import_file(store, "households", write(tmp_path / "m.csv", "household_id,tambon\nH1,ในเมือง\n"))
    assert missing.refused_because == "validation"
    assert any("required column survey_year is missing" in e for e in missing.errors)
    assert any("ambiguous" in e for e in missing.errors)  # rows are still checked


def test_thirteen_digit_household_keys_are_refused(store, tmp_path):
    path = households_csv(tmp_path / "h.csv", good_household("3300100123456"))
    assert "13-digit" in only_error(import_file(store, "households", path))


def test_organisation_name_and_place_name_columns_are_not_personal_data(store, tmp_path):
    assert import_file(store, "councils", EXAMPLES / "councils.csv").ok
    path = write(tmp_path / "h.csv", f"{HOUSEHOLD_HEADER},ชื่อหมู่บ้าน\n{good_household()},บ้านโนน\n")
    result = import_file(store, "households", path)
    assert result.ok, result.errors
    assert "ชื่อหมู่บ้าน" in result.warnings[0]


# -- atomicity, modes, dry run ------------------------------------------------------
def test_failed_import_leaves_the_store_byte_for_byte_unchanged(store, tmp_path):
    import_examples(store, "councils", "households")
    before_bytes, before_tables = sha256(store.path), snapshot(store)
    mtime = store.path.stat().st_mtime_ns
    path = households_csv(tmp_path / "h.csv", *[good_household(f"N{i}") for i in range(50)],
                          "N99,TH300101,,2024,4,4500,9,3,2,2.5,2,0,1,0,1,0,yes,no")
    result = import_file(store, "households", path)
    assert result.error_count == 1 and not result.written
    assert sha256(store.path) == before_bytes
    assert store.path.stat().st_mtime_ns == mtime
    assert not store.path.with_name(store.path.name + ".wal").exists()
    assert snapshot(store) == before_tables


def test_append_refuses_keys_already_in_the_store(store, tmp_path):
    import_examples(store, "households")
    before = sha256(store.path)
    path = households_csv(tmp_path / "h.csv", good_household("NEW"), good_household("HH-0002", year="2567"))
    error = only_error(import_file(store, "households", path))
    assert error.startswith("h.csv row 3, column household_id + survey_year: value 'HH-0002 / 2024' is already in the store")
    assert sha256(store.path) == before
    # The same household in another survey year is a new row.
    assert import_file(store, "households", households_csv(tmp_path / "h2.csv", good_household("HH-0002", year="2023"))).ok


def test_replace_mode_replaces_the_table_and_logs_it(store, tmp_path):
    import_examples(store, "households", "referrals")
    path = households_csv(tmp_path / "h.csv", good_household("HH-0001"), good_household("Z2", "ต.โพธิ์กลาง"))
    result = import_file(store, "households", path, mode="replace", imported_by="tester")
    assert result.ok and result.written
    assert sorted(store.query("SELECT household_id FROM households")["household_id"]) == ["HH-0001", "Z2"]
    assert store.row_counts()["referrals"] == 4  # referrals are kept; the orphans are reported
    assert result.warnings == ["3 referral(s) in the store point to households not in this file"]
    log = store.query("SELECT * FROM imports WHERE mode = 'replace'").iloc[0]
    assert (log["imported_by"], log["rows_accepted"], log["file_name"]) == ("tester", 2, "h.csv")
    assert "replaced the table in" in result.summary()


def test_dry_run_checks_everything_and_changes_nothing(store, tmp_path):
    import_examples(store, "councils")
    before = sha256(store.path)
    path = households_csv(tmp_path / "h.csv", good_household("A"), good_household("B", "ในเมือง"))
    bad = import_file(store, "households", path, dry_run=True)
    assert bad.error_count == 1
    good = import_file(store, "households", households_csv(tmp_path / "g.csv", good_household("A")), dry_run=True)
    assert good.ok and good.rows_accepted == 1 and not good.written
    assert "dry run, nothing written" in good.summary()
    assert sha256(store.path) == before
    assert store.row_counts()["households"] == 0


def test_both_backends_accept_good_files_and_refuse_bad_ones_unchanged(any_store, tmp_path):
    import_examples(any_store, "councils", "funds", "housing", "households", "referrals")
    before = snapshot(any_store)
    again = import_file(any_store, "households", EXAMPLES / "households.csv")
    assert again.error_count == 6 and all("is already in the store" in e for e in again.errors)
    orphan = write(tmp_path / "r.csv", f"{REFERRAL_HEADER}\nR9,NOBODY,a,care,2024-01-01,,referred\n")
    assert "not a household in the store" in only_error(import_file(any_store, "referrals", orphan))
    assert snapshot(any_store) == before
    replaced = import_file(any_store, "councils", DATA / "councils_cp874.csv", mode="replace")
    assert replaced.ok and any_store.row_counts()["councils"] == 3


def test_summary_hides_a_database_password():
    result = importer.ImportResult("funds", "welfare_funds", "f.csv", "append", False,
                                   location="postgresql://atlas:s3cret@db.example/atlas", rows_accepted=1)
    assert "s3cret" not in result.summary() and "postgresql://atlas:***@db.example/atlas" in result.summary()


def test_summary_line_of_a_good_import(store):
    result = import_file(store, "households", EXAMPLES / "households.csv")
    assert result.summary().startswith("households: 6 rows accepted, 5 tambons matched, ")
    assert result.summary().endswith(f"— appended to {store.location}")


def test_column_reference_in_docs_matches_the_code():
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    for kind in importer.KINDS:
        assert importer.reference_markdown(kind) in text, f"docs/import.md is out of date for {kind}"


# -- command line ------------------------------------------------------------------
def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "geodata", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_cli_import_ok_refused_and_dry_run(tmp_path):
    db = tmp_path / "atlas.duckdb"
    bad = households_csv(tmp_path / "bad.csv", "H1,TH300101,,2024,4,4500,5,3,2,2.5,2,0,1,0,1,0,yes,no")
    refused = cli("import", "households", bad, "--db", db)
    assert refused.returncode == 1
    assert "bad.csv row 2, column capital_human: value '5' is outside 1–4" in refused.stderr.splitlines()
    assert not db.exists()  # a refused file does not even create a store

    dry = cli("import", "households", EXAMPLES / "households.csv", "--db", db, "--dry-run")
    assert dry.returncode == 0 and "dry run" in dry.stdout and not db.exists()

    done = cli("import", "households", EXAMPLES / "households.csv", "--db", db, "--by", "ci")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("households: 6 rows accepted, 5 tambons matched")
    assert f"appended to {db}" in done.stdout

    again = cli("import", "households", EXAMPLES / "households.csv", "--db", db)
    assert again.returncode == 1 and "is already in the store" in again.stderr
    replaced = cli("import", "households", EXAMPLES / "households.csv", "--db", db, "--mode", "replace")
    assert replaced.returncode == 0 and "replaced the table in" in replaced.stdout


def test_cli_caps_the_printed_errors(tmp_path):
    rows = [f"H{i},TH300101,,2024,4,4500,5,3,2,2.5,2,0,1,0,1,0,yes,no" for i in range(120)]
    result = cli("import", "households", households_csv(tmp_path / "h.csv", *rows), "--db", tmp_path / "a.duckdb")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len([line for line in lines if "capital_human" in line]) == 50
    assert "… and 70 more problem(s) (120 in all)" in lines


def test_cli_match_writes_a_report(tmp_path):
    path = write(tmp_path / "places.csv", "ตำบล,อำเภอ\nต.ในเมือง,อ.พิมาย\nบ้านใหม่,\nในเมอง,\n")
    result = cli("match", path, "--db", tmp_path / "none.duckdb")
    assert result.returncode == 1  # not every row resolved
    assert "3 rows, 1 ok, 1 ambiguous, 1 unknown" in result.stdout
    report = pd.read_csv(tmp_path / "places-match.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(report["row"]) == ["2", "3", "4"]
    assert list(report["status"]) == ["ok", "ambiguous", "unknown"]
    assert report.at[0, "pcode"] == "TH301501" and report.at[0, "district_th"] == "พิมาย"
    assert report.at[1, "suggestions"].count("บ้านใหม่") == 3
    assert "ในเมือง" in report.at[2, "suggestions"]
    injected = write(tmp_path / "formula.csv", "ตำบล,อำเภอ\n=HYPERLINK(\"http://x\"),\n")
    cli("match", injected, "--db", tmp_path / "none.duckdb")
    cells = pd.read_csv(tmp_path / "formula-match.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert cells.at[0, "tambon_given"].startswith("'="), "a formula from the user's file is written inert"
    ok = cli("match", EXAMPLES / "households.csv", "--report", tmp_path / "r.csv", "--db", tmp_path / "none.duckdb")
    assert ok.returncode == 0 and (tmp_path / "r.csv").exists()
    assert not (tmp_path / "none.duckdb").exists()


# -- a crash mid-import ----------------------------------------------------------------
def big_households_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(3)
    codes = np.array([f"TH30{d:02d}01" for d in range(1, 33)])
    frame = pd.DataFrame({"household_id": np.char.add("B", np.arange(rows).astype(str)),
                          "tambon": rng.choice(codes, rows), "district": "", "survey_year": 2567})
    for column in HOUSEHOLD_HEADER.split(",")[4:]:
        frame[column] = "1"
    frame.to_csv(path, index=False)
    return path


def test_a_crash_while_writing_leaves_the_store_as_it_was(store, tmp_path):
    import_examples(store, "councils", "households", "referrals")
    before = snapshot(store)
    big = big_households_csv(tmp_path / "big.csv", 300_000)
    db, wal = store.path, store.path.with_name(store.path.name + ".wal")
    stamp = (db.stat().st_size, db.stat().st_mtime_ns)
    process = subprocess.Popen([sys.executable, "-m", "geodata", "import", "households", str(big), "--db", str(db)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Validation only reads; the first change to the store file (or its WAL) means the write has begun.
    while process.poll() is None and not wal.exists() and (db.stat().st_size, db.stat().st_mtime_ns) == stamp:
        time.sleep(0.001)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the import finished before it could be killed"
    assert snapshot(store) == before
    assert store.row_counts()["households"] == 6
    # The store still takes a clean import afterwards.
    assert import_file(store, "households", households_csv(tmp_path / "h.csv", good_household("AFTER"))).ok
