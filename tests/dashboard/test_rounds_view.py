"""The rounds page's logic on the scored tiny county: list, targets, planning from the
form (with complaint institutions), reproducing, one group's workbook, permissions."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from helpers.inspection_setup import staff

from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import ROLES, User
from hrss_fraud.complaints.register import register
from hrss_fraud.dashboard import rounds_view as rv
from hrss_fraud.inspection.rounds import RoundError
from hrss_fraud.lake import Lake


def _user(role: str) -> User:
    return User(f"{role}1", role, role, True, "", "")


@pytest.fixture
def ws(county_ws: Path, tmp_path: Path) -> Path:
    """The county's lake and runs with a case store of its own: zones, three groups."""
    out = tmp_path / "ws"
    out.mkdir()
    for name in ("lake", "runs"):
        (out / name).symlink_to(county_ws / name, target_is_directory=True)
    staff(out)
    return out


def test_plan_list_show_reproduce_and_download(ws: Path) -> None:
    boss = _user("supervisor")
    with open_store(ws) as store:
        assert rv.round_rows(store, boss).is_empty()
        code = store.query("SELECT fixmedins_code FROM inspection_institution ORDER BY 1 DESC")[0][
            0
        ]
        number = register(
            store,
            received_on=date(2025, 3, 1),
            source="phone",
            content="挂床",
            by="t",
            institutions=[code],
        )
        rnd = rv.plan_from_form(
            store, ws, boss, name="2025年第一轮", top="3", n_random=2, seed="42"
        )
        assert rnd.seed == 42 and rnd.targets.height >= 5
        rows = rv.round_rows(store, boss)
        r = rows.row(0, named=True)
        assert (r["name"], r["status_label"], r["n_risk"], r["n_random"]) == (
            "2025年第一轮",
            "已计划",
            3,
            2,
        )
        assert r["n_risk"] + r["n_random"] + r["n_complaint"] == r["n_targets"]
        shown = rv.targets(store, boss, rnd.round_id, lang="en").targets
        mine = shown.filter(shown["fixmedins_code"] == code).row(0, named=True)
        assert number in mine["source_label"] and number in mine["reasons_shown"]
        assert set(rv.TARGET_COLUMNS) <= set(shown.columns)
        check = rv.reproduce_text(store, _user("auditor"), rnd.round_id)
        assert check.ok and "可复现" in check.text and "42" in check.text
        group = rv.groups(store, rnd.round_id)[0]
        name, data = rv.group_workbook(store, ws, boss, rnd.round_id, group)
        assert name.endswith(f"_{group}.xlsx")
        wb = openpyxl.load_workbook(io.BytesIO(data))
        assert wb.sheetnames[0] == "汇总"
        audit = store.query(
            "SELECT actor, object_id FROM audit_log WHERE action = 'export.download'"
        )
        assert audit == [("supervisor1", str(rnd.round_id))]
        assert [o["value"] for o in rv.status_options("planned")] == ["in_progress", "cancelled"]
        with pytest.raises(RoundError, match="reason"):
            rv.status_from_page(store, boss, rnd.round_id, "in_progress", " ")
        with pytest.raises(PermissionError):
            rv.status_from_page(store, _user("reviewer"), rnd.round_id, "in_progress", "开始")
        rv.status_from_page(store, boss, rnd.round_id, "in_progress", "检查组已出发")
        assert rv.round_rows(store, boss, lang="en").item(0, "status_label") == "in progress"
        assert rv.status_options("closed") == []


def test_bad_form_values_and_roles_are_refused(ws: Path) -> None:
    with open_store(ws) as store:
        with pytest.raises(RoundError) as e:
            rv.plan_from_form(store, ws, _user("supervisor"), name="x", top="three", n_random=1)
        assert rv.say(e.value) == "“重点检查家数”应为整数，不能是“three”"
        with pytest.raises(RoundError, match="name"):
            rv.plan_from_form(store, ws, _user("supervisor"), name=" ", top=1, n_random=1)
        with pytest.raises(PermissionError) as denied:
            rv.plan_from_form(store, ws, _user("reviewer"), name="x", top=1, n_random=1)
        assert rv.say(denied.value).startswith("审核员无权抽取检查轮次")
        with pytest.raises(PermissionError):
            rv.round_rows(store, None)
        assert rv.round_rows(store, _user("supervisor")).is_empty()


@pytest.fixture
def bare(county_ws: Path, tmp_path: Path) -> Path:
    """The county's lake and runs with an empty case store: no zones, no inspectors."""
    out = tmp_path / "bare"
    out.mkdir()
    for name in ("lake", "runs"):
        (out / name).symlink_to(county_ws / name, target_is_directory=True)
    return out


def _said(err: pytest.ExceptionInfo[Exception]) -> tuple[str, str]:
    return rv.say(err.value, "zh"), rv.say(err.value, "en")


def test_the_empty_form_names_the_missing_field_in_both_languages(bare: Path) -> None:
    boss = _user("supervisor")
    with open_store(bare) as store:
        with pytest.raises(RoundError) as e:
            rv.plan_from_form(store, bare, boss, name="", top=None, n_random=None)
        assert _said(e) == ("请填写“轮次名称”", "Fill in “round name”")
        with pytest.raises(RoundError) as e:
            rv.plan_from_form(store, bare, boss, name="一", top=None, n_random=None)
        assert _said(e) == ("请填写“重点检查家数”", "Fill in “top K”")
        with pytest.raises(RoundError) as e:
            rv.plan_from_form(store, bare, boss, name="一", top="2", n_random="-1")
        assert _said(e) == ("“随机抽查家数”不能为负数", "“random N” must not be negative")
        with pytest.raises(RoundError) as e:
            rv.plan_from_form(store, bare, boss, name="一", top="2", n_random="1")
        zh, en = _said(e)
        assert "从数据湖同步区域" in zh and "Sync zones from the lake" in en
        for text in (zh, en):
            assert "hrss-fraud" not in text and "`" not in text and "--" not in text


def test_a_supervisor_sets_up_the_office_and_plans_from_the_page(bare: Path) -> None:
    boss = _user("supervisor")
    with open_store(bare) as store:
        assert rv.zone_rows(store, boss).is_empty()
        done = rv.sync_zones_from_page(store, Lake(bare / "lake"), boss)
        assert done.zones == rv.zone_rows(store, boss).height > 1
        for code, name in (("J1", "张三"), ("J2", "李四"), ("J3", "王五")):
            assert rv.add_inspector_from_page(store, boss, f" {code} ", name) == code
        with pytest.raises(ValueError) as e:
            rv.plan_from_form(store, bare, boss, name="一", top="1", n_random="0")
        zh, en = _said(e)
        assert "组建检查组" in zh and "form a group" in en
        with pytest.raises(ValueError) as e:
            rv.add_inspector_from_page(store, boss, "J1", "赵六")
        assert _said(e) == (
            "检查人员编号 J1 已存在：请换一个编号",
            "Inspector code J1 already exists: choose another",
        )
        with pytest.raises(ValueError) as e:
            rv.add_group_from_page(store, boss, "A", "", [])
        assert _said(e) == ("请填写“组员”", "Fill in “Members”")
        assert rv.add_group_from_page(store, boss, "A", "", ["J1", "J2"]) == "A"
        rv.add_group_from_page(store, boss, "B", "第二组", ["J3"])
        assert [o["value"] for o in rv.inspector_options(store)] == ["J1", "J2", "J3"]
        place = rv.institution_options(store)[0]
        assert place["value"] in place["label"]
        with pytest.raises(ValueError) as e:
            rv.add_conflict_from_page(store, boss, "J1", place["value"], " ")
        assert _said(e) == ("请填写“回避理由”", "Fill in “Reason for the conflict”")
        rv.add_conflict_from_page(store, boss, "J1", place["value"], "配偶在该机构任职")
        rv.disable_inspector_from_page(store, boss, "J3")
        people = rv.inspector_rows(store, boss, lang="en")
        assert dict(zip(people["inspector_code"], people["state"], strict=True))["J3"] == (
            "disabled"
        )
        groups = rv.group_rows(store, boss)
        assert groups["formed_for"].to_list() == ["常设", "常设"]
        assert "J1 张三" in groups["members"][0]
        conflicts = rv.conflict_rows(store, boss)
        assert conflicts.height == 1
        assert len(conflicts.item(0, "declared_at")) == len("2026-03-02 16:15")  # to the minute
        rnd = rv.plan_from_form(store, bare, boss, name="一", top="2", n_random="1", seed="7")
        assert rnd.targets.height == 3 and set(rnd.targets["group_code"]) <= {"A"}
        assert len(rv.round_rows(store, boss).item(0, "created_at")) == 16
        audit = store.query("SELECT DISTINCT actor FROM audit_log")
        assert audit == [("supervisor1",)]


@pytest.mark.parametrize("role", ["auditor", "reviewer", "admin"])
def test_only_who_may_manage_inspections_sets_up_the_office(bare: Path, role: str) -> None:
    who = _user(role)
    attempts = [
        lambda s: rv.sync_zones_from_page(s, Lake(bare / "lake"), who),
        lambda s: rv.add_inspector_from_page(s, who, "J1", "张三"),
        lambda s: rv.disable_inspector_from_page(s, who, "J1"),
        lambda s: rv.add_group_from_page(s, who, "A", "", ["J1"]),
        lambda s: rv.add_conflict_from_page(s, who, "J1", "H1", "亲属"),
        lambda s: rv.plan_from_form(s, bare, who, name="一", top=None, n_random=None),
    ]
    with open_store(bare) as store:
        for attempt in attempts:
            with pytest.raises(PermissionError) as e:
                attempt(store)
            zh, en = _said(e)
            assert zh.startswith(f"{ROLES[role][0]}无权") and "审核负责人" in zh
            assert en.startswith(f"A {ROLES[role][1]} may not")
        with pytest.raises(PermissionError):
            rv.add_inspector_from_page(store, None, "J1", "张三")
        assert store.query("SELECT count(*) FROM inspector")[0][0] == 0
        assert store.query("SELECT count(*) FROM inspection_zone")[0][0] == 0
