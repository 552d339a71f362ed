"""A scored tiny county for the targeted checks, and empty case stores for the register."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score


@pytest.fixture(scope="session")
def full_ws(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every upload of the tiny county ingested and scored (never written to: tests copy)."""
    ws = tmp_path_factory.mktemp("complaints_full")
    ingest(
        Lake(ws / "lake"), [tiny_county / "reference", *sorted((tiny_county / "uploads").iterdir())]
    )
    score(ws, progress=False)
    return ws


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
