"""Dashboard speed at province scale: `python benchmarks/bench_dashboard.py [--households N] [--db PATH]`.

Measured in one run, against a naive baseline in the same process:
- server time and response size of an indicator or zone change, sent as a
  `dash.Patch` (values and colours only), versus the naive way of rebuilding
  the whole figure (geometry of every level included) and sending it again;
- app start with a built store (`create_app`, caches warmed), and the same in a
  fresh `python -m dashboard` process until /healthz answers;
- first map on screen in headless Chromium (the picture of the first map, then the live map).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import plotly.io as pio  # noqa: E402

from dashboard.figures import apply_to_dict, base_map_figure, map_updates  # noqa: E402
from dashboard.state import View  # noqa: E402
from tests.browser import ServedApp, build_demo_store, launch_chromium  # noqa: E402
from tests.dash_client import call  # noqa: E402

CHANGES = [
    View(indicator="mpi_headcount"), View(indicator="councils"), View(indicator="capital_human"),
    View(indicator="capital_human", zones=(3,)), View(indicator="share_hardship", zones=(3,)),
    View(indicator="targeted_poor"), View(indicator="fund_members", zones=(1, 5)), View(indicator="mpi"),
]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def patched_change(app, client, view, previous):
    started = time.perf_counter()
    response = call(client, app, "map.figure", {"view.data": view.to_dict(), "map-state.data": previous})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return elapsed, len(response.get_data()), response.get_json()["response"]["map-state"]["data"]


def naive_change(atlas, view):
    """Rebuild the figure from scratch and serialise all of it, as a callback returning a Figure does."""
    started = time.perf_counter()
    figure = base_map_figure(atlas).to_dict()
    updates, _ = map_updates(atlas, view, None)
    body = pio.to_json(apply_to_dict(figure, updates))
    return time.perf_counter() - started, len(body.encode())


# Polled every frame from the page's start: when the picture of the first map (dashboard/preview.py)
# is on screen, and when the live MapLibre map has drawn the classes.
PAINT_CLOCK = """(function poll() {
  const marks = window.__paint = window.__paint || {}, now = performance.now();
  const picture = document.querySelector('.map-preview img');
  if (!marks.picture && picture && picture.complete && picture.naturalWidth > 0 && picture.offsetParent !== null)
    marks.picture = now;
  const gd = document.querySelector('#map .js-plotly-plot');
  const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
  if (sub && sub.map.loaded() && gd._fullData[0].z.some(z => z >= 0) && !sub.map.isMoving()) marks.map = now;
  if (!marks.map) requestAnimationFrame(poll);
})();"""


def first_paint_seconds(url: str, runs: int = 3) -> list[dict]:
    """For `runs` page loads in one fresh headless Chromium (the first with a cold browser): seconds
    from navigation start and from the load event until the first map is on screen (the picture, or
    the live map if it came first) and until the live map is drawn."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        context = launch_chromium(playwright)
        context.add_init_script(PAINT_CLOCK)
        for _ in range(runs):
            page = context.new_page()
            page.goto(url, wait_until="commit")
            page.wait_for_function("() => window.__paint && window.__paint.map", timeout=60_000, polling=50)
            marks, loaded = page.evaluate("""() => [window.__paint,
                performance.getEntriesByType('navigation')[0].loadEventEnd]""")
            first = min(marks.get("picture", marks["map"]), marks["map"])
            times.append({"first": first / 1000, "first_after_load": (first - loaded) / 1000,
                          "map": marks["map"] / 1000, "map_after_load": (marks["map"] - loaded) / 1000})
            page.close()
        context.close()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=900_000)
    parser.add_argument("--db", default=None, help="an existing store (default: build a demo store)")
    parser.add_argument("--rounds", type=int, default=10, help="passes over the change list")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    db = Path(args.db) if args.db else build_demo_store(folder / "atlas.duckdb", args.households)

    from dashboard.app import create_app

    started = time.perf_counter()
    app = create_app(str(db))
    start_in_process = time.perf_counter() - started
    client = app.server.test_client()

    patched, sizes, naive, naive_sizes = [], [], [], []
    state = {"focus": "tambon||", "overlay": ""}
    for _ in range(args.rounds):
        for view in CHANGES:
            elapsed, size, state = patched_change(app, client, view, state)
            patched.append(elapsed)
            sizes.append(size)
    for view in CHANGES:
        elapsed, size = naive_change(app.atlas, view)
        naive.append(elapsed)
        naive_sizes.append(size)

    started = time.perf_counter()
    served = ServedApp(db)
    start_process = time.perf_counter() - started
    try:
        paints = first_paint_seconds(served.url + "/")
    finally:
        served.stop()

    p95, naive_p95 = percentile(patched, 95) * 1000, percentile(naive, 95) * 1000
    print(f"store: {db} ({args.households:,} households)" if not args.db else f"store: {db}")
    print(f"indicator/zone change, Patch: p50 {statistics.median(patched) * 1000:.1f} ms, p95 {p95:.1f} ms "
          f"over {len(patched)} requests (target p95 <= 50 ms)")
    print(f"  response size: max {max(sizes) / 1024:.1f} KB, median {statistics.median(sizes) / 1024:.1f} KB (target <= 10 KB)")
    print(f"naive full figure: p50 {statistics.median(naive) * 1000:.1f} ms, p95 {naive_p95:.1f} ms, "
          f"size median {statistics.median(naive_sizes) / 1024:.1f} KB")
    print(f"  ratio naive/patch: time {statistics.median(naive) / statistics.median(patched):.1f}x, "
          f"size {statistics.median(naive_sizes) / statistics.median(sizes):.1f}x")
    print(f"app start with a built store: create_app {start_in_process:.2f} s; "
          f"`python -m dashboard` to /healthz {start_process:.2f} s (target <= 5 s)")
    def seconds(key):
        return ", ".join(f"{paint[key]:.2f}" for paint in paints)

    print(f"headless Chromium, page loads 1-{len(paints)} (the first in a cold browser), target <= 2 s:")
    print(f"  first map on screen (its picture): {seconds('first')} s after navigation start, "
          f"{seconds('first_after_load')} s after the load event")
    print(f"  live map drawn (MapLibre):         {seconds('map')} s after navigation start, "
          f"{seconds('map_after_load')} s after the load event")
    return 0


if __name__ == "__main__":
    sys.exit(main())
