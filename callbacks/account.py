"""The header's account corner and the analysts' link to household lists.

Both read the request's user (dashboard.auth): a viewer's responses carry no
household-level data, only aggregates; the link appears only for users who
may open the list, and the list itself is checked again on its own page.
"""
from dash import Input, Output

from dashboard import auth
from dashboard.state import View


def register(app, atlas):
    @app.callback(Output("account", "children"), Input("ui-lang", "data"))
    def show_account(lang):
        return auth.account_bar(auth.current_user(), auth.get_auth().login_required, lang or "th")

    @app.callback(Output("household-access", "children"), Input("view", "data"))
    def show_household_access(view_data):
        view = View.from_dict(view_data)
        return auth.household_access(auth.current_user(), atlas.store, view.area, atlas.area_level, view.lang)
