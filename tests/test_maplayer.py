import numpy as np
import pandas as pd
import pytest

from dashboard import figures
from layers import maplayer


def _table(values, households=None, zones=None):
    n = len(values)
    return pd.DataFrame({
        "pcode": [f"TH30{i:04d}" for i in range(n)],
        "name_th": [f"ต{i}" for i in range(n)], "name_en": [f"T{i}" for i in range(n)],
        "district_pcode": ["TH3001"] * (n // 2) + ["TH3002"] * (n - n // 2),
        "district_th": "อ", "district_en": "D",
        "zone": zones if zones is not None else [1] * n,
        "mpi_headcount": values,
        "households": households if households is not None else [100] * n,
        "councils": [1] * n,
    })


def test_small_household_counts_are_suppressed_not_shown():
    table = _table([0.1, 0.2, 0.3], households=[100, 3, 0])
    out = maplayer.suppress_small_counts(table)
    assert out["suppressed"].tolist() == [False, True, False]
    assert np.isnan(out.loc[1, "mpi_headcount"]) and np.isnan(out.loc[1, "households"])
    assert out.loc[1, "councils"] == 1, "organisation counts are not household data"
    layer = maplayer.build_layer(table, "mpi_headcount", "tambon")
    assert layer.value_text[1] == "<5"


def test_layer_classes_ranks_and_no_data():
    table = _table([0.1, 0.5, np.nan, 0.3, 0.2, 0.4])
    layer = maplayer.build_layer(table, "mpi_headcount", "tambon", scheme="equal_interval", k=2, lang="en")
    assert layer.classes[2] == -1
    assert layer.rank[:2] == [5, 1] and layer.rank[2] is None
    assert layer.legend[-1].label == "No data" and layer.legend[-1].count == 1
    assert sum(e.count for e in layer.legend) == 6


def test_zone_focus_fades_the_rest_and_ranks_within_the_focus():
    table = _table([0.1, 0.5, 0.3, 0.9], zones=[1, 1, 2, 2])
    layer = maplayer.build_layer(table, "mpi_headcount", "tambon", zones=(1,))
    assert layer.in_focus.tolist() == [True, True, False, False]
    assert layer.rank == [2, 1, None, None]
    assert (layer.classes >= 0).all(), "areas outside the focus keep a colour (faded)"


def test_ranking_rows_sort_names_in_thai_order_and_values_with_missing_last():
    table = _table([0.2, np.nan, 0.4])
    table["name_th"] = ["เมือง", "กา", "ไก่"]
    layer = maplayer.build_layer(table, "mpi_headcount", "tambon")
    names = [r["name"] for r in maplayer.ranking_rows(layer, table, "th", [{"column_id": "name", "direction": "asc"}])]
    assert names == ["กา", "ไก่", "เมือง"]
    values = [r["id"] for r in maplayer.ranking_rows(layer, table, "th", [{"column_id": "value", "direction": "desc"}])]
    assert values == ["TH300002", "TH300000", "TH300001"]


def test_discrete_colorscale_puts_each_class_on_its_integer():
    scale, zmin, zmax = figures.discrete_colorscale(["#111111", "#222222"], with_no_data=True)
    assert (zmin, zmax) == (-1.5, 1.5)
    def colour_at(z):
        position = (z - zmin) / (zmax - zmin)
        return [c for p, c in scale if p <= position][-1]
    assert colour_at(-1) == maplayer.NO_DATA_COLOUR and colour_at(0) == "#111111" and colour_at(1) == "#222222"


def test_centre_and_zoom_fit_smaller_areas_closer():
    _, province = maplayer.centre_and_zoom((101.0, 14.1, 103.0, 15.8))
    centre, district = maplayer.centre_and_zoom((102.0, 14.9, 102.2, 15.1))
    assert district > province + 2
    assert centre == pytest.approx({"lon": 102.1, "lat": 15.0})


def test_updates_apply_to_a_figure_dict():
    figure = {"data": [{"z": []}, {}], "layout": {}}
    figures.apply_to_dict(figure, [(("data", 0, "z"), [1]), (("layout", "map", "zoom"), 7)])
    assert figure["data"][0]["z"] == [1] and figure["layout"]["map"]["zoom"] == 7


def test_the_atlas_keeps_a_bounded_number_of_map_layers(tmp_path, monkeypatch):
    from dashboard.state import View
    from geodata.store import open_store
    from layers import atlas as atlas_module

    monkeypatch.setattr(atlas_module, "MAX_CACHED_LAYERS", 3)
    atlas = atlas_module.Atlas(open_store(tmp_path / "atlas.duckdb"), table_cache=tmp_path / "cache")
    for k in range(2, 9):
        atlas.layer(View(indicator="councils", k=k))
    assert sum(1 for key in atlas._cache if key[0] == "layer") <= 4
    assert atlas.layer(View(indicator="councils", k=8)) is atlas.layer(View(indicator="councils", k=8))


def test_mercator_y_is_zero_at_the_equator_odd_and_pi_at_the_web_mercator_edge():
    from layers.maplayer import mercator_y

    assert mercator_y(0) == pytest.approx(0)
    assert mercator_y(-15.0) == pytest.approx(-mercator_y(15.0))
    assert mercator_y(85.0511287798) == pytest.approx(np.pi, rel=1e-9)  # where Web Mercator squares the world
    assert mercator_y(np.array([0.0, 85.0511287798])) == pytest.approx([0, np.pi])
