"""``hrss-fraud complaints``: add, link, assign, check, close, list, show through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts

from hrss_fraud.cases import open_store
from hrss_fraud.cli import main
from hrss_fraud.engine.runs import open_run

STAFF = {"张三": "auditor", "王五": "reviewer", "赵六": "reviewer"}
"""Who registers (an auditor may: any user who views leads), who checks and closes."""


@pytest.fixture(autouse=True)
def staff(ws: Path) -> None:
    add_accounts(ws, STAFF)


def _cli(ws: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(ws), "complaints", *args])


def _add(ws: Path, *extra: str) -> Result:
    return _cli(
        ws,
        *("add", "--received", "2025-03-10", "--source", "网络", "--content", "挂床住院"),
        *("--by", "张三", *extra),
    )


def _one_line_error(r: Result, text: str) -> None:
    assert r.exit_code == 1, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hrss-fraud: error:") and text in lines[0]


def test_the_group_is_attached_with_bilingual_help(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["complaints", "--help"]).output
    assert "举报投诉" in out and "Complaints and tips" in out
    assert "网络" in _cli(tmp_path, "add", "--help").output


def test_a_complaint_through_its_life(ws: Path) -> None:
    inst = open_run(ws).findings().sort("finding_id").item(0, "fixmedins_code")
    r = _add(ws, "--institution", inst, "--complainant", "李小明", "--contact", "13812345678")
    assert r.exit_code == 0, r.output
    assert "2025-0001 registered; due 2025-04-09" in r.output
    r = _cli(ws, "check", "2025-0001", "--by", "王五")
    assert r.exit_code == 0, r.output
    assert "疑点" in r.output and "fingerprint" in r.output
    r = _cli(ws, "list")
    assert "2025-0001" in r.output and "核查中" in r.output and "逾期 OVERDUE" in r.output
    assert "李小明" not in r.output
    shown = _cli(ws, "show", "2025-0001")
    assert "李** 138****5678" in shown.output and "核查 1" in shown.output
    revealed = _cli(ws, "show", "2025-0001", "--reveal", "--by", "王五")
    assert "李小明 13812345678" in revealed.output
    r = _cli(
        ws,
        "close",
        "2025-0001",
        "--outcome",
        "部分属实",
        "--text",
        "查实2人次",
        "--on",
        "2025-04-20",
        "--by",
        "王五",
    )
    assert r.exit_code == 0, r.output
    assert "部分属实 (late: due 2025-04-09)" in r.output
    assert "逾期" not in _cli(ws, "list").output
    assert "no complaints overdue" in _cli(ws, "list", "--overdue").output
    doc = json.loads(_cli(ws, "show", "2025-0001", "--json").output)
    assert doc["complaint"]["outcome"] == "partly" and doc["leads"]
    with open_store(ws) as store:
        actions = store.audit_log("2025-0001")["action"].to_list()
    assert actions == [
        "complaint.register",
        "complaint.check",
        "complaint.reveal",
        "complaint.close",
    ]


def test_link_takes_leads_from_the_run_with_their_person(ws: Path) -> None:
    lead = (
        open_run(ws)
        .findings()
        .filter(pl.col("psn_no").is_not_null())
        .sort("finding_id")
        .row(0, named=True)
    )
    assert _add(ws).exit_code == 0
    r = _cli(
        ws, "link", "2025-0001", "--finding", lead["finding_id"], "--person", lead["psn_no"],
        "--by", "张三",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "0 institutions, 1 persons, 1 leads" in r.output
    with open_store(ws) as store:
        row = store.query("SELECT finding_id, psn_no, rule_id FROM complaint_lead")
    assert row == [(lead["finding_id"], lead["psn_no"], lead["rule_id"])]
    _one_line_error(
        _cli(ws, "link", "2025-0001", "--finding", "nope", "--by", "张三"), "not a finding of run"
    )


def test_errors_are_one_line_and_write_nothing(ws: Path) -> None:
    _one_line_error(
        _cli(
            ws,
            "add",
            "--received",
            "2025-13-01",
            "--source",
            "电话",
            "--content",
            "x",
            "--by",
            "张三",
        ),
        "is not a date",
    )
    _one_line_error(
        _cli(
            ws,
            "add",
            "--received",
            "2025-03-01",
            "--source",
            "微信",
            "--content",
            "x",
            "--by",
            "张三",
        ),
        "source '微信' is not one of",
    )
    assert _add(ws).exit_code == 0
    _one_line_error(_cli(ws, "check", "2025-0001", "--by", "王五"), "names no institution")
    _one_line_error(
        _cli(ws, "close", "2025-0001", "--outcome", "属实", "--text", "x", "--by", "王五"),
        "still registered",
    )
    _one_line_error(_cli(ws, "show", "2025-0042"), "no complaint numbered '2025-0042'")
    _one_line_error(_cli(ws, "list", "--status", "open"), "status 'open' is not one of")
    with open_store(ws) as store:
        assert store.query("SELECT number, status FROM complaint") == [("2025-0001", "registered")]
        assert store.query("SELECT count(*) FROM complaint_check") == [(0,)]
        assert store.audit_log()["action"].to_list() == ["complaint.register"]


def test_assign_then_list_as_csv(ws: Path, tmp_path: Path) -> None:
    assert _add(ws, "--complainant", "王大锤").exit_code == 0
    r = _cli(ws, "assign", "2025-0001", "--handler", "赵六", "--by", "张三")
    assert r.exit_code == 0 and "checking" in r.output
    out = tmp_path / "list.csv"
    assert _cli(ws, "list", "--out", str(out)).exit_code == 0
    df = pl.read_csv(out)
    assert df.select("number", "handler", "complainant").rows() == [("2025-0001", "赵六", "王**")]


def test_codes_the_lake_does_not_hold_are_refused(ws: Path) -> None:
    _one_line_error(_add(ws, "--institution", "H99999999999"), "institution H99999999999: not in")
    _one_line_error(_add(ws, "--person", "999999999999999999"), "person 999999999999999999: not")
    _one_line_error(_add(ws, "--institution", "H1"), "institution (机构编号) 'H1' is not a code")
    _one_line_error(_add(ws, "--content", "x" * 4001), "content (举报内容): 4,001 characters")
    with open_store(ws) as store:
        assert store.query("SELECT count(*) FROM complaint") == [(0,)]


def test_the_operator_must_be_an_account_with_the_steps_permission(ws: Path) -> None:
    _one_line_error(_add(ws, "--by", "nobody"), "--by 'nobody': no such account")
    assert _add(ws).exit_code == 0
    _one_line_error(
        _cli(ws, "close", "2025-0001", "--outcome", "转办", "--text", "转卫健委", "--by", "张三"),
        "张三 (auditor 稽核员) may not decide first review",
    )
    _one_line_error(
        _cli(ws, "show", "2025-0001", "--reveal", "--by", "张三"),
        "may not view unmasked identities",
    )
    r = _cli(ws, "close", "2025-0001", "--outcome", "转办", "--text", "转卫健委", "--by", "王五")
    assert r.exit_code == 0, r.output
