"""The case-store tests on both backends: the workspace's SQLite file, and a fresh
database of a PostgreSQL server the session starts (:mod:`helpers.pgserver`).

tests/conftest.py hands its ``pytest_generate_tests`` here: each test of tests/cases and
of the store-level modules in :data:`BOTH` (:data:`MORE` on request) runs twice,
``[sqlite]`` and ``[postgresql]``. A test that opens the SQLite file itself is marked
``sqlite_only`` and runs once; so is one that uses a store built once per module
(:data:`MODULE_STORES`), which a per-test backend cannot switch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import pgserver

CASE_STORE_ENV = "HRSS_FRAUD_CASE_STORE"  # hrss_fraud.cases.store's, not imported at collection

TESTS = Path(__file__).resolve().parents[1]
BOTH_FOLDERS = ("cases",)
BOTH = (
    "notices/test_lifecycle.py",
    "notices/test_numbering.py",
    "complaints/test_register.py",
    "registers/test_rectification.py",
    "registers/test_disclosure.py",  # date(?, '+' || ? || ' days')
    "inspection/test_rounds.py",  # ORDER BY rowid
)
MORE = (
    "registers/test_labour_cases.py",
    "registers/test_entities.py",
    "registers/test_inspections.py",
    "registers/test_documents.py",
    "inspection/test_refusals.py",
    "notices/test_late_statement_refusal.py",
    "dashboard/test_auth.py",
    "dashboard/test_audit.py",
    "dashboard/test_case_queue.py",
    "dashboard/test_roles_flags.py",
)
"""Store-level modules that pass on PostgreSQL too, run on both only when
``$HRSS_FRAUD_TEST_ALL_BACKENDS=1`` (they would add minutes to every test run)."""
OWN = ("cases/test_postgres.py",)
"""Modules that set up PostgreSQL themselves."""
MODULE_STORES = ("reviewed",)
"""Module-scoped fixtures that write a store (tests/cases/test_reviews.py)."""


def _runs_on_both(path: Path) -> bool:
    try:
        rel = path.resolve().relative_to(TESTS).as_posix()
    except ValueError:
        return False
    if rel in OWN:
        return False
    more = MORE if os.environ.get("HRSS_FRAUD_TEST_ALL_BACKENDS") == "1" else ()
    return rel in BOTH or rel in more or rel.split("/", 1)[0] in BOTH_FOLDERS


def generate(metafunc: pytest.Metafunc) -> None:
    """Parametrise a test of a module in :data:`BOTH` by ``store_backend``."""
    if not _runs_on_both(Path(metafunc.definition.path)):
        return
    only = metafunc.definition.get_closest_marker("sqlite_only") is not None or any(
        f in metafunc.fixturenames for f in MODULE_STORES
    )
    if "store_backend" not in metafunc.fixturenames:
        metafunc.fixturenames.append("store_backend")  # requested, as if named
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
        # start-up cost: tests/conftest.py imports this module for every test run
        from hrss_fraud.cases.store import open_store

        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(CASE_STORE_ENV, server.url(pgserver.TEMPLATE))
            open_store(tmp_path_factory.mktemp("template")).close()
        yield server
    finally:
        server.stop()


@pytest.fixture
def store_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``sqlite`` (the workspace's file) or ``postgresql`` (``$HRSS_FRAUD_CASE_STORE`` set
    to a fresh database copied from the migrated template, dropped after the test)."""
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
