"""How a click changes the view: select an area, drill down, or go back up."""
from __future__ import annotations


def after_click(view, trigger, *, click=None, cell=None, area_level=None):
    """The view after a click on the map, the ranking table, a breadcrumb or a panel button."""
    if trigger == "map":
        points = (click or {}).get("points") or []
        location = points[0].get("location") if points else None
        return view.with_(area=str(location)) if location else view
    if trigger == "ranking":
        row = (cell or {}).get("row_id")
        return view.with_(area=str(row)) if row else view
    kind = trigger.get("type")
    if kind == "panel-close":
        return view.with_(area=None)
    if kind == "drill":
        pcode = trigger["key"]
        if area_level(pcode) == "zone":
            return view.with_(level="district", zones=(int(pcode),), district=None, area=pcode)
        return view.with_(level="tambon", district=pcode, area=pcode)
    if kind == "crumb":
        level, pcode = trigger["level"], trigger["pcode"]
        if level == "province":
            return view.with_(zones=(), district=None, area=None)
        if level == "zone":
            return view.with_(zones=(int(pcode),), district=None, area=pcode)
        if level == "district":
            return view.with_(level="tambon", district=pcode, area=pcode)
        return view.with_(area=pcode)
    return view
