"""A scored tiny county, and workspaces that share its lake and runs but each keep their own
case store, so rounds planned in one test do not rotate another's groups."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.inspection_staff import staff

from hrss_fraud.cases import open_store
from hrss_fraud.lake import Lake


@pytest.fixture(scope="session")
def scored_county(scored_tiny_county: Path) -> Path:
    """The run's one scored tiny county (tests/conftest.py): read only."""
    return scored_tiny_county


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
