"""``hrss-fraud labour``, invoked as its own group: one case through the nine steps with a
hearing, its documents, the list with deadlines; refusals are one line and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.group_cli import group_calls
from helpers.labour_fixtures import EMPLOYER, HANDLER, HEAD, HEAD2, accounts

from hrss_fraud.cases import open_store
from hrss_fraud.cli.labour import labour


@pytest.fixture
def cli_ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    with open_store(ws) as store:
        accounts(store)
    return ws


ok, refused = group_calls(labour)


def _events(ws: Path) -> int:
    with open_store(ws) as store:
        return store.query("SELECT count(*) FROM labour_case_event")[0][0]


def test_one_case_through_the_nine_steps_from_the_command_line(cli_ws: Path) -> None:
    out = ok(
        cli_ws, "case", "new", "--employer-code", EMPLOYER["employer_code"],
        "--employer-name", EMPLOYER["employer_name"], "--employer-kind", "企业",
        "--source", "complaint", "--areas", "wages，social_insurance",
        "--summary", "职工投诉拖欠工资", "--on", "2026-09-24", "--by", HANDLER,
    )  # fmt: skip
    assert out.startswith("LJ-2026-0001\t县宏达建筑劳务有限公司\t下一步 next: 初步核查")
    case = "LJ-2026-0001"
    steps = [
        ("preliminary", "--text", "属实", "--on", "2026-09-25", "--by", HANDLER),
        ("file", "--on", "2026-09-28", "--by", HEAD),
        ("investigate", "--text", "查明欠薪12,345.67元。", "--on", "2026-09-29", "--by", HANDLER),
        ("notify", "--kind", "hearing", "--text", "责令支付拖欠工资并处罚款",
         "--amount", "back_wages=12345.67", "--amount", "fine=20000",
         "--on", "2026-09-30", "--by", HANDLER),
        ("hearing-request", "--on", "2026-10-10", "--by", HANDLER),
        ("hearing", "--text", "听证笔录", "--on", "2026-10-15", "--by", HEAD2),
        ("review", "--text", "同意", "--on", "2026-10-16", "--by", HEAD),
        ("decide", "--text", "责令支付拖欠工资并处罚款", "--amount", "back_wages=12345.67",
         "--amount", "fine=20000", "--on", "2026-10-19", "--by", HEAD),
        ("payment", "--amount", "back_wages=12345.67", "--on", "2026-11-02", "--by", HANDLER),
        ("payment", "--amount", "fine=20000", "--text", "银行回单", "--on", "2026-11-02",
         "--by", HANDLER),
        ("execute", "--how", "complied", "--text", "已履行", "--on", "2026-11-03", "--by", HEAD),
    ]  # fmt: skip
    outputs = [ok(cli_ws, "case", "step", case, *s) for s in steps]
    assert "下一步 next: 陈述申辩或听证、案件审核\t期限 due 2026-12-25" in outputs[3]
    assert "期限 due 2026-11-09" in outputs[7]
    listed = ok(cli_ws, "case", "list", "--employer", EMPLOYER["employer_code"], "--today",
                "2026-11-03")  # fmt: skip
    assert listed == "LJ-2026-0001\t县宏达建筑劳务有限公司\t结案归档\t—\t未缴 ¥0.00\n"
    ok(cli_ws, "case", "step", case, "close", "--text", "结案", "--on", "2026-11-04", "--by", HEAD)
    for kind in ("hearing_notice", "decision", "closing_record"):
        assert ok(cli_ws, "case", "docs", case, kind, "--by", HEAD).startswith(
            {"hearing_notice": "TZ", "decision": "JD", "closing_record": "JA"}[kind] + "-2026-0001"
        )
    shown = ok(cli_ws, "case", "show", case)
    assert "当前 Step: 结案归档  下一步 Next: —" in shown
    assert "工资（补发）: 责令 ¥12,345.67  已缴 ¥12,345.67  未缴 ¥0.00" in shown
    assert "JA-2026-0001  劳动保障监察案件结案记录  issued" in shown


def test_refusals_are_one_line_and_write_nothing(cli_ws: Path) -> None:
    ok(cli_ws, "case", "new", "--employer-code", "X1", "--employer-name", "某商店",
       "--employer-kind", "individual", "--source", "patrol", "--areas", "hours",
       "--summary", "巡查发现超时加班", "--on", "2026-09-24", "--by", HANDLER)  # fmt: skip
    before = _events(cli_ws)
    line = refused(cli_ws, "case", "step", "LJ-2026-0001", "file", "--on", "2026-09-25",
                   "--by", HEAD)  # fmt: skip
    assert "当前处于「登记」，不能批准立案，下一步：初步核查" in line
    assert "无此劳动保障监察案件 LJ-2026-0404" in refused(cli_ws, "case", "show", "LJ-2026-0404")
    assert "无权初步核查" in refused(
        cli_ws, "case", "step", "1", "preliminary", "--text", "x", "--on", "2026-09-25",
        "--by", "qian",
    )  # fmt: skip
    assert "--amount 须写作 类别=金额" in refused(
        cli_ws, "case", "step", "1", "decide", "--amount", "12345", "--by", HEAD
    )
    assert "不能出具劳动保障监察行政处理（处罚）决定书" in refused(
        cli_ws, "case", "docs", "1", "decision", "--by", HEAD
    )
    assert "早于工作日日历的起始年份 2024 年" in refused(
        cli_ws, "case", "step", "1", "preliminary", "--text", "x", "--on", "2023-12-29",
        "--by", HANDLER,
    )  # fmt: skip
    assert _events(cli_ws) == before


PROVISIONAL = (
    "（暂按周末推算，待国务院公布2027年放假安排后更新 "
    "provisional: weekends only until the 2027 holiday arrangement is published）"
)


def test_a_deadline_in_a_year_the_calendar_lacks_is_marked_provisional(cli_ws: Path) -> None:
    ok(cli_ws, "case", "new", "--employer-code", "X2", "--employer-name", "某餐馆",
       "--employer-kind", "individual", "--source", "patrol", "--areas", "hours",
       "--summary", "巡查发现超时加班", "--on", "2026-12-04", "--by", HANDLER)  # fmt: skip
    ok(cli_ws, "case", "step", "1", "preliminary", "--text", "属实", "--on", "2026-12-07",
       "--by", HANDLER)  # fmt: skip
    out = ok(cli_ws, "case", "step", "1", "file", "--on", "2026-12-07", "--by", HEAD)
    assert out.endswith(f"期限 due 2027-03-01{PROVISIONAL}\n")
    listed = ok(cli_ws, "case", "list", "--today", "2026-12-07")
    assert f"\t2027-03-01{PROVISIONAL}\t" in listed
    shown = ok(cli_ws, "case", "show", "1", "--today", "2026-12-07")
    assert f"期限 Due: 2027-03-01{PROVISIONAL}" in shown
    assert f"  办案期限: 2027-03-01{PROVISIONAL}" in shown
