from dash import Input, Output, Patch, State
from dash.exceptions import PreventUpdate

from dashboard.figures import apply_to_patch, drawn_key, map_updates
from dashboard.state import View


def register(app, atlas):
    @app.callback(
        Output("map", "figure"), Output("map-state", "data"),
        Input("view", "data"), State("map-state", "data"),
    )
    def update_map(view_data, previous):
        view = View.from_dict(view_data)
        drawn = drawn_key(atlas.store.version(), view)
        if (previous or {}).get("drawn") == drawn:
            raise PreventUpdate  # the page was built showing this view
        updates, state = map_updates(atlas, view, previous)
        return apply_to_patch(Patch(), updates), {**state, "drawn": drawn}
