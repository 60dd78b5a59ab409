"""Raster files known to the store: registry, validation and the `raster` command.

A raster is registered once (`python -m geodata raster add FILE ...`): it is
checked (readable, has a CRS, overlaps the province, has a nodata value,
has a sane size, one band chosen) and either referenced where it lies (by
absolute path) or copied into the data folder (`--copy`). Zonal statistics per
tambon are computed by `layers.rasters` and kept in the store next to the
file's sha256, so they are recomputed only when the file changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import weakref
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import rasterio
import shapely
from rasterio.enums import MaskFlags
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from . import boundaries, config, schema
from .schema import RASTER_TABLES
from .store import TableWrite


KINDS = ("continuous", "count", "population", "categorical")
RASTER_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DEFAULT_MAX_CELLS = 2e9
HASH_CHUNK = 1 << 20
# Files that GDAL keeps beside a raster; copied with it so overviews and masks stay.
SIDECARS = (".ovr", ".msk", ".aux.xml")


class RasterError(ValueError):
    """A raster file or request is refused; the message says why and what to do."""


@dataclass(frozen=True)
class RasterRecord:
    raster_id: str
    title_th: str
    title_en: str
    unit_th: str
    unit_en: str
    source: str
    kind: str
    higher_is_better: bool | None
    derived: bool
    path: str
    copied: bool
    band: int
    nodata: float | None
    crs: str
    width: int
    height: int
    file_sha256: str
    file_size: int
    file_mtime_ns: str
    added_at: datetime

    @property
    def categorical(self) -> bool:
        return self.kind == "categorical"

    @property
    def is_count(self) -> bool:
        """Cell values are counts (people, buildings), so sums over an area mean something."""
        return self.kind in ("count", "population")

    def title(self, lang: str = "en") -> str:
        return self.title_th if lang == "th" else self.title_en

    def unit(self, lang: str = "en") -> str:
        return self.unit_th if lang == "th" else self.unit_en


@dataclass(frozen=True)
class RasterFacts:
    """What validation learned about a file."""

    band: int
    nodata: float | None
    crs: str
    width: int
    height: int
    bounds_lonlat: tuple[float, float, float, float]


# -- paths -------------------------------------------------------------------
def raster_dir() -> Path:
    return config.data_dir() / "rasters"


def safe_data_path(name: str | os.PathLike, root: Path | None = None) -> Path:
    """Resolve a file name given by a user (e.g. through the web UI) inside the data folder.

    Refuses absolute paths, `..` parts, and names that leave the folder through
    a symbolic link, so such a name can never reach any other file.
    """
    root = Path(root or config.data_dir()).resolve()
    text = str(name).strip()
    if not text:
        raise RasterError("an empty file name was given")
    candidate = Path(text)
    if candidate.is_absolute() or text.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", text):
        raise RasterError(f"{text!r}: give a name inside the data folder, not an absolute path")
    if ".." in re.split(r"[\\/]", text):
        raise RasterError(f"{text!r}: '..' is not allowed in a data file name")
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(root):
        raise RasterError(f"{text!r} leads outside the data folder {root}")
    return resolved


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file read in 1 MiB chunks, so big rasters never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- validation ----------------------------------------------------------------
def max_cells() -> float:
    """Largest raster accepted (width x height), from ATLAS_RASTER_MAX_CELLS (default 2e9)."""
    configured = os.environ.get("ATLAS_RASTER_MAX_CELLS")
    try:
        return float(configured) if configured else DEFAULT_MAX_CELLS
    except ValueError:
        raise RasterError(f"ATLAS_RASTER_MAX_CELLS={configured!r} is not a number") from None


def province_outline(province: str = config.DEFAULT_PROVINCE) -> shapely.Geometry:
    """The province polygon in EPSG:4326."""
    return shapely.union_all(boundaries.load("province", province).geometry.values)


def inspect_raster(path: str | os.PathLike, band: int | None = None, nodata: float | None = None,
                   province: str = config.DEFAULT_PROVINCE) -> RasterFacts:
    """Check that a file is a raster this product can use, or raise RasterError saying why."""
    path = Path(path)
    if not path.is_file():
        raise RasterError(f"{path}: no such file")
    try:
        src = rasterio.open(path)
    except RasterioError as error:
        raise RasterError(
            f"{path}: cannot be read as a raster (not a GeoTIFF or other GDAL raster, or the file is corrupted): {error}"
        ) from None
    with src:
        if src.crs is None:
            raise RasterError(
                f"{path}: the raster has no coordinate reference system (CRS); "
                "set one first, e.g. gdal_edit.py -a_srs EPSG:32647 FILE"
            )
        if not (src.transform.b == 0 and src.transform.d == 0):
            raise RasterError(f"{path}: rotated grids are not supported; warp it to a north-up grid first (gdalwarp)")
        band = _choose_band(src, path, band)
        cells = src.width * src.height
        if cells > max_cells():
            raise RasterError(
                f"{path}: {src.width} x {src.height} = {cells:,} cells is more than the limit of "
                f"{max_cells():,.0f}; crop it to the province first (gdalwarp -cutline) or raise ATLAS_RASTER_MAX_CELLS"
            )
        nodata = _choose_nodata(src, path, band, nodata)
        bounds = _check_overlap(src, path, province)
        _check_readable(src, path, band)
        return RasterFacts(band, nodata, src.crs.to_string(), src.width, src.height, bounds)


def _choose_band(src, path: Path, band: int | None) -> int:
    if band is None:
        if src.count > 1:
            raise RasterError(f"{path}: the file has {src.count} bands; choose one with --band N (1 to {src.count})")
        return 1
    if not 1 <= band <= src.count:
        raise RasterError(f"{path}: band {band} does not exist; the file has {src.count} band(s) (1 to {src.count})")
    return band


def _choose_nodata(src, path: Path, band: int, nodata: float | None) -> float | None:
    """The value that marks empty cells: the one given, else the file's; a mask band also will do."""
    if nodata is not None:
        return float(nodata)
    declared = src.nodatavals[band - 1]
    if declared is not None:
        return float(declared)
    flags = src.mask_flag_enums[band - 1]
    if MaskFlags.per_dataset in flags or MaskFlags.alpha in flags:
        return None  # cells are masked by the file's own mask band
    raise RasterError(
        f"{path}: the raster declares no nodata value, so empty cells cannot be told from real values; "
        "give the value that marks empty cells with --nodata V (e.g. --nodata -99999)"
    )


def _check_overlap(src, path: Path, province: str) -> tuple[float, float, float, float]:
    try:
        lonlat = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
    except RasterioError as error:
        raise RasterError(f"{path}: its extent cannot be converted to longitude/latitude: {error}") from None
    outline = province_outline(province)
    if not shapely.box(*lonlat).intersects(outline):
        west, south, east, north = outline.bounds
        raise RasterError(
            f"{path}: the raster (lon {lonlat[0]:.3f} to {lonlat[2]:.3f}, lat {lonlat[1]:.3f} to {lonlat[3]:.3f}) "
            f"does not overlap the province {province} (lon {west:.3f} to {east:.3f}, lat {south:.3f} to {north:.3f})"
        )
    return tuple(float(v) for v in lonlat)


def _check_readable(src, path: Path, band: int) -> None:
    """Read the first and the last block: a truncated or damaged file fails here, not mid-statistics."""
    block_rows, block_cols = src.block_shapes[band - 1]
    last_row = max(0, src.height - block_rows)
    last_col = max(0, src.width - block_cols)
    try:
        for row, col in ((0, 0), (last_row, last_col)):
            src.read(band, window=Window(col, row, min(block_cols, src.width), min(block_rows, src.height)))
    except RasterioError as error:
        raise RasterError(f"{path}: the file is corrupted (reading its cells failed): {error}") from None


# -- tables --------------------------------------------------------------------
def _replace_rows(table: str, raster_id: str, rows: pd.DataFrame | None = None) -> TableWrite:
    """A write that swaps one raster's rows of `table` for `rows` (none: just delete)."""
    if rows is None:
        rows = pd.DataFrame(columns=schema.columns(table))
    return TableWrite(table, rows, mode="append", delete_where={"raster_id": raster_id})


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _record(row: dict) -> RasterRecord:
    values = {}
    for name in RASTER_TABLES["rasters"]:
        value = row[name]
        values[name] = None if _missing(value) else value
    values["band"] = int(values["band"])
    values["width"], values["height"] = int(values["width"]), int(values["height"])
    values["file_size"], values["file_mtime_ns"] = int(values["file_size"]), str(values["file_mtime_ns"])
    values["copied"], values["derived"] = bool(values["copied"]), bool(values["derived"])
    if values["higher_is_better"] is not None:
        values["higher_is_better"] = bool(values["higher_is_better"])
    return RasterRecord(**values)


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# -- registry ------------------------------------------------------------------
_LISTED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def list_rasters(store) -> list[RasterRecord]:
    # Asked for by every raster indicator, overlay and rate; read again only when the store changes.
    version = store.version()
    listed = _LISTED.get(store)
    if listed is None or listed[0] != version:
        frame = store.query("SELECT * FROM rasters ORDER BY raster_id")
        listed = _LISTED[store] = (version, tuple(_record(row) for row in frame.to_dict("records")))
    return list(listed[1])


def get_raster(store, raster_id: str) -> RasterRecord:
    frame = store.query("SELECT * FROM rasters WHERE raster_id = $id", {"id": raster_id})
    if frame.empty:
        known = ", ".join(r.raster_id for r in list_rasters(store)) or "none"
        raise RasterError(f"no raster {raster_id!r} in the store (registered: {known})")
    return _record(frame.iloc[0].to_dict())


def add_raster(store, path: str | os.PathLike, raster_id: str, title_th: str, title_en: str, unit_en: str,
               unit_th: str | None = None, kind: str = "continuous", nodata: float | None = None,
               band: int | None = None, copy: bool = False, replace: bool = False, source: str = "",
               higher_is_better: bool | None = None, derived: bool = False) -> RasterRecord:
    """Validate a raster file and register it; with copy=True the file is copied into data/rasters/.

    Registering again under the same id needs replace=True; it drops the old statistics.
    """
    if not RASTER_ID.match(raster_id or ""):
        raise RasterError(
            f"raster id {raster_id!r}: use 1-40 lower-case letters, digits or _, starting with a letter "
            "(it becomes part of indicator names)"
        )
    if kind not in KINDS:
        raise RasterError(f"raster kind {kind!r}: expected one of {', '.join(KINDS)}")
    if not (title_th and title_en and unit_en):
        raise RasterError("a raster needs a Thai title, an English title and a unit")
    existing = store.scalar("SELECT count(*) FROM rasters WHERE raster_id = $id", {"id": raster_id})
    if existing and not replace:
        raise RasterError(f"a raster {raster_id!r} is already registered; remove it first or add --replace")
    source_path = Path(path).expanduser().resolve()
    facts = inspect_raster(source_path, band, nodata, store.meta("province") or config.DEFAULT_PROVINCE)
    target = _copy_into_data(source_path, raster_id) if copy else source_path
    info = target.stat()
    row = {
        "raster_id": raster_id, "title_th": title_th, "title_en": title_en,
        "unit_th": unit_th or unit_en, "unit_en": unit_en, "source": source, "kind": kind,
        "higher_is_better": higher_is_better, "derived": derived, "path": str(target), "copied": copy,
        "band": facts.band, "nodata": facts.nodata, "crs": facts.crs, "width": facts.width,
        "height": facts.height, "file_sha256": file_sha256(target), "file_size": info.st_size,
        "file_mtime_ns": str(info.st_mtime_ns), "added_at": _now(),
    }
    store.write([_replace_rows("raster_stats", raster_id), _replace_rows("rasters", raster_id, pd.DataFrame([row]))])
    return get_raster(store, raster_id)


def _copy_into_data(source: Path, raster_id: str) -> Path:
    folder = raster_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / f"{raster_id}{source.suffix.lower() or '.tif'}").resolve()
    if target == source:
        return target
    for suffix in ("",) + SIDECARS:
        origin = source.with_name(source.name + suffix)
        if suffix and not origin.is_file():
            continue
        destination = target.with_name(target.name + suffix)
        partial = destination.with_name(destination.name + ".partial")
        shutil.copyfile(origin, partial)
        # Renamed only when complete, so a failed copy never looks like a raster.
        os.replace(partial, destination)
    return target


def remove_raster(store, raster_id: str) -> RasterRecord:
    """Forget a raster and its statistics; a copy in data/rasters/ is deleted, a referenced file is not."""
    record = get_raster(store, raster_id)
    store.write([_replace_rows("raster_stats", raster_id), _replace_rows("rasters", raster_id)])
    path = Path(record.path)
    if record.copied and path.resolve().is_relative_to(raster_dir().resolve()):
        for suffix in ("",) + SIDECARS:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    return record


def current_sha256(store, record: RasterRecord) -> str:
    """The file's sha256 now; rehashed only when its size or modification time changed."""
    path = Path(record.path)
    if not path.is_file():
        raise RasterError(f"raster {record.raster_id!r}: its file {path} is missing; add it again or remove it")
    info = path.stat()
    if (info.st_size, str(info.st_mtime_ns)) == (record.file_size, record.file_mtime_ns):
        return record.file_sha256
    digest = file_sha256(path)
    row = {**asdict(record), "file_sha256": digest, "file_size": info.st_size,
           "file_mtime_ns": str(info.st_mtime_ns)}
    store.write([_replace_rows("rasters", record.raster_id, pd.DataFrame([row]))])
    return digest


# -- statistics rows -------------------------------------------------------------
def load_stats(store, raster_id: str) -> pd.DataFrame:
    """Stored per-tambon statistics of one raster (empty if none)."""
    return store.query(
        "SELECT * FROM raster_stats WHERE raster_id = $id ORDER BY tambon_pcode", {"id": raster_id}
    )


def save_stats(store, raster_id: str, digest: str, method: str, stats: pd.DataFrame) -> None:
    """Replace one raster's per-tambon statistics in one transaction.

    `stats` has columns pcode, mean, sum, min, max, count, cells, class_counts (dict or None).
    """
    rows = pd.DataFrame({
        "raster_id": raster_id,
        "tambon_pcode": stats["pcode"].astype(str),
        "file_sha256": digest,
        "method": method,
        "value_mean": stats["mean"].astype(float),
        "value_sum": stats["sum"].astype(float),
        "value_min": stats["min"].astype(float),
        "value_max": stats["max"].astype(float),
        "cell_count": stats["count"].astype("int64"),
        "cells": stats["cells"].astype("int64"),
        "class_counts": [None if c is None else json.dumps(c, sort_keys=True) for c in stats["class_counts"]],
        "computed_at": _now(),
    })[list(RASTER_TABLES["raster_stats"])]
    store.write([_replace_rows("raster_stats", raster_id, rows)])


# -- command line ----------------------------------------------------------------
def run_cli(args) -> int:
    from .store import open_store

    store = open_store(args.db)
    return {"add": _cli_add, "list": _cli_list, "remove": _cli_remove, "demo": _cli_demo}[args.action](store, args)


def _cli_add(store, args) -> int:
    from layers import rasters as layer

    kind = "categorical" if args.categorical else "population" if args.population else "count" if args.counts else "continuous"
    if sum([args.categorical, args.population, args.counts]) > 1:
        raise RasterError("choose at most one of --categorical, --population, --counts")
    better = {"higher": True, "lower": False, None: None}[args.better]
    record = add_raster(
        store, args.file, args.name, args.title_th, args.title_en, args.unit, unit_th=args.unit_th, kind=kind,
        nodata=args.nodata, band=args.band, copy=args.copy, replace=args.replace, source=args.source or "",
        higher_is_better=better,
    )
    where = f"copied into {record.path}" if record.copied else f"referenced at {record.path} (not copied)"
    print(f"raster {record.raster_id}: {record.width} x {record.height} cells, band {record.band}, "
          f"{record.crs}, nodata {record.nodata}; {where}")
    stats = layer.tambon_stats(store, record.raster_id, progress=True)
    covered = int((stats["count"] > 0).sum())
    print(f"zonal statistics: {covered} of {len(stats)} tambons have valid cells (rule: cell centre inside)")
    return 0


def _cli_list(store, args) -> int:
    records = list_rasters(store)
    if not records:
        print("no rasters registered; add one with: python -m geodata raster add FILE --name ID ...")
        return 0
    for r in records:
        where = "copied" if r.copied else "referenced"
        derived = ", derived" if r.derived else ""
        print(f"{r.raster_id}\t{r.kind}{derived}\t{r.title_en} / {r.title_th} ({r.unit_en})\t"
              f"{where}: {r.path}\tsha256 {r.file_sha256[:12]}")
    return 0


def _cli_remove(store, args) -> int:
    record = remove_raster(store, args.raster_id)
    note = "its copy in the data folder was deleted" if record.copied else f"the file {record.path} was left in place"
    print(f"raster {record.raster_id} removed with its statistics; {note}")
    return 0


def _cli_demo(store, args) -> int:
    from layers import rasters as layer

    record = layer.register_demo_raster(store)
    stats = layer.tambon_stats(store, record.raster_id, progress=True)
    print(f"demo raster {record.raster_id} (derived from the real boundaries) written to {record.path}: "
          f"{record.width} x {record.height} cells; tambon mean distance "
          f"{stats['mean'].min():.1f} to {stats['mean'].max():.1f} km")
    return 0

