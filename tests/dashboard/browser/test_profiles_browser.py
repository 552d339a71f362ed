"""The profile, rule and audit pages in the real dashboard: charts drawn with data, the
person's view masked and logged, the rule page, the audit log for admins only. Each test
saves a screenshot of its page to docs/screenshots/."""

from __future__ import annotations

import re

import polars as pl
from helpers.ui import shot
from playwright.sync_api import expect

from hrss_fraud.cases.store import open_store
from hrss_fraud.engine.runs import open_run
from hrss_fraud.outputs.profile_data import PROFILE_LEADS


def _busiest(live_dashboard, column: str) -> str:
    findings = open_run(live_dashboard.workspace).findings().drop_nulls(column)
    return findings[column].mode().sort()[0]


def test_institution_profile_draws_its_charts(live_dashboard, page, tmp_path) -> None:
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/institution")
    page.wait_for_selector("#institution-pick")
    code = _busiest(live_dashboard, "fixmedins_code")
    page.goto(f"{live_dashboard.url}/institution/{code}")
    page.wait_for_selector("#institution-title")
    page.wait_for_selector("#institution-peers .main-svg")
    boxes = page.locator("#institution-peers .main-svg g.trace.boxes")
    assert boxes.count() == 6  # one box per indicator, each with data
    assert page.locator("#institution-trend .main-svg g.trace.bars path").count() > 0
    assert page.locator("#institution-peer-table tbody tr").count() == 6
    page.wait_for_selector("#institution-leads .ag-row")
    n = open_run(live_dashboard.workspace).findings().filter(pl.col("fixmedins_code") == code)
    assert n.height > PROFILE_LEADS  # the grid lists the riskiest; the heading says so
    assert page.locator(f"h2:has-text('共{n.height}条，列出风险最高的{PROFILE_LEADS}条')").count()
    page.locator("#institution-leads .ag-row").first.scroll_into_view_if_needed()
    page.locator("#institution-leads .ag-row").first.wait_for(state="visible")
    months = page.locator("#institution-trend .xtick text").all_text_contents()
    assert months and all(re.fullmatch(r"\d{4}年\d{1,2}月", m) for m in months), months
    assert page.text_content("#institution-trend .g-ytitle") == "金额（万元）"
    pager_panel = page.locator("#institution-leads .ag-paging-panel")
    expect(pager_panel).to_contain_text("第")  # the grid fills its pager after drawing rows
    expect(pager_panel).not_to_contain_text(re.compile(r"\b(Page|of|to)\b"))
    shot(page, tmp_path, "institution_profile")
    page.locator("#institution-doctors a").first.click()
    page.wait_for_selector("#doctor-volume .main-svg g.trace.bars path")
    shot(page, tmp_path, "doctor_profile")


def test_person_timeline_is_masked_for_an_auditor_and_logged(
    live_dashboard, page, tmp_path
) -> None:
    psn = _busiest(live_dashboard, "psn_no")
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/person/{psn}")
    page.wait_for_selector("#person-timeline .main-svg g.trace.scatter path.point")
    ticks = page.locator("#person-timeline .xtick text").all_text_contents()
    assert ticks and all(re.search(r"\d+月", t) for t in ticks), ticks
    assert not any(re.search(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec", t) for t in ticks)
    settlements = page.inner_text("#person-settlements")
    assert "True" not in settlements and "是" in settlements
    assert "已脱敏" in page.inner_text("#person-title")
    assert "*" in page.inner_text("#person-identity")
    shot(page, tmp_path, "person_timeline")
    with open_store(live_dashboard.workspace) as store:
        log = store.audit_log(psn).filter(pl.col("action") == "person.view")
    assert live_dashboard.accounts["auditor"][0] in log["actor"].to_list()


def test_rule_catalogue_lists_rules_and_hides_the_form_from_auditors(
    live_dashboard, page, tmp_path
) -> None:
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/rules?rule=split_admission")
    page.wait_for_selector("#rules-params tbody tr")
    page.wait_for_selector("#rules-table .ag-row")
    assert page.locator("#rules-table .ag-row").count() > 50  # every rule drawn
    assert page.locator("#rules-save").count() == 0
    shot(page, tmp_path, "rule_catalogue")


def test_a_supervisor_changes_a_parameter_with_a_reason(live_dashboard, page, tmp_path) -> None:
    live_dashboard.login(page, "supervisor")
    page.goto(f"{live_dashboard.url}/rules?rule=split_admission")
    page.wait_for_selector("#rules-save")
    page.fill("#rules-value", "14")
    page.click("#rules-save")
    page.wait_for_selector("#rules-message .error")  # no reason: refused
    page.fill("#rules-value", "14")
    page.fill("#rules-reason", "浏览器测试")
    page.click("#rules-save")
    page.wait_for_selector("#rules-message:has-text('14')")
    with open_store(live_dashboard.workspace) as store:
        log = store.audit_log("split_admission")
    assert log["action"].to_list()[-1] == "parameter.change"


def test_the_audit_log_is_for_admins_only(live_dashboard, page, tmp_path) -> None:
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/audit")
    page.wait_for_selector("#guard-refused:has-text('查阅审计日志')")
    assert page.locator("#audit-table").count() == 0
    assert "审计日志" not in page.inner_text("header")
    page.click("#logout")
    live_dashboard.login(page, "admin")
    page.goto(f"{live_dashboard.url}/audit")
    page.wait_for_selector("#audit-table tbody tr")
    assert "登录成功" in page.inner_text("#audit-table")
    shot(page, tmp_path, "audit_log")
