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
from hrss_fraud.cases.users import User
from hrss_fraud.complaints.register import register
from hrss_fraud.dashboard import rounds_view as rv
from hrss_fraud.inspection.rounds import RoundError


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
        with pytest.raises(RoundError, match="整数"):
            rv.plan_from_form(store, ws, _user("supervisor"), name="x", top="three", n_random=1)
        with pytest.raises(RoundError, match="name"):
            rv.plan_from_form(store, ws, _user("supervisor"), name=" ", top=1, n_random=1)
        with pytest.raises(PermissionError, match="审核员无权抽取"):
            rv.plan_from_form(store, ws, _user("reviewer"), name="x", top=1, n_random=1)
        with pytest.raises(PermissionError):
            rv.round_rows(store, None)
        assert rv.round_rows(store, _user("supervisor")).is_empty()
