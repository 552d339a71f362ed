"""A scored tiny county, shared by the case-store CLI and review-learning tests.

Tests never write into it: each copies the run outputs (all that deciding and learning
read) into a workspace of its own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import pgserver

from hrss_fraud.cases.store import CASE_STORE_ENV, open_store


@pytest.fixture(scope="session")
def scored_ws(scored_tiny_county: Path) -> Path:
    """The run's one scored tiny county (tests/conftest.py): read only."""
    return scored_tiny_county


@pytest.fixture
def run_ws(scored_ws: Path, tmp_path: Path) -> Path:
    """A fresh workspace holding the scored county's runs and nothing else."""
    ws = tmp_path / "ws"
    shutil.copytree(scored_ws / "runs", ws / "runs")
    return ws


# --- The case store on PostgreSQL ------------------------------------------------------
# Every test here runs twice, on the workspace's SQLite file and on a fresh database of a
# PostgreSQL server this session starts (helpers.pgserver); a test that opens the SQLite
# file itself is marked ``sqlite_only`` and runs once.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: reaches into the SQLite file itself; not run on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.endswith("test_postgres"):
        return  # PostgreSQL's own tests, each on the database it sets up
    if "store_backend" in metafunc.fixturenames:
        only = (
            metafunc.definition.get_closest_marker("sqlite_only") is not None
            # a module-scoped store (test_reviews.py) is made once, before any backend
            or "reviewed" in metafunc.fixturenames
        )
        backends = ["sqlite"] if only else ["sqlite", "postgresql"]
        metafunc.parametrize("store_backend", backends, indirect=True)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pgserver.Server]:
    """One PostgreSQL server for the session, with a migrated template database."""
    reason = pgserver.unavailable()
    if reason:
        pytest.skip(f"case store on PostgreSQL not tested: {reason}")
    server = pgserver.start()
    try:
        with server.admin() as con:
            con.execute(f"CREATE DATABASE {pgserver.TEMPLATE}")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(CASE_STORE_ENV, server.url(pgserver.TEMPLATE))
            open_store(tmp_path_factory.mktemp("template")).close()
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``sqlite`` (the workspace's file) or ``postgresql`` (``$HRSS_FRAUD_CASE_STORE`` set
    to a fresh database, dropped after the test)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        monkeypatch.delenv(CASE_STORE_ENV, raising=False)
        yield backend
        return
    server: pgserver.Server = request.getfixturevalue("postgres_server")
    url = server.fresh_database()
    monkeypatch.setenv(CASE_STORE_ENV, url)
    yield backend
    server.drop(url)
