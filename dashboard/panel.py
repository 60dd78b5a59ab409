"""HTML for the drill-down panel and the breadcrumb, from layers.profile data."""
from __future__ import annotations

import math

from dash import dash_table, html

from layers import registry

from .i18n import t

LIST_LIMIT = 50


def _fmt(indicator_id: str, value, lang: str, digits: bool) -> str:
    if isinstance(value, str):  # already display text: "<5" for a figure hidden by layers.privacy
        return value
    return registry.get(indicator_id).format_value(value, lang, digits)


def _number(value) -> float | None:
    return None if isinstance(value, str) or value is None or math.isnan(float(value)) else float(value)


def _bar(share, colour="#2c7fb8") -> html.Div:
    share = _number(share)
    width = 0 if share is None else max(0, min(100, share * 100))
    return html.Div(className="bar", children=html.Div(className="bar-fill", style={"width": f"{width:.1f}%", "background": colour}))


def _name(record: dict, lang: str) -> str:
    return record["name_th"] if lang == "th" else record["name_en"]


def breadcrumb(crumbs: list[dict], lang: str) -> list:
    items = []
    for i, crumb in enumerate(crumbs):
        if i:
            items.append(html.Span(" › ", className="sep"))
        items.append(html.Button(
            _name(crumb, lang), className="crumb",
            id={"type": "crumb", "level": crumb["level"], "pcode": crumb["pcode"] or ""},
        ))
    return items


def panel(profile: dict | None, lang: str, digits: bool) -> list:
    if profile is None:
        return [html.P(t("panel_hint", lang), className="hint")]
    title = _name(profile, lang)
    subtitle = profile.get("district_th" if lang == "th" else "district_en")
    children = [
        html.Button("×", id={"type": "panel-close", "key": "x"}, className="close", title=t("close", lang)),
        html.H2(title, id="panel-title", **{"data-pcode": profile["pcode"]}),
        html.P(f"{t('district', lang)} {subtitle}" if subtitle else t(f"level_{profile['level']}", lang),
               className="subtitle", id="panel-subtitle"),
    ]
    if profile["level"] in ("district", "zone"):
        key = "show_tambons" if profile["level"] == "district" else "show_districts"
        children.append(html.Button(t(key, lang), id={"type": "drill", "key": profile["pcode"]}, className="drill"))
    if profile["suppressed"]:
        children.append(html.P(t("suppressed", lang), className="suppressed"))

    rows = [html.Tr([html.Th(""), html.Th(t("this_area", lang)), html.Th(t("province_value", lang))])]
    for key, value, province in profile["key_figures"]:
        rows.append(html.Tr([html.Td(registry.get(key).label(lang)), html.Td(_fmt(key, value, lang, digits)),
                             html.Td(_fmt(key, province, lang, digits))]))
    children += [html.H3(t("key_figures", lang)), html.Table(rows, className="figures")]

    capital_rows = []
    for key, value, province in profile["capitals"]:
        capital_rows.append(html.Div(className="capital", children=[
            html.Span(t(key, lang), className="capital-name"),
            _bar(None if _number(value) is None else (_number(value) - 1) / 3),
            html.Span(_fmt(key, value, lang, digits), className="capital-value"),
            html.Span(f"({t('province_value', lang)} {_fmt(key, province, lang, digits)})", className="muted"),
        ]))
    children += [html.H3(t("capitals", lang)), html.Div(capital_rows, id="panel-capitals")]

    level_colours = {"hardship": "#d7301f", "struggling": "#fc8d59", "getting_by": "#91bfdb", "well_off": "#4575b4"}
    children += [html.H3(t("levels_heading", lang)), html.Div([
        html.Div(className="capital", children=[
            html.Span(t(name, lang), className="capital-name"), _bar(share, level_colours[name]),
            html.Span(_fmt("share_hardship", share, lang, digits), className="capital-value"),
        ]) for name, share in profile["livelihood"]
    ])]
    mpi = profile["mpi"]
    children += [html.H3(t("mpi_heading", lang)), html.Table([
        html.Tr([html.Td(t("headcount", lang)), html.Td(_fmt("mpi_headcount", mpi["mpi_headcount"], lang, digits))]),
        html.Tr([html.Td(t("intensity", lang)), html.Td(_fmt("mpi_intensity", mpi["mpi_intensity"], lang, digits))]),
        html.Tr([html.Td(t("mpi", lang)), html.Td(_fmt("mpi", mpi["mpi"], lang, digits))]),
    ], className="figures")]

    for key, heading in (("councils", "councils_list"), ("welfare_funds", "funds_list"), ("housing_projects", "housing_list")):
        frame = profile["lists"].get(key)
        children.append(html.H3(t(heading, lang)))
        if frame is None or frame.empty:
            children.append(html.P(t("none", lang), className="muted"))
        else:
            shown = frame.head(LIST_LIMIT)
            children.append(dash_table.DataTable(
                data=shown.astype(str).to_dict("records"),
                columns=[{"name": c, "id": c} for c in shown.columns],
                style_table={"overflowX": "auto"}, style_cell={"fontFamily": "Noto Sans Thai, Noto Sans, Loma, sans-serif", "fontSize": "12px"},
                page_size=10,
            ))

    referrals = profile["referrals"]
    children += [html.H3(t("referrals_heading", lang)), html.Table([
        html.Tr([html.Td(t("cases", lang)), html.Td(_fmt("referrals", referrals["cases"], lang, digits))]),
        html.Tr([html.Td(t("resolved_share", lang)),
                 html.Td(_fmt("referrals_resolved_share", referrals["resolved_share"], lang, digits))]),
        html.Tr([html.Td(t("median_days", lang)),
                 html.Td(_fmt("referral_median_days", referrals["median_days"], lang, digits))]),
    ], className="figures")]
    by_agency = referrals["by_agency"]
    if not by_agency.empty:
        children.append(dash_table.DataTable(
            data=by_agency.round(3).astype(str).to_dict("records"),
            columns=[{"name": c, "id": c} for c in by_agency.columns],
            style_cell={"fontFamily": "Noto Sans Thai, Noto Sans, Loma, sans-serif", "fontSize": "12px"},
        ))
    return children


def overlay_legend(overlay, lang: str) -> list:
    """Title, unit and colour ramp of the raster drawn over the map."""
    if overlay is None:
        return []
    legend = overlay.legend
    title = overlay.title(lang)
    unit = legend["unit_th"] if lang == "th" else legend["unit_en"]
    children = [html.Strong(title), html.Span(f" ({unit})" if unit else "")]
    if legend.get("derived"):
        children.append(html.Span(" · " + ("ข้อมูลอนุพันธ์จากขอบเขตการปกครอง" if lang == "th"
                                           else "derived from the boundaries"), className="muted"))
    if legend.get("classes"):
        swatches = [html.Span([html.I(className="swatch", style={"background": c["colour"]}), f" {c['value']} "])
                    for c in legend["classes"]]
    else:
        gradient = f"linear-gradient(to right, {', '.join(legend['colours'])})"
        swatches = [html.Span(f"{legend['min']:,.4g} "), html.Span(className="ramp", style={"background": gradient}),
                    html.Span(f" {legend['max']:,.4g}")]
    return [html.Div(children), html.Div(swatches, className="ramp-row")]
