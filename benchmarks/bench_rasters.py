"""Benchmark: zonal statistics for the 289 tambons on a 10,000 x 10,000 raster.

    .venv/bin/python benchmarks/bench_rasters.py [--size 10000] [--keep DIR]

Writes a float32 raster over the province (UTM 47N, 256-cell deflate tiles,
about 20 m cells) strip by strip into a temporary folder, then measures in a
fresh child process (so its peak memory is the statistics' own): the zonal
statistics, registering the raster in a store (sha256 included), the first
`tambon_stats` (compute and store) and a second one (served from the store).
Targets: statistics <= 20 s; peak memory far below the 400 MB that the
whole raster would take as float32 (windowed reads).
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import tracemalloc
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRIP_ROWS = 256


def make_raster(path: Path, size: int) -> float:
    """Write a smooth field with noise, one strip of tiles at a time (the writer's memory stays small)."""
    import geopandas as gpd
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from geodata.rasters import province_outline

    west, south, east, north = gpd.GeoSeries([province_outline()], crs=4326).to_crs(32647).iloc[0].bounds
    cell = math.ceil(max(east - west, north - south) / size)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "float32",
               "crs": "EPSG:32647", "transform": from_origin(west, north, cell, cell), "nodata": -9999.0,
               "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    columns = np.arange(size)
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, STRIP_ROWS):
            rows = np.arange(row, min(size, row + STRIP_ROWS))[:, None]
            field = 50 + 30 * np.sin(columns[None, :] / 700.0) * np.cos(rows / 900.0)
            noise = rng.integers(0, 20, size=field.shape) / 10.0
            strip = (field + noise).astype(np.float32)
            strip[:, : size // 50] = -9999.0  # a nodata margin on the west edge
            dst.write(strip, 1, window=Window(0, row, size, strip.shape[0]))
    return time.perf_counter() - started


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    # Writing 5 to clear_refs resets VmHWM, so the peak excludes the imports and boundary loading.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def measure(path: str) -> dict:
    """Run in the child process: time and peak memory of the statistics."""
    from geodata import boundaries
    from layers import rasters as layer

    tambons = boundaries.load("tambon")[["pcode", "geometry"]]
    _reset_peak()
    baseline_mb = _status_mb("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    stats = layer.zonal_stats(path, tambons)
    zonal_s = time.perf_counter() - started
    arrays_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak_mb = _status_mb("VmHWM")

    from geodata import rasters as registry
    from geodata.store import open_store

    store = open_store(Path(path).with_name("bench.duckdb"))
    started = time.perf_counter()
    registry.add_raster(store, path, "bench", "ทดสอบ", "Benchmark", "units")
    add_s = time.perf_counter() - started
    started = time.perf_counter()
    layer.tambon_stats(store, "bench")
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    layer.tambon_stats(store, "bench")
    cached_s = time.perf_counter() - started
    return {
        "tambons": len(stats), "tambons_with_cells": int((stats["count"] > 0).sum()),
        "valid_cells": int(stats["count"].sum()), "zonal_s": zonal_s,
        "rss_before_mb": baseline_mb, "peak_rss_mb": peak_mb, "arrays_peak_mb": arrays_peak_mb,
        "register_with_sha256_s": add_s, "tambon_stats_first_s": first_s, "tambon_stats_cached_s": cached_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000, help="cells per side (default 10000)")
    parser.add_argument("--keep", default=None, help="folder to keep the raster in (default: a temporary one)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench-{args.size}.tif"
        written_s = make_raster(path, args.size)
        print(f"raster: {args.size:,} x {args.size:,} float32, tiled 256, deflate; "
              f"{path.stat().st_size / 2**20:.0f} MB on disk, written in {written_s:.1f} s")
        child = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                               cwd=ROOT)
        if child.returncode:
            print(child.stderr, file=sys.stderr)
            return 1
        result = json.loads(child.stdout.strip().splitlines()[-1])
    whole_mb = args.size * args.size * 4 / 2**20
    print(f"zonal statistics, {result['tambons']} tambons ({result['tambons_with_cells']} with cells, "
          f"{result['valid_cells']:,} valid cells): {result['zonal_s']:.1f} s (target <= 20 s)")
    print(f"memory during the statistics: peak RSS {result['peak_rss_mb']:.0f} MB from {result['rss_before_mb']:.0f} MB "
          f"before (+{result['peak_rss_mb'] - result['rss_before_mb']:.0f} MB, GDAL block cache capped at "
          f"64 MB included); peak of Python/numpy arrays {result['arrays_peak_mb']:.0f} MB; "
          f"the whole raster as float32 would be {whole_mb:.0f} MB")
    print(f"store: register with sha256 {result['register_with_sha256_s']:.1f} s, first tambon_stats "
          f"(compute + store) {result['tambon_stats_first_s']:.1f} s, second (cached) {result['tambon_stats_cached_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
