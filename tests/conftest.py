import os
from pathlib import Path

import pytest

from geodata.store import open_store

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def store(tmp_path):
    """A fresh, empty DuckDB store with the real TH30 tambons and default zones."""
    return open_store(tmp_path / "atlas.duckdb")


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
