"""Shared helpers for real-browser tests: a demo store, a served app, headless Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_demo_store(path: Path, households: int = 40_000, raster: bool = False) -> Path:
    """A synthetic store as `make run` builds it; with raster=True also the derived access raster,
    written beside the store."""
    from geodata.demo import build_demo
    from geodata.store import open_store

    store = open_store(path)
    build_demo(store, households=households, seed=7, progress=False)
    if raster:
        from layers.rasters import register_demo_raster

        previous = os.environ.get("ATLAS_DATA_DIR")
        os.environ["ATLAS_DATA_DIR"] = str(path.parent)
        try:
            register_demo_raster(store)
        finally:
            if previous is None:
                os.environ.pop("ATLAS_DATA_DIR")
            else:
                os.environ["ATLAS_DATA_DIR"] = previous
    return path


def wait_until_healthy(url: str, process: subprocess.Popen, log, seconds: float = 180) -> None:
    """Wait for `url`/healthz to answer; fail with the server's log if it exits or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log()}")
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not start: {log()}")


class ServedApp:
    """`python -m dashboard` in a subprocess, as a user starts it."""

    def __init__(self, db: Path, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **(extra_env or {})}
        self.log = tempfile.NamedTemporaryFile(prefix="dashboard-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--db", str(db), "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_until_healthy(self.url, self.process, lambda: Path(self.log.name).read_text(), seconds=120)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def launch_chromium(playwright, viewport=(1600, 1000), **context_options):
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is missing: `make test` installs Debian's chromium package")
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(prefix="chromium-"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        headless=True, viewport={"width": viewport[0], "height": viewport[1]}, **context_options,
    )
