"""劳动保障监察 in the browser: one case walked through all nine steps by three people (a
handler, the head, and another head who presides the hearing), across Mid-Autumn and
National Day 2026: the hearing notice's window ends on the 调休 Saturday 10 October, a
request after it is refused, the review waits for the hearing; the documents are issued on
the page and read back from their DOCX word for word.

The accounts are made through the library; every step of the case goes through the page.
Each step waits for the page's list to be redrawn after it (its ``data-version`` is the
page's change counter), never for a fixed time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from helpers.labour_fixtures import EMPLOYER, HANDLER, HEAD, HEAD2, PASSWORD, accounts
from helpers.ui import shot

from hrss_fraud.cases.store import open_store
from hrss_fraud.dashboard.screenshots import VIEWPORT, login, running
from hrss_fraud.registers.labour_views import get_case

CASE = "LJ-2026-0001"


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    ws = tmp_path_factory.mktemp("labour") / "ws"
    with open_store(ws) as store:
        accounts(store)
    with running(ws) as url:
        yield url, ws


class Desk:
    """One person's browser page on /labour, and how many changes it has made there."""

    def __init__(self, browser, url: str, username: str) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        login(self.page, url, username, PASSWORD)
        self.page.goto(f"{url}/labour")
        self.page.wait_for_selector("#labour-list > div[data-version='0']")
        self.version = 0

    def changed(self, result: str, text: str) -> None:
        """Wait for the list redrawn after one more change, then for ``text`` in ``result``."""
        self.version += 1
        self.page.wait_for_selector(f"#labour-list > div[data-version='{self.version}']")
        self.page.wait_for_selector(f"{result}:has-text('{text}')")

    def refused(self, result: str, text: str) -> None:
        self.page.wait_for_selector(f"{result} .error:has-text('{text}')")

    def step(self, action: str, on: str, text: str = "", amounts: str = "", **radio: str) -> None:
        p = self.page
        p.fill("#labour-step-case", CASE)
        p.fill("#labour-step-on", on)
        p.check(f"#labour-step-action input[value='{action}']")
        p.fill("#labour-step-text", text)
        p.fill("#labour-step-amounts", amounts)
        for name, value in radio.items():
            p.check(f"#labour-step-{name} input[value='{value}']")
        p.click("#labour-step-submit")

    def document(self, kind: str, **fields: str) -> None:
        p = self.page
        p.fill("#labour-doc-case", CASE)
        p.check(f"#labour-doc-kind input[value='{kind}']")
        for name, value in fields.items():
            p.fill(f"#labour-doc-{name}", value)
        p.click("#labour-doc-submit")


def _paragraphs(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.text]


AMOUNTS = "back_wages=12345.67\ncontributions=5000\nfine=20000"


def test_one_case_through_nine_steps_with_a_hearing(bureau, browser, tmp_path: Path) -> None:
    url, ws = bureau
    handler, head, presider = (Desk(browser, url, u) for u in (HANDLER, HEAD, HEAD2))
    try:
        _walk(handler, head, presider, ws, tmp_path)
    finally:
        for desk in (handler, head, presider):
            desk.context.close()


def _walk(handler: Desk, head: Desk, presider: Desk, ws: Path, tmp_path: Path) -> None:
    p = handler.page
    p.fill("#labour-new-code", EMPLOYER["employer_code"])
    p.fill("#labour-new-name", EMPLOYER["employer_name"])
    p.fill("#labour-new-on", "2026-09-24")
    p.check("#labour-new-areas input[value='wages']")
    p.check("#labour-new-areas input[value='social_insurance']")
    p.fill("#labour-new-summary", "职工23人投诉该公司拖欠2026年6月至8月工资。")
    p.click("#labour-new-submit")
    handler.changed("#labour-new-result", f"已登记案件 {CASE}")
    # five working days skip Mid-Autumn and National Day: filing is due on 9 October
    p.wait_for_selector(f"#labour-table tr:has-text('{CASE}'):has-text('2026-10-09')")

    handler.step("preliminary", "2026-09-25", "初步核查属实，工资表显示欠薪。")
    handler.changed("#labour-step-result", "已办理「初步核查」，下一步：立案")
    handler.step("file", "2026-09-28")
    handler.refused("#labour-step-result", "无权批准立案")
    head.step("file", "2026-09-28")
    head.changed("#labour-step-result", "已办理「批准立案」")
    head.page.wait_for_selector(f"#labour-table tr:has-text('{CASE}'):has-text('2026-12-25')")

    handler.step(
        "investigate", "2026-09-29", "查明拖欠23名职工工资12,345.67元，未缴社会保险费5,000元。"
    )
    handler.changed("#labour-step-result", "已办理「调查取证」")
    visit = {"appear-on": "2026-10-09", "appear-at": "上午9时", "place": "县劳动保障监察大队"}
    handler.document("inquiry_notice", **visit, materials="工资支付记录\n劳动合同")
    handler.changed("#labour-doc-result", "已出具 XW-2026-0001")

    handler.step("notify", "2026-09-30", "责令支付拖欠工资、补缴社会保险费，并处罚款", AMOUNTS,
                 kind="hearing")  # fmt: skip
    handler.changed("#labour-step-result", "已办理「送达告知书」")
    handler.step("hearing_request", "2026-10-12", "当事人书面申请听证")
    handler.refused("#labour-step-result", "听证申请期限已于 2026-10-10 届满")
    handler.step("hearing_request", "2026-10-10", "当事人书面申请听证")  # the 调休 Saturday
    handler.changed("#labour-step-result", "已办理「登记听证申请」")
    handler.document("hearing_notice")
    handler.changed("#labour-doc-result", "已出具 TZ-2026-0001")

    head.step("review", "2026-10-16", "同意")
    head.refused("#labour-step-result", "须先举行听证再审核")
    presider.step("hearing", "2026-10-15", "当事人对欠薪事实无异议，请求减轻罚款。")
    presider.changed("#labour-step-result", "已办理「举行听证」")
    head.step("review", "2026-10-16", "事实清楚，证据确凿，同意拟定处理意见。")
    head.changed("#labour-step-result", "下一步：作出并送达处理决定")
    head.step("decide", "2026-10-19", "责令支付拖欠工资、补缴社会保险费，并处罚款", AMOUNTS)
    head.changed("#labour-step-result", "已办理「作出并送达处理决定」")
    head.document("decision")
    head.changed("#labour-doc-result", "已出具 JD-2026-0001")

    for line in AMOUNTS.splitlines():
        handler.step("payment", "2026-11-02", "银行回单", line)
        handler.changed("#labour-step-result", "已办理「登记履行（缴付）」")
    head.step("execute", "2026-11-03", "已全部履行", how="complied")
    head.changed("#labour-step-result", "下一步：结案归档")
    head.step("close", "2026-11-04", "处理决定已履行完毕，结案归档。")
    head.changed("#labour-step-result", "已办理「结案归档」")
    head.document("closing_record")
    head.changed("#labour-doc-result", "已出具 JA-2026-0001")

    head.page.fill("#labour-detail-case", CASE)
    head.page.click("#labour-detail-show")
    head.page.wait_for_selector("#labour-amounts tr:has-text('工资（补发）'):has-text('0.00')")
    assert head.page.locator("#labour-events tbody tr").count() == 14
    assert head.page.locator("#labour-docs tbody tr").count() == 4
    shot(head.page, tmp_path, "labour")
    head.page.fill("#labour-employer", "91130123MA0OTHER00")
    head.page.wait_for_selector("#labour-list:has-text('暂无案件')")
    head.page.fill("#labour-employer", EMPLOYER["employer_code"])
    head.page.wait_for_selector(f"#labour-table tr:has-text('{CASE}'):has-text('结案归档')")

    with open_store(ws) as store:
        c = get_case(store, CASE, workspace=ws)
    assert (c["status"], c["reply_due"], c["conclude_by"], c["pay_by"]) == (
        "closed",
        "2026-10-10",
        "2026-12-25",
        "2026-11-09",
    )
    assert [e["actor"] for e in c["events"] if e["action"] == "hearing"] == [HEAD2]
    files = {d["kind"]: ws / d["docx_path"] for d in c["documents"]}
    hearing = _paragraphs(files["hearing_notice"])
    assert hearing[:3] == [
        "劳动保障监察行政处罚听证告知书",
        "编号：TZ-2026-0001",
        "被告知单位：县宏达建筑劳务有限公司",
    ]
    assert (
        "根据《中华人民共和国行政处罚法》第六十三条、第六十四条的规定，你单位有权要求举行听证，"
        "也可以进行陈述和申辩。要求听证的，请于2026年10月10日前（自本告知书送达之日起3个工作日内）"
        "向县人力资源和社会保障局提出；逾期未提出的，视为放弃听证权利。"
    ) in hearing
    decision = _paragraphs(files["decision"])
    assert (
        "经调查，查明拖欠23名职工工资12,345.67元，未缴社会保险费5,000元。本局于2026年9月30日向你单位"
        "送达听证告知书，你单位于2026年10月10日申请听证，本局于2026年10月15日依法举行听证。"
        "经审核：事实清楚，证据确凿，同意拟定处理意见。"
    ) in decision
    assert decision[-1] == "2026年10月19日"
    closing = _paragraphs(files["closing_record"])
    assert (
        "责令缴付合计 37,345.67 元，已履行 37,345.67 元，未履行 0.00 元。执行情况：已全部履行。"
        in closing
    )
    assert "结案日期：2026年11月4日" in closing
    assert date.fromisoformat(c["closed_on"]) == date(2026, 11, 4)
