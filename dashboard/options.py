"""Choices offered by the controls, in the user's language."""
from __future__ import annotations

from layers import registry

from .i18n import t
from .state import LEVELS, SCHEMES


def indicator_options(lang: str) -> list[dict]:
    """Indicators grouped by theme; a theme heading is a disabled option."""
    items = []
    for theme, indicators in registry.by_theme().items():
        if not indicators:
            continue
        heading = registry.THEMES[theme][0 if lang == "th" else 1]
        items.append({"label": f"— {heading} —", "value": f"theme:{theme}", "disabled": True})
        items += [{"label": i.label(lang), "value": i.id, "title": i.definition(lang)} for i in indicators]
    return items


def control_options(atlas, lang: str):
    zones = atlas.zones()
    zone_options = [
        {"label": str(int(z.zone)), "value": int(z.zone), "title": z.name_th if lang == "th" else z.name_en}
        for z in zones.itertuples()
    ]
    years = [{"label": t("year_latest", lang), "value": "latest"}]
    years += [{"label": f"{y} ({y + 543})" if lang == "th" else str(y), "value": y} for y in atlas.years()]
    overlays = [{"label": t("overlay_none", lang), "value": "none"}]
    overlays += [{"label": r.title(lang), "value": r.raster_id} for r in atlas.rasters()]
    return (
        indicator_options(lang),
        [{"label": t(f"level_{level}", lang), "value": level} for level in LEVELS],
        [{"label": t(f"scheme_{scheme}", lang), "value": scheme} for scheme in SCHEMES],
        years,
        zone_options,
        overlays,
    )


def ranking_columns(view, layer) -> list[dict]:
    lang = view.lang
    columns = [{"name": t("rank", lang), "id": "rank"}, {"name": t("area", lang), "id": "name"}]
    if view.level == "tambon":
        columns.append({"name": t("district", lang), "id": "district"})
    columns.append({"name": layer.indicator.label(lang), "id": "value"})
    return columns


def selected_row_style(area: str | None) -> list[dict]:
    if not area:
        return []
    return [{"if": {"filter_query": f'{{id}} = "{area}"'}, "backgroundColor": "#fff3bf", "fontWeight": "600"}]
