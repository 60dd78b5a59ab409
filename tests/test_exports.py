"""Exports: every file is opened with a reader for its format and its content checked.

Images are rendered by kaleido with Debian's Chromium, decks converted by
LibreOffice; nothing is mocked. Sample outputs go to test-artifacts/.
"""
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashboard import cli_export, exports
from dashboard.state import View
from geodata.demo import build_demo
from geodata.store import open_store
from layers.atlas import Atlas

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL_SOURCE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("exports") / "atlas.duckdb"
    build_demo(open_store(path), households=20_000, progress=False)
    return path


@pytest.fixture(scope="module")
def atlas(demo_db):
    return Atlas(open_store(demo_db))


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def map_box(image: np.ndarray, frame=exports.Frame()) -> np.ndarray:
    """The part of the image where the map is drawn."""
    height, width = image.shape[:2]
    (x0, x1), (y0, y1) = frame.map_x, frame.map_y
    return image[int((1 - y1) * height) + 5:int((1 - y0) * height) - 5, int(x0 * width) + 5:int(x1 * width) - 5]


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "dashboard", "export", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


# -- images ------------------------------------------------------------------------------
def test_png_is_full_hd_and_paints_every_class_colour_in_the_map_area(atlas, artifacts_dir):
    view = View(indicator="mpi_headcount", zones=(3,), year=2024)
    png = exports.to_png(atlas, view)
    (artifacts_dir / "export-zone3-th.png").write_bytes(png)
    image = pixels(png)
    assert image.shape == (1080, 1920, 3)
    area = map_box(image)
    painted = (area < 245).any(axis=2).mean()
    assert painted > 0.5, f"only {painted:.0%} of the map area is painted"
    for colour in atlas.layer(view).colours:
        found = (area == hex_rgb(colour)).all(axis=2).sum()
        assert found > 500, f"class colour {colour} is missing from the map"


def test_png_scale_two_doubles_the_pixels(atlas):
    image = pixels(exports.to_png(atlas, View(level="district", lang="en"), scale=2))
    assert image.shape == (2160, 3840, 3)


def test_svg_is_vector_with_title_subtitle_legend_source_and_synthetic_mark(atlas, artifacts_dir):
    view = View(indicator="councils", zones=(1, 3), lang="en")
    svg = exports.to_svg(atlas, view)
    (artifacts_dir / "export-zones1-3-en.svg").write_bytes(svg)
    root = ET.fromstring(svg)  # well-formed XML
    texts = " ".join("".join(node.itertext()) for node in root.iter() if node.tag.endswith("text"))
    assert "Community organisation councils" in texts
    assert "Tambon · Zone 1, 3" in texts
    for entry in atlas.layer(view).legend:
        if entry.colour != "#e0e0e0":
            assert f"{entry.label} ({entry.count})" in texts, "legend shows class bounds and counts"
    assert "OCHA COD-AB" in texts and "mapthai (MIT)" in texts
    assert "SYNTHETIC DATA" in texts
    assert "made on" in texts
    areas = [node for node in root.iter() if "choroplethlocation" in (node.get("class") or "")]
    assert len(areas) >= 289, "every tambon is a vector path"


def test_pdf_is_one_16_by_9_page_with_the_title(atlas, tmp_path):
    path = tmp_path / "map.pdf"
    path.write_bytes(exports.to_pdf(atlas, View(indicator="welfare_funds", level="district", lang="en")))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\b", info)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert abs(width / height - 16 / 9) < 0.01
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Community welfare funds" in text and "District" in text


def test_no_synthetic_mark_when_the_store_holds_no_synthetic_data(store):
    figure = exports.static_figure(Atlas(store), View(lang="en"))
    texts = " ".join(a["text"] for a in figure["layout"]["annotations"])
    assert "SYNTHETIC" not in texts and "Boundaries" in texts


# -- Thai glyphs -----------------------------------------------------------------------------
def text_figure(text: str) -> dict:
    return {"data": [], "layout": {
        "width": 700, "height": 110, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": text, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
                         "font": {"size": 52, "color": "#000000", "family": exports.FONT_FAMILY}}]}}


TOFU_SCRIPT = """
import json, sys
from dashboard import exports
figure = json.loads(sys.argv[1])
sys.stdout.buffer.write(exports.renderer.render(figure, "png"))
"""


def render_without_thai_fonts(figure: dict, tmp_path) -> bytes:
    """The same figure rendered by a Chromium that sees only DejaVu fonts, which have no Thai."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>")
    result = subprocess.run([sys.executable, "-c", TOFU_SCRIPT, json.dumps(figure)], cwd=ROOT, capture_output=True,
                            timeout=300, env={**os.environ, "FONTCONFIG_FILE": str(config)})
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout


def ink(png: bytes) -> np.ndarray:
    """The inked pixels, cropped to their bounding box (so that centring does not matter)."""
    dark = np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128
    rows, columns = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    assert rows.size, "nothing was drawn"
    return dark[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]


def differing(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the inked pixels of either image that the other does not have (1 if the sizes differ)."""
    if a.shape != b.shape:
        return 1.0
    return (a ^ b).sum() / max((a | b).sum(), 1)


def test_thai_text_renders_with_real_glyphs_not_boxes(tmp_path, artifacts_dir):
    first, second = "นครนายก", "ยโสธรพล"  # seven spacing letters each, no combining marks
    real = [exports.renderer.render(text_figure(s), "png") for s in (first, second)]
    tofu = [render_without_thai_fonts(text_figure(s), tmp_path) for s in (first, second)]
    (artifacts_dir / "thai-glyphs.png").write_bytes(real[0])
    (artifacts_dir / "thai-glyphs-without-thai-font.png").write_bytes(tofu[0])
    # Without a Thai font both strings become rows of the same boxes; with one they differ.
    assert differing(ink(tofu[0]), ink(tofu[1])) < 0.15, "the no-Thai-font reference should draw boxes"
    assert differing(ink(real[0]), ink(real[1])) > 0.5, "distinct Thai words render alike: boxes?"
    assert differing(ink(real[0]), ink(tofu[0])) > 0.5, "the Thai title looks like the box rendering"


# -- slide deck --------------------------------------------------------------------------------
def convert_to_pdf_pages(pptx: Path) -> int:
    """Open the deck in LibreOffice (as a meeting-room PC would), print it to PDF, count pages."""
    profile = pptx.parent / "lo-profile"
    subprocess.run(["libreoffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(pptx.parent), str(pptx)],
                   capture_output=True, timeout=240, check=True)
    info = subprocess.run(["pdfinfo", str(pptx.with_suffix(".pdf"))], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


def test_deck_has_title_slide_then_map_table_and_notes_per_indicator(atlas, tmp_path, artifacts_dir):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    indicators = ["mpi_headcount", "councils", "welfare_funds"]
    views = exports.batch_views(View(zones=(5,), year=2024), indicators=indicators)
    content = exports.to_pptx(atlas, views)
    path = tmp_path / "deck.pptx"
    path.write_bytes(content)
    (artifacts_dir / "export-indicators.pptx").write_bytes(content)
    deck = Presentation(str(path))
    assert deck.slide_width * 9 == deck.slide_height * 16
    slides = list(deck.slides)
    assert len(slides) == 1 + len(indicators)
    for slide, view in zip(slides[1:], views):
        shapes = list(slide.shapes)
        assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in shapes), "map image"
        tables = [s.table for s in shapes if s.has_table]
        assert tables, "top and bottom table"
        cells = [cell.text for row in tables[0].rows for cell in row.cells]
        top, bottom = exports.top_and_bottom(atlas, view)
        assert top[0]["name"] in cells and bottom[-1]["name"] in cells
        assert len(top) == 5 and len(bottom) == 5
        notes = slide.notes_slide.notes_text_frame.text
        indicator = atlas.layer(view).indicator
        assert indicator.definition("th") in notes and indicator.source in notes
        texts = " ".join(s.text_frame.text for s in shapes if s.has_text_frame)
        assert "SYNTHETIC DATA" in texts and indicator.label("th") in texts
    assert convert_to_pdf_pages(path) == 1 + len(indicators)


def test_cli_per_zone_deck_has_a_slide_per_zone(demo_db, tmp_path, artifacts_dir):
    from pptx import Presentation

    out = tmp_path / "zones.pptx"
    result = run_cli("--db", demo_db, "--indicator", "mpi_headcount", "--level", "tambon", "--year", "2024",
                     "--lang", "th", "--per-zone", "--format", "pptx", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "10/10" in result.stderr, "a progress bar counts the maps"
    (artifacts_dir / "export-per-zone.pptx").write_bytes(out.read_bytes())
    slides = list(Presentation(str(out)).slides)
    assert len(slides) == 11
    assert "โซน 7" in " ".join(s.text_frame.text for s in slides[7].shapes if s.has_text_frame)
    assert convert_to_pdf_pages(out) == 11


# -- raster overlay ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def raster_atlas(tmp_path_factory):
    from layers import registry
    from tests.browser import build_demo_store

    # The atlas registers the raster's indicators for the whole module: later modules must not see them.
    saved = dict(registry._REGISTRY)
    atlas = Atlas(open_store(build_demo_store(tmp_path_factory.mktemp("overlay") / "atlas.duckdb", 20_000, raster=True)))
    assert atlas.rasters(), "the demo raster was not registered"
    yield atlas
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def test_png_draws_the_raster_overlay_inside_the_province_and_the_map_frame(raster_atlas, artifacts_dir):
    raster_id = raster_atlas.rasters()[0].raster_id
    plain = pixels(exports.to_png(raster_atlas, View()))
    png = exports.to_png(raster_atlas, View(overlay=raster_id, opacity=1.0))
    (artifacts_dir / "export-overlay.png").write_bytes(png)
    covered = pixels(png)
    changed = (np.abs(map_box(covered).astype(int) - map_box(plain).astype(int)).sum(axis=2) > 30)
    inside = (map_box(plain) < 245).any(axis=2)  # where the province is drawn
    assert changed[inside].mean() > 0.8, "the overlay must cover the province"
    # The raster is transparent outside the province: misplaced, it would paint the white around it.
    assert changed[~inside].mean() < 0.02, f"{changed[~inside].mean():.1%} of the outside was painted"


def test_a_zoomed_view_cuts_the_overlay_to_the_map_frame(raster_atlas):
    raster_id = raster_atlas.rasters()[0].raster_id
    view = View(zones=(3,), overlay=raster_id, opacity=1.0)
    (picture,) = exports.static_figure(raster_atlas, view)["layout"]["images"]
    (x0, x1), (y0, y1) = exports.Frame().map_x, exports.Frame().map_y
    assert x0 <= picture["x"] and picture["x"] + picture["sizex"] <= x1 + 1e-9
    assert picture["y"] <= y1 + 1e-9 and picture["y"] - picture["sizey"] >= y0 - 1e-9
    assert picture["sizex"] > 0.9 * (x1 - x0), "the zone lies inside the raster: the cut fills the frame"
    plain, covered = (pixels(exports.to_png(raster_atlas, v)) for v in (view.with_(overlay=None), view))
    height, width = covered.shape[:2]
    top, bottom, left = int((1 - y1) * height), int((1 - y0) * height), int(x0 * width)
    assert (plain[top:bottom, :left - 3] == covered[top:bottom, :left - 3]).all(), "the overlay spilled over the legend"
    assert (plain[bottom + 3:] == covered[bottom + 3:]).all(), "the overlay spilled over the footer"
    changed = np.abs(plain[top + 3:bottom - 3, left + 3:].astype(int) - covered[top + 3:bottom - 3, left + 3:].astype(int))
    assert (changed.sum(axis=2) > 30).mean() > 0.6, "the overlay must fill the zoomed frame where the province is"
    assert "ซ้อนทับ" in exports.subtitle_text(raster_atlas, view), "the subtitle names the overlay"


def test_overlay_in_the_standalone_page_and_the_web_map(raster_atlas):
    view = View(zones=(3,), overlay=raster_atlas.rasters()[0].raster_id, lang="en")

    def plotly_call(page):
        return page[page.index("Plotly.newPlot("):]

    picture = re.compile(r'"images":\s*\[\{"source":\s*"data:image(/|\\u002f)png;base64,')  # plotly escapes "/"
    pinned = plotly_call(exports.to_html(raster_atlas, view).decode())
    assert picture.search(pinned)
    assert '"scrollZoom":false' in pinned.replace(" ", ""), "a picture pinned over a movable map would drift"
    movable = plotly_call(exports.to_html(raster_atlas, view.with_(overlay=None)).decode())
    assert '"scrollZoom":true' in movable.replace(" ", "") and not picture.search(movable)
    web_map = exports.to_folium(raster_atlas, view).decode()
    assert "L.imageOverlay(" in web_map and "data:image/png;base64," in web_map


# -- pages ------------------------------------------------------------------------------------
def test_standalone_page_inlines_plotly_and_references_nothing_external(atlas):
    page = exports.to_html(atlas, View(indicator="mpi", level="district", lang="en")).decode()
    assert not EXTERNAL_SOURCE.search(page)
    assert "Plotly.newPlot" in page and len(page) > 3_000_000, "plotly.js is inlined"
    assert "Multidimensional poverty index" in page and "SYNTHETIC DATA" in page


def test_web_map_is_self_contained_with_thai_and_english_tooltips_and_legend(atlas):
    view = View(indicator="mpi_headcount", zones=(2,), lang="th")
    page = exports.to_folium(atlas, view).decode()
    assert not EXTERNAL_SOURCE.search(page)
    assert "L.map(" in page and "tileLayer" not in page.split("L.map(", 1)[1], "no tile layer"
    table = atlas.table("tambon")
    first = table.iloc[0]
    name = f"{first['name_th']} · {first['name_en']}"
    assert name in page or json.dumps(name)[1:-1] in page, "folium writes the GeoJSON ASCII-escaped"
    for entry in atlas.layer(view).legend:
        assert f"{entry.label} ({entry.count})" in page


# -- CLI --------------------------------------------------------------------------------------
def test_cli_writes_a_2x_png_and_a_folder_for_a_batch(demo_db, tmp_path):
    png = tmp_path / "map.png"
    result = run_cli("--db", demo_db, "--indicator", "mpi_headcount", "--level", "tambon", "--zone", "3",
                     "--year", "2567", "--lang", "th", "--format", "png", "--scale", "2", "--out", png)
    assert result.returncode == 0, result.stderr
    assert Image.open(png).size == (3840, 2160)
    folder = tmp_path / "maps"
    result = run_cli("--db", demo_db, "--indicators", "councils,housing_projects", "--level", "district",
                     "--format", "svg", "--out", folder)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        "korat-councils-district-latest.svg", "korat-housing_projects-district-latest.svg"]


def test_cli_refuses_unknown_indicators_zones_and_missing_stores(demo_db, tmp_path):
    for args in (["--indicator", "nope"], ["--zone", "42"]):
        result = run_cli("--db", demo_db, *args, "--format", "png", "--out", tmp_path / "x.png")
        assert result.returncode == 1 and "unknown" in result.stderr
    result = run_cli("--db", tmp_path / "missing.duckdb", "--format", "png", "--out", tmp_path / "x.png")
    assert result.returncode == 1 and "no store" in result.stderr
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "missing.duckdb").exists()


def test_cli_options_and_permalinks_make_the_view():
    args = cli_export.build_parser().parse_args(
        ["--view", "?indicator=councils&level=district&lang=en", "--zone", "3,1", "--zone", "5", "--year", "2567",
         "--format", "png", "--out", "x.png"])
    view = cli_export.view_from_args(args, {"councils", "mpi_headcount"})
    assert (view.indicator, view.level, view.lang, view.zones, view.year) == ("councils", "district", "en", (1, 3, 5), 2024)


def test_serving_stays_the_default_command():
    from dashboard.__main__ import build_parser, main

    args = build_parser().parse_args(["--db", "x.duckdb", "--port", "9000"])
    assert (args.db, args.port, args.host) == ("x.duckdb", 9000, "127.0.0.1")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--help"])
    assert exit_info.value.code == 0


def test_batches_and_file_names():
    views = exports.batch_views(View(zones=(2,)), per_zone=True, indicators=["a", "b"], zones=[1, 2, 3])
    assert [(v.indicator, v.zones) for v in views] == [(i, (z,)) for i in "ab" for z in (1, 2, 3)]
    assert exports.filename(View(zones=(3,), year=2024), "png", 2) == "korat-mpi_headcount-tambon-zone3-2024-2x.png"
    assert exports.filename(View(), "folium").endswith("-webmap.html")


def test_frame_ancestors_default_to_same_origin_and_take_the_setting(monkeypatch):
    from dashboard.app import frame_ancestors

    monkeypatch.delenv("ATLAS_FRAME_ANCESTORS", raising=False)
    assert frame_ancestors() == "'self'"
    monkeypatch.setenv("ATLAS_FRAME_ANCESTORS", "https://portal.example.go.th https://intranet.example")
    assert frame_ancestors() == "'self' https://portal.example.go.th https://intranet.example"
