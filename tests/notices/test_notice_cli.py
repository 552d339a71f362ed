"""``hrss-fraud notice``: create → issue → ack → statement → rectify → close, list, show,
and errors that exit non-zero with one line and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts

from hrss_fraud.cases import open_store
from hrss_fraud.cli import main

STAFF = {"li": "supervisor", "wang": "supervisor", "an": "reviewer"}
"""Who records the notices' steps: supervisors may issue notices (manage_inspections)."""


@pytest.fixture(autouse=True)
def staff(ws: Path) -> None:
    add_accounts(ws, STAFF)


def _cli(ws: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(ws), "notice", *args])


def _create(ws: Path, *extra: str) -> Result:
    return _cli(
        ws,
        *("create", "--institution", "H0001", "--name", "城关镇卫生院"),
        *("--findings", "F-001,F-002", "--facts", "抽查住院病历30份，5份无检查报告"),
        *("--inspection-date", "2026-03-02", "--inspectors", "李明、王芳"),
        *("--recover", "1534.5", "--interview", "--by", "li"),
        *extra,
    )


def _counts(ws: Path) -> tuple[int, int, int]:
    with open_store(ws) as s:
        return tuple(
            s.query(f"SELECT count(*) FROM {t}")[0][0]
            for t in ("notice", "notice_number", "notice_event")
        )  # type: ignore[return-value]


COMMANDS = (
    "create",
    "issue",
    "ack",
    "statement",
    "review-decision",
    "rectify",
    "close",
    "list",
    "show",
)


def test_help_lists_the_commands(ws: Path) -> None:
    out = _cli(ws, "--help").output
    assert "现场监督检查违约通知单" in out
    for cmd in COMMANDS:
        assert cmd in out
        r = _cli(ws, cmd, "--help")
        assert r.exit_code == 0 and "Usage" in r.output


def test_a_notice_from_draft_to_closed(ws: Path) -> None:
    r = _create(ws)
    assert r.exit_code == 0, r.output
    assert "draft #1" in r.output and "¥1,534.50" in r.output  # the leads' amounts summed
    r = _cli(ws, "issue", "1", "--on", "2026-03-05", "--by", "li")
    assert r.exit_code == 0, r.output
    assert "notice 2026-0001 issued" in r.output
    assert (ws / "notices/2026-0001/2026-0001.pdf").is_file()
    steps = [
        ("ack", "2026-0001", "--person", "张院长", "--on", "2026-03-06"),
        ("statement", "2026-0001", "--text", "对第1项有异议", "--review", "--on", "2026-03-12"),
        ("rectify", "2026-0001", "--text", "已退回费用", "--on", "2026-03-30"),
    ]
    for step in steps[:2]:
        r = _cli(ws, *step, "--by", "li")
        assert r.exit_code == 0, r.output
    r = _cli(ws, "list", "--today", "2026-03-28")
    assert "待复核决定 review due 2026-03-27，已逾期 OVERDUE" in r.output
    decide = ("review-decision", "2026-0001", "--outcome", "upheld", "--text", "维持原处理")
    r = _cli(ws, *decide, "--on", "2026-03-20", "--by", "wang")
    assert r.exit_code == 0 and "decide_review recorded; status issued" not in r.output
    assert "status acknowledged" in r.output and "late" not in r.output
    r = _cli(ws, *decide, "--on", "2026-03-21", "--by", "wang")
    assert r.exit_code == 1 and "no review request awaits a decision" in r.output
    r = _cli(ws, *steps[2], "--by", "li")
    assert r.exit_code == 0, r.output
    r = _cli(ws, "list", "--today", "2026-04-01")
    assert "2026-0001\t已提交整改报告\tH0001 城关镇卫生院" in r.output
    r = _cli(ws, "close", "2026-0001", "--text", "复查到位", "--on", "2026-04-08", "--by", "wang")
    assert r.exit_code == 0 and "status closed" in r.output
    show = _cli(ws, "show", "2026-0001").output
    assert "编号：2026-0001" not in show  # show prints the number in its header line
    assert "现场监督检查违约通知单  2026-0001" in show
    assert "2026-03-12 review_request: 对第1项有异议 — li" in show
    assert "复核 review of 2026-03-12: 维持原通知 upheld 2026-03-20: 维持原处理 — wang" in show
    assert "files match (一致)" in show
    assert "追回医保基金 1,534.50 元；约谈" in show


def test_create_from_a_file_of_items(ws: Path, tmp_path: Path) -> None:
    spec = {
        "fixmedins_code": "H0001",
        "inspection_date": "2026-03-02",
        "inspectors": ["李明", "王芳"],
        "onsite_facts": "现场核查",
        "findings": ["F-001"],
        "rectify_days": 15,
        "items": [
            {
                "rule": "串换项目",
                "facts": "将自费耗材串换为医保耗材",
                "amount_involved": 800,
                "handling": [
                    {"measure": "拒付", "amount": 800},
                    {"measure": "暂停结算", "detail": "1个月"},
                ],
            }
        ],
    }
    path = tmp_path / "notice.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    r = _cli(ws, "create", "--from", str(path), "--by", "li")
    assert r.exit_code == 0, r.output
    show = _cli(ws, "show", "#1").output
    assert "拒付费用 800.00 元；暂停医保结算（1个月）" in show and "草稿 draft" in show


def test_errors_exit_non_zero_with_one_line_and_write_nothing(ws: Path) -> None:
    before = _counts(ws)
    r = _cli(
        ws,
        "create",
        "--institution",
        "H0001",
        "--findings",
        "F-005",
        "--facts",
        "x",
        "--inspection-date",
        "2026-03-02",
        "--inspectors",
        "李明,王芳",
        "--by",
        "li",
    )
    assert r.exit_code == 1
    assert r.output.strip().count("\n") == 0
    assert "F-005 is not a confirmed lead" in r.output
    assert _counts(ws) == before
    assert _create(ws).exit_code == 0
    r = _cli(ws, "close", "#1", "--text", "x", "--by", "li")
    assert r.exit_code == 1 and "is a draft: issue it first" in r.output
    r = _cli(ws, "ack", "2026-0042", "--person", "x", "--by", "li")
    assert r.exit_code == 1 and "no issued notice 2026-0042" in r.output
    assert _cli(ws, "issue", "1", "--on", "2026-03-05", "--by", "li").exit_code == 0
    r = _cli(ws, "statement", "2026-0001", "--text", "迟到", "--on", "2026-03-20", "--by", "li")
    assert r.exit_code == 1 and "after the 2026-03-15 deadline" in r.output
    r = _cli(
        ws, "statement", "2026-0001", "--text", "迟到", "--on", "2026-03-20", "--late", "--by", "li"
    )
    assert r.exit_code == 0 and "flagged late" in r.output


def test_list_overdue(ws: Path) -> None:
    assert _create(ws).exit_code == 0
    assert _cli(ws, "issue", "1", "--on", "2026-03-05", "--by", "li").exit_code == 0
    assert (
        _cli(ws, "list", "--overdue", "--today", "2026-04-04").output.strip() == "no notices (无)"
    )
    out = _cli(ws, "list", "--overdue", "--today", "2026-04-06").output
    assert "2026-0001" in out and "OVERDUE 2d" in out


def test_no_cjk_font_fails_the_issuance_and_voids_its_number(ws: Path, monkeypatch) -> None:
    assert _create(ws).exit_code == 0
    monkeypatch.setenv("HRSS_FRAUD_PDF_FONT", str(ws / "no-such-font.ttf"))
    r = _cli(ws, "issue", "1", "--on", "2026-03-05", "--by", "li")
    assert r.exit_code == 1 and r.output.strip().count("\n") == 0
    assert "number 2026-0001 is void" in r.output and "fonts-wqy-zenhei" in r.output
    assert not (ws / "notices" / "2026-0001").exists()
    monkeypatch.delenv("HRSS_FRAUD_PDF_FONT")
    r = _cli(ws, "issue", "1", "--on", "2026-03-05", "--by", "li")
    assert r.exit_code == 0 and "notice 2026-0002 issued" in r.output


def test_create_without_a_name_takes_the_institutions_name_from_the_lake(
    ws: Path, tiny_county: Path
) -> None:
    """Regression: a notice drafted without --name named the institution by its code only."""
    from hrss_fraud.ingest.pipeline import ingest
    from hrss_fraud.lake import Lake
    from hrss_fraud.notices import get

    ingest(Lake(ws / "lake"), [tiny_county / "reference"])
    r = _cli(
        ws,
        *("create", "--institution", "H13012300002", "--allow-unconfirmed"),
        *("--facts", "现场查见超量开药", "--inspection-date", "2026-03-02"),
        *("--inspectors", "李明、王芳", "--rule", "超量开药", "--amount", "80", "--by", "li"),
    )
    assert r.exit_code == 0, r.output
    assert "draft #1 (草稿): H13012300002 永宁县中医医院," in r.output
    with open_store(ws) as store:
        assert get(store, 1).content.fixmedins_name == "永宁县中医医院"
    r = _create(ws)  # a name given is kept as given
    assert "H0001 城关镇卫生院," in r.output


def test_only_an_account_that_may_issue_notices_records_them(ws: Path) -> None:
    before = _counts(ws)
    for by, message in (
        ("nobody", "--by 'nobody': no such account"),
        ("an", "an (reviewer 审核员) may not plan inspection rounds and issue violation notices"),
    ):
        r = _create(ws, "--by", by)
        assert r.exit_code == 1 and message in r.output and r.output.strip().count("\n") == 0
    assert _counts(ws) == before
    assert _create(ws, "--by", "LI").exit_code == 0
    r = _cli(ws, "issue", "1", "--on", "2026-03-05", "--by", "an")
    assert r.exit_code == 1 and "may not plan inspection rounds" in r.output
    with open_store(ws) as store:
        assert store.query("SELECT created_by FROM notice") == [("li",)]
