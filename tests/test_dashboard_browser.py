"""The dashboard in a real headless Chromium, as an official uses it."""
import time

import numpy as np

import pytest
from playwright.sync_api import sync_playwright

from geodata import boundaries
from tests.browser import ServedApp, build_demo_store, launch_chromium

pytestmark = pytest.mark.browser

MAP_READY = """() => {
  const gd = document.querySelector('#map .js-plotly-plot');
  const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
  const idle = !document.querySelector('[data-dash-is-loading="true"]');
  const trace = sub && gd._fullData.find(d => d.visible === true && ['tambon', 'district', 'zone'].includes(d.name));
  return idle && trace && sub.map.loaded() && (trace.z || []).some(z => z >= 0);
}"""

# Distinct polygons painted by the visible level's fill layer (plotly stores each feature's centre in `ct`).
PAINTED = """() => {
  const gd = document.querySelector('#map .js-plotly-plot');
  const trace = gd._fullData.find(d => d.visible === true && ['tambon', 'district', 'zone'].includes(d.name));
  const map = gd._fullLayout.map._subplot.map;
  const fills = map.queryRenderedFeatures().filter(f => f.layer.id === `plotly-trace-layer-${trace.uid}-fill`);
  return {level: trace.name, shapes: new Set(fills.map(f => JSON.stringify(f.properties.ct))).size,
          colours: [...new Set(fills.map(f => f.properties.fc))].sort(),
          fills: [...new Set(fills.map(f => JSON.stringify(f.properties.ct) + f.properties.fc))].sort()};
}"""

VIEWPORT = """() => { const l = document.querySelector('#map .js-plotly-plot')._fullLayout.map;
  return {zoom: l._subplot.map.getZoom(), lon: l._subplot.map.getCenter().lng, lat: l._subplot.map.getCenter().lat}; }"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = build_demo_store(tmp_path_factory.mktemp("browser") / "atlas.duckdb", raster=True)
    served = ServedApp(db)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser_context():
    with sync_playwright() as playwright:
        context = launch_chromium(playwright)
        yield context
        context.close()


@pytest.fixture
def tab(browser_context, artifacts_dir, request):
    page = browser_context.new_page()
    pending = set()
    page.pending_callbacks = pending

    def started(request):
        if "_dash-update-component" in request.url:
            pending.add(request)

    page.on("request", started)
    page.on("requestfinished", lambda request: pending.discard(request))
    page.on("requestfailed", lambda request: pending.discard(request))
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.screenshot(path=str(artifacts_dir / f"{request.node.name}.png"), full_page=True)
    page.close()
    assert errors == [], f"browser console errors: {errors}"


def settle(page, quiet_ms=600, timeout_s=60):
    """Wait until no Dash callback has been in flight for `quiet_ms`."""
    deadline, quiet_since = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        if page.pending_callbacks:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(50)
    raise AssertionError("Dash callbacks never settled")


def open_map(page, url):
    page.goto(url)
    page.wait_for_function(MAP_READY, timeout=60_000)
    settle(page)


def test_map_paints_all_289_tambons_with_thai_labels(app, tab):
    page = tab
    open_map(page, app.url)
    painted = page.evaluate(PAINTED)
    assert painted["level"] == "tambon" and painted["shapes"] == 289
    assert len(painted["colours"]) >= 4, "a classed choropleth, not one flat colour"
    assert page.inner_text("h1") == "แผนที่การพัฒนาชุมชนนครราชสีมา"
    assert "ข้อมูลสังเคราะห์" in page.inner_text("#synthetic-banner")


def test_first_load_uses_the_partial_plotly_bundle_and_one_round_of_callbacks(app, tab):
    import json

    from plotly.offline import get_plotlyjs_version

    page = tab
    requested, answered = [], []
    page.on("request", lambda request: requested.append(request.url))

    def outcome(response):
        if "_dash-update-component" in response.url:
            answered.append((json.loads(response.request.post_data)["output"], response.status))

    page.on("response", outcome)
    open_map(page, app.url)
    assert any(url.endswith("/assets/plotly-map.min.js") or "/assets/plotly-map.min.js?" in url for url in requested)
    assert not [url for url in requested if "package_data/plotly.min.js" in url], "the full plotly.js was loaded too"
    assert page.evaluate("() => Plotly.version") == get_plotlyjs_version(), "the bundle must match the Python plotly"
    traces = page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)")
    assert "choroplethmap" in traces and "bar" not in traces and "scatter3d" not in traces
    # The page is built showing the default view: restoring a plain URL and drawing the map send nothing.
    statuses = dict(answered)
    view_key = next(key for key in statuses if ".view.data." in key)
    map_key = next(key for key in statuses if key.startswith("..map.figure."))
    assert (statuses[view_key], statuses[map_key]) == (204, 204), answered
    assert sum(1 for output, _ in answered if output == map_key) == 1, "the map callback ran twice on first load"
    # The table, panel, labels and options arrive in the page itself: none is asked for again.
    for prebuilt in ("ranking.data", "panel.children", '"type":"label"', "indicator.options", "download-format.options"):
        assert not [output for output, _ in answered if prebuilt in output], f"{prebuilt} was fetched on first load"
    assert page.locator("#ranking td").count() > 0 and page.inner_text("#indicator").strip()


def open_with_plotly_held(context, url):
    """A page whose plotly.js is held back: the partial bundle fails and the full one, which
    dcc.Graph then asks for, waits until the returned release() is called."""
    page = context.new_page()
    held = []
    page.route("**/assets/plotly-map.min.js*", lambda route: route.abort())
    page.route(lambda address: "plotly" in address and "/assets/" not in address, lambda route: held.append(route))

    def release():
        page.unroute("**/assets/plotly-map.min.js*")
        for route in held:
            route.continue_()
        held.clear()

    page.goto(url)
    return page, release


PICTURE_LOADED = "() => { const i = document.querySelector('.map-preview img'); return !!i && i.complete && i.naturalWidth > 0; }"


def screenshot_pixels(page, locator):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).astype(int)


def test_the_first_map_shows_as_a_picture_that_the_live_map_covers_exactly(app, browser_context, artifacts_dir):
    page, release = open_with_plotly_held(browser_context, app.url)
    try:
        page.wait_for_function(PICTURE_LOADED, timeout=60_000)
        assert page.evaluate("() => !document.querySelector('#map .js-plotly-plot')"), "plotly was not held back"
        frame = page.locator(".map-frame")
        picture = screenshot_pixels(page, frame)
        page.screenshot(path=str(artifacts_dir / "map-picture-before-plotly.png"))
        release()
        page.wait_for_function(MAP_READY, timeout=60_000)
        page.wait_for_function("() => document.documentElement.classList.contains('map-drawn')", timeout=30_000)
        assert not page.locator(".map-preview").is_visible(), "the picture must go once the map is drawn"
        live = screenshot_pixels(page, frame)
    finally:
        page.close()
    left = int(live.shape[1] * 0.2) + 4  # the map box; the legend strip is drawn by plotly only
    province = (picture[:, left:] < 235).any(axis=2)
    assert province.mean() > 0.15, "the picture shows the province"
    same = (np.abs(picture[:, left:] - live[:, left:]) <= 40).all(axis=2)
    # Fill colours match wherever the picture paints; only anti-aliased edges may differ.
    assert same[province].mean() > 0.9, f"picture and map agree on {same[province].mean():.0%} of the province"
    assert same[~province].mean() > 0.97, "the live map paints outside the picture's province"


def test_a_permalink_never_shows_the_first_map_picture(app, browser_context):
    page, release = open_with_plotly_held(browser_context, app.url + "/?indicator=councils&zones=3")
    try:
        page.wait_for_selector(".map-preview img", state="attached", timeout=60_000)
        assert not page.locator(".map-preview").is_visible(), "the picture shows the default view, not this one"
    finally:
        release()
        page.close()


def test_the_picture_goes_as_soon_as_the_view_changes_even_if_the_map_cannot_draw(app, browser_context):
    page, release = open_with_plotly_held(browser_context, app.url)
    try:
        page.wait_for_function(PICTURE_LOADED, timeout=60_000)
        assert page.locator(".map-preview").is_visible()
        page.locator("#zones label").nth(2).click()  # zone 3: no longer the view the picture shows
        page.wait_for_function("() => document.querySelector('.map-preview').offsetParent === null", timeout=30_000)
        assert "zones=3" in page.url
    finally:
        release()
        page.close()


def test_changing_indicator_recolours_without_resetting_the_zoom(app, tab):
    page = tab
    open_map(page, app.url)
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # One scroll gesture: plotly records the zoom when the gesture's animation ends.
    page.mouse.wheel(0, -600)
    # Wait until the zoom has ended and plotly has recorded it as the user's own.
    page.wait_for_function("""() => { const gd = document.querySelector('#map .js-plotly-plot');
        const map = gd._fullLayout.map._subplot.map;
        return !map.isMoving() && gd.layout.map && Math.abs(gd.layout.map.zoom - map.getZoom()) < 1e-9; }""")
    settle(page)
    zoomed = page.evaluate(VIEWPORT)
    before = page.evaluate(PAINTED)["fills"]
    choose(page, "#indicator", "capital_human")
    page.wait_for_function("() => location.search.includes('indicator=capital_human')", timeout=30_000)
    settle(page)
    after = page.evaluate(PAINTED)
    changed = len(set(after["fills"]) - set(before))
    assert changed > 20, "areas changed colour with the indicator"
    assert page.evaluate(VIEWPORT) == pytest.approx(zoomed, abs=1e-6), "the user's zoom is kept"
    assert zoomed["zoom"] > 7.5


def test_choosing_a_zone_zooms_to_it_and_filters_the_table(app, tab):
    page = tab
    open_map(page, app.url)
    province = page.evaluate(VIEWPORT)
    page.locator("#zones input[value='5']").check()
    page.wait_for_function("() => location.search.includes('zones=5')", timeout=30_000)
    page.wait_for_timeout(2000)
    zoomed = page.evaluate(VIEWPORT)
    assert zoomed["zoom"] > province["zoom"] + 0.5
    districts = boundaries.load("district").set_index("pcode")
    phimai = districts.loc["TH3015"].geometry.centroid
    assert abs(zoomed["lon"] - phimai.x) < 0.5 and abs(zoomed["lat"] - phimai.y) < 0.5
    opacity = page.evaluate("() => document.querySelector('#map .js-plotly-plot')._fullData[0].marker.opacity")
    assert isinstance(opacity, list) and 0 < opacity.count(1) < 289, "areas outside the zone fade"
    total = page.inner_text("#ranking .previous-next-container") if page.locator("#ranking .previous-next-container").count() else ""
    rows = page.locator("#ranking tbody tr").count() - 1
    assert rows == min(opacity.count(1), 15), total


def choose(page, dropdown, value):
    page.click(dropdown)
    page.locator(f".dash-dropdown-option:has(input[value='{value}'])").click()


def click_area(page, pcode):
    tambons = boundaries.load("tambon").set_index("pcode")
    point = tambons.loc[pcode].geometry.representative_point()
    xy = page.evaluate(
        f"""() => {{ const m = document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot.map;
            const p = m.project([{point.x}, {point.y}]); const r = m.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }}"""
    )
    page.mouse.click(*xy)


def test_clicking_nai_mueang_of_phimai_opens_its_panel(app, tab):
    page = tab
    open_map(page, app.url + "/?zones=5")
    page.wait_for_timeout(1500)
    click_area(page, "TH301501")
    page.wait_for_function("() => location.search.includes('area=TH301501')", timeout=30_000)
    page.wait_for_selector("#panel-title")
    assert page.inner_text("#panel-title") == "ในเมือง"
    assert "พิมาย" in page.inner_text("#panel-subtitle")
    assert page.get_attribute("#panel-title", "data-pcode") == "TH301501"
    crumbs = page.inner_text("#breadcrumb")
    assert "พิมาย" in crumbs and "ในเมือง" in crumbs
    highlighted = page.evaluate("() => document.querySelector('#map .js-plotly-plot')._fullData[4].locations")
    assert highlighted == ["TH301501"]


def test_a_permalink_restores_the_view(app, tab):
    page = tab
    open_map(page, app.url + "/?indicator=councils&level=district&zones=3,4&area=TH3013&lang=en")
    page.wait_for_selector("#panel-title")
    assert page.inner_text("#panel-title") == "Prathai"
    painted = page.evaluate(PAINTED)
    assert painted["level"] == "district"
    assert page.locator("#zones input[value='3']").is_checked() and page.locator("#zones input[value='4']").is_checked()
    assert "Community" in page.inner_text("#indicator")
    assert page.evaluate(VIEWPORT)["zoom"] > 8


def test_language_switch_changes_labels(app, tab):
    page = tab
    open_map(page, app.url)
    assert page.inner_text("h1") == "แผนที่การพัฒนาชุมชนนครราชสีมา"
    page.get_by_label("English").check()
    page.wait_for_function("() => document.querySelector('h1').innerText === 'Korat Development Atlas'", timeout=30_000)
    assert "SYNTHETIC" in page.inner_text("#synthetic-banner")
    assert "Ranking of areas" in page.inner_text("#ranking-section")
    assert "lang=en" in page.url


def test_about_page_names_sources_and_licences(app, tab):
    page = tab
    page.goto(app.url + "/about?lang=en")
    page.wait_for_function("() => (document.querySelector('#about-page h1') || {}).innerText === 'About the data'")
    page.wait_for_selector("#definitions")
    assert not page.locator("#map-page").is_visible(), "the map page hides behind the about page"
    text = page.inner_text("#about-page")
    assert "OCHA COD-AB" in text and "MIT" in text and "CC BY-IGO" in text
    assert "Targeted poor" in text or "targeted poor" in text


def test_raster_overlay_is_drawn_over_the_map_with_its_legend(app, tab):
    page = tab
    open_map(page, app.url + "/?lang=en")
    choose(page, "#overlay", "access_distance")
    page.wait_for_function("() => location.search.includes('overlay=access_distance')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#map .js-plotly-plot')._fullLayout.map.layers.length === 1",
                           timeout=30_000)
    page.wait_for_function(MAP_READY, timeout=30_000)
    layers = page.evaluate("() => document.querySelector('#map .js-plotly-plot')._fullLayout.map.layers"
                           ".map(l => [l.sourcetype, l.opacity, String(l.source).slice(0, 22)])")
    assert layers == [["image", 0.7, "data:image/png;base64,"]]
    assert "Distance to nearest district centre" in page.inner_text("#map-legend-note")
    style_layers = page.evaluate("() => document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot"
                                 ".map.getStyle().layers.filter(l => l.type === 'raster').length")
    assert style_layers == 1, "MapLibre draws the image"
    choose(page, "#overlay", "none")
    page.wait_for_function("() => !location.search.includes('overlay=')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#map .js-plotly-plot')._fullLayout.map.layers.length === 0",
                           timeout=30_000)


def test_raster_indicator_is_offered_and_mapped(app, tab):
    page = tab
    open_map(page, app.url + "/?indicator=raster_access_distance_mean&level=district&lang=en")
    assert "Distance to nearest district centre" in page.inner_text("#indicator")
    assert page.evaluate(PAINTED)["shapes"] == 32
