"""Real administrative boundaries of Thailand (OCHA COD-AB via mapthai).

The `.rda` files are fetched by URL with a pinned sha256 (pooch), or taken
from a local mirror folder after the same hash check. The parsed polygons are
cached as GeoParquet so that later loads skip the slow R-data parse.
"""
from __future__ import annotations

import shutil
import warnings
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pooch
import shapely

from . import config

SOURCE_COMMIT = "2e20a60189cf1737429e7f0b9359e9cc8d794e1a"
BASE_URL = f"https://raw.githubusercontent.com/piyayut-ch/mapthai/{SOURCE_COMMIT}/data/"
REGISTRY = {
    "tha1.rda": "0c12115b37ed9b23ff13619dfd6ab0b556c6e92bb7430b8057f531d071088d64",
    "tha2.rda": "e83da40c4a7ec41c6c3b9fb58993cf642249b3ba474bd06154a4452f6b77f590",
    "tha3.rda": "05c8df1fd530b208086ef32ddf2a070b5a19d88eed5fc4f4206e34f25f48566d",
}
LEVEL_FILES = {"province": "tha1.rda", "district": "tha2.rda", "tambon": "tha3.rda"}
LEVEL_PREFIX = {"province": "adm1", "district": "adm2", "tambon": "adm3"}
ATTRIBUTION = (
    "Boundaries: OCHA COD-AB Thailand (Royal Thai Survey Department, 2019, CC BY-IGO), "
    "simplified in piyayut-ch/mapthai (MIT)"
)


class HashMismatchError(RuntimeError):
    """A boundary file's content is not the pinned one."""


def fetch(filename: str, mirror: Path | None = None, cache: Path | None = None) -> Path:
    """Return a local path to a registry file whose sha256 matches the pin."""
    expected = REGISTRY[filename]
    mirror = config.mirror_dir() if mirror is None else mirror
    if mirror is not None:
        for candidate in (mirror / "mapthai" / filename, mirror / filename):
            if candidate.is_file():
                actual = pooch.file_hash(str(candidate))
                if actual != expected:
                    raise HashMismatchError(
                        f"{candidate}: sha256 {actual} does not match the pinned {expected}; "
                        "refusing to use it (remove the file or fix the mirror)"
                    )
                return candidate
    cache = config.cache_dir() if cache is None else cache
    path = pooch.retrieve(
        BASE_URL + filename, known_hash=f"sha256:{expected}", fname=filename, path=cache, progressbar=False
    )
    return Path(path)


def _multipolygon(parts) -> shapely.MultiPolygon:
    """Build a MultiPolygon from an sf POLYGON (list of rings) or MULTIPOLYGON (list of those)."""
    if isinstance(parts[0], np.ndarray) and np.asarray(parts[0]).ndim == 2:
        parts = [parts]
    return shapely.MultiPolygon([shapely.Polygon(rings[0], rings[1:]) for rings in parts])


def read_rda(path: Path) -> gpd.GeoDataFrame:
    """Parse one mapthai `.rda` file into a GeoDataFrame in EPSG:4326."""
    import rdata

    with warnings.catch_warnings():
        # rdata has no constructors for the sf classes; the data converts anyway.
        warnings.simplefilter("ignore")
        converted = rdata.conversion.convert(rdata.parser.parse_file(path))
    frame = next(iter(converted.values()))
    geometry = [_multipolygon(parts) for parts in frame["geometry"]]
    attributes = pd.DataFrame(frame.drop(columns="geometry")).reset_index(drop=True)
    for column in attributes.columns:
        attributes[column] = attributes[column].astype(str)
    return gpd.GeoDataFrame(attributes, geometry=geometry, crs="EPSG:4326")


def _standardise(frame: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """Name columns the same way at every level: pcode, name_th, name_en, parents."""
    prefix = LEVEL_PREFIX[level]
    renames = {f"{prefix}_pcode": "pcode", f"{prefix}_th": "name_th", f"{prefix}_en": "name_en"}
    for parent, label in (("adm2", "district"), ("adm1", "province")):
        if parent != prefix:
            renames |= {f"{parent}_pcode": f"{label}_pcode", f"{parent}_th": f"{label}_th", f"{parent}_en": f"{label}_en"}
    frame = frame.rename(columns=renames)
    keep = [c for c in renames.values() if c in frame.columns] + ["geometry"]
    return frame[keep].sort_values("pcode").reset_index(drop=True)


def _cache_file(level: str, province: str | None) -> Path:
    digest = REGISTRY[LEVEL_FILES[level]][:12]
    return config.cache_dir() / f"{level}-{province or 'TH'}-{digest}.parquet"


def load(level: str = "tambon", province: str | None = config.DEFAULT_PROVINCE) -> gpd.GeoDataFrame:
    """Boundaries of one level, for one province (`TH30`) or the country (`None`).

    Columns: pcode, name_th, name_en, the parents' pcode/name_th/name_en, geometry.
    """
    if level not in LEVEL_FILES:
        raise ValueError(f"unknown level {level!r}; expected one of {sorted(LEVEL_FILES)}")
    cached = _cache_file(level, province)
    if cached.is_file():
        return gpd.read_parquet(cached)
    national = _cache_file(level, None)
    if national.is_file():
        frame = gpd.read_parquet(national)
    else:
        frame = _standardise(read_rda(fetch(LEVEL_FILES[level])), level)
        _write_parquet(frame, national)
    if province is not None:
        column = "pcode" if level == "province" else "province_pcode"
        frame = frame[frame[column] == province].reset_index(drop=True)
        if frame.empty:
            raise ValueError(f"no {level} boundaries for province {province!r}")
        _write_parquet(frame, cached)
    return frame


def _write_parquet(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write via a temporary name so a crash never leaves a half-written cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    frame.to_parquet(partial)
    shutil.move(partial, path)


@lru_cache(maxsize=8)
def tambon_table(province: str | None = config.DEFAULT_PROVINCE) -> pd.DataFrame:
    """Tambon attributes without geometry: the reference list for name matching."""
    return pd.DataFrame(load("tambon", province).drop(columns="geometry"))


def province_codes() -> pd.DataFrame:
    """All provinces with their P-codes and names, for `--province` choices."""
    frame = load("province", None)
    return pd.DataFrame(frame[["pcode", "name_th", "name_en"]])


def centroid_lonlat(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Centroids computed in UTM 47N (metres) and returned as lon/lat pairs."""
    points = frame.geometry.to_crs(32647).centroid.to_crs(4326)
    return np.column_stack([points.x, points.y])
