"""Failed inspection → rectification order → follow-up → closed, or escalated to a sanction;
every deadline and overdue mark on both sides."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers.register_fixtures import agencies, failed_results, members

from hrss_fraud.cases import CaseStore
from hrss_fraud.registers.definitions import DefinitionError
from hrss_fraud.registers.inspections import ItemResult, record_inspection
from hrss_fraud.registers.plans import draw_plan
from hrss_fraud.registers.rectification import (
    RectificationError,
    close,
    follow_up,
    order,
    rectifications,
    sanction,
)

ON = date(2026, 3, 20)
ORDERED = date(2026, 3, 21)
DUE = ORDERED + timedelta(days=30)  # hr_agency.toml rectify_days
FOLLOW_UP_DUE = DUE + timedelta(days=15)  # follow_up_days


@pytest.fixture
def failed(ws: Path, store: CaseStore, tmp_path: Path):
    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="A", n_random=2, by="t", seed=4, planned_on=date(2026, 3, 1))
    first, second = plan.targets.rows(named=True)
    common = {"plan_id": plan.plan_id, "inspected_on": ON, "summary": "现场检查", "by": "t"}
    bad = record_inspection(
        store, ws, reg, entity_code=first["entity_code"], results=failed_results(reg),
        inspectors=members(first["group_code"]), today=ON, **common,
    )  # fmt: skip
    good = record_inspection(
        store, ws, reg, entity_code=second["entity_code"],
        results={i.code: ItemResult("pass") for i in reg.check_items},
        inspectors=members(second["group_code"]), today=ON, **common,
    )  # fmt: skip
    return reg, bad, good


def _marks(store: CaseStore, today: date) -> tuple[bool, bool]:
    row = rectifications(store, "hr_agency", today=today).row(0, named=True)
    return row["past_deadline"], row["follow_up_overdue"]


def test_only_a_failed_inspection_gets_an_order(store: CaseStore, failed) -> None:
    reg, bad, good = failed
    with pytest.raises(RectificationError, match="found nothing to rectify"):
        order(store, reg, good, requirements="无", by="t", on=ORDERED)
    rid = order(store, reg, bad, requirements="公示收费标准", by="t", on=ORDERED)
    with pytest.raises(RectificationError, match="already has a rectification order"):
        order(store, reg, bad, requirements="再次", by="t", on=ORDERED)
    row = rectifications(store, "hr_agency", today=ORDERED).row(0, named=True)
    assert (row["rectification_id"], row["due_date"], row["follow_up_due"]) == (
        rid,
        "2026-04-20",
        "2026-05-05",
    )


def test_deadline_marks_on_both_sides(store: CaseStore, failed) -> None:
    reg, bad, _ = failed
    order(store, reg, bad, requirements="公示收费标准", by="t", on=ORDERED)
    assert _marks(store, DUE) == (False, False)
    assert _marks(store, DUE + timedelta(days=1)) == (True, False)
    assert _marks(store, FOLLOW_UP_DUE) == (True, False)
    assert _marks(store, FOLLOW_UP_DUE + timedelta(days=1)) == (True, True)


def test_a_follow_up_after_its_due_day_is_late(store: CaseStore, failed) -> None:
    reg, bad, _ = failed
    rid = order(store, reg, bad, requirements="公示收费标准", by="t", on=ORDERED)
    follow_up(store, rid, passed=False, text="未整改", by="t", on=FOLLOW_UP_DUE)
    follow_up(store, rid, passed=True, text="已整改", by="t", on=FOLLOW_UP_DUE + timedelta(1))
    lates = [
        r[0]
        for r in store.query(
            "SELECT late FROM register_rectification_event WHERE kind = 'follow_up' "
            "ORDER BY event_id"
        )
    ]
    assert lates == [0, 1]
    # a follow-up, even a failed one, ends the follow-up overdue mark; a passed one the other
    assert _marks(store, FOLLOW_UP_DUE + timedelta(days=5)) == (False, False)


def test_a_passed_follow_up_closes(store: CaseStore, failed) -> None:
    reg, bad, _ = failed
    rid = order(store, reg, bad, requirements="公示收费标准", by="t", on=ORDERED)
    with pytest.raises(RectificationError, match="closes only after a passed follow-up"):
        close(store, rid, text="办结", by="t", on=DUE)
    follow_up(store, rid, passed=True, text="已公示", by="t", on=DUE - timedelta(days=3))
    close(store, rid, text="办结", by="t", on=DUE)
    row = rectifications(store, "hr_agency", today=DUE + timedelta(days=99)).row(0, named=True)
    assert row["status"] == "closed" and not row["past_deadline"] and not row["follow_up_overdue"]
    with pytest.raises(RectificationError, match="is closed"):
        follow_up(store, rid, passed=False, text="x", by="t", on=DUE)


def test_a_sanction_only_after_a_failed_follow_up_on_or_after_the_deadline(
    store: CaseStore, failed
) -> None:
    reg, bad, _ = failed
    rid = order(store, reg, bad, requirements="公示收费标准", by="t", on=ORDERED)
    with pytest.raises(RectificationError, match="follows a failed follow-up"):
        sanction(store, reg, rid, handling="revoke", decision="吊销", by="t", on=DUE)
    follow_up(store, rid, passed=False, text="未整改", by="t", on=DUE - timedelta(days=1))
    with pytest.raises(RectificationError, match="came before the deadline 2026-04-20"):
        sanction(store, reg, rid, handling="revoke", decision="吊销", by="t", on=DUE)
    follow_up(store, rid, passed=False, text="逾期仍未整改", by="t", on=DUE)
    with pytest.raises(DefinitionError, match="has no sanction 'suspend'"):
        sanction(store, reg, rid, handling="suspend", decision="暂停", by="t", on=DUE)
    sid = sanction(store, reg, rid, handling="revoke", decision="吊销许可证", by="t", on=DUE)
    row = rectifications(store, "hr_agency", today=DUE).row(0, named=True)
    assert (row["status"], row["sanction"]) == ("escalated", "revoke")
    (kind, code) = store.query(
        "SELECT kind, handling_code FROM register_sanction WHERE sanction_id = ?", (sid,)
    )[0]
    assert (kind, code) == ("revoke", "revoke")
    with pytest.raises(RectificationError, match="is escalated"):
        close(store, rid, text="x", by="t", on=DUE)


def test_orders_and_events_are_audited_and_fixed(store: CaseStore, failed) -> None:
    import sqlite3

    reg, bad, _ = failed
    rid = order(store, reg, bad, requirements="公示收费标准", by="t", on=ORDERED)
    actions = [a for (a,) in store.query("SELECT action FROM audit_log WHERE actor = 't'")]
    assert actions[-1] == "register.rectify.order"
    with pytest.raises(sqlite3.IntegrityError, match="a rectification order is fixed"):
        store.query(
            "UPDATE register_rectification SET due_date = '2030-01-01' WHERE rectification_id = ?",
            (rid,),
        )
