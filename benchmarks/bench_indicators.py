"""Indicator query time per level at province scale (default 900,000 households).

    .venv/bin/python benchmarks/bench_indicators.py [--households 900000] [--db PATH] [--repeat 5]

Builds a store with geodata.demo.build_demo (or, where that module is absent,
households generated here with numpy), then prints the median of `repeat`
runs of layers.indicators.compute() per level, and the classification time
per scheme for the tambon MPI values.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geodata.store import TableWrite, open_store  # noqa: E402
from layers import classify, indicators  # noqa: E402


def numpy_households(store, count: int, seed: int = 1) -> pd.DataFrame:
    """Plain random households over the store's tambons, two survey years."""
    rng = np.random.default_rng(seed)
    tambons = store.query("SELECT pcode FROM tambons")["pcode"].to_numpy()
    frame = pd.DataFrame({
        "household_id": np.char.add("H", np.arange(count).astype(str)),
        "survey_year": rng.choice([2023, 2024], count),
        "tambon_pcode": rng.choice(tambons, count),
        "members": rng.integers(1, 8, count),
        "income_month": rng.gamma(2.0, 3000.0, count),
        "welfare_card": rng.random(count) < 0.3,
        "railside": rng.random(count) < 0.01,
    })
    for name in ["human", "physical", "financial", "natural", "social"]:
        frame[f"capital_{name}"] = rng.integers(1, 5, count).astype(float)
    for name in ["health", "living", "education", "income", "access"]:
        frame[f"deprived_{name}"] = rng.random(count) < 0.08
    return frame


def build(store, households: int) -> str:
    try:
        from geodata.demo import build_demo
    except ImportError:
        store.write([TableWrite("households", numpy_households(store, households), mode="replace", synthetic=True)])
        return "numpy households only (geodata.demo not available)"
    build_demo(store, households=households, seed=1, progress=False)
    return "geodata.demo.build_demo"


def median_ms(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def print_warm_connection(store, repeat: int) -> None:
    """The same SQL on one DuckDB connection kept open: shows what the store's connection per call costs."""
    path = getattr(store, "path", None)
    if path is None:
        return
    import duckdb

    print(f"the same SQL on one open DuckDB connection (store.query opens one per call), median of {repeat}:")
    with duckdb.connect(str(path), read_only=True) as con:
        for level in indicators.LEVELS:
            sql, params = indicators._value_sql(level, None, None)
            params |= indicators._cutoff_params(indicators.DEFAULT_MPI_CUTOFF)
            used = set(indicators._PARAMETER.findall(sql))
            params = {name: value for name, value in params.items() if name in used}
            con.execute(sql, params).fetchall()
            ms = median_ms(lambda: con.execute(sql, params).fetchall(), repeat)
            print(f"  {level:9s} latest year {ms:8.1f} ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=900_000)
    parser.add_argument("--db", default=None, help="use this existing store instead of building one")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        if args.db:
            store, origin = open_store(args.db), f"existing store {args.db}"
        else:
            store = open_store(Path(folder) / "bench.duckdb")
            started = time.perf_counter()
            origin = build(store, args.households)
            print(f"store built with {origin} in {time.perf_counter() - started:.1f} s")
        rows = store.row_counts()
        print(f"rows: {rows}")
        print(f"indicators.compute() median of {args.repeat} runs:")
        for level in indicators.LEVELS:
            indicators.compute(store, level)  # warm caches (province names, OS file cache)
            print(f"  {level:9s} latest year {median_ms(lambda: indicators.compute(store, level), args.repeat):8.1f} ms")
        years = indicators.survey_years(store)
        if years:
            ms = median_ms(lambda: indicators.compute(store, "tambon", year=years[-1]), args.repeat)
            print(f"  tambon    year {years[-1]}    {ms:8.1f} ms")
        ms = median_ms(lambda: indicators.compute(store, "tambon", zones=[1, 2]), args.repeat)
        print(f"  tambon    zones 1,2      {ms:8.1f} ms")
        print_warm_connection(store, args.repeat)
        mpi = indicators.compute(store, "tambon")["mpi"].to_numpy()
        print("classify() of the 289 tambon MPI values, first call (later calls are cached):")
        for scheme in ["quantiles", "natural_breaks", "equal_interval"]:
            classify._bins.cache_clear()
            started = time.perf_counter()
            classify.classify(mpi, scheme, k=5)
            print(f"  {scheme:15s} {(time.perf_counter() - started) * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
