"""Refusals the dashboard shows in the chosen language only (issue 18): each names the
field to fill, not a command-line flag, in both of its languages."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from helpers.register_fixtures import agencies, failed_results, members

from hrss_fraud.cases import CaseStore
from hrss_fraud.dashboard.forms import in_lang
from hrss_fraud.registers.inspections import InspectionError, record_inspection
from hrss_fraud.registers.plans import PlanError, draw_plan

DAY = date(2026, 3, 2)
HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


def _one_language(message: str) -> tuple[str, str]:
    zh, en = in_lang(message, "zh"), in_lang(message, "en")
    assert not LATIN.search(zh) and not HAN.search(en) and "--" not in message
    return zh, en


def test_a_plan_without_a_name_is_refused_by_its_field(store: CaseStore, tmp_path: Path) -> None:
    reg = agencies(store, tmp_path)
    with pytest.raises(PlanError) as e:
        draw_plan(store, reg, name="  ", n_random=3, by="t", seed=1, planned_on=DAY)
    assert _one_language(str(e.value)) == ("须填写计划名称", "the plan needs a name")


def test_an_inspection_outside_a_plan_asks_for_the_complaint_number(
    ws: Path, store: CaseStore, tmp_path: Path
) -> None:
    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="A", n_random=3, by="t", seed=11, planned_on=DAY)
    target = plan.targets.row(0, named=True)
    with pytest.raises(InspectionError) as e:
        record_inspection(
            store,
            ws,
            reg,
            entity_code=target["entity_code"],
            plan_id=None,
            inspected_on=date(2026, 3, 20),
            inspectors=members(target["group_code"]),
            summary="现场查看经营场所",
            results=failed_results(reg),
            by="t",
            today=date(2026, 3, 20),
        )
    zh, en = _one_language(str(e.value))
    assert "投诉编号" in zh and en.endswith("name the complaint by its number")
