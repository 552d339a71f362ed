"""违约通知单 and 检查轮次 in the browser: a supervisor drafts a notice from an
institution's confirmed leads, issues it, downloads the PDF (its text names the number
and the institution), records the acknowledgement and the rectification, and closes it;
and plans a round, reproduces its draw, downloads a group's Excel list and starts it.

Set ``HRSS_FRAUD_SCREENSHOTS=docs/screenshots`` to keep the pages' pictures."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import polars as pl
from helpers.inspection_setup import staff
from helpers.ui import choose, shot
from playwright.sync_api import expect
from pypdf import PdfReader

from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.workflow import decide
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.runs import open_run
from hrss_fraud.lake import Lake
from hrss_fraud.notices.draft import register_entry
from hrss_fraud.notices.store import get

STEPS = {"acknowledged": "机构签收", "rectified": "提交整改报告", "closed": "整改验收办结"}


def _confirm_two_leads(ws: Path) -> tuple[str, list[str]]:
    """Two of the smallest leads with an amount of one institution (the lead tests use the
    largest),
    confirmed at 初审 by reviewer1 and 复审 by supervisor1."""
    findings = (
        open_run(ws)
        .findings()
        .filter(
            pl.col("fixmedins_code").is_not_null()
            & (pl.col("amount_at_risk") > 0)
            & ~pl.col("rule_id").str.starts_with("dq_")
        )
    )
    code = findings.sort("amount_at_risk", "finding_id").item(0, "fixmedins_code")
    mine = findings.filter(pl.col("fixmedins_code") == code).sort("amount_at_risk", "finding_id")
    rows = mine.head(2).to_dicts()
    leads = {r["finding_id"]: r for r in rows}
    with open_store(ws) as store:
        for step, by in (("first_review", "reviewer1"), ("second_review", "supervisor1")):
            decide(
                store,
                list(leads),
                step=step,
                decision="confirmed",
                reason="现场查实",
                by=by,
                leads=leads,
            )
    return code, list(leads)


def _item(name: str, index: int) -> str:
    """The selector of a draft item's input (a pattern-matching id, as Dash writes it)."""
    return f"""[id='{{"index":{index},"type":"notice-item-{name}"}}']"""


def test_issue_a_notice_end_to_end(live_dashboard, page, tmp_path) -> None:
    """As the demo supervisor: draft from confirmed leads (the name and agreement number
    filled from the register, one item per rule by its Chinese name), edit the draft,
    preview it, confirm the number it will take, issue it, and read the PDF back."""
    ws = live_dashboard.workspace
    code, ids = _confirm_two_leads(ws)
    name, agreement = register_entry(Lake(ws / "lake"), code)
    assert agreement  # the synthetic county's register holds one for every institution
    catalogue = load_catalogue(workspace=ws)
    with open_store(ws) as store:  # other tests of the session may have confirmed more
        rule_ids = {
            r
            for (r,) in store.query(
                "SELECT rule_id FROM current_decision WHERE decision = 'confirmed' "
                "AND fixmedins_code = ?",
                (code,),
            )
        }
    rule_names = [catalogue.rules[r].name_zh for r in sorted(rule_ids) if r in catalogue.rules]
    live_dashboard.login(page, "supervisor")
    page.click("a.nav-link:has-text('违约通知单')")
    page.wait_for_selector("#notice-institution")
    choose(page, "#notice-institution", code)
    page.wait_for_selector(f"#notice-lead-table:has-text('{ids[0]}')")
    expect(page.locator("#notice-lead-table")).to_contain_text(rule_names[0])
    expect(page.locator("#notice-name")).to_have_value(name)
    expect(page.locator("#notice-agreement")).to_have_value(agreement)
    form = {
        "date": "2026-03-02",
        "inspectors": "李明、王芳",
        "representative": "张院长",
        "facts": "抽查住院病历30份，其中5份无对应检查报告。",
        "requirements": "立即纠正违规收费，完善收费核对制度。",
    }
    for field, value in form.items():
        page.fill(f"#notice-{field}", value)
    page.click("#notice-create")
    page.wait_for_selector("#notice-create-result:has-text('已保存草稿')")
    # the draft: one item per rule, named; edit the first item's facts and handling
    page.wait_for_selector(_item("rule", 1))
    assert page.input_value(_item("rule", 1)) in rule_names
    edited = "现场核实：收费记录与病历不符。"
    page.fill(_item("facts", 1), edited)
    page.fill(_item("penalty", 1), "200")
    page.check(f"{_item('interview', 1)} input")
    page.click("#notice-edit-save")
    page.wait_for_selector("#notice-action-result:has-text('的修改')")
    expect(page.locator(_item("facts", 1))).to_have_value(edited)
    expect(page.locator(_item("penalty", 1))).to_have_value("200.00")
    # the preview shows the document before any number is taken
    page.fill("#notice-issue-on", "2026-03-05")
    page.click("#notice-preview")
    document = page.wait_for_selector("#notice-preview-document")
    shown = document.inner_text()
    assert edited.rstrip("。") in shown and agreement in shown
    assert all(n in shown for n in rule_names)
    assert not rule_ids & set(re.findall(r"[a-z][a-z0-9_]+", shown))
    # 编号下达 asks first, naming the number it is about to take
    page.click("#notice-issue")
    question = page.wait_for_selector("#notice-confirm-text:has-text('将占用编号')")
    number = re.search(r"\d{4}-\d{4,}", question.inner_text()).group(0)
    shot(page, tmp_path, "notices_preview")
    with open_store(ws) as store:
        assert store.query("SELECT count(*) FROM notice_number WHERE number = ?", (number,)) == [
            (0,)
        ]  # asking took nothing
    page.click("#notice-issue-confirm")
    page.wait_for_selector(f"#notice-action-result:has-text('已下达 {number}')")
    page.wait_for_selector(f"#notice-detail-body h2:has-text('{number}')")
    with page.expect_download() as pdf:
        page.click("#notice-pdf")
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(Path(pdf.value.path()).read_bytes())).pages
    )
    flat = re.sub(r"\s+", "", text)
    assert number in flat and name in flat and code in flat and agreement in flat
    assert all(n.replace("/", "") in flat.replace("/", "") for n in rule_names)
    assert not rule_ids & set(re.findall(r"[a-z][a-z0-9_]+", text))  # no rule by its id
    assert re.findall(r"。。|，，|：：|；；", flat) == []
    page.wait_for_selector("#notice-step-text")
    box, tick = (page.locator(s).bounding_box() for s in ("#notice-step-text", "#notice-step-late"))
    beside = box["x"] + box["width"] <= tick["x"] or box["y"] + box["height"] <= tick["y"]
    assert beside, (box, tick)  # the late-statement box sits beside the text box, not over it
    # the step form is drawn again while the issued notice's detail and the list refresh:
    # type into the form once those answers are in, or they clear what was typed
    page.wait_for_selector(f"#notice-step:has-text('{STEPS['acknowledged']}')")
    page.wait_for_selector(f"#notices-table tr:has-text('{number}'):has-text('已下达')")
    page.wait_for_load_state("networkidle")
    page.fill("#notice-step-on", "2026-03-05")
    page.click("#notice-step-record")  # no signer: refused by the field's label, date kept
    page.wait_for_selector("#notice-action-result .error:has-text('请填写机构人员')")
    assert page.input_value("#notice-step-on") == "2026-03-05"
    steps = [
        ("acknowledged", "2026-03-05", "张院长", ""),
        ("rectified", "2026-03-30", "", "已退回违规费用，修订收费制度"),
        ("closed", "2026-04-10", "", "复查收费记录，整改到位"),
    ]
    status_before = {
        "acknowledged": "已下达",
        "rectified": "机构已签收",
        "closed": "已提交整改报告",
    }
    for step, on, person, text in steps:
        # each recorded step redraws the form, the detail and the list: type once the list
        # shows the notice at the status before this step (the last redraw), and type again
        # if a redraw still cleared it; then wait for this step's own confirmation, not the
        # previous step's, which is still on the page
        page.wait_for_selector(f"#notice-step:has-text('{STEPS[step]}')")
        row = f"#notices-table tr:has-text('{number}'):has-text('{status_before[step]}')"
        page.wait_for_selector(row)
        for _ in range(5):
            page.wait_for_load_state("networkidle")
            for field, value in (("on", on), ("person", person), ("text", text)):
                page.fill(f"#notice-step-{field}", value)
            page.wait_for_load_state("networkidle")
            typed = [page.input_value(f"#notice-step-{f}") for f in ("on", "person", "text")]
            if typed == [on, person, text]:
                break
        assert typed == [on, person, text], typed
        page.click("#notice-step-record")
        page.wait_for_selector(f"#notice-action-result:has-text('已登记：{STEPS[step]}')")
        page.wait_for_function(
            "(n) => document.querySelectorAll('#notice-events tbody tr').length === n",
            arg=1 + list(STEPS).index(step) + 1,
        )
    # the list is redrawn after the step is recorded
    page.wait_for_selector(f"#notices-table tr:has-text('{number}'):has-text('已办结')")
    shot(page, tmp_path, "notices")
    with open_store(ws) as store:
        n = get(store, number)
        assert (n.status, n.content.fixmedins_code) == ("closed", code)
        # the draft takes every confirmed lead of the institution: other browser tests of
        # the session may have confirmed more of them than this test did
        assert set(ids) <= set(n.content.findings)
        actions = {
            a
            for (a,) in store.query(
                "SELECT action FROM audit_log WHERE object_id = ? AND actor = 'supervisor1'",
                (number,),
            )
        }
    assert {"notice.issue", "notice.acknowledged", "notice.rectified", "notice.closed"} <= actions


def test_plan_a_round_and_download_its_lists(live_dashboard, page, tmp_path) -> None:
    staff(live_dashboard.workspace, groups=2, prefix="B")
    live_dashboard.login(page, "supervisor")
    page.goto(f"{live_dashboard.url}/rounds")
    form = {"name": "浏览器轮次", "top": "3", "random": "2", "seed": "2025"}
    for field, value in form.items():
        page.fill(f"#round-{field}", value)
    page.click("#round-plan")
    page.wait_for_selector("#round-plan-result:has-text('已抽取 浏览器轮次')")
    page.wait_for_selector("#round-targets tbody tr")
    assert page.locator("#round-targets tbody tr").count() >= 5
    assert "浏览器轮次" in page.inner_text("#rounds-table")
    page.click("#round-reproduce")
    page.wait_for_selector("#round-reproduce-result:has-text('可复现')")
    shot(page, tmp_path, "rounds")
    with page.expect_download() as xlsx:
        page.locator("button.round-xlsx").first.click()
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(Path(xlsx.value.path()).read_bytes()))
    assert wb.sheetnames[0] == "汇总" and len(wb.sheetnames) >= 2
    # the change redraws the round's panel (its message may be gone by the time it is
    # looked for): the rounds table is where the new status stays
    page.fill("#round-status-reason", "检查组已出发")
    expect(page.locator("#round-status-reason")).to_have_value("检查组已出发", timeout=20_000)
    page.click("#round-status-change")
    page.wait_for_selector("#rounds-table tr:has-text('浏览器轮次'):has-text('检查中')")
    page.context.clear_cookies()
    live_dashboard.login(page, "reviewer")
    page.wait_for_selector("#current-user:has-text('reviewer1')")
    page.goto(f"{live_dashboard.url}/rounds")
    page.wait_for_selector("#rounds-table:has-text('浏览器轮次')")
    # a reviewer sees rounds, plans none (retried until the page has settled)
    expect(page.locator("#round-plan")).to_have_count(0)
    expect(page.locator("#current-user")).to_contain_text("reviewer1")
