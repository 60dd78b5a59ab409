from dashboard.state import View, from_query, to_query
from layers.selection import after_click


def test_permalink_round_trips_every_field():
    view = View(indicator="councils", level="district", zones=(3, 7), district="TH3015", year=2023,
                area="TH301501", lang="en", scheme="user", k=4, breaks=(0.1, 0.25), mpi_cutoff=0.4,
                thai_digits=True, embed=True)
    assert from_query(to_query(view)) == view


def test_defaults_make_an_empty_query_and_bad_values_fall_back():
    assert to_query(View()) == ""
    view = from_query("?level=planet&k=99&zones=2,x,1&year=2567&lang=fr&indicator=nope", known_indicators={"mpi"})
    assert view.level == "tambon" and view.k == 9 and view.zones == (1, 2)
    assert view.year == 2024, "Buddhist Era years are read as CE"
    assert view.lang == "th" and view.indicator == View().indicator


def test_map_click_selects_the_clicked_area():
    view = after_click(View(), "map", click={"points": [{"location": "TH301501"}]})
    assert view.area == "TH301501"


def test_table_click_selects_the_row_area():
    assert after_click(View(), "ranking", cell={"row_id": "TH3001", "row": 0}).area == "TH3001"


def _level(pcode):
    return "zone" if pcode.isdigit() else {6: "district", 8: "tambon"}[len(pcode)]


def test_drilling_into_a_district_shows_its_tambons_and_breadcrumb_goes_back_up():
    view = View(level="district", area="TH3015")
    down = after_click(view, {"type": "drill", "key": "TH3015"}, area_level=_level)
    assert (down.level, down.district, down.area) == ("tambon", "TH3015", "TH3015")
    zone = after_click(down, {"type": "crumb", "level": "zone", "pcode": "5"}, area_level=_level)
    assert zone.zones == (5,) and zone.district is None and zone.area == "5"
    top = after_click(zone, {"type": "crumb", "level": "province", "pcode": ""}, area_level=_level)
    assert top.zones == () and top.area is None


def test_drilling_into_a_zone_shows_its_districts():
    view = after_click(View(), {"type": "drill", "key": "4"}, area_level=_level)
    assert (view.level, view.zones) == ("district", (4,))
