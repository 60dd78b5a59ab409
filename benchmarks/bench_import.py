"""Import throughput: generate a households CSV of N rows, import it into a fresh store, print rows/s.

    .venv/bin/python benchmarks/bench_import.py [--rows 200000]

The file mixes the tambon forms people use (P-codes, bare codes, Thai names with
prefixes and districts, English names) and Buddhist Era years, so resolution and
parsing are measured as they happen on real files.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# A province-wide file is larger than the default import limit, as a real one would be.
os.environ.setdefault("ATLAS_MAX_IMPORT_MB", "500")

from geodata import boundaries, importer  # noqa: E402
from geodata.store import open_store  # noqa: E402


def households_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Write a valid households CSV of `rows` rows with varied tambon spellings."""
    rng = np.random.default_rng(seed)
    tambons = boundaries.tambon_table("TH30")
    pick = rng.integers(0, len(tambons), rows)
    chosen = tambons.iloc[pick].reset_index(drop=True)
    form = rng.integers(0, 4, rows)
    tambon = np.select(
        [form == 0, form == 1, form == 2],
        ["ต." + chosen["name_th"], chosen["pcode"].str[2:], chosen["name_en"]],
        chosen["pcode"],
    )
    district = np.where(form == 0, "อ." + chosen["district_th"], np.where(form == 2, chosen["district_en"], ""))
    frame = pd.DataFrame({
        "household_id": [f"H{i:07d}" for i in range(rows)],
        "tambon": tambon,
        "district": district,
        "survey_year": rng.choice([2566, 2567, 2023, 2024], rows),
        "members": rng.integers(1, 9, rows),
        "income_month": rng.integers(0, 30_000, rows),
    })
    for part in ("human", "physical", "financial", "natural", "social"):
        frame[f"capital_{part}"] = rng.integers(10, 41, rows) / 10
    for part in ("health", "living", "education", "income", "access"):
        frame[f"deprived_{part}"] = (rng.random(rows) < 0.1).astype(int)
    frame["welfare_card"] = np.where(rng.random(rows) < 0.3, "yes", "no")
    frame["railside"] = np.where(rng.random(rows) < 0.02, "ใช่", "ไม่ใช่")
    frame.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        csv_path = folder / "households.csv"
        households_csv(csv_path, args.rows)
        store = open_store(folder / "atlas.duckdb")
        for label, dry_run in (("check only (dry run)", True), ("check and write", False)):
            started = time.perf_counter()
            result = importer.import_file(store, "households", csv_path, dry_run=dry_run)
            seconds = time.perf_counter() - started
            if not result.ok:
                raise SystemExit("\n".join(result.errors[:10]))
            print(f"import households, {label}: {args.rows:,} rows in {seconds:.2f} s "
                  f"= {args.rows / seconds:,.0f} rows/s ({csv_path.stat().st_size / 1e6:.0f} MB CSV)")


if __name__ == "__main__":
    main()
