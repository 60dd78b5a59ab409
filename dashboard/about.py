"""The "About the data" page: sources, licences, definitions, import dates."""
from __future__ import annotations

from dash import dcc, html

from geodata.boundaries import SOURCE_COMMIT
from layers import registry

from .i18n import t

SOURCES = [
    ("เขตการปกครอง: OCHA COD-AB Thailand (กรมแผนที่ทหาร, 2562) สัญญาอนุญาต CC BY-IGO ผ่านแพ็กเกจ mapthai (MIT, © 2021 Piyayut Chitchumnong)",
     "Boundaries: OCHA COD-AB Thailand (Royal Thai Survey Department, 2019), licence CC BY-IGO, via the mapthai package (MIT, © 2021 Piyayut Chitchumnong)"),
    ("ความยากจนหลายมิติ: แนวคิดของ TPMAP (สศช. และ NECTEC) จากข้อมูล จปฐ.",
     "Multidimensional poverty: the TPMAP approach (NESDC and NECTEC) on basic-needs survey data"),
    ("ทุนดำรงชีพ 5 ด้าน: แนวคิดของแพลตฟอร์ม PPAOS (บพท.)",
     "Five livelihood capitals: the PPAOS platform approach (Program Management Unit on Area Based Development)"),
    ("ตัวเลขระดับจังหวัด: ข่าวประชาสัมพันธ์ พอช. 23 พฤษภาคม 2567",
     "Province figures: CODI news release, 23 May 2024"),
]


def about_page(lang: str, synthetic_tables: list[str], imports) -> list:
    pick = 0 if lang == "th" else 1
    children = [
        dcc.Link(t("back_to_map", lang), href="/", className="back"),
        html.H1(t("about", lang)),
    ]
    if synthetic_tables:
        children.append(html.P(f"{t('synthetic_banner', lang)}: {', '.join(synthetic_tables)}", className="banner"))
    children += [html.H2(t("sources", lang)), html.Ul([html.Li(pair[pick]) for pair in SOURCES]),
                 html.P(f"mapthai commit {SOURCE_COMMIT}", className="muted")]
    children.append(html.H2(t("indicators_heading", lang)))
    rows = [html.Tr([html.Th(t("indicator", lang)), html.Th(t("unit", lang)), html.Th(t("definition", lang)),
                     html.Th(t("source", lang))])]
    for indicator in registry.all_indicators():
        rows.append(html.Tr([html.Td(indicator.label(lang)), html.Td(indicator.unit(lang)),
                             html.Td(indicator.definition(lang)), html.Td(indicator.source)]))
    children.append(html.Table(rows, className="definitions", id="definitions"))
    children.append(html.H2(t("imports_heading", lang)))
    if imports is None or imports.empty:
        children.append(html.P(t("none", lang)))
    else:
        shown = imports.assign(imported_at=imports["imported_at"].astype(str))
        rows = [html.Tr([html.Th(c) for c in shown.columns])]
        rows += [html.Tr([html.Td(str(v)) for v in record]) for record in shown.itertuples(index=False)]
        children.append(html.Table(rows, className="imports", id="imports"))
    return children
