"""The warehouse in PostgreSQL with PostGIS, for teams sharing one server.

`open_store("postgresql://user:password@host:port/database")` returns a
PostgresStore with the same methods as the DuckDB store, so layers and
callbacks do not know which backend runs:

- SQL keeps DuckDB's `$name` parameters; they are turned into psycopg's
  `%(name)s` here and bound client-side, so untyped values (`$year IS NULL`)
  work as they do in DuckDB.
- Result frames pass through the same `normalise_frame` as DuckDB's, so both
  give the same dtypes; PostgreSQL `numeric` (avg, sum of bigint) arrives as float.
- Writes run in one transaction and load rows with COPY (CSV text built by
  pandas, no per-row Python).
- The first open of an empty database creates, in one transaction, the
  tables of geodata/schema.py, the PostGIS extension and a `boundaries`
  table holding the province's tambon, district and province polygons.

Creating the extension needs a role allowed to (a superuser, or a database
where an administrator ran `CREATE EXTENSION postgis` beforehand).
Each call opens and closes its own connection, like the DuckDB store.
"""
from __future__ import annotations

import re
import uuid
from typing import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import psycopg
import shapely
from psycopg.types.numeric import FloatLoader

from . import boundaries, config, schema, zones
from .store import (
    CommonReads,
    ImportRecord,
    StoreError,
    TableWrite,
    _now,
    apply_writes,
    column_kind,
    normalise_frame,
    table_rows,
)

# Any constant: every process creating the schema takes this lock, so two
# dashboard workers opening a fresh database cannot both create it.
_CREATE_LOCK = 3_000_289
# COPY text is produced in slices so a 900k-row import does not double its memory at once.
_COPY_CHUNK_ROWS = 100_000
# COPY's NULL marker: unlike an empty field, it leaves empty strings as empty strings.
_NULL = r"\N"
BOUNDARY_LEVELS = ("tambon", "district", "province")
_BOUNDARIES_TABLE = """CREATE TABLE IF NOT EXISTS boundaries (
    pcode VARCHAR PRIMARY KEY,
    level VARCHAR NOT NULL,
    name_th VARCHAR,
    name_en VARCHAR,
    parent_pcode VARCHAR,
    geometry geometry(MultiPolygon, 4326) NOT NULL
)"""


class PostgresStore(CommonReads):
    """A PostgreSQL/PostGIS database reached by URL."""

    backend = "postgresql"

    def __init__(self, url: str, province: str = config.DEFAULT_PROVINCE):
        self.url = url
        self.location = url
        self._ensure_created(province)

    def __repr__(self) -> str:
        return f"PostgresStore({_without_password(self.url)!r})"

    # -- connections -------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.url, autocommit=True, cursor_factory=psycopg.ClientCursor)
        except psycopg.OperationalError as error:
            raise StoreError(f"cannot connect to {_without_password(self.url)}: {error}") from error
        # avg() and sum(bigint) return numeric: floats, as DuckDB gives, not Decimals.
        conn.adapters.register_loader("numeric", FloatLoader)
        return conn

    def _ensure_created(self, province: str) -> None:
        with self._connect() as conn:
            if _has_schema(conn):
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [_CREATE_LOCK])
                if _has_schema(conn):  # made by another process while we waited
                    return
                _create(conn, province)

    # -- reading -----------------------------------------------------------
    def query(self, sql: str, params: Mapping | None = None) -> pd.DataFrame:
        with self._connect() as conn:
            cursor = conn.execute(to_psycopg(sql), dict(params or {}))
            return _result_frame(conn, cursor)

    def scalar(self, sql: str, params: Mapping | None = None):
        with self._connect() as conn:
            row = conn.execute(to_psycopg(sql), dict(params or {})).fetchone()
            return None if row is None else row[0]

    # -- writing -----------------------------------------------------------
    def write(self, writes: Iterable[TableWrite], record: ImportRecord | None = None) -> None:
        """Apply every write and the import log entry in one transaction."""
        writes = list(writes)
        with self._connect() as conn, conn.transaction():
            cursor = conn.cursor()

            def execute(sql: str, params: Mapping):
                return cursor.execute(to_psycopg(sql), dict(params))

            apply_writes(writes, record, execute=execute, insert=lambda table, rows: _copy_rows(cursor, table, rows))
            # A stamp for version(): PostgreSQL has no file whose mtime would tell.
            execute(
                "INSERT INTO meta VALUES ('written_at', $stamp) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {"stamp": f"{_now().isoformat()} {uuid.uuid4().hex}"},
            )

    # -- facts about the store --------------------------------------------
    def version(self) -> str:
        """Changes whenever the store's content may have changed (for caches)."""
        stamps = self.query("SELECT value FROM meta WHERE key IN ('created_at', 'written_at') ORDER BY key")
        return "|".join(stamps["value"])


# -- parameters ----------------------------------------------------------------
_SQL_TOKEN = re.compile(
    r"""(?P<literal>'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\$\$.*?\$\$|\$(?P<tag>[A-Za-z_]\w*)\$.*?\$(?P=tag)\$)"""
    r"""|\$(?P<param>[A-Za-z_]\w*)"""
    r"""|%""",
    re.DOTALL,
)


def to_psycopg(sql: str) -> str:
    """DuckDB-style `$name` parameters -> psycopg's `%(name)s`.

    Quoted strings, quoted identifiers, comments and dollar-quoted bodies are
    left alone, except that every literal `%` becomes `%%` (psycopg reads `%`
    everywhere in a query that has parameters). `::` casts need nothing.
    """

    def replace(match: re.Match) -> str:
        if match.group("param"):
            return f"%({match.group('param')})s"
        return match.group(0).replace("%", "%%")

    return _SQL_TOKEN.sub(replace, sql)


# -- results -------------------------------------------------------------------
def _result_frame(conn: psycopg.Connection, cursor: psycopg.Cursor) -> pd.DataFrame:
    if cursor.description is None:  # a statement without a result set
        return pd.DataFrame()
    names = [column.name for column in cursor.description]
    kinds = [column_kind(_type_name(conn, column.type_code)) for column in cursor.description]
    rows = cursor.fetchall()
    return normalise_frame(pd.DataFrame(rows, columns=names), kinds)


def _type_name(conn: psycopg.Connection, oid: int) -> str:
    info = conn.adapters.types.get(oid)
    return info.name if info is not None else ""


# -- writing -------------------------------------------------------------------
def _copy_rows(cursor: psycopg.Cursor, table: str, rows: pd.DataFrame) -> None:
    rows = _copy_ready(table, table_rows(table, rows))
    if rows.empty:
        return
    _copy_frame(cursor, table, rows)


def _copy_frame(cursor: psycopg.Cursor, table: str, frame: pd.DataFrame) -> None:
    statement = f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv, NULL '{_NULL}')"
    with cursor.copy(statement) as copy:
        for start in range(0, len(frame), _COPY_CHUNK_ROWS):
            chunk = frame.iloc[start:start + _COPY_CHUNK_ROWS]
            copy.write(chunk.to_csv(index=False, header=False, na_rep=_NULL, lineterminator="\n"))


def _copy_ready(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Give columns the text form PostgreSQL's COPY reads as DuckDB's insert would.

    Whole numbers held as floats (because of NaN) would print as `2010.0`, which
    an INTEGER column refuses; numeric flags would print as `1.0`.
    """
    rows = rows.copy()
    for name, sqltype in schema.TABLES[table].items():
        column = rows[name]
        base = sqltype.split()[0]
        if base in ("INTEGER", "BIGINT") and pd.api.types.is_float_dtype(column):
            rows[name] = column.astype("Int64")  # refuses fractions rather than rounding them
        elif base == "BOOLEAN" and pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            rows[name] = column.astype("boolean")
        elif isinstance(column.dtype, pd.DatetimeTZDtype):
            rows[name] = column.dt.tz_convert("UTC").dt.tz_localize(None)
    return rows


# -- creating a store ----------------------------------------------------------
def _has_schema(conn: psycopg.Connection) -> bool:
    # A query on pg_tables, not to_regclass(): to_regclass may answer from the
    # session's catalog cache, stale while we waited for another creator's lock.
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'meta')"
    ).fetchone()[0]


def _create(conn: psycopg.Connection, province: str) -> None:
    """Tables, PostGIS, boundaries, tambons and default zones: the caller's transaction makes it all-or-nothing."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for statement in schema.create_statements():
        conn.execute(statement)
    conn.execute(_BOUNDARIES_TABLE)
    conn.execute("CREATE INDEX IF NOT EXISTS boundaries_geometry ON boundaries USING gist (geometry)")
    cursor = conn.cursor()
    _copy_frame(cursor, "boundaries", boundary_rows(province))
    _copy_rows(cursor, "tambons", boundaries.tambon_table(province)[schema.columns("tambons")])
    _copy_rows(cursor, "zones", zones.default_zones(province))
    conn.execute(
        "INSERT INTO meta VALUES ('province', %s), ('created_at', %s)", [province, _now().isoformat()]
    )


def boundary_rows(province: str) -> pd.DataFrame:
    """Tambon, district and province polygons as rows for the `boundaries` table (EWKB hex geometry)."""
    parents = {"tambon": "district_pcode", "district": "province_pcode", "province": None}
    frames = []
    for level in BOUNDARY_LEVELS:
        shapes = boundaries.load(level, province)
        frame = pd.DataFrame({
            "pcode": shapes["pcode"],
            "level": level,
            "name_th": shapes["name_th"],
            "name_en": shapes["name_en"],
            "parent_pcode": shapes[parents[level]] if parents[level] else None,
        })
        geometry = shapely.set_srid(_as_multipolygons(shapes.geometry.to_crs(4326).values), 4326)
        frame["geometry"] = shapely.to_wkb(geometry, hex=True, include_srid=True)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _as_multipolygons(geometries) -> list:
    # The column is typed MultiPolygon; the boundary loader already gives those, but be sure.
    return [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geometries]


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
