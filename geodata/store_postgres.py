"""The warehouse in PostgreSQL with PostGIS, for teams sharing one server.

`open_store("postgresql://user:password@host:port/database")` returns a
PostgresStore with the same methods as the DuckDB store, so layers and
callbacks do not know which backend runs:

- SQL keeps DuckDB's `$name` parameters; they are turned into psycopg's
  `%(name)s` here and bound client-side, so untyped values (`$year IS NULL`)
  work as they do in DuckDB.
- Result frames pass through the same `normalise_frame` as DuckDB's, so both
  give the same dtypes; PostgreSQL `numeric` (avg, sum of bigint) arrives as float.
- Writes run in one transaction and load rows with COPY (CSV text written by
  pyarrow, no per-row Python); large results are read back with COPY too.
- The first open of an empty database creates, in one transaction, the
  tables of geodata/schema.py, the PostGIS extension and a `boundaries`
  table holding the province's tambon, district and province polygons.

Creating the extension needs a role allowed to (a superuser, or a database
where an administrator ran `CREATE EXTENSION postgis` beforehand).
Each call opens and closes its own connection, like the DuckDB store.
"""
from __future__ import annotations

import io
import re
import uuid
from typing import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
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
                self.ensure_summaries()
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [_CREATE_LOCK])
                if _has_schema(conn):  # made by another process while we waited
                    return
                _create(conn, province)

    # -- reading -----------------------------------------------------------
    def query(self, sql: str, params: Mapping | None = None) -> pd.DataFrame:
        with self._connect() as conn:
            # Parameters are merged client-side so the statement can be wrapped in COPY.
            statement = conn.cursor().mogrify(to_psycopg(sql), dict(params or {}))
            return _query_frame(conn, statement)

    def scalar(self, sql: str, params: Mapping | None = None):
        with self._connect() as conn:
            row = conn.execute(to_psycopg(sql), dict(params or {})).fetchone()
            return None if row is None else row[0]

    # -- writing -----------------------------------------------------------
    def write(self, writes: Iterable[TableWrite], record: ImportRecord | None = None, rebuild=()) -> None:
        """Apply every write and the import log entry in one transaction, with the summaries they
        make stale (and those named in `rebuild`)."""
        writes = list(writes)
        with self._connect() as conn, conn.transaction():
            cursor = conn.cursor()

            def execute(sql: str, params: Mapping):
                return cursor.execute(to_psycopg(sql), dict(params))

            apply_writes(writes, record, execute=execute, insert=lambda table, rows: _copy_rows(cursor, table, rows),
                         rebuild=rebuild)
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
# Column kinds that COPY's CSV text carries faithfully, and the arrow type to parse each as.
_ARROW_READ_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
_TEMPORAL_TYPES = {"date": pa.date32(), "timestamp": pa.timestamp("us")}


def _query_frame(conn: psycopg.Connection, statement: str) -> pd.DataFrame:
    """The result of one statement as a normalised frame.

    A row-returning statement whose columns are plain scalars is streamed with
    COPY ... TO STDOUT and parsed by pyarrow: several times faster than building
    Python tuples for large results. Anything else takes the ordinary cursor path.
    """
    columns = _describe(conn, statement)
    if columns is None:
        return _fetched_frame(conn, conn.execute(statement))
    names, type_names = columns
    kinds = [column_kind(name) for name in type_names]
    arrow_types = [_TEMPORAL_TYPES.get(name) or _ARROW_READ_TYPES.get(kind) for name, kind in zip(type_names, kinds)]
    if None in arrow_types:
        return _fetched_frame(conn, conn.execute(statement))
    with conn.cursor().copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
        data = b"".join(bytes(block) for block in copy)
    return normalise_frame(_parse_csv(data, names, arrow_types), kinds)


def _describe(conn: psycopg.Connection, statement: str) -> tuple[list[str], list[str]] | None:
    """Column names and type names of a SELECT without running it; None for other statements."""
    try:
        cursor = conn.execute(f"SELECT * FROM ({statement}) AS described LIMIT 0")
    except psycopg.Error:
        return None  # not a plain query (DDL, a trailing semicolon ...): the caller runs it as it is
    return [column.name for column in cursor.description], [
        _type_name(conn, column.type_code) for column in cursor.description
    ]


def _parse_csv(data: bytes, names: list[str], arrow_types: list) -> pd.DataFrame:
    # Arrow needs distinct column names; the real ones (maybe repeated) are put back after.
    keys = [f"c{i}" for i in range(len(names))]
    if not data:
        frame = pd.DataFrame({key: pd.Series([], dtype=object) for key in keys})
    else:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=keys),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict(zip(keys, arrow_types)),
                # PostgreSQL writes NULL as an unquoted empty field and an empty string as "".
                null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False,
                true_values=["t"], false_values=["f"],
            ),
        )
        frame = table.to_pandas()
    frame.columns = names
    return frame


def _fetched_frame(conn: psycopg.Connection, cursor: psycopg.Cursor) -> pd.DataFrame:
    if cursor.description is None:  # a statement without a result set
        return pd.DataFrame()
    names = [column.name for column in cursor.description]
    kinds = [column_kind(_type_name(conn, column.type_code)) for column in cursor.description]
    return normalise_frame(pd.DataFrame(cursor.fetchall(), columns=names), kinds)


def _type_name(conn: psycopg.Connection, oid: int) -> str:
    info = conn.adapters.types.get(oid)
    if info is None:
        return ""
    # An array's oid finds its element's TypeInfo: say it is an array, not a scalar.
    return info.name if info.oid == oid else f"{info.name}[]"


# -- writing -------------------------------------------------------------------
# The arrow type each schema type is written as: COPY then reads arrow's CSV text.
_ARROW_WRITE_TYPES = {
    "VARCHAR": pa.string(), "INTEGER": pa.int64(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
}


def _copy_rows(cursor: psycopg.Cursor, table: str, rows: pd.DataFrame) -> None:
    rows = table_rows(table, rows)
    if not rows.empty:
        _copy_arrow(cursor, table, _arrow_rows(table, rows))


def _copy_arrow(cursor: psycopg.Cursor, table: str, data: pa.Table) -> None:
    """COPY an arrow table in as CSV: pyarrow writes the text (strings quoted, NULL as an
    unquoted empty field, floats in shortest exact form), PostgreSQL parses it."""
    statement = f"COPY {table} ({', '.join(data.column_names)}) FROM STDIN (FORMAT csv)"
    options = pacsv.WriteOptions(include_header=False)
    with cursor.copy(statement) as copy:
        for batch in data.to_batches(max_chunksize=_COPY_CHUNK_ROWS):
            text = io.BytesIO()
            pacsv.write_csv(batch, text, options)
            copy.write(text.getbuffer())


def _arrow_rows(table: str, rows: pd.DataFrame) -> pa.Table:
    arrays = {}
    for name, sqltype in schema.TABLES[table].items():
        base = sqltype.split()[0]
        try:
            arrays[name] = pa.array(_castable(rows[name], base), type=_ARROW_WRITE_TYPES[base], from_pandas=True)
        except (pa.ArrowException, ValueError, TypeError) as error:
            raise StoreError(f"{table}.{name}: values do not fit {base}: {error}") from error
    return pa.table(arrays)


def _castable(column: pd.Series, base: str) -> pd.Series:
    """Bring a column to a form arrow converts to the SQL type, casting as DuckDB's insert would.

    Whole numbers held as floats (because of NaN) pass as integers, fractions are
    refused; numbers become text in VARCHAR columns and 0/1 flags become booleans.
    """
    if base == "VARCHAR":
        return column.astype("str")
    if base in ("INTEGER", "BIGINT", "DOUBLE"):
        return pd.to_numeric(column)
    if base == "BOOLEAN" and pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype("boolean")
    if base in ("DATE", "TIMESTAMP"):
        column = pd.to_datetime(column)
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    return column


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
    _copy_arrow(cursor, "boundaries", pa.Table.from_pandas(boundary_rows(province), preserve_index=False))
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
