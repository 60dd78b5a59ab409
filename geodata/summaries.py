"""Summary tables, rebuilt from the records they summarise inside every write that changes them.

A national store holds 20 million household records; grouping them again for
every map view takes seconds. The indicators read these tables instead:

- `household_cells`: households counted per tambon, survey year, welfare card,
  number of deprivations (0-5) and hardship level, with the sum and count of
  each capital score. Any MPI cutoff k and any grouping of tambons is exact
  from them; no household key is kept.
- `referral_homes`: each referred household's tambon, that of its latest survey
  record (a household that moved is counted where it lives now).

They are rebuilt in the same transaction as the write, so they can never
disagree with the records, and a failed or killed import leaves both unchanged.
"""
from __future__ import annotations

# Household levels by the mean m of the five capital scores (1-5): อยู่ลำบาก < 1.75 ≤ อยู่ยาก
# < 2.5 ≤ อยู่พอได้ < 3.25 ≤ อยู่ดี. The cells are grouped by these levels, so they are fixed here.
LEVEL_THRESHOLDS = (1.75, 2.5, 3.25)
CAPITALS = ["capital_human", "capital_physical", "capital_financial", "capital_natural", "capital_social"]
DEPRIVATIONS = ["deprived_health", "deprived_living", "deprived_education", "deprived_income", "deprived_access"]
# Shares are sums of fifths in floating point: comparisons allow this much rounding.
EPSILON = 1e-9

TABLES: dict[str, dict[str, str]] = {
    "household_cells": {
        "tambon_pcode": "VARCHAR",
        "survey_year": "INTEGER",
        "welfare_card": "BOOLEAN",
        "deprivations": "INTEGER",  # dimensions deprived, 0-5 (a missing flag counts as not deprived)
        "level": "INTEGER",  # 0 hardship .. 3 well-off; NULL where a capital score is missing
        "households": "BIGINT",
        **{f"{name}_{part}": kind for name in CAPITALS
           for part, kind in (("sum", "DOUBLE PRECISION"), ("n", "BIGINT"))},
    },
    "referral_homes": {
        "household_id": "VARCHAR PRIMARY KEY",
        "tambon_pcode": "VARCHAR",
    },
}
# Which records each summary is built from: a write to any of them rebuilds it.
SOURCES = {"household_cells": {"households"}, "referral_homes": {"households", "referrals"}}


def _level_sql() -> str:
    m = f"CAST({' + '.join(CAPITALS)} AS DOUBLE PRECISION) / 5"
    t1, t2, t3 = (repr(float(t) - EPSILON) for t in LEVEL_THRESHOLDS)
    return (f"CASE WHEN {m} IS NULL THEN NULL WHEN {m} < {t1} THEN 0 WHEN {m} < {t2} THEN 1 "
            f"WHEN {m} < {t3} THEN 2 ELSE 3 END")


def fill_sql(table: str) -> str:
    """The INSERT ... SELECT that fills an empty summary table from the records."""
    if table == "household_cells":
        deprivations = " + ".join(f"CASE WHEN {name} THEN 1 ELSE 0 END" for name in DEPRIVATIONS)
        capitals = ", ".join(f"sum({name}), count({name})" for name in CAPITALS)
        return f"""INSERT INTO household_cells
            SELECT tambon_pcode, survey_year, welfare_card, deprivations, level, count(*), {capitals}
            FROM (SELECT h.*, {deprivations} AS deprivations, {_level_sql()} AS level FROM households h) scored
            GROUP BY tambon_pcode, survey_year, welfare_card, deprivations, level"""
    if table == "referral_homes":
        return """INSERT INTO referral_homes
            SELECT household_id, tambon_pcode FROM (
                SELECT h.household_id, h.tambon_pcode,
                       row_number() OVER (PARTITION BY h.household_id ORDER BY h.survey_year DESC) AS newest
                FROM households h
                WHERE h.household_id IN (SELECT household_id FROM referrals)
            ) ranked
            WHERE newest = 1"""
    raise KeyError(table)


def stale(written: set[str]) -> list[str]:
    """The summaries that a write to the `written` tables makes out of date."""
    return [table for table, sources in SOURCES.items() if sources & set(written)]

