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


# -- PostgreSQL: one throw-away cluster per test session (never skipped) -------
@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL 15 cluster on a free 127.0.0.1 port, deleted after the session.

    Missing PostgreSQL or PostGIS fails the tests that need it, with the reason."""
    from tests.pg import PostgresUnavailable, ThrowAwayCluster

    try:
        cluster = ThrowAwayCluster().start()
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_url(pg_cluster):
    """URL of a session-wide database with PostGIS installed and no store tables yet."""
    return pg_cluster.create_database("atlas")


@pytest.fixture(scope="session")
def pg_template(pg_cluster):
    """Name of a database holding a complete new store (schema, boundaries, tambons, zones),
    copied for each test because copying is much faster than creating."""
    open_store(pg_cluster.create_database("atlas_template"))
    return "atlas_template"


@pytest.fixture
def pg_store_url(pg_cluster, pg_template):
    """URL of a fresh database that already holds an empty store; dropped after the test."""
    url = pg_cluster.create_database(template=pg_template)
    yield url
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=["duckdb", "postgresql"])
def any_store(request, tmp_path):
    """A fresh, empty store of each backend: the same test runs against both."""
    if request.param == "duckdb":
        return open_store(tmp_path / "atlas.duckdb")
    return open_store(request.getfixturevalue("pg_store_url"))


@pytest.fixture
def both_stores(tmp_path, pg_store_url):
    """A fresh DuckDB store and a fresh PostgreSQL store, to compare their answers."""
    return open_store(tmp_path / "atlas.duckdb"), open_store(pg_store_url)


@pytest.fixture(autouse=True)
def _isolated_indicator_registry():
    """Indicators registered at run time (rasters, rates) by one test do not leak into the next."""
    from layers import registry

    saved = dict(registry._REGISTRY)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)
