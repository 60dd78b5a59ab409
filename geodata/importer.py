"""Import a CSV/XLSX file of one kind (councils, funds, housing, households,
referrals) into the store, or refuse it with every problem listed.

The order matters: the whole file is read, checked and resolved first; only a
file without a single problem reaches `store.write`, once, in one transaction.
Checks are vectorised (pandas masks over whole columns) and tambon names are
resolved once per distinct (tambon, district) pair, so a 900k-row household
file is not a per-row Python loop.
"""
from __future__ import annotations

import hashlib
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import config, schema
from .readers import ReadError, read_table
from .resolve import THAI_DIGITS, TambonResolver

PROGRESS_MIN_ROWS = 50_000
ERRORS_PRINTED = 50
ERRORS_KEPT = 10_000
YEAR_RANGE = (1950, 2100)
BE_THRESHOLD = 2400  # a year above this is Buddhist Era (CE + 543)
BE_OFFSET = 543
EMPTY_MARKS = {"-", "–", "—"}  # Thai sheets often write a dash for "nothing"


# -- column specifications ---------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One import column: canonical English name, accepted headers, type and rule."""

    name: str
    type: str  # id, text, label, count, money, score, year, bool, date, choice, tambon, district
    thai: tuple[str, ...] = ()
    english: tuple[str, ...] = ()
    required: bool = False
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # stored value -> accepted spellings
    rule: str = ""

    def headers(self) -> tuple[str, ...]:
        return (self.name, *self.english, *self.thai)


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    columns: tuple[Column, ...]
    personal: bool  # rows describe people: refuse name/ID-like extra columns

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


TAMBON = Column("tambon", "tambon", ("ตำบล", "รหัสตำบล", "ชื่อตำบล", "แขวง"),
                ("subdistrict", "tambon_pcode", "tambon_code", "pcode"), required=True,
                rule="P-code in any form (TH300101, 300101, ๓๐๐๑๐๑) or name in Thai/English, with or without ต./ตำบล")
DISTRICT = Column("district", "district", ("อำเภอ", "รหัสอำเภอ", "ชื่ออำเภอ", "เขต"),
                  ("amphoe", "district_pcode", "district_code"),
                  rule="name or code (TH3001, 3001), with or without อ./อำเภอ; needed only when a tambon name is ambiguous")

REFERRAL_STATUS = (
    ("referred", ("referred", "ส่งต่อ", "ส่งต่อแล้ว", "รอดำเนินการ")),
    ("in_progress", ("in_progress", "in progress", "กำลังดำเนินการ", "อยู่ระหว่างดำเนินการ", "ระหว่างดำเนินการ")),
    ("resolved", ("resolved", "แก้ไขแล้ว", "ช่วยเหลือแล้ว", "ได้รับความช่วยเหลือแล้ว", "เสร็จสิ้น")),
    ("closed_without_help", ("closed_without_help", "closed without help", "ปิดโดยไม่ได้รับความช่วยเหลือ",
                             "ปิดเรื่องโดยไม่ได้รับความช่วยเหลือ", "ยุติโดยไม่ได้รับความช่วยเหลือ")),
)
HOUSING_STATUS = (
    ("planned", ("planned", "วางแผน", "อยู่ระหว่างวางแผน")),
    ("in_progress", ("in_progress", "in progress", "ongoing", "กำลังดำเนินการ", "อยู่ระหว่างดำเนินการ",
                     "กำลังก่อสร้าง")),
    ("completed", ("completed", "complete", "done", "เสร็จแล้ว", "แล้วเสร็จ", "เสร็จสิ้น")),
    ("cancelled", ("cancelled", "canceled", "ยกเลิก")),
)
HELP_TYPES = (
    ("money", ("money", "cash", "เงิน", "เงินช่วยเหลือ")),
    ("housing", ("housing", "ที่อยู่อาศัย", "บ้าน")),
    ("jobs", ("jobs", "job", "employment", "อาชีพ", "งาน")),
    ("health", ("health", "สุขภาพ")),
    ("education", ("education", "การศึกษา")),
    ("care", ("care", "การดูแล", "ดูแล")),
)


def _capital(part: str, *thai: str) -> Column:
    return Column(f"capital_{part}", "score", thai, required=True, rule="score 1–4 (decimals allowed)")


def _deprived(part: str, *thai: str) -> Column:
    return Column(f"deprived_{part}", "bool", thai, required=True, rule="deprived in this MPI dimension: 0/1 or yes/no")


KINDS: dict[str, Kind] = {
    "councils": Kind("councils", "councils", (
        Column("council_id", "id", ("รหัสสภา", "รหัสสภาองค์กรชุมชน"), required=True, rule="unique key"),
        Column("name", "text", ("ชื่อสภา", "ชื่อสภาองค์กรชุมชน", "ชื่อ"), ("council_name",), required=True,
               rule="name of the council"),
        TAMBON, DISTRICT,
        Column("registered_year", "year", ("ปีที่จดทะเบียน", "ปีจดทะเบียน", "ปี"), ("year",)),
        Column("member_groups", "count", ("จำนวนกลุ่มสมาชิก", "กลุ่มสมาชิก", "จำนวนองค์กรสมาชิก")),
    ), personal=False),
    "funds": Kind("funds", "welfare_funds", (
        Column("fund_id", "id", ("รหัสกองทุน",), required=True, rule="unique key"),
        Column("name", "text", ("ชื่อกองทุน", "ชื่อ"), ("fund_name",), required=True, rule="name of the fund"),
        TAMBON, DISTRICT,
        Column("founded_year", "year", ("ปีที่ก่อตั้ง", "ปีก่อตั้ง", "ปีที่จัดตั้ง", "ปี"), ("year",)),
        Column("members", "count", ("จำนวนสมาชิก", "สมาชิก")),
        Column("fund_baht", "money", ("เงินกองทุน", "เงินกองทุน (บาท)", "ยอดเงินกองทุน"), ("fund",)),
    ), personal=False),
    "housing": Kind("housing", "housing_projects", (
        Column("project_id", "id", ("รหัสโครงการ",), required=True, rule="unique key"),
        Column("name", "text", ("ชื่อโครงการ", "ชื่อ"), ("project_name",), required=True, rule="name of the project"),
        TAMBON, DISTRICT,
        Column("programme", "text", ("แผนงาน", "ประเภทโครงการ"), ("program",),
               rule="e.g. บ้านมั่นคงเมือง, บ้านมั่นคงชนบท, ริมทางรถไฟ"),
        Column("start_year", "year", ("ปีที่เริ่ม", "ปีเริ่มโครงการ", "ปี"), ("year",), required=True),
        Column("households", "count", ("จำนวนครัวเรือน", "ครัวเรือน", "ครัวเรือนที่ได้รับประโยชน์"), required=True),
        Column("budget_baht", "money", ("งบประมาณ", "งบประมาณ (บาท)"), ("budget",)),
        Column("railside", "bool", ("ริมราง", "ชุมชนริมราง", "ริมทางรถไฟ")),
        Column("status", "choice", ("สถานะ",), choices=HOUSING_STATUS),
    ), personal=False),
    "households": Kind("households", "households", (
        Column("household_id", "id", ("รหัสครัวเรือน",), required=True,
               rule="pseudonymous key; unique together with survey_year"),
        TAMBON, DISTRICT,
        Column("survey_year", "year", ("ปีที่สำรวจ", "ปีสำรวจ", "ปี"), ("year",), required=True),
        Column("members", "count", ("จำนวนสมาชิก", "สมาชิก", "จำนวนสมาชิกในครัวเรือน")),
        Column("income_month", "money", ("รายได้ต่อเดือน", "รายได้เฉลี่ยต่อเดือน", "รายได้"), ("income",),
               rule="baht per month, ≥ 0"),
        _capital("human", "ทุนมนุษย์"),
        _capital("physical", "ทุนกายภาพ"),
        _capital("financial", "ทุนการเงิน", "ทุนเศรษฐกิจ"),
        _capital("natural", "ทุนธรรมชาติ", "ทุนทรัพยากรธรรมชาติ"),
        _capital("social", "ทุนสังคม"),
        _deprived("health", "ขาดด้านสุขภาพ", "มิติสุขภาพ"),
        _deprived("living", "ขาดด้านความเป็นอยู่", "มิติความเป็นอยู่"),
        _deprived("education", "ขาดด้านการศึกษา", "มิติการศึกษา"),
        _deprived("income", "ขาดด้านรายได้", "มิติรายได้"),
        _deprived("access", "ขาดด้านการเข้าถึงบริการรัฐ", "มิติการเข้าถึงบริการรัฐ"),
        Column("welfare_card", "bool", ("บัตรสวัสดิการแห่งรัฐ", "บัตรสวัสดิการ", "ถือบัตรสวัสดิการแห่งรัฐ"),
               required=True, rule="holds the state welfare card"),
        Column("railside", "bool", ("ริมราง", "ชุมชนริมราง", "ริมทางรถไฟ"), rule="lives in a railside community"),
    ), personal=True),
    "referrals": Kind("referrals", "referrals", (
        Column("referral_id", "id", ("รหัสการส่งต่อ", "รหัสเคส"), ("case_id",), required=True, rule="unique key"),
        Column("household_id", "id", ("รหัสครัวเรือน",), required=True,
               rule="must already be in the store's households"),
        Column("agency", "text", ("หน่วยงาน", "หน่วยงานที่รับส่งต่อ", "ชื่อหน่วยงาน"), required=True),
        Column("help_type", "label", ("ประเภทความช่วยเหลือ", "ความช่วยเหลือ"), required=True, choices=HELP_TYPES,
               rule="money, housing, jobs, health, education, care (Thai accepted); other values kept as written"),
        Column("referred_on", "date", ("วันที่ส่งต่อ",), required=True),
        Column("resolved_on", "date", ("วันที่แก้ไขแล้ว", "วันที่ได้รับความช่วยเหลือ", "วันที่ปิดเรื่อง"),
               rule="empty while open; not before referred_on; required when status is resolved"),
        Column("status", "choice", ("สถานะ",), required=True, choices=REFERRAL_STATUS),
    ), personal=True),
}

TYPE_RULES = {
    "id": "text, not empty",
    "text": "text",
    "label": "text",
    "count": "whole number ≥ 0",
    "money": "number ≥ 0 (commas and บาท allowed)",
    "score": "number 1–4",
    "year": f"year {YEAR_RANGE[0]}–{YEAR_RANGE[1]} CE, or Buddhist Era (above {BE_THRESHOLD}, e.g. 2567)",
    "bool": "yes/no, true/false, 1/0, y/n, ใช่/ไม่ใช่, มี/ไม่มี, เป็น/ไม่เป็น",
    "date": "YYYY-MM-DD or day/month/year (CE or BE), or 23 พ.ค. 2567",
    "choice": "one of the listed values (English or Thai)",
    "tambon": "tambon",
    "district": "district",
}

BOOL_WORDS = {
    **dict.fromkeys(["yes", "y", "true", "t", "1", "ใช่", "มี", "เป็น", "x", "✓"], True),
    **dict.fromkeys(["no", "n", "false", "f", "0", "ไม่ใช่", "ไม่มี", "ไม่เป็น"], False),
}
TRUE_WORDS = [word for word, flag in BOOL_WORDS.items() if flag]
FALSE_WORDS = [word for word, flag in BOOL_WORDS.items() if not flag]
THAI_MONTHS = {
    **{m: i for i, m in enumerate(["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
                                     "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"], start=1)},
    **{m: i for i, m in enumerate(["มค", "กพ", "มีค", "เมย", "พค", "มิย", "กค", "สค", "กย", "ตค", "พย", "ธค"], start=1)},
}
DATE_PATTERNS = [
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T][\d:.]+)?$",
    r"^(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})$",
    r"^(?P<d>\d{1,2})\s*(?P<mon>[\u0e01-\u0e4e.]+?)\s*(?P<y>\d{4})$",
]

# Headers that point at a person in files about people (PDPA): refused with the reason.
PII_HEADER_PARTS = {
    "a person's name": ("ชื่อ", "สกุล", "name", "surname"),
    "a national ID or card number": ("บัตรประชาชน", "เลขประจำตัวประชาชน", "เลขบัตร", "citizen", "nationalid",
                                     "idcard", "idnumber", "passport"),
    "a phone number": ("โทรศัพท์", "เบอร์", "phone", "mobile"),
    "an address": ("ที่อยู่", "บ้านเลขที่", "address", "email"),
    "a birth date": ("วันเกิด", "birth"),
}
PII_HEADER_EXACT = {"cid": "a national ID or card number", "pid": "a national ID or card number",
                    "nid": "a national ID or card number", "dob": "a birth date", "tel": "a phone number"}
PLACE_WORDS = ("หมู่บ้าน", "ชุมชน", "ตำบล", "อำเภอ", "จังหวัด", "หน่วยงาน", "โครงการ", "กองทุน",
               "village", "community", "province", "agency", "project", "fund")
NATIONAL_ID = re.compile(r"[0-9๐-๙]{13}")


def header_key(text: str) -> str:
    """Compare headers without case, spaces or punctuation (Thai marks are kept)."""
    text = str(text).replace("\ufeff", "").replace("\u200b", "").lower()
    return re.sub(r"[\s_\-.()\[\]/:#,'\"*]+", "", text)


def _header_map(kind: Kind) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in kind.columns:
        for header in column.headers():
            key = header_key(header)
            if mapping.setdefault(key, column.name) != column.name:
                raise AssertionError(f"{kind.name}: header {header!r} names two columns")
    return mapping


HEADER_MAPS = {name: _header_map(kind) for name, kind in KINDS.items()}


# -- problems ------------------------------------------------------------------
class Problems:
    """Every problem found in a file, kept as frames so a bad 900k-row file stays cheap."""

    def __init__(self, file_name: str):
        self.file_name = file_name
        self.parts: list[pd.DataFrame] = []

    def add(self, rows, column: str | None, values, message) -> None:
        rows = np.asarray(rows)
        if len(rows) == 0:
            return
        self.parts.append(pd.DataFrame({
            "row": rows, "column": column,
            "value": values if values is not None else None,
            "message": message,
        }))

    def add_file(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.add([row if row is not None else 0], column, None, message)

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row", "column", "value", "message"])
        return pd.concat(self.parts, ignore_index=True).sort_values("row", kind="stable")

    def lines(self, limit: int = ERRORS_KEPT) -> list[str]:
        frame = self.frame().head(limit)
        return [format_problem(self.file_name, r, c, v, m)
                for r, c, v, m in zip(frame["row"], frame["column"], frame["value"], frame["message"])]


def format_problem(file_name: str, row, column, value, message: str) -> str:
    """'households.csv row 7, column capital_human: value '5' is outside 1–4'."""
    where = file_name
    if row:
        where += f" row {int(row)}"
    if isinstance(column, str) and column:
        where += f", column {column}"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"{where}: {message}"
    return f"{where}: value '{value}' {message}"


# -- result ------------------------------------------------------------------
@dataclass
class ImportResult:
    kind: str
    table: str
    file: str
    mode: str
    dry_run: bool
    location: str = ""
    rows_read: int = 0
    rows_accepted: int = 0
    tambons_matched: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the first ERRORS_KEPT, formatted
    error_count: int = 0
    refused_because: str = ""  # read, personal-data, validation, store
    written: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> str:
        took = f"{self.seconds:.1f} s"
        if not self.ok:
            return (f"{self.kind}: refused / ไม่นำเข้า — {self.error_count:,} problem(s) in {self.file}, "
                    f"nothing written, {took}")
        matched = f", {self.tambons_matched:,} tambons matched" if self.kind != "referrals" else ""
        head = f"{self.kind}: {self.rows_accepted:,} rows accepted{matched}, {took}"
        if self.dry_run:
            return f"{head} — dry run, nothing written"
        verb = "appended to" if self.mode == "append" else "replaced the table in"
        return f"{head} — {verb} {_without_password(self.location)}"


def _without_password(location: str) -> str:
    """A PostgreSQL URL may carry a password; it has no place in a summary line or log."""
    return re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", location)


# -- the import ----------------------------------------------------------------
def import_file(store, kind: str, path: str | Path, mode: str = "append", dry_run: bool = False,
                imported_by: str = "cli", progress: bool = False) -> ImportResult:
    """Check a file completely, then write it in one transaction, or refuse it.

    `store` may be None (no store yet): the file is then checked against an
    empty store of the default province and never written.
    """
    result, rows = check_file(store, kind, path, mode, progress)
    result.dry_run = dry_run or store is None
    if result.ok and not result.dry_run:
        write_checked(store, result, rows, path, imported_by)
    return result


def check_file(store, kind: str, path: str | Path, mode: str = "append",
               progress: bool = False) -> tuple[ImportResult, pd.DataFrame | None]:
    """Every check of an import, nothing written: (result, rows ready for the store or None)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if mode not in ("append", "replace"):
        raise ValueError(f"unknown mode {mode!r}; expected append or replace")
    started = time.perf_counter()
    spec = KINDS[kind]
    path = Path(path)
    result = ImportResult(kind, spec.table, path.name, mode, dry_run=True, location=getattr(store, "location", ""))
    problems = Problems(path.name)
    try:
        frame, header = read_table(path)
    except ReadError as error:
        problems.add_file(str(error).removeprefix(f"{path.name}: "))
        return _finish(result, problems, "read", started), None
    result.rows_read = len(frame)
    with _ProgressBar(kind, len(frame), progress) as bar:
        rows, matched = _check(store, spec, frame, header, mode, problems, result, bar)
    if len(problems):
        return _finish(result, problems, result.refused_because or "validation", started), None
    result.rows_accepted = len(rows)
    result.tambons_matched = matched
    return _finish(result, problems, "", started), rows


def write_checked(store, result: ImportResult, rows: pd.DataFrame, path: str | Path, imported_by: str = "cli") -> None:
    """Write rows that `check_file` accepted: one store.write call, one transaction."""
    from .store import ImportRecord, TableWrite

    started = time.perf_counter() - result.seconds
    path = Path(path)
    record = ImportRecord(kind=result.kind, file_name=path.name, file_sha256=file_sha256(path),
                          imported_by=imported_by)
    try:
        store.write([TableWrite(result.table, rows, mode=result.mode)], record)
    except Exception as error:  # the transaction was rolled back: report it, nothing changed
        problems = Problems(path.name)
        problems.add_file(f"the store refused the write and nothing was changed: {error}")
        _finish(result, problems, "store", started)
        return
    result.written = True
    result.dry_run = False
    result.location = store.location
    result.seconds = time.perf_counter() - started


def _check(store, spec: Kind, frame: pd.DataFrame, header: list[str], mode: str, problems: Problems,
           result: ImportResult, bar) -> tuple[pd.DataFrame | None, int]:
    """All checks of one file; returns (rows ready for the store, tambons matched)."""
    columns = _map_columns(spec, header, problems, result)
    personal = Problems(problems.file_name)
    _refuse_personal_data(spec, frame, header, columns, personal)
    bar.update(1)
    if len(personal):
        # Stop here: later messages would echo the personal data back into logs.
        problems.parts = personal.parts
        result.refused_because = "personal-data"
        return None, 0
    cells = {name: _blank_dashes(frame[header_name]) for name, header_name in columns.items()}
    labels = {name: (name if header_name == name else f"{header_name} ({name})")
              for name, header_name in columns.items()}
    parsed: dict[str, pd.Series] = {}
    for column in spec.columns:
        if column.name in cells and column.type not in ("tambon", "district"):
            parsed[column.name] = _parse(column, cells[column.name], labels[column.name], problems)
        bar.update(1)
    pcodes = _resolve_tambons(store, cells, labels, problems)
    bar.update(1)
    keys = _keys(spec, parsed)
    _check_rows(spec, parsed, keys, cells, labels, problems)
    _check_store(store, spec, parsed, keys, labels, mode, problems, result)
    bar.update(1)
    if len(problems):
        return None, 0
    rows = _rows_for_store(spec, frame.index, parsed, pcodes)
    return rows, int(pcodes.nunique())


def _map_columns(spec: Kind, header: list[str], problems: Problems, result: ImportResult) -> dict[str, str]:
    """Canonical name -> header in the file; missing required columns and extras are reported."""
    mapping = HEADER_MAPS[spec.name]
    columns: dict[str, str] = {}
    for name in header:
        canonical = mapping.get(header_key(name))
        if canonical is None:
            continue
        if canonical in columns:
            problems.add_file(f"columns '{columns[canonical]}' and '{name}' both give {canonical}; keep one", row=1)
            continue
        columns[canonical] = name
    for column in spec.columns:
        if column.required and column.name not in columns:
            accepted = ", ".join(f"'{h}'" for h in column.headers())
            problems.add_file(f"required column {column.name} is missing (accepted headers: {accepted})", row=1)
    extras = [name for name in header if header_key(name) not in mapping]
    if extras:
        result.warnings.append(f"{result.file}: column(s) not used and ignored: {', '.join(extras)}")
    return columns


def _refuse_personal_data(spec: Kind, frame: pd.DataFrame, header: list[str], columns: dict[str, str],
                          problems: Problems) -> None:
    known = set(columns.values())
    if spec.personal:
        for name in header:
            reason = None if name in known else pii_header_reason(name)
            if reason:
                problems.add_file(
                    f"refused: column '{name}' looks like {reason}; {spec.name} must be pseudonymous "
                    "(no names or ID numbers, PDPA). Remove the column and import again.", row=1, column=name)
    for name in header:
        count, first_row = national_id_cells(frame[name])
        if count:
            problems.add_file(
                f"refused: {count:,} value(s) look like 13-digit Thai national ID numbers (first at row "
                f"{first_row}); national IDs must never be imported (PDPA). Remove them or use pseudonymous keys.",
                column=name)


def pii_header_reason(name: str) -> str | None:
    """Why a header looks like personal data, or None."""
    key = header_key(name)
    if any(place in key for place in PLACE_WORDS):
        return None  # "ชื่อหมู่บ้าน", "village name": the name of a place, not a person
    if key in PII_HEADER_EXACT:
        return PII_HEADER_EXACT[key]
    for reason, parts in PII_HEADER_PARTS.items():
        if any(part in key for part in parts):
            return reason
    return None


def national_id_cells(values: pd.Series) -> tuple[int, int | None]:
    """How many cells hold a 13-digit number (dashes/spaces allowed), and the first row."""
    lengths = values.str.len()
    candidates = values[(lengths >= 13) & (lengths <= 17)]
    if candidates.empty:
        return 0, None
    digits = candidates.str.replace(r"[\s\-]", "", regex=True)
    hits = digits[digits.str.fullmatch(NATIONAL_ID.pattern)]
    return len(hits), (int(hits.index[0]) if len(hits) else None)


def _blank_dashes(values: pd.Series) -> pd.Series:
    return values.mask(values.isin(EMPTY_MARKS), "")


# -- parsing one column --------------------------------------------------------
def _parse(column: Column, values: pd.Series, label: str, problems: Problems) -> pd.Series:
    present = values != ""
    if column.required:
        missing = values.index[~present]
        problems.add(missing, label, None, "is empty; a value is required")
    parser = PARSERS[column.type]
    parsed, bad, message = parser(column, values, present)
    if bad is not None and bad.any():
        problems.add(values.index[bad], label, values[bad].to_numpy(), message)
    return parsed


def _as_text(column: Column, values: pd.Series, present: pd.Series):
    return values.where(present, None), None, ""


def _as_label(column: Column, values: pd.Series, present: pd.Series):
    """Known spellings become the English value; anything else is kept as written."""
    mapped = _choice_keys(values).map(_choice_lookup(column))
    return mapped.fillna(values).where(present, None), None, ""


def _as_choice(column: Column, values: pd.Series, present: pd.Series):
    mapped = _choice_keys(values).map(_choice_lookup(column)).where(present, None)
    bad = present & mapped.isna()
    allowed = "; ".join(f"{value} ({', '.join(s for s in spellings if s != value)})" for value, spellings in column.choices)
    return mapped, bad.to_numpy(), f"is not one of: {allowed}"


def _choice_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(text).lower())


def _choice_keys(values: pd.Series) -> pd.Series:
    return values.str.lower().str.replace(r"[\s_\-]+", "", regex=True)


def _choice_lookup(column: Column) -> dict[str, str]:
    return {_choice_key(s): value for value, spellings in column.choices for s in (value, *spellings)}


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers as float (NaN where empty or unreadable); Thai digits, commas and บาท allowed."""
    present = values.where(values != "", None)
    try:
        # Fast path for clean columns: one Arrow cast, no per-cell Python.
        cast = pc.cast(pa.array(present, type=pa.string(), from_pandas=True), pa.float64())
        return pd.Series(cast.to_numpy(zero_copy_only=False), index=values.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    if present.str.contains("[๐-๙]", regex=True).any():
        present = present.str.translate(THAI_DIGITS)
    cleaned = present.str.replace(r"[, \t]|บาท|฿", "", regex=True)
    return pd.to_numeric(cleaned, errors="coerce").astype("float64")


def _as_count(column: Column, values: pd.Series, present: pd.Series):
    numbers = _numbers(values)
    bad = present & ~((numbers >= 0) & (numbers % 1 == 0))
    return numbers.where(~bad).astype("Int64"), bad.to_numpy(), "is not a whole number ≥ 0"


def _as_money(column: Column, values: pd.Series, present: pd.Series):
    numbers = _numbers(values)
    bad = present & ~(numbers >= 0)
    return numbers.where(~bad).astype("Float64"), bad.to_numpy(), "is not an amount ≥ 0"


def _as_score(column: Column, values: pd.Series, present: pd.Series):
    numbers = _numbers(values)
    bad = present & ~numbers.between(1, 4)
    return numbers.where(~bad).astype("Float64"), bad.to_numpy(), "is outside 1–4"


def _as_year(column: Column, values: pd.Series, present: pd.Series):
    numbers = _numbers(values)
    years = numbers.where(numbers <= BE_THRESHOLD, numbers - BE_OFFSET)
    bad = present & ~(years.between(*YEAR_RANGE) & (years % 1 == 0))
    message = (f"is not a plausible year ({YEAR_RANGE[0]}–{YEAR_RANGE[1]} CE, "
               f"or {YEAR_RANGE[0] + BE_OFFSET}–{YEAR_RANGE[1] + BE_OFFSET} BE)")
    return years.where(~bad).astype("Int64"), bad.to_numpy(), message


def _as_bool(column: Column, values: pd.Series, present: pd.Series):
    words = values.str.lower()
    if words.str.contains("[๐-๙]", regex=True).any():
        words = words.str.translate(THAI_DIGITS)
    yes = words.isin(TRUE_WORDS).to_numpy()
    no = words.isin(FALSE_WORDS).to_numpy()
    flags = pd.array(np.where(yes | no, yes, False), dtype="boolean")
    flags[~(yes | no)] = pd.NA
    bad = present.to_numpy() & ~(yes | no)
    return pd.Series(flags, index=values.index), bad, "is not yes/no (yes/no, true/false, 1/0, ใช่/ไม่ใช่, มี/ไม่มี)"


def _as_date(column: Column, values: pd.Series, present: pd.Series):
    dates = parse_dates(values)
    years = dates.dt.year
    bad = present & ~years.between(*YEAR_RANGE)
    return dates.where(~bad), bad.to_numpy(), "is not a date (YYYY-MM-DD or day/month/year, CE or BE)"


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO, day/month/year and '23 พ.ค. 2567' dates; BE years become CE. Unreadable -> NaT."""
    if values.str.contains("[๐-๙]", regex=True).any():
        values = values.str.translate(THAI_DIGITS)
    parts = pd.DataFrame(index=values.index, columns=["y", "m", "d"], dtype=object)
    for pattern in DATE_PATTERNS:
        found = values.str.extract(pattern)
        if "mon" in found:
            found["m"] = found["mon"].str.replace(".", "", regex=False).map(THAI_MONTHS)
        take = parts["y"].isna() & found["y"].notna() & found["m"].notna()
        parts.loc[take, ["y", "m", "d"]] = found.loc[take, ["y", "m", "d"]].to_numpy()
    numbers = parts.apply(pd.to_numeric, errors="coerce")
    numbers["y"] = numbers["y"].where(numbers["y"] <= BE_THRESHOLD, numbers["y"] - BE_OFFSET)
    numbers = numbers.rename(columns={"y": "year", "m": "month", "d": "day"})
    return pd.to_datetime(numbers[["year", "month", "day"]], errors="coerce")


PARSERS = {
    "id": _as_text, "text": _as_text, "label": _as_label, "choice": _as_choice, "count": _as_count,
    "money": _as_money, "score": _as_score, "year": _as_year, "bool": _as_bool, "date": _as_date,
}


# -- tambons, rows, keys, store ------------------------------------------------
def _resolve_tambons(store, cells: dict[str, pd.Series], labels: dict[str, str], problems: Problems) -> pd.Series:
    if "tambon" not in cells:
        return pd.Series(dtype=object)
    resolver = resolver_for(store)
    answers = resolver.resolve_many(cells["tambon"], cells.get("district"))
    bad = answers["status"] != "ok"
    for name in ("tambon", "district"):
        # An unknown district is the district column's fault, so that column is named.
        mask = bad & (answers["fault"] == name)
        if mask.any():
            values = cells[name][mask].to_numpy().astype(object)
            values[values == ""] = None
            problems.add(answers.index[mask], labels.get(name, name), values, "is " + answers["reason"][mask].to_numpy())
    return answers["pcode"]


def resolver_for(store) -> TambonResolver:
    """A resolver over the store's own tambons (or the default province's when there is no store)."""
    if store is None:
        return TambonResolver.for_province(config.DEFAULT_PROVINCE)
    return TambonResolver(store.query("SELECT * FROM tambons ORDER BY pcode"))


def _check_rows(spec: Kind, parsed: dict[str, pd.Series], keys: pd.Series | None, cells: dict[str, pd.Series],
                labels: dict[str, str], problems: Problems) -> None:
    """Rules across columns: key uniqueness within the file, referral dates and status."""
    if keys is not None:
        repeated = keys.duplicated(keep="first") & keys.notna()
        if repeated.any():
            first_row = pd.Series(keys.index, index=keys.index).groupby(keys).transform("first")
            key_label = " + ".join(labels[k] for k in schema.KEY_COLUMNS[spec.table])
            problems.add(keys.index[repeated], key_label, keys[repeated].to_numpy(),
                         "repeats the key of row " + first_row[repeated].astype(str).to_numpy().astype(object))
    if spec.name == "referrals" and {"referred_on", "resolved_on", "status"} <= parsed.keys():
        referred, resolved, status = parsed["referred_on"], parsed["resolved_on"], parsed["status"]
        early = resolved.notna() & referred.notna() & (resolved < referred)
        problems.add(early.index[early], labels["resolved_on"], cells["resolved_on"][early].to_numpy(),
                     f"is before {labels['referred_on']} ('" + cells["referred_on"][early].to_numpy().astype(object) + "')")
        unresolved = (status == "resolved") & resolved.isna()
        problems.add(unresolved.index[unresolved.fillna(False)], labels["resolved_on"], None,
                     "is empty but status is resolved; give the date it was resolved")
        still_open = status.isin(["referred", "in_progress"]) & resolved.notna()
        problems.add(still_open.index[still_open], labels["status"], cells["status"][still_open].to_numpy(),
                     "is an open status but resolved_on is filled in")


def _keys(spec: Kind, parsed: dict[str, pd.Series]) -> pd.Series | None:
    """The table key of every row as one string ('H001 / 2024'), NaN where a part is invalid."""
    names = schema.KEY_COLUMNS[spec.table]
    if not all(name in parsed for name in names):
        return None
    parts = [parsed[name].astype("str") for name in names]
    valid = np.logical_and.reduce([parsed[name].notna().to_numpy() for name in names])
    joined = parts[0] if len(parts) == 1 else parts[0].str.cat(parts[1:], sep=" / ")
    return joined.where(valid)


def _check_store(store, spec: Kind, parsed: dict[str, pd.Series], keys: pd.Series | None, labels: dict[str, str],
                 mode: str, problems: Problems, result: ImportResult) -> None:
    """Rules against the store: no key already stored (append), referrals' households exist."""
    names = schema.KEY_COLUMNS[spec.table]
    if mode == "append" and store is not None and keys is not None:
        existing = store.query(f"SELECT {', '.join(names)} FROM {spec.table}")
        as_text = [existing[n].astype("str") for n in names]
        existing_keys = as_text[0] if len(names) == 1 else as_text[0].str.cat(as_text[1:], sep=" / ")
        clash = keys.isin(pd.Index(existing_keys))
        problems.add(keys.index[clash], " + ".join(labels[n] for n in names), keys[clash].to_numpy(),
                     "is already in the store (append refuses duplicate keys; --mode replace replaces the table)")
    if spec.name == "referrals" and "household_id" in parsed:
        known = set() if store is None else set(store.query("SELECT DISTINCT household_id FROM households")["household_id"])
        ids = parsed["household_id"]
        unknown = ids.notna() & ~ids.isin(known)
        problems.add(ids.index[unknown], labels["household_id"], ids[unknown].to_numpy(),
                     "is not a household in the store; import the households first")
    if spec.name == "households" and mode == "replace" and store is not None and "household_id" in parsed:
        referred = store.query("SELECT household_id FROM referrals")["household_id"]
        orphans = int((~referred.isin(pd.Index(parsed["household_id"].dropna()))).sum())
        if orphans:
            result.warnings.append(f"{orphans:,} referral(s) in the store point to households not in this file")


def _rows_for_store(spec: Kind, index: pd.Index, parsed: dict[str, pd.Series], pcodes: pd.Series) -> pd.DataFrame:
    rows = pd.DataFrame(index=index)
    for name, sqltype in schema.TABLES[spec.table].items():
        if name == "tambon_pcode":
            rows[name] = pcodes.astype("str")
        elif name in parsed:
            rows[name] = parsed[name]
        else:
            rows[name] = pd.Series(None, index=rows.index, dtype=_empty_dtype(sqltype))
    return rows.reset_index(drop=True)


def _empty_dtype(sqltype: str) -> str:
    kind = sqltype.split()[0]
    return {"INTEGER": "Int64", "BIGINT": "Int64", "BOOLEAN": "boolean", "DATE": "datetime64[ns]",
            "DOUBLE": "Float64"}.get(kind, "object")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _finish(result: ImportResult, problems: Problems, reason: str, started: float) -> ImportResult:
    result.error_count = len(problems)
    result.errors = problems.lines()
    if result.error_count:
        result.refused_because = result.refused_because or reason
        result.rows_accepted = 0
        result.tambons_matched = 0
    result.seconds = time.perf_counter() - started
    return result


class _ProgressBar:
    """A tqdm bar over the import steps, shown only for big files."""

    def __init__(self, kind: str, rows: int, enabled: bool):
        from tqdm import tqdm

        steps = len(KINDS[kind].columns) + 3
        self.bar = tqdm(total=steps, desc=f"{kind} ({rows:,} rows)", unit="step", file=sys.stderr,
                        disable=not enabled or rows < PROGRESS_MIN_ROWS, leave=False)

    def __enter__(self):
        return self.bar

    def __exit__(self, *exc):
        self.bar.close()


# -- command line --------------------------------------------------------------
def run_cli(args) -> int:
    """`python -m geodata import KIND FILE [--mode] [--dry-run] [--db] [--by]`."""
    from .store import open_store

    location = args.db or config.default_db()
    is_file_store = "://" not in location
    if is_file_store and not Path(location).exists():
        # Check against an empty store first, so a refused file leaves no new store file behind.
        result, rows = check_file(None, args.kind, args.file, mode=args.mode, progress=True)
        if result.ok and not args.dry_run:
            write_checked(open_store(location), result, rows, args.file, imported_by=args.by)
    else:
        result = import_file(open_store(location), args.kind, args.file, mode=args.mode,
                             dry_run=args.dry_run, imported_by=args.by, progress=True)
    _print_result(result)
    return 0 if result.ok else 1


def _print_result(result: ImportResult) -> None:
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for line in result.errors[:ERRORS_PRINTED]:
        print(line, file=sys.stderr)
    if result.error_count > ERRORS_PRINTED:
        print(f"… and {result.error_count - ERRORS_PRINTED:,} more problem(s) "
              f"({result.error_count:,} in all)", file=sys.stderr)
    print(result.summary())


def run_match_cli(args) -> int:
    """`python -m geodata match FILE [--report R]`: resolve tambons only; exit 1 if any row fails."""
    from .store import open_store

    started = time.perf_counter()
    path = Path(args.file)
    frame, header = read_table(path)
    tambon_header, district_header = _location_headers(header)
    if tambon_header is None:
        accepted = ", ".join(f"'{h}'" for h in TAMBON.headers())
        raise ValueError(f"{path.name}: no tambon column (accepted headers: {accepted})")
    location = args.db or config.default_db()
    store = open_store(location) if "://" in location or Path(location).exists() else None
    resolver = resolver_for(store)
    districts = frame[district_header] if district_header else None
    report = resolver.report(frame[tambon_header], districts)
    out = Path(args.report) if args.report else path.with_name(f"{path.stem}-match.csv")
    from layers.privacy import neutralise_frame

    # Names come from the user's file: a cell such as =HYPERLINK(...) must stay inert in Excel.
    neutralise_frame(report).to_csv(out, index=False, encoding="utf-8-sig")  # with BOM so Excel shows Thai
    counts = report["status"].value_counts()
    matched = report.loc[report["status"] == "ok", "pcode"].nunique()
    by_status = ", ".join(f"{counts.get(s, 0):,} {s}" for s in ("ok", "ambiguous", "unknown", "conflict", "missing")
                          if counts.get(s, 0) or s == "ok")
    print(f"match: {len(report):,} rows, {by_status}, {matched:,} tambons matched, "
          f"{time.perf_counter() - started:.1f} s — report written to {out}")
    return 0 if counts.get("ok", 0) == len(report) else 1


def _location_headers(header: list[str]) -> tuple[str | None, str | None]:
    tambon_keys = {header_key(h) for h in TAMBON.headers()}
    district_keys = {header_key(h) for h in DISTRICT.headers()}
    tambon = next((h for h in header if header_key(h) in tambon_keys), None)
    district = next((h for h in header if header_key(h) in district_keys), None)
    return tambon, district


# -- documentation ---------------------------------------------------------------
def reference_markdown(kind: str) -> str:
    """The column table of one kind for docs/import.md (kept in step by a test)."""
    lines = ["| column | Thai header(s) | type | required | rule |", "| --- | --- | --- | --- | --- |"]
    for column in KINDS[kind].columns:
        thai = ", ".join(column.thai) or "—"
        also = f" (also: {', '.join(column.english)})" if column.english else ""
        rule = column.rule or TYPE_RULES[column.type]
        if column.type == "choice":
            rule = "; ".join(f"`{value}` ({', '.join(s for s in spellings if s != value)})"
                             for value, spellings in column.choices)
        lines.append(f"| `{column.name}`{also} | {thai} | {column.type} | {'yes' if column.required else 'no'} "
                     f"| {rule} |")
    return "\n".join(lines)
