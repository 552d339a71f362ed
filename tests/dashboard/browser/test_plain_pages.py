"""Plain words on the first pages a new user meets: the login page in either language
(kept after logging in), the overview without English months or rule ids in Chinese, and
a parameter change the rule catalogue shows at once, a refusal keeping what was typed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from hrss_fraud.engine.catalogue import load_catalogue

SLOW = 20_000
"""How long a page or a callback that recounts a table may take on a busy machine (ms)."""
MONTHS_EN = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def test_the_login_page_switches_language_and_keeps_it_after_login(live_dashboard, page) -> None:
    page.goto(f"{live_dashboard.url}/login")
    expect(page.locator(".login-box h1")).to_have_text("登录", timeout=SLOW)
    page.click("#login-lang-en")
    expect(page.locator(".login-box h1")).to_have_text("Log in", timeout=SLOW)
    expect(page.locator("label[for='login-password']")).to_have_text("Password", timeout=SLOW)
    page.click("#login-lang-zh")
    expect(page.locator(".login-box h1")).to_have_text("登录", timeout=SLOW)
    page.click("#login-lang-en")
    expect(page.locator(".login-box h1")).to_have_text("Log in", timeout=SLOW)
    username, password = live_dashboard.accounts["auditor"]
    page.fill("#login-username", username)
    page.fill("#login-password", "not-the-password-1")
    page.click("#login-submit")
    expect(page.locator("#login-message")).to_have_text("Wrong user name or password", timeout=SLOW)
    page.fill("#login-password", password)
    page.click("#login-submit")
    expect(page.locator("#current-user")).to_contain_text("auditor", timeout=SLOW)
    expect(page.locator("header")).to_contain_text("Overview", timeout=SLOW)
    expect(page.locator("main h1")).to_have_text("Overview", timeout=SLOW)


def test_the_overview_in_chinese_has_chinese_months_and_rule_names(live_dashboard, page) -> None:
    live_dashboard.login(page, "supervisor")
    page.wait_for_selector("#overview-charts .js-plotly-plot")  # the first draw takes a while
    expect(page.locator("#overview-charts .js-plotly-plot")).to_have_count(5, timeout=SLOW)
    ticks = " ".join(
        page.locator("#overview-charts .xtick text").evaluate_all(
            "ts => ts.map(t => t.textContent)"
        )
    )
    assert "年" in ticks and "月" in ticks
    assert not MONTHS_EN.search(ticks)
    ids = set(load_catalogue(workspace=live_dashboard.workspace).rules)
    names = page.locator("#run-changes-rules tr td:first-child").all_inner_texts()
    assert names and not ids & {n.strip() for n in names}
    assert not [n for n in names if re.fullmatch(r"[a-z0-9_]+", n.strip())]
    status = page.inner_text("#run-status")
    assert "全量评分" in status and "full" not in status
    assert not re.search(r"\d{4}-\d\d-\d\dT|\+00:00|\.\d{6}", status)


def test_a_changed_parameter_shows_in_the_catalogue_without_reloading(live_dashboard, page) -> None:
    live_dashboard.login(page, "supervisor")
    page.goto(f"{live_dashboard.url}/rules?rule=drug_supply_cap")
    page.wait_for_selector("#rules-save")
    expect(page.locator("#rules-title")).to_have_text(
        "药品超最大支付天数/开药量", timeout=SLOW
    )  # no id
    row = page.locator("#rules-table .ag-row[row-id='drug_supply_cap']")
    expect(row).to_contain_text("1 倍", timeout=SLOW)
    page.evaluate("window.__same_page = true")  # gone if the page reloads

    page.fill("#rules-value", "9")
    page.fill("#rules-reason", "浏览器测试：长处方")
    page.click("#rules-save")
    error = page.locator("#rules-message .error")
    expect(error).to_contain_text("单条处方供药天数", timeout=SLOW)
    expect(error).to_contain_text("1～6倍", timeout=SLOW)
    expect(page.locator("#rules-value")).to_have_value("9", timeout=SLOW)  # the typed input is kept
    expect(page.locator("#rules-reason")).to_have_value("浏览器测试：长处方", timeout=SLOW)

    page.fill("#rules-value", "2.5")
    page.click("#rules-save")
    expect(page.locator("#rules-message .ok")).to_contain_text("2.5 倍", timeout=SLOW)
    expect(row).to_contain_text("2.5 倍", timeout=SLOW)
    expect(page.locator("#rules-params")).to_contain_text("2.50", timeout=SLOW)
    expect(page.locator("#rules-history")).to_contain_text("浏览器测试：长处方", timeout=SLOW)
    expect(page.locator("#rules-value")).to_have_value("", timeout=SLOW)
    assert page.evaluate("window.__same_page === true")
