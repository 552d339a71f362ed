"""监管事项 in the browser, once per licensing register: a supervisor draws a random plan,
records an inspection with a failed item and an evidence file, orders the rectification,
issues its notice (the PDF names the number and the entity), records a passed follow-up,
closes the order, and exports the public disclosure — the result is in it, no person's
name is. An auditor sees the registers and none of the forms.

The bureau is built through the library (accounts, inspectors, each register's entities),
not through the page: only the steps under test go through the browser. Each step waits for
the forms to be redrawn after it (their ``data-version`` is the page's change counter).

Set ``HRSS_FRAUD_SCREENSHOTS=docs/screenshots`` to keep the page's picture."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from helpers.ui import choose, shot
from playwright.sync_api import expect
from pypdf import PdfReader

from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import add_user
from hrss_fraud.dashboard.screenshots import login, running
from hrss_fraud.inspection import registry
from hrss_fraud.registers.definitions import get_register
from hrss_fraud.registers.documents import documents
from hrss_fraud.registers.entities import import_entities
from hrss_fraud.registers.inspections import get_inspection, inspections
from hrss_fraud.registers.plans import load_plan, plans
from hrss_fraud.registers.rectification import rectifications

REGISTERS = ("hr_agency", "technical_school", "private_training", "skill_appraisal")
LEGAL_REPS = ("张建国", "李秀英", "王志强")
INSPECTORS = {
    f"I{i}": name for i, name in enumerate(("周明", "吴芳", "郑强", "孙丽", "钱伟", "冯敏"))
}
HEADER = ("统一社会信用代码", "机构名称", "许可证编号", "有效期起", "有效期至", "地址",
          "所属乡镇", "法定代表人")  # fmt: skip


def _entities(folder: Path, code: str, k: int) -> Path:
    """Three entities of register number ``k`` in three zones, each with a legal
    representative (a person: never to be disclosed)."""
    path = folder / f"{code}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for n, zone in enumerate(("城关镇", "河西乡", "南山镇")):
            w.writerow(
                (
                    f"52130123MJ{k}{n:06d}A",
                    f"{get_register(code).object[:4]}测试单位{k}{n}",
                    f"许〔2024〕{k}{n:02d}号",
                    "2024-01-01",
                    "2028-12-31",
                    f"{zone}建设路{n}号",
                    zone,
                    LEGAL_REPS[n],
                )
            )
    return path


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict]]:
    """The dashboard over a workspace with two accounts, three groups of two inspectors and
    three entities in each licensing register."""
    ws = tmp_path_factory.mktemp("registers") / "ws"
    ws.mkdir()
    accounts = {}
    with open_store(ws) as store:
        for role in ("supervisor", "auditor"):
            password = f"{secrets.token_urlsafe(12)}-7a"
            add_user(store, f"{role}1", role=role, password=password, by="test")
            accounts[role] = (f"{role}1", password)
        for code, name in INSPECTORS.items():
            registry.add_inspector(store, code, name, by="test")
        for g in range(3):
            registry.add_group(
                store, f"G{g}", f"第{g + 1}组", [f"I{2 * g}", f"I{2 * g + 1}"], by="t"
            )
        for k, code in enumerate(REGISTERS):
            import_entities(store, _entities(ws.parent, code, k), get_register(code), by="test")
    with running(ws) as url:
        yield url, ws, accounts


def _settled(page, version: int) -> None:
    """Wait until the register's forms are drawn after ``version`` changes."""
    page.wait_for_selector(f"#register-work-body[data-version='{version}']")


def _said(page, text: str) -> None:
    page.wait_for_selector(f"#register-work-result:has-text('{text}')")


@pytest.mark.parametrize("code", REGISTERS)
def test_inspect_rectify_and_disclose(bureau, page, tmp_path: Path, code: str) -> None:
    url, ws, accounts = bureau
    reg = get_register(code)
    failing = reg.check_items[0]
    finding = f"{failing.code} 现场发现台账缺失，经办人王某某未登记"
    summary = "检查组现场查阅台账并询问负责人李某某"
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + code.encode() * 64)
    login(page, url, *accounts["supervisor"])
    page.goto(f"{url}/registers?register={code}")
    _settled(page, 0)

    plan_name = f"浏览器抽查{code}"
    page.fill("#register-plan-name", plan_name)
    page.fill("#register-plan-random", "1")
    page.fill("#register-seed", "2026")
    page.click("#register-plan-draw")
    page.wait_for_selector(f"#register-plan-result:has-text('已抽取 {plan_name}')")
    _settled(page, 1)
    with open_store(ws) as store:
        plan = load_plan(store, plans(store, code).item(0, "plan_id"))
    target = plan.targets.row(0, named=True)
    g = int(target["group_code"][1:])
    members = [f"I{2 * g}", f"I{2 * g + 1}"]

    choose(page, "#register-insp-target", plan_name)
    # the group the draw assigned is proposed as the inspectors
    page.wait_for_selector(
        f"#register-insp-inspectors:has-text('{INSPECTORS[members[0]]}')"
        f":has-text('{INSPECTORS[members[1]]}')"
    )
    row = page.locator(f".register-item[data-item='{failing.code}']")
    row.locator("input[value='fail']").check()
    row.locator("input[type='text']").fill(finding)
    page.fill("#register-insp-summary", summary)
    page.set_input_files("#register-insp-evidence input[type=file]", str(photo))
    page.wait_for_selector("#register-insp-file-list:has-text('现场照片.jpg')")
    page.click("#register-insp-record")
    _said(page, "已登记检查")
    _settled(page, 2)
    with open_store(ws) as store:
        iid = inspections(store, code).item(0, "inspection_id")
        record = get_inspection(store, iid)
    assert record["result"] == "fail" and record["entity_code"] == target["entity_code"]
    assert record["inspectors"] == members
    (ev,) = record["evidence"]
    assert ev["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert (ws / ev["path"]).read_bytes() == photo.read_bytes()

    choose(page, "#register-order-inspection", str(iid))
    page.fill("#register-order-requirements", "补齐台账，规范登记")
    page.click("#register-order-issue")
    _said(page, "已责令整改")
    _settled(page, 3)
    with open_store(ws) as store:
        rid = rectifications(store, code).item(0, "rectification_id")

    choose(page, "#register-doc-kind", "责令限期整改通知书")
    choose(page, "#register-doc-object", str(rid))
    page.click("#register-doc-issue")
    _said(page, "已出具 ZG-")
    _settled(page, 4)
    with open_store(ws) as store:
        (notice,) = [d for d in documents(store, code) if d["kind"] == "rectification_notice"]
    choose(page, "#register-doc-number", notice["number"])
    with page.expect_download() as pdf:
        page.click("#register-doc-pdf")
    reader = PdfReader(io.BytesIO(Path(pdf.value.path()).read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert notice["number"] in text and target["name"] in text

    choose(page, "#register-rect-choice", str(rid))
    page.fill("#register-followup-text", "复查台账已补齐")
    page.click("#register-followup-record")
    _said(page, "已登记复查：复查合格")
    _settled(page, 5)
    choose(page, "#register-rect-choice", str(rid))
    page.click("#register-close")
    _said(page, f"整改单 {rid} 已办结")
    _settled(page, 6)
    page.wait_for_selector(
        f"#register-rect-table tr:has-text('{target['name']}'):has-text('已办结')"
    )
    shot(page, tmp_path, "registers")

    with page.expect_download() as export:
        page.click("#register-disclose")
    published = Path(export.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(published)))
    (mine,) = [r for r in rows if r["统一社会信用代码"] == target["entity_code"]]
    assert mine["监管事项"] == reg.name and mine["检查对象"] == target["name"]
    assert mine["检查日期"] == date.today().isoformat() and mine["检查方式"] == "随机抽查"
    assert mine["检查结果"] == f"发现问题：{failing.text}"
    assert mine["处理情况"] == "已责令整改，整改完成"
    people = [*LEGAL_REPS, *INSPECTORS.values(), "王某某", "李某某", "supervisor1"]
    assert [p for p in people if p in published] == []
    assert finding not in published and summary not in published

    with open_store(ws) as store:
        actions = {
            a
            for (a,) in store.query(
                "SELECT action FROM audit_log WHERE actor = 'supervisor1' "
                "AND action LIKE 'register.%'"
            )
        }
    assert {
        "register.plan.draw",
        "register.inspection.record",
        "register.rectify.order",
        "register.document.rectification_notice",
        "register.rectify.follow_up",
        "register.rectify.close",
        "register.disclose",
    } <= actions


def test_an_auditor_sees_the_registers_and_no_forms(bureau, page) -> None:
    url, _, accounts = bureau
    login(page, url, *accounts["auditor"])
    page.goto(f"{url}/registers?register=hr_agency")
    page.wait_for_selector("#register-entities-table")
    page.wait_for_selector("#registers-overview-table")
    expect(page.locator("#register-insp-record")).to_have_count(0)
    expect(page.locator("#register-disclose")).to_have_count(0)
    assert not [r for r in LEGAL_REPS if r in page.inner_text("#register-detail")]
