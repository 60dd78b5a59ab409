from dash import Input, Output, Patch, State
from dash.exceptions import PreventUpdate

from dashboard.figures import apply_to_patch, map_updates
from dashboard.state import View


def register(app, atlas):
    @app.callback(
        Output("map", "figure"), Output("map-state", "data"),
        Input("view", "data"), State("map-state", "data"),
    )
    def update_map(view_data, previous):
        updates, state = map_updates(atlas, View.from_dict(view_data), previous)
        if not updates:
            raise PreventUpdate  # the map already shows this view
        return apply_to_patch(Patch(), updates), state
