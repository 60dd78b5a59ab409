"""The movement's zones: an editable district -> zone table.

The shipped default is an assumption (the real composition is unpublished);
users replace it with their own CSV of `pcode,zone,zone_name_th,zone_name_en`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import boundaries, config

DEFAULT_FILES = {"TH30": Path(__file__).with_name("zones_TH30.csv")}
COLUMNS = ["district_pcode", "zone", "zone_name_th", "zone_name_en", "assumed"]


class ZoneFileError(ValueError):
    pass


def read_zones(path: Path | str, province: str = config.DEFAULT_PROVINCE, assumed: bool = False) -> pd.DataFrame:
    """Read and check a zone table: every district of the province in exactly one zone."""
    frame = pd.read_csv(path, comment="#", dtype=str, encoding="utf-8-sig").fillna("")
    missing = {"pcode", "zone", "zone_name_th", "zone_name_en"} - set(frame.columns)
    if missing:
        raise ZoneFileError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    districts = boundaries.load("district", province)
    known = set(districts["pcode"])
    problems = []
    frame["pcode"] = frame["pcode"].str.strip().str.upper().map(lambda c: c if c.startswith("TH") else f"TH{c}")
    for row_number, row in zip(range(2, len(frame) + 2), frame.itertuples()):
        if row.pcode not in known:
            problems.append(f"row {row_number}: district {row.pcode!r} is not a district of {province}")
        if not str(row.zone).strip().isdigit():
            problems.append(f"row {row_number}: zone {row.zone!r} is not a whole number")
    duplicated = frame.loc[frame["pcode"].duplicated(), "pcode"]
    problems += [f"district {code} is listed more than once" for code in duplicated]
    unassigned = sorted(known - set(frame["pcode"]))
    if unassigned:
        problems.append(f"districts without a zone: {', '.join(unassigned)}")
    if problems:
        raise ZoneFileError(f"{path}: " + "; ".join(problems))
    table = frame.rename(columns={"pcode": "district_pcode"})
    table["zone"] = table["zone"].astype(int)
    table["assumed"] = assumed
    return table[COLUMNS].sort_values(["zone", "district_pcode"]).reset_index(drop=True)


def default_zones(province: str = config.DEFAULT_PROVINCE) -> pd.DataFrame:
    """The shipped grouping, or one zone per district where none is shipped."""
    if province in DEFAULT_FILES:
        return read_zones(DEFAULT_FILES[province], province, assumed=True)
    districts = boundaries.load("district", province)
    return pd.DataFrame(
        {
            "district_pcode": districts["pcode"],
            "zone": range(1, len(districts) + 1),
            "zone_name_th": districts["name_th"],
            "zone_name_en": districts["name_en"],
            "assumed": True,
        }
    )
