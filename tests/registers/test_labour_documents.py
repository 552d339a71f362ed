"""The labour case's documents: issued at their steps, numbered, hashed, and what the DOCX
says read back word for word; the PDF says the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from helpers.labour_fixtures import HANDLER, HEAD, accounts, walk
from helpers.notice_text import pdf_text

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.registers import labour_cases as lc
from hrss_fraud.registers import labour_documents as ld
from hrss_fraud.registers.documents import DocumentError

UNIT = "县人力资源和社会保障局"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def store(ws: Path) -> Iterator[CaseStore]:
    with open_store(ws) as s:
        accounts(s)
        yield s


def paragraphs(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.text]


def table(path: Path) -> list[list[str]]:
    (t,) = Document(str(path)).tables
    return [[c.text for c in row.cells] for row in t.rows]


AMOUNTS = [
    ["序号", "项目", "金额（元）"],
    ["1", "工资（补发）", "12,345.67"],
    ["2", "社会保险费（补缴）", "5,000.00"],
    ["3", "罚款", "20,000.00"],
]
FACTS = "经调查，查明拖欠23名职工工资12,345.67元，未缴社会保险费5,000元。"
HEAD_FIELDS = [
    "统一社会信用代码：91130123MA0LABOUR1",
    "案件编号：LJ-2026-0001",
]


def test_the_hearing_notice_says_exactly_this(ws: Path, store: CaseStore) -> None:
    case = walk(store, "notify")
    doc = ld.issue(store, ws, case, "hearing_notice", by=HANDLER)
    assert doc.number == "TZ-2026-0001"
    assert paragraphs(doc.docx_path) == [
        "劳动保障监察行政处罚听证告知书",
        "编号：TZ-2026-0001",
        "被告知单位：县宏达建筑劳务有限公司",
        *HEAD_FIELDS,
        "一、违法事实",
        FACTS,
        "以上合计 37,345.67 元。",
        "二、拟作出的处理（处罚）决定",
        "责令支付拖欠工资、补缴社会保险费，并处罚款。",
        "三、听证权利",
        "根据《中华人民共和国行政处罚法》第六十三条、第六十四条的规定，你单位有权要求举行听证，"
        "也可以进行陈述和申辩。要求听证的，请于2026年10月10日前（自本告知书送达之日起3个工作日内）"
        f"向{UNIT}提出；逾期未提出的，视为放弃听证权利。",
        "被告知单位签收：____________　日期：____________",
        f"{UNIT}（盖章）",
        "2026年9月30日",
    ]
    assert table(doc.docx_path) == AMOUNTS
    pdf = "".join(pdf_text(doc.pdf_path).split())
    assert "请于2026年10月10日前（自本告知书送达之日起3个工作日内）" in pdf
    assert "劳动保障监察行政处罚听证告知书" in pdf and "20,000.00" in pdf
    assert ld.verify_document(store, ws, doc.number) == []


def test_the_decision_says_how_the_party_was_heard(ws: Path, store: CaseStore) -> None:
    case = walk(store, "decide")
    doc = ld.issue(store, ws, case, "decision", by=HEAD)
    assert paragraphs(doc.docx_path) == [
        "劳动保障监察行政处理（处罚）决定书",
        "编号：JD-2026-0001",
        "被处理单位：县宏达建筑劳务有限公司",
        *HEAD_FIELDS,
        "单位类型：企业",
        "一、违法事实",
        FACTS + "本局于2026年9月30日向你单位送达听证告知书，你单位于2026年10月9日申请听证，"
        "本局于2026年10月15日依法举行听证。经审核：事实清楚，证据确凿，同意拟定处理意见。",
        "以上合计 37,345.67 元。",
        "二、处理（处罚）决定",
        "依据上述事实，本局决定：责令支付拖欠工资、补缴社会保险费，并处罚款。请于2026年11月9日前"
        f"（自本决定书送达之日起15个工作日内）履行完毕，并将履行情况书面报送{UNIT}。",
        "三、权利告知",
        "如不服本决定，可自收到之日起六十日内依法申请行政复议，或者六个月内依法向人民法院提起"
        "行政诉讼。逾期不申请行政复议、不提起行政诉讼，又不履行本决定的，本局将依法申请人民法院"
        "强制执行。",
        f"{UNIT}（盖章）",
        "2026年10月19日",
    ]
    assert table(doc.docx_path) == AMOUNTS


def test_an_advance_notice_gives_the_right_to_a_statement(ws: Path, store: CaseStore) -> None:
    case = walk(store, "investigate")
    lc.notify(store, case, kind="advance", proposal="责令支付拖欠工资。",
              amounts={"back_wages": "12345.67"}, by=HANDLER, on=date(2026, 9, 29))  # fmt: skip
    with pytest.raises(DocumentError, match="不能出具劳动保障监察行政处罚听证告知书"):
        ld.issue(store, ws, case, "hearing_notice", by=HANDLER)
    doc = ld.issue(store, ws, case, "advance_notice", by=HANDLER)
    text = paragraphs(doc.docx_path)
    assert "责令支付拖欠工资。" in text  # the typed 。 is not doubled
    assert (
        "根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你单位有权进行陈述和申辩。"
        "请于2026年10月9日前（自本告知书送达之日起3个工作日内）"
        f"向{UNIT}提出；逾期未提出的，视为放弃上述权利。"
    ) in text
    assert text[-1] == "2026年9月29日"


def test_inquiry_notices_are_numbered_one_per_visit(ws: Path, store: CaseStore) -> None:
    case = walk(store, "investigate")
    args = {"appear_on": date(2026, 10, 9), "appear_at": "上午9时", "place": "县劳动保障监察大队"}
    first = ld.issue(store, ws, case, "inquiry_notice", by=HANDLER, on=date(2026, 9, 29),
                     materials=["2026年6月至8月工资支付记录", "劳动合同"], **args)  # fmt: skip
    second = ld.issue(store, ws, case, "inquiry_notice", by=HANDLER, on=date(2026, 9, 30),
                      materials=["社会保险缴费记录"], **args)  # fmt: skip
    assert (first.number, second.number) == ("XW-2026-0001", "XW-2026-0002")
    text = paragraphs(first.docx_path)
    assert text[:3] == [
        "劳动保障监察调查询问通知书",
        "编号：XW-2026-0001",
        "用人单位：县宏达建筑劳务有限公司",
    ]
    assert (
        "请你单位法定代表人（主要负责人）或者委托代理人于2026年10月9日上午9时到县劳动保障监察大队"
        "接受调查询问，并提供上述材料（复印件须加盖单位公章）。"
    ) in text
    assert (
        "因你单位涉嫌在参加各项社会保险和缴纳社会保险费、支付劳动者工资和执行最低工资标准方面违反劳动"
        "保障法律、法规或者规章，本局已立案调查。"
    ) in text[6]
    assert table(first.docx_path) == [
        ["序号", "须提供的材料"],
        ["1", "2026年6月至8月工资支付记录"],
        ["2", "劳动合同"],
    ]
    with pytest.raises(DocumentError, match="须写明接受询问的日期、地点和须提供的材料"):
        ld.issue(store, ws, case, "inquiry_notice", by=HANDLER, materials=[], **args)


def test_the_closing_record_lists_every_step_and_the_documents(ws: Path, store: CaseStore) -> None:
    case = walk(store, "close")
    ld.issue(store, ws, case, "hearing_notice", by=HANDLER)
    ld.issue(store, ws, case, "decision", by=HEAD)
    doc = ld.issue(store, ws, case, "closing_record", by=HEAD)
    rows = table(doc.docx_path)
    assert rows[0] == ["序号", "程序", "日期", "办理人", "办理情况"]
    assert [r[1] for r in rows[1:]] == [
        "登记", "初步核查", "批准立案", "调查取证", "送达告知书", "申请听证", "举行听证",
        "案件审核", "作出并送达处理决定", "履行缴付", "履行缴付", "履行缴付", "执行监督",
        "结案归档",
    ]  # fmt: skip
    assert rows[7][2:] == ["2026年10月15日", "孙明", "当事人对欠薪事实无异议，请求减轻罚款。"]
    assert rows[10][4] == "工资（补发）12,345.67元（银行回单）"
    text = paragraphs(doc.docx_path)
    assert "办案期限：2026年12月25日" in text
    assert (
        "责令缴付合计 37,345.67 元，已履行 37,345.67 元，未履行 0.00 元。执行情况：已全部履行。"
        in text
    )
    assert (
        "劳动保障监察行政处理（处罚）决定书（JD-2026-0001）；"
        "劳动保障监察行政处罚听证告知书（TZ-2026-0001）"
    ) in text


def test_a_document_before_its_step_or_twice_is_refused(ws: Path, store: CaseStore) -> None:
    case = walk(store, "review")
    with pytest.raises(DocumentError, match="当前处于「陈述申辩或听证、案件审核」，不能出具"):
        ld.issue(store, ws, case, "decision", by=HEAD)
    with pytest.raises(DocumentError, match="不能出具劳动保障监察案件结案记录"):
        ld.issue(store, ws, case, "closing_record", by=HEAD)
    ld.issue(store, ws, case, "hearing_notice", by=HANDLER)
    with pytest.raises(DocumentError, match="已出具"):
        ld.issue(store, ws, case, "hearing_notice", by=HANDLER)
    with pytest.raises(DocumentError, match="未知的文书种类"):
        ld.issue(store, ws, case, "memo", by=HANDLER)
    actions = [a for (a,) in store.query("SELECT action FROM audit_log WHERE object_type = ?",
                                         ("labour_document",))]  # fmt: skip
    assert actions == ["labour.document.number", "labour.document.issue"]


def test_a_changed_file_no_longer_verifies(ws: Path, store: CaseStore) -> None:
    case = walk(store, "decide")
    doc = ld.issue(store, ws, case, "decision", by=HEAD)
    doc.pdf_path.write_bytes(doc.pdf_path.read_bytes() + b"%")
    assert ld.verify_document(store, ws, doc.number) == [
        f"supervision/labour/{doc.number}/{doc.number}.pdf differs from what was issued (SHA-256)"
    ]


def test_a_deadline_in_a_year_the_calendar_lacks_is_marked_in_the_notice(
    ws: Path, store: CaseStore
) -> None:
    case = walk(store, "investigate")
    # served Tuesday 29 December 2026: 30 and 31 December, then Friday 1 January 2027,
    # counted as a working day while 2027 is not in the calendar
    lc.notify(store, case, kind="advance", proposal="责令支付拖欠工资。",
              amounts={"back_wages": "12345.67"}, by=HANDLER, on=date(2026, 12, 29))  # fmt: skip
    doc = ld.issue(store, ws, case, "advance_notice", by=HANDLER, on=date(2026, 12, 29))
    assert (
        "根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你单位有权进行陈述和申辩。"
        "请于2027年1月1日（暂按周末推算，待国务院公布2027年放假安排后更新）前"
        f"（自本告知书送达之日起3个工作日内）向{UNIT}提出；逾期未提出的，视为放弃上述权利。"
    ) in paragraphs(doc.docx_path)
