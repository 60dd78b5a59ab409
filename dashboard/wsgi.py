"""The WSGI entry point for production servers: `gunicorn dashboard.wsgi:server`.

Configured only by environment variables, so a container, a systemd unit and
`python -m dashboard serve` all set it up the same way:

    ATLAS_DB               the store: a DuckDB file or a postgresql:// URL (default data/atlas.duckdb)
    ATLAS_PROVINCE         the province shown from a national store (default: the store's own)
    ATLAS_SECRET_KEY       signs session cookies; must be the same in every worker and survive
                           restarts, so set it in production (without it a random key is made
                           when the app is built: once, before forking, with --preload)
    ATLAS_FRAME_ANCESTORS  extra origins allowed to embed the app in an <iframe> (read by dashboard.app)

The first use of `server` builds the app and warms the atlas caches; with
gunicorn's `--preload` that happens once, before the workers are forked.
Importing the module alone builds nothing, so tests and tools can import it.
"""
from __future__ import annotations

import logging
import os

import flask

from geodata import config

log = logging.getLogger(__name__)


def create_server(db: str | None = None, province: str | None = None) -> flask.Flask:
    """The Flask server of a fully configured, warmed atlas app."""
    from .app import create_app

    location = db or config.default_db()
    if "://" not in location and not os.path.exists(location):
        # open_store would create an empty store, which serves blank maps; say why.
        log.warning("no store at %s: a new empty store is created (`python -m dashboard serve` "
                    "builds the demo data instead)", location)
    # The session key comes from ATLAS_SECRET_KEY inside create_app (dashboard/auth.py).
    return create_app(location, province=province or os.environ.get("ATLAS_PROVINCE") or None).server


_built: dict[str, flask.Flask] = {}


def __getattr__(name: str):
    # `dashboard.wsgi:server` is built on first access (gunicorn looks it up with getattr).
    if name != "server":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if "server" not in _built:
        _built["server"] = create_server()
    return _built["server"]
