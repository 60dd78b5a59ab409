"""What the page's sections show for a view.

The same functions build the first page (for the default view) and answer
the callbacks (for every other view), so the page a browser receives is
already what the callbacks would make of it and they need not run on load.
"""
from __future__ import annotations

from layers import maplayer, profile

from . import options, panel


def area_panel(atlas, view) -> tuple[list, list]:
    """The drill-down panel of the selected area (empty without one) and the breadcrumb."""
    data = profile.area_profile(atlas, view.area, view) if view.area else None
    return panel.panel(data, view.lang, view.thai_digits), panel.breadcrumb(profile.breadcrumb(atlas, view), view.lang)


def overlay_note(atlas, view) -> list:
    return panel.overlay_legend(atlas.overlay(view.overlay), view.lang)


def ranking(atlas, view, sort_by=None) -> tuple[list[dict], list[dict], list[dict]]:
    """The ranking table's rows, columns and the highlight of the selected row."""
    layer = atlas.layer(view)
    rows = maplayer.ranking_rows(layer, atlas.table(view.level, view.year, view.mpi_cutoff), view.lang, sort_by)
    return rows, options.ranking_columns(view, layer), options.selected_row_style(view.area)
