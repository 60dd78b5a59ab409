import math
import re

import numpy as np
import pandas as pd
import pytest

from layers import indicators, registry
from layers.registry import Indicator

THAI = re.compile(r"[\u0E00-\u0E7F]")


def test_compute_columns_and_registry_match_both_ways(store):
    for level in indicators.LEVELS:
        frame = indicators.compute(store, level)
        values = [c for c in frame.columns if c not in indicators.area_columns(level)]
        assert values == [i.id for i in registry.store_indicators()], level


def test_issue_columns_are_all_registered_in_order():
    expected = [
        "councils", "welfare_funds", "fund_members", "fund_baht", "housing_projects", "housing_households",
        "railside_households", "households", "capital_human", "capital_physical", "capital_financial",
        "capital_natural", "capital_social", "share_hardship", "share_struggling", "share_getting_by",
        "share_well_off", "mpi_headcount", "mpi_intensity", "mpi", "targeted_poor", "targeted_poor_share",
        "referrals", "referrals_resolved_share", "referral_median_days",
    ]
    assert [i.id for i in registry.store_indicators()] == expected


@pytest.mark.parametrize("indicator", registry.store_indicators(), ids=lambda i: i.id)
def test_every_indicator_has_thai_and_english_texts(indicator):
    for text in (indicator.name_th, indicator.unit_th, indicator.definition_th):
        assert THAI.search(text), f"{indicator.id}: Thai text missing in {text!r}"
    for text in (indicator.name_en, indicator.unit_en, indicator.definition_en):
        assert text and not THAI.search(text), f"{indicator.id}: English text {text!r}"
    assert indicator.source and indicator.label("th") == indicator.name_th and indicator.label("en") == indicator.name_en
    assert indicator.definition("th") == indicator.definition_th and indicator.unit("en") == indicator.unit_en


def test_household_indicators_are_marked_for_suppression():
    marked = {i.id for i in registry.store_indicators() if i.household_based}
    assert {"households", "mpi", "targeted_poor", "share_hardship", "capital_social", "referrals"} <= marked
    assert not {"councils", "welfare_funds", "fund_baht", "housing_projects"} & marked


def test_thai_level_terms_are_used():
    assert "อยู่ลำบาก" in registry.get("share_hardship").name_th
    assert "อยู่ยาก" in registry.get("share_struggling").name_th
    assert "อยู่พอได้" in registry.get("share_getting_by").name_th
    assert "อยู่ดี" in registry.get("share_well_off").name_th
    assert "คนจนเป้าหมาย" in registry.get("targeted_poor").name_th
    # thresholds in the texts come from the one definition
    assert f"m < {registry.LEVEL_THRESHOLDS[0]:g}" in registry.get("share_hardship").definition_en


def test_get_unknown_names_the_id():
    with pytest.raises(KeyError, match="no_such_thing"):
        registry.get("no_such_thing")


def test_themes_and_grouping():
    assert list(registry.THEMES) == ["councils", "funds", "housing", "poverty", "referrals", "raster"]
    assert registry.THEMES["funds"] == ("กองทุนสวัสดิการชุมชน", "Community welfare funds")
    grouped = registry.by_theme()
    assert [i.id for i in grouped["housing"]] == ["housing_projects", "housing_households", "railside_households"]
    assert list(grouped) == ["councils", "funds", "housing", "poverty", "referrals"]
    assert registry.theme_label("poverty", "th") == "ความยากจนครัวเรือน"


def _raster(name_en="Forest cover"):
    return Indicator(
        id="test_forest", theme="raster", name_th="ป่าไม้", name_en=name_en, unit_th="ร้อยละ", unit_en="%",
        definition_th="สัดส่วนพื้นที่ป่า", definition_en="Forest share", source="test", fmt="share", decimals=1,
    )


def test_register_adds_and_replaces_run_time_layers():
    try:
        registry.register(_raster())
        registry.register(_raster("Forest cover (new)"))
        raster_layers = [i for i in registry.all_indicators() if i.id == "test_forest"]
        assert len(raster_layers) == 1 and raster_layers[0].name_en == "Forest cover (new)"
        assert registry.all_indicators()[-1].id == "test_forest", "raster theme comes last"
        assert "test_forest" not in [i.id for i in registry.store_indicators()]
        assert registry.by_theme()["raster"][0].id == "test_forest"
    finally:
        registry._REGISTRY.pop("test_forest", None)


def test_invalid_declarations_are_refused():
    with pytest.raises(ValueError, match="theme"):
        Indicator(id="x", theme="nope", name_th="ก", name_en="x", unit_th="ก", unit_en="x",
                  definition_th="ก", definition_en="x", source="s")
    with pytest.raises(ValueError, match="format"):
        Indicator(id="x", theme="funds", name_th="ก", name_en="x", unit_th="ก", unit_en="x",
                  definition_th="ก", definition_en="x", source="s", fmt="percent")


def test_format_value():
    share = registry.get("share_hardship")
    assert share.format_value(0.1234) == "12.3%"
    assert share.format_value(0.1234, "th", thai_digits=True) == "๑๒.๓%"
    baht = registry.get("fund_baht")
    assert baht.format_value(400_123_456.7) == "400,123,457"
    assert baht.format_value(1234567, "th", with_unit=True) == "1,234,567 บาท"
    assert baht.format_value(1234567, "en", thai_digits=True, with_unit=True) == "๑,๒๓๔,๕๖๗ baht"
    assert registry.get("capital_human").format_value(2.014) == "2.01"
    assert registry.get("mpi").format_value(0.0567) == "0.057"
    assert registry.get("referral_median_days").format_value(19) == "19.0"
    for missing in (float("nan"), None, np.nan, np.float64("nan"), pd.NA):
        assert share.format_value(missing) == "no data"
        assert share.format_value(missing, "th") == "ไม่มีข้อมูล"
    with pytest.raises(ValueError):
        share.format_value(0.1, "fr")
