"""参保稽核 in the browser, over the tiny county's employer files (the shared live dashboard's
county ingests none, so this module serves its own): a supervisor opens the page from the
top bar, opens the employer with the most at stake, sees its hits with the rows behind
them, requests a correction, sees it listed with its deadline and records it corrected;
a refused request keeps what was typed; an auditor sees the persons' names masked, no
form, and downloads the visit list masked too; an employer's page in either language
shows no field name nor the other language. Every wait is for a condition, never a fixed time."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from helpers.accounts import PASSWORD, add_accounts
from helpers.enrolment_county import enrolment_county
from helpers.page_text import page_offences, report
from playwright.sync_api import expect

from hrss_fraud.dashboard.screenshots import login, running
from hrss_fraud.engine.runs import open_run
from hrss_fraud.lake import Lake
from hrss_fraud.outputs import enrolment_view as ev

RULES_SHOWN = ("enrol_two_employers", "enrol_claim_interrupted", "enrol_filing_documents")
"""Employers whose pages the language check reads: a hit of each kind of row."""


@pytest.fixture(scope="module")
def office(
    tiny_county: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    ws = tmp_path_factory.mktemp("enrolment") / "ws"
    shutil.copytree(enrolment_county(tiny_county, tmp_path_factory), ws)
    add_accounts(ws, {"sup": "supervisor", "aud": "auditor"})
    with running(ws) as url:
        yield url, ws


def test_a_supervisor_requests_a_correction_of_the_top_employer(page, office) -> None:
    url, ws = office
    with ev.EnrolmentView(ws, open_run(ws)) as view:
        top = view.ranking().row(0, named=True)
        first = view.hits(top["emp_no"]).row(0, named=True)
        n_rows = view.hit_rows(first["finding_id"], top["emp_no"]).height

    login(page, url, "sup", PASSWORD)
    page.get_by_role("link", name="参保稽核").click()
    page.wait_for_selector("#enrolment-ranking")
    ranking = page.locator("#enrolment-ranking tbody tr")
    expect(ranking.first).to_contain_text(top["emp_name"])
    expect(ranking.first).to_contain_text(f"{top['amount_at_risk']:,.2f}")
    ranking.first.get_by_role("link", name=top["emp_name"]).click()

    page.wait_for_selector(f"h2:has-text('{top['emp_no']}')")
    hit = page.locator(f".enrolment-hit[data-finding='{first['finding_id']}']")
    expect(hit.locator("h4")).to_contain_text(first["rule_name"])
    expect(hit.locator("tbody tr")).to_have_count(n_rows)
    expect(page.locator("#enrolment-correction-table")).to_have_count(0)

    page.locator("#enrolment-request-hits input").first.check()
    page.fill("#enrolment-request-days", "20")
    page.fill("#enrolment-request-note", "请补缴差额，并报送年度工资台账")
    page.click("#enrolment-request-submit")
    expect(page.locator("#enrolment-request-result .ok")).to_contain_text("已下达整改要求")
    listed = page.locator("#enrolment-correction-table tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text(str(date.today() + timedelta(days=20)))
    expect(listed.first).to_contain_text("整改中")
    expect(listed.first).to_contain_text("请补缴差额")

    number = listed.first.locator("td").first.inner_text()
    page.fill("#enrolment-done-id", number)
    page.fill("#enrolment-done-note", "已补缴差额，工资台账已报送")
    page.click("#enrolment-done-submit")
    expect(page.locator("#enrolment-done-result .ok")).to_contain_text("已登记整改完成")
    expect(listed.first).to_contain_text("整改完成")
    expect(listed.first).to_contain_text(str(date.today()))


def test_a_refused_request_keeps_what_was_typed(page, office) -> None:
    url, ws = office
    with ev.EnrolmentView(ws, open_run(ws)) as view:
        top = view.ranking().row(0, named=True)
    login(page, url, "sup", PASSWORD)
    page.goto(f"{url}/enrolment?emp={top['emp_no']}")
    page.wait_for_selector("#enrolment-request-hits input")
    page.locator("#enrolment-request-hits input").first.check()
    page.fill("#enrolment-request-days", "两周")
    page.fill("#enrolment-request-note", "补正材料")
    page.click("#enrolment-request-submit")
    expect(page.locator("#enrolment-request-result .error")).to_contain_text("整改期限")
    expect(page.locator("#enrolment-request-note")).to_have_value("补正材料")


def test_an_auditor_sees_names_masked_and_no_form_and_downloads_a_masked_list(page, office) -> None:
    url, ws = office
    with ev.EnrolmentView(ws, open_run(ws)) as view:
        hits = view.hits()
    deceased = hits.filter(pl.col("rule_id") == "enrol_deceased_enrolled").row(0, named=True)
    with ev.EnrolmentView(ws, open_run(ws)) as view:
        seen = view.hit_rows(deceased["finding_id"], deceased["emp_no"], role="supervisor")
    name = seen["psn_name"].drop_nulls()[0]

    login(page, url, "aud", PASSWORD)
    page.goto(f"{url}/enrolment?emp={deceased['emp_no']}")
    page.wait_for_selector(f".enrolment-hit[data-finding='{deceased['finding_id']}']")
    hit = page.locator(f".enrolment-hit[data-finding='{deceased['finding_id']}']")
    expect(hit).not_to_contain_text(name)
    expect(hit.locator("tbody tr").first).to_contain_text("*")
    expect(page.locator("#enrolment-corrections")).to_be_attached()
    expect(page.locator("#enrolment-request-submit")).to_have_count(0)

    with page.expect_download() as got:
        page.click("#enrolment-export")
    download = got.value
    assert download.suggested_filename.startswith("enrolment_visits_")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert book.sheetnames[:3] == ["参保单位", "疑点", "疑点明细"]
    sheet = book["疑点明细"]
    name = [c.value for c in sheet[1]].index("姓名")
    names = [r[name] for r in sheet.iter_rows(min_row=2, values_only=True) if r[name]]
    assert names and all("*" in n for n in names)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_employer_page_speaks_one_language_without_field_names(page, office, lang) -> None:
    url, ws = office
    con = Lake(ws / "lake").connect()
    nouns = ["sup"] + [
        r[0]
        for sql in (
            "SELECT DISTINCT emp_name FROM employer",
            "SELECT DISTINCT psn_name FROM emp_contribution",
            "SELECT DISTINCT admdvs_name FROM institution",
            "SELECT DISTINCT fixmedins_name FROM institution",
            "SELECT DISTINCT evt_rea FROM insu_event",  # the employer's own words
        )
        for r in con.execute(sql).fetchall()
        if r[0]
    ]
    with ev.EnrolmentView(ws, open_run(ws)) as view:
        hits = view.hits()
    employers = {hits.filter(pl.col("rule_id") == rule)["emp_no"][0] for rule in RULES_SHOWN}
    login(page, url, "sup", PASSWORD)
    page.goto(f"{url}/lang/{lang}")
    page.wait_for_selector(f"#lang-{lang}.active")
    for emp_no in sorted(employers):
        page.goto(f"{url}/enrolment?emp={emp_no}")
        page.wait_for_selector(".enrolment-hit")
        offences = page_offences(page.inner_text("body"), [], lang, nouns)
        assert offences == [], report(f"/enrolment?emp={emp_no}", lang, offences)
