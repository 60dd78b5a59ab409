"""Raster layers: zonal statistics per tambon, indicators, map overlay and the demo raster.

Cell rule (used everywhere here): a raster cell belongs to an area when the
cell's CENTRE lies inside the area's polygon (rasterio's geometry_mask with
all_touched=False). Partial cells at edges are therefore counted whole or
not at all; over an area of many cells the errors on both sides cancel.

Memory stays bounded: each tambon reads only the window of cells under its
bounding box, never the whole raster.
"""
from __future__ import annotations

import base64
import json
import math
import struct
import sys
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.colors
import rasterio
import rasterio.shutil
import shapely
from rasterio.enums import MaskFlags, Resampling
from rasterio.features import geometry_mask
from rasterio.transform import from_bounds, from_origin
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window
from tqdm import tqdm

from geodata import boundaries, config
from geodata import rasters as registry_store
from geodata.rasters import RasterError, RasterRecord

METHOD = "cell-centre/v1"  # stored with the statistics; a new method recomputes them
CELL_RULE_EN = "a cell counts for an area when its centre lies inside the area"
CELL_RULE_TH = "นับเซลล์ให้พื้นที่เมื่อจุดกึ่งกลางเซลล์อยู่ภายในขอบเขตพื้นที่"
GDAL_CACHE_MB = 64  # GDAL's block cache; its default (5% of RAM) would hide the windowed reads' small footprint
UTM_47N = 32647
LEVELS = ("tambon", "district", "zone", "province")
DEFAULT_RAMP = tuple(plotly.colors.sequential.Viridis)
CLASS_COLOURS = tuple(plotly.colors.qualitative.Safe)

DEMO_ID = "access_distance"
DEMO_RESOLUTION_M = 250.0
DEMO_NODATA = -9999.0
DEMO_TITLE_TH = "ระยะทางถึงที่ตั้งอำเภอที่ใกล้ที่สุด (ประมาณ)"
DEMO_TITLE_EN = "Distance to nearest district centre (derived)"


# -- zonal statistics ------------------------------------------------------------
def zonal_stats(path: str | Path, zones: gpd.GeoDataFrame, band: int = 1, nodata: float | None = None,
                categorical: bool = False, progress: bool = False) -> pd.DataFrame:
    """Statistics of one raster band for each polygon of `zones` (columns pcode, geometry).

    Returns one row per polygon: pcode, mean, sum, min, max, count (valid cells),
    cells (all cells whose centres are inside), class_counts (dict per class for
    categorical rasters, else None). Polygons are reprojected to the raster's
    CRS; a cell counts when its centre lies inside (all_touched=False); cells
    equal to `nodata` (or the file's nodata, mask band, or NaN) are left out.
    Areas without valid cells get count 0 and empty (NaN) values.
    """
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), rasterio.open(path) as src:
        shapes = zones.to_crs(src.crs)
        empty_values = _empty_values(src, band, nodata)
        # A mask band is read only when the file has one; nodata values are cheaper to test in numpy.
        flags = src.mask_flag_enums[band - 1]
        mask_band = MaskFlags.per_dataset in flags or MaskFlags.alpha in flags
        # North-to-south order lets neighbouring tambons reuse blocks still in GDAL's cache.
        order = np.argsort(-shapes.geometry.bounds["maxy"].to_numpy(), kind="stable")
        rows = {}
        for position in tqdm(order, desc="zonal statistics", unit="area", disable=not progress, file=sys.stderr):
            rows[position] = _zone_stats(src, band, empty_values, mask_band, shapes.geometry.iloc[position],
                                         categorical)
    frame = pd.DataFrame([rows[i] for i in range(len(zones))])
    frame.insert(0, "pcode", zones["pcode"].astype(str).to_numpy())
    return frame


def _cell_window(src, bounds) -> Window | None:
    """The smallest window of whole cells covering `bounds`, clipped to the raster, or None if outside."""
    west, south, east, north = bounds
    inverse = ~src.transform
    cols, rows = zip(*(inverse @ corner for corner in ((west, south), (west, north), (east, south), (east, north))))
    col0, col1 = max(0, math.floor(min(cols))), min(src.width, math.ceil(max(cols)))
    row0, row1 = max(0, math.floor(min(rows))), min(src.height, math.ceil(max(rows)))
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _empty_values(src, band: int, nodata: float | None) -> list[float]:
    """Values meaning 'no data': the one given (e.g. --nodata) and the file's own."""
    declared = src.nodatavals[band - 1]
    return [float(v) for v in {nodata, declared} if v is not None]


def _zone_stats(src, band: int, empty_values: list[float], mask_band: bool, geometry, categorical: bool) -> dict:
    empty = {"mean": np.nan, "sum": np.nan, "min": np.nan, "max": np.nan, "count": 0, "cells": 0,
             "class_counts": {} if categorical else None}
    window = None if geometry is None or geometry.is_empty else _cell_window(src, geometry.bounds)
    if window is None:
        return empty
    data = src.read(band, window=window)
    inside = geometry_mask([geometry], out_shape=data.shape, transform=src.window_transform(window),
                           invert=True, all_touched=False)
    valid = inside & ~nodata_mask(data, empty_values)
    if mask_band:
        valid &= src.read_masks(band, window=window) > 0
    values = data[valid]
    cells = int(inside.sum())
    if values.size == 0:
        return empty | {"cells": cells}
    total = float(values.sum(dtype=np.float64))
    result = {"mean": total / values.size, "sum": total, "min": float(values.min()), "max": float(values.max()),
              "count": int(values.size), "cells": cells, "class_counts": None}
    if categorical:
        classes, counts = np.unique(values, return_counts=True)
        result["class_counts"] = {_class_label(c): int(n) for c, n in zip(classes, counts)}
    return result


def nodata_mask(values: np.ndarray, nodata) -> np.ndarray:
    """True where a cell holds no data: equal to a nodata value (one or a list), or NaN in a float raster."""
    empty = np.zeros(values.shape, dtype=bool)
    if np.issubdtype(values.dtype, np.floating):
        empty |= np.isnan(values)
    for value in [] if nodata is None else np.atleast_1d(nodata):
        if not math.isnan(value):
            empty |= values == value
    return empty


def _class_label(value) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


# -- statistics kept in the store --------------------------------------------------
@lru_cache(maxsize=4)
def _tambon_polygons(province: str) -> gpd.GeoDataFrame:
    return boundaries.load("tambon", province)[["pcode", "geometry"]]


def _province(store) -> str:
    return store.meta("province") or config.DEFAULT_PROVINCE


def tambon_stats(store, raster_id: str, force: bool = False, progress: bool = False) -> pd.DataFrame:
    """Per-tambon statistics of a registered raster, computed only when the file (its sha256) changed.

    Columns: pcode, mean, sum, min, max, count, cells, class_counts (dict or None), computed_at.
    """
    record = registry_store.get_raster(store, raster_id)
    digest = registry_store.current_sha256(store, record)
    stored = registry_store.load_stats(store, raster_id)
    fresh = (not stored.empty and (stored["file_sha256"] == digest).all() and (stored["method"] == METHOD).all())
    if force or not fresh:
        tambons = store.query("SELECT pcode FROM tambons")["pcode"]
        polygons = _tambon_polygons(_province(store))
        polygons = polygons[polygons["pcode"].isin(tambons)].reset_index(drop=True)
        stats = zonal_stats(record.path, polygons, record.band, record.nodata, record.categorical, progress)
        registry_store.save_stats(store, raster_id, digest, METHOD, stats)
        stored = registry_store.load_stats(store, raster_id)
    return _stats_frame(stored)


def _stats_frame(stored: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "pcode": stored["tambon_pcode"],
        "mean": stored["value_mean"].astype(float),
        "sum": stored["value_sum"].astype(float),
        "min": stored["value_min"].astype(float),
        "max": stored["value_max"].astype(float),
        "count": stored["cell_count"].astype("int64"),
        "cells": stored["cells"].astype("int64"),
        "class_counts": [json.loads(c) if isinstance(c, str) else None for c in stored["class_counts"]],
        "computed_at": stored["computed_at"],
    })


def _level_keys(store, level: str) -> pd.DataFrame:
    """tambon pcode -> the key of its area at `level` (zone number for zones, as elsewhere)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    keys = store.query(
        "SELECT t.pcode AS tambon, t.district_pcode, z.zone FROM tambons t "
        "LEFT JOIN zones z ON z.district_pcode = t.district_pcode ORDER BY t.pcode"
    )
    key = {"tambon": keys["tambon"], "district": keys["district_pcode"], "zone": keys["zone"],
           "province": pd.Series(_province(store), index=keys.index)}[level]
    return pd.DataFrame({"tambon": keys["tambon"], "key": key})


def zonal_for_level(store, raster_id: str, level: str = "tambon") -> pd.DataFrame:
    """Raster statistics per area of a level: pcode, mean, sum, min, max, count (+ share_<class> if categorical).

    Higher levels pool the tambons' cells: mean = total sum / total valid cells
    (not a mean of tambon means); min/max are over all cells. Zones are keyed by
    their zone number, the province by its P-code.
    """
    stats = tambon_stats(store, raster_id)
    keys = _level_keys(store, level)
    joined = keys.merge(stats, left_on="tambon", right_on="pcode", how="left")
    grouped = joined.groupby("key", sort=True)
    frame = pd.DataFrame({
        "sum": grouped["sum"].sum(min_count=1),
        "min": grouped["min"].min(),
        "max": grouped["max"].max(),
        "count": grouped["count"].sum().astype("int64"),
    })
    frame.insert(0, "mean", frame["sum"] / frame["count"].where(frame["count"] > 0))
    if registry_store.get_raster(store, raster_id).categorical:
        counts = pd.DataFrame([c or {} for c in joined["class_counts"]], index=joined.index).fillna(0)
        counts = counts.groupby(joined["key"]).sum()
        shares = counts.div(frame["count"].where(frame["count"] > 0), axis=0)
        frame = frame.join(shares[sorted(shares.columns, key=_class_sort_key)].add_prefix("share_"))
    return frame.rename_axis("pcode").reset_index()


def _class_sort_key(label: str):
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


# -- population: per capita and density --------------------------------------------
def per_capita(count_values, population, per: float = 1.0) -> pd.Series:
    """count / population (x `per`, e.g. 1000); empty where the population is 0 or unknown."""
    population = pd.Series(population, dtype=float)
    return pd.Series(count_values, dtype=float) / population.where(population > 0) * per


def area_km2(store, level: str) -> pd.Series:
    """Area of each area of a level in km², measured on the tambon polygons in UTM 47N (EPSG:32647)."""
    polygons = _tambon_polygons(_province(store))
    areas = pd.Series(polygons.geometry.to_crs(UTM_47N).area.to_numpy() / 1e6, index=polygons["pcode"].to_numpy())
    keys = _level_keys(store, level)
    return areas.reindex(keys["tambon"]).groupby(keys["key"].to_numpy()).sum().rename_axis("pcode")


def density(values, areas_km2) -> pd.Series:
    """Values per km²; empty where the area is 0."""
    areas = pd.Series(areas_km2, dtype=float)
    return pd.Series(values, dtype=float) / areas.where(areas > 0)


# -- indicators --------------------------------------------------------------------
def raster_indicators(store) -> list:
    """One layers.registry.Indicator per raster statistic shown as an indicator.

    raster_<id>_mean for every non-categorical raster; raster_<id>_sum for counts
    (e.g. population); raster_<id>_density (per km²) for population rasters;
    raster_<id>_share_<class> for categorical rasters; and, when a population
    raster is registered, raster_<id>_per_1000 for other count rasters.
    """
    from layers.registry import Indicator

    records = registry_store.list_rasters(store)
    population = _population_raster(records)
    indicators = []
    for record in records:
        for spec in _indicator_specs(store, record, population):
            indicators.append(Indicator(theme="raster", household_based=False, **spec))
    return indicators


def register_raster_indicators(store) -> list:
    """Put every raster indicator into the indicator registry (same id again replaces it)."""
    from layers.registry import register

    return [register(indicator) for indicator in raster_indicators(store)]


def _population_raster(records: list[RasterRecord]) -> RasterRecord | None:
    # With several population rasters the first by id is the denominator; documented in docs/rasters.md.
    return next((r for r in records if r.kind == "population"), None)


def _source(record: RasterRecord) -> str:
    origin = record.source or f"raster file {Path(record.path).name}"
    derived = "DERIVED layer; " if record.derived else ""
    return f"{derived}{origin}; zonal statistics with rasterio ({CELL_RULE_EN}); file sha256 {record.file_sha256[:12]}"


def _indicator_specs(store, record: RasterRecord, population: RasterRecord | None) -> list[dict]:
    base = f"raster_{record.raster_id}"
    common = {"source": _source(record), "palette": "sequential", "higher_is_better": record.higher_is_better}
    th, en = record.title_th, record.title_en
    specs = []
    if record.categorical:
        stats = tambon_stats(store, record.raster_id)
        classes = sorted({c for counts in stats["class_counts"] if counts for c in counts}, key=_class_sort_key)
        for label in classes:
            specs.append(common | {
                "id": f"{base}_share_{label}", "name_th": f"{th}: สัดส่วนประเภท {label}",
                "name_en": f"{en}: share of class {label}", "unit_th": "% ของพื้นที่", "unit_en": "% of area",
                "definition_th": f"สัดส่วนเซลล์ประเภท {label} ในเซลล์ที่มีข้อมูลของพื้นที่ ({CELL_RULE_TH})",
                "definition_en": f"Share of the area's cells with data that are class {label} ({CELL_RULE_EN}).",
                "fmt": "share", "decimals": 1, "higher_is_better": None,
            })
        return specs
    specs.append(common | {
        "id": f"{base}_mean", "name_th": f"{th} (ค่าเฉลี่ย)", "name_en": f"{en} (mean)",
        "unit_th": record.unit_th, "unit_en": record.unit_en,
        "definition_th": (f"ค่าเฉลี่ยของเซลล์แรสเตอร์ที่มีข้อมูลในพื้นที่ ({CELL_RULE_TH}) "
                          "ระดับอำเภอและโซนเฉลี่ยจากทุกเซลล์รวมกัน ไม่ใช่ค่าเฉลี่ยของตำบล"),
        "definition_en": (f"Mean of the raster cells with data in the area ({CELL_RULE_EN}); districts and zones "
                          "pool all their cells rather than averaging tambon means."),
        "fmt": "ratio", "decimals": 1,
    })
    if record.is_count:
        specs.append(common | {
            "id": f"{base}_sum", "name_th": f"{th} (รวม)", "name_en": f"{en} (total)",
            "unit_th": record.unit_th, "unit_en": record.unit_en,
            "definition_th": f"ผลรวมค่าของเซลล์แรสเตอร์ที่มีข้อมูลในพื้นที่ ({CELL_RULE_TH})",
            "definition_en": f"Sum of the raster cells with data in the area ({CELL_RULE_EN}).",
            "fmt": "count", "decimals": 0,
        })
    if record.kind == "population":
        specs.append(common | {
            "id": f"{base}_density", "name_th": f"{th} ต่อ ตร.กม.", "name_en": f"{en} per km²",
            "unit_th": f"{record.unit_th} ต่อ ตร.กม.", "unit_en": f"{record.unit_en} per km²",
            "definition_th": "ผลรวมของเซลล์ในพื้นที่ หารด้วยพื้นที่ (ตร.กม. วัดในระบบพิกัด UTM 47N)",
            "definition_en": "Sum of the cells in the area divided by its area (km², measured in UTM 47N).",
            "fmt": "count", "decimals": 1, "higher_is_better": None,
        })
    elif record.is_count and population is not None:
        specs.append(common | {
            "id": f"{base}_per_1000", "name_th": f"{th} ต่อประชากร 1,000 คน",
            "name_en": f"{en} per 1,000 people",
            "unit_th": f"{record.unit_th} ต่อ 1,000 คน", "unit_en": f"{record.unit_en} per 1,000 people",
            "definition_th": f"ผลรวมของเซลล์ในพื้นที่ หารด้วยประชากรจาก{population.title_th} คูณ 1,000",
            "definition_en": f"Sum of the cells in the area divided by the population from {population.title_en}, x 1,000.",
            "fmt": "ratio", "decimals": 2,
        })
    return specs


def raster_indicator_values(store, level: str = "tambon") -> pd.DataFrame:
    """One row per area of `level`: pcode and one column per raster indicator (ids as in raster_indicators)."""
    keys = _level_keys(store, level)
    table = pd.DataFrame({"pcode": sorted(keys["key"].dropna().unique())})
    records = registry_store.list_rasters(store)
    population = _population_raster(records)
    population_sum = None
    if population is not None:
        population_sum = zonal_for_level(store, population.raster_id, level).set_index("pcode")["sum"]
    for record in records:
        stats = zonal_for_level(store, record.raster_id, level).set_index("pcode")
        base = f"raster_{record.raster_id}"
        columns = {}
        if record.categorical:
            for column in stats.columns:
                if column.startswith("share_"):
                    columns[f"{base}_{column}"] = stats[column]
        else:
            columns[f"{base}_mean"] = stats["mean"]
        if record.is_count:
            columns[f"{base}_sum"] = stats["sum"]
        if record.kind == "population":
            columns[f"{base}_density"] = density(stats["sum"], area_km2(store, level).reindex(stats.index))
        elif record.is_count and population_sum is not None:
            columns[f"{base}_per_1000"] = per_capita(stats["sum"], population_sum.reindex(stats.index), per=1000)
        for name, values in columns.items():
            table[name] = table["pcode"].map(values)
    return table


# -- colour ramp and PNG ---------------------------------------------------------------
def colour_ramp(colours=DEFAULT_RAMP, steps: int = 256) -> np.ndarray:
    """An (steps, 3) uint8 table interpolated linearly between colours (hex or 'rgb(r, g, b)')."""
    stops = np.array(plotly.colors.convert_colors_to_same_type(list(colours), "tuple")[0], dtype=float) * 255
    positions = np.linspace(0, 1, len(stops))
    samples = np.linspace(0, 1, steps)
    table = np.column_stack([np.interp(samples, positions, stops[:, channel]) for channel in range(3)])
    return np.round(table).astype(np.uint8)


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG (zlib only: no imaging library needed)."""
    height, width, _ = rgba.shape
    # Each scanline starts with filter type 0 (none).
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rgba.reshape(height, width * 4)], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


# -- overlay ---------------------------------------------------------------------------
@dataclass
class Overlay:
    """A raster drawn as an image over the map.

    `source` is a PNG data URI; `coordinates` are the image corners as
    [lon, lat] from the top left clockwise, as plotly's map image layers want;
    `bounds` is [lon_min, lat_min, lon_max, lat_max]. The image is in Web
    Mercator (EPSG:3857), the map's own projection, so it lines up exactly.
    """

    source: str
    coordinates: list[list[float]]
    bounds: list[float]
    width: int
    height: int
    legend: dict
    opacity: float = 0.7
    notes: list[str] = field(default_factory=list)

    def title(self, lang: str) -> str:
        return self.legend["title_th" if lang == "th" else "title_en"]

    def layer(self, opacity: float | None = None) -> dict:
        """An entry for `layout.map.layers`."""
        return {"sourcetype": "image", "source": self.source, "coordinates": self.coordinates,
                "opacity": self.opacity if opacity is None else opacity}


def overlay_image(store, raster_id: str, max_size: int = 1024, opacity: float = 0.7,
                  colours=DEFAULT_RAMP) -> Overlay:
    """The raster warped to the map's projection, clipped to the province, coloured, as a PNG.

    Cells with no data and everything outside the province are transparent.
    Continuous rasters are stretched linearly from their minimum to maximum in
    the province over `colours`; categorical ones get one colour per class.
    """
    record = registry_store.get_raster(store, raster_id)
    digest = registry_store.current_sha256(store, record)
    image = _render_overlay(record.path, digest, record.band, record.nodata, record.categorical,
                            _province(store), int(max_size), tuple(colours))
    legend = dict(image["legend"], title_th=record.title_th, title_en=record.title_en,
                  unit_th=record.unit_th, unit_en=record.unit_en, derived=record.derived)
    return Overlay(image["source"], image["coordinates"], image["bounds"], image["width"], image["height"],
                   legend, opacity)


@lru_cache(maxsize=16)
def _render_overlay(path: str, digest: str, band: int, nodata, categorical: bool, province: str,
                    max_size: int, colours: tuple) -> dict:
    # `digest` is part of the cache key only: a changed file renders anew.
    outline = registry_store.province_outline(province)
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), rasterio.open(path) as src:
        values, src_transform = _read_decimated(src, band, nodata, outline, 2 * max_size)
        src_crs = src.crs
        raster_box = transform_bounds(src.crs, 3857, *src.bounds, densify_pts=21)
    outline_3857 = gpd.GeoSeries([outline], crs=4326).to_crs(3857).iloc[0]
    west, south, east, north = _intersect(outline_3857.bounds, raster_box)
    scale = max(east - west, north - south) / max_size
    width, height = max(1, round((east - west) / scale)), max(1, round((north - south) / scale))
    transform = from_bounds(west, south, east, north, width, height)
    warped = np.full((height, width), np.nan, dtype=np.float32)
    reproject(values, warped, src_transform=src_transform, src_crs=src_crs, src_nodata=np.nan,
              dst_transform=transform, dst_crs=3857, dst_nodata=np.nan,
              resampling=Resampling.nearest if categorical else Resampling.bilinear)
    inside = geometry_mask([outline_3857], out_shape=warped.shape, transform=transform, invert=True)
    visible = inside & np.isfinite(warped)
    rgb, legend = (_colour_classes if categorical else _colour_continuous)(warped, visible, colours)
    rgba = np.dstack([rgb, np.where(visible, 255, 0).astype(np.uint8)])
    lon0, lat0, lon1, lat1 = transform_bounds(3857, 4326, west, south, east, north)
    return {
        "source": "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode("ascii"),
        "coordinates": [[lon0, lat1], [lon1, lat1], [lon1, lat0], [lon0, lat0]],
        "bounds": [lon0, lat0, lon1, lat1], "width": width, "height": height, "legend": legend,
    }


def _intersect(a, b):
    west, south, east, north = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    if east <= west or north <= south:
        raise RasterError("the raster does not overlap the province")
    return west, south, east, north


def _read_decimated(src, band: int, nodata, outline, limit: int):
    """The cells over the province, read at most `limit` cells a side (overviews used when present), NaN for no data."""
    province_box = transform_bounds(4326, src.crs, *outline.bounds, densify_pts=21)
    window = _cell_window(src, province_box)
    if window is None:
        raise RasterError("the raster does not overlap the province")
    factor = max(1, math.ceil(max(window.width, window.height) / limit))
    shape = (max(1, math.ceil(window.height / factor)), max(1, math.ceil(window.width / factor)))
    data = src.read(band, window=window, out_shape=shape, masked=True, resampling=Resampling.nearest)
    values = data.data.astype(np.float32)
    values[np.ma.getmaskarray(data) | nodata_mask(data.data, nodata)] = np.nan
    transform = src.window_transform(window) @ rasterio.Affine.scale(window.width / shape[1], window.height / shape[0])
    return values, transform


def _colour_continuous(values: np.ndarray, visible: np.ndarray, colours) -> tuple[np.ndarray, dict]:
    table = colour_ramp(colours)
    shown = values[visible]
    low, high = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 0.0)
    span = high - low or 1.0
    index = np.clip(np.nan_to_num((values - low) / span * (len(table) - 1)), 0, len(table) - 1).astype(int)
    legend = {"kind": "continuous", "min": low, "max": high, "colours": [_hex(c) for c in colour_ramp(colours, 9)]}
    return table[index], legend


def _colour_classes(values: np.ndarray, visible: np.ndarray, colours) -> tuple[np.ndarray, dict]:
    palette = colour_ramp(CLASS_COLOURS, len(CLASS_COLOURS)) if tuple(colours) == DEFAULT_RAMP else \
        colour_ramp(colours, len(colours))
    classes = np.unique(values[visible])
    rgb = np.zeros(values.shape + (3,), np.uint8)
    entries = []
    for position, value in enumerate(classes):
        colour = palette[position % len(palette)]
        rgb[visible & (values == value)] = colour
        entries.append({"value": _class_label(value), "colour": _hex(colour)})
    return rgb, {"kind": "categorical", "classes": entries}


# -- demo raster -----------------------------------------------------------------------
def district_seats(province: str = config.DEFAULT_PROVINCE) -> gpd.GeoDataFrame:
    """Approximate district centres: the centroid (in UTM 47N) of each district's first tambon (code ..01).

    By the TIS-1099 numbering the first tambon is normally the district seat; the
    centroid stands in for the district office, so distances are approximate.
    """
    tambons = boundaries.load("tambon", province)
    seats = tambons[tambons["pcode"].str.endswith("01")]
    points = seats.geometry.to_crs(UTM_47N).centroid
    return gpd.GeoDataFrame({"district_pcode": seats["district_pcode"].to_numpy(), "tambon_pcode": seats["pcode"].to_numpy()},
                            geometry=points.to_numpy(), crs=UTM_47N)


def build_demo_raster(path: str | Path, province: str = config.DEFAULT_PROVINCE,
                      resolution: float = DEMO_RESOLUTION_M) -> Path:
    """Write the derived access raster: straight-line km to the nearest district centre.

    A grid of `resolution` metres in UTM 47N over the province, nodata outside
    it, written as a Cloud-Optimised GeoTIFF (256-cell deflate tiles with
    overviews).
    """
    path = Path(path)
    outline = gpd.GeoSeries([registry_store.province_outline(province)], crs=4326).to_crs(UTM_47N).iloc[0]
    west, south, east, north = outline.bounds
    west, south = math.floor(west / resolution) * resolution, math.floor(south / resolution) * resolution
    east, north = math.ceil(east / resolution) * resolution, math.ceil(north / resolution) * resolution
    width, height = int(round((east - west) / resolution)), int(round((north - south) / resolution))
    transform = from_origin(west, north, resolution, resolution)
    xs = west + (np.arange(width) + 0.5) * resolution
    ys = north - (np.arange(height) + 0.5) * resolution
    seats = district_seats(province)
    nearest = np.full((height, width), np.inf)
    for x, y in zip(seats.geometry.x, seats.geometry.y):  # 32 seats, each a whole-grid array operation
        np.minimum(nearest, np.hypot(xs[None, :] - x, ys[:, None] - y), out=nearest)
    inside = geometry_mask([outline], out_shape=nearest.shape, transform=transform, invert=True)
    distance = np.where(inside, nearest / 1000.0, DEMO_NODATA).astype(np.float32)
    _write_cog(path, distance, transform, UTM_47N, DEMO_NODATA, {
        "DERIVED": "yes",
        "TITLE_EN": DEMO_TITLE_EN,
        "DESCRIPTION": ("Straight-line distance in km from each cell centre to the nearest approximate district "
                        "centre (centroid of the district's first tambon); derived from OCHA COD-AB boundaries"),
        "UNITS": "km",
    })
    return path


def _write_cog(path: Path, values: np.ndarray, transform, crs, nodata: float, tags: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".staging.tif")
    partial = path.with_name(path.name + ".partial")
    profile = {"driver": "GTiff", "width": values.shape[1], "height": values.shape[0], "count": 1,
               "dtype": values.dtype.name, "crs": rasterio.crs.CRS.from_epsg(crs), "transform": transform,
               "nodata": nodata, "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate"}
    try:
        with rasterio.open(staging, "w", **profile) as dst:
            dst.write(values, 1)
            dst.update_tags(**tags)
        # The COG driver lays tiles and overviews out for ranged reads (Cloud-Optimised GeoTIFF).
        rasterio.shutil.copy(staging, partial, driver="COG", compress="deflate", predictor="yes",
                             blocksize=256, overview_resampling="average")
        partial.replace(path)
    finally:
        staging.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)


def register_demo_raster(store) -> RasterRecord:
    """Build the demo access raster into data/rasters/ and register it (replacing an earlier one)."""
    province = _province(store)
    path = build_demo_raster(registry_store.raster_dir() / f"{DEMO_ID}.tif", province)
    return registry_store.add_raster(
        store, path, DEMO_ID, DEMO_TITLE_TH, DEMO_TITLE_EN, unit_en="km", unit_th="กม.", kind="continuous",
        copy=True, replace=True, higher_is_better=False, derived=True,
        source=("Derived by the atlas from OCHA COD-AB boundaries (via mapthai): straight-line distance from "
                "each 250 m cell to the centroid of the nearest district's first tambon, an approximate district seat"),
    )
