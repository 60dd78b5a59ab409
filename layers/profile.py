"""What the drill-down panel shows for one area, as plain data."""
from __future__ import annotations

import math

import pandas as pd

from . import privacy

KEY_FIGURES = [
    "households", "targeted_poor", "mpi_headcount", "councils", "welfare_funds", "fund_members",
    "fund_baht", "housing_projects", "housing_households", "railside_households",
]
CAPITALS = ["capital_human", "capital_physical", "capital_financial", "capital_natural", "capital_social"]
LIVELIHOOD_LEVELS = [("hardship", "share_hardship"), ("struggling", "share_struggling"),
                     ("getting_by", "share_getting_by"), ("well_off", "share_well_off")]


def _value(row, column):
    if row is None or column not in row.index:
        return None
    value = row[column]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _shown(row, column):
    """The value to display: "<5" where layers.privacy hides it, else the value (None for no data)."""
    if column in privacy.hidden_ids(row):
        return privacy.SUPPRESSED_TEXT
    return _value(row, column)


def breadcrumb(atlas, view) -> list[dict]:
    """Province › zone › district › tambon for the selected area (or the drill-down focus)."""
    # The province shown (one store may hold the whole country): its names come with the province row.
    province = atlas.table("province", view.year, view.mpi_cutoff).iloc[0]
    crumbs = [{"level": "province", "pcode": None, "name_th": province["name_th"], "name_en": province["name_en"]}]
    target = view.area or view.district
    level = atlas.area_level(target)
    zone = district = None
    if level in ("tambon", "district"):
        row = atlas.area_row(target, view)
        if row is not None:
            zone = _value(row, "zone")
            district = row["district_pcode"] if level == "tambon" else target
    elif level == "zone":
        zone = int(target)
    elif len(view.zones) == 1:
        zone = view.zones[0]
    if zone is not None:
        names = atlas.zones().set_index("zone")
        zone = int(zone)
        if zone in names.index:
            crumbs.append({"level": "zone", "pcode": str(zone), "name_th": names.loc[zone, "name_th"],
                           "name_en": names.loc[zone, "name_en"]})
    if district is not None:
        row = atlas.area_row(district, view)
        if row is not None:
            crumbs.append({"level": "district", "pcode": district, "name_th": row["name_th"], "name_en": row["name_en"]})
    if level == "tambon":
        row = atlas.area_row(target, view)
        crumbs.append({"level": "tambon", "pcode": target, "name_th": row["name_th"], "name_en": row["name_en"]})
    return crumbs


def area_profile(atlas, pcode: str, view) -> dict | None:
    level = atlas.area_level(pcode)
    row = atlas.area_row(pcode, view)
    if row is None:
        return None
    province = atlas.shown_table("province", view.year, view.mpi_cutoff).iloc[0]
    lists = atlas.area_lists(level, pcode, view.year)
    referrals = privacy.suppress_case_table(atlas.referrals_by_agency(level, pcode, view.year))
    return {
        "level": level,
        "pcode": pcode,
        "name_th": row["name_th"],
        "name_en": row["name_en"],
        "district_th": row.get("district_th") if level == "tambon" else None,
        "district_en": row.get("district_en") if level == "tambon" else None,
        "suppressed": bool(row.get("suppressed", False)),
        "key_figures": [(key, _shown(row, key), _shown(province, key)) for key in KEY_FIGURES],
        "capitals": [(key, _shown(row, key), _shown(province, key)) for key in CAPITALS],
        "livelihood": [(label, _shown(row, column)) for label, column in LIVELIHOOD_LEVELS],
        "mpi": {key: _shown(row, key) for key in ("mpi_headcount", "mpi_intensity", "mpi")},
        "referrals": {
            "cases": _shown(row, "referrals"),
            "resolved_share": _shown(row, "referrals_resolved_share"),
            "median_days": _shown(row, "referral_median_days"),
            "by_agency": referrals if isinstance(referrals, pd.DataFrame) else pd.DataFrame(),
        },
        "lists": lists,
    }
