"""The choropleth figure, shared by the live map and every export.

The base figure carries the geometry of all three levels once; everything a
user changes afterwards is a list of (path, value) updates that can be applied
to a figure dict (exports) or to a `dash.Patch` (the live map), so the
browser receives only values and colours.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from layers.atlas import MAP_LEVELS
from layers.maplayer import NO_DATA_COLOUR, MapLayer, centre_and_zoom

from .i18n import t
from .state import View

LEVEL_TRACE = {"tambon": 0, "district": 1, "zone": 2}
OUTLINE_TRACE = 3
HIGHLIGHT_TRACE = 4
TRANSPARENT = [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]]
FADED_OPACITY = 0.25
MAP_HEIGHT = 640
# The legend sits in its own strip left of the map, never over the province.
MAP_DOMAIN_X = [0.2, 1.0]
MAP_PIXELS = (720, MAP_HEIGHT)  # the map's share of a typical 900-pixel-wide graph


@dataclass
class LevelGeometry:
    geojson: dict
    pcodes: list[str]
    names: list[str]  # "Thai · English" shown on hover


def discrete_colorscale(colours: list[str], with_no_data: bool) -> tuple[list, float, float]:
    """A stepped colour scale where integer z = class index (and -1 = no data)."""
    steps = ([NO_DATA_COLOUR] if with_no_data else []) + list(colours or [NO_DATA_COLOUR])
    n = len(steps)
    scale = []
    for i, colour in enumerate(steps):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    zmin = -1 if with_no_data else 0
    return scale, zmin - 0.5, zmin + n - 0.5


def base_figure(levels: dict[str, LevelGeometry], outline: dict, bounds) -> go.Figure:
    """Empty choropleths for every level, a district outline, and an offline basemap."""
    figure = go.Figure()
    for level in LEVEL_TRACE:
        geo = levels[level]
        figure.add_trace(
            go.Choroplethmap(
                geojson=geo.geojson,
                featureidkey="properties.pcode",
                locations=geo.pcodes,
                z=[-1] * len(geo.pcodes),
                text=geo.names,
                name=level,
                visible=level == "tambon",
                showscale=level == "tambon",
                marker={"line": {"width": 0.6, "color": "#ffffff"}},
            )
        )
    figure.add_trace(
        go.Choroplethmap(
            geojson=outline,
            featureidkey="properties.pcode",
            locations=[f["properties"]["pcode"] for f in outline["features"]],
            z=[0] * len(outline["features"]),
            colorscale=TRANSPARENT,
            showscale=False,
            hoverinfo="skip",
            name="outline",
            marker={"line": {"width": 1.6, "color": "#4d4d4d"}},
        )
    )
    figure.add_trace(
        go.Choroplethmap(
            geojson={"type": "FeatureCollection", "features": []}, featureidkey="id", locations=[], z=[],
            colorscale=TRANSPARENT, showscale=False, hoverinfo="skip", name="selected",
            marker={"line": {"width": 4, "color": "#111111"}},
        )
    )
    centre, zoom = centre_and_zoom(bounds, *MAP_PIXELS)
    figure.update_layout(
        map={"style": "white-bg", "center": centre, "zoom": zoom, "domain": {"x": MAP_DOMAIN_X, "y": [0, 1]}},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        autosize=True,  # the graph's box sets the size: 640 px on the page, the whole frame when embedded
        paper_bgcolor="#ffffff",
        font={"family": "Noto Sans Thai, Sarabun, Loma, sans-serif"},
        uirevision="province",
        showlegend=False,
    )
    return figure


def base_map_figure(atlas):
    levels = {}
    for level in MAP_LEVELS:
        table = atlas.table(level)
        names = (table["name_th"] + " · " + table["name_en"]).tolist()
        if level == "tambon":
            names = [f"{n}<br>{d_th} · {d_en}" for n, d_th, d_en in zip(names, table["district_th"], table["district_en"])]
        geometry = atlas.geometry(level)
        assert geometry["pcode"].astype(str).tolist() == table["pcode"].astype(str).tolist(), level
        levels[level] = LevelGeometry(atlas.geojson(level), table["pcode"].astype(str).tolist(), names)
    bounds = tuple(atlas.geometry("district").total_bounds)
    figure = base_figure(levels, atlas.geojson("district"), bounds)
    # The default view's colours ride with the first page, so the map paints without
    # waiting for a callback; a permalink's own view follows as a patch.
    updates = layer_updates(atlas.layer(View()), View().lang)
    figure.update_layout(apply_to_dict({"layout": {}}, [u for u in updates if u[0][0] == "layout"])["layout"])
    for (_, index, *path), value in (u for u in updates if u[0][0] == "data"):
        figure.data[index].update(_nested(path, value))
    return figure


def _nested(path: list, value) -> dict:
    node = value
    for key in reversed(path):
        node = {key: node}
    return node


def base_map_dict(atlas) -> dict:
    """base_map_figure() as a dict, built once per store version for the page, the exports and
    the first map's picture (nothing writes to it; exports change copies)."""
    return atlas.cached(("base-map",), lambda: base_map_figure(atlas).to_dict())


def layer_updates(layer: MapLayer, lang: str, selected: dict | None = None) -> list[tuple[tuple, object]]:
    """Everything that changes when the indicator, classes, focus or selection change.

    `selected` is the GeoJSON feature of the selected area: it is drawn by a
    small highlight trace, so selecting never resends the other areas.
    """
    index = LEVEL_TRACE[layer.level]
    with_no_data = bool((layer.classes < 0).any())
    scale, zmin, zmax = discrete_colorscale(layer.colours, with_no_data)
    tickvals = ([-1] if with_no_data else []) + list(range(len(layer.colours)))
    class_legend = [e for e in layer.legend if e.colour != NO_DATA_COLOUR or len(layer.colours) == 0]
    ticktext = ([t("no_data", lang)] if with_no_data else []) + [f"{e.label} ({e.count})" for e in class_legend][: len(layer.colours)]
    focus_total = layer.focus_count or len(layer.pcodes)
    label = layer.indicator.label(lang)
    unit = layer.indicator.unit(lang)
    updates = [(("data", i, "visible"), i == index) for i in LEVEL_TRACE.values()]
    updates += [(("data", i, "showscale"), i == index) for i in LEVEL_TRACE.values()]
    updates += [(("data", OUTLINE_TRACE, "visible"), layer.level == "tambon")]
    trace = ("data", index)
    updates += [
        (trace + ("z",), layer.classes.tolist()),
        (trace + ("zmin",), zmin),
        (trace + ("zmax",), zmax),
        (trace + ("colorscale",), scale),
        # Ranks go as bare numbers (out of focus: "–"); the "/N" lives once in the template.
        (trace + ("customdata",), [[v, "–" if r is None else r] for v, r in zip(layer.value_text, layer.rank)]),
        (trace + ("hovertemplate",),
         f"<b>%{{text}}</b><br>{label}: %{{customdata[0]}}{f' <i>({unit})</i>' if unit else ''}<br>"
         f"{t('rank', lang)}: %{{customdata[1]}}/{focus_total}<extra></extra>"),
        # Arrays only where areas differ: a scalar keeps the response small.
        (trace + ("marker", "opacity"),
         1.0 if layer.in_focus.all() else np.where(layer.in_focus, 1.0, FADED_OPACITY).tolist()),

        (trace + ("colorbar",), {
            "title": {"text": f"{label}<br><sub>{unit}</sub>" if unit else label, "side": "top"},
            "tickvals": tickvals, "ticktext": ticktext, "len": 0.6, "thickness": 14,
            "x": 0.0, "xanchor": "left", "y": 0.02, "yanchor": "bottom",
        }),
    ]
    features = [selected] if selected else []
    updates += [
        (("data", HIGHLIGHT_TRACE, "geojson"), {"type": "FeatureCollection", "features": features}),
        (("data", HIGHLIGHT_TRACE, "locations"), [f["id"] for f in features]),
        (("data", HIGHLIGHT_TRACE, "z"), [0] * len(features)),
    ]
    return updates


def view_updates(bounds, revision: str) -> list[tuple[tuple, object]]:
    """Recentre the map; a new uirevision lets the new view win over the user's zoom."""
    centre, zoom = centre_and_zoom(bounds, *MAP_PIXELS)
    return [(("layout", "map", "center"), centre), (("layout", "map", "zoom"), zoom), (("layout", "uirevision"), revision)]


def apply_to_dict(figure: dict, updates) -> dict:
    for path, value in updates:
        node = figure
        for key in path[:-1]:
            if isinstance(node, list):
                node = node[key]
            else:
                node = node.setdefault(key, {})
        node[path[-1]] = value
    return figure


def apply_to_patch(patch, updates):
    for path, value in updates:
        node = patch
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return patch


def focus_key(view) -> str:
    return f"{view.level}|{','.join(map(str, view.zones))}|{view.district or ''}"


def overlay_key(view) -> str:
    return f"{view.overlay}@{view.opacity:g}" if view.overlay else ""


def overlay_updates(overlay, opacity: float) -> list[tuple[tuple, object]]:
    layers = [overlay.layer(opacity)] if overlay is not None else []
    return [(("layout", "map", "layers"), layers)]


def map_state(atlas, view) -> dict:
    """What the live map shows once it draws `view`: its focus, its overlay, and a digest of
    the store version and view drawn (the page's first figure is prebuilt with the default view)."""
    drawn = hashlib.sha1(f"{atlas.store.version()}#{view!r}".encode()).hexdigest()[:16]
    return {"focus": focus_key(view), "overlay": overlay_key(view), "drawn": drawn}


def map_updates(atlas, view, previous: dict | None):
    """Updates for the live map, and the map state they leave it in.

    Nothing when the map already shows this view of this store. The map is
    recentred only when the focus (level, zones, drill-down district)
    changes, so `uirevision` keeps the user's zoom otherwise; the raster image
    is sent only when the overlay or its opacity changes.
    """
    previous = previous or {}
    state = map_state(atlas, view)
    if state["drawn"] == previous.get("drawn"):
        return [], state
    layer = atlas.layer(view)
    updates = layer_updates(layer, view.lang, selected=atlas.feature(view.level, view.area))
    if state["focus"] != previous.get("focus"):
        revision = state["focus"] if (view.zones or view.district) else "province"
        updates += view_updates(atlas.focus_bounds(view), revision)
    if state["overlay"] != previous.get("overlay", ""):
        updates += overlay_updates(atlas.overlay(view.overlay), view.opacity)
    return updates, state
