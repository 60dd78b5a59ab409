"""Production serving: the Dockerfile stays in step with the README's set-up, and
`python -m dashboard serve` really runs gunicorn with several workers that answer pages and callbacks."""
from __future__ import annotations

import ast
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import requests

from dashboard.state import View
from tests.browser import ROOT, free_port, wait_until_healthy
from tests.dash_client import call

PROJECT_PACKAGES = ("geodata", "layers", "callbacks", "dashboard", "benchmarks", "tests")
FRAME_ORIGIN = "https://intranet.korat.example"


# -- the Dockerfile and the README's set-up -----------------------------------------------------
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", re.sub(r"(?m)^\s*#.*\n", "", text))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip()]


def instruction(name: str) -> list[str]:
    return [args for kind, args in dockerfile_instructions() if kind == name]


def exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def makefile_system_packages() -> set[str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    return set(re.search(r"^SYSTEM_PACKAGES\s*:=(.*)$", text, re.M).group(1).split())


def dockerfile_apt_packages() -> set[str]:
    packages = set()
    for run in instruction("RUN"):
        for command in run.split("&&"):
            if "apt-get install" in command:
                packages |= {word for word in command.split("install", 1)[1].split() if not word.startswith("-")}
    return packages


def test_image_is_python_311_slim_and_runs_as_a_normal_user():
    assert instruction("FROM")[-1] == "python:3.11-slim", "the served image is python:3.11-slim"
    users = instruction("USER")
    assert users and users[-1] not in ("root", "0", "0:0"), "the server must not run as root"


def test_image_installs_the_readme_requirements_file():
    assert any(exec_form(args)[0] == "requirements.txt" for args in instruction("COPY"))
    assert any(re.search(r"\bpip install (-\S+ )*-r requirements\.txt\b", run) for run in instruction("RUN"))
    assert "-r requirements.txt" in (ROOT / "Makefile").read_text(), "the Makefile installs from the same file"


def test_image_serves_with_the_documented_command():
    command = exec_form(instruction("CMD")[-1])
    assert command[:4] == ["python", "-m", "dashboard", "serve"]
    port = command[command.index("--port") + 1]
    assert command[command.index("--host") + 1] == "0.0.0.0", "a container must listen beyond its loopback"
    assert instruction("EXPOSE") == [port]
    assert " ".join(command) in (ROOT / "docs" / "deploy.md").read_text(), "docs/deploy.md shows the same command"


def test_image_builds_the_partial_plotly_bundle_as_the_makefile_does():
    makefile = (ROOT / "Makefile").read_text()
    for step in ("npm ci --no-audit --no-fund --ignore-scripts", "npm run --silent build"):
        assert step in makefile
        assert any(step in run for run in instruction("RUN")), f"the image does not run `{step}`"
    assert any("dashboard/plotlyjs/" in args for args in instruction("COPY"))
    copied = [exec_form(args) for args in instruction("COPY") if args.startswith("--from=")]
    assert any(a[-1] == "dashboard/assets/" and any(s.endswith("plotly-map.min.js") for s in a) for a in copied), \
        "the bundle must land in dashboard/assets/, where Dash serves it before the app starts"


def test_healthcheck_asks_healthz_on_the_served_port():
    (check,) = instruction("HEALTHCHECK")
    port = exec_form(instruction("CMD")[-1])[exec_form(instruction("CMD")[-1]).index("--port") + 1]
    assert f"127.0.0.1:{port}/healthz" in check
    assert "curl" not in check and "wget" not in check, "python:3.11-slim has neither"


def test_image_has_chromium_and_thai_fonts_from_the_makefile_list():
    apt = dockerfile_apt_packages()
    assert {"chromium", "fonts-thai-tlwg", "fonts-noto-core"} <= apt
    assert apt <= makefile_system_packages(), f"not in the Makefile's SYSTEM_PACKAGES: {apt - makefile_system_packages()}"


def test_image_bakes_boundaries_and_keeps_the_store_in_a_volume():
    env = " ".join(instruction("ENV"))
    assert "ATLAS_DB=/data/" in env and "ATLAS_CACHE_DIR=" in env
    assert any("python -m geodata boundaries --level tambon" in run for run in instruction("RUN"))
    assert any("/data" in volume for volume in instruction("VOLUME"))


def test_dockerignore_keeps_environments_stores_and_output_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "data", "test-artifacts", "*.duckdb", ".git", "**/node_modules"} <= ignored


def requirement_names() -> set[str]:
    names = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0])
        if match:
            names.add(normalise(match.group(1)))
    return names


def normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def third_party_imports() -> dict[str, str]:
    """Every imported top-level module outside the standard library and the project -> first file."""
    found = {}
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.split(".")[0], str(path.relative_to(ROOT)))
    ignored = set(sys.stdlib_module_names) | set(PROJECT_PACKAGES) | {"__future__"}
    return {module: path for module, path in found.items() if module not in ignored}


def test_every_import_is_declared_in_requirements():
    distributions = packages_distributions()
    declared = requirement_names()
    undeclared = {
        module: path for module, path in third_party_imports().items()
        if not {normalise(d) for d in distributions.get(module, [])} & declared
    }
    assert not undeclared, f"imported but not in requirements.txt (module: first file): {undeclared}"


def test_baked_boundaries_let_a_container_start_offline(tmp_path):
    """The Dockerfile's build-time boundary commands leave everything the first start needs."""
    cache = tmp_path / "cache"
    build_env = {**os.environ, "ATLAS_CACHE_DIR": str(cache)}
    for run in instruction("RUN"):
        for command in run.split("&&"):
            if "python -m geodata boundaries" in command:
                argv = shlex.split(command.split(">")[0])
                subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, env=build_env, check=True,
                               stdout=subprocess.DEVNULL, timeout=300)
    empty_mirror = tmp_path / "no-mirror"
    empty_mirror.mkdir()
    offline = {**build_env, "ATLAS_GEODATA_MIRROR": str(empty_mirror),
               "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    first_start = (
        "import sys; from geodata.demo import build_demo; from geodata.store import open_store; "
        "from layers.atlas import Atlas; store = open_store(sys.argv[1]); "
        "build_demo(store, households=2000, seed=3, progress=False); Atlas(store).warm(); "
        "print(len(Atlas(store).geojson('tambon')['features']))"
    )
    result = subprocess.run([sys.executable, "-c", first_start, str(tmp_path / "atlas.duckdb")], cwd=ROOT,
                            env=offline, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "289"


# -- gunicorn with two workers -------------------------------------------------------------------
class Gunicorn:
    """`python -m dashboard serve --workers 2` in a subprocess, with its log and access log."""

    def __init__(self, db: Path, folder: Path, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        self.access_path = folder / "access.log"
        env = {**os.environ, "ATLAS_FRAME_ANCESTORS": FRAME_ORIGIN}
        env.pop("ATLAS_SECRET_KEY", None)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dashboard", "serve", "--db", str(db), "--port", str(self.port),
                 "--workers", str(workers), "--access-log", str(self.access_path)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        self.wait_until_healthy()

    def wait_until_healthy(self, seconds: float = 180) -> None:
        wait_until_healthy(self.url, self.process, self.log, seconds)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def booted_workers(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.log())]

    def access_lines(self) -> list[str]:
        return self.access_path.read_text().splitlines() if self.access_path.exists() else []

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def parent_pid(pid: int) -> int | None:
    try:
        # The command name in field 2 may hold spaces; the fields after its ")" are plain.
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from geodata.demo import build_demo
    from geodata.store import open_store

    folder = tmp_path_factory.mktemp("serving")
    db = folder / "atlas.duckdb"
    build_demo(open_store(db), households=20_000, seed=3, progress=False)
    server = Gunicorn(db, folder)
    yield server
    if server.process.poll() is None:
        server.stop()


class HttpClient:
    """The `client.post(...)` of tests/dash_client.py, over real HTTP."""

    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()

    def post(self, path: str, data: str, content_type: str):
        response = self.session.post(self.url + path, data=data, headers={"Content-Type": content_type}, timeout=60)
        response.get_json = response.json
        return response


class ServedCallbacks:
    """The `app` of tests/dash_client.py: its callback map, read from the server as the browser does."""

    def __init__(self, url: str):
        dependencies = requests.get(url + "/_dash-dependencies", timeout=30).json()
        self.callback_map = {d["output"]: {"inputs": d["inputs"], "state": d["state"]} for d in dependencies}


def view_data(**changes) -> dict:
    return View().with_(**changes).to_dict()


def test_serve_starts_gunicorn_with_two_forked_workers(served):
    log = served.log()
    assert "Starting gunicorn" in log and "Using worker: gthread" in log
    assert "ATLAS_SECRET_KEY is not set" in log, "a server without a fixed key says so"
    # /healthz answers once the first worker is up; the second may still be booting.
    deadline = time.monotonic() + 60
    while len(served.booted_workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = served.booted_workers()
    assert len(workers) == 2
    assert all(parent_pid(pid) == served.process.pid for pid in workers), "workers are children of the master"


def test_healthz_answers_json(served):
    response = requests.get(served.url + "/healthz", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok", "store": "duckdb"}


def test_page_is_the_dash_shell_with_frame_ancestors(served):
    response = requests.get(served.url + "/", timeout=10)
    assert response.status_code == 200
    assert 'id="react-entry-point"' in response.text and "_dash-config" in response.text
    assert "Korat Development Atlas" in response.text
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {FRAME_ORIGIN}" in policy
    layout = requests.get(served.url + "/_dash-layout", timeout=10)
    assert layout.status_code == 200 and '"id": "map"' in json.dumps(layout.json())


def test_callbacks_work_on_both_workers(served):
    client, app = HttpClient(served.url), ServedCallbacks(served.url)
    restored = call(client, app, "view.data", {"url.search": "?indicator=councils&zones=3&lang=en"})
    assert restored.status_code == 200
    assert restored.json()["response"]["view"]["data"]["zones"] == [3]

    # Cut-offs and years that were not warmed before the fork make each worker query DuckDB itself.
    views = [view_data(mpi_cutoff=cutoff, year=year) for cutoff in (0.2, 0.4, 0.6) for year in (None, 2023, 2024)]

    def ranking(view):
        response = call(HttpClient(served.url), app, "ranking.data", {"view.data": view, "ranking.sort_by": []})
        return response.status_code, len(response.json()["response"]["ranking"]["data"])

    answering = set()
    for _ in range(5):  # the kernel picks which worker accepts; a few rounds reach both
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(ranking, views * 3))
        assert results == [(200, 289)] * len(results)
        answering = {m.group(1) for line in served.access_lines()
                     if (m := re.search(r"<(\d+)> \"POST /_dash-update-component\" 200", line))}
        if len(answering) == 2:
            break
    assert answering == {str(pid) for pid in served.booted_workers()}

    patch = call(client, app, "map.figure", {"view.data": view_data(indicator="councils", zones=[3]),
                                             "map-state.data": {"focus": "tambon||", "overlay": ""}})
    assert patch.status_code == 200 and len(patch.content) < 20_000
    assert patch.json()["response"]["map"]["figure"]["__dash_patch_update"]


def test_serve_refuses_a_province_the_store_lacks_in_one_line(served, tmp_path):
    db = re.search(r"--db (\S+)", " ".join(served.process.args)).group(1)
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "serve", "--db", db, "--province", "TH10", "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "error:" in result.stderr and "TH10" in result.stderr and "Traceback" not in result.stderr
    assert "Starting gunicorn" not in result.stderr


def test_serve_stops_cleanly_on_sigterm(served):
    workers = served.booted_workers()
    assert served.stop() == 0
    assert "Shutting down: Master" in served.log()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers), "workers outlived the master"
