"""The warehouse behind one small interface.

`open_store(location)` returns a Store; layers and callbacks only call
`query`, `write` and the helpers below, so the PostgreSQL/PostGIS backend
(geodata/store_postgres.py) stands in without them knowing. SQL passed to
`query` uses `$name` parameters; every backend returns frames shaped by
`normalise_frame`.
"""
from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

import duckdb
import numpy as np
import pandas as pd

from . import boundaries, config, schema, summaries, zones


DUCKDB_CONFIG = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}


# The `province` a national store records: all of Thailand (as in `geodata boundaries --province ALL`).
NATIONAL = "ALL"


class StoreError(RuntimeError):
    pass


@dataclass
class TableWrite:
    """Rows for one table, and whether they replace the table or are appended."""

    table: str
    rows: pd.DataFrame
    mode: str = "append"  # or "replace"
    synthetic: bool = False
    # Rows matching every column = value pair are deleted first (e.g. one raster's statistics).
    delete_where: dict | None = None


@dataclass
class ImportRecord:
    kind: str
    file_name: str
    file_sha256: str
    imported_by: str = "cli"
    extra: dict = field(default_factory=dict)


class CommonReads:
    """Facts about a store that only need `query` and `scalar`: the same for every backend."""

    def session(self):
        """A block of reads that may share one connection (a no-op where connecting is cheap)."""
        return contextlib.nullcontext()

    def meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = $key", {"key": key})

    def synthetic_tables(self) -> list[str]:
        return list(self.query("SELECT table_name FROM datasets WHERE synthetic ORDER BY table_name")["table_name"])

    def row_counts(self) -> dict[str, int]:
        counts = ", ".join(f"(SELECT count(*) FROM {table}) AS {table}" for table in schema.DATA_TABLES)
        row = self.query(f"SELECT {counts}").iloc[0]
        return {table: int(row[table]) for table in schema.DATA_TABLES}

    def ensure_summaries(self) -> None:
        """Build the summary tables a store made before they existed lacks (once, in one write)."""
        present = set(self.query("SELECT table_name FROM information_schema.tables "
                                 "WHERE table_schema = current_schema()")["table_name"])
        missing = [table for table in schema.SUMMARY_TABLES if table not in present]
        if missing:
            self.write([], rebuild=missing)

    def table_checksum(self, table: str) -> str:
        """A digest of a table's content, to prove a failed import changed nothing."""
        check_table(table)
        return frame_digest(self.query(f"SELECT * FROM {table}"))


class DuckDBStore(CommonReads):
    """An embedded DuckDB file. Each call opens and closes its own connection,
    so a running dashboard never holds the lock that an import needs."""

    backend = "duckdb"

    def __init__(self, path: str | Path, province: str = config.DEFAULT_PROVINCE):
        self.path = Path(path)
        self.location = str(self.path)
        self._local = threading.local()
        if not self.path.exists():
            self._create(province)
        else:
            self.ensure_summaries()

    # -- connections -------------------------------------------------------
    @contextlib.contextmanager
    def session(self):
        """Reads inside this block share one read-only connection (per thread).

        Opening a DuckDB file costs tens of milliseconds; a page of start-up
        reads is faster on one connection. It is opened by the first read (a
        block served from caches opens none) and released as soon as the block
        ends, so that an import in another process can take the write lock.
        """
        if getattr(self._local, "in_session", False):
            yield
            return
        self._local.in_session = True
        try:
            yield
        finally:
            self._local.in_session = False
            self._release_shared()

    def _release_shared(self) -> None:
        connection, self._local.connection = getattr(self._local, "connection", None), None
        if connection is not None:
            connection.close()

    @contextlib.contextmanager
    def _reader(self):
        if getattr(self._local, "in_session", False):
            if getattr(self._local, "connection", None) is None:
                self._local.connection = self._connect(read_only=True)
            yield self._local.connection
        else:
            with self._connect(read_only=True) as con:
                yield con

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + 10
        while True:
            try:
                # No extensions are used; looking for them costs time on every open.
                return duckdb.connect(str(self.path), read_only=read_only, config=DUCKDB_CONFIG)
            except (duckdb.IOException, duckdb.ConnectionException) as error:
                # Another process is writing, or (for a write) this process is reading in
                # another thread: wait for it rather than fail.
                busy = "lock" in str(error).lower() or "different configuration" in str(error).lower()
                if not busy or time.monotonic() > deadline:
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
            con.execute("INSERT INTO meta VALUES ('province', ?), ('created_at', ?)",
                        [province or NATIONAL, _now().isoformat()])
        # Renamed only when complete, so a crash never leaves a half-made store.
        partial.rename(self.path)

    # -- reading -----------------------------------------------------------
    def query(self, sql: str, params: Mapping | None = None) -> pd.DataFrame:
        with self._reader() as con:
            result = con.execute(sql, dict(params or {}))
            kinds = [column_kind(str(column[1])) for column in result.description or []]
            return normalise_frame(result.df(), kinds)

    def scalar(self, sql: str, params: Mapping | None = None):
        with self._reader() as con:
            row = con.execute(sql, dict(params or {})).fetchone()
            return None if row is None else row[0]

    # -- writing -----------------------------------------------------------
    def write(self, writes: Iterable[TableWrite], record: ImportRecord | None = None, rebuild=()) -> None:
        """Apply every write and the import log entry in one transaction, with the summaries they
        make stale (and those named in `rebuild`)."""
        # DuckDB will not open a file for writing while this thread holds it read-only;
        # a session's next read opens the connection again.
        self._release_shared()
        self._write(list(writes), record, rebuild)

    def _write(self, writes: list[TableWrite], record: ImportRecord | None, rebuild=()) -> None:
        with self._connect(read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                apply_writes(writes, record, execute=con.execute, insert=lambda table, rows: _insert(con, table, rows),
                             rebuild=rebuild)
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


# -- backend-neutral helpers (shared with store_postgres.PostgresStore) ---------
def check_table(table: str) -> None:
    # Table names are interpolated into SQL, so only known names pass.
    if table not in schema.TABLES:
        raise StoreError(f"unknown table {table!r}")



def table_rows(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows' columns in the table's order; missing columns are an error, extra ones ignored."""
    names = schema.columns(table)
    missing = set(names) - set(rows.columns)
    if missing:
        raise StoreError(f"{table}: rows lack column(s) {', '.join(sorted(missing))}")
    return rows[names].reset_index(drop=True)


def apply_writes(writes: list[TableWrite], record: ImportRecord | None, execute, insert, rebuild=()) -> None:
    """The body of a write transaction, the same for every backend.

    `execute(sql, params)` runs SQL with `$name` parameters and returns something
    with `fetchone()`; `insert(table, rows)` bulk-inserts a frame. The caller
    owns the transaction. The summaries of the tables written (and those named
    in `rebuild`) are rebuilt last, in the same transaction.
    """
    for item in writes:
        check_table(item.table)
        if item.table in schema.SUMMARY_TABLES:
            raise StoreError(f"{item.table} is a summary: the store rebuilds it from the records")
        if item.mode == "replace":
            _empty(execute, item.table)
        elif item.mode != "append":
            raise StoreError(f"unknown write mode {item.mode!r}")
        if item.delete_where:
            unknown = set(item.delete_where) - set(schema.columns(item.table))
            if unknown:
                raise StoreError(f"{item.table}: unknown column(s) {', '.join(sorted(unknown))}")
            condition = " AND ".join(f"{column} = $where_{column}" for column in item.delete_where)
            execute(f"DELETE FROM {item.table} WHERE {condition}",
                    {f"where_{column}": value for column, value in item.delete_where.items()})
        insert(item.table, item.rows)
        _mark_dataset(execute, item)
        if record is not None:
            execute(
                "INSERT INTO imports VALUES ($id, $kind, $table, $file, $sha, $rows, $mode, $by, $at, $synthetic)",
                {
                    "id": uuid.uuid4().hex, "kind": record.kind, "table": item.table, "file": record.file_name,
                    "sha": record.file_sha256, "rows": len(item.rows), "mode": item.mode,
                    "by": record.imported_by, "at": _now(), "synthetic": item.synthetic,
                },
            )
    stale = summaries.stale({item.table for item in writes})
    for table in [*stale, *(t for t in rebuild if t not in stale)]:
        _empty(execute, table)
        execute(summaries.fill_sql(table), {})


def _empty(execute, table: str) -> None:
    # Re-creating is far cheaper than DELETE on a keyed DuckDB table (127 s vs 7 s at 1.4M rows),
    # and both backends allow it inside the transaction.
    execute(f"DROP TABLE IF EXISTS {table}", {})  # a summary a store made earlier lacks
    execute(schema.create_statement(table), {})


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    rows = table_rows(table, rows)
    if len(rows):
        con.from_df(rows).insert_into(table)


def _mark_dataset(execute, item: TableWrite) -> None:
    if item.table not in schema.DATA_TABLES:
        return
    # Appending real rows to a synthetic table leaves it synthetic: some rows still are.
    previous = execute("SELECT synthetic FROM datasets WHERE table_name = $table", {"table": item.table}).fetchone()
    synthetic = item.synthetic or (item.mode == "append" and previous is not None and previous[0])
    execute("DELETE FROM datasets WHERE table_name = $table", {"table": item.table})
    execute(
        "INSERT INTO datasets VALUES ($table, $synthetic, $at)",
        {"table": item.table, "synthetic": bool(synthetic), "at": _now()},
    )


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- one shape of result frame for every backend ---------------------------------
# SQL type name (DuckDB's or PostgreSQL's) -> kind of column.
_TYPE_KINDS = {
    "int": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "INT2", "INT4", "INT8", "OID"},
    "float": {"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8", "NUMERIC", "DECIMAL"},
    "bool": {"BOOLEAN", "BOOL"},
    "str": {"VARCHAR", "TEXT", "BPCHAR", "NAME", "CHAR", "UUID"},
    "datetime": {"DATE", "TIMESTAMP"},
    "datetimetz": {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"},
    "timedelta": {"INTERVAL"},
}
_KIND_OF_TYPE = {name: kind for kind, names in _TYPE_KINDS.items() for name in names}


def column_kind(type_name: str) -> str:
    """'int', 'float', 'bool', 'str', 'datetime', 'datetimetz', 'timedelta' or 'other'."""
    base = type_name.upper().split("(")[0].strip()
    return _KIND_OF_TYPE.get(base, "other")


def normalise_frame(frame: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    """Give a result frame the same dtypes whichever backend produced it.

    One rule per column kind, applied by every backend, so that callers never
    see which database ran the query:
    - int: int64; with any NULL, float64 with NaN (never pandas' nullable Int);
    - float (also PostgreSQL numeric / DuckDB DECIMAL): float64, NULL -> NaN;
    - bool: bool; with any NULL, object holding True/False/None;
    - str: pandas' str dtype, NULL -> NaN (also for empty results);
    - DATE and TIMESTAMP: datetime64[us], NULL -> NaT (dates at midnight);
    - TIMESTAMP WITH TIME ZONE: datetime64[us, UTC]; INTERVAL: timedelta64[us];
    - anything else (lists, geometry ...) is left as the driver gave it.
    """
    frame = frame.copy()
    for position, kind in enumerate(kinds):
        column = frame.iloc[:, position]
        frame.isetitem(position, _normalise_column(column, kind))
    return frame


def _normalise_column(column: pd.Series, kind: str) -> pd.Series:
    missing = column.isna()
    if kind == "int":
        # Straight to int64 when complete: a detour through float64 rounds values above 2**53.
        numbers = pd.to_numeric(column)
        return numbers.astype("float64") if missing.any() else numbers.astype("int64")
    if kind == "float":
        return pd.to_numeric(column).astype("float64")
    if kind == "bool":
        if not missing.any():
            return column.astype(bool)
        return column.astype(object).where(~missing, None)
    if kind == "str":
        return column.astype("str")
    if kind == "datetime":
        return pd.to_datetime(column).astype("datetime64[us]")
    if kind == "datetimetz":
        return pd.to_datetime(column, utc=True).astype("datetime64[us, UTC]")
    if kind == "timedelta":
        return pd.to_timedelta(column).astype("timedelta64[us]")
    return column


def frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a frame's rows that ignores their order.

    The frame must come from `normalise_frame`, which gives equal content equal
    dtypes on every backend. Each row is hashed, and the sorted row hashes are
    hashed again: no ORDER BY is needed, so the text collations of different
    databases cannot make equal tables differ.
    """
    row_hashes = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
    header = "\x1f".join(map(str, frame.columns)).encode()
    return hashlib.sha256(header + b"\x1e" + row_hashes.tobytes()).hexdigest()


def open_store(location: str | Path | None = None, province: str | None = config.DEFAULT_PROVINCE):
    """Open the store at a DuckDB path or a `postgresql://` URL (default `data/atlas.duckdb` or `ATLAS_DB`).

    A new DuckDB store holds the tambons and zones of `province`; `province=None` makes a
    national one (all 7,425 tambons, one zone per district) whose meta province is NATIONAL.
    """
    location = str(location or config.default_db())
    if location.startswith(("postgresql://", "postgres://")):
        # Imported here so that DuckDB-only installs never need psycopg.
        from .store_postgres import PostgresStore

        return PostgresStore(location, province)
    return DuckDBStore(location, province)
