"""A scored tiny county for the targeted checks, and empty case stores for the register."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hrss_fraud.cases import CaseStore, open_store


@pytest.fixture(scope="session")
def full_ws(scored_tiny_county: Path) -> Path:
    """Every upload of the tiny county ingested and scored: the run's one scored county
    (tests/conftest.py), never written to: tests copy."""
    return scored_tiny_county


@pytest.fixture
def ws(full_ws: Path, tmp_path: Path) -> Path:
    """A workspace of this test's own: the county's lake and runs, a fresh case store."""
    out = tmp_path / "ws"
    shutil.copytree(full_ws / "lake", out / "lake")
    shutil.copytree(full_ws / "runs", out / "runs")
    return out


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    with open_store(tmp_path / "empty") as s:
        yield s
