"""Time the synthetic demo build: `python benchmarks/bench_demo.py [--households N] [--rebuild]`.

Builds into a fresh store in a temporary folder (nothing under data/ is touched)
and prints the build time and rows written per second. With --rebuild it also
times a second build over the first, which replaces every table.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geodata.demo import build_demo  # noqa: E402
from geodata.store import open_store  # noqa: E402


def timed_build(store, households: int, seed: int) -> tuple[float, dict]:
    started = time.perf_counter()
    counts = build_demo(store, households=households, seed=seed, progress=False)
    return time.perf_counter() - started, counts


def report(label: str, seconds: float, counts: dict, households: int) -> None:
    rows = sum(counts.values())
    print(f"demo {label}: {households:,} households, {rows:,} rows in {seconds:.1f} s "
          f"({rows / seconds:,.0f} rows/s; households table {counts['households']:,} records)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=900_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="also time a build over an existing demo store")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = open_store(Path(folder) / "bench.duckdb")
        print(f"new store: {time.perf_counter() - started:.1f} s")
        seconds, counts = timed_build(store, args.households, args.seed)
        report("build into a new store", seconds, counts, args.households)
        if args.rebuild:
            seconds, counts = timed_build(store, args.households, args.seed + 1)
            report("rebuild over the previous demo", seconds, counts, args.households)
    return 0


if __name__ == "__main__":
    sys.exit(main())
