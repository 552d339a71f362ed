"""Plans drawn with the rounds' draw: reproducible, conflicts and rotation kept, refusals
explained, targets due and overdue on both sides of the due date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers.register_fixtures import agencies

from hrss_fraud.cases import CaseStore
from hrss_fraud.registers.entities import add_conflict
from hrss_fraud.registers.plans import (
    PlanError,
    draw_plan,
    due_targets,
    reproduce,
    set_status,
)

DAY = date(2026, 3, 2)


def _pairs(plan) -> list[tuple[str, str, str]]:
    return list(plan.targets.select("entity_code", "source", "group_code").iter_rows())


def test_same_seed_same_entities_and_inspectors(ws: Path, store: CaseStore, tmp_path: Path) -> None:
    reg = agencies(store, tmp_path)
    a = draw_plan(store, reg, name="A", n_random=4, by="t", seed=42, planned_on=DAY)
    # cancelled, A is no longer the previous plan: B is drawn from the same inputs
    set_status(store, a.plan_id, "cancelled", by="t", reason="重抽验证")
    b = draw_plan(store, reg, name="B", n_random=4, by="t", seed=42, planned_on=DAY)
    set_status(store, b.plan_id, "cancelled", by="t", reason="重抽验证")
    c = draw_plan(store, reg, name="C", n_random=4, by="t", seed=43, planned_on=DAY)
    assert _pairs(a) == _pairs(b)
    assert _pairs(a) != _pairs(c)
    assert a.targets.height == 4 and set(a.targets["source"]) == {"random"}
    for p in (a, b, c):
        assert reproduce(store, p.plan_id).ok


def test_reproduce_finds_a_changed_target(ws: Path, store: CaseStore, tmp_path: Path) -> None:
    import sqlite3

    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="A", n_random=3, by="t", seed=5, planned_on=DAY)
    con = sqlite3.connect(store.path, isolation_level=None)
    con.execute("DROP TRIGGER register_plan_target_no_update")
    other = "G1" if plan.targets["group_code"][0] != "G1" else "G2"
    con.execute("UPDATE register_plan_target SET group_code = ? WHERE rowid = 1", (other,))
    con.close()
    assert reproduce(store, plan.plan_id).problems == (
        "the plan's targets differ from its stored draw",
    )


def test_a_conflicted_inspector_never_gets_the_entity(
    ws: Path, store: CaseStore, tmp_path: Path
) -> None:
    reg = agencies(store, tmp_path)
    target = "91130123MA000003X"
    add_conflict(store, "hr_agency", "I0", target, "亲属在该机构任职", by="t")
    add_conflict(store, "hr_agency", "I3", target, "曾在该机构任职", by="t")
    for seed in range(8):
        plan = draw_plan(
            store, reg, name=f"P{seed}", n_random=0, by="t", seed=seed,
            complaints=[(target, "TS-2026-0007")], planned_on=DAY,
        )  # fmt: skip
        set_status(store, plan.plan_id, "cancelled", by="t", reason="只验证分组")  # no rotation
        row = plan.targets.row(0, named=True)
        assert (row["source"], row["source_ref"], row["group_code"]) == (
            "complaint",
            "TS-2026-0007",
            "G2",
        )


def test_groups_rotate_away_from_last_plans_zones(
    ws: Path, store: CaseStore, tmp_path: Path
) -> None:
    reg = agencies(store, tmp_path, n=18)
    first = draw_plan(store, reg, name="一季度", n_random=3, by="t", seed=1, planned_on=DAY)
    before = {(g, z) for g, z in first.targets.select("group_code", "zone").iter_rows()}
    second = draw_plan(store, reg, name="二季度", n_random=3, by="t", seed=2, planned_on=DAY)
    after = {(g, z) for g, z in second.targets.select("group_code", "zone").iter_rows()}
    assert before and after and not before & after


def test_a_draw_that_cannot_be_met_is_refused_with_the_reason(
    ws: Path, store: CaseStore, tmp_path: Path
) -> None:
    reg = agencies(store, tmp_path, n=5)
    with pytest.raises(PlanError, match="only 5 institutions are left to draw from"):
        draw_plan(store, reg, name="A", n_random=6, by="t", seed=1)
    with pytest.raises(PlanError, match="complaint targets not in register hr_agency: X1"):
        draw_plan(store, reg, name="A", n_random=1, by="t", complaints=[("X1", "TS-1")])
    for i in range(6):
        add_conflict(store, "hr_agency", f"I{i}", "91130123MA000000X", "回避", by="t")
    with pytest.raises(PlanError, match=r"no group may visit 91130123MA000000X .*I0 is conflicted"):
        draw_plan(store, reg, name="A", n_random=0, by="t", complaints=[("91130123MA000000X", "T")])
    assert store.query("SELECT count(*) FROM register_plan")[0][0] == 0


def test_targets_are_overdue_only_after_the_due_date(
    ws: Path, store: CaseStore, tmp_path: Path
) -> None:
    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="A", n_random=2, by="t", seed=3, planned_on=DAY)
    assert plan.due_date == "2026-05-01"  # 60 days (hr_agency.toml inspection_days)
    on_time = due_targets(store, "hr_agency", today=date(2026, 5, 1))
    late = due_targets(store, "hr_agency", today=date(2026, 5, 2))
    assert on_time.height == late.height == 2
    assert not on_time["overdue"].any() and late["overdue"].all()


def test_two_designated_is_planned_elsewhere(store: CaseStore) -> None:
    from hrss_fraud.registers.definitions import get_register

    with pytest.raises(PlanError, match="hrss-fraud rounds plan"):
        draw_plan(store, get_register("two_designated"), name="A", n_random=1, by="t")
