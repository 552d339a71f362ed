"""Two workspaces: a hand-made run of five leads with exact expectations, and the tiny
generated county scored once per run for the detail and overview checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.small_run import INSTITUTIONS, SMALL_RUN, publish_small, small_findings

from hrss_fraud.cases.store import CaseStore, open_store
from hrss_fraud.outputs.runs_view import RunView, open_view


@pytest.fixture(scope="session")
def small_view(tmp_path_factory: pytest.TempPathFactory) -> RunView:
    ws = tmp_path_factory.mktemp("small")
    run = publish_small(ws, SMALL_RUN, small_findings())
    return RunView(ws, run, INSTITUTIONS)


@pytest.fixture(scope="session")
def county_ws(scored_tiny_county: Path) -> Path:
    """The run's one scored tiny county (tests/conftest.py): read only; tests that write
    (decisions, marts, a second run) copy it or link its lake from a workspace of their own."""
    return scored_tiny_county


@pytest.fixture(scope="session")
def county_view(county_ws: Path) -> RunView:
    return open_view(county_ws)


@pytest.fixture(scope="session")
def profile_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made lake of three peer hospitals and its run (profile_lake.py)."""
    from helpers.profile_lake import publish_run, write_lake

    ws = tmp_path_factory.mktemp("profiles")
    write_lake(ws)
    publish_run(ws)
    return ws


@pytest.fixture(scope="session")
def profile_view(profile_ws: Path) -> RunView:
    return open_view(profile_ws)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    """An empty case store of the test's own: decisions and flags never touch the county's."""
    with open_store(tmp_path) as s:
        yield s
