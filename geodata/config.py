"""Where things live: project root, data folder, store, boundary mirror and cache.

Every location can be overridden by an environment variable so that the same
code serves a laptop, CI and a provincial server.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROVINCE = os.environ.get("ATLAS_PROVINCE", "TH30")


def data_dir() -> Path:
    return Path(os.environ.get("ATLAS_DATA_DIR", PROJECT_ROOT / "data"))


def default_db() -> str:
    """The store location: a DuckDB file path, or (later) a postgresql:// URL."""
    return os.environ.get("ATLAS_DB") or str(data_dir() / "atlas.duckdb")


def mirror_dir() -> Path | None:
    """A local folder holding the boundary files, used instead of downloading."""
    configured = os.environ.get("ATLAS_GEODATA_MIRROR")
    if configured:
        return Path(configured)
    sibling = PROJECT_ROOT.parent / "shared" / "geodata"
    return sibling if sibling.is_dir() else None


def cache_dir() -> Path:
    configured = os.environ.get("ATLAS_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "korat-atlas"
