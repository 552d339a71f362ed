"""The real dashboard in a background thread over a scored tiny county, with one account
per role, and headless Chromium (Debian's package) to drive it.

``live_dashboard`` is shared by every browser test of the session: tests that write
(decisions) work on leads of their own, so the order they run in does not matter. Under
xdist each worker starts its own (a copy of the county) and its own Chromium, so the
browser tests spread over both workers like any others: kept on one worker, three dozen
tests of 5 to 11 seconds each took that worker four minutes or more.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hrss_fraud.dashboard.screenshots import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, login, running

ROLES = ("auditor", "reviewer", "supervisor", "admin")


def in_ci() -> bool:
    """CI runs with ``CI`` set (CI=true): there every test must run."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    """Skip without Debian's chromium on a developer's machine; fail under CI, where a
    missing browser is a broken set-up (`make test` runs `make system-deps` first), not a
    reason to pass without the browser tests, as the LibreOffice checks fail too."""
    if CHROMIUM.exists():
        return
    msg = f"no {CHROMIUM}: run `make system-deps`"
    if in_ci():
        pytest.fail(f"{msg} (CI is set, so the browser tests may not be skipped)", pytrace=False)
    pytest.skip(msg)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before each browser test (a hook of this folder's conftest runs for its tests only)."""
    require_chromium()


@dataclass
class LiveDashboard:
    """The running app: its address, workspace and ``role -> (username, password)``."""

    url: str
    workspace: Path
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def login(self, page, role: str) -> None:
        """Log ``page`` in as the account of ``role`` and wait for the top bar."""
        login(page, self.url, *self.accounts[role])


def _password() -> str:
    return f"{secrets.token_urlsafe(12)}-7a"


@pytest.fixture(scope="session")
def live_dashboard(
    county_ws: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveDashboard]:
    require_chromium()
    from hrss_fraud.cases.store import open_store
    from hrss_fraud.cases.users import add_user

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
    with running(ws) as url:
        yield LiveDashboard(url, ws, accounts)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser context (no cookies) and page per test, at a desk-sized window."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()
