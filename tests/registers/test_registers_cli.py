"""``hrss-fraud registers``, invoked as its own group: one register from a random draw to
a closed order and a published result; operators checked; one-line refusals that write
nothing."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from helpers.accounts import add_accounts
from helpers.group_cli import group_calls
from helpers.register_fixtures import entity_rows, members, staff, write_csv

from hrss_fraud.cases import open_store
from hrss_fraud.cli.registers import registers


@pytest.fixture
def cli_ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    with open_store(ws) as store:
        staff(store)
    add_accounts(ws, {"zhang": "supervisor", "li": "auditor"})
    return ws


ok, refused = group_calls(registers)


def _audit_rows(ws: Path) -> int:
    with open_store(ws) as store:
        return store.query("SELECT count(*) FROM audit_log")[0][0]


def test_list_shows_every_register_with_its_engine(cli_ws: Path) -> None:
    out = ok(cli_ws, "list")
    assert "hr_agency\t人力资源服务机构" in out
    assert re.search(r"two_designated\t.*由现场检查轮次与违约通知单办理", out)
    assert "PT-04 [严重] 伪造、变造、买卖、出租、出借办学许可证" in ok(
        cli_ws, "show", "private_training"
    )


def test_from_a_random_draw_to_a_closed_order_and_the_disclosure(
    cli_ws: Path, tmp_path: Path
) -> None:
    ws = cli_ws
    path = write_csv(tmp_path / "机构.csv", entity_rows(9), encoding="gbk")
    by = ("--by", "zhang")
    assert "9 rows — 9 new" in ok(
        ws, "entities", "import", str(path), "--register", "hr_agency", *by
    )
    out = ok(ws, "plan", "draw", "--register", "hr_agency", "--name", "2026年第一批",
             "--random", "2", "--seed", "17", "--on", "2026-03-02", *by)  # fmt: skip
    assert "due 2026-05-01" in out
    code, group = re.search(r"^  (\S+)\t.*\t(G\d)\t待检查", out, re.M).groups()
    assert ok(ws, "plan", "reproduce", "1").startswith("plan 1: the draw reproduces")
    evidence = tmp_path / "收费公示照片.jpg"
    evidence.write_bytes(b"jpeg bytes")
    out = ok(
        ws, "inspection", "record", "--register", "hr_agency", "--entity", code, "--plan", "1",
        "--inspectors", "，".join(members(group)), "--summary", "现场检查经营场所",
        "--item", "HRA-01=不合格:收费标准未公示", "--others-pass",
        "--evidence", f"{evidence}::HRA-01", "--on", "2026-03-20", *by,
    )  # fmt: skip
    assert out.strip() == "inspection 1: 发现问题 fail"
    out = ok(ws, "rectify", "order", "1", "--requirements", "公示收费标准", "--on", "2026-03-21",
             *by)  # fmt: skip
    assert out.strip() == "order 1: rectify by 2026-04-20, follow up by 2026-05-05"
    assert "逾期未整改" in ok(ws, "rectify", "list", "--overdue", "--today", "2026-04-21")
    assert ok(ws, "rectify", "list", "--overdue", "--today", "2026-04-20") == ""
    docs = ok(ws, "documents", "notice", "1", "--on", "2026-03-21", *by)
    assert docs.startswith("ZG-2026-0001\t")
    assert Path(docs.split("\t")[2].split("\n")[0]).is_file()
    ok(ws, "rectify", "follow-up", "1", "--result", "合格", "--text", "已公示", "--on",
       "2026-04-18", *by)  # fmt: skip
    assert ok(ws, "close", "1", "--on", "2026-04-18", *by).strip() == "order 1: closed"
    out_file = tmp_path / "公开.csv"
    ok(ws, "disclose", "--year", "2026", "--out", str(out_file), *by)
    df = pl.read_csv(out_file)
    row = df.filter(pl.col("统一社会信用代码") == code).row(0, named=True)
    assert row["检查结果"].startswith("发现问题：开展人力资源服务业务情况")
    assert row["处理情况"] == "已责令整改，整改完成"
    names = ok(ws, "entities", "list", "--register", "hr_agency")
    assert "张建国" not in out_file.read_text(encoding="utf-8-sig") and "张建国" not in names
    report = ok(ws, "report", "--year", "2026")
    assert "监管事项代码 hr_agency" in report and "整改办结 1" in report


def test_operators_are_checked_and_refusals_write_nothing(cli_ws: Path, tmp_path: Path) -> None:
    ws = cli_ws
    path = write_csv(tmp_path / "e.csv", entity_rows(3))
    before = _audit_rows(ws)
    line = refused(ws, "entities", "import", str(path), "--register", "hr_agency", "--by", "li")
    assert "may not plan inspection rounds" in line
    line = refused(ws, "entities", "import", str(path), "--register", "hr_agency", "--by", "nobody")
    assert "no such account" in line
    line = refused(ws, "entities", "import", str(path), "--register", "nope", "--by", "zhang")
    assert "no register 'nope'" in line
    line = refused(ws, "plan", "draw", "--register", "hr_agency", "--name", "x", "--random", "1",
                   "--by", "zhang")  # fmt: skip
    assert "has no entities: import them first" in line
    ok(ws, "entities", "import", str(path), "--register", "hr_agency", "--by", "zhang")
    line = refused(ws, "plan", "draw", "--register", "hr_agency", "--name", "x", "--random", "9",
                   "--by", "zhang")  # fmt: skip
    assert "ask for at most 3" in line
    line = refused(ws, "inspection", "record", "--register", "hr_agency", "--entity",
                   "91130123MA000000X", "--inspectors", "I0,I1", "--summary", "x",
                   "--item", "HRA-01=合格", "--complaint", "TS-1", "--by", "zhang")  # fmt: skip
    assert "检查事项 HRA-02, HRA-03, HRA-04 未填写结果" in line
    assert "bad --item" not in refused(ws, "inspection", "record", "--register", "hr_agency",
        "--entity", "X", "--inspectors", "I0,I1", "--summary", "x", "--item", "HRA-01",
        "--by", "zhang")  # fmt: skip
    with open_store(ws) as store:
        assert store.query("SELECT count(*) FROM register_plan")[0][0] == 0
        assert store.query("SELECT count(*) FROM register_inspection")[0][0] == 0
    assert _audit_rows(ws) == before + 1  # the one import that went through


def test_synth_fills_a_bureau_once_for_a_supervisor_only(cli_ws: Path) -> None:
    before = _audit_rows(cli_ws)
    line = refused(cli_ws, "synth", "--documents", "0", "--by", "li")
    assert "li" in line and _audit_rows(cli_ws) == before
    out = ok(cli_ws, "synth", "--documents", "0", "--per-register", "6", "--by", "zhang")
    assert out.startswith("24 entities") and "0 documents" in out  # four registers × 6
    with open_store(cli_ws) as store:
        actors = store.query("SELECT DISTINCT actor FROM audit_log WHERE rowid > ?", (before,))
    assert actors == [("zhang",)]
    line = refused(cli_ws, "synth", "--documents", "0", "--by", "zhang")
    assert "already hold entities" in line
