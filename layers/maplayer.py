"""Turn an indicator table into what a choropleth needs: classes, colours,
legend, value texts, ranks, and which areas are in focus.

Pure functions of data frames: the dashboard, the exports and the tests all
call them without Dash.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely

from . import classify, registry
# The PDPA rules live in layers/privacy.py; re-exported here for the callers that know them by this module.
from .privacy import SUPPRESSED_MIN, SUPPRESSED_TEXT, hidden_mask, suppress_small_counts  # noqa: F401

NO_DATA_COLOUR = "#e0e0e0"


@dataclass
class LegendEntry:
    label: str
    colour: str
    count: int


@dataclass
class MapLayer:
    level: str
    indicator: registry.Indicator
    pcodes: list[str]
    values: np.ndarray  # NaN where no data or suppressed
    classes: np.ndarray  # class index, -1 for no data
    colours: list[str]  # one per class
    legend: list[LegendEntry]
    value_text: list[str]
    rank: list[int | None]
    in_focus: np.ndarray
    focus_count: int = 0
    notes: list[str] = field(default_factory=list)


def focus_mask(table: pd.DataFrame, level: str, zones=(), district: str | None = None) -> np.ndarray:
    """Areas inside the chosen zones (and drill-down district)."""
    mask = np.ones(len(table), dtype=bool)
    if zones:
        zone_column = table["pcode"].astype(int) if level == "zone" else table["zone"]
        mask &= zone_column.isin(list(zones)).to_numpy()
    if district and level == "tambon":
        mask &= (table["district_pcode"] == district).to_numpy()
    return mask


def ranks(values: np.ndarray, mask: np.ndarray) -> list[int | None]:
    """1 for the highest value among the areas in `mask`; ties share a rank."""
    series = pd.Series(np.where(mask, values, np.nan))
    ranked = series.rank(ascending=False, method="min")
    return [None if np.isnan(r) else int(r) for r in ranked]


def build_layer(
    table: pd.DataFrame,
    indicator_id: str,
    level: str,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    breaks=(),
    zones=(),
    district: str | None = None,
    lang: str = "th",
    thai_digits: bool = False,
) -> MapLayer:
    indicator = registry.get(indicator_id)
    table = suppress_small_counts(table)  # the PDPA rule, once (a shown table already has it)
    values = pd.to_numeric(table[indicator_id], errors="coerce").to_numpy(dtype=float)
    in_focus = focus_mask(table, level, zones, district)
    # Classes come from the areas in focus, so a zone's map uses its own range.
    focused = np.where(in_focus, values, np.nan)
    result = classify.classify(focused, scheme=scheme, k=k, breaks=list(breaks) or None)
    classes = classes_for(values, result.bins)
    colours = classify.colours(indicator.palette, result.k, higher_is_better=indicator.higher_is_better)
    labels = result.labels(lambda v: indicator.format_value(v, lang, thai_digits, with_unit=False))
    legend = [LegendEntry(label, colour, int(count)) for label, colour, count in zip(labels, colours, result.counts)]
    missing = int(np.sum(in_focus & (classes < 0)))
    if missing:
        legend.append(LegendEntry(_no_data_label(lang), NO_DATA_COLOUR, missing))
    hidden = hidden_mask(table, indicator_id)
    value_text = [
        (SUPPRESSED_TEXT if is_hidden else indicator.format_value(v, lang, thai_digits))
        for v, is_hidden in zip(values, hidden)
    ]
    return MapLayer(
        level=level,
        indicator=indicator,
        pcodes=table["pcode"].astype(str).tolist(),
        values=values,
        classes=classes,
        colours=colours,
        legend=legend,
        value_text=value_text,
        rank=ranks(values, in_focus),
        in_focus=in_focus,
        focus_count=int(in_focus.sum()),
    )


def classes_for(values: np.ndarray, bins: list[float]) -> np.ndarray:
    """Class of every value by the focus area's bins; values beyond them join the end classes."""
    classes = np.full(values.shape, -1, dtype=int)
    present = ~np.isnan(values)
    if bins and present.any():
        classes[present] = np.clip(np.searchsorted(np.asarray(bins), values[present], side="left"), 0, len(bins) - 1)
    return classes


def _no_data_label(lang: str) -> str:
    return "ไม่มีข้อมูล" if lang == "th" else "No data"


def geojson(frame) -> dict:
    """A compact GeoJSON FeatureCollection (5 decimals, about 1 m) keyed by pcode."""
    rounded = shapely.transform(frame.geometry.values, lambda xy: np.round(xy, 5))
    features = [
        {"type": "Feature", "id": pcode, "properties": {"pcode": pcode}, "geometry": shapely.geometry.mapping(geom)}
        for pcode, geom in zip(frame["pcode"].astype(str), rounded)
    ]
    return {"type": "FeatureCollection", "features": features}


def view_box(frame, mask: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """lon/lat bounds of the areas in mask (all areas when mask is None or empty)."""
    geoms = frame.geometry.values
    if mask is not None and mask.any():
        geoms = geoms[mask]
    return tuple(float(v) for v in shapely.total_bounds(geoms))


def mercator_y(lat):
    """Web Mercator y of a latitude (radians of the unit sphere; north is up); arrays too."""
    return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def centre_and_zoom(bounds, width_px: int = 900, height_px: int = 650) -> tuple[dict, float]:
    """Web-Mercator centre and zoom that fit `bounds` into a map of the given size."""
    lon0, lat0, lon1, lat1 = bounds
    centre = {"lon": (lon0 + lon1) / 2, "lat": (lat0 + lat1) / 2}

    span_x = max(lon1 - lon0, 1e-6) / 360
    span_y = max(mercator_y(lat1) - mercator_y(lat0), 1e-9) / (2 * np.pi)
    zoom = min(np.log2(width_px / 512 / span_x), np.log2(height_px / 512 / span_y))
    return centre, float(round(zoom - 0.35, 2))


def ranking_rows(layer: MapLayer, table: pd.DataFrame, lang: str, sort_by: list | None = None) -> list[dict]:
    """Rows of the ranking table for the areas in focus, sorted as asked.

    Names sort in Thai dictionary order (or English alphabetical order);
    values sort numerically with missing values last either way.
    """
    from .thai import thai_sort_key

    name_column = "name_th" if lang == "th" else "name_en"
    district_column = "district_th" if lang == "th" else "district_en"
    rows = []
    for i in np.flatnonzero(layer.in_focus):
        record = table.iloc[i]
        rows.append({
            "id": layer.pcodes[i],
            "rank": layer.rank[i],
            "name": record[name_column],
            "district": record[district_column] if district_column in table else "",
            "value": layer.value_text[i],
            "_number": None if np.isnan(layer.values[i]) else float(layer.values[i]),
        })
    column, descending = "rank", False
    if sort_by:
        column, descending = sort_by[0]["column_id"], sort_by[0]["direction"] == "desc"
    if column in ("name", "district"):
        key = (lambda r: thai_sort_key(r[column])) if lang == "th" else (lambda r: str(r[column]).casefold())
        rows.sort(key=key, reverse=descending)
    else:
        number = "_number" if column == "value" else "rank"
        present = [r for r in rows if r[number] is not None]
        absent = [r for r in rows if r[number] is None]
        present.sort(key=lambda r: r[number], reverse=descending)
        rows = present + absent
    return rows
