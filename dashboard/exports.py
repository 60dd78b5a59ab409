"""Maps that leave the app: images, slide decks, standalone pages and web maps.

One function per format. The Download menu (callbacks/downloads.py) and the
CLI (`python -m dashboard export`, dashboard/cli_export.py) both call them,
and none of them needs a running server: they take an `Atlas` and a `View`.

Every format starts from the live map's own figure (dashboard.figures:
base figure + `layer_updates`), so an export shows the same classes, colours,
legend and focus as the screen. Static images (PNG, SVG, PDF, slides) swap
the MapLibre map for plotly's SVG `geo` map with the same traces: software
WebGL needs about 5 s per 1920×1080 frame here and puts a bitmap inside SVG
and PDF files, whereas the SVG map renders in under a second and stays vector.
A raster overlay goes on the SVG map as a picture cut to the map's frame.
"""
from __future__ import annotations

import atexit
import base64
import copy
import datetime as dt
import html
import io
import json
import shutil
import tempfile
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from layers import maplayer, registry
from layers.maplayer import mercator_y

from . import figures
from .i18n import t
from .state import View, to_query

FORMATS = ("png", "svg", "pdf", "pptx", "html", "folium")
# What the Download menu offers: (choice, format, scale, one slide per zone).
DOWNLOAD_CHOICES = {
    "png": ("png", 1, False),
    "png2x": ("png", 2, False),
    "svg": ("svg", 1, False),
    "pdf": ("pdf", 1, False),
    "pptx": ("pptx", 1, False),
    "pptx_zones": ("pptx", 1, True),
    "html": ("html", 1, False),
    "folium": ("folium", 1, False),
}
MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "html": "text/html",
    "folium": "text/html",
}

WIDTH, HEIGHT = 1920, 1080
# Latin glyphs from Noto Sans, Thai from Noto Sans Thai (or Loma from fonts-thai-tlwg).
FONT_FAMILY = "Noto Sans, Noto Sans Thai, Loma, Garuda, sans-serif"
SYNTHETIC_COLOUR = "#b00020"
TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#555555"
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")


# -- texts shared by every format ---------------------------------------------------------
def is_synthetic(atlas) -> bool:
    return bool(atlas.synthetic_tables())


def title_text(atlas, view: View) -> str:
    return registry.get(view.indicator).label(view.lang)


def zones_text(atlas, view: View) -> str:
    if not view.zones:
        return t("zones_all", view.lang)
    names = atlas.zones().set_index("zone")["name_th" if view.lang == "th" else "name_en"]
    if len(view.zones) == 1 and view.zones[0] in names.index:
        return str(names[view.zones[0]])
    return f"{t('level_zone', view.lang)} {', '.join(map(str, view.zones))}"


def year_text(view: View) -> str:
    if view.year is None:
        return f"{t('year', view.lang)}: {t('year_latest', view.lang)}"
    if view.lang == "th":
        return f"{t('year', view.lang)} {view.year + 543} ({view.year})"
    return f"{t('year', view.lang)} {view.year}"


def subtitle_text(atlas, view: View) -> str:
    """Level, zones, drill-down district, year and (for poverty measures) the MPI cutoff."""
    drilled = bool(view.district) and view.level == "tambon"
    parts = [t(f"level_{view.level}", view.lang)]
    if view.zones or not drilled:
        parts.append(zones_text(atlas, view))
    if drilled:
        districts = atlas.table("district").set_index("pcode")
        if view.district in districts.index:
            row = districts.loc[view.district]
            parts.append(f"{t('district', view.lang)} {row['name_th'] if view.lang == 'th' else row['name_en']}")
    parts.append(year_text(view))
    if view.indicator.startswith(("mpi", "targeted_poor")):
        parts.append(f"k = {view.mpi_cutoff:g}")
    overlay = atlas.overlay(view.overlay)
    if overlay is not None:
        parts.append(f"{t('overlay', view.lang)}: {overlay.title(view.lang)}")
    return " · ".join(parts)


def date_text(lang: str, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    if lang == "th":
        return f"{today.day} {THAI_MONTHS[today.month - 1]} {today.year + 543}"
    return today.isoformat()


def source_text(atlas, view: View) -> str:
    indicator = registry.get(view.indicator)
    return f"{t('export_data_source', view.lang)}: {indicator.source}. {t('export_boundaries', view.lang)}"


def made_text(view: View) -> str:
    return f"{t('title', view.lang)} · {t('export_made', view.lang)} {date_text(view.lang)}"


def synthetic_mark() -> str:
    """Both languages at once: the mark must be understood whoever reads the copy."""
    return f"{t('synthetic_mark', 'th')} · {t('synthetic_mark', 'en').upper()}"


def filename(view: View, fmt: str, scale: float = 1, suffix: str = "") -> str:
    """A file name that says what the map shows, e.g. `korat-mpi_headcount-tambon-zone3-2024.png`."""
    parts = ["korat", view.indicator, view.level]
    if view.zones:
        parts.append("zone" + "-".join(map(str, view.zones)))
    if view.district:
        parts.append(view.district)
    parts.append(str(view.year) if view.year else "latest")
    if scale != 1 and fmt == "png":
        parts.append(f"{scale:g}x")
    if suffix:
        parts.append(suffix)
    extension = {"folium": "html"}.get(fmt, fmt)
    if fmt == "folium":
        parts.append("webmap")
    return "-".join(parts) + "." + extension


# -- the figure --------------------------------------------------------------------------
def _fresh_copy(figure: dict) -> dict:
    """A copy that updates can change; the big GeoJSON stays shared because nothing writes to it."""
    data = [{key: value if key == "geojson" else copy.deepcopy(value) for key, value in trace.items()}
            for trace in figure["data"]]
    return {"data": data, "layout": copy.deepcopy(figure["layout"])}


def map_figure(atlas, view: View) -> dict:
    """The live map for `view` (MapLibre traces, the same updates as the screen), hidden traces left out."""
    figure = _fresh_copy(figures.base_map_dict(atlas))
    updates, _ = figures.map_updates(atlas, view, None)  # no previous map: centre on the focus
    figures.apply_to_dict(figure, updates)
    figure["data"] = [trace for trace in figure["data"]
                      if trace.get("visible", True) is not False and len(trace.get("locations") or ()) > 0]
    return figure


@dataclass(frozen=True)
class Frame:
    """Where things go on a page of `width`×`height` pixels (paper coordinates, no margins).

    `text` enlarges lettering and the bands that hold it, e.g. for a map shown small on a slide.
    """
    width: int = WIDTH
    height: int = HEIGHT
    header: bool = True
    text: float = 1.0

    @property
    def unit(self) -> float:  # lettering and spacing grow with the page height
        return self.height / HEIGHT * self.text

    def y(self, pixels_from_bottom: float) -> float:
        return pixels_from_bottom * self.unit / self.height

    @property
    def map_x(self) -> tuple[float, float]:
        return (0.22, 0.99)

    @property
    def map_y(self) -> tuple[float, float]:
        return (self.y(FOOTER_PX), 1 - self.y(HEADER_PX if self.header else 70))

    def map_pixels(self) -> tuple[int, int]:
        (x0, x1), (y0, y1) = self.map_x, self.map_y
        return int(self.width * (x1 - x0)), int(self.height * (y1 - y0))

    def wrap(self, text: str, size: float, share: float = 0.96) -> str:
        """Break a line that would run off the page (plotly does not wrap annotations)."""
        characters = max(int(self.width * share / (0.52 * size)), 20)
        return "<br>".join(html.escape(line) for line in textwrap.wrap(text, characters)) or html.escape(text)


HEADER_PX, FOOTER_PX = 135, 105


def _annotation(text, x, y, size, xanchor="left", yanchor="top", colour=TEXT_COLOUR, **extra) -> dict:
    return {"text": text, "x": x, "y": y, "xref": "paper", "yref": "paper", "xanchor": xanchor,
            "yanchor": yanchor, "showarrow": False, "align": xanchor if xanchor != "center" else "center",
            "font": {"size": size, "color": colour, "family": FONT_FAMILY}, **extra}


def decorate(figure: dict, atlas, view: View, frame: Frame) -> dict:
    """Title, subtitle, legend, data source, boundary licence, date, and the synthetic-data mark."""
    u = frame.unit
    layout = figure["layout"]
    layout.update(margin={"l": 0, "r": 0, "t": 0, "b": 0}, paper_bgcolor="#ffffff",
                  font={"family": FONT_FAMILY, "color": TEXT_COLOUR, "size": round(16 * u)})
    layout.pop("height", None)
    left, right, small = 28 * u / frame.width, 1 - 28 * u / frame.width, round(15 * u)
    notes = []
    if frame.header:
        notes.append(_annotation(f"<b>{html.escape(title_text(atlas, view))}</b>", left, 1 - frame.y(22), round(40 * u)))
        notes.append(_annotation(html.escape(subtitle_text(atlas, view)), left, 1 - frame.y(80), round(24 * u),
                                 colour=MUTED_COLOUR))
    indicator = registry.get(view.indicator)
    footer = [f"{t('export_data_source', view.lang)}: {indicator.source}", t("export_boundaries", view.lang)]
    notes.append(_annotation("<br>".join(frame.wrap(line, small) for line in footer), left, frame.y(38), small,
                             yanchor="bottom", colour=MUTED_COLOUR))
    notes.append(_annotation(html.escape(made_text(view)), left, frame.y(12), small, yanchor="bottom",
                             colour=MUTED_COLOUR))
    if is_synthetic(atlas):
        notes.append(_annotation(f"<b>{synthetic_mark()}</b>", right, 1 - frame.y(22), round(26 * u),
                                 xanchor="right", colour="#ffffff", bgcolor=SYNTHETIC_COLOUR,
                                 bordercolor=SYNTHETIC_COLOUR, borderpad=round(8 * u)))
        notes.append(_annotation(html.escape(t("synthetic_banner", view.lang)), right, frame.y(12), small,
                                 xanchor="right", yanchor="bottom", colour=SYNTHETIC_COLOUR))
    layout["annotations"] = notes
    _place_legend(figure, view, frame)
    return figure


def _place_legend(figure: dict, view: View, frame: Frame) -> None:
    """The colour bar from layer_updates (class bounds and counts) in the left column."""
    u = frame.unit
    y0, y1 = frame.map_y
    for trace in figure["data"]:
        if not trace.get("showscale"):
            continue
        unit = registry.get(view.indicator).unit(view.lang)
        trace["colorbar"].update(
            title={"text": f"{unit}<br><sup>{t('export_legend_counts', view.lang)}</sup>", "side": "top",
                   "font": {"size": round(20 * u)}},
            tickfont={"size": round(18 * u)}, x=28 * u / frame.width, xanchor="left", y=y1 - 0.02, yanchor="top",
            lenmode="pixels", len=min(560 * u, 0.8 * (y1 - y0) * frame.height), thickness=round(30 * u),
            bgcolor="rgba(255,255,255,0)", outlinewidth=0,
        )


def fit_bounds(bounds, width_px: int, height_px: int, pad: float = 0.05) -> tuple[float, float, float, float]:
    """Widen lon/lat bounds so that they fill a frame of this shape in Web Mercator (plus a margin)."""
    lon0, lat0, lon1, lat1 = bounds

    def lat(y_value):
        return float(np.degrees(2 * np.arctan(np.exp(y_value)) - np.pi / 2))

    x0, x1 = np.radians(lon0), np.radians(lon1)
    y0, y1 = mercator_y(lat0), mercator_y(lat1)
    span_x, span_y = max(x1 - x0, 1e-6) * (1 + 2 * pad), max(y1 - y0, 1e-6) * (1 + 2 * pad)
    aspect = width_px / height_px
    span_x, span_y = max(span_x, span_y * aspect), max(span_y, span_x / aspect)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (float(np.degrees(cx - span_x / 2)), lat(cy - span_y / 2),
            float(np.degrees(cx + span_x / 2)), lat(cy + span_y / 2))


def clockwise(collection: dict) -> dict:
    """The same features with clockwise exterior rings: plotly's geo map fills the frame for the other way."""
    geometries = shapely.from_geojson([json.dumps(f["geometry"]) for f in collection["features"]])
    oriented = shapely.orient_polygons(geometries, exterior_cw=True)
    features = [{**feature, "geometry": json.loads(shapely.to_geojson(geometry))}
                for feature, geometry in zip(collection["features"], oriented)]
    return {"type": "FeatureCollection", "features": features}


def _clockwise_level(atlas, level: str) -> dict:
    """clockwise() of a level's GeoJSON, kept per store version."""
    def build():
        frame = atlas.geometry(level).copy()
        frame["geometry"] = shapely.orient_polygons(frame.geometry.values, exterior_cw=True)
        return maplayer.geojson(frame)

    return atlas.cached(("clockwise", level), build)


def split_faded(trace: dict) -> list[dict]:
    """One trace as two: areas outside the focus (faded), then those inside.

    plotly's geo map takes one opacity per trace, not per area as the live map does.
    """
    opacity = trace.get("marker", {}).get("opacity")
    if not isinstance(opacity, list):
        return [trace]
    faded = np.asarray(opacity) < 1
    parts = []
    for mask, alpha in ((faded, figures.FADED_OPACITY), (~faded, 1.0)):
        part = {key: ([v for v, keep in zip(value, mask) if keep] if key in ("locations", "z", "customdata", "text")
                      else value) for key, value in trace.items()}
        part["marker"] = {**trace["marker"], "opacity": alpha}
        part["showscale"] = bool(trace.get("showscale")) and alpha == 1.0
        parts.append(part)
    return parts


def static_figure(atlas, view: View, frame: Frame = Frame()) -> dict:
    """The figure behind PNG, SVG, PDF and slide images: the map's traces on an SVG geo map."""
    figure = map_figure(atlas, view)
    for trace in figure["data"]:
        name = trace.get("name")
        if name in figures.LEVEL_TRACE or name == "outline":
            trace["geojson"] = _clockwise_level(atlas, "district" if name == "outline" else name)
        else:  # the selected area's highlight: one feature
            trace["geojson"] = clockwise(trace["geojson"])
        trace["type"] = "choropleth"
        trace.pop("below", None)
    figure["data"] = [part for trace in figure["data"] for part in split_faded(trace)]
    lon0, lat0, lon1, lat1 = fit_bounds(atlas.focus_bounds(view), *frame.map_pixels())
    layout = figure["layout"]
    layout.pop("map", None)
    layout.pop("uirevision", None)
    layout["geo"] = {
        "projection": {"type": "mercator"}, "visible": False, "bgcolor": "rgba(0,0,0,0)",
        # A frame, because district outlines cut at the map's edge would draw parts of one anyway.
        "showframe": True, "framecolor": "#bbbbbb", "framewidth": 1,
        "lonaxis": {"range": [lon0, lon1]}, "lataxis": {"range": [lat0, lat1]},
        "domain": {"x": list(frame.map_x), "y": list(frame.map_y)},
    }
    overlay = overlay_picture(atlas.overlay(view.overlay), view.opacity, (lon0, lat0, lon1, lat1), frame)
    if overlay:
        layout["images"] = [overlay]
    layout.update(width=frame.width, height=frame.height)
    return decorate(figure, atlas, view, frame)


def overlay_picture(overlay, opacity: float, ranges, frame: Frame) -> dict | None:
    """The raster overlay as a plotly layout image over the SVG map, cut to the map's frame.

    The overlay is a Web Mercator image and the map's lon/lat `ranges` fill the
    frame in Web Mercator (fit_bounds), so a point's place on the page is linear
    in its longitude and in its Mercator y. Layout images are not clipped to a
    map, hence the cut.
    """
    if overlay is None:
        return None
    from PIL import Image

    lon0, lat0, lon1, lat1 = ranges
    olon0, olat0, olon1, olat1 = overlay.bounds
    top, bottom = mercator_y(olat1), mercator_y(olat0)
    frame_bottom, frame_top = mercator_y(lat0), mercator_y(lat1)
    columns = lambda lon: (lon - olon0) / (olon1 - olon0) * overlay.width  # noqa: E731
    rows = lambda y: (top - y) / (top - bottom) * overlay.height  # noqa: E731
    # Whole pixels inside the frame: the picture may stop short of the frame's edge, never spill over it.
    col0, col1 = max(0, int(np.ceil(columns(lon0)))), min(overlay.width, int(np.floor(columns(lon1))))
    row0, row1 = max(0, int(np.ceil(rows(frame_top)))), min(overlay.height, int(np.floor(rows(frame_bottom))))
    if col1 <= col0 or row1 <= row0:
        return None  # the raster lies outside the view
    image = Image.open(io.BytesIO(base64.b64decode(overlay.source.split(",", 1)[1])))
    cut = io.BytesIO()
    image.crop((col0, row0, col1, row1)).save(cut, format="PNG", optimize=True)

    (x0, x1), (y0, y1) = frame.map_x, frame.map_y
    page_x = lambda column: x0 + (olon0 + column / overlay.width * (olon1 - olon0) - lon0) / (lon1 - lon0) * (x1 - x0)  # noqa: E731
    page_y = lambda row: y0 + (top - row / overlay.height * (top - bottom) - frame_bottom) / (frame_top - frame_bottom) * (y1 - y0)  # noqa: E731
    return {
        "source": "data:image/png;base64," + base64.b64encode(cut.getvalue()).decode("ascii"),
        "xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "top", "sizing": "stretch",
        "x": page_x(col0), "y": page_y(row0), "sizex": page_x(col1) - page_x(col0), "sizey": page_y(row0) - page_y(row1),
        "opacity": opacity, "layer": "above",
    }


# -- rendering images ----------------------------------------------------------------------
# plotly.js draws geo maps over a world basemap that it fetches from a CDN; the atlas needs none.
EMPTY_TOPOJSON = {
    "type": "Topology", "arcs": [], "transform": {"scale": [1, 1], "translate": [0, 0]},
    "objects": {name: {"type": "GeometryCollection", "geometries": []}
                for name in ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")},
}


class ImageRenderer:
    """One headless Chromium (kaleido) for the whole process, started on first use.

    Starting Chromium costs seconds; rendering a map afterwards costs well under
    one, so batches and repeated downloads reuse it. Calls are serialised
    because kaleido's sync server answers one request at a time.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._topojson_dir: Path | None = None

    def topojson_url(self) -> str:
        """A folder of empty basemaps for kaleido's plotly.js, which would otherwise fetch them from a CDN."""
        if self._topojson_dir is None:
            folder = Path(tempfile.mkdtemp(prefix="atlas-topojson-"))
            for scope in ("world", "asia"):
                for resolution in ("110m", "50m"):
                    (folder / f"{scope}_{resolution}.json").write_text(json.dumps(EMPTY_TOPOJSON))
            self._topojson_dir = folder
        return self._topojson_dir.as_uri() + "/"

    def render(self, figure: dict, fmt: str, scale: float = 1) -> bytes:
        import kaleido

        layout = figure["layout"]
        options = {"format": fmt, "width": layout.get("width", WIDTH), "height": layout.get("height", HEIGHT),
                   "scale": scale}
        with self._lock:
            kaleido.start_sync_server(mathjax=False, silence_warnings=True)
            return kaleido.calc_fig_sync(figure, opts=options, topojson=self.topojson_url())

    def close(self) -> None:
        import kaleido

        with self._lock:
            kaleido.stop_sync_server(silence_warnings=True)
            if self._topojson_dir is not None:
                shutil.rmtree(self._topojson_dir, ignore_errors=True)
                self._topojson_dir = None


renderer = ImageRenderer()
atexit.register(renderer.close)


def to_image(atlas, view: View, fmt: str, scale: float = 1, frame: Frame = Frame()) -> bytes:
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"not an image format: {fmt!r}")
    return renderer.render(static_figure(atlas, view, frame), fmt, scale)


def to_png(atlas, view: View, scale: float = 1) -> bytes:
    """PNG of 1920×1080 pixels times `scale`."""
    return to_image(atlas, view, "png", scale)


def to_svg(atlas, view: View) -> bytes:
    return to_image(atlas, view, "svg")


def to_pdf(atlas, view: View) -> bytes:
    return to_image(atlas, view, "pdf")


# -- standalone page -----------------------------------------------------------------------
def to_html(atlas, view: View) -> bytes:
    """One HTML file with plotly.js inlined: it opens from a USB stick with no network.

    It shows the SVG map of the images, with hover and zoom: MapLibre draws
    nothing in a page opened from a file (its data sources never load there),
    and the SVG map needs no WebGL on an old meeting-room PC. The empty world
    basemap is put in the page, so plotly.js has nothing to fetch.
    """
    import plotly.io as pio

    figure = static_figure(atlas, view)
    layout = figure["layout"]
    layout.pop("width", None)
    layout.pop("height", None)
    # A raster overlay is a picture pinned to the page: the map under it must not move.
    movable = not layout.get("images")
    layout.update(autosize=True, dragmode="pan" if movable else False)
    config = {"displaylogo": False, "scrollZoom": movable, "responsive": True}
    if not movable:
        config["modeBarButtonsToRemove"] = ["pan2d", "zoomInGeo", "zoomOutGeo", "resetGeo"]
    page = pio.to_html(
        figure, include_plotlyjs=True, full_html=True, default_width="100%", default_height="100vh",
        config=config, validate=False,
    )
    basemap = json.dumps({name: EMPTY_TOPOJSON for name in ("world_110m", "world_50m")})
    title = f"{title_text(atlas, view)} · {t('title', view.lang)}"
    page = page.replace("<html>", f'<html lang="{view.lang}">', 1)
    page = page.replace("<head>", f"<head><title>{html.escape(title)}</title><style>body{{margin:0}}</style>"
                                  f"<script>window.PlotlyGeoAssets = {{topojson: {basemap}}};</script>", 1)
    return page.encode("utf-8")


# -- slide deck ----------------------------------------------------------------------------
SLIDE_FRAME = Frame(width=1500, height=1080, header=False, text=1.4)


def batch_views(view: View, per_zone: bool = False, indicators=(), zones=()) -> list[View]:
    """The views of a batch: every chosen indicator, and for each one every zone when `per_zone`."""
    views = []
    for indicator in indicators or (view.indicator,):
        if per_zone:
            views += [view.with_(indicator=indicator, zones=(int(zone),), district=None, area=None) for zone in zones]
        else:
            views.append(view.with_(indicator=indicator))
    return views


def top_and_bottom(atlas, view: View, n: int = 5) -> tuple[list[dict], list[dict]]:
    """The n highest and n lowest ranked areas in focus (no area appears in both)."""
    layer = atlas.layer(view)
    table = atlas.table(view.level, view.year, view.mpi_cutoff)
    rows = [row for row in maplayer.ranking_rows(layer, table, view.lang) if row["_number"] is not None]
    top = rows[:n]
    bottom = rows[max(n, len(rows) - n):]
    return top, bottom


def slide_notes(atlas, view: View) -> str:
    indicator = registry.get(view.indicator)
    lines = [
        f"{title_text(atlas, view)} — {subtitle_text(atlas, view)}",
        f"{t('definition', view.lang)}: {indicator.definition(view.lang)}",
        f"{t('source', view.lang)}: {indicator.source}",
        t("export_boundaries", view.lang),
        f"{t('copy_link', view.lang)}: /{to_query(view)}",
    ]
    if is_synthetic(atlas):
        lines.append(t("synthetic_banner", view.lang))
    return "\n".join(lines)


def to_pptx(atlas, views: list[View], progress=None) -> bytes:
    """A 16:9 deck: a title slide, then one slide per view with the map, top/bottom areas and notes.

    `progress` (e.g. a tqdm bar's update) is called once per rendered map.
    """
    from pptx import Presentation
    from pptx.util import Emu

    if not views:
        raise ValueError("a deck needs at least one view")
    deck = Presentation()
    deck.slide_width, deck.slide_height = Emu(12_192_000), Emu(6_858_000)  # 13.33 × 7.5 in
    _title_slide(deck, atlas, views)
    for view in views:
        image = to_image(atlas, view, "png", frame=SLIDE_FRAME)
        _map_slide(deck, atlas, view, image)
        if progress:
            progress(1)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _text_box(slide, left, top, width, height, text, size, bold=False, colour=TEXT_COLOUR, fill=None):
    from pptx.dml.color import RGBColor
    from pptx.util import Pt

    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(size)
        paragraph.font.bold = bold
        paragraph.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))
    if fill:
        box.fill.solid()
        box.fill.fore_color.rgb = RGBColor.from_string(fill.lstrip("#"))
    return box


def _synthetic_badge(slide, deck):
    from pptx.util import Inches

    _text_box(slide, deck.slide_width - Inches(4.1), Inches(0.15), Inches(3.9), Inches(0.45),
              synthetic_mark(), 16, bold=True, colour="#ffffff", fill=SYNTHETIC_COLOUR)


def _title_slide(deck, atlas, views):
    from pptx.util import Inches, Pt

    view = views[0]
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = t("title", view.lang)
    slide.shapes.title.left, slide.shapes.title.top = Inches(0.8), Inches(1.8)
    slide.shapes.title.width, slide.shapes.title.height = deck.slide_width - Inches(1.6), Inches(1.5)
    labels = list(dict.fromkeys(title_text(atlas, v) for v in views))
    lines = [" · ".join(labels),
             f"{t(f'level_{view.level}', view.lang)} · {year_text(view)}",
             f"{len(views)} {t('export_maps', view.lang)} · {t('export_made', view.lang)} {date_text(view.lang)}"]
    if is_synthetic(atlas):
        lines.append(t("synthetic_banner", view.lang))
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.top = Inches(0.8), Inches(3.5)
    subtitle.width, subtitle.height = deck.slide_width - Inches(1.6), Inches(2.5)
    subtitle.text = "\n".join(lines)
    for paragraph in subtitle.text_frame.paragraphs:
        paragraph.font.size = Pt(20)
    if is_synthetic(atlas):
        _synthetic_badge(slide, deck)


def _map_slide(deck, atlas, view: View, image: bytes):
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = Inches(0.4), Inches(0.2), Inches(8.6), Inches(0.8)
    title.text = title_text(atlas, view)
    title.text_frame.paragraphs[0].font.size = Pt(26)
    title.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    _text_box(slide, Inches(0.4), Inches(0.95), Inches(12.5), Inches(0.4), subtitle_text(atlas, view), 14,
              colour=MUTED_COLOUR)
    height = Inches(5.9)
    slide.shapes.add_picture(io.BytesIO(image), Inches(0.3), Inches(1.4), height=height)
    _ranking_table(slide, atlas, view, Inches(8.75), Inches(1.45), Inches(4.3))
    if is_synthetic(atlas):
        _synthetic_badge(slide, deck)
    slide.notes_slide.notes_text_frame.text = slide_notes(atlas, view)
    return slide


def _ranking_table(slide, atlas, view: View, left, top, width):
    from pptx.util import Inches, Pt

    top_rows, bottom_rows = top_and_bottom(atlas, view)
    body = [("", t("export_top", view.lang), "")] + [(str(r["rank"]), r["name"], r["value"]) for r in top_rows]
    if bottom_rows:
        body += [("", t("export_bottom", view.lang), "")] + [(str(r["rank"]), r["name"], r["value"]) for r in bottom_rows]
    header = (t("rank", view.lang), t("area", view.lang), t("value", view.lang))
    rows = [header] + body
    shape = slide.shapes.add_table(len(rows), 3, left, top, width, Inches(0.3) * len(rows))
    table = shape.table
    for column, share in enumerate((0.18, 0.52, 0.30)):
        table.columns[column].width = int(width * share)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.text = str(value)
            paragraph = cell.text_frame.paragraphs[0]
            paragraph.font.size = Pt(12)
            paragraph.font.bold = r == 0 or (c == 1 and values[0] == "")
    return table


# -- web map (Leaflet) ---------------------------------------------------------------------
FOLIUM_CSS = """
.leaflet-container { background: #ffffff !important; font-family: %(font)s; }
.atlas-box { position: absolute; z-index: 1000; background: rgba(255,255,255,.92); padding: 8px 12px;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); font-family: %(font)s; color: #222; }
.atlas-title { top: 10px; left: 56px; max-width: 60%%; }
.atlas-title h1 { font-size: 20px; margin: 0; } .atlas-title p { margin: 2px 0 0; font-size: 13px; color: #555; }
.atlas-legend { bottom: 28px; left: 10px; font-size: 13px; }
.atlas-legend i { display: inline-block; width: 18px; height: 14px; margin-right: 6px; vertical-align: middle; }
.atlas-notes { bottom: 4px; right: 10px; font-size: 11px; color: #555; max-width: 70%%; text-align: right; }
.atlas-synthetic { top: 10px; right: 10px; background: %(synthetic)s; color: #fff; font-weight: 700; }
"""


def _folium_features(atlas, view: View, layer) -> dict:
    """The level's GeoJSON with what the tooltip and styles need in each feature's properties."""
    table = atlas.table(view.level, view.year, view.mpi_cutoff)
    geometry = atlas.geometry(view.level).set_index("pcode").reindex(table["pcode"].astype(str)).reset_index()
    collection = maplayer.geojson(geometry)
    colours = np.array(layer.colours + [maplayer.NO_DATA_COLOUR])
    fill = colours[np.where(layer.classes < 0, len(layer.colours), layer.classes)]
    districts = (table["district_th"] + " · " + table["district_en"]).tolist() if "district_th" in table else [""] * len(table)
    total = layer.focus_count or len(layer.pcodes)
    for feature, name_th, name_en, district, value, rank, colour, focus in zip(
            collection["features"], table["name_th"], table["name_en"], districts, layer.value_text,
            layer.rank, fill, layer.in_focus):
        feature["properties"].update(
            name=f"{name_th} · {name_en}", district=district, value=value,
            rank=f"{rank}/{total}" if rank is not None else "–", colour=str(colour), focus=bool(focus))
    return collection


def _legend_html(layer, view: View) -> str:
    unit = layer.indicator.unit(view.lang)
    rows = "".join(f'<div><i style="background:{e.colour}"></i>{html.escape(e.label)} ({e.count})</div>'
                   for e in layer.legend)
    return (f'<div class="atlas-box atlas-legend"><b>{html.escape(unit)}</b>'
            f'<div class="muted">{html.escape(t("export_legend_counts", view.lang))}</div>{rows}</div>')


def to_folium(atlas, view: View) -> bytes:
    """A Leaflet page (folium) with the choropleth, Thai/English tooltips and the legend, fully offline.

    `offlinefolium` (PyPI folium-offline) inlines Leaflet and its helpers instead
    of linking CDNs; no tiles are used; the legend is plain HTML rather than
    folium.Choropleth's d3 legend, which would still need a CDN.
    """
    import branca
    import offlinefolium as folium

    layer = atlas.layer(view)
    features = _folium_features(atlas, view, layer)
    lon0, lat0, lon1, lat1 = atlas.focus_bounds(view)
    web_map = folium.Map(location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2], zoom_start=9, tiles=None,
                         control_scale=True, prefer_canvas=False)
    names = [t("area", view.lang), t("district", view.lang), layer.indicator.label(view.lang), t("rank", view.lang)]
    fields = ["name", "district", "value", "rank"]
    if view.level != "tambon":
        names, fields = [names[0]] + names[2:], [fields[0]] + fields[2:]
    folium.GeoJson(
        features, name=layer.indicator.label(view.lang),
        style_function=lambda feature: {
            "fillColor": feature["properties"]["colour"], "color": "#ffffff", "weight": 0.8,
            "fillOpacity": 0.9 if feature["properties"]["focus"] else figures.FADED_OPACITY * 0.9,
        },
        highlight_function=lambda feature: {"weight": 3, "color": "#111111"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=names, sticky=True),
    ).add_to(web_map)
    if view.level == "tambon":
        folium.GeoJson(
            atlas.geojson("district"), name=t("level_district", view.lang), interactive=False,
            style_function=lambda feature: {"fill": False, "color": "#4d4d4d", "weight": 1.6},
        ).add_to(web_map)
    overlay = atlas.overlay(view.overlay)
    if overlay is not None:
        # Leaflet stretches the picture in Web Mercator, the overlay's own projection.
        olon0, olat0, olon1, olat1 = overlay.bounds
        folium.raster_layers.ImageOverlay(
            image=overlay.source, bounds=[[olat0, olon0], [olat1, olon1]], opacity=view.opacity,
            name=overlay.title(view.lang), interactive=False,
        ).add_to(web_map)
    web_map.fit_bounds([[lat0, lon0], [lat1, lon1]])
    root = web_map.get_root()
    root.header.add_child(branca.element.Element(
        f"<title>{html.escape(title_text(atlas, view))}</title>"
        f"<style>{FOLIUM_CSS % {'font': FONT_FAMILY, 'synthetic': SYNTHETIC_COLOUR}}</style>"))
    boxes = [
        f'<div class="atlas-box atlas-title"><h1>{html.escape(title_text(atlas, view))}</h1>'
        f'<p>{html.escape(subtitle_text(atlas, view))}</p></div>',
        _legend_html(layer, view),
        f'<div class="atlas-box atlas-notes">{html.escape(source_text(atlas, view))}<br>{html.escape(made_text(view))}</div>',
    ]
    if is_synthetic(atlas):
        boxes.append(f'<div class="atlas-box atlas-synthetic">{synthetic_mark()}</div>')
    root.html.add_child(branca.element.Element("".join(boxes)))
    page = root.render()
    page = page.replace("<html>", f'<html lang="{view.lang}">', 1)
    return page.encode("utf-8")


# -- one entry point for the menu and the CLI ----------------------------------------------
def export(atlas, view: View, fmt: str, *, scale: float = 1, views: list[View] | None = None, progress=None) -> bytes:
    """The bytes of `view` in format `fmt`; a deck (pptx) shows `views` when given."""
    if fmt in ("png", "svg", "pdf"):
        return to_image(atlas, view, fmt, scale)
    if fmt == "pptx":
        return to_pptx(atlas, views or [view], progress)
    if fmt == "html":
        return to_html(atlas, view)
    if fmt == "folium":
        return to_folium(atlas, view)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def download_menu_options(lang: str) -> list[dict]:
    return [{"label": t(f"download_{choice}", lang), "value": choice} for choice in DOWNLOAD_CHOICES]


def download(atlas, view: View, choice: str) -> tuple[bytes, str]:
    """What the Download menu's `choice` gives for the current view: (content, file name)."""
    fmt, scale, per_zone = DOWNLOAD_CHOICES.get(choice, DOWNLOAD_CHOICES["png"])
    views = None
    if per_zone:
        views = batch_views(view, per_zone=True, zones=atlas.zones()["zone"].astype(int).tolist())
    content = export(atlas, view, fmt, scale=scale, views=views)
    return content, filename(view, fmt, scale, suffix="zones" if per_zone else "")
