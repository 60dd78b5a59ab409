"""Personal-data protection (PDPA) as plain functions, shared by the map, the
panel, the ranking table, every export and the household lists.

Suppression rules (docs/access.md explains the reasoning):
1. A figure that summarises households (a mean, share or median) is hidden
   when it summarises 1–4 households: the households of the area for most
   indicators, the poor households for MPI intensity, the referral cases for
   the share resolved, the resolved cases for the median days.
2. A count of households (surveyed, targeted poor, referral cases) of 1–4 is
   hidden, and so is the share that is that count divided by the households.
3. In an area with 1–4 surveyed households every household-based figure is
   hidden.
Hidden figures are blanked (NaN) and shown as "<5", never as a number and
never as "no data". Zero is shown: it describes nobody.

Household-level rows (key, income, scores, flags) leave the store only
through `household_list`, for analysts in their own zones and admins.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import registry

SUPPRESSED_MIN = 5  # PDPA: aggregates of fewer households than this are not shown
SUPPRESSED_TEXT = "<5"
HIDDEN_COLUMN = "suppressed_ids"  # per row: ",id1,id2," of the hidden indicators

# The household-level fields an analyst's list shows, in this order.
HOUSEHOLD_LIST_COLUMNS = [
    "household_id", "survey_year", "members", "income_month",
    "capital_human", "capital_physical", "capital_financial", "capital_natural", "capital_social",
    "deprived_health", "deprived_living", "deprived_education", "deprived_income", "deprived_access",
    "welfare_card", "railside",
]


class HouseholdAccessDenied(PermissionError):
    """The user may not see household-level rows of this area."""


# -- suppression of aggregates -------------------------------------------------------
def _small(counts: pd.Series) -> pd.Series:
    return counts.notna() & (counts > 0) & (counts < SUPPRESSED_MIN)


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name in table:
        return pd.to_numeric(table[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=table.index)


def base_counts(table: pd.DataFrame) -> dict[str, pd.Series]:
    """For indicators whose value describes a group other than the area's households,
    the number of households (or cases) in that group."""
    households = _column(table, "households")
    cases = _column(table, "referrals")
    targeted = _column(table, "targeted_poor")
    return {
        "mpi_intensity": (_column(table, "mpi_headcount") * households).round(),
        "targeted_poor": targeted,
        "targeted_poor_share": targeted,
        "referrals": cases,
        "referrals_resolved_share": cases,
        "referral_median_days": (cases * _column(table, "referrals_resolved_share")).round(),
    }


def suppression_mask(table: pd.DataFrame) -> pd.DataFrame:
    """True where a household-based indicator of an area must be hidden (rules 1–3)."""
    small_area = _small(_column(table, "households"))
    bases = base_counts(table)
    mask = {}
    for indicator in registry.all_indicators():
        if indicator.household_based and indicator.id in table:
            hidden = small_area
            if indicator.id in bases:
                hidden = hidden | _small(bases[indicator.id])
            mask[indicator.id] = hidden.to_numpy(dtype=bool)
    return pd.DataFrame(mask, index=table.index)


def suppress_small_counts(table: pd.DataFrame) -> pd.DataFrame:
    """A copy with hidden figures blanked, a `suppressed` flag (the area has 1–4
    households) and `suppressed_ids` naming the hidden indicators of each row.
    A table already suppressed comes back as it is: its blanked counts would hide the rule's flags."""
    if "suppressed" in table:
        return table
    mask = suppression_mask(table)
    table = table.copy()
    for column in mask.columns:
        table.loc[mask[column].to_numpy(), column] = np.nan
    # The flag follows the raw household count: the blanked column no longer has it.
    table["suppressed"] = mask["households"].to_numpy() if "households" in mask else False
    ids = pd.Series(",", index=table.index, dtype=object)
    for column in mask.columns:
        ids = ids + np.where(mask[column].to_numpy(), f"{column},", "")
    table[HIDDEN_COLUMN] = ids.astype(str)
    return table


def hidden_mask(table: pd.DataFrame, indicator_id: str) -> np.ndarray:
    """Which rows of a suppressed table hide `indicator_id`."""
    if HIDDEN_COLUMN not in table:
        return np.zeros(len(table), dtype=bool)
    return table[HIDDEN_COLUMN].str.contains(f",{indicator_id},", regex=False).to_numpy(dtype=bool)


def hidden_ids(row: pd.Series) -> set[str]:
    """The hidden indicators of one row of a suppressed table."""
    text = row.get(HIDDEN_COLUMN, "") if row is not None else ""
    return {part for part in str(text or "").split(",") if part}


def display_value(indicator_id: str, value, hidden: bool, lang: str = "th", thai_digits: bool = False) -> str:
    """A figure as people read it, or "<5" when it is hidden."""
    if hidden:
        return SUPPRESSED_TEXT
    return registry.get(indicator_id).format_value(value, lang, thai_digits)


def suppress_case_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Referral figures by agency (cases, resolved_share, median_days) with small groups shown as "<5".

    The result is for display: its figure columns hold numbers or the text "<5".
    """
    frame = frame.copy()
    cases = _column(frame, "cases")
    resolved = (cases * _column(frame, "resolved_share")).round()
    few_cases = _small(cases).to_numpy()
    few_resolved = few_cases | _small(resolved).to_numpy()
    for column, hidden in (("cases", few_cases), ("resolved_share", few_cases), ("median_days", few_resolved)):
        if column in frame:
            frame[column] = frame[column].astype(object).where(~hidden, SUPPRESSED_TEXT)
    return frame


# -- household-level lists (analysts in their zones, admins) ---------------------------
def tambon_zone(store, pcode: str) -> int | None:
    """The zone of a tambon, or None when `pcode` is not a tambon of the store."""
    zone = store.scalar(
        "SELECT z.zone FROM tambons t JOIN zones z ON z.district_pcode = t.district_pcode WHERE t.pcode = $pcode",
        {"pcode": str(pcode)},
    )
    return None if zone is None else int(zone)


def may_see_households(allowed_zones, zone: int | None) -> bool:
    """`allowed_zones` is None for every zone (admins), else the zone numbers of an analyst."""
    if zone is None:
        return False
    return allowed_zones is None or zone in set(allowed_zones)


def household_list(store, pcode: str, allowed_zones, year: int | None = None) -> pd.DataFrame:
    """Household-level rows of one tambon (HOUSEHOLD_LIST_COLUMNS), newest survey first.

    Raises HouseholdAccessDenied unless the tambon lies in `allowed_zones`
    (None = all zones). Never call this for a viewer.
    """
    if not may_see_households(allowed_zones, tambon_zone(store, pcode)):
        raise HouseholdAccessDenied(f"no access to household records of {pcode}")
    condition, params = "tambon_pcode = $pcode", {"pcode": str(pcode)}
    if year is not None:
        condition += " AND survey_year = $year"
        params["year"] = int(year)
    columns = ", ".join(HOUSEHOLD_LIST_COLUMNS)
    return store.query(
        f"SELECT {columns} FROM households WHERE {condition} ORDER BY survey_year DESC, household_id", params
    ).reset_index(drop=True)


# -- CSV files that people open in spreadsheets ------------------------------------------
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"


def neutralise_cell(value):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe.

    Numbers, and text that is just a number ("-1.5"), are left alone: a
    spreadsheet reads them as the number, never as a formula.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if re.fullmatch(_NUMBER, value):
        return value
    return "'" + value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` safe to write as CSV: every text cell passed through `neutralise_cell`."""
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        text = column.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False) & ~text.str.fullmatch(_NUMBER).fillna(False)
        if risky.any():
            frame[name] = column.astype(object).where(~risky.to_numpy(), "'" + text.astype(object))
    return frame
