"""Staff for the rounds tests: zones, inspectors, groups and one conflict of interest.

A module of its own (not conftest) so that test modules can import it by a name no other
test folder uses."""

from __future__ import annotations

from hrss_fraud.cases import CaseStore
from hrss_fraud.inspection import registry
from hrss_fraud.lake import Lake

CONFLICTED = "H13012300017"
"""An institution of the seed-11 county that the risk ranking puts first, alone in its zone
among the top five: a first round of the top five alone leaves a second round, whatever it
draws, a group that may visit it (neither conflicted nor there last round)."""


def staff(store: CaseStore, lake: Lake, groups: int = 3) -> None:
    """Zones synced, two inspectors per group, I0 conflicted with :data:`CONFLICTED`."""
    registry.sync_zones(store, lake, by="tester")
    for i in range(2 * groups):
        registry.add_inspector(store, f"I{i}", f"检查员{i}", by="tester")
    for g in range(groups):
        registry.add_group(store, f"G{g}", f"第{g + 1}组", [f"I{2 * g}", f"I{2 * g + 1}"], by="t")
    registry.add_conflict(store, "I0", CONFLICTED, "配偶在该机构任职", by="tester")
