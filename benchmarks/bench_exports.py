"""Export speed: PNG (cold and warm), SVG, PDF, standalone page, web map, and a 10-slide deck.

    .venv/bin/python benchmarks/bench_exports.py [--db PATH] [--households 900000] [--repeat 5]

Targets: a PNG in at most 3 s and a 10-slide PPTX in at most 10 s, with the
image renderer (headless Chromium via kaleido) already running, as it is after
the first download in the dashboard or the first map of a CLI batch. The cold
figure, which includes starting Chromium and building the base figure, is
printed for reference.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import exports  # noqa: E402
from dashboard.state import View  # noqa: E402
from geodata.store import open_store  # noqa: E402
from layers.atlas import Atlas  # noqa: E402

PNG_TARGET_S, PPTX_TARGET_S = 3.0, 10.0


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def store_path(args) -> Path:
    if args.db:
        return Path(args.db)
    from geodata.demo import build_demo

    path = Path(tempfile.mkdtemp(prefix="bench-exports-")) / "atlas.duckdb"
    print(f"building a demo store with {args.households:,} households ...", file=sys.stderr)
    build_demo(open_store(path), households=args.households, progress=False)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="an existing store (default: build a demo store)")
    parser.add_argument("--households", type=int, default=900_000)
    parser.add_argument("--repeat", type=int, default=5, help="warm renders per format")
    args = parser.parse_args(argv)
    atlas = Atlas(open_store(store_path(args)))
    atlas.warm()
    zones = atlas.zones()["zone"].astype(int).tolist()
    views = [View(indicator=i, zones=(z,), year=None) for i, z in
             zip(["mpi_headcount", "councils", "welfare_funds", "mpi", "referrals"] * 4, zones * 2)][:args.repeat]

    cold, png = timed(lambda: exports.to_png(atlas, View()))
    print(f"PNG cold (Chromium start + base figure + render): {cold:6.2f} s  ({len(png):,} bytes)")
    rows = []
    for name, action in [
        ("PNG 1920x1080", lambda v: exports.to_png(atlas, v)),
        ("PNG 3840x2160 (--scale 2)", lambda v: exports.to_png(atlas, v, scale=2)),
        ("SVG", lambda v: exports.to_svg(atlas, v)),
        ("PDF", lambda v: exports.to_pdf(atlas, v)),
        ("standalone HTML", lambda v: exports.to_html(atlas, v)),
        ("folium web map", lambda v: exports.to_folium(atlas, v)),
    ]:
        times, sizes = [], []
        for view in views:
            seconds, content = timed(lambda: action(view))
            times.append(seconds)
            sizes.append(len(content))
        rows.append((name, statistics.median(times), max(times), statistics.median(sizes)))
    print(f"{'format (warm)':28s} {'median s':>9s} {'max s':>7s} {'size':>12s}")
    for name, median, worst, size in rows:
        print(f"{name:28s} {median:9.2f} {worst:7.2f} {size:12,.0f}")

    deck_views = exports.batch_views(View(indicator="mpi_headcount"), per_zone=True, zones=zones)
    deck_seconds, deck = timed(lambda: exports.to_pptx(atlas, deck_views))
    print(f"PPTX, title + {len(deck_views)} map slides (warm): {deck_seconds:6.2f} s  ({len(deck):,} bytes)")

    png_warm = rows[0][1]
    print(f"target PNG <= {PNG_TARGET_S:g} s: {'met' if png_warm <= PNG_TARGET_S else 'MISSED'} ({png_warm:.2f} s median warm)")
    print(f"target 10-slide PPTX <= {PPTX_TARGET_S:g} s: {'met' if deck_seconds <= PPTX_TARGET_S else 'MISSED'} "
          f"({deck_seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
