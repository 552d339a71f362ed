"""Finding things, as the demo supervisor: the queue filtered by an institution typed by
name shows its count and a chip, the most severe of its leads opens, the filter is in the
address and survives a language switch; an institution's profile opens by its address and
its "all leads" link opens the queue filtered on it; the person search takes a part of a
number. Every wait is for a condition on the page, never a fixed time."""

from __future__ import annotations

import re

import polars as pl
import pytest
from helpers.ui import shot

from hrss_fraud.dashboard.screenshots import FIRST_RULE_CELL, wait_for_cases, wait_for_rows
from hrss_fraud.outputs.leads import SEVERITY_RANK
from hrss_fraud.outputs.runs_view import open_view


@pytest.fixture(scope="module")
def busiest(live_dashboard) -> dict:
    """The institution with the most leads: its code, name, lead count and most severe
    lead (severity, then amount, then id: the preset's order)."""
    view = open_view(live_dashboard.workspace)
    findings = pl.read_parquet(view.findings_path)
    code = findings["fixmedins_code"].value_counts(sort=True)["fixmedins_code"][0]
    mine = findings.filter(pl.col("fixmedins_code") == code).with_columns(
        rank=pl.col("severity").replace_strict(SEVERITY_RANK, default=0)
    )
    top = mine.sort(["rank", "amount_at_risk", "finding_id"], descending=[True, True, False])
    named = view.institutions.filter(pl.col("fixmedins_code") == code)
    return {
        "code": code,
        "name": named["fixmedins_name"][0],
        "n": mine.height,
        "top": top["finding_id"][0],
    }


def _pick_by_typing(page, dropdown: str, text: str, label: str) -> None:
    """Type ``text`` into a searchable dropdown and pick the suggestion ``label``."""
    page.click(dropdown)
    page.locator("input.dash-dropdown-search:visible").fill(text)  # once the list is open
    page.locator("[role='option']").filter(has_text=label).first.click()
    page.wait_for_function(
        "([sel, label]) => document.querySelector(sel).innerText.includes(label)",
        arg=[dropdown, label],
    )


def _count(n: int) -> str:
    return f"{n:,}"


def test_filter_the_queue_by_an_institution_s_name_and_keep_it(
    live_dashboard, page, busiest, tmp_path
) -> None:
    url, code, name = live_dashboard.url, busiest["code"], busiest["name"]
    label = f"{name} ({code})"
    live_dashboard.login(page, "supervisor")
    page.goto(f"{url}/leads")
    wait_for_cases(page)
    _pick_by_typing(page, "#queue-institution", name, label)
    page.wait_for_selector(f"#chip-institution:has-text('{label}')")
    page.wait_for_function(
        "(code) => window.location.search.includes('institution=' + code)", arg=code
    )
    # every case shown is the institution's
    page.wait_for_function(
        "(code) => { const cells = [...document.querySelectorAll("
        "'#cases-grid .ag-cell[col-id=fixmedins_code]')].map(c => c.innerText.trim())"
        ".filter(Boolean); return cells.length > 0 && cells.every(c => c === code); }",
        arg=code,
    )
    # the leads, most severe first: the count, and the first row is the most severe lead
    page.click("#queue-view input[value='leads']")
    _pick_preset(page, "最严重优先")
    page.wait_for_selector(f"#leads-count:has-text('共 {_count(busiest['n'])} 条疑点')")
    page.wait_for_function(
        "(id) => { const r = document.querySelector("
        "'#leads-grid .ag-center-cols-container .ag-row[row-index=\"0\"]');"
        " return r && r.getAttribute('row-id') === id; }",
        arg=busiest["top"],
    )
    assert "preset=severe" in page.evaluate("window.location.search")
    wait_for_rows(page)
    page.click(FIRST_RULE_CELL)
    page.wait_for_selector("#lead-title")
    assert busiest["top"] in page.inner_text("#lead-panel")
    shot(page, tmp_path, "queue_filtered")
    # switch language: the same filters, now in English
    page.click("#lang-en")
    page.wait_for_selector(f"#chip-institution:has-text('Institution: {label}')")
    assert page.inner_text("#chip-preset").strip() == "View: Most severe first"
    page.wait_for_selector(f"#leads-count:has-text('{_count(busiest['n'])} leads')")
    assert page.is_visible("#leads-grid")
    # clearing lifts every filter and the address follows
    page.click("#queue-clear")
    page.wait_for_selector("#chip-institution", state="detached")
    page.wait_for_function("() => !window.location.search.includes('institution=')")
    page.click("#lang-zh")
    page.wait_for_selector("#queue-institution")


def _pick_preset(page, label: str) -> None:
    page.click("#queue-preset")
    page.locator("[role='option']").filter(has_text=re.compile(f"^{label}$")).first.click()
    page.wait_for_selector(f"#chip-preset:has-text('{label}')")


def test_a_shared_link_opens_the_same_view(live_dashboard, page, busiest) -> None:
    url, code = live_dashboard.url, busiest["code"]
    live_dashboard.login(page, "auditor")
    page.goto(f"{url}/leads?view=leads&institution={busiest['name']}&preset=severe")
    page.wait_for_selector(f"#chip-institution:has-text('({code})')")
    page.wait_for_selector(f"#leads-count:has-text('共 {_count(busiest['n'])} 条疑点')")
    page.wait_for_function(
        "(id) => { const r = document.querySelector("
        "'#leads-grid .ag-center-cols-container .ag-row[row-index=\"0\"]');"
        " return r && r.getAttribute('row-id') === id; }",
        arg=busiest["top"],
    )


def test_an_institution_by_address_and_its_leads_in_the_queue(
    live_dashboard, page, busiest, tmp_path
) -> None:
    url, code = live_dashboard.url, busiest["code"]
    live_dashboard.login(page, "supervisor")
    page.goto(f"{url}/institution")
    page.wait_for_selector("#institution-ranked tbody tr")
    first = page.inner_text("#institution-ranked tbody tr:first-child td:first-child").strip()
    assert first == "1"  # the ranked list, most at risk first
    shot(page, tmp_path, "institution_ranked")
    page.goto(f"{url}/institution?code={code}")
    page.wait_for_selector("#institution-title")
    assert code in page.inner_text("#institution-title")
    below = page.get_attribute("#institution-leads-queue", "href")
    assert below == f"/leads?view=leads&institution={code}"
    page.click("#institution-all-leads")
    page.wait_for_selector(f"#chip-institution:has-text('({code})')")
    page.wait_for_function(
        "(code) => window.location.pathname === '/leads'"
        " && window.location.search.includes('institution=' + code)",
        arg=code,
    )
    page.wait_for_selector(f"#leads-count:has-text('共 {_count(busiest['n'])} 条疑点')")
    assert page.is_visible("#leads-grid")


def test_the_person_search_takes_part_of_a_number(live_dashboard, page) -> None:
    view = open_view(live_dashboard.workspace)
    psn = pl.read_parquet(view.findings_path)["psn_no"].drop_nulls().sort()[0]
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/person")
    page.click("#person-find")
    page.locator("input.dash-dropdown-search:visible").fill(psn[-5:])
    page.locator("[role='option']").filter(has_text=psn).first.click()
    page.wait_for_selector("#person-title")
    assert psn in page.inner_text("#person-title")
    assert page.url.endswith(f"/person/{psn}")
    page.click("#person-all-leads")
    page.wait_for_selector(f"#chip-person:has-text('{psn}')")
    page.wait_for_function(
        "(p) => { const cells = [...document.querySelectorAll("
        "'#leads-grid .ag-cell[col-id=psn_no]')].map(c => c.innerText.trim())"
        ".filter(Boolean); return cells.length > 0 && cells.every(c => c === p); }",
        arg=psn,
    )


def test_a_doctor_s_leads_in_the_queue(live_dashboard, page, busiest) -> None:
    url, code = live_dashboard.url, busiest["code"]
    live_dashboard.login(page, "supervisor")
    page.goto(f"{url}/institution/{code}")
    page.locator("#institution-doctors a").first.click()
    page.wait_for_selector("#doctor-title")
    doctor = page.url.rstrip("/").rsplit("/", 1)[1]
    page.click("#doctor-all-leads")
    page.wait_for_selector(f"#chip-doctor:has-text('{doctor}')")
    page.wait_for_function("(d) => window.location.search.includes('doctor=' + d)", arg=doctor)
    wait_for_rows(page)
