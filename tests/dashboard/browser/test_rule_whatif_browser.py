"""The rule page's what-if in a browser: an auditor edits a value, tries it, and sees the
figures beside the latest run's while the page stays as it was (nothing saved)."""

from __future__ import annotations

from playwright.sync_api import expect

from hrss_fraud.dashboard.rule_catalogue_view import current_catalogue, rule_params

SLOW = 60_000
"""A first try prepares the what-if database from the lake before the rule runs (ms)."""


def test_an_auditor_tries_a_value_and_sees_the_figures(live_dashboard, page) -> None:
    # the value in force: another browser test of the session may have saved a change
    ws = live_dashboard.workspace
    params = rule_params(current_catalogue(ws), ws, "split_admission")
    days = f"{params.filter(params['name'] == 'days')['value'][0]:g}"
    assert days != "30"
    live_dashboard.login(page, "auditor")
    page.goto(f"{live_dashboard.url}/rules?rule=split_admission")
    value = page.locator("#rules-whatif input")
    expect(value).to_have_value(days, timeout=SLOW)
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    value.fill("30")
    page.click("#rules-try")
    figures = page.locator("#rules-try-figures")
    expect(figures).to_contain_text("差额", timeout=SLOW)
    expect(figures.locator("tbody tr")).to_have_count(3)
    expect(page.locator("#rules-try-result")).to_contain_text(f"{days} → 30")
    assert page.evaluate("window.__same_page") is True
    assert page.locator("#rules-save").count() == 0  # an auditor changes nothing
    value.fill("61")
    page.click("#rules-try")
    expect(page.locator("#rules-try-result .error")).to_contain_text("1～60", timeout=SLOW)
