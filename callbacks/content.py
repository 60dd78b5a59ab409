"""Everything on the page that follows the view: labels, options, panel, table, about page.

The page arrives already showing the default view (dashboard.layout), so the
callbacks that only follow the view or the language skip the first load
(prevent_initial_call); a permalink sets them off by changing the view.
"""
from dash import ALL, Input, Output, ctx

from dashboard import about, options, sections
from dashboard.i18n import t
from dashboard.state import View


def register(app, atlas):
    @app.callback(Output({"type": "label", "key": ALL}, "children"), Input("ui-lang", "data"), prevent_initial_call=True)
    def translate_labels(lang):
        return [t(output["id"]["key"], lang or "th") for output in ctx.outputs_list]

    @app.callback(
        Output("indicator", "options"), Output("level", "options"), Output("scheme", "options"),
        Output("year", "options"), Output("zones", "options"), Output("overlay", "options"),
        Input("ui-lang", "data"), prevent_initial_call=True,
    )
    def translate_options(lang):
        return options.control_options(atlas, lang or "th")

    @app.callback(Output("map-legend-note", "children"), Input("view", "data"), prevent_initial_call=True)
    def show_overlay_legend(view_data):
        return sections.overlay_note(atlas, View.from_dict(view_data))

    @app.callback(Output("panel", "children"), Output("breadcrumb", "children"), Input("view", "data"), prevent_initial_call=True)
    def show_panel(view_data):
        return sections.area_panel(atlas, View.from_dict(view_data))

    @app.callback(
        Output("ranking", "data"), Output("ranking", "columns"), Output("ranking", "style_data_conditional"),
        Input("view", "data"), Input("ranking", "sort_by"), prevent_initial_call=True,
    )
    def show_ranking(view_data, sort_by):
        return sections.ranking(atlas, View.from_dict(view_data), sort_by)

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
