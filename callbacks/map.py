from dash import Input, Output, Patch, State

from dashboard.figures import apply_to_patch, map_updates
from dashboard.state import View


def register(app, atlas):
    @app.callback(
        Output("map", "figure"), Output("map-focus", "data"),
        Input("view", "data"), State("map-focus", "data"),
    )
    def update_map(view_data, previous_focus):
        updates, focus = map_updates(atlas, View.from_dict(view_data), previous_focus)
        return apply_to_patch(Patch(), updates), focus
