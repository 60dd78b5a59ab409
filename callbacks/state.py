"""The URL is the single source of truth: controls write it, it sets the view."""
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard.state import View, from_query, to_query

CONTROLS = ["indicator", "level", "zones", "year", "mpi-cutoff", "scheme", "k", "breaks", "lang", "digits",
            "overlay", "overlay-opacity"]


def controls_from_view(view: View) -> list:
    return [
        view.indicator, view.level, list(view.zones), "latest" if view.year is None else view.year,
        view.mpi_cutoff, view.scheme, view.k, ", ".join(f"{b:g}" for b in view.breaks), view.lang,
        ["thai"] if view.thai_digits else [], view.overlay or "none", view.opacity,
    ]


def view_from_controls(current: View, values: list) -> View:
    from dashboard.state import parse_numbers

    indicator, level, zones, year, cutoff, scheme, k, breaks, lang, digits, overlay, opacity = values
    return current.with_(
        indicator=indicator or current.indicator, level=level or current.level,
        zones=tuple(sorted(int(z) for z in zones or ())), year=None if year in (None, "latest") else int(year),
        mpi_cutoff=float(cutoff or current.mpi_cutoff), scheme=scheme or current.scheme, k=int(k or current.k),
        breaks=parse_numbers(breaks), lang=lang or current.lang, thai_digits="thai" in (digits or []),
        overlay=None if overlay in (None, "", "none") else overlay,
        opacity=current.opacity if opacity is None else float(opacity),
    )


def register(app, atlas):
    @app.callback(
        Output("view", "data"), Output("ui-lang", "data"), *[Output(c, "value") for c in CONTROLS],
        Output("map-preview", "hidden"),
        Input("url", "search"), State("view", "data"), State("ui-lang", "data"),
    )
    def restore_view(search, shown_view, shown_lang):
        view = from_query(search, atlas.indicator_ids())
        if view == View.from_dict(shown_view):
            # Nothing to change (a plain URL on first load, or the URL a control just wrote).
            raise PreventUpdate
        # Labels follow `ui-lang`, which changes only with the language: other changes do not redraw them.
        lang = no_update if view.lang == shown_lang else view.lang
        # The picture of the first map shows the default view only: another view hides it for good.
        return view.to_dict(), lang, *controls_from_view(view), True

    @app.callback(
        Output("url", "search"),
        *[Input(c, "value") for c in CONTROLS],
        State("url", "search"),
        prevent_initial_call=True,
    )
    def remember_view(*args):
        *values, search = args
        query = to_query(view_from_controls(from_query(search, atlas.indicator_ids()), values))
        return no_update if query == (search or "") else query
