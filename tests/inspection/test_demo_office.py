"""``make demo`` sets up a working inspection office: zones, six inspectors in two groups,
one conflict of interest and one round drawn — once; a second demo run keeps them."""

from __future__ import annotations

from pathlib import Path

from hrss_fraud.cases import open_store
from hrss_fraud.cli.demo import DEMO_ROUND, _demo_office
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.inspection import registry
from hrss_fraud.inspection.rounds import load_round, reproduce, rounds


def test_the_demo_sets_up_the_office_and_draws_a_round(ws: Path) -> None:
    _demo_office(Workspace.of(ws))
    with open_store(ws) as store:
        assert registry.zones(store).height > 1
        people = registry.inspectors(store)
        assert people.height == 6 and people["active"].all()
        groups = registry.groups(store)
        assert groups["group_code"].to_list() == ["G1", "G2"]
        assert registry.conflicts(store).height == 1
        listed = rounds(store)
        assert listed["name"].to_list() == [DEMO_ROUND]
        rnd = load_round(store, listed.item(0, "round_id"))
        assert rnd.status == "planned" and rnd.created_by == "demo"
        assert rnd.targets.height == 5
        assert set(rnd.targets["group_code"]) <= {"G1", "G2"}
        assert reproduce(store, rnd.round_id).ok
    _demo_office(Workspace.of(ws))  # again: kept, nothing added
    with open_store(ws) as store:
        assert rounds(store).height == 1
        assert registry.inspectors(store).height == 6
