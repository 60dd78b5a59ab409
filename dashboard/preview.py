"""A picture of the first map, shown over the map box until MapLibre has drawn the map.

On a machine without a GPU, WebGL (software) needs about a second to draw the
first frame after the scripts have loaded; the picture shows the same
choropleth at once. It is an SVG drawn from the first view's own layer and
geometry, in MapLibre's pixels at the live figure's centre and zoom, so it
lies exactly where the map will be drawn. `assets/map-preview.js` hides it
when plotly has drawn the map, or at once when the URL asks for another view.
"""
from __future__ import annotations

import html

import flask
import numpy as np
import shapely

from layers.maplayer import NO_DATA_COLOUR, mercator_y

from . import figures
from .state import View

ROUTE = "/map-preview.svg"
TILE_PIXELS = 512  # MapLibre's world is 512 × 2^zoom pixels wide
SIMPLIFY_PIXELS = 0.4


def map_pixels(geometry, centre: dict, zoom: float):
    """Geometry in MapLibre's screen pixels at `zoom`, relative to the map centre (y down)."""
    world = TILE_PIXELS * 2.0 ** zoom

    def project(lon, lat):
        x = (np.asarray(lon) + 180) / 360 * world
        y = (1 - mercator_y(np.asarray(lat)) / np.pi) / 2 * world
        return x, y

    cx, cy = project(centre["lon"], centre["lat"])

    def to_pixels(coords):
        x, y = project(coords[:, 0], coords[:, 1])
        return np.column_stack([x - cx, y - cy])

    return shapely.transform(geometry, to_pixels)


def _path_data(geometry) -> str:
    rings = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in [polygon.exterior, *polygon.interiors]:
            points = np.round(np.asarray(ring.coords)[:-1], 1)
            rings.append("M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z")
    return "".join(rings)


def preview_svg(atlas) -> str:
    """The first map (the default view at the live figure's own centre and zoom) with district outlines, as SVG."""
    layer = atlas.layer(View())
    first_view = figures.base_map_dict(atlas)["layout"]["map"]
    centre, zoom = first_view["center"], first_view["zoom"]
    tambons = atlas.geometry(layer.level).set_index("pcode").loc[layer.pcodes].geometry.values
    shapes = shapely.simplify(map_pixels(tambons, centre, zoom), SIMPLIFY_PIXELS)
    outlines = shapely.simplify(map_pixels(atlas.geometry("district").geometry.values, centre, zoom), SIMPLIFY_PIXELS)
    x0, y0, x1, y1 = shapely.total_bounds(np.concatenate([shapes, outlines]))
    # Centred on the map centre, so that centring the picture in the map box lines it up.
    half_w, half_h = int(np.ceil(max(-x0, x1))) + 2, int(np.ceil(max(-y0, y1))) + 2
    colours = [layer.colours[c] if c >= 0 else NO_DATA_COLOUR for c in layer.classes]
    opacity = np.where(layer.in_focus, 1.0, figures.FADED_OPACITY)
    areas = "".join(
        f'<path data-pcode="{html.escape(str(pcode))}" fill="{colour}" fill-opacity="{o:g}" d="{_path_data(shape)}"/>'
        for pcode, colour, o, shape in zip(layer.pcodes, colours, opacity, shapes)
    )
    districts = "".join(f'<path d="{_path_data(shape)}"/>' for shape in outlines) if layer.level == "tambon" else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * half_w}" height="{2 * half_h}" '
        f'viewBox="{-half_w} {-half_h} {2 * half_w} {2 * half_h}" fill-rule="evenodd">'
        f'<g stroke="#ffffff" stroke-width="0.6" stroke-linejoin="round">{areas}</g>'
        f'<g fill="none" stroke="#4d4d4d" stroke-width="1.6" stroke-linejoin="round">{districts}</g></svg>'
    )


def init_app(app, atlas, warm: bool = False) -> None:
    def current() -> bytes:
        return atlas.cached(("map-preview",), lambda: preview_svg(atlas).encode())

    @app.server.route(ROUTE)
    def map_preview():
        response = flask.make_response(current())
        response.headers["Content-Type"] = "image/svg+xml"
        # The page asks for it with the store version in the URL: a new import is a new URL.
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    if warm:
        current()
