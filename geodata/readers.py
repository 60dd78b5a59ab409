"""Read the tables people bring: CSV (UTF-8, UTF-8 with BOM, Windows-874) or XLSX.

`read_table(path)` returns every cell as a string (never a guessed number, so
`00123` and 13-digit numbers keep their digits) with the DataFrame index set to
the row number a spreadsheet user sees: the header is row 1, the first data
row is row 2.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other Office 97 files)
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = [",", ";", "\t", "|"]
# Excel and Thai word processors leave these invisible characters in cells and headers.
INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)
INVISIBLE_RE = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")
DEFAULT_MAX_IMPORT_MB = 50
# UTF-8 Thai letters are three bytes: E0, then B8 or B9, then a continuation byte.
UTF8_THAI = re.compile(rb"\xe0[\xb8\xb9][\x80-\xbf]")
# Text that no Thai writer produces: a vowel or tone mark with no Thai letter before it, or
# one Thai character wedged inside a Latin word. It is what Latin-1 text looks like when
# read as Windows-874 ("José" -> "Jos้", "Peña" -> "Pe๑a").
NOT_THAI = re.compile("(?:^|[^\u0e01-\u0e4e])[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]|[A-Za-z][\u0e00-\u0e7f][A-Za-z]",
                      re.MULTILINE)


class ReadError(ValueError):
    """The file cannot be read as a table; the message says why and what to do."""


def read_table(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Return (cells as strings indexed by spreadsheet row number, header as written)."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path.name}: file not found ({path})")
    _check_size(path)
    with path.open("rb") as handle:
        start = handle.read(8)
    if not start:
        raise ReadError(f"{path.name}: the file is empty")
    if start.startswith(OLE_MAGIC):
        raise ReadError(f"{path.name}: old Excel .xls format is not supported; save it as .xlsx or CSV")
    if start.startswith(ZIP_MAGIC) or path.suffix.lower() in SPREADSHEET_SUFFIXES:
        rows = _xlsx_rows(path)
    else:
        rows = _csv_rows(path)
    return _to_frame(path, rows)


def max_import_bytes() -> int:
    """The largest file an import reads, from ATLAS_MAX_IMPORT_MB (default 50 MB)."""
    configured = os.environ.get("ATLAS_MAX_IMPORT_MB")
    try:
        megabytes = float(configured) if configured else DEFAULT_MAX_IMPORT_MB
    except ValueError:
        raise ReadError(f"ATLAS_MAX_IMPORT_MB={configured!r} is not a number of megabytes") from None
    return int(megabytes * 1024 * 1024)


def _check_size(path: Path) -> None:
    # Decided from the file's size alone, before a byte is read: a huge upload costs nothing.
    size, limit = path.stat().st_size, max_import_bytes()
    if size > limit:
        raise ReadError(
            f"{path.name}: the file is {size / 2**20:,.0f} MB, over the import size limit of "
            f"{limit / 2**20:,.0f} MB; split it into smaller files, or raise ATLAS_MAX_IMPORT_MB"
        )


# -- CSV ---------------------------------------------------------------------
def decode_text(raw: bytes, name: str) -> tuple[str, str]:
    """Decode as UTF-8 (with or without BOM), else Windows-874 (TIS-620); refuse anything else.

    Returns (text, encoding). UTF-8 is tried strictly first: Thai UTF-8 is
    almost never valid Windows-874 by accident, while Windows-874 Thai fails
    UTF-8 on its first letter.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"  # Excel's "Unicode text" export
    if _utf16_without_bom(raw):
        raise ReadError(f"{name}: this looks like UTF-16 text without a byte-order mark; "
                        "save the file as CSV UTF-8")
    if b"\x00" in raw:
        raise ReadError(f"{name}: this looks like a binary file, not a CSV or XLSX table")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        first_bad = error.start
    try:
        text = raw.decode("cp874")
    except UnicodeDecodeError as error:
        if UTF8_THAI.search(raw):
            line = raw[:first_bad].count(b"\n") + 1
            raise ReadError(
                f"{name}: the file mixes encodings: it holds UTF-8 Thai text, but line {line} is not UTF-8 "
                f"(byte 0x{raw[first_bad]:02x} at offset {first_bad}); save the whole file again as CSV UTF-8"
            ) from None
        raise ReadError(
            f"{name}: cannot decode byte 0x{raw[error.start]:02x} at offset {error.start}; "
            "save the file as CSV UTF-8 (or Windows-874/TIS-620 Thai)"
        ) from None
    if re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f]", text[:100_000]):
        raise ReadError(f"{name}: this looks like a binary file, not a CSV or XLSX table")
    garbled = NOT_THAI.search(text)
    if garbled:
        line = text[:garbled.start()].count("\n") + 1
        raise ReadError(
            f"{name}: the file is neither UTF-8 nor Thai Windows-874 (read as Thai, line {line} becomes "
            f"'{_around(text, garbled.start())}'); it is probably Latin-1 or another encoding: save it as CSV UTF-8"
        )
    return text, "cp874"


def _utf16_without_bom(raw: bytes) -> bool:
    """UTF-16 of mostly ASCII text has a zero in every other byte."""
    sample = raw[:4096]
    if len(sample) < 8:
        return False
    zeros = max(sample[0::2].count(0), sample[1::2].count(0))
    return zeros > 0.4 * len(sample) / 2


def _around(text: str, position: int, width: int = 12) -> str:
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line_end = len(text) if line_end < 0 else line_end
    return text[max(line_start, position - width):min(line_end, position + width)].strip()


def _csv_rows(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    text, encoding = decode_text(raw, path.name)
    if INVISIBLE_RE.search(text):
        text = INVISIBLE_RE.sub("", text)
        encoding = "changed"
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ReadError(f"{path.name}: the first line (the header row) is empty")
    delimiter = max(DELIMITERS, key=first_line.count)
    # pyarrow reads big well-formed files many times faster; pandas handles the odd ones.
    data = raw.removeprefix(codecs.BOM_UTF8) if encoding == "utf-8" else text.encode("utf-8")
    try:
        return _arrow_csv(data, text, delimiter)
    except (pa.ArrowInvalid, StopIteration, csv.Error):
        return _pandas_csv(path, text, delimiter)


def _arrow_csv(data: bytes, text: str, delimiter: str) -> pd.DataFrame:
    width = len(next(csv.reader(io.StringIO(text), delimiter=delimiter)))
    names = [f"c{i}" for i in range(width)]
    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(column_names=names),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False, newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas()


def _pandas_csv(path: Path, text: str, delimiter: str) -> pd.DataFrame:
    """Short rows are padded and blank lines kept (so row numbers stay right)."""
    try:
        return pd.read_csv(
            io.StringIO(text), sep=delimiter, header=None, dtype=str, keep_default_na=False,
            skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL, engine="c",
        )
    except pd.errors.ParserError as error:
        detail = " ".join(str(error).split())  # pandas' message ends in a line break
        raise ReadError(f"{path.name}: not a well-formed CSV table ({detail})") from None
    except pd.errors.EmptyDataError:
        raise ReadError(f"{path.name}: the file is empty") from None


# -- XLSX --------------------------------------------------------------------
def _xlsx_rows(path: Path) -> list[list[str]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise ReadError(
            f"{path.name}: not a readable XLSX workbook (damaged, truncated or not a spreadsheet: {error})"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as error:
        raise ReadError(f"{path.name}: the workbook is damaged and cannot be read ({error})") from None
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """Write a spreadsheet cell the way a person reads it: 5 not 5.0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- common ------------------------------------------------------------------
def _to_frame(path: Path, rows: list[list[str]] | pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, dtype=str)
    if frame.empty:
        raise ReadError(f"{path.name}: the file is empty")
    frame = frame.fillna("").astype(str)
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    header = [cell.translate(INVISIBLE).strip() for cell in frame.iloc[0]]
    body = frame.iloc[1:]
    # Trailing blank columns and rows are what spreadsheets leave behind; they are not data.
    keep = [i for i, name in enumerate(header) if name or (body.iloc[:, i] != "").any()]
    header = [header[i] or f"column {_column_letter(i)}" for i in keep]
    body = body.iloc[:, keep]
    body = body[(body != "").any(axis=1)]
    if not any(header):
        raise ReadError(f"{path.name}: the header row (row 1) is empty")
    if body.empty:
        raise ReadError(f"{path.name}: only a header row, no data rows")
    body.columns = header
    _check_unique_header(path, header)
    return body, header


def _check_unique_header(path: Path, header: list[str]) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(header):
        if name in seen:
            raise ReadError(
                f"{path.name}: column name '{name}' appears twice (columns "
                f"{_column_letter(seen[name])} and {_column_letter(position)}); rename or remove one"
            )
        seen[name] = position


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
