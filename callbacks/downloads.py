"""The Download menu: the current view in the chosen format, made by dashboard.exports."""
from dash import Input, Output, State, dcc

from dashboard import exports
from dashboard.state import View


def register(app, atlas):
    @app.callback(Output("download-format", "options"), Input("ui-lang", "data"), prevent_initial_call=True)
    def translate_menu(lang):
        return exports.download_menu_options(lang or "th")

    @app.callback(
        Output("download", "data"),
        Input("download-button", "n_clicks"), State("download-format", "value"), State("view", "data"),
        prevent_initial_call=True,
    )
    def download(n_clicks, choice, view_data):
        content, name = exports.download(atlas, View.from_dict(view_data), choice or "png")
        return dcc.send_bytes(content, name)
