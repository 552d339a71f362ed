"""Screenshots of the dashboard's pages for the documentation (docs/screenshots/), taken
with headless Chromium from a workspace with a scored run.

    python -m hrss_fraud.dashboard.screenshots [--workspace DIR] [--out docs/screenshots]

It starts the app on a free port, adds a throw-away supervisor account if the workspace
has none it can use, logs in, and saves one PNG per page (the lead page with a lead
opened). The browser tests reuse :func:`running` and :func:`take`.
"""

from __future__ import annotations

import argparse
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from hrss_fraud import workspace as workspace_mod
from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import add_user, get_user, set_password
from hrss_fraud.dashboard.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}


def _quiet_handler() -> type:
    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """One line per request drowns a test's output: only errors are logged."""

    return Quiet


@contextmanager
def running(workspace: Path) -> Iterator[str]:
    """The dashboard over ``workspace`` in a background thread; yields its base URL."""
    app = create_app(workspace)
    server = make_server(
        "127.0.0.1", 0, app.server, threaded=True, request_handler=_quiet_handler()
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def login(page: Any, url: str, username: str, password: str) -> None:
    """Log ``page`` in and wait for the top bar to name the user."""
    page.goto(f"{url}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_selector("#current-user")


FIRST_RULE_CELL = ".ag-row[row-index='0'] .ag-cell[col-id='rule_name']"


def wait_for_rows(page: Any) -> None:
    """Wait until the queue's first row holds a lead (the infinite model draws empty
    placeholder rows while the server answers)."""
    page.wait_for_function(
        f'() => {{ const c = document.querySelector("{FIRST_RULE_CELL}");'
        " return c && c.innerText.trim().length > 0; }"
    )


FIRST_CASE_CELL = "#cases-grid .ag-row[row-index='0'] .ag-cell[col-id='title']"


def wait_for_cases(page: Any) -> None:
    """Wait until the case grid's first row holds a case."""
    page.wait_for_function(
        f'() => {{ const c = document.querySelector("{FIRST_CASE_CELL}");'
        " return c && c.innerText.trim().length > 0; }"
    )


def open_first_case(page: Any, url: str) -> None:
    """The lead queue as it opens, on its cases, with the first case opened on its leads."""
    page.goto(f"{url}/leads")
    wait_for_cases(page)
    page.click(FIRST_CASE_CELL)
    page.wait_for_selector("#case-title")
    wait_for_rows(page)


def open_first_lead(page: Any, url: str) -> None:
    """The lead queue with its first lead opened in the panel."""
    page.goto(f"{url}/leads?view=leads")
    wait_for_rows(page)
    page.click(FIRST_RULE_CELL)
    page.wait_for_selector("#lead-title")


def _at(path: str, selector: str) -> Callable[[Any, str], None]:
    """A page that is ready when ``selector`` shows."""

    def go(page: Any, url: str) -> None:
        page.goto(f"{url}{path}")
        page.wait_for_selector(selector)

    return go


def _listing(path: str, list_id: str) -> Callable[[Any, str], None]:
    """A page whose list is drawn by a callback: wait for it."""
    return _at(path, f"#{list_id} > div")


SHOTS: dict[str, Callable[[Any, str], None]] = {
    "login": lambda page, url: None,
    "overview": _at("/", "#overview-charts .js-plotly-plot"),
    "cases": open_first_case,
    "leads": open_first_lead,
    "quality": _at("/quality", "#quality-institutions .ag-row"),
    "rounds": _listing("/rounds", "rounds-list"),
    "notices": _listing("/notices", "notices-list"),
    "complaints": _listing("/complaints", "complaints-list"),
    "rule_catalogue": _at("/rules?rule=split_admission", "#rules-params tbody tr"),
    "registers": _at("/registers", "#registers-overview-table"),
    "labour": _listing("/labour", "labour-list"),
    "enrolment": _at("/enrolment", "#enrolment-ranking tbody tr"),
    "checks": _at("/checks", "#checks-summary"),
}
"""File name → how to get the page there (after logging in; ``login`` is taken before)."""


def take(
    page: Any, url: str, out: Path, names: dict[str, Callable[[Any, str], None]]
) -> list[Path]:
    """Go to each page and save a full-page PNG in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, go in names.items():
        go(page, url)
        page.wait_for_load_state("networkidle")
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    return saved


def _account(workspace: Path) -> tuple[str, str]:
    """A supervisor account for the screenshots (created once, named ``screenshots``)."""
    password = f"{secrets.token_urlsafe(12)}-7a"
    with open_store(workspace) as store:
        if get_user(store, "screenshots") is None:
            add_user(store, "screenshots", role="supervisor", password=password, by="screenshots")
        else:
            set_password(store, "screenshots", password, by="screenshots")
    return "screenshots", password


def main(argv: list[str] | None = None) -> int:
    # playwright is an optional dependency (the docs' screenshots and the browser tests)
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    ws = Path(args.workspace or workspace_mod.resolve(None))
    username, password = _account(ws)
    with running(ws) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
        page.set_default_timeout(30_000)
        page.goto(f"{url}/login")
        page.wait_for_selector("#login-username")
        login_shot = take(page, url, args.out, {"login": lambda page, url: None})
        login(page, url, username, password)
        saved = login_shot + take(
            page, url, args.out, {k: v for k, v in SHOTS.items() if k != "login"}
        )
        browser.close()
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
