"""The app shell without a browser: the login wall, which callbacks run without a session,
the top bar's pages by role, nothing loaded from outside, and the demo accounts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import get_user
from hrss_fraud.cli import main
from hrss_fraud.cli.serve import DEMO_ACCOUNTS, demo_accounts
from hrss_fraud.dashboard import guard
from hrss_fraud.dashboard.app import create_app, nav_pages, page_name, remote_assets


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    app = create_app(tmp_path_factory.mktemp("app"))
    app.server.test_client().get("/login")  # Dash gathers its callbacks at first request
    return app


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


def test_pages_redirect_to_login_without_a_session(client) -> None:
    for path in ("/", "/leads", "/institution/H1"):
        reply = client.get(path)
        assert (reply.status_code, reply.headers["Location"]) == (302, "/login")
    assert client.get("/login").status_code == 200


def test_nothing_is_loaded_from_outside(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert "_dash-component-suites" in html
    assert remote_assets(html, "http://localhost") == []
    assert remote_assets('<script src="https://cdn.example/x.js">', "http://a") == [
        "https://cdn.example/x.js"
    ]


def test_only_the_login_page_calls_back_without_a_session(app, client) -> None:
    grid = {"output": "..leads-grid.getRowsResponse...leads-message.children.."}
    reply = client.post(
        "/_dash-update-component", json=grid, headers={"Origin": "http://localhost"}
    )
    assert reply.status_code == 403
    login = "..login-message.children...login-redirect.href.."
    assert guard.open_without_session(app.callback_map, login)
    router = next(k for k in app.callback_map if guard.ROUTER_OUTPUT in k)
    assert guard.open_without_session(app.callback_map, router)  # its layouts check
    for probe in ("leads-grid.getRowsResponse", "", None, ["login-message.children"], router + "x"):
        assert not guard.open_without_session(app.callback_map, probe)


def test_nav_lists_pages_by_order_and_permission(client) -> None:
    paths = [p["path"] for p in nav_pages("reviewer")]
    assert paths[:2] == ["/", "/leads"]
    assert "/login" not in paths
    assert nav_pages(None) == [p for p in nav_pages(None) if not p.get("permission")]
    overview = next(p for p in nav_pages("auditor") if p["path"] == "/")
    assert (page_name(overview, "zh"), page_name(overview, "en")) == ("总览", "Overview")


def test_demo_accounts_are_made_once(tmp_path: Path) -> None:
    first = demo_accounts(tmp_path)
    assert set(first) == set(DEMO_ACCOUNTS) and all(first.values())
    assert demo_accounts(tmp_path) == dict.fromkeys(DEMO_ACCOUNTS)
    with open_store(tmp_path) as store:
        assert get_user(store, "auditor").role == "auditor"
        assert get_user(store, "demo").role == "supervisor"


def test_serve_has_help() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


@pytest.mark.parametrize("behind_proxy", [False, True])
def test_served_by_waitress(tmp_path: Path, behind_proxy: bool) -> None:
    import threading
    import urllib.request

    from hrss_fraud.dashboard.app import wsgi_server

    app = create_app(tmp_path, secure_cookies=behind_proxy)
    server = wsgi_server(app, host="127.0.0.1", port=0, behind_proxy=behind_proxy, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        port = server.effective_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as reply:
            assert reply.status == 200
            assert reply.headers["Server"] == "hrss-fraud"
    finally:
        server.close()
        thread.join(30)
