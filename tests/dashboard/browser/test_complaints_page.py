"""举报投诉 in the browser: register through the form, open the complaint, run the check
once per click (a redrawn detail must not run it again), close it, masking by role."""

from __future__ import annotations

from datetime import date

from helpers.ui import choose

from hrss_fraud.cases.store import open_store
from hrss_fraud.complaints.check import checks
from hrss_fraud.complaints.register import get, register
from hrss_fraud.engine.runs import open_run


def _checks(ws, number: str) -> int:
    with open_store(ws) as store:
        return checks(store, number).height


def test_register_check_and_close_a_complaint(live_dashboard, page) -> None:
    ws = live_dashboard.workspace
    inst = open_run(ws).findings().sort("finding_id").item(0, "fixmedins_code")
    live_dashboard.login(page, "reviewer")
    page.goto(f"{live_dashboard.url}/complaints")
    page.fill("#complaint-received", "2025-03-10")
    choose(page, "#complaint-source", "来访")
    page.fill("#complaint-complainant", "李小明")
    page.fill("#complaint-institutions", inst)
    page.fill("#complaint-content", "浏览器登记：挂床住院")
    page.click("#complaint-register")
    page.wait_for_selector("#complaint-register-result:has-text('已登记')")
    number = page.inner_text("#complaint-register-result").split()[-1]
    page.wait_for_selector(f"#complaints-table a:has-text('{number}')").click()
    page.wait_for_selector("#complaint-check")
    assert "李小明" in page.inner_text("#complaint-detail")  # a reviewer may see identities
    page.click("#complaint-check")
    page.wait_for_selector("#complaint-action-result:has-text('疑点')")
    page.wait_for_selector("#complaint-detail:has-text('核查结果')")
    assert _checks(ws, number) == 1
    page.fill("#complaint-outcome-text", "查实挂床2人次")
    choose(page, "#complaint-outcome", "部分属实")
    page.click("#complaint-close")
    page.wait_for_selector(f"#complaint-action-result:has-text('已办结 {number}')")
    with open_store(ws) as store:
        c = get(store, number)
    assert (c.status, c.outcome, c.handler) == ("handled", "partly", "reviewer1")
    assert _checks(ws, number) == 1


def test_an_auditor_sees_the_complainant_masked(live_dashboard, page) -> None:
    with open_store(live_dashboard.workspace) as store:
        number = register(
            store,
            received_on=date(2025, 2, 1),
            source="phone",
            content="浏览器：掩码",
            by="test",
            complainant="欧阳小明",
            contact="13912345678",
        )
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/complaints?number={number}")
    page.wait_for_selector("#complaint-detail")
    text = page.inner_text("#complaint-detail")
    assert "欧阳** 139****5678" in text and "欧阳小明" not in text
    assert "逾期" in page.inner_text("#complaints-table")
