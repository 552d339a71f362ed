"""Inspection records: complete or refused, signed by the drawn group, evidence hashed."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest
from helpers.register_fixtures import agencies, failed_results, members

from hrss_fraud.cases import CaseStore
from hrss_fraud.registers.entities import add_conflict
from hrss_fraud.registers.inspections import (
    Evidence,
    InspectionError,
    ItemResult,
    get_inspection,
    record_inspection,
)
from hrss_fraud.registers.plans import draw_plan, load_plan

DAY = date(2026, 3, 2)
ON = date(2026, 3, 20)


@pytest.fixture
def planned(ws: Path, store: CaseStore, tmp_path: Path):
    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="A", n_random=3, by="t", seed=11, planned_on=DAY)
    return reg, plan, plan.targets.row(0, named=True)


def _record(store, ws, reg, plan, target, **over):
    args = {
        "entity_code": target["entity_code"],
        "plan_id": plan.plan_id,
        "inspected_on": ON,
        "inspectors": members(target["group_code"]),
        "summary": "现场查看经营场所，查阅台账",
        "results": failed_results(reg),
        "by": "t",
        "today": ON,
    } | over
    return record_inspection(store, ws, reg, **args)


def _count(store: CaseStore) -> int:
    return store.query("SELECT count(*) FROM register_inspection")[0][0]


def test_a_failed_item_with_evidence_is_recorded_and_hashed(
    ws: Path, store: CaseStore, planned, tmp_path: Path
) -> None:
    reg, plan, target = planned
    photo = tmp_path / "现场照片.JPG"
    photo.write_bytes(b"\xff\xd8 a photo of the notice board")
    iid = _record(store, ws, reg, plan, target, evidence=[Evidence(photo, "HRA-03")])
    got = get_inspection(store, iid)
    assert got["result"] == "fail"
    assert [i["result"] for i in got["items"]] == ["pass", "pass", "fail", "pass"]
    (ev,) = got["evidence"]
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert ev["sha256"] == digest and ev["item_code"] == "HRA-03"
    assert (ws / ev["path"]).read_bytes() == photo.read_bytes()
    assert ev["path"].endswith(f"{digest}.jpg")
    assert load_plan(store, plan.plan_id).targets.row(0, named=True)["inspection_id"] == iid


def _bad_results(reg, case: str) -> dict:
    results = failed_results(reg)
    if case == "missing":
        del results["HRA-02"]
    elif case == "no finding":
        results["HRA-02"] = ItemResult("fail", "  ")
    elif case == "unknown":
        results["XX-01"] = ItemResult("pass")
    return results


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "检查事项 HRA-02 未填写结果"),
        ("no finding", "HRA-02：不合格事项须填写发现的问题"),
        ("unknown", "本监管事项无此检查事项 XX-01 (items not in register hr_agency)"),
    ],
)
def test_an_incomplete_record_is_refused(
    ws: Path, store: CaseStore, planned, case: str, message: str
) -> None:
    reg, plan, target = planned
    with pytest.raises(InspectionError, match=re.escape(message)):
        _record(store, ws, reg, plan, target, results=_bad_results(reg, case))
    assert _count(store) == 0


def test_the_inspectors_are_two_of_the_drawn_group_and_not_conflicted(
    ws: Path, store: CaseStore, planned
) -> None:
    reg, plan, target = planned
    mine = members(target["group_code"])
    other = "I4" if "I4" not in mine else "I0"
    with pytest.raises(InspectionError, match="at least two inspectors"):
        _record(store, ws, reg, plan, target, inspectors=mine[:1])
    with pytest.raises(InspectionError, match=f"inspectors {other} are not in group"):
        _record(store, ws, reg, plan, target, inspectors=[mine[0], other])
    add_conflict(store, "hr_agency", mine[1], target["entity_code"], "近亲属任职", by="t")
    with pytest.raises(InspectionError, match=f"inspector {mine[1]} is conflicted"):
        _record(store, ws, reg, plan, target)
    assert _count(store) == 0


def test_dates_and_targets_are_checked(ws: Path, store: CaseStore, planned) -> None:
    reg, plan, target = planned
    with pytest.raises(InspectionError, match="is before the plan was drawn"):
        _record(store, ws, reg, plan, target, inspected_on=date(2026, 3, 1))
    with pytest.raises(InspectionError, match="is in the future"):
        _record(store, ws, reg, plan, target, today=date(2026, 3, 19))
    drawn = set(plan.targets["entity_code"])
    outsider = next(
        f"91130123MA0{k:05d}X" for k in range(12) if f"91130123MA0{k:05d}X" not in drawn
    )
    with pytest.raises(InspectionError, match="not a target of plan"):
        _record(store, ws, reg, plan, target, entity_code=outsider)
    _record(store, ws, reg, plan, target)
    with pytest.raises(InspectionError, match="already inspected in plan"):
        _record(store, ws, reg, plan, target)
    assert _count(store) == 1


def test_an_inspection_outside_a_plan_follows_a_complaint(
    ws: Path, store: CaseStore, planned
) -> None:
    reg, plan, target = planned
    with pytest.raises(InspectionError, match="name the complaint"):
        _record(store, ws, reg, plan, target, plan_id=None)
    iid = _record(store, ws, reg, plan, target, plan_id=None, complaint_ref="TS-2026-0003")
    got = get_inspection(store, iid)
    assert (got["source"], got["source_ref"], got["plan_id"]) == ("complaint", "TS-2026-0003", None)


def test_evidence_of_a_refused_record_is_not_left_behind(
    ws: Path, store: CaseStore, planned, tmp_path: Path
) -> None:
    reg, plan, target = planned
    doc = tmp_path / "台账.pdf"
    doc.write_bytes(b"%PDF-1.4 ledger")
    _record(store, ws, reg, plan, target)
    with pytest.raises(InspectionError, match="already inspected"):
        _record(store, ws, reg, plan, target, evidence=[Evidence(doc)])
    assert not list((ws / "supervision").rglob("*.pdf"))
    assert not (ws / "registers").exists()  # the policy folder is left alone
