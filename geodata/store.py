"""The warehouse behind one small interface.

`open_store(location)` returns a Store; layers and callbacks only call
`query`, `write` and the helpers below, so another backend (PostgreSQL) can
stand in without them knowing. SQL passed to `query` uses `$name` parameters.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

import duckdb
import pandas as pd

from . import boundaries, config, schema, zones


class StoreError(RuntimeError):
    pass


@dataclass
class TableWrite:
    """Rows for one table, and whether they replace the table or are appended."""

    table: str
    rows: pd.DataFrame
    mode: str = "append"  # or "replace"
    synthetic: bool = False


@dataclass
class ImportRecord:
    kind: str
    file_name: str
    file_sha256: str
    imported_by: str = "cli"
    extra: dict = field(default_factory=dict)


class DuckDBStore:
    """An embedded DuckDB file. Each call opens and closes its own connection,
    so a running dashboard never holds the lock that an import needs."""

    backend = "duckdb"

    def __init__(self, path: str | Path, province: str = config.DEFAULT_PROVINCE):
        self.path = Path(path)
        self.location = str(self.path)
        if not self.path.exists():
            self._create(province)

    # -- connections -------------------------------------------------------
    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + 10
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as error:
                # Another process is writing; wait for it rather than fail a page view.
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise StoreError(f"cannot open {self.path}: {error}") from error
                time.sleep(0.05)

    def _create(self, province: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tambons = boundaries.tambon_table(province)[schema.columns("tambons")]
        partial = self.path.with_name(self.path.name + ".creating")
        partial.unlink(missing_ok=True)
        with duckdb.connect(str(partial)) as con:
            for statement in schema.create_statements():
                con.execute(statement)
            _insert(con, "tambons", tambons)
            _insert(con, "zones", zones.default_zones(province))
            con.execute("INSERT INTO meta VALUES ('province', ?), ('created_at', ?)", [province, _now().isoformat()])
        # Renamed only when complete, so a crash never leaves a half-made store.
        partial.rename(self.path)

    # -- reading -----------------------------------------------------------
    def query(self, sql: str, params: Mapping | None = None) -> pd.DataFrame:
        with self._connect(read_only=True) as con:
            return con.execute(sql, dict(params or {})).df()

    def scalar(self, sql: str, params: Mapping | None = None):
        with self._connect(read_only=True) as con:
            row = con.execute(sql, dict(params or {})).fetchone()
            return None if row is None else row[0]

    # -- writing -----------------------------------------------------------
    def write(self, writes: Iterable[TableWrite], record: ImportRecord | None = None) -> None:
        """Apply every write and the import log entry in one transaction."""
        writes = list(writes)
        with self._connect(read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for item in writes:
                    _check_table(item.table)
                    if item.mode == "replace":
                        con.execute(f"DELETE FROM {item.table}")
                    elif item.mode != "append":
                        raise StoreError(f"unknown write mode {item.mode!r}")
                    _insert(con, item.table, item.rows)
                    _mark_dataset(con, item)
                    if record is not None:
                        con.execute(
                            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [
                                uuid.uuid4().hex, record.kind, item.table, record.file_name,
                                record.file_sha256, len(item.rows), item.mode, record.imported_by,
                                _now(), item.synthetic,
                            ],
                        )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # -- facts about the store --------------------------------------------
    def version(self) -> str:
        """Changes whenever the store's content may have changed (for caches)."""
        stamps = []
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            if path.exists():
                info = path.stat()
                stamps.append(f"{info.st_mtime_ns}:{info.st_size}")
        return "|".join(stamps)

    def meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = $key", {"key": key})

    def synthetic_tables(self) -> list[str]:
        return list(self.query("SELECT table_name FROM datasets WHERE synthetic ORDER BY table_name")["table_name"])

    def row_counts(self) -> dict[str, int]:
        counts = {}
        with self._connect(read_only=True) as con:
            for table in schema.DATA_TABLES:
                counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return counts

    def table_checksum(self, table: str) -> str:
        """A digest of a table's content in key order, to prove a failed import changed nothing."""
        _check_table(table)
        frame = self.query(f"SELECT * FROM {table} ORDER BY ALL")
        return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()


def _check_table(table: str) -> None:
    # Table names are interpolated into SQL, so only known names pass.
    if table not in schema.TABLES:
        raise StoreError(f"unknown table {table!r}")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    names = schema.columns(table)
    missing = set(names) - set(rows.columns)
    if missing:
        raise StoreError(f"{table}: rows lack column(s) {', '.join(sorted(missing))}")
    if len(rows):
        con.from_df(rows[names].reset_index(drop=True)).insert_into(table)


def _mark_dataset(con: duckdb.DuckDBPyConnection, item: TableWrite) -> None:
    if item.table not in schema.DATA_TABLES:
        return
    # Appending real rows to a synthetic table leaves it synthetic: some rows still are.
    previous = con.execute("SELECT synthetic FROM datasets WHERE table_name = ?", [item.table]).fetchone()
    synthetic = item.synthetic or (item.mode == "append" and previous is not None and previous[0])
    con.execute("DELETE FROM datasets WHERE table_name = ?", [item.table])
    con.execute("INSERT INTO datasets VALUES (?, ?, ?)", [item.table, synthetic, _now()])


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def open_store(location: str | Path | None = None, province: str = config.DEFAULT_PROVINCE):
    """Open the store at a DuckDB path (default `data/atlas.duckdb` or `ATLAS_DB`)."""
    location = str(location or config.default_db())
    if location.startswith(("postgresql://", "postgres://")):
        raise StoreError("the PostgreSQL backend is not available yet; use a DuckDB file path")
    return DuckDBStore(location, province)
