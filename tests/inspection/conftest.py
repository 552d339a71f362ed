"""A scored tiny county, and workspaces that share its lake and runs but each keep their own
case store, so rounds planned in one test do not rotate another's groups."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspection_staff import staff

from hrss_fraud.cases import open_store
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score


@pytest.fixture(scope="session")
def scored_county(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("inspection")
    months = sorted((tiny_county / "uploads").iterdir())
    ingest(Lake(ws / "lake"), [tiny_county / "reference", *months])
    score(ws, progress=False)
    return ws


@pytest.fixture
def ws(scored_county: Path, tmp_path: Path) -> Path:
    """A workspace reading the scored county's lake and runs, with an empty case store."""
    out = tmp_path / "ws"
    out.mkdir()
    for name in ("lake", "runs"):
        (out / name).symlink_to(scored_county / name, target_is_directory=True)
    return out


@pytest.fixture
def staffed(ws: Path) -> Path:
    with open_store(ws) as store:
        staff(store, Lake(ws / "lake"))
    return ws
