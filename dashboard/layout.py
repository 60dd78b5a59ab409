"""The page: header, controls, map, ranking table, drill-down panel, about page.

The page is built showing the default view, so the first map and table need
no callback; it is rebuilt when the store changes (after an import). Labels
carry pattern-matching ids, so the language switch changes every label
without rebuilding the controls.
"""
from __future__ import annotations

from dash import dash_table, dcc, html

from . import figures, options, preview, sections
from .exports import download_menu_options
from .state import View
from .i18n import t

ANY_LABEL = "label"
FONT_STACK = "Noto Sans Thai, Noto Sans, Sarabun, Loma, sans-serif"


def label(key: str, lang: str = "th", tag=html.Span, **kwargs):
    return tag(t(key, lang), id={"type": ANY_LABEL, "key": key}, **kwargs)


def controls(atlas):
    zones = atlas.zones()
    # Options are present from the start so that values restored from a permalink are valid at once.
    indicator_options, level_options, scheme_options, year_options, zone_options, overlay_options = (
        options.control_options(atlas, "th"))
    return html.Div(className="controls", children=[
        label("indicator", tag=html.Label, htmlFor="indicator"),
        dcc.Dropdown(id="indicator", options=indicator_options, value=View().indicator, clearable=False, searchable=True, optionHeight=44),
        label("level", tag=html.Label),
        dcc.RadioItems(id="level", options=level_options, value="tambon", inline=True, className="radio"),
        label("zones", tag=html.Label),
        dcc.Checklist(
            id="zones", className="zones",
            options=zone_options,
            value=[], inline=True,
        ),
        html.Small(label("zones_assumed"), className="assumption") if zones["assumed"].any() else None,
        label("year", tag=html.Label, htmlFor="year"),
        dcc.Dropdown(id="year", options=year_options, value="latest", clearable=False),
        label("mpi_cutoff", tag=html.Label),
        dcc.Slider(id="mpi-cutoff", min=0.2, max=1.0, step=0.2, value=0.2,
                   marks={v / 10: f"{v / 10:g}" for v in range(2, 11, 2)}),
        label("classification", tag=html.Label, htmlFor="scheme"),
        dcc.Dropdown(id="scheme", options=scheme_options, clearable=False, value="quantiles"),
        label("classes", tag=html.Label),
        dcc.Slider(id="k", min=2, max=9, step=1, value=5, marks={i: str(i) for i in range(2, 10)}),
        label("breaks", tag=html.Label, htmlFor="breaks"),
        dcc.Input(id="breaks", type="text", debounce=True, placeholder="0.1, 0.2, 0.4", className="breaks"),
        label("overlay", tag=html.Label, htmlFor="overlay"),
        dcc.Dropdown(id="overlay", options=overlay_options, value="none", clearable=False),
        label("overlay_opacity", tag=html.Label),
        dcc.Slider(id="overlay-opacity", min=0, max=1, step=0.1, value=0.7, marks={0: "0", 0.5: "0.5", 1: "1"}),
    ])


def page_layout(atlas):
    """The layout Dash serves: the page for the store as it is now, built once per store version."""
    return lambda: atlas.cached(("page",), lambda: build_layout(atlas))


def build_layout(atlas):
    view = View()
    first_map = figures.map_state(atlas, view)
    panel_children, crumbs = sections.area_panel(atlas, view)
    rows, columns, row_style = sections.ranking(atlas, view)
    return html.Div(id="page", children=[
        dcc.Location(id="url", refresh=False),
        # The stores start with the default view that the page is built for, so a plain
        # URL sets nothing off and the first map needs no round trip.
        dcc.Store(id="view", data=view.to_dict()),
        dcc.Store(id="ui-lang", data=view.lang),
        dcc.Store(id="layout-mode"),
        dcc.Store(id="map-state", data=first_map),
        html.Header(id="header", className="header", children=[
            html.Div([label("title", tag=html.H1), label("subtitle", tag=html.P, className="subtitle")]),
            html.Div(className="header-tools", children=[
                dcc.RadioItems(id="lang", value="th", inline=True, className="lang",
                               options=[{"label": "ไทย", "value": "th"}, {"label": "English", "value": "en"}]),
                dcc.Checklist(id="digits", value=[], inline=True,
                              options=[{"label": label("thai_digits"), "value": "thai"}]),
                dcc.Link(label("about"), id="about-link", href="/about"),
                # Login, role and log-out, or the read-only notice (callbacks/account.py).
                html.Div(id="account", className="account", role="status"),
                html.Div(className="download-menu", style={"display": "flex", "gap": "6px", "alignItems": "center"}, children=[
                    dcc.Dropdown(id="download-format", value="png", clearable=False, searchable=False,
                                 options=download_menu_options("th"),
                                 style={"width": "230px", "color": "#222"}),
                    html.Button(label("download"), id="download-button", className="download-button"),
                    dcc.Download(id="download"),
                ]),
            ]),
        ]),
        html.Div(id="synthetic-banner", className="banner", role="status",
                 children=label("synthetic_banner"), hidden=not atlas.synthetic_tables()),
        html.Main(id="map-page", className="main", children=[
            html.Aside(id="controls", className="side", children=controls(atlas)),
            html.Section(className="centre", children=[
                html.Nav(id="breadcrumb", className="breadcrumb", children=crumbs),
                html.Div(id="household-access", className="household-access"),  # analysts only
                # The frame holds the map's height, so the picture has its box before plotly has loaded.
                html.Div(className="map-frame", style={"height": f"{figures.MAP_HEIGHT}px"}, children=[
                    dcc.Graph(id="map", figure=figures.base_map_dict(atlas), className="map", style={"height": "100%"},
                              config={"displaylogo": False, "scrollZoom": True, "responsive": True,
                                      "modeBarButtonsToRemove": ["select2d", "lasso2d"]}),
                    # The first map as a picture, over the map box until MapLibre has drawn it (preview.py).
                    html.Div(id="map-preview", className="map-preview", style={"left": f"{figures.MAP_DOMAIN_X[0]:.0%}"}, children=html.Img(
                        src=f"{preview.ROUTE}?v={first_map['drawn']}", alt="", **{"aria-hidden": "true"})),
                ]),
                html.Div(id="map-legend-note", className="note", children=sections.overlay_note(atlas, view)),
                html.Section(id="ranking-section", children=[
                    label("ranking", tag=html.H2),
                    dash_table.DataTable(
                        id="ranking", data=rows, columns=columns, style_data_conditional=row_style,
                        sort_action="custom", sort_mode="single", sort_by=[],
                        page_size=15, style_as_list_view=True, cell_selectable=True,
                        style_cell={"fontFamily": FONT_STACK, "textAlign": "left", "padding": "4px 8px"},
                        style_header={"fontWeight": "600"},
                    ),
                ]),
            ]),
            html.Aside(id="panel", className="panel side", children=panel_children),
        ]),
        html.Article(id="about-page", className="about", hidden=True),
    ])
