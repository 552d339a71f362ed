"""A scored tiny county, shared by the case-store CLI and review-learning tests.

Tests never write into it: each copies the run outputs (all that deciding and learning
read) into a workspace of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


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


# Every test here runs on both backends, SQLite and PostgreSQL: helpers.case_backends
# (through tests/conftest.py's pytest_generate_tests).
