"""The lead queue by role, in a browser: an auditor gets no decision controls and flags a
lead for review (提请审核); a reviewer finds the flagged lead first, records its 初审 and is
not offered its 复审; a supervisor records the 复审 of a lead someone else first reviewed,
but not of one they first reviewed themselves; the lines grid shows no raw field name.

Each test works on leads of its own: people with a single lead, the smallest amounts (the
other browser tests take the riskiest)."""

from __future__ import annotations

import re

import polars as pl
import pytest

from hrss_fraud.cases.flags import flag, flags
from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.vocab import STEPS
from hrss_fraud.cases.workflow import decide
from hrss_fraud.dashboard.screenshots import wait_for_rows
from hrss_fraud.model.schema import TABLES
from hrss_fraud.outputs.runs_view import open_view

RAW_NAMES = {f.name for t in TABLES.values() for f in t.fields}


@pytest.fixture(scope="module")
def own_leads(live_dashboard) -> list[dict]:
    """Leads of people who have no other lead, smallest amount first."""
    view = open_view(live_dashboard.workspace)
    findings = pl.scan_parquet(view.findings_path).filter(pl.col("psn_no").is_not_null())
    alone = findings.group_by("psn_no").len().filter(pl.col("len") == 1).select("psn_no")
    return (
        findings.join(alone, on="psn_no")
        .sort("amount_at_risk", "finding_id")
        .head(4)
        .collect()
        .to_dicts()
    )


def _open(page, url: str, lead: dict, query: str = "") -> None:
    """The queue narrowed to the lead's person, the lead opened in the panel."""
    page.goto(f"{url}/leads?view=leads&person={lead['psn_no']}{query}")
    wait_for_rows(page)
    # the lead's own row, not whichever row is drawn first: the grid may still be swapping
    # the previous page's rows for the person's
    cell = f".ag-row[row-id='{lead['finding_id']}'] .ag-cell[col-id='rule_name']"
    page.wait_for_selector(cell)
    page.click(cell)
    page.wait_for_selector(f"#lead-panel:has-text('{lead['finding_id']}')", timeout=60_000)


def test_an_auditor_has_no_decision_controls_and_flags_a_lead(
    live_dashboard, page, own_leads
) -> None:
    lead, note = own_leads[0], "同一天重复购药，请优先核实"
    live_dashboard.login(page, "auditor")
    _open(page, live_dashboard.url, lead)
    assert "记录审核结论" not in page.inner_text("#leads-intro")
    assert page.locator("#bulk-submit, #lead-submit, #lead-step").count() == 0
    assert page.locator("#leads-grid .ag-checkbox-input").count() == 0
    assert "无权记录审核结论" in page.inner_text("#lead-why")
    assert page.inner_text("#lead-waiting").startswith("待 审核员 初审 · 时限 ")
    assert "*" in page.inner_text("#lead-person-certno")  # still masked
    page.click("#flag-submit")  # no note: refused, in Chinese
    page.wait_for_selector("#flag-message:has-text('须填写提请说明')")
    page.fill("#flag-note", f"  {note} ")
    page.click("#flag-submit")
    page.wait_for_selector(f"#lead-flags:has-text('{note}')")
    shown = page.inner_text("#lead-flags")
    assert live_dashboard.accounts["auditor"][0] in shown
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d ", shown)  # local time to the minute
    assert page.inner_text("#lead-waiting").startswith("待 审核员 初审")  # a flag moves nothing
    with open_store(live_dashboard.workspace) as store:
        stored = flags(store, [lead["finding_id"]])
        assert stored["note"].to_list() == [note]
        assert store.history(lead["finding_id"]).height == 0


def test_a_reviewer_finds_the_flagged_lead_and_records_its_first_review_only(
    live_dashboard, page, own_leads
) -> None:
    lead = own_leads[1]
    fid = lead["finding_id"]
    with open_store(live_dashboard.workspace) as store:
        view = open_view(live_dashboard.workspace)
        known = pl.read_parquet(view.findings_path, columns=["finding_id"])["finding_id"]
        flag(store, fid, "金额异常，请审核", by=live_dashboard.accounts["auditor"][0], known=known)
    live_dashboard.login(page, "reviewer")
    page.goto(f"{live_dashboard.url}/leads?view=leads&preset=flagged")
    row = f".ag-row[row-id='{fid}']"
    page.wait_for_selector(f"{row} .ag-cell[col-id='flag']:has-text('已提请审核')")
    assert "已提请审核" in page.inner_text("#queue-chips")
    page.click(f"{row} .ag-cell[col-id='rule_name']")
    page.wait_for_selector("#lead-flags:has-text('金额异常，请审核')")
    page.click("#bulk-step")  # the bulk form offers the reviewer's own step only
    offered = set(page.get_by_role("option").all_inner_texts())
    page.keyboard.press("Escape")
    assert "初审" in offered and not offered & {
        zh for s, (zh, _) in STEPS.items() if s != "first_review"
    }
    assert page.inner_text("#lead-step") == "初审"  # the panel: the step it waits at
    page.click("#lead-decision")
    page.get_by_role("option", name="确认违规").click()
    page.fill("#lead-reason", "处方与诊断不符")
    page.click("#lead-submit")
    page.wait_for_selector("#lead-message:has-text('已记录 1 条')")
    _open(page, live_dashboard.url, lead)
    assert page.inner_text("#lead-waiting").startswith("待 审核负责人 复审")
    assert page.locator("#lead-submit").count() == 0  # 复审 is not offered
    assert "由审核负责人作出决定" in page.inner_text("#lead-why")


def test_a_supervisor_records_the_second_review_of_another_users_first(
    live_dashboard, page, own_leads
) -> None:
    theirs, mine = own_leads[2], own_leads[3]
    supervisor = live_dashboard.accounts["supervisor"][0]
    with open_store(live_dashboard.workspace) as store:
        for lead, by in ((theirs, "reviewer2"), (mine, supervisor)):
            decide(
                store,
                [lead["finding_id"]],
                step="first_review",
                decision="confirmed",
                reason="初审确认",
                by=by,
            )
    live_dashboard.login(page, "supervisor")
    _open(page, live_dashboard.url, mine)  # their own first review: no second
    assert f"初审人 {supervisor} 以外" in page.inner_text("#lead-waiting")
    assert page.locator("#lead-submit").count() == 0
    assert "复审须由其他审核负责人进行" in page.inner_text("#lead-why")
    _open(page, live_dashboard.url, theirs)
    assert page.inner_text("#lead-step") == "复审"
    page.click("#lead-decision")
    page.get_by_role("option", name="确认违规").click()
    page.fill("#lead-reason", "复核同意")
    page.click("#lead-submit")
    page.wait_for_selector("#lead-message:has-text('已记录 1 条')")
    page.wait_for_selector("#lead-history:has-text('复核同意')")
    assert "复审" in page.inner_text("#lead-history")
    with open_store(live_dashboard.workspace) as store:
        last = store.history(theirs["finding_id"]).row(-1, named=True)
    assert (last["step"], last["decided_by"]) == ("second_review", supervisor)


def test_the_lines_grid_shows_labels_not_field_names(live_dashboard, page, own_leads) -> None:
    live_dashboard.login(page, "auditor")
    _open(page, live_dashboard.url, own_leads[0])
    page.wait_for_selector("#lead-lines .ag-header-cell-text")
    headers = page.locator("#lead-lines .ag-header-cell-text").all_inner_texts()
    assert headers and not set(headers) & RAW_NAMES
    assert "明细角色" in headers and "单价" in headers
    cells = page.locator("#lead-lines .ag-cell").all_inner_texts()
    assert "违规明细" in cells and "violating" not in cells
    assert any(c.startswith("¥") for c in cells)
    text = " ".join(cells)
    assert not re.search(r"\d\.\d{3,}|\d:\d\d:\d\d|T\d\d:", text)  # fen, minutes, no ISO
