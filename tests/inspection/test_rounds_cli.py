"""``hrss-fraud rounds``: the whole path from zones to the printed lists, and its refusals."""

from __future__ import annotations

from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts
from helpers.inspection_staff import CONFLICTED

from hrss_fraud.cases import open_store
from hrss_fraud.cases.operators import login_name
from hrss_fraud.cli import main


@pytest.fixture(autouse=True)
def planners(ws: Path) -> None:
    """Supervisors plan rounds: 管理员, and the shell login that runs the commands without
    --by (the default operator is the login, and it must be an account too)."""
    add_accounts(ws, {"管理员": "supervisor", login_name(): "supervisor", "审核员": "reviewer"})


def _cli(ws: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(ws), "rounds", *args])


def _ok(ws: Path, *args: str) -> str:
    result = _cli(ws, *args)
    assert result.exit_code == 0, result.output
    return result.output


def _fails(ws: Path, *args: str) -> str:
    result = _cli(ws, *args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hrss-fraud: error: "), result.output
    return lines[0]


def test_rounds_from_zones_to_lists(ws: Path, tmp_path: Path) -> None:
    assert _ok(ws, "zones", "sync", "--by", "管理员").startswith("10 zones, 29 institutions")
    assert "城关镇" in _ok(ws, "zones", "list")
    for code, name in (("I1", "张明"), ("I2", "李华"), ("I3", "王芳"), ("I4", "赵强")):
        _ok(ws, "inspectors", "add", code, "--name", name)
    _ok(ws, "groups", "add", "G1", "--name", "第一组", "--members", "I1,I2")
    _ok(ws, "groups", "add", "G2", "--members", "I3, I4")
    _ok(ws, "conflicts", "add", "I1", CONFLICTED, "--reason", "曾在该机构任职")
    listed = _ok(ws, "inspectors", "list")
    assert "I1\t张明\t在岗 active\tG1" in listed
    plan = _ok(
        ws,
        "plan",
        "--name",
        "2025Q1",
        "--top",
        "3",
        "--random",
        "2",
        "--seed",
        "42",
        "--complaint-institutions",
        "H13012300022:TS2025-001",
    )
    assert plan.startswith("round 1 2025Q1: seed 42, run ")
    assert plan.count("重点检查") == 3 and plan.count("随机抽查") == 2
    assert "投诉举报" in plan
    assert f"G1\t{CONFLICTED}" not in plan
    shown = _ok(ws, "show", "1")
    assert "seed 42" in shown and "risk 3" in shown and "complaint 1" in shown
    assert _ok(ws, "reproduce", "1").startswith("round 1 reproduces: seed 42")
    _ok(ws, "status", "1", "in_progress", "--reason", "出发检查")
    assert "[in_progress]" in _ok(ws, "show", "1")
    assert "can move to closed, cancelled" in _fails(
        ws, "status", "1", "in_progress", "--reason", "x"
    )
    written = _ok(ws, "export", "1", "--out", str(tmp_path / "lists"), "--lang", "en")
    paths = [Path(p) for p in written.split()]
    assert [p.name for p in paths] == ["001_2025Q1_G1.xlsx", "001_2025Q1_G2.xlsx"]
    assert openpyxl.load_workbook(paths[0]).sheetnames[0] == "Summary"
    with open_store(ws) as store:
        actions = store.audit_log()["action"].to_list()
    assert actions.count("inspector.add") == 4 and actions[-2:] == ["round.plan", "round.status"]


def test_refusals_are_one_line_and_write_nothing(ws: Path, tmp_path: Path) -> None:
    assert "rounds zones sync" in _fails(ws, "plan", "--name", "x", "--top", "1", "--random", "0")
    _ok(ws, "zones", "sync")
    _ok(ws, "inspectors", "add", "I1", "--name", "张明")
    assert "unknown inspectors I9" in _fails(ws, "groups", "add", "G1", "--members", "I1,I9")
    assert "no inspector I9" in _fails(ws, "conflicts", "add", "I9", "H1", "--reason", "亲属")
    _ok(ws, "inspectors", "add", "I2", "--name", "李华")
    _ok(ws, "inspectors", "disable", "I2")
    assert "inactive inspectors I2" in _fails(ws, "groups", "add", "G2", "--members", "I2")
    assert "no inspector I7" in _fails(ws, "inspectors", "disable", "I7")
    assert "no inspection group" in _fails(ws, "plan", "--name", "x", "--top", "1", "--random", "0")
    _ok(ws, "groups", "add", "G1", "--members", "I1")
    _ok(ws, "conflicts", "add", "I1", CONFLICTED, "--reason", "亲属")
    refused = _fails(ws, "plan", "--name", "x", "--top", "2", "--random", "0", "--seed", "1")
    assert f"no group may visit {CONFLICTED}" in refused
    assert "member I1 is conflicted (亲属)" in refused
    assert "no inspection round 1" in _fails(ws, "show", "1")
    assert "no inspection round 1" in _fails(ws, "reproduce", "1")
    assert "no inspection round 1" in _fails(ws, "export", "1", "--out", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()
    with open_store(ws) as store:
        assert store.query("SELECT count(*) FROM inspection_round")[0][0] == 0


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*path, name)))
        else:
            out.append((*path, name))
    return out


def test_only_an_account_that_may_plan_inspections_changes_anything(ws: Path) -> None:
    assert "--by 'nobody': no such account" in _fails(ws, "zones", "sync", "--by", "nobody")
    refused = _fails(ws, "inspectors", "add", "I1", "--name", "张明", "--by", "审核员")
    assert "审核员 (reviewer 审核员) may not plan inspection rounds" in refused
    _ok(ws, "inspectors", "add", "I1", "--name", "张明", "--by", "管理员")
    with open_store(ws) as store:
        assert store.audit_log()[["actor", "action"]].rows() == [("管理员", "inspector.add")]


def test_every_rounds_command_has_help(tmp_path: Path) -> None:
    from hrss_fraud.cli.inspection import rounds

    paths = _commands(rounds)
    assert ("plan",) in paths and ("zones", "sync") in paths and ("conflicts", "add") in paths
    for path in paths:
        result = _cli(tmp_path, *path, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, path
