"""The real dashboard in a background thread over a scored tiny county, with one account
per role, and headless Chromium (Debian's package) to drive it.

``live_dashboard`` is shared by every browser test of the session: tests that write
(decisions) work on leads of their own, so the order they run in does not matter.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROLES = ("auditor", "reviewer", "supervisor", "admin")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `make system-deps`"
)


@dataclass
class LiveDashboard:
    """The running app: its address, workspace and ``role -> (username, password)``."""

    url: str
    workspace: Path
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def login(self, page, role: str) -> None:
        """Log ``page`` in as the account of ``role`` and wait for the overview."""
        username, password = self.accounts[role]
        page.goto(f"{self.url}/login")
        page.fill("#login-username", username)
        page.fill("#login-password", password)
        page.click("#login-submit")
        page.wait_for_selector("#current-user")


def _password() -> str:
    return f"{secrets.token_urlsafe(12)}-7a"


@pytest.fixture(scope="session")
def live_dashboard(
    county_ws: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveDashboard]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run `make system-deps`")
    from werkzeug.serving import make_server

    from hrss_fraud.cases.store import open_store
    from hrss_fraud.dashboard.app import create_app
    from hrss_fraud.dashboard.users import add_user

    ws = tmp_path_factory.mktemp("live") / "ws"
    shutil.copytree(county_ws, ws)  # decisions made here must not reach other tests
    accounts = {}
    with open_store(ws) as store:
        for role in ROLES:
            password = _password()
            add_user(store, f"{role}1", role=role, password=password, by="test")
            accounts[role] = (f"{role}1", password)
        add_user(store, "reviewer2", role="reviewer", password=(p := _password()), by="test")
        accounts["reviewer2"] = ("reviewer2", p)
    app = create_app(ws)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveDashboard(f"http://127.0.0.1:{server.server_port}", ws, accounts)
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run `make system-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser context (no cookies) and page per test, at a desk-sized window."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()
