"""The web import page: analysts and admins upload a CSV or XLSX file of one kind.

The file goes through geodata.importer.import_file, exactly as
`python -m geodata import KIND FILE` does, and the page shows the lines the
command would print. Protections:
- size: ATLAS_MAX_UPLOAD_MB (default 20) as Flask's MAX_CONTENT_LENGTH, so a
  bigger request is refused (413) before it is read;
- type: the name must end in .csv or .xlsx and the content must agree (an
  XLSX is a zip holding [Content_Types].xml; a CSV is not a zip, OLE or binary);
- the uploaded name is never a path: the content is saved under a random
  temporary name, and the sanitised name only appears in messages.
Admins may also replace the district → zone table here (kind "zones").
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import flask

from geodata import importer, zones
from geodata.store import ImportRecord, TableWrite

from .auth import check_csrf, csrf_token, get_auth, render_page, require_role

DEFAULT_MAX_UPLOAD_MB = 20
ALLOWED_SUFFIXES = (".csv", ".xlsx")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
ZONES_KIND = "zones"

audit = logging.getLogger("atlas.audit")


class UploadRefused(ValueError):
    """The upload is refused before import; the message says why."""


def max_upload_bytes() -> int:
    text = os.environ.get("ATLAS_MAX_UPLOAD_MB", "").strip()
    megabytes = float(text) if text else DEFAULT_MAX_UPLOAD_MB
    return int(megabytes * 1024 * 1024)


def display_name(filename: str | None) -> str:
    """The uploaded file's name for messages only: no folders, no control characters, at most 100 characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[-100:] or "upload"


def suffix_of(filename: str | None) -> str:
    suffix = Path(display_name(filename)).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRefused(f"{display_name(filename)}: only .csv and .xlsx files are accepted "
                            "/ รับเฉพาะไฟล์ .csv และ .xlsx")
    return suffix


def check_content(path: Path, suffix: str, name: str) -> None:
    """Refuse content that does not match its name's type."""
    with path.open("rb") as handle:
        start = handle.read(8192)
    if not start:
        return  # an empty file: the importer says so in its own words
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(path) as archive:
                has_types = "[Content_Types].xml" in archive.namelist()
        except zipfile.BadZipFile:
            has_types = False
        if not has_types:
            raise UploadRefused(f"{name}: this is not an Excel .xlsx workbook (no [Content_Types].xml inside); "
                                "save it again as .xlsx or CSV")
    elif start.startswith((ZIP_MAGIC, OLE_MAGIC)) or (b"\x00" in start and not start.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise UploadRefused(f"{name}: this is not a CSV text file; save it as CSV UTF-8 or .xlsx")


def cli_lines(result: importer.ImportResult) -> list[str]:
    """What `python -m geodata import` prints for this result (stderr lines, then the summary)."""
    lines = [f"warning: {warning}" for warning in result.warnings]
    lines += result.errors[:importer.ERRORS_PRINTED]
    if result.error_count > importer.ERRORS_PRINTED:
        lines.append(f"… and {result.error_count - importer.ERRORS_PRINTED:,} more problem(s) "
                     f"({result.error_count:,} in all)")
    lines.append(result.summary())
    return lines


def _saved(upload, suffix: str) -> Path:
    # A fresh random name in the temporary folder: nothing of the user's file name reaches the file system.
    handle, name = tempfile.mkstemp(prefix="atlas-upload-", suffix=suffix)
    with os.fdopen(handle, "wb") as out:
        upload.save(out)
    return Path(name)


def _rename_in(lines: list[str], saved: Path, name: str) -> list[str]:
    # Messages name the file as the user knows it, like the command line does.
    return [line.replace(str(saved), name).replace(saved.name, name) for line in lines]


def import_upload(store, kind: str, upload, mode: str, dry_run: bool, username: str) -> tuple[bool, list[str]]:
    """Check and import one uploaded file; (accepted, lines to show)."""
    name = display_name(upload.filename)
    suffix = suffix_of(upload.filename)
    saved = _saved(upload, suffix)
    try:
        check_content(saved, suffix, name)
        if kind == ZONES_KIND:
            return _import_zones(store, saved, name, dry_run, username)
        result = importer.import_file(store, kind, saved, mode=mode, dry_run=dry_run, imported_by=f"web:{username}")
        result.file = name
        audit.info("web import by %s: %s %s, %s rows, %s", username, kind, name, result.rows_accepted,
                   "written" if result.written else ("dry run" if result.ok else "refused"))
        return result.ok, _rename_in(cli_lines(result), saved, name)
    finally:
        saved.unlink(missing_ok=True)


def _import_zones(store, saved: Path, name: str, dry_run: bool, username: str) -> tuple[bool, list[str]]:
    if saved.suffix != ".csv":
        raise UploadRefused(f"{name}: the zone table is a CSV file (pcode, zone, zone_name_th, zone_name_en)")
    try:
        table = zones.read_zones(saved)
    except zones.ZoneFileError as error:
        return False, _rename_in([f"zones: refused / ไม่นำเข้า — {error}"], saved, name)
    if not dry_run:
        record = ImportRecord(kind=ZONES_KIND, file_name=name, file_sha256=importer.file_sha256(saved),
                              imported_by=f"web:{username}")
        store.write([TableWrite("zones", table, mode="replace")], record)
        audit.info("zones replaced by %s from %s", username, name)
    done = "dry run, nothing written" if dry_run else "replaced the zone table"
    return True, [f"zones: {len(table)} districts in {table['zone'].nunique()} zones — {done}"]


UPLOAD_BODY = """{% if lines %}<h2>{{ 'นำเข้าแล้ว / accepted' if accepted else 'ไม่นำเข้า / refused' }}</h2>
<pre id="import-output">{{ lines|join('\n') }}</pre>{% endif %}
<form method="post" enctype="multipart/form-data">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<label>ชนิดข้อมูล / Kind <select name="kind">{% for kind in kinds %}<option{% if kind == chosen %} selected{% endif %}>{{ kind }}</option>{% endfor %}</select></label>
<label>วิธีนำเข้า / Mode <select name="mode"><option value="append">เพิ่มต่อท้าย / append</option>
<option value="replace">แทนที่ทั้งตาราง / replace the table</option></select></label>
<label><input type="checkbox" name="dry_run" value="1"> ตรวจอย่างเดียว ไม่บันทึก / check only (dry run)</label>
<label>ไฟล์ .csv หรือ .xlsx ไม่เกิน {{ max_mb }} MB / A .csv or .xlsx file of at most {{ max_mb }} MB
<input type="file" name="file" accept=".csv,.xlsx" required></label>
<button type="submit">นำเข้า / Import</button></form>
<p>คอลัมน์ของแต่ละชนิดอยู่ใน docs/import.md / The columns of each kind are listed in docs/import.md.</p>"""


def upload_page():
    user = require_role("analyst", "admin")
    store = get_auth().store
    kinds = list(importer.KINDS) + ([ZONES_KIND] if user.is_admin else [])
    lines, accepted, status, chosen = [], False, 200, flask.request.form.get("kind", kinds[0])
    if flask.request.method == "POST":
        check_csrf()
        upload = flask.request.files.get("file")
        mode = flask.request.form.get("mode", "append")
        try:
            if chosen not in kinds:
                raise UploadRefused(f"unknown kind {chosen!r}; expected one of {', '.join(kinds)}")
            if mode not in ("append", "replace"):
                raise UploadRefused(f"unknown mode {mode!r}; expected append or replace")
            if upload is None or not upload.filename:
                raise UploadRefused("no file was chosen / ยังไม่ได้เลือกไฟล์")
            accepted, lines = import_upload(store, chosen, upload, mode, bool(flask.request.form.get("dry_run")),
                                            user.username)
        except UploadRefused as error:
            lines = [str(error)]
        status = 200 if accepted else 400
    return render_page("นำเข้าข้อมูล / Import data", UPLOAD_BODY, status, lines=lines, accepted=accepted,
                       kinds=kinds, chosen=chosen, csrf=csrf_token(), max_mb=f"{max_upload_bytes() / 2**20:g}")


def too_large(error):
    limit = f"{max_upload_bytes() / 2**20:g}"
    return render_page("ไฟล์ใหญ่เกินไป / File too large", f"<p class='error'>ไฟล์ใหญ่เกิน {limit} MB / "
                       f"the file is larger than {limit} MB (ATLAS_MAX_UPLOAD_MB).</p>", 413)


def init_app(app, atlas) -> None:
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = max_upload_bytes()
    server.add_url_rule("/upload", "atlas_upload", upload_page, methods=["GET", "POST"])
    server.register_error_handler(413, too_large)
