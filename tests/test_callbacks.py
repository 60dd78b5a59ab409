"""Callbacks called through Dash's HTTP endpoint with realistic inputs."""
import json
import os

import pytest

from dashboard.app import create_app
from dashboard.state import View, to_query
from tests.browser import build_demo_store
from tests.dash_client import call


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(str(build_demo_store(tmp_path_factory.mktemp("callbacks") / "atlas.duckdb", 20_000)))


@pytest.fixture
def client(app):
    return app.server.test_client()


def view_data(**changes):
    return View().with_(**changes).to_dict()


def test_permalink_sets_the_view_and_every_control(app, client):
    response = call(client, app, "view.data", {"url.search": "?indicator=councils&level=district&zones=2,5&lang=en&year=2567"})
    outputs = response.get_json()["response"]
    view = outputs["view"]["data"]
    assert (view["indicator"], view["level"], view["zones"], view["lang"], view["year"]) == ("councils", "district", [2, 5], "en", 2024)
    assert outputs["zones"]["value"] == [2, 5] and outputs["level"]["value"] == "district"
    assert outputs["map-preview"]["hidden"] is True, "the first map's picture shows another view"


def page_nodes(app, page=None):
    """Every component of the page as the browser first receives it."""
    pending = [page or app.layout()]
    while pending:
        node = pending.pop()
        yield node
        children = getattr(node, "children", None)
        pending += children if isinstance(children, list) else [children] if children is not None else []


def layout_component(app, component_id):
    for node in page_nodes(app):
        if getattr(node, "id", None) == component_id:
            return node
    raise KeyError(component_id)


def test_a_plain_url_on_first_load_sets_nothing_off(app, client):
    # The stores start with the default view, so restoring it must not fire every callback a second time.
    shown = layout_component(app, "view").data
    assert View.from_dict(shown) == View()
    response = call(client, app, "view.data", {"url.search": "", "view.data": shown, "ui-lang.data": "th"})
    assert response.status_code == 204


# What the page itself holds: a callback reading only these is not a user's action.
PAGE_STATE = {"view.data", "ui-lang.data", "ranking.sort_by"}


def as_json(value):
    from plotly.io.json import to_json_plotly

    return json.loads(to_json_plotly(value))


def test_callbacks_skipped_on_first_load_find_their_outputs_already_in_the_page(app, client):
    # The browser learns from /_dash-dependencies which callbacks to run on load; those that
    # skip it must find the page already showing what they would return for its first view.
    dependencies = client.get("/_dash-dependencies").get_json()
    skipped = [d for d in dependencies if d["prevent_initial_call"]
               and {f"{i['id']}.{i['property']}" for i in d["inputs"]} <= PAGE_STATE]
    outputs = {d["output"] for d in skipped}
    for expected in ("ranking.data", "panel.children", "breadcrumb.children", "map-legend-note.children",
                     "indicator.options", "download-format.options", '"type":"label"'):
        assert any(expected in output for output in outputs), f"{expected} still waits for a callback on load"
    for dependency in skipped:
        if dependency["output"].startswith("{"):  # the labels, one pattern-matching output
            from dashboard.i18n import t

            lang = layout_component(app, "ui-lang").data
            labels = [node for node in page_nodes(app) if isinstance(getattr(node, "id", None), dict)
                      and node.id.get("type") == "label"]
            assert labels and all(node.children == t(node.id["key"], lang) for node in labels)
            continue
        first = dependency["output"].strip(".").split("...")[0]
        values = {}
        for item in dependency["inputs"] + dependency["state"]:
            values[f"{item['id']}.{item['property']}"] = getattr(layout_component(app, item["id"]), item["property"])
        response = call(client, app, first, values)
        assert response.status_code == 200, dependency["output"]
        for component_id, props in response.get_json()["response"].items():
            for prop, value in props.items():
                shown = as_json(getattr(layout_component(app, component_id), prop, None))
                assert shown == value, f"{component_id}.{prop} differs between the page and its callback"


def test_the_page_is_built_at_start_and_again_once_the_store_has_changed(tmp_path, monkeypatch):
    import dashboard.layout

    store_file = build_demo_store(tmp_path / "atlas.duckdb", 5_000)
    changing_app = create_app(str(store_file))
    builds, build = [], dashboard.layout.build_layout
    monkeypatch.setattr(dashboard.layout, "build_layout", lambda atlas: builds.append(atlas) or build(atlas))
    first = changing_app.layout()
    assert builds == [], "the first visitor must not wait for the page to be built"
    assert changing_app.layout() is first, "one build per store version, not one per visit"
    stamp = store_file.stat().st_mtime_ns + 10**9
    os.utime(store_file, ns=(stamp, stamp))  # as an import leaves it
    rebuilt = changing_app.layout()
    assert rebuilt is not first and len(builds) == 1
    state = lambda page: next(n for n in page_nodes(changing_app, page) if getattr(n, "id", None) == "map-state").data
    assert state(rebuilt)["drawn"] != state(first)["drawn"]


def test_the_map_is_not_resent_for_the_view_the_page_was_built_with(app, client):
    first_state = layout_component(app, "map-state").data
    response = call(client, app, "map.figure", {"view.data": View().to_dict(), "map-state.data": first_state})
    assert response.status_code == 204
    changed = call(client, app, "map.figure", {"view.data": view_data(indicator="councils"), "map-state.data": first_state})
    assert changed.status_code == 200
    state = changed.get_json()["response"]["map-state"]["data"]
    back = call(client, app, "map.figure", {"view.data": View().to_dict(), "map-state.data": state})
    assert back.status_code == 200, "going back to the default view must repaint it"


def test_map_updates_are_empty_only_for_the_view_already_drawn(app):
    from dashboard.figures import map_state, map_updates

    shown = map_state(app.atlas, View())
    assert map_updates(app.atlas, View(), shown) == ([], shown)
    updates, state = map_updates(app.atlas, View().with_(indicator="councils"), shown)
    assert updates and state["drawn"] != shown["drawn"] and state["focus"] == shown["focus"]


def test_the_prebuilt_map_is_patched_once_the_store_has_changed(app, client, tmp_path):
    stale_app = create_app(str(build_demo_store(tmp_path / "atlas.duckdb", 5_000)))
    first_state = layout_component(stale_app, "map-state").data
    store_file = tmp_path / "atlas.duckdb"
    stamp = store_file.stat().st_mtime_ns + 10**9
    os.utime(store_file, ns=(stamp, stamp))  # as an import leaves it
    response = call(stale_app.server.test_client(), stale_app, "map.figure",
                    {"view.data": View().to_dict(), "map-state.data": first_state})
    assert response.status_code == 200
    operations = response.get_json()["response"]["map"]["figure"]["operations"]
    assert any(op["location"] == ["data", 0, "z"] for op in operations)


def test_changing_a_control_rewrites_the_url(app, client):
    values = {"indicator.value": "fund_members", "level.value": "tambon", "zones.value": [3], "year.value": "latest",
              "mpi-cutoff.value": 0.2, "scheme.value": "natural_breaks", "k.value": 4, "breaks.value": "",
              "lang.value": "th", "digits.value": [], "url.search": ""}
    search = call(client, app, "url.search", values, changed=["indicator.value"]).get_json()["response"]["url"]["search"]
    assert "indicator=fund_members" in search and "zones=3" in search and "scheme=natural_breaks" in search


def test_indicator_change_sends_values_not_geometry(app, client):
    response = call(client, app, "map.figure", {"view.data": view_data(indicator="councils"), "map-state.data": {"focus": "tambon||", "overlay": ""}})
    body = response.get_data()
    assert len(body) < 10_000, f"patch of {len(body)} bytes"
    patch = json.dumps(response.get_json())
    assert "Nai Mueang" not in patch, "names were sent with the base figure, not again"
    operations = response.get_json()["response"]["map"]["figure"]["operations"]
    z = next(op for op in operations if op["location"] == ["data", 0, "z"])["params"]["value"]
    assert len(z) == 289 and len(set(z)) >= 3, "classes by council count"


def test_zone_change_recentres_the_map(app, client):
    response = call(client, app, "map.figure", {"view.data": view_data(zones=[3]), "map-state.data": {"focus": "tambon||", "overlay": ""}})
    operations = response.get_json()["response"]["map"]["figure"]["operations"]
    locations = [op["location"] for op in operations]
    assert ["layout", "map", "zoom"] in locations and ["layout", "uirevision"] in locations
    assert response.get_json()["response"]["map-state"]["data"]["focus"] == "tambon|3|"


def test_map_click_selects_the_area_in_the_url(app, client):
    values = {"map.clickData": {"points": [{"location": "TH301501", "curveNumber": 0}]}, "url.search": "?zones=5"}
    response = call(client, app, "url.search", values, changed=["map.clickData"])
    assert response.get_json()["response"]["url"]["search"] == "?zones=5&area=TH301501"


def test_panel_shows_the_clicked_tambon_and_its_district(app, client):
    response = call(client, app, "panel.children", {"view.data": view_data(area="TH301501")})
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert "ในเมือง" in text and "พิมาย" in text and "ทุนมนุษย์" in text


def test_ranking_lists_every_area_in_focus_with_thai_collation(app, client):
    values = {"view.data": view_data(level="district"), "ranking.sort_by": [{"column_id": "name", "direction": "asc"}]}
    rows = call(client, app, "ranking.data", values).get_json()["response"]["ranking"]["data"]
    assert len(rows) == 32
    names = [r["name"] for r in rows]
    assert names.index("ครบุรี") < names.index("เฉลิมพระเกียรติ") < names.index("โชคชัย")


def test_no_household_level_field_reaches_the_browser(app, client):
    for area in ("TH301501", "TH3015", "5"):
        body = call(client, app, "panel.children", {"view.data": view_data(area=area)}).get_data(as_text=True)
        assert "HH0" not in body and "household_id" not in body and "income_month" not in body


def test_the_first_map_picture_is_served_for_the_pages_own_view(app, client):
    import xml.etree.ElementTree as ET

    picture = next(node for node in page_nodes(app) if getattr(node, "className", None) == "map-preview").children
    response = client.get(picture.src)
    assert response.status_code == 200 and response.content_type.startswith("image/svg+xml")
    assert "immutable" in response.headers["Cache-Control"], "the URL carries the store version"
    assert layout_component(app, "map-state").data["drawn"] in picture.src
    svg = ET.fromstring(response.get_data())
    areas, outlines = svg.findall("{http://www.w3.org/2000/svg}g")
    layer = app.atlas.layer(View())
    fills = {path.get("data-pcode"): path.get("fill") for path in areas}
    assert list(fills) == list(map(str, layer.pcodes)) and len(fills) == 289
    assert all(fills[str(p)] == layer.colours[c] for p, c in zip(layer.pcodes, layer.classes) if c >= 0)
    assert len(outlines) == len(app.atlas.table("district"))
    body = response.get_data(as_text=True)
    assert "household" not in body.lower() and len(body) < 150_000


def test_map_pixels_put_the_centre_at_the_origin_at_maplibres_scale():
    from shapely import Point

    from dashboard.preview import map_pixels

    centre = {"lon": 102.0, "lat": 15.0}
    origin = map_pixels(Point(102.0, 15.0), centre, 9.0)
    assert (origin.x, origin.y) == pytest.approx((0, 0), abs=1e-6)
    east = map_pixels(Point(102.0 + 100 * 360 / (512 * 2**9), 15.0), centre, 9.0)  # 100 px east at zoom 9
    assert (east.x, east.y) == pytest.approx((100, 0), abs=1e-6)
    assert map_pixels(Point(102.0, 15.1), centre, 9.0).y < 0, "screen y grows downwards"
