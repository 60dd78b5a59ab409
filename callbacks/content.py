"""Everything on the page that follows the view: labels, options, panel, table, about page."""
from dash import ALL, Input, Output, State, ctx

from dashboard import about, options, panel
from dashboard.i18n import t
from dashboard.state import View
from layers import maplayer, profile


def register(app, atlas):
    @app.callback(Output({"type": "label", "key": ALL}, "children"), Input("ui-lang", "data"))
    def translate_labels(lang):
        return [t(output["id"]["key"], lang or "th") for output in ctx.outputs_list]

    @app.callback(
        Output("indicator", "options"), Output("level", "options"), Output("scheme", "options"),
        Output("year", "options"), Output("zones", "options"), Output("overlay", "options"),
        Input("ui-lang", "data"),
    )
    def translate_options(lang):
        return options.control_options(atlas, lang or "th")

    @app.callback(Output("map-legend-note", "children"), Input("view", "data"))
    def show_overlay_legend(view_data):
        view = View.from_dict(view_data)
        return panel.overlay_legend(atlas.overlay(view.overlay), view.lang)

    @app.callback(Output("panel", "children"), Output("breadcrumb", "children"), Input("view", "data"))
    def show_panel(view_data):
        view = View.from_dict(view_data)
        data = profile.area_profile(atlas, view.area, view) if view.area else None
        return panel.panel(data, view.lang, view.thai_digits), panel.breadcrumb(profile.breadcrumb(atlas, view), view.lang)

    @app.callback(
        Output("ranking", "data"), Output("ranking", "columns"), Output("ranking", "style_data_conditional"),
        Input("view", "data"), Input("ranking", "sort_by"),
    )
    def show_ranking(view_data, sort_by):
        view = View.from_dict(view_data)
        layer = atlas.layer(view)
        rows = maplayer.ranking_rows(layer, atlas.table(view.level, view.year, view.mpi_cutoff), view.lang, sort_by)
        return rows, options.ranking_columns(view, layer), options.selected_row_style(view.area)

    @app.callback(
        Output("map-page", "hidden"), Output("about-page", "hidden"), Output("about-page", "children"),
        Output("page", "className"), Output("synthetic-banner", "hidden"),
        Input("url", "pathname"), Input("view", "data"),
    )
    def show_page(pathname, view_data):
        view = View.from_dict(view_data)
        on_about = (pathname or "/").rstrip("/").endswith("/about")
        content = about.about_page(view.lang, atlas.synthetic_tables(), atlas.imports()) if on_about else []
        return on_about, not on_about, content, "embed" if view.embed else "", not atlas.synthetic_tables()

    # Embed mode changes the map's box after plotly has drawn it: tell plotly to measure again.
    app.clientside_callback(
        """function(className) {
            if (className) { setTimeout(function() { window.dispatchEvent(new Event('resize')); }, 50); }
            return className || '';
        }""",
        Output("layout-mode", "data"), Input("page", "className"),
    )
