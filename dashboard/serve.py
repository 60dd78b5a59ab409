"""`python -m dashboard serve`: the atlas behind gunicorn, as in production.

    python -m dashboard serve [--db PATH] [--province TH30] [--host 127.0.0.1] [--port 8050]
                              [--workers N] [--threads N] [--timeout S] [--access-log FILE]

The container runs this command; it serves `dashboard.wsgi:server`. The app is
built once in the parent (preload), so the atlas caches are warmed, and the
session key is made, before the workers are forked; they share both. Forking is safe because no
store connection stays open: every store call opens and closes its own, and
Chromium for exports starts lazily inside each worker.
"""
from __future__ import annotations

import argparse
import os
import sys

from geodata import config


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def default_workers() -> int:
    # Callbacks are CPU-bound Python, so one process per core; threads cover the waits (exports, I/O).
    return env_int("ATLAS_WORKERS", min(max(2, os.cpu_count() or 1), 8))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard serve",
        description="Serve the atlas with gunicorn (several worker processes), as in production.")
    parser.add_argument("--db", default=None, help=f"store (default: $ATLAS_DB or {config.default_db()})")
    parser.add_argument("--province", default=None,
                        help="province P-code to show from a national store, e.g. TH10 (default: $ATLAS_PROVINCE or TH30)")
    parser.add_argument("--host", default=os.environ.get("ATLAS_HOST", "127.0.0.1"),
                        help="address to listen on (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=env_int("ATLAS_PORT", 8050))
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="worker processes (default: $ATLAS_WORKERS or one per CPU core, 2 to 8)")
    parser.add_argument("--threads", type=int, default=env_int("ATLAS_THREADS", 4),
                        help="threads per worker (default: $ATLAS_THREADS or 4)")
    parser.add_argument("--timeout", type=int, default=env_int("ATLAS_TIMEOUT", 120),
                        help="seconds before a stuck worker is restarted (default 120: deck exports are slow)")
    parser.add_argument("--access-log", default=os.environ.get("ATLAS_ACCESS_LOG"),
                        help="file for the access log, '-' for standard output (default: none)")
    return parser


def warn_without_secret_key() -> None:
    """Say what a missing ATLAS_SECRET_KEY means here.

    The app (and its key) is built once in this process before the workers are
    forked, so every worker signs with the same key; but a random key is lost at
    restart, and the app refuses to start without one when logins are configured.
    """
    if not os.environ.get("ATLAS_SECRET_KEY", "").strip():
        print("warning: ATLAS_SECRET_KEY is not set; sessions are signed with a random key made at start "
              "(shared by all workers, lost at restart). Set it in production.", file=sys.stderr)


def gunicorn_options(args) -> dict:
    return {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "gthread",
        "timeout": args.timeout,
        "graceful_timeout": 20,
        # Keep a browser's connection open across a user's pauses (gunicorn's 2 s default makes
        # the server close it just as the next click reuses it, which the browser sees as a reset).
        "keepalive": 75,
        "preload_app": True,
        "accesslog": args.access_log,
        # worker <pid>, method, path, status, bytes, duration in ms: enough to find slow callbacks
        "access_log_format": '%(h)s %(t)s %(p)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
        "errorlog": "-",
        "proc_name": "korat-atlas",
        # gunicorn's control socket lives in $HOME and would clash between servers; nothing uses it.
        "control_socket_disable": True,
    }


def run_gunicorn(server, options: dict) -> None:
    from gunicorn.app.base import BaseApplication

    class AtlasApplication(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                if key in self.cfg.settings:  # settings differ a little between gunicorn versions
                    self.cfg.set(key, value)

        def load(self):
            return server

    AtlasApplication(prog="python -m dashboard serve").run()


def main(argv: list[str] | None = None) -> int:
    from .__main__ import ensure_store
    from .wsgi import create_server

    args = build_parser().parse_args(argv)
    db = ensure_store(args.db or config.default_db())  # the same demo store as `python -m dashboard`
    # dashboard.wsgi reads its configuration from the environment only; keep both in step.
    os.environ["ATLAS_DB"] = db
    if args.province:
        os.environ["ATLAS_PROVINCE"] = args.province
    warn_without_secret_key()
    try:
        # Built here, before gunicorn starts, so that a configuration error is one clear line.
        server = create_server(db, args.province)
    except (ValueError, RuntimeError) as error:  # a province the store lacks, logins without a key
        print(f"error: {error}", file=sys.stderr)
        return 1
    # create_app imports mapclassify in a background thread; finish that before forking.
    import mapclassify  # noqa: F401

    run_gunicorn(server, gunicorn_options(args))
    return 0
