"""Exports in a real browser: Debian's headless Chromium, driven by Playwright, networking blocked.

The standalone page and the web map must work from a USB stick with no
network; embed mode and the Download menu are checked on the served app.
"""
import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from dashboard import exports
from dashboard.state import View
from geodata.store import open_store
from layers.atlas import Atlas
from tests.browser import ServedApp, build_demo_store, launch_chromium



@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo_store(tmp_path_factory.mktemp("exports-browser") / "atlas.duckdb", households=20_000)


@pytest.fixture(scope="module")
def atlas(demo_db):
    return Atlas(open_store(demo_db))


@pytest.fixture(scope="module")
def chromium():
    """A fresh Chromium profile for this module's tests."""
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, viewport=(1920, 1080), accept_downloads=True)
        yield context
        context.close()


class Watched:
    """A page whose requests outside `allowed` are blocked and recorded, and whose console errors are kept."""

    def __init__(self, context, allowed=("file://", "data:", "blob:")):
        self.page = context.new_page()
        self.blocked, self.errors = [], []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

        def route(route):
            if route.request.url.startswith(allowed):
                route.continue_()
            else:
                self.blocked.append(route.request.url)
                route.abort()

        self.page.route("**/*", route)


def painted_share(png: bytes, box) -> float:
    """Share of pixels in box (x0, y0, x1, y1) that are neither white nor near-white."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    x0, y0, x1, y1 = box
    return float((image[y0:y1, x0:x1] < 235).any(axis=2).mean())


def test_standalone_page_paints_the_map_from_a_file_with_networking_blocked(atlas, chromium, tmp_path, artifacts_dir):
    page_file = tmp_path / "map.html"
    view = View(indicator="mpi_headcount", zones=(4,), lang="th")
    page_file.write_bytes(exports.to_html(atlas, view))
    watched = Watched(chromium)
    page = watched.page
    page.goto(page_file.as_uri())  # as from a USB stick
    page.wait_for_selector(".js-plotly-plot path.choroplethlocation", state="attached", timeout=30_000)
    areas = page.locator(".js-plotly-plot path.choroplethlocation")
    assert areas.count() >= 289, "every tambon is drawn"
    assert "อัตราความยากจนหลายมิติ" in page.inner_text(".js-plotly-plot")
    screenshot = page.screenshot()
    (artifacts_dir / "export-standalone-page.png").write_bytes(screenshot)
    assert painted_share(screenshot, (500, 200, 1800, 900)) > 0.4, "the map area is blank"
    # Hover shows the area's Thai and English name and its value.
    table = atlas.table("tambon")
    inside = table[table["zone"] == 4].iloc[0]
    box = page.evaluate("""pcode => {
        const path = [...document.querySelectorAll('path.choroplethlocation')].find(p => p.__data__.loc === pcode);
        const r = path.getBoundingClientRect();
        return {x: r.x + r.width / 2, y: r.y + r.height / 2};
    }""", inside["pcode"])
    page.mouse.move(box["x"], box["y"])
    page.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
    hover = page.evaluate("document.querySelector('.hoverlayer').textContent")
    assert inside["name_th"] in hover and inside["name_en"] in hover
    assert watched.blocked == [], "the page asked the network for something"
    assert watched.errors == []
    page.close()


def test_web_map_loads_offline_without_console_errors_and_draws_every_area(atlas, chromium, tmp_path, artifacts_dir):
    page_file = tmp_path / "webmap.html"
    view = View(indicator="mpi_headcount", zones=(2,), lang="th")
    page_file.write_bytes(exports.to_folium(atlas, view))
    watched = Watched(chromium)
    page = watched.page
    page.goto(page_file.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane path.leaflet-interactive", timeout=30_000)
    areas = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    assert areas.count() == 289, "every tambon is drawn"
    legend = page.inner_text(".atlas-legend")
    assert all(f"{e.label} ({e.count})" in legend for e in atlas.layer(view).legend), "class bounds and counts"
    assert "ข้อมูลสังเคราะห์" in page.inner_text(".atlas-synthetic")
    # Hovering a tambon in the focus shows its Thai and English names and value.
    box = page.locator(".leaflet-overlay-pane svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    assert "·" in tooltip.inner_text() and atlas.layer(view).indicator.label("th") in tooltip.inner_text()
    screenshot = page.screenshot()
    (artifacts_dir / "export-web-map.png").write_bytes(screenshot)
    assert painted_share(screenshot, (400, 200, 1500, 900)) > 0.3
    assert watched.blocked == [] and watched.errors == []
    page.close()


# -- the served app ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(demo_db):
    """`python -m dashboard` as a user starts it, on a free port, with no extra frame origins."""
    app = ServedApp(demo_db, extra_env={"ATLAS_FRAME_ANCESTORS": ""})
    yield app.url
    app.stop()


def test_embed_mode_shows_only_the_map_and_legend_and_sends_frame_ancestors(served, chromium, artifacts_dir):
    watched = Watched(chromium, allowed=(served,))
    page = watched.page
    response = page.goto(served + "/?embed=1&indicator=councils&zones=3&lang=en")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#page.embed", timeout=30_000)
    page.wait_for_selector("#map .maplibregl-canvas", timeout=30_000)
    page.wait_for_selector("#map .colorbar", timeout=30_000)
    page.wait_for_timeout(1000)
    for hidden in ("#controls", "#header", "#ranking-section", "#panel"):
        assert not page.locator(hidden).is_visible(), f"{hidden} shows in embed mode"
    assert page.locator("#map").is_visible()
    screenshot = page.screenshot()
    (artifacts_dir / "export-embed-mode.png").write_bytes(screenshot)
    box = page.locator("#map").bounding_box()
    assert box["width"] > 1500, "the map takes the whole width"
    viewport = page.viewport_size
    assert box["height"] > viewport["height"] * 0.8, "and nearly the whole height of the frame"
    assert watched.blocked == []
    page.close()


def test_download_menu_gives_the_current_view_as_a_full_hd_png(served, chromium):
    watched = Watched(chromium, allowed=(served,))
    page = watched.page
    page.goto(served + "/?indicator=welfare_funds&level=district&lang=en")
    page.wait_for_selector("#map .maplibregl-canvas", timeout=30_000)
    page.wait_for_selector("#download-button", timeout=30_000)
    with page.expect_download(timeout=120_000) as info:
        page.click("#download-button")
    download = info.value
    assert download.suggested_filename == "korat-welfare_funds-district-latest.png"
    image = Image.open(download.path())
    assert image.size == (1920, 1080)
    assert watched.errors == []
    page.close()
