"""Indicators per area (tambon, district, zone, province), computed in the store with SQL.

Every query is plain SQL that DuckDB and PostgreSQL both run (`$name`
parameters, CAST, CASE, percentile_cont ... WITHIN GROUP, FILTER), so a
PostgreSQL store can stand in for DuckDB. Household and referral figures are
read from the store's summaries of the records (geodata/summaries.py), summed
exactly at every level, never averaged from tambon values.

Empty versus zero: a table with no rows at all gives NaN for its indicators
everywhere ("not loaded"); once it has rows, areas without any get 0 for
counts and NaN for means, shares and medians that lack a denominator.
Household indicators are NaN where an area has no surveyed household.
"""
from __future__ import annotations

import re
import sys
import time
from functools import lru_cache

import numpy as np
import pandas as pd

from geodata import summaries
from geodata.store import NATIONAL

from . import registry

LEVELS = ("tambon", "district", "zone", "province")
DEFAULT_MPI_CUTOFF = 0.2
EPSILON = summaries.EPSILON

# The area each tambon belongs to, per level (t = tambons, z = zones).
_AREA_KEY = {
    "tambon": "t.pcode",
    "district": "t.district_pcode",
    "zone": "CAST(z.zone AS VARCHAR)",
    "province": "t.province_pcode",
}
_CAPITAL_COLUMNS = summaries.CAPITALS
# Count indicators that are 0 (not NaN) in an area without records once their table has rows.
_ZERO_WHEN_NONE = {
    "councils": ("has_councils", "councils"),
    "welfare_funds": ("has_funds", "funds"),
    "fund_members": ("has_funds", "funds"),
    "fund_baht": ("has_funds", "funds"),
    "housing_projects": ("has_housing", "housing"),
    "housing_households": ("has_housing", "housing"),
    "railside_households": ("has_housing", "housing"),
    "referrals": ("has_referrals", "ref"),
}


def indicator_columns() -> list[str]:
    return [indicator.id for indicator in registry.store_indicators()]


def area_columns(level: str) -> list[str]:
    """The descriptive columns that precede the indicators in compute()'s result."""
    extra = {
        "tambon": ["district_pcode", "district_th", "district_en", "zone"],
        "district": ["zone"],
        "zone": [],
        "province": [],
    }
    return ["pcode", "name_th", "name_en", *extra[_check_level(level)]]


def normalise_year(year) -> int | None:
    """Common Era year; Buddhist Era years (> 2400) are converted."""
    if year is None or (isinstance(year, float) and np.isnan(year)):
        return None
    year = int(year)
    return year - 543 if year > 2400 else year


# --- running SQL -------------------------------------------------------------
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _query(store, sql: str, params: dict) -> pd.DataFrame:
    # DuckDB refuses parameters the SQL does not use, so pass exactly those named.
    used = set(_PARAMETER.findall(sql))
    return store.query(sql, {name: value for name, value in params.items() if name in used})


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    return level


def _zone_params(zones) -> tuple[str, dict]:
    """An `AND z.zone IN (...)` condition with one parameter per zone (portable, no list types)."""
    if not zones:
        return "", {}
    params = {f"zone{i}": int(zone) for i, zone in enumerate(zones)}
    names = ", ".join(f"${name}" for name in params)
    return f" AND z.zone IN ({names})", params


def _province_params(province: str | None) -> tuple[str, dict]:
    """An `AND t.province_pcode = $province` condition; none for None or a whole national store."""
    if province is None or province == NATIONAL:
        return "", {}
    return " AND t.province_pcode = $province", {"province": str(province)}


def _area_of(level: str, zones, pcode: str | None = None, province: str | None = None) -> tuple[str, dict]:
    """CTE `area_of(tambon_pcode, area)`: each tambon (in the chosen zones and province) and its area at `level`."""
    key = _AREA_KEY[_check_level(level)]
    zone_condition, params = _zone_params(zones)
    province_condition, province_params = _province_params(province)
    params |= province_params
    area_condition = ""
    if pcode is not None:
        area_condition = f" AND {key} = $area_pcode"
        params["area_pcode"] = str(pcode)
    sql = f"""area_of AS (
        SELECT t.pcode AS tambon_pcode, {key} AS area
        FROM tambons t LEFT JOIN zones z ON z.district_pcode = t.district_pcode
        WHERE {key} IS NOT NULL{zone_condition}{province_condition}{area_condition}
    )"""
    return sql, params


def _households_cte(year: int | None) -> str:
    """CTE `hh`: the household cells that count (geodata/summaries.py), each with its area."""
    if year is not None:
        return """hh AS (
            SELECT a.area, c.*
            FROM household_cells c JOIN area_of a ON a.tambon_pcode = c.tambon_pcode
            WHERE c.survey_year = $year
        )"""
    # Without a year each tambon contributes its own latest survey.
    return """hh AS (
        SELECT a.area, c.*
        FROM household_cells c
        JOIN (SELECT tambon_pcode, max(survey_year) AS latest FROM household_cells GROUP BY tambon_pcode) l
          ON l.tambon_pcode = c.tambon_pcode AND l.latest = c.survey_year
        JOIN area_of a ON a.tambon_pcode = c.tambon_pcode
    )"""


def _household_sql() -> str:
    """CTE `hh_agg` from `hh`: capitals, levels and MPI per area, weighted by the cells' households."""
    def ratio(numerator: str, denominator: str) -> str:
        return f"CAST({numerator} AS DOUBLE PRECISION) / NULLIF({denominator}, 0)"

    c = "CAST(deprivations AS DOUBLE PRECISION) / 5"
    poor = f"{c} >= $k_floor"
    capital_means = ",\n            ".join(
        f"{ratio(f'sum({name}_sum)', f'sum({name}_n)')} AS {name}" for name in _CAPITAL_COLUMNS)
    with_level = "sum(CASE WHEN level IS NOT NULL THEN households ELSE 0 END)"
    level_shares = ",\n            ".join(
        f"{ratio(f'sum(CASE WHEN level = {number} THEN households ELSE 0 END)', with_level)} AS share_{name}"
        for number, name in enumerate(["hardship", "struggling", "getting_by", "well_off"])
    )
    poor_households = f"sum(CASE WHEN {poor} THEN households ELSE 0 END)"
    poor_intensity = f"sum(CASE WHEN {poor} THEN households * {c} ELSE 0 END)"
    return f"""hh_agg AS (
        SELECT area, sum(households) AS households,
            {capital_means},
            {level_shares},
            {ratio(poor_households, 'sum(households)')} AS mpi_headcount,
            {ratio(poor_intensity, poor_households)} AS mpi_intensity,
            {ratio(poor_intensity, 'sum(households)')} AS mpi,
            sum(CASE WHEN {poor} AND welfare_card THEN households ELSE 0 END) AS targeted_poor
        FROM hh GROUP BY area
    )"""


def _programme_sql(year: int | None) -> str:
    """CTEs for councils, funds and housing per area (those founded in or before `year`)."""
    def before(column: str) -> str:
        return f" WHERE x.{column} <= $year" if year is not None else ""

    return f"""councils_agg AS (
        SELECT a.area, count(*) AS councils
        FROM councils x JOIN area_of a ON a.tambon_pcode = x.tambon_pcode{before("registered_year")}
        GROUP BY a.area
    ),
    funds_agg AS (
        SELECT a.area, count(*) AS welfare_funds, sum(x.members) AS fund_members, sum(x.fund_baht) AS fund_baht
        FROM welfare_funds x JOIN area_of a ON a.tambon_pcode = x.tambon_pcode{before("founded_year")}
        GROUP BY a.area
    ),
    housing_agg AS (
        SELECT a.area, count(*) AS housing_projects, sum(x.households) AS housing_households,
               sum(CASE WHEN x.railside THEN x.households ELSE 0 END) AS railside_households
        FROM housing_projects x JOIN area_of a ON a.tambon_pcode = x.tambon_pcode{before("start_year")}
        GROUP BY a.area
    )"""


def _referral_cases_cte(year: int | None) -> str:
    """CTE `cases`: referrals with the area where the household lives (geodata/summaries.py)."""
    in_year = " WHERE EXTRACT(YEAR FROM r.referred_on) = $year" if year is not None else ""
    return f"""cases AS (
        SELECT a.area, r.agency,
               CASE WHEN r.resolved_on IS NOT NULL THEN 1 ELSE 0 END AS resolved,
               CASE WHEN r.resolved_on IS NOT NULL THEN r.resolved_on - r.referred_on END AS days
        FROM referrals r
        JOIN referral_homes home ON home.household_id = r.household_id
        JOIN area_of a ON a.tambon_pcode = home.tambon_pcode{in_year}
    )"""


_CASE_FIGURES = """count(*) AS {cases},
            avg(CASE WHEN resolved = 1 THEN 1.0 ELSE 0.0 END) AS {share},
            percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS {days}"""


def _value_sql(level: str, year: int | None, zones, province: str | None = None) -> tuple[str, dict]:
    area_cte, params = _area_of(level, zones, province=province)
    referral_figures = _CASE_FIGURES.format(
        cases="referrals", share="referrals_resolved_share", days="referral_median_days"
    )
    counted = ",\n        ".join(
        f"CASE WHEN loaded.{flag} THEN coalesce({alias}.{column}, 0) END AS {column}"
        for column, (flag, alias) in _ZERO_WHEN_NONE.items()
    )
    sql = f"""WITH {area_cte},
    {_households_cte(year)},
    {_household_sql()},
    {_programme_sql(year)},
    {_referral_cases_cte(year)},
    ref_agg AS (
        SELECT area, {referral_figures}
        FROM cases GROUP BY area
    ),
    loaded AS (
        SELECT EXISTS (SELECT 1 FROM councils) AS has_councils,
               EXISTS (SELECT 1 FROM welfare_funds) AS has_funds,
               EXISTS (SELECT 1 FROM housing_projects) AS has_housing,
               EXISTS (SELECT 1 FROM referrals) AS has_referrals
    )
    SELECT areas.area AS pcode,
        {counted},
        hh_agg.*,
        CAST(hh_agg.targeted_poor AS DOUBLE PRECISION) / hh_agg.households AS targeted_poor_share,
        ref.referrals_resolved_share, ref.referral_median_days
    FROM (SELECT DISTINCT area FROM area_of) areas
    CROSS JOIN loaded
    LEFT JOIN councils_agg councils ON councils.area = areas.area
    LEFT JOIN funds_agg funds ON funds.area = areas.area
    LEFT JOIN housing_agg housing ON housing.area = areas.area
    LEFT JOIN hh_agg ON hh_agg.area = areas.area
    LEFT JOIN ref_agg ref ON ref.area = areas.area"""
    return sql, params


def _cutoff_params(mpi_cutoff: float) -> dict:
    if not 0 < mpi_cutoff <= 1:
        raise ValueError(f"MPI cutoff k must be in (0, 1], got {mpi_cutoff}")
    return {"k_floor": float(mpi_cutoff) - EPSILON}


# --- public ------------------------------------------------------------------
def compute(
    store,
    level: str = "tambon",
    year: int | None = None,
    mpi_cutoff: float = DEFAULT_MPI_CUTOFF,
    zones=None,
    province: str | None = None,
) -> pd.DataFrame:
    """One row per area of `level` (all areas, with or without data), sorted by pcode.

    Columns: area_columns(level) then indicator_columns(), indicators as floats
    with NaN for "no data". `zones` keeps only areas in those zone numbers;
    `province` only the areas of that province (for a national store).
    """
    year = normalise_year(year)
    sql, params = _value_sql(level, year, zones, province)
    params |= _cutoff_params(mpi_cutoff)
    if year is not None:
        params["year"] = year
    values = _query(store, sql, params).drop(columns="area")
    columns = indicator_columns()
    values[columns] = values[columns].apply(pd.to_numeric, errors="coerce").astype(float)
    values["pcode"] = values["pcode"].astype(str)
    names = area_names(store, level, zones, province)
    frame = names.merge(values, on="pcode", how="left", validate="one_to_one")
    return frame[area_columns(level) + columns]


def area_names(store, level: str = "tambon", zones=None, province: str | None = None) -> pd.DataFrame:
    """Every area of `level` (in `zones` and `province`) with pcode, name_th, name_en (+ parents for
    tambons/districts), sorted."""
    zone_condition, params = _zone_params(zones)
    province_condition, province_params = _province_params(province)
    params |= province_params
    base = ("FROM tambons t LEFT JOIN zones z ON z.district_pcode = t.district_pcode WHERE TRUE"
            + zone_condition + province_condition)
    if _check_level(level) == "tambon":
        sql = f"""SELECT t.pcode, t.name_th, t.name_en, t.district_pcode, t.district_th, t.district_en, z.zone
                  {base} ORDER BY t.pcode"""
    elif level == "district":
        sql = f"""SELECT t.district_pcode AS pcode, min(t.district_th) AS name_th, min(t.district_en) AS name_en,
                         min(z.zone) AS zone
                  {base} GROUP BY t.district_pcode ORDER BY t.district_pcode"""
    elif level == "zone":
        sql = f"""SELECT CAST(z.zone AS VARCHAR) AS pcode, min(z.zone_name_th) AS name_th,
                         min(z.zone_name_en) AS name_en, z.zone
                  {base} AND z.zone IS NOT NULL GROUP BY z.zone ORDER BY z.zone"""
    else:
        sql = f"SELECT DISTINCT t.province_pcode AS pcode {base} ORDER BY pcode"
    frame = _query(store, sql, params)
    if level == "zone":
        frame = frame.drop(columns="zone")
    if level == "province":
        frame = frame.merge(_province_names(), on="pcode", how="left")
        frame["name_th"] = frame["name_th"].fillna(frame["pcode"])
        frame["name_en"] = frame["name_en"].fillna(frame["pcode"])
    if "zone" in frame.columns:
        frame["zone"] = frame["zone"].astype("Int64")
    return frame.reset_index(drop=True)


@lru_cache(maxsize=1)
def _province_names() -> pd.DataFrame:
    # The store's tambons table carries only the province code; names come with the boundaries.
    from geodata import boundaries

    return boundaries.province_codes()[["pcode", "name_th", "name_en"]]


def survey_years(store) -> list[int]:
    """The survey years present in the households table, ascending (CE)."""
    years = store.query("SELECT DISTINCT survey_year FROM household_cells WHERE survey_year IS NOT NULL ORDER BY survey_year")
    return [int(year) for year in years["survey_year"]]


# --- drill-down profile ---------------------------------------------------------
_LISTS = {
    "councils": ("councils", "council_id", "registered_year", ["member_groups"]),
    "welfare_funds": ("welfare_funds", "fund_id", "founded_year", ["members", "fund_baht"]),
    "housing_projects": (
        "housing_projects", "project_id", "start_year",
        ["programme", "households", "budget_baht", "railside", "status"],
    ),
}


def area_lists(store, level: str, pcode: str | None, year: int | None = None,
               province: str | None = None) -> dict[str, pd.DataFrame]:
    """The councils, welfare funds and housing projects in one area (in or before `year`);
    with pcode=None, those of every area of `level`, with the area's key in column `area`.

    Returns {"councils", "welfare_funds", "housing_projects"} -> DataFrame with columns
    id, name, tambon_pcode, tambon_th, tambon_en, year, then the table's key figures;
    sorted by tambon then name.
    """
    year = normalise_year(year)
    area_cte, params = _area_of(level, None, pcode, province)
    if year is not None:
        params["year"] = year
    area_column = ", a.area" if pcode is None else ""
    lists = {}
    for key, (table, id_column, year_column, figures) in _LISTS.items():
        in_year = f" WHERE x.{year_column} <= $year" if year is not None else ""
        extra = "".join(f", x.{column}" for column in figures)
        sql = f"""WITH {area_cte}
            SELECT x.{id_column} AS id, x.name, t.pcode AS tambon_pcode, t.name_th AS tambon_th,
                   t.name_en AS tambon_en, x.{year_column} AS year{extra}{area_column}
            FROM {table} x
            JOIN area_of a ON a.tambon_pcode = x.tambon_pcode
            JOIN tambons t ON t.pcode = x.tambon_pcode{in_year}
            ORDER BY t.pcode, x.name, x.{id_column}"""
        lists[key] = _query(store, sql, params).reset_index(drop=True)
    return lists


def referrals_by_agency(store, level: str, pcode: str | None, year: int | None = None,
                        province: str | None = None) -> pd.DataFrame:
    """Referral cases of one area by agency: agency, cases, resolved_share, median_days (most cases first);
    with pcode=None, for every area of `level` at once, with the area's key in column `area`."""
    year = normalise_year(year)
    area_cte, params = _area_of(level, None, pcode, province)
    if year is not None:
        params["year"] = year
    figures = _CASE_FIGURES.format(cases="cases", share="resolved_share", days="median_days")
    by_area = "area, " if pcode is None else ""
    sql = f"""WITH {area_cte}, {_referral_cases_cte(year)}
        SELECT {by_area}coalesce(agency, '') AS agency, {figures}
        FROM cases GROUP BY {by_area}coalesce(agency, '')
        ORDER BY {by_area}cases DESC, agency"""
    frame = _query(store, sql, params)
    frame["cases"] = frame["cases"].astype(int)
    frame[["resolved_share", "median_days"]] = frame[["resolved_share", "median_days"]].astype(float)
    if pcode is None:
        frame["area"] = frame["area"].astype(str)
    return frame.reset_index(drop=True)


# --- command line -----------------------------------------------------------------
def run_cli(args) -> int:
    """`python -m geodata indicators ...`: write the table as CSV, GeoJSON or GeoParquet."""
    from geodata.store import open_store

    started = time.perf_counter()
    store = open_store(args.db)
    frame = compute(store, level=args.level, year=args.year, mpi_cutoff=args.mpi_cutoff, zones=args.zone)
    fmt = getattr(args, "format", "csv") or "csv"
    out = getattr(args, "out", None)
    if fmt == "parquet" and not out:
        print("error: --format parquet needs --out FILE", file=sys.stderr)
        return 1
    if fmt == "csv":
        from .privacy import neutralise_frame

        # Zone names come from an edited table: a cell like "=HYPERLINK(…)" must stay text in a spreadsheet.
        text = neutralise_frame(_for_csv(frame)).to_csv(index=False)
        _write_text(text, out)
    else:
        from .areas import area_geometries

        shapes = frame.merge(area_geometries(args.level, store), on="pcode", how="left")
        import geopandas as gpd

        shapes = gpd.GeoDataFrame(shapes, geometry="geometry", crs="EPSG:4326")
        if fmt == "parquet":
            shapes.to_parquet(out)
        else:
            _write_text(shapes.to_json(drop_id=True, ensure_ascii=False), out)
    with_households = int(frame["households"].notna().sum())
    year_text = normalise_year(args.year) or "latest per tambon"
    zones_text = f", zones {','.join(map(str, args.zone))}" if args.zone else ""
    print(
        f"indicators: {len(frame)} {args.level} areas ({with_households} with household data), "
        f"year {year_text}, k={args.mpi_cutoff:g}{zones_text} -> {out or 'stdout'} "
        f"in {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )
    return 0


def _for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    # Whole-number indicators print without ".0"; empty stays empty.
    frame = frame.copy()
    for indicator in registry.store_indicators():
        if indicator.fmt == "count":
            frame[indicator.id] = frame[indicator.id].round().astype("Int64")
    return frame


def _write_text(text: str, out: str | None) -> None:
    if out:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
