"""Zones and inspection groups for the rounds tests of the dashboard (a module of its own,
not conftest, so that the browser tests import it too)."""

from __future__ import annotations

from pathlib import Path

from hrss_fraud.cases.store import open_store
from hrss_fraud.inspection import registry
from hrss_fraud.lake import Lake


def staff(ws: Path, *, groups: int = 3, prefix: str = "") -> None:
    """Zones synced from the lake, ``groups`` groups of two inspectors each."""
    with open_store(ws) as store:
        registry.sync_zones(store, Lake(ws / "lake"), by="test")
        for i in range(2 * groups):
            registry.add_inspector(store, f"{prefix}I{i}", f"检查员{i}", by="test")
        for g in range(groups):
            members = [f"{prefix}I{2 * g}", f"{prefix}I{2 * g + 1}"]
            registry.add_group(store, f"{prefix}G{g}", f"第{g + 1}组", members, by="test")
