"""The dashboard probed as an attacker would, over raw HTTP (Flask's test client speaks the
same requests a browser or a script sends to ``/_dash-update-component``).

Each test is one probe of the security review (issue 15): the login bypass through the
page router, sessions that outlived logout, a password change, disabling and a role
change, the lockout race, cookies without ``Secure``, cross-site requests, and callbacks
without a declared permission.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hrss_fraud.cases import sessions
from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import add_user, set_active, set_password, set_role
from hrss_fraud.dashboard import auth
from hrss_fraud.dashboard.app import create_app

PW = "Probe-pass-2025"
HOST = "http://localhost"


def _output_key(outputs: list[tuple[str, str]]) -> str:
    """The key Dash dispatches on: ``id.prop`` alone, or ``..a.p...b.q..`` for several."""
    parts = [f"{i}.{p}" for i, p in outputs]
    return parts[0] if len(parts) == 1 else ".." + "...".join(parts) + ".."


def call(client, outputs, inputs=(), state=(), *, origin: str | None = HOST):
    """POST one callback request; ``inputs``/``state`` are ``(id, prop, value)``."""
    body = {
        "output": _output_key(outputs),
        "outputs": [{"id": i, "property": p} for i, p in outputs]
        if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs[:1]],
    }
    headers = {"Origin": origin} if origin else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


ROUTER = [("_pages_content", "children"), ("_pages_store", "data")]


def route(client, pathname: str, search: str = "", **kw):
    """Ask Dash's page router for ``pathname``'s layout (as the browser does)."""
    return call(
        client,
        ROUTER,
        [("_pages_location", "pathname", pathname), ("_pages_location", "search", search)],
        **kw,
    )


def signed_in(reply) -> bool:
    """Whether the router answered with the page itself (not the way to the login)."""
    text = reply.get_data(as_text=True)
    return reply.status_code == 200 and "guard-to-login" not in text and "guard-refused" not in text


def log_in(client, username: str, password: str = PW):
    return call(
        client,
        [("login-message", "children"), ("login-redirect", "href")],
        [("login-submit", "n_clicks", 1), ("login-password", "n_submit", 0)],
        [("login-username", "value", username), ("login-password", "value", password)],
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("probe") / "ws"
    with open_store(ws) as store:
        add_user(store, "boss", role="admin", password=PW, by="setup")
        for name, role in (("sup", "supervisor"), ("rev", "reviewer"), ("aud", "auditor")):
            add_user(store, name, role=role, password=PW, by="boss")
    return ws


@pytest.fixture(scope="module")
def app(workspace: Path):
    app = create_app(workspace)
    app.server.test_client().get("/login")  # Dash registers its callbacks at first request
    return app


def fresh(app):
    return app.server.test_client()


def test_the_router_serves_no_page_without_a_session_whatever_its_inputs(app) -> None:
    """The bypass: a second input ``pathname=/login`` made the router's wall open."""
    client = fresh(app)
    crafted = call(
        client,
        ROUTER,
        [("_pages_location", "pathname", "/"), ("_pages_location", "pathname", "/login")],
    )
    for reply in (crafted, route(client, "/"), route(client, "/rules"), route(client, "/leads")):
        text = reply.get_data(as_text=True)
        assert reply.status_code == 200, text[:200]
        assert "guard-to-login" in text
        for secret in ("overview-", "rules-pick", "leads-grid", "基金支付", "阈值"):
            assert secret not in text
    assert "login-username" in route(client, "/login").get_data(as_text=True)


def test_every_callback_but_login_refuses_without_a_session(app) -> None:
    client = fresh(app)
    for key, entry in app.callback_map.items():
        if "callback" not in entry or "_pages_content" in key or key.startswith("..login-"):
            continue
        outputs = [tuple(part.rsplit(".", 1)) for part in key.strip(".").split("...")]
        reply = call(client, outputs)
        assert reply.status_code == 403, key


def test_a_session_ends_at_logout_and_its_cookie_is_worth_nothing(app) -> None:
    client = fresh(app)
    assert log_in(client, "rev").status_code == 200
    cookie = client.get_cookie(auth.COOKIE_NAME)
    assert cookie is not None
    assert "rev" not in cookie.value  # only the token, signed
    assert signed_in(route(client, "/leads"))
    assert client.post("/logout", headers={"Origin": HOST}).status_code == 302
    replay = fresh(app)
    replay.set_cookie(auth.COOKIE_NAME, cookie.value)
    assert "guard-to-login" in route(replay, "/leads").get_data(as_text=True)


@pytest.mark.parametrize("change", ["password", "disable", "role"])
def test_a_password_change_disabling_or_a_role_change_ends_open_sessions(
    app, workspace: Path, change: str
) -> None:
    name = f"p_{change}"
    with open_store(workspace) as store:
        add_user(store, name, role="supervisor", password=PW, by="boss")
    client = fresh(app)
    log_in(client, name)
    assert signed_in(route(client, "/leads"))
    with open_store(workspace) as store:
        if change == "password":
            set_password(store, name, "Another-pass-2026", by="boss")
        elif change == "disable":
            set_active(store, name, False, by="boss")
            set_active(store, name, True, by="boss")  # re-enabling revives nothing
        else:
            set_role(store, name, "auditor", by="boss")
        assert sessions.open_sessions(store, name) == 0
    assert "guard-to-login" in route(client, "/leads").get_data(as_text=True)


def test_sessions_time_out_when_idle_and_in_all(workspace: Path) -> None:
    policy = sessions.SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    t0 = datetime(2026, 1, 5, 8, tzinfo=UTC)
    with open_store(workspace) as store:
        idle = sessions.open_session(store, "aud", now=t0)
        assert sessions.resume(store, idle, policy, now=t0 + timedelta(minutes=29)) == "aud"
        assert sessions.resume(store, idle, policy, now=t0 + timedelta(minutes=60)) is None
        busy = sessions.open_session(store, "aud", now=t0)
        for minutes in range(20, 8 * 60, 20):  # used every 20 minutes all day
            assert sessions.resume(store, busy, policy, now=t0 + timedelta(minutes=minutes))
        assert sessions.resume(store, busy, policy, now=t0 + timedelta(hours=8, minutes=1)) is None
        reasons = store.query("SELECT revoked_reason FROM user_session WHERE revoked_at NOT NULL")
        assert {"idle", "expired"} <= {r[0] for r in reasons}


def test_parallel_wrong_passwords_get_no_more_checks_than_the_lockout_allows(
    workspace: Path,
) -> None:
    with open_store(workspace) as store:
        add_user(store, "target", role="auditor", password=PW, by="boss")
    outcomes: list[str] = []

    def guess(i: int) -> None:
        with open_store(workspace) as store:
            try:
                auth.login(store, "target", f"wrong-guess-{i}")
            except auth.LoginError as e:
                outcomes.append("locked" if "locked until" in str(e) else "wrong")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with open_store(workspace) as store:
        actions = store.audit_log("target")["action"].to_list()
    assert actions.count("login.failure") == auth.LOCKOUT_ATTEMPTS
    assert actions.count("login.locked") == 40 - auth.LOCKOUT_ATTEMPTS
    assert len(outcomes) == 40


def test_behind_tls_the_cookie_is_secure_and_host_only(workspace: Path) -> None:
    app = create_app(workspace, secure_cookies=True)
    client = app.server.test_client()
    client.get("/login", base_url="https://localhost")
    reply = log_in(client, "aud")
    cookies = reply.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith(auth.SECURE_COOKIE_NAME + "="))
    for flag in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert flag in session_cookie
    assert "Domain=" not in session_cookie


def test_state_changing_requests_from_another_site_are_refused(app) -> None:
    client = fresh(app)
    assert log_in(client, "aud", PW).status_code == 200
    for origin in (None, "http://evil.example", "null", "https://localhost.evil.example"):
        reply = route(client, "/leads", origin=origin)
        assert reply.status_code == 403, origin
    referer_only = client.post(
        "/logout", headers={"Referer": "http://localhost/leads"}
    )  # a form POST that carries no Origin
    assert referer_only.status_code == 302


def test_allowed_proxy_origin_is_accepted(workspace: Path) -> None:
    app = create_app(workspace, allowed_origins=("https://jg.example.gov.cn",))
    client = app.server.test_client()
    client.get("/login")
    refused = call(
        client,
        [("login-message", "children"), ("login-redirect", "href")],
        [("login-submit", "n_clicks", 1), ("login-password", "n_submit", 0)],
        [("login-username", "value", "aud"), ("login-password", "value", PW)],
        origin="https://other.example.gov.cn",
    )
    assert refused.status_code == 403
    reply = call(
        client,
        [("login-message", "children"), ("login-redirect", "href")],
        [("login-submit", "n_clicks", 1), ("login-password", "n_submit", 0)],
        [("login-username", "value", "aud"), ("login-password", "value", PW)],
        origin="https://jg.example.gov.cn",
    )
    assert reply.status_code == 200
    assert json.loads(reply.get_data(as_text=True))["response"]["login-redirect"]["href"] == "/"


def test_a_malformed_callback_request_is_a_clear_400_not_a_500(app) -> None:
    client = fresh(app)
    log_in(client, "aud")
    three = call(
        client,
        ROUTER,
        [("_pages_location", "pathname", "/")] * 3,
    )
    assert three.status_code == 400
    assert "Traceback" not in three.get_data(as_text=True)
    unknown = call(client, [("no-such", "children")])
    assert unknown.status_code == 400
    garbage = client.post("/_dash-update-component", data=b"not json", headers={"Origin": HOST})
    assert garbage.status_code in (400, 415)


AUDIT = [("audit-results", "children"), ("audit-page", "data")]
AUDIT_IN = [("audit-search", "n_clicks", 1), ("audit-prev", "n_clicks", 0)]
AUDIT_IN += [("audit-next", "n_clicks", 0)]
AUDIT_STATE = [("audit-page", "data", 0)] + [
    (f"audit-{k}", "value", None) for k in ("actor", "action", "object", "from", "to")
]


def test_an_unexpected_callback_error_is_a_logged_message_not_a_500(
    app, monkeypatch, caplog
) -> None:
    from hrss_fraud.dashboard import audit_view

    client = fresh(app)
    log_in(client, "boss")
    assert call(client, AUDIT, AUDIT_IN, AUDIT_STATE).status_code == 200

    def broken(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(audit_view, "audit_page", broken)
    reply = call(client, AUDIT, AUDIT_IN, AUDIT_STATE)
    assert reply.status_code == 200
    body = json.loads(reply.get_data(as_text=True))
    bar = body["sideUpdate"]["app-message"]["children"]
    assert bar.startswith("处理出错，已记录日志")
    assert "disk on fire" not in reply.get_data(as_text=True)  # logged, not shown
    assert "disk on fire" in caplog.text


def test_a_busy_case_store_answers_try_again_after_a_bounded_wait(workspace: Path) -> None:
    import sqlite3

    settings = workspace / "dashboards" / "security.toml"
    settings.parent.mkdir(exist_ok=True)
    settings.write_text("[case_store]\nbusy_wait_seconds = 0.5\n", encoding="utf-8")
    try:
        app = create_app(workspace)
    finally:
        settings.unlink()
    assert app.server.config[auth.SETTINGS_KEY].busy_wait == 0.5
    client = fresh(app)
    log_in(client, "boss")
    blocker = sqlite3.connect(workspace / "cases.sqlite", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the store
    try:
        reply = log_in(fresh(app), "aud")
        assert reply.status_code == 200
        body = json.loads(reply.get_data(as_text=True))
        assert "案件库正忙，请稍后重试" in body["sideUpdate"]["app-message"]["children"]
        out = client.post("/logout", headers={"Origin": HOST})
        assert out.status_code == 503 and "try again" in out.get_data(as_text=True)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert log_in(fresh(app), "aud").status_code == 200


def test_security_settings_are_checked_with_the_file_and_key_named(tmp_path: Path) -> None:
    assert sessions.load_settings(tmp_path) == sessions.Settings()  # the shipped file
    own = tmp_path / "dashboards" / "security.toml"
    own.parent.mkdir()
    own.write_text("[session]\nidle_minutes = 0\n", encoding="utf-8")
    with pytest.raises(sessions.SettingsError, match=r"security.toml: session.idle_minutes = 0"):
        sessions.load_settings(tmp_path)
    own.write_text("[session\n", encoding="utf-8")
    with pytest.raises(sessions.SettingsError, match="not valid TOML"):
        sessions.load_settings(tmp_path)
    own.write_text("[session]\nidle_minutes = 15\n[grid]\npage_cap = 200\n", encoding="utf-8")
    loaded = sessions.load_settings(tmp_path)
    assert loaded.sessions.idle == timedelta(minutes=15) and loaded.grid_page_cap == 200
