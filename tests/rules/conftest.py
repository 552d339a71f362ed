"""A fully scored tiny county, shared by the scoring tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.shared import copy_workspace


@pytest.fixture(scope="session")
def full_ws(scored_tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every upload of the tiny county ingested and scored in full: this worker's copy of
    the run's one scored county (tests/conftest.py), since some tests here score it again
    (adding runs) or export from it; tests that change it otherwise work on a copy."""
    return copy_workspace(scored_tiny_county, tmp_path_factory.mktemp("full") / "ws")
