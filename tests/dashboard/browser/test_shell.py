"""The shell: the login wall, a wrong password refused, the language switch, no CDN."""

from __future__ import annotations

import urllib.request

from hrss_fraud.dashboard.app import remote_assets
from hrss_fraud.nightly import journal


def test_pages_redirect_to_login_without_a_session(live_dashboard, page) -> None:
    page.goto(f"{live_dashboard.url}/leads")
    page.wait_for_selector("#login-username")
    assert page.url.endswith("/login")


def test_wrong_password_is_refused(live_dashboard, page) -> None:
    username, _ = live_dashboard.accounts["auditor"]
    page.goto(f"{live_dashboard.url}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", "not-the-password-1")
    page.click("#login-submit")
    page.wait_for_selector("#login-message:has-text('用户名或密码错误')")
    assert page.url.endswith("/login")


def test_login_then_switch_to_english_and_log_out(live_dashboard, page) -> None:
    started = journal.now_iso()
    record = {"run": "n-shell-test", "status": "ok", "started": started, "finished": started}
    journal.record_run(live_dashboard.workspace, {**record, "seconds": 95.0, "stages": {}})
    live_dashboard.login(page, "reviewer")
    assert "审核员" in page.inner_text("#current-user")
    page.wait_for_selector("#nightly-headline:has-text('最近一次夜间批处理：成功')")
    assert started[:10] in page.inner_text("#nightly-runs")
    page.click("#lang-en")
    page.wait_for_selector("#current-user:has-text('reviewer')")
    assert "Overview" in page.inner_text("header")
    page.click("#logout")
    page.wait_for_selector("#login-username")


def test_no_script_or_stylesheet_from_outside(live_dashboard) -> None:
    with urllib.request.urlopen(f"{live_dashboard.url}/login") as resp:
        text = resp.read().decode("utf-8")
    assert "_dash-component-suites" in text
    assert remote_assets(text, live_dashboard.url) == []


def test_callbacks_refuse_without_a_session(live_dashboard) -> None:
    req = urllib.request.Request(
        f"{live_dashboard.url}/_dash-update-component",
        data=b'{"output": "leads-grid.getRowsResponse", "outputs": {"id": "leads-grid", '
        b'"property": "getRowsResponse"}, "inputs": []}',
        headers={"Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(req)
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    assert status == 403
