"""举报投诉 in the browser: register through the form choosing targets by name, open the
complaint, run the check over the lake's period once per click (a redrawn detail must not
run it again), close it, masking by role."""

from __future__ import annotations

import json
import re
from datetime import date

from helpers.ui import choose

from hrss_fraud.cases.store import open_store
from hrss_fraud.complaints.check import checks
from hrss_fraud.complaints.register import get, register
from hrss_fraud.engine.runs import institution_names, open_run
from hrss_fraud.lake import Lake

NUMBER = re.compile(r"编号 (\d{4}-\d{4})")


def _checks(ws, number: str) -> int:
    with open_store(ws) as store:
        return checks(store, number).height


def _pick(page, dropdown: str, typed: str, label: str) -> None:
    """Type ``typed`` into a searchable dropdown and choose the suggestion ``label``; wait
    until the dropdown shows it chosen."""
    page.wait_for_selector(dropdown).click()
    page.locator("input.dash-dropdown-search:visible").fill(typed)  # once the list is open
    page.locator("[role='option']").filter(has_text=label).first.click()
    page.wait_for_function(
        "([sel, label]) => document.querySelector(sel).innerText.includes(label)",
        arg=[dropdown, label],
    )
    page.keyboard.press("Escape")


def _most_leads_institution(ws) -> tuple[str, str]:
    inst = open_run(ws).findings().sort("finding_id").item(0, "fixmedins_code")
    names = institution_names(Lake(ws / "lake"))
    return inst, names.filter(names["fixmedins_code"] == inst).item(0, "fixmedins_name")


def test_the_supervisor_registers_by_name_and_the_check_finds_the_settlements(
    live_dashboard, page
) -> None:
    """Received today (long after the county's data): the check's default period is the
    lake's data on the institution, so it finds its settlements, not a silent zero."""
    ws = live_dashboard.workspace
    inst, name = _most_leads_institution(ws)
    live_dashboard.login(page, "supervisor")
    page.goto(f"{live_dashboard.url}/complaints")
    page.fill("#complaint-received", str(date.today()))
    _pick(page, "#complaint-institutions", name[2:], f"{name} {inst}")
    page.fill("#complaint-content", "浏览器登记：按名称选择机构")
    page.click("#complaint-register")  # no source yet: refused, every field kept
    page.wait_for_selector("#complaint-register-result .error:has-text('请填写来源')")
    assert page.input_value("#complaint-content") == "浏览器登记：按名称选择机构"
    assert inst in page.inner_text("#complaint-institutions")
    choose(page, "#complaint-source", "电话")
    page.click("#complaint-register")
    page.wait_for_selector("#complaint-register-result:has-text('已登记举报投诉')")
    number = NUMBER.search(page.inner_text("#complaint-register-result")).group(1)
    page.wait_for_function("() => document.querySelector('#complaint-content').value === ''")
    assert page.input_value("#complaint-received") == ""
    assert inst not in page.inner_text("#complaint-institutions")  # the form is cleared
    with open_store(ws) as store:
        assert get(store, number).institutions == (inst,)
    page.wait_for_selector(f"#complaints-table a:has-text('{number}')").click()
    page.wait_for_selector("#complaint-check")
    assert f"{name} {inst}" in page.inner_text("#complaint-detail")
    con = Lake(ws / "lake").connect()
    first, last, n = con.execute(
        "SELECT min(setl_time)::DATE, max(setl_time)::DATE, count(*) FROM settlement "
        "WHERE fixmedins_code = ?",
        [inst],
    ).fetchone()
    con.close()
    assert page.input_value("#complaint-check-from") == str(first)
    assert page.input_value("#complaint-check-to") == str(last)
    page.click("#complaint-check")
    page.wait_for_selector(f"#complaint-action-result:has-text('结算{n:,}笔')")
    assert n > 0 and "无结算数据" not in page.inner_text("#complaint-action-result")
    page.wait_for_selector("#complaint-detail:has-text('核查结果')")
    with open_store(ws) as store:
        stored = checks(store, number).row(0, named=True)
    assert json.loads(stored["detail"])["activity"][0]["n_settlements"] == n
    assert (stored["date_from"], stored["date_to"]) == (str(first), str(last))


def test_register_check_and_close_a_complaint(live_dashboard, page) -> None:
    ws = live_dashboard.workspace
    inst, name = _most_leads_institution(ws)
    live_dashboard.login(page, "reviewer")
    page.goto(f"{live_dashboard.url}/complaints")
    page.fill("#complaint-received", "2025-03-10")
    choose(page, "#complaint-source", "来访")
    page.fill("#complaint-complainant", "李小明")
    _pick(page, "#complaint-institutions", inst, f"{name} {inst}")
    page.fill("#complaint-content", "浏览器登记：挂床住院")
    page.click("#complaint-register")
    page.wait_for_selector("#complaint-register-result:has-text('已登记')")
    number = NUMBER.search(page.inner_text("#complaint-register-result")).group(1)
    page.wait_for_selector(f"#complaints-table a:has-text('{number}')").click()
    page.wait_for_selector("#complaint-check")
    assert "李小明" in page.inner_text("#complaint-detail")  # a reviewer may see identities
    last = page.input_value("#complaint-check-to")
    page.fill("#complaint-check-from", last)  # one day: a narrower period than the default
    page.click("#complaint-check")
    page.wait_for_selector("#complaint-action-result:has-text('疑点')")
    page.wait_for_selector("#complaint-detail:has-text('核查结果')")
    assert _checks(ws, number) == 1
    with open_store(ws) as store:
        assert checks(store, number).row(0, named=True)["date_from"] == last
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


def test_an_auditor_finds_a_person_by_number_and_sees_the_name_masked(live_dashboard, page) -> None:
    con = Lake(live_dashboard.workspace / "lake").connect()
    psn, name = con.execute(
        "SELECT psn_no, psn_name FROM person WHERE length(psn_name) = 3 ORDER BY psn_no LIMIT 1"
    ).fetchone()
    con.close()
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/complaints")
    _pick(page, "#complaint-persons", psn, f"{name[0]}** {psn}")
    assert name not in page.inner_text("#complaint-persons")
    page.fill("#complaint-received", "2025-03-01")
    choose(page, "#complaint-source", "信件")
    page.fill("#complaint-content", "浏览器登记：按编号选择参保人")
    page.click("#complaint-register")
    page.wait_for_selector("#complaint-register-result:has-text('已登记举报投诉')")
    number = NUMBER.search(page.inner_text("#complaint-register-result")).group(1)
    with open_store(live_dashboard.workspace) as store:
        assert get(store, number).persons == (psn,)
    page.goto(f"{live_dashboard.url}/complaints?number={number}")
    page.wait_for_selector(f"#complaint-detail:has-text('{name[0]}** {psn}')")
    assert name not in page.inner_text("#complaint-detail")
