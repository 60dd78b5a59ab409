"""Per-capita and per-km² versions of count indicators, once a population raster is registered.

A count of councils or of targeted-poor households means little without the
people it serves: with a population raster, each count indicator gets a
"per 1,000 people" and a "per km²" companion, computed from the same table.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from . import rasters, registry

COUNT_INDICATORS = ["councils", "welfare_funds", "fund_members", "housing_projects", "housing_households",
                    "railside_households", "households", "targeted_poor", "referrals"]


def population_raster(store):
    from geodata.rasters import list_rasters

    return next((r for r in list_rasters(store) if r.kind == "population"), None)


def rate_indicators(population) -> list[registry.Indicator]:
    """The companions of every count indicator, described in Thai and English."""
    companions = []
    for indicator_id in COUNT_INDICATORS:
        base = registry.get(indicator_id)
        common = {"theme": base.theme, "fmt": "ratio", "decimals": 2, "palette": "sequential",
                  "higher_is_better": base.higher_is_better, "household_based": base.household_based,
                  "source": f"{base.source}; population: {population.title_en} (raster {population.raster_id})"}
        companions.append(replace(
            base, id=f"{indicator_id}_per_1000", **common,
            name_th=f"{base.name_th} ต่อประชากร 1,000 คน", name_en=f"{base.name_en} per 1,000 people",
            unit_th=f"{base.unit_th} ต่อ 1,000 คน", unit_en=f"{base.unit_en} per 1,000 people",
            definition_th=f"{base.definition_th} หารด้วยประชากรของพื้นที่จาก{population.title_th} คูณ 1,000",
            definition_en=f"{base.definition_en} Divided by the area's population from {population.title_en}, x 1,000.",
        ))
        companions.append(replace(
            base, id=f"{indicator_id}_per_km2", **common,
            name_th=f"{base.name_th} ต่อ ตร.กม.", name_en=f"{base.name_en} per km²",
            unit_th=f"{base.unit_th} ต่อ ตร.กม.", unit_en=f"{base.unit_en} per km²",
            definition_th=f"{base.definition_th} หารด้วยพื้นที่ (ตร.กม. วัดในระบบพิกัด UTM 47N)",
            definition_en=f"{base.definition_en} Divided by the area in km² (measured in UTM 47N).",
        ))
    return companions


def register_rate_indicators(store) -> list[registry.Indicator]:
    population = population_raster(store)
    return [] if population is None else [registry.register(i) for i in rate_indicators(population)]


def add_rates(table: pd.DataFrame, store, level: str) -> pd.DataFrame:
    """`table` with the rate companions of its count columns (unchanged without a population raster)."""
    population = population_raster(store)
    if population is None:
        return table
    keys = table["pcode"].astype(str)
    people = rasters.zonal_for_level(store, population.raster_id, level)
    people = people.set_index(people["pcode"].astype(str))["sum"].reindex(keys).to_numpy()
    area = rasters.area_km2(store, level)
    area = area.set_axis(area.index.astype(str)).reindex(keys).to_numpy()
    rates = {}
    for indicator_id in COUNT_INDICATORS:
        if indicator_id in table:
            rates[f"{indicator_id}_per_1000"] = rasters.per_capita(table[indicator_id].to_numpy(), people, per=1000).to_numpy()
            rates[f"{indicator_id}_per_km2"] = rasters.density(table[indicator_id].to_numpy(), area).to_numpy()
    return table.assign(**rates)
