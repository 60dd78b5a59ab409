"""Household lists of one tambon, for analysts in their zones and admins (never viewers).

`/households/<pcode>` shows the rows as a table, `/households/<pcode>.csv`
downloads them with spreadsheet formulas neutralised. Every view is written to
the audit log, since these are personal data under the PDPA.
"""
from __future__ import annotations

import logging

import flask

from layers import privacy
from layers.indicators import normalise_year

from .auth import get_auth, render_page, require_role

PAGE_ROWS = 1000
audit = logging.getLogger("atlas.audit")

BODY = """<p>{{ name }} · {{ pcode }} · {{ total }} ครัวเรือน / households{% if year %} · {{ year }}{% endif %}
· <a href="/households/{{ pcode }}.csv{% if year %}?year={{ year }}{% endif %}">CSV</a></p>
<p class="notice">ข้อมูลส่วนบุคคลตาม พ.ร.บ. คุ้มครองข้อมูลส่วนบุคคล ใช้เพื่องานที่ได้รับมอบหมายเท่านั้น /
Personal data under the PDPA: use it only for your assigned work.</p>
{% if total > rows|length %}<p>แสดง {{ rows|length }} แถวแรก ดาวน์โหลด CSV เพื่อดูทั้งหมด / showing the first {{ rows|length }} rows; the CSV has all.</p>{% endif %}
<table id="households"><tr>{% for column in columns %}<th>{{ column }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for value in row %}<td>{{ '' if value is none else value }}</td>{% endfor %}</tr>{% endfor %}</table>"""


def _rows(pcode: str):
    user = require_role("analyst", "admin")
    year = normalise_year(flask.request.args.get("year", type=int))
    store = get_auth().store
    try:
        frame = privacy.household_list(store, pcode, user.household_zones(), year)
    except privacy.HouseholdAccessDenied:
        audit.warning("household list refused: %s asked for %s", user.username, pcode)
        flask.abort(403, description="this tambon is outside your zones / ตำบลนี้อยู่นอกโซนของคุณ")
    audit.info("household list: %s viewed %s rows of %s", user.username, len(frame), pcode)
    return user, store, year, frame


def household_page(pcode: str):
    user, store, year, frame = _rows(pcode)
    names = store.query("SELECT name_th, name_en FROM tambons WHERE pcode = $pcode", {"pcode": pcode})
    name = f"{names['name_th'].iloc[0]} · {names['name_en'].iloc[0]}" if len(names) else pcode
    shown = frame.head(PAGE_ROWS).astype(object).where(frame.head(PAGE_ROWS).notna(), None)
    response = render_page("รายการครัวเรือน / Household list", BODY, name=name, pcode=pcode, year=year,
                           total=len(frame), columns=list(frame.columns), rows=list(shown.itertuples(index=False, name=None)))
    response.headers["Cache-Control"] = "no-store"  # personal data: not kept by the browser or a proxy
    return response


def household_csv(pcode: str):
    user, store, year, frame = _rows(pcode)
    text = privacy.neutralise_frame(frame).to_csv(index=False)
    name = f"households-{pcode}{f'-{year}' if year else ''}.csv"
    return flask.Response("\ufeff" + text, mimetype="text/csv",  # BOM: Excel then reads the Thai as UTF-8
                          headers={"Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"})


def init_app(app, atlas) -> None:
    server = app.server
    server.add_url_rule("/households/<pcode>.csv", "atlas_households_csv", household_csv)
    server.add_url_rule("/households/<pcode>", "atlas_households", household_page)
