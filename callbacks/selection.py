"""Clicks that select or drill into an area; they only rewrite the URL."""
from dash import ALL, Input, Output, State, ctx, no_update

from dashboard.state import from_query, to_query
from layers.selection import after_click


def register(app, atlas):
    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("map", "clickData"), Input("ranking", "active_cell"),
        Input({"type": "crumb", "level": ALL, "pcode": ALL}, "n_clicks"),
        Input({"type": "drill", "key": ALL}, "n_clicks"),
        Input({"type": "panel-close", "key": ALL}, "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def select_area(click, cell, crumbs, drills, closes, search):
        trigger = ctx.triggered_id
        if trigger is None or not ctx.triggered[0].get("value"):
            return no_update  # a component appeared; nobody clicked
        view = from_query(search, atlas.indicator_ids())
        new = after_click(view, trigger, click=click, cell=cell, area_level=atlas.area_level)
        query = to_query(new)
        return no_update if query == (search or "") else query
