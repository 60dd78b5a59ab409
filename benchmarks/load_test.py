"""Load test: simulated users against `python -m dashboard serve` (gunicorn) on 127.0.0.1.

    python benchmarks/load_test.py [--users 50] [--duration 60] [--spawn-rate 10] [--workers 2]
                                   [--db PATH | --households 900000] [--think 2 8] [--export-share 0.01]

Without --db it builds a SYNTHETIC demo store in a temporary folder. It starts the
server itself on a free loopback port (or uses --url, loopback only), then each
user behaves like a browser: GET the page (and, on the first visit, its scripts),
the layout and the callback list, then every Dash callback that the browser
would send, in the browser's order, for each action: open a page or permalink,
switch indicator, zones, level, year or language, click a map area, a ranking
row, a drill-down or breadcrumb button, sort the ranking, and now and then
download a PNG. Users pause --think seconds between actions. Each user sends
one request at a time (a browser sends a wave of independent callbacks in
parallel; the work per action is the same).

Prints requests, errors, p50/p95/p99 per request kind and throughput, and the
server's own times from gunicorn's access log. Targets: zero errors and p95 <
300 ms for the interactive callbacks (downloads are reported apart).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPORT_KIND = "download.data <- download-button"
PAGE_KINDS = ("GET /", "GET static", "GET /_dash-layout", "GET /_dash-dependencies")


# -- ids and callbacks, as dash-renderer sees them ------------------------------------------------
def id_key(component_id) -> str:
    """Dash's string form of an id: the id itself, or sorted compact JSON for a dict id."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return component_id


def parse_id(text: str):
    return json.loads(text) if text.startswith("{") else text


def matches(pattern: dict, component_id) -> bool:
    """Does a concrete dict id match a pattern id whose wildcards are lists such as ["ALL"]?"""
    return (isinstance(component_id, dict) and pattern.keys() == component_id.keys()
            and all(isinstance(value, list) or component_id[key] == value for key, value in pattern.items()))


def short(component_id) -> str:
    return component_id.get("type", "?") if isinstance(component_id, dict) else component_id


class Callback:
    def __init__(self, spec: dict):
        self.key = spec["output"]
        parts = self.key[2:-2].split("...") if self.key.startswith("..") else [self.key]
        self.multi = self.key.startswith("..")
        self.outputs = []
        for part in parts:
            component, _, prop = part.rpartition(".")
            self.outputs.append((parse_id(component), prop.split("@")[0]))
        self.inputs = [(parse_id(i["id"]), i["property"]) for i in spec["inputs"]]
        self.state = [(parse_id(s["id"]), s["property"]) for s in spec["state"]]
        self.prevent_initial_call = bool(spec.get("prevent_initial_call"))
        first_out, first_in = self.outputs[0], self.inputs[0]
        self.kind = f"{short(first_out[0])}.{first_out[1]} <- {short(first_in[0])}"

    def output_keys(self) -> set:
        return {(id_key(c), p) for c, p in self.outputs if not isinstance(c, dict)}


# -- one simulated browser ------------------------------------------------------------------------
class Browser:
    """Keeps the component props a page holds and sends the callbacks their changes trigger."""

    def __init__(self, url: str, recorder: "Recorder", rng: random.Random, callbacks_cache: dict):
        self.url = url
        self.recorder = recorder
        self.rng = rng
        self.session = requests.Session()
        self.callbacks_cache = callbacks_cache
        self.callbacks: list[Callback] = []
        self.ids: dict[str, object] = {}
        self.props: dict[str, dict] = {}
        self.owned: dict[tuple, set] = defaultdict(set)  # (id, prop) -> ids rendered inside that prop
        self.visited = False

    # -- HTTP ------------------------------------------------------------------------
    def get(self, path: str, kind: str) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.session.get(self.url + path, timeout=30)
        except requests.RequestException as error:
            self.recorder.error(kind, repr(error))
            return None
        self.recorder.record(kind, time.perf_counter() - started, len(response.content), response.status_code)
        return response if response.status_code == 200 else None

    def post_callback(self, callback: Callback, changed: list[tuple]) -> list[tuple]:
        payload = {
            "output": callback.key,
            "outputs": [self.spec(c, p, False) for c, p in callback.outputs] if callback.multi
            else self.spec(*callback.outputs[0], False),
            "inputs": [self.spec(c, p, True) for c, p in callback.inputs],
            "state": [self.spec(c, p, True) for c, p in callback.state],
            "changedPropIds": [f"{key}.{prop}" for key, prop in changed],
        }
        started = time.perf_counter()
        try:
            response = self.session.post(self.url + "/_dash-update-component", json=payload, timeout=60)
        except requests.RequestException as error:
            self.recorder.error(callback.kind, repr(error))
            return []
        self.recorder.record(callback.kind, time.perf_counter() - started, len(response.content), response.status_code)
        if response.status_code != 200:
            return []
        return self.apply_response(response.json()["response"])

    def spec(self, component, prop: str, with_value: bool):
        def one(key):
            item = {"id": self.ids[key], "property": prop}
            if with_value and prop in self.props[key]:
                item["value"] = self.props[key][prop]
            return item

        if isinstance(component, dict):
            return [one(key) for key, cid in self.ids.items() if matches(component, cid)]
        key = id_key(component)
        return one(key) if key in self.ids else {"id": component, "property": prop}

    # -- the page's components -------------------------------------------------------
    def register(self, node, owner: tuple | None) -> None:
        if isinstance(node, list):
            for item in node:
                self.register(item, owner)
        elif isinstance(node, dict) and "props" in node and "type" in node:
            props = node["props"]
            key = id_key(props["id"]) if "id" in props else None
            if key is not None:
                self.ids[key], self.props[key] = props["id"], dict(props)
                if owner:
                    self.owned[owner].add(key)
            for prop, value in props.items():
                if isinstance(value, (list, dict)):
                    self.register(value, (key, prop) if key else owner)
        elif isinstance(node, dict):
            for value in node.values():
                self.register(value, owner)

    def forget(self, owner: tuple) -> None:
        for key in self.owned.pop(owner, set()):
            for prop in list(self.props.get(key, {})):
                self.forget((key, prop))
            self.ids.pop(key, None)
            self.props.pop(key, None)

    def set_prop(self, key: str, prop: str, value) -> None:
        self.forget((key, prop))
        self.props.setdefault(key, {})[prop] = value
        if isinstance(value, (list, dict)):
            self.register(value, (key, prop))

    def apply_response(self, response: dict) -> list[tuple]:
        changed = []
        for key, props in response.items():
            for prop, value in props.items():
                if isinstance(value, dict) and "__dash_patch_update" in value:
                    changed.append((key, prop))  # a patch of a figure nobody reads back: not stored
                    continue
                if key in self.ids:
                    self.set_prop(key, prop, value)
                    changed.append((key, prop))
        return changed

    # -- callback chains, in dash-renderer's order -------------------------------------------
    def triggered_by(self, changed: list[tuple]) -> dict[int, list]:
        hits = defaultdict(list)
        for index, callback in enumerate(self.callbacks):
            for component, prop in callback.inputs:
                for key, changed_prop in changed:
                    if changed_prop == prop and (matches(component, self.ids.get(key)) if isinstance(component, dict)
                                                 else key == component):
                        hits[index].append((key, prop))
        return hits

    def run_chain(self, pending: dict[int, list]) -> None:
        """Send pending callbacks; one waits while another pending callback will change its inputs."""
        for _ in range(40):  # bounded: a chain of the atlas is 3 rounds deep
            if not pending:
                return
            ready = []
            for index in pending:
                upstream = set().union(*(self.callbacks[j].output_keys() for j in pending if j != index))
                if not any((id_key(c), p) in upstream for c, p in self.callbacks[index].inputs if not isinstance(c, dict)):
                    ready.append(index)
            for index in sorted(ready or pending):
                changed = pending.pop(index)
                for triggered, props in self.triggered_by(self.post_callback(self.callbacks[index], changed)).items():
                    pending.setdefault(triggered, []).extend(props)

    def change(self, component_id, prop: str, value) -> None:
        """A user's change of one prop, and every callback it sets off."""
        key = id_key(component_id)
        if key not in self.ids:
            return
        self.set_prop(key, prop, value)
        self.run_chain(self.triggered_by([(key, prop)]))

    # -- page loads ------------------------------------------------------------------
    def open_page(self, search: str = "") -> None:
        page = self.get("/", "GET /")
        if page is None:
            return
        first_visit, self.visited = not self.visited, True
        if first_visit:  # a first visit fetches the scripts; later visits have them cached
            for path in re.findall(r'<script src="([^"]+)"', page.text):
                self.get(path, "GET static")
        layout = self.get("/_dash-layout", "GET /_dash-layout")
        dependencies = self.get("/_dash-dependencies", "GET /_dash-dependencies")
        if layout is None or dependencies is None:
            return
        if first_visit:  # and the images the page shows (the first map's picture); they are cached too
            for path in set(re.findall(r'"src":\s*"(/[^"]+)"', layout.text)):
                self.get(path, "GET static")
        if dependencies.text not in self.callbacks_cache:  # parsed once for all users
            # Clientside callbacks run in the browser's JavaScript and cost the server nothing.
            self.callbacks_cache[dependencies.text] = [Callback(spec) for spec in dependencies.json()
                                                       if not spec.get("clientside_function")]
        self.callbacks = self.callbacks_cache[dependencies.text]
        self.ids, self.props, self.owned = {}, {}, defaultdict(set)
        self.register(layout.json(), None)
        self.props["url"].update(pathname="/", search=search, href=self.url + "/" + search)
        initial = {index: [] for index, callback in enumerate(self.callbacks)
                   if not callback.prevent_initial_call
                   and all(isinstance(c, dict) or id_key(c) in self.ids for c, _ in callback.inputs)}
        self.run_chain(initial)

    # -- what users do ---------------------------------------------------------------
    def option_values(self, component: str) -> list:
        options = self.props.get(component, {}).get("options") or []
        return [o["value"] for o in options if isinstance(o, dict) and not o.get("disabled")]

    def areas(self) -> list[str]:
        return [row["id"] for row in self.props.get("ranking", {}).get("data") or []]

    def clickable(self, kind: str) -> list:
        return [cid for cid in self.ids.values() if isinstance(cid, dict) and cid.get("type") == kind]

    def act(self, export_share: float) -> str:
        """One user action, chosen at random; returns its name."""
        if self.rng.random() < export_share:
            self.change("download-format", "value", "png")  # the menu's choice: no callback listens
            clicks = (self.props["download-button"].get("n_clicks") or 0) + 1
            self.change("download-button", "n_clicks", clicks)
            return "png_download"
        action = self.rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        getattr(self, "do_" + action)()
        return action

    def do_open(self):
        searches = ["", "?indicator=councils&level=district", "?zones=3&area=TH300101",
                    "?indicator=fund_members&zones=1,5&lang=en", "?level=zone&indicator=mpi_headcount"]
        self.open_page(self.rng.choice(searches))

    def do_indicator(self):
        values = [v for v in self.option_values("indicator") if v != self.props["indicator"].get("value")]
        if values:
            self.change("indicator", "value", self.rng.choice(values))

    def do_zones(self):
        zones = self.option_values("zones")
        chosen = sorted(self.rng.sample(zones, self.rng.choice([0, 1, 1, 2, 3])))
        self.change("zones", "value", chosen)

    def do_level(self):
        self.change("level", "value", self.rng.choice(self.option_values("level") or ["tambon"]))

    def do_year(self):
        self.change("year", "value", self.rng.choice(self.option_values("year") or ["latest"]))

    def do_language(self):
        self.change("lang", "value", "en" if self.props["lang"].get("value") == "th" else "th")

    def do_map_click(self):
        areas = self.areas()
        if areas:
            self.change("map", "clickData", {"points": [{"location": self.rng.choice(areas), "curveNumber": 0}]})

    def do_table_click(self):
        areas = self.areas()
        if areas:
            row = self.rng.randrange(min(len(areas), 15))  # the first page of the table
            self.change("ranking", "active_cell", {"row": row, "column": 1, "column_id": "name", "row_id": areas[row]})

    def do_panel_button(self):
        buttons = self.clickable("drill") + self.clickable("crumb") + self.clickable("panel-close")
        if buttons:
            button = self.rng.choice(buttons)
            self.change(button, "n_clicks", (self.props[id_key(button)].get("n_clicks") or 0) + 1)
        else:
            self.do_map_click()

    def do_sort(self):
        column = self.rng.choice(["name", "value", "rank", "district"])
        self.change("ranking", "sort_by", [{"column_id": column, "direction": self.rng.choice(["asc", "desc"])}])


# Relative frequency of each action (a PNG download is --export-share of all actions).
ACTIONS = {"open": 8, "indicator": 24, "zones": 15, "level": 7, "year": 4, "language": 3,
           "map_click": 18, "table_click": 7, "panel_button": 10, "sort": 4}


# -- measuring ------------------------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list] = defaultdict(list)
        self.sizes: dict[str, list] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.actions: dict[str, int] = defaultdict(int)

    def record(self, kind: str, seconds: float, size: int, status: int) -> None:
        with self.lock:
            self.times[kind].append(seconds * 1000)
            self.sizes[kind].append(size)
            if status not in (200, 204):
                self.errors[kind] += 1
                if len(self.samples) < 5:
                    self.samples.append(f"{kind}: HTTP {status}")

    def error(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.samples) < 5:
                self.samples.append(f"{kind}: {message[:200]}")


def user(url: str, recorder: Recorder, seed: int, deadline: float, think: tuple, export_share: float, cache: dict):
    rng = random.Random(seed)
    browser = Browser(url, recorder, rng, cache)
    try:
        browser.open_page()
        while time.monotonic() + think[0] < deadline:
            time.sleep(min(rng.uniform(*think), max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
            action = browser.act(export_share)
            with recorder.lock:
                recorder.actions[action] += 1
    except Exception as error:  # a crash of the simulated browser is an error, not a silent stop
        recorder.error("load-test client", repr(error))


def percentiles(values) -> tuple:
    return tuple(np.percentile(values, [50, 95, 99])) if len(values) else (float("nan"),) * 3


def report(recorder: Recorder, elapsed: float, args) -> None:
    actions = sum(recorder.actions.values())
    print(f"\n{args.users} users, {elapsed:.0f} s, think {args.think[0]:g}-{args.think[1]:g} s, "
          f"{actions:,} actions ({actions / elapsed:.1f}/s): "
          + ", ".join(f"{name} {count}" for name, count in sorted(recorder.actions.items())))
    print(f"{'request kind':<44} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean KB':>8}")
    callbacks = []
    for kind in sorted(recorder.times, key=lambda k: (k not in PAGE_KINDS, k)):
        times = recorder.times[kind]
        if kind not in PAGE_KINDS and kind != EXPORT_KIND:
            callbacks.extend(times)
        p50, p95, p99 = percentiles(times)
        print(f"{kind:<44} {len(times):>6} {recorder.errors.get(kind, 0):>6} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f} "
              f"{np.mean(recorder.sizes[kind]) / 1024:>8.1f}")
    total = sum(len(t) for t in recorder.times.values())
    errors = sum(recorder.errors.values())
    p50, p95, p99 = percentiles(callbacks)
    print(f"{'all interactive callbacks':<44} {len(callbacks):>6} {'':>6} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f}")
    print(f"requests {total:,}, errors {errors}, throughput {total / elapsed:.1f} requests/s "
          f"({len(callbacks) / elapsed:.1f} callbacks/s)")
    for sample in recorder.samples:
        print("  error:", sample)
    verdict = "met" if errors == 0 and p95 < 300 else "NOT met"
    print(f"target (zero errors, callback p95 < 300 ms): {verdict} (errors {errors}, p95 {p95:.0f} ms)")


def server_times(access_log: Path) -> None:
    """The server's own durations (gunicorn access log), free of the load generator's CPU share."""
    if not access_log.exists():
        return
    lines = access_log.read_text().splitlines()
    callback = [int(m.group(2)) for line in lines
                if (m := re.search(r'<(\d+)> "POST /_dash-update-component" \d+ \d+ (\d+)ms', line))]
    workers = defaultdict(int)
    for line in lines:
        if (m := re.search(r"<(\d+)>", line)):
            workers[m.group(1)] += 1
    p50, p95, p99 = percentiles(callback)
    print(f"server side, all callbacks incl. downloads: {len(callback):,} timed, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
          f"p99 {p99:.0f} ms; requests per worker: {', '.join(str(n) for n in workers.values())}")


# -- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def start_server(db: str, workers: int, folder: Path) -> tuple[subprocess.Popen, str, Path, Path]:
    port = free_port()
    access_log, log = folder / "access.log", folder / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "serve", "--db", db, "--port", str(port), "--workers", str(workers),
             "--access-log", str(access_log)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "ATLAS_SECRET_KEY": secrets.token_hex(32)},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return process, url, access_log, log
        except requests.RequestException:
            pass
        time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"server did not start in 300 s:\n{log.read_text()}")


def worker_pids(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log.read_text())]


def build_store(folder: Path, households: int) -> str:
    from geodata.demo import build_demo
    from geodata.store import open_store
    from layers.rasters import register_demo_raster

    db = folder / "atlas.duckdb"
    started = time.perf_counter()
    store = open_store(db)
    build_demo(store, households=households, seed=1, progress=False)
    register_demo_raster(store)  # as `python -m dashboard` builds its demo store
    print(f"demo store: {households:,} households in {time.perf_counter() - started:.0f} s")
    return str(db)


def run(args) -> int:
    folder = Path(tempfile.mkdtemp(prefix="atlas-load-"))
    process = None
    if args.url:
        if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("--url must be a loopback address")
        url, access_log, pids = args.url.rstrip("/"), folder / "none.log", []
    else:
        db = args.db or build_store(folder, args.households)
        started = time.perf_counter()
        process, url, access_log, log = start_server(db, args.workers, folder)
        pids = [process.pid, *worker_pids(log)]
        print(f"gunicorn: {args.workers} workers ready in {time.perf_counter() - started:.0f} s at {url} (log in {folder})")
    recorder, cache = Recorder(), {}
    cpu_before, driver_before = cpu_seconds(pids), time.process_time()
    started = time.monotonic()
    deadline = started + args.duration
    threads = []
    try:
        for number in range(args.users):
            thread = threading.Thread(target=user, daemon=True, args=(
                url, recorder, args.seed + number, deadline, tuple(args.think), args.export_share, cache))
            thread.start()
            threads.append(thread)
            time.sleep(1 / args.spawn_rate)
        for thread in threads:
            thread.join(timeout=max(1.0, deadline + 90 - time.monotonic()))  # bounded: requests time out at 60 s
        elapsed = time.monotonic() - started
        server_cpu, driver_cpu = cpu_seconds(pids) - cpu_before, time.process_time() - driver_before
        report(recorder, elapsed, args)
        server_times(access_log)
        if pids:
            print(f"CPU: server {server_cpu:.0f} s, load generator {driver_cpu:.0f} s, over {elapsed:.0f} s "
                  f"on {os.cpu_count()} cores")
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        if not args.db:  # the demo store built here; the logs stay for a look
            for built in folder.glob("atlas.duckdb*"):
                built.unlink()
    return 0 if sum(recorder.errors.values()) == 0 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--db", default=None, help="an existing store (default: a new demo store)")
    parser.add_argument("--households", type=int, default=900_000, help="demo store size (default 900000)")
    parser.add_argument("--url", default=None, help="use a running server on 127.0.0.1 instead of starting one")
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"),
                        help="seconds a user pauses between actions (default 2 8)")
    parser.add_argument("--export-share", type=float, default=0.01, help="share of actions that download a PNG")
    parser.add_argument("--seed", type=int, default=1)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
