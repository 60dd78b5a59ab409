"""Area polygons per level, held in memory for the dashboard, the CLI and exports.

Tambon, district and province polygons come from geodata.boundaries. Zone
polygons are districts dissolved by the store's zone table, which users can
edit, so the cache is keyed on that table's content.
"""
from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import pandas as pd

from geodata import boundaries, config
from geodata.store import NATIONAL

from .indicators import LEVELS


def area_geometries(level: str, store, province: str | None = None) -> gpd.GeoDataFrame:
    """GeoDataFrame(pcode, geometry) in EPSG:4326 for every area of `level`, in compute()'s order.

    The zone level's pcode is the zone number as text ("1".."10"). `province`
    picks one province of a national store (default: the store's own province;
    a national store without one gives the whole country).
    Repeated calls return the same cached frame: do not modify it in place.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    stored, zone_table = _store_facts(store)
    province = province or stored
    if province == NATIONAL:
        province = None  # boundaries.load's "whole country"
    if level == "zone":
        return _zone_geometries(province, zone_table)
    return _boundary_geometries(level, province)


def _store_facts(store) -> tuple[str, tuple[tuple[str, int], ...]]:
    """The store's province and its (district, zone) pairs, read once per store version."""
    version = getattr(store, "version", None)
    key = (store.location, version() if callable(version) else None)
    cached = _FACTS.get(key)
    if cached is None or key[1] is None:
        province = store.meta("province") or config.DEFAULT_PROVINCE
        zones = store.query("SELECT district_pcode, zone FROM zones ORDER BY district_pcode")
        cached = (province, tuple(zip(zones["district_pcode"], zones["zone"].astype(int))))
        _FACTS.clear()  # one store at a time is the normal case; keep the dict small
        _FACTS[key] = cached
    return cached


_FACTS: dict = {}


@lru_cache(maxsize=8)
def _boundary_geometries(level: str, province: str | None) -> gpd.GeoDataFrame:
    frame = boundaries.load(level, province)
    return frame[["pcode", "geometry"]].sort_values("pcode").reset_index(drop=True)


@lru_cache(maxsize=8)
def _zone_geometries(province: str | None, zone_table: tuple[tuple[str, int], ...]) -> gpd.GeoDataFrame:
    districts = _boundary_geometries("district", province)
    table = pd.DataFrame(list(zone_table), columns=["pcode", "zone"])
    merged = districts.merge(table, on="pcode", how="inner")
    dissolved = merged.dissolve(by="zone", as_index=False).sort_values("zone")
    dissolved["pcode"] = dissolved["zone"].astype(str)
    return gpd.GeoDataFrame(dissolved[["pcode", "geometry"]], geometry="geometry", crs=districts.crs).reset_index(drop=True)
