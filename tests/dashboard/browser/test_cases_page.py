"""The lead queue opens on cases: the first case is the run's rank 1, opening it shows its
leads in the lead grid (and nothing else), and a lead opens from there. The data-quality
page: an institution's findings by rule, a rule's findings, a finding's lines, the export."""

from __future__ import annotations

import polars as pl
from helpers.ui import shot

from hrss_fraud.dashboard.screenshots import (
    FIRST_CASE_CELL,
    FIRST_RULE_CELL,
    wait_for_cases,
    wait_for_rows,
)
from hrss_fraud.engine.runs import open_run
from hrss_fraud.outputs.quality_view import institutions
from hrss_fraud.outputs.runs_view import open_view

_ROW_COUNT = """async () => {
    const api = await dash_ag_grid.getApiAsync('leads-grid');
    return api.getDisplayedRowCount();
}"""
_ROW_IDS = """() => [...document.querySelectorAll('#leads-grid .ag-center-cols-container .ag-row')]
    .map(r => r.getAttribute('row-id')).filter(Boolean)"""


def test_the_queue_opens_on_cases_and_a_case_on_its_leads(live_dashboard, page, tmp_path) -> None:
    run = open_run(live_dashboard.workspace)
    first = run.cases().row(0, named=True)
    assert first["case_rank"] == 1
    mine = set(run.findings().filter(pl.col("case_id") == first["case_id"])["finding_id"])
    assert len(mine) == first["n_findings"] > 0
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/leads")
    wait_for_cases(page)
    assert page.inner_text(FIRST_CASE_CELL).strip() == first["title_zh"]
    assert not page.is_visible("#leads-grid")
    shot(page, tmp_path, "cases")

    page.click(FIRST_CASE_CELL)
    page.wait_for_selector("#case-title")
    assert first["title_zh"] in page.inner_text("#case-title")
    assert f"/{first['n_findings']}" in page.inner_text("#case-box")  # its review progress
    page.wait_for_function(f"async () => ({_ROW_COUNT})() === {len(mine)}")
    wait_for_rows(page)
    shown = page.evaluate(_ROW_IDS)
    assert shown and set(shown) <= mine

    page.click(FIRST_RULE_CELL)
    page.wait_for_selector("#lead-title")
    opened = page.inner_text("#lead-panel")
    assert any(fid in opened for fid in mine)
    shot(page, tmp_path, "case_leads")

    page.click("#case-clear")  # back to every lead
    page.wait_for_function(f"async () => ({_ROW_COUNT})() === {run.findings().height}")


def test_the_data_quality_page_drills_down_and_exports(live_dashboard, page, tmp_path) -> None:
    worst = institutions(open_view(live_dashboard.workspace)).row(0, named=True)
    assert worst["n_findings"] > 0
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/quality")
    first = "#quality-institutions .ag-row[row-index='0'] .ag-cell[col-id='fixmedins_name']"
    page.wait_for_selector(first)
    page.click(first)
    page.wait_for_selector(f"#quality-title:has-text('{worst['fixmedins_code']}')")
    page.wait_for_selector("#quality-lake")
    page.wait_for_selector("#quality-findings .ag-row")
    page.click("#quality-rules .ag-row[row-index='0'] .ag-cell[col-id='rule_name']")
    rule = page.inner_text("#quality-rules .ag-row[row-index='0'] .ag-cell[col-id='rule_name']")
    assert page.locator("#quality-findings .ag-cell[col-id='rule_id']").count() == 0  # by name
    page.wait_for_function(
        "(r) => { const cells = [...document.querySelectorAll("
        "'#quality-findings .ag-cell[col-id=rule_name]')];"
        " return cells.length > 0 && cells.every(c => c.innerText.trim() === r); }",
        arg=rule.strip(),
    )
    page.click("#quality-findings .ag-row[row-index='0'] .ag-cell[col-id='rule_name']")
    page.wait_for_selector("#quality-line-table tbody tr")
    shot(page, tmp_path, "quality")
    with page.expect_download() as got:
        page.click("#quality-export")
    download = got.value
    assert download.suggested_filename.endswith(f"_{worst['fixmedins_code']}.xlsx")
    with open(download.path(), "rb") as f:
        assert f.read(2) == b"PK"
