"""A scored tiny county, and workspaces that share its lake and runs but each keep their own
case store, so rounds planned in one test do not rotate another's groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.inspection import registry
from hrss_fraud.lake import Lake
from hrss_fraud.rules.score import score

CONFLICTED = "H13012300017"
"""An institution of the seed-11 county that the risk ranking puts first, alone in its zone
among the top five: a first round of the top five alone leaves a second round, whatever it
draws, a group that may visit it (neither conflicted nor there last round)."""


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


def staff(store: CaseStore, lake: Lake, groups: int = 3) -> None:
    """Zones synced, two inspectors per group, I0 conflicted with :data:`CONFLICTED`."""
    registry.sync_zones(store, lake, by="tester")
    for i in range(2 * groups):
        registry.add_inspector(store, f"I{i}", f"检查员{i}", by="tester")
    for g in range(groups):
        registry.add_group(store, f"G{g}", f"第{g + 1}组", [f"I{2 * g}", f"I{2 * g + 1}"], by="t")
    registry.add_conflict(store, "I0", CONFLICTED, "配偶在该机构任职", by="tester")


@pytest.fixture
def staffed(ws: Path) -> Path:
    with open_store(ws) as store:
        staff(store, Lake(ws / "lake"))
    return ws
