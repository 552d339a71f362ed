"""A first day on the rounds page, as the supervisor account ``make demo`` prints (``demo``):
the draw refuses an empty form and an office without zones in Chinese, naming the field and
the button on this page; the supervisor syncs the zones, adds inspectors (a duplicate code
is refused, what was typed kept), forms two groups, records a conflict of interest — all on
the dashboard — then plans a round and sees it listed with its targets.

A workspace of its own (the scored tiny county with an empty office), so the shared live
dashboard's zones and groups are not this test's. Every step waits for what the page
shows, never for a fixed time.

Set ``HRSS_FRAUD_SCREENSHOTS=docs/screenshots`` to keep the page's picture."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.ui import choose, shot
from playwright.sync_api import expect

from hrss_fraud.cases.store import open_store
from hrss_fraud.cli.serve import demo_accounts
from hrss_fraud.dashboard.screenshots import login, running
from hrss_fraud.inspection import registry
from hrss_fraud.inspection.rounds import rounds

INSPECTORS = {"J1": "张伟", "J2": "李娜", "J3": "王芳", "J4": "刘洋"}


@pytest.fixture(scope="module")
def office(county_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The dashboard over a copy of the county with the printed demo accounts and no
    zones, inspectors or groups."""
    ws = tmp_path_factory.mktemp("first-day") / "ws"
    shutil.copytree(county_ws, ws)
    printed = demo_accounts(ws)
    with open_store(ws) as store:
        assert store.query("SELECT count(*) FROM inspection_zone")[0][0] == 0
    with running(ws) as url:
        yield url, ws, ("demo", printed["demo"])


def _add_member(page, code: str) -> None:
    """Open the members dropdown, type ``code``, choose its inspector, wait for the chip
    and close the list again (it stays open between choices)."""
    label = f"{code} {INSPECTORS[code]}"
    page.click("#round-group-members")
    page.keyboard.type(code)
    page.locator("[role='option']").filter(has_text=label).first.click()
    page.wait_for_function(
        "label => document.querySelector('#round-group-members').innerText.includes(label)",
        arg=label,
    )
    page.keyboard.press("Escape")


def _said(page, where: str, text: str) -> None:
    page.wait_for_selector(f"{where}:has-text('{text}')")


def test_set_up_the_office_and_plan_a_round(office, page, tmp_path: Path) -> None:
    url, ws, (username, password) = office
    assert password, "the demo account is new: its password is printed"
    login(page, url, username, password)
    page.goto(f"{url}/rounds")
    page.wait_for_selector("#round-zones-list:has-text('尚未同步检查区域')")

    # the empty form names the missing field; a filled one, with no zones, the button
    page.click("#round-plan")
    _said(page, "#round-plan-result", "请填写“轮次名称”")
    page.fill("#round-name", "第一轮")
    page.fill("#round-top", "2")
    page.fill("#round-random", "1")
    page.click("#round-plan")
    _said(page, "#round-plan-result", "从数据湖同步区域")
    assert "hrss-fraud" not in page.inner_text("#round-plan-result")
    expect(page.locator("#round-name")).to_have_value("第一轮")  # kept after the error

    page.click("#round-zones-sync")
    _said(page, "#round-zones-result", "已同步")
    page.wait_for_selector("#round-zones-table tbody tr")

    for code, name in INSPECTORS.items():
        page.fill("#round-inspector-code", code)
        page.fill("#round-inspector-name", name)
        page.click("#round-inspector-add")
        _said(page, "#round-inspector-result", f"已新增检查人员 {code} {name}")
        page.wait_for_selector(f"#round-inspectors-table:has-text('{name}')")
        expect(page.locator("#round-inspector-code")).to_have_value("")
    page.fill("#round-inspector-code", "J1")
    page.fill("#round-inspector-name", "赵六")
    page.click("#round-inspector-add")
    _said(page, "#round-inspector-result", "检查人员编号 J1 已存在")
    expect(page.locator("#round-inspector-name")).to_have_value("赵六")  # kept

    for group, members in (("A", ("J1", "J2")), ("B", ("J3", "J4"))):
        page.fill("#round-group-code", group)
        for m in members:
            _add_member(page, m)
        page.click("#round-group-add")
        _said(page, "#round-group-result", f"已组建检查组 {group}")
        page.wait_for_selector(f"#round-groups-table tr:has-text('{INSPECTORS[members[1]]}')")

    with open_store(ws) as store:
        place = registry.institutions(store).row(0, named=True)
    choose(page, "#round-conflict-inspector", "J1")
    choose(
        page,
        "#round-conflict-institution",
        f"{place['fixmedins_name']}（{place['fixmedins_code']}）",
    )
    page.fill("#round-conflict-reason", "配偶在该机构任职")
    page.click("#round-conflict-add")
    _said(page, "#round-conflict-result", "已登记回避")
    page.wait_for_selector(f"#round-conflicts-table:has-text('{place['fixmedins_code']}')")

    expect(page.locator("#round-name")).to_have_value("第一轮")
    page.click("#round-plan")
    _said(page, "#round-plan-result", "已抽取 第一轮")
    page.wait_for_selector("#rounds-table:has-text('第一轮')")
    page.wait_for_selector("#round-targets tbody tr")
    expect(page.locator("#round-targets tbody tr")).to_have_count(3)
    shot(page, tmp_path, "rounds-first-day")

    with open_store(ws) as store:
        assert rounds(store)["name"].to_list() == ["第一轮"]
        actors = store.query(
            "SELECT DISTINCT actor FROM audit_log WHERE action IN ('zones.sync', "
            "'inspector.add', 'group.add', 'conflict.add', 'round.plan')"
        )
    assert actors == [("demo",)]
