"""Run every benchmark in turn and print their figures: `python benchmarks/run_all.py [--national]`.

Each benchmark is its own script (run it alone for its options); this runs
them one after the other so that they do not compete for the two cores.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "bench_demo.py", "bench_import.py", "bench_indicators.py", "bench_dashboard.py", "bench_exports.py",
    "bench_rasters.py", "bench_store_backends.py", "load_test.py",
]


def main(argv: list[str]) -> int:
    chosen = BENCHMARKS + (["bench_national.py"] if "--national" in argv else [])
    failures = 0
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(HERE / name)], cwd=HERE.parent)
        failures += result.returncode != 0
        print(f"=== {name}: exit {result.returncode} after {time.perf_counter() - started:.0f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
