"""A fully scored tiny county, shared by the scoring tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score


@pytest.fixture(scope="session")
def full_ws(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every upload of the tiny county ingested and scored in full (tests that score it
    again or change it work on a copy, or only add runs)."""
    ws = tmp_path_factory.mktemp("full")
    ingest(
        Lake(ws / "lake"), [tiny_county / "reference", *sorted((tiny_county / "uploads").iterdir())]
    )
    score(ws)
    return ws
