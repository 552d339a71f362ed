"""The lead review page in a browser: filter the queue, open a lead, record a decision with
its reason and find it again after a reload (and in the case store), masking by role, the
overview's charts and the Excel export."""

from __future__ import annotations

import json

import polars as pl
import pytest

from hrss_fraud.cases.store import open_store
from hrss_fraud.dashboard.screenshots import FIRST_RULE_CELL, wait_for_rows
from hrss_fraud.outputs.runs_view import open_view


@pytest.fixture(scope="module")
def person_leads(live_dashboard) -> list[dict]:
    """The riskiest lead of each of several people, riskiest first."""
    view = open_view(live_dashboard.workspace)
    return (
        pl.scan_parquet(view.findings_path)
        .filter(pl.col("psn_no").is_not_null())
        .sort("amount_at_risk", "finding_id", descending=[True, False])
        .unique("psn_no", keep="first", maintain_order=True)
        .head(5)
        .collect()
        .to_dicts()
    )


def _filter(page, model: dict) -> None:
    """Set the grid's column filters as a user would through the filter menus."""
    page.evaluate(
        "async (m) => { const api = await dash_ag_grid.getApiAsync('leads-grid');"
        " api.setFilterModel(m); }",
        model,
    )


def _open_person_lead(page, url: str, psn_no: str) -> None:
    page.goto(f"{url}/leads?view=leads")
    wait_for_rows(page)
    _filter(page, {"psn_no": {"filterType": "text", "type": "equals", "filter": psn_no}})
    page.wait_for_function(
        "(p) => [...document.querySelectorAll('.ag-cell[col-id=psn_no]')]"
        ".every(c => c.innerText.trim() === p)",
        arg=psn_no,
    )
    wait_for_rows(page)
    page.click(FIRST_RULE_CELL)
    page.wait_for_selector("#lead-title")


def test_filter_the_queue_by_rule(live_dashboard, page, person_leads) -> None:
    """The rule filter set by its id (as a link sets it) keeps that rule's leads, which the
    grid names by the rule's Chinese name; the id is not on screen."""
    rule, name = person_leads[0]["rule_id"], person_leads[0]["rule_name"]
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/leads?view=leads")
    wait_for_rows(page)
    _filter(page, {"rule_id": {"filterType": "text", "type": "equals", "filter": rule}})
    page.wait_for_function(
        "(r) => { const cells = [...document.querySelectorAll('.ag-cell[col-id=rule_name]')];"
        " return cells.length > 0 && cells.every(c => c.innerText.trim() === r); }",
        arg=name,
    )
    assert page.locator(".ag-cell[col-id='rule_id']").count() == 0
    assert rule not in page.inner_text("#leads-grid")


def test_auditor_sees_masked_id_numbers_and_reviewer_sees_them(
    live_dashboard, browser, person_leads
) -> None:
    lead = person_leads[0]
    shown = {}
    for role in ("auditor", "reviewer"):
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(20_000)
        live_dashboard.login(page, role)
        _open_person_lead(page, live_dashboard.url, lead["psn_no"])
        shown[role] = page.inner_text("#lead-person-certno")
        if role == "auditor":
            assert "无权" in page.inner_text("#lead-panel")  # no decision form
        context.close()
    assert "*" in shown["auditor"]
    assert "*" not in shown["reviewer"]
    assert shown["auditor"][:6] == shown["reviewer"][:6]
    with open_store(live_dashboard.workspace) as store:
        views = store.query(
            "SELECT actor, detail FROM audit_log WHERE action = 'person.view' AND object_id = ?",
            (lead["psn_no"],),
        )
    masked = {actor: json.loads(detail)["masked"] for actor, detail in views}
    assert masked[live_dashboard.accounts["auditor"][0]] is True
    assert masked[live_dashboard.accounts["reviewer"][0]] is False


def test_record_a_decision_and_find_it_after_reload(live_dashboard, page, person_leads) -> None:
    lead = person_leads[1]
    reason = "病历未见相应诊疗记录，确认违规"
    live_dashboard.login(page, "reviewer")
    _open_person_lead(page, live_dashboard.url, lead["psn_no"])
    opened = page.inner_text("#lead-panel")
    page.click("#lead-submit")  # no decision, no reason: refused
    page.wait_for_selector("#lead-message:has-text('须填写理由')")
    page.click("#lead-decision")
    page.get_by_role("option", name="确认违规").click()
    page.fill("#lead-reason", reason)
    page.click("#lead-submit")
    page.wait_for_selector("#lead-message:has-text('已记录')")
    page.reload()
    _open_person_lead(page, live_dashboard.url, lead["psn_no"])
    assert page.inner_text("#lead-title").split("[")[0] in opened
    page.wait_for_selector(f"#lead-history:has-text('{reason}')")
    assert "复审" in page.inner_text("#lead-panel")  # now waits at second review
    with open_store(live_dashboard.workspace) as store:
        decided = store.current_decisions().filter(pl.col("reason") == reason)
    assert decided.height == 1
    row = decided.row(0, named=True)
    assert row["decided_by"] == live_dashboard.accounts["reviewer"][0]
    assert (row["step"], row["decision"]) == ("first_review", "confirmed")


def test_overview_draws_its_charts_in_english(live_dashboard, page) -> None:
    live_dashboard.login(page, "supervisor")
    # the switch is clicked once the Chinese page is drawn (a click before its callbacks are
    # wired is lost); the Chinese page then stays until the English one replaces it
    page.wait_for_selector("#overview-charts .js-plotly-plot")
    page.click("#lang-en")
    page.wait_for_selector("main:has-text('Amount at risk')")
    page.wait_for_selector("#overview-charts .js-plotly-plot")
    assert page.locator("#overview-charts .js-plotly-plot").count() == 5
    assert "Last run" in page.inner_text("#run-status")


def test_export_downloads_the_filtered_leads(live_dashboard, page, person_leads) -> None:
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/leads?view=leads")
    wait_for_rows(page)
    with page.expect_download() as got:
        page.click("#leads-export")
    download = got.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as f:
        assert f.read(2) == b"PK"
