"""Store throughput on both backends: bulk write of N households (COPY on PostgreSQL),
reading them back into a frame, a table checksum and a replace.

    .venv/bin/python benchmarks/bench_store_backends.py [--households 900000] [--url postgresql://...]

Without --url, PostgreSQL runs in a throw-away cluster (tests/pg.py; needs the
postgresql and postgis packages). The DuckDB store lives in a temporary folder.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geodata.store import TableWrite, open_store  # noqa: E402


def households(store, count: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tambons = store.query("SELECT pcode FROM tambons")["pcode"].to_numpy()
    flags = rng.random((count, 7)) < 0.2
    return pd.DataFrame({
        "household_id": np.char.add("H", np.arange(count).astype(str)),
        "survey_year": 2024,
        "tambon_pcode": rng.choice(tambons, count),
        "members": rng.integers(1, 8, count),
        "income_month": rng.gamma(2.0, 3000.0, count),
        **{f"capital_{c}": rng.uniform(1, 4, count) for c in ["human", "physical", "financial", "natural", "social"]},
        **{f"deprived_{d}": flags[:, i] for i, d in enumerate(["health", "living", "education", "income", "access"])},
        "welfare_card": flags[:, 5],
        "railside": flags[:, 6],
    })


def timed(label: str, action) -> float:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    print(f"  {label:<28} {seconds:7.2f} s", flush=True)
    return seconds


def measure(store, count: int) -> None:
    print(f"{store.backend}: {count:,} households")
    rows = households(store, count)
    seconds = timed("write (append)", lambda: store.write([TableWrite("households", rows)]))
    print(f"  {'':<28} {count / seconds:10,.0f} rows/s")
    timed("query all rows to a frame", lambda: store.query("SELECT * FROM households"))
    timed("aggregate per tambon", lambda: store.query(
        "SELECT tambon_pcode, count(*) AS n, avg(income_month) AS income FROM households GROUP BY tambon_pcode"))
    timed("table_checksum", lambda: store.table_checksum("households"))
    timed("write (replace)", lambda: store.write([TableWrite("households", rows, mode="replace")]))


@contextmanager
def postgres_url(url: str | None):
    if url:
        yield url
        return
    from tests.pg import ThrowAwayCluster

    with ThrowAwayCluster() as cluster:
        yield cluster.create_database("atlas_bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=900_000)
    parser.add_argument("--url", help="an empty PostgreSQL database with PostGIS (default: a throw-away cluster)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure(open_store(Path(folder) / "atlas.duckdb"), args.households)
    with postgres_url(args.url) as url:
        start = time.perf_counter()
        store = open_store(url)
        print(f"postgresql: new store (schema, PostGIS boundaries) {time.perf_counter() - start:.2f} s")
        measure(store, args.households)


if __name__ == "__main__":
    main()
