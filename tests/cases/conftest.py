"""A scored tiny county, shared by the case-store CLI and review-learning tests.

Tests never write into it: each copies the run outputs (all that deciding and learning
read) into a workspace of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score


@pytest.fixture(scope="session")
def scored_ws(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("scored")
    months = sorted((tiny_county / "uploads").iterdir())
    ingest(Lake(ws / "lake"), [tiny_county / "reference", *months])
    score(ws, progress=False)
    return ws


@pytest.fixture
def run_ws(scored_ws: Path, tmp_path: Path) -> Path:
    """A fresh workspace holding the scored county's runs and nothing else."""
    ws = tmp_path / "ws"
    shutil.copytree(scored_ws / "runs", ws / "runs")
    return ws
