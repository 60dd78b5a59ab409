"""National scale: build the SYNTHETIC national store (7,425 tambons, 13 million households),
then time indicator queries for the whole country and for single provinces.

    .venv/bin/python benchmarks/bench_national.py [--households 13000000] [--db data/national.duckdb]
                                                  [--rebuild] [--repeat 3]

The build runs as `python -m geodata national` in a child process, so its peak
memory (ru_maxrss of the child) is measured apart from the queries'. An
existing store of the same size is reused unless --rebuild. Query times are
medians of --repeat runs of layers.indicators.compute() (each run opens its own
connections, as the app does), after one warm-up run.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geodata import config  # noqa: E402
from geodata.store import open_store  # noqa: E402
from layers import indicators  # noqa: E402
from layers.atlas import Atlas  # noqa: E402

LEVELS = ("tambon", "district", "zone", "province")
PROVINCES = ("TH10", "TH30", "TH57")  # Bangkok, Nakhon Ratchasima, Chiang Rai


def build(db: Path, households: int) -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "geodata", "national", "--households", str(households), "--db", str(db),
                    "--force"], cwd=ROOT, check=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"build: {households:,} households in {seconds:.0f} s, peak memory {peak:,.0f} MB, "
          f"store {db.stat().st_size / 2**30:.2f} GB")


def median_seconds(work, repeat: int) -> float:
    work()  # warm-up: OS file cache, province names
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=13_000_000)
    parser.add_argument("--db", default=str(config.data_dir() / "national.duckdb"))
    parser.add_argument("--rebuild", action="store_true", help="build even if a store of this size exists")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = Path(args.db)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    stored = open_store(db).meta("national_households") if db.exists() else None
    if args.rebuild or stored != str(args.households):
        build(db, args.households)
    else:
        print(f"build: reusing {db} ({args.households:,} households; --rebuild to time a build)")
    store = open_store(db)
    records = store.scalar("SELECT count(*) FROM households")
    print(f"store: {store.scalar('SELECT count(*) FROM tambons'):,} tambons, {records:,} household records, "
          f"{store.row_counts()['referrals']:,} referrals")

    print(f"indicators.compute(), whole country, median of {args.repeat}:")
    for level in LEVELS:
        rows = len(indicators.compute(store, level))
        seconds = median_seconds(lambda: indicators.compute(store, level), args.repeat)
        print(f"  {level:9s} {rows:5d} areas {seconds * 1000:8.0f} ms")
    for province in PROVINCES:
        print(f"indicators.compute(province={province}), median of {args.repeat}:")
        for level in LEVELS:
            rows = len(indicators.compute(store, level, province=province))
            seconds = median_seconds(lambda: indicators.compute(store, level, province=province), args.repeat)
            print(f"  {level:9s} {rows:5d} areas {seconds * 1000:8.0f} ms")
    for province in PROVINCES:
        with tempfile.TemporaryDirectory() as cache:  # an empty table cache: a true first view
            atlas = Atlas(store, table_cache=Path(cache), province=province)
            started = time.perf_counter()
            atlas.warm()
        print(f"first view of {province} (Atlas.warm: 4 levels, geometry, zones): "
              f"{time.perf_counter() - started:.2f} s")
        tambon = atlas.table("tambon").sort_values("referrals", ascending=False)["pcode"].iloc[0]
        seconds = median_seconds(lambda: indicators.referrals_by_agency(store, "tambon", tambon), args.repeat)
        print(f"  referrals by agency for {tambon} (area panel): {seconds * 1000:.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"queries: peak memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
