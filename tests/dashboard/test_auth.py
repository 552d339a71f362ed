"""Login, lockout, the session key and the session helpers, on a bare Flask app."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from hrss_fraud.cases import open_store
from hrss_fraud.cases.users import add_user, set_active, set_password
from hrss_fraud.dashboard import auth

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
PW = "Shenhe-2025!"
WRONG = "用户名或密码错误 (wrong user name or password)"


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path) as s:
        add_user(s, "li", role="reviewer", password=PW, by="root")
        add_user(s, "zhao", role="admin", password=PW, by="root")
        yield s


def _actions(store, name: str) -> list[str]:
    return [a for a in store.audit_log(name)["action"].to_list() if a.startswith("login.")]


def _fail(store, name: str, n: int, start: datetime = T0) -> None:
    for i in range(n):
        with pytest.raises(auth.LoginError):
            auth.login(store, name, "not-the-password", now=start + timedelta(seconds=i))


def test_login_succeeds_and_is_logged(store) -> None:
    user = auth.login(store, " li ", PW, now=T0)
    assert (user.username, user.role) == ("li", "reviewer")
    row = store.audit_log("li").filter(action="login.success").row(0, named=True)
    assert row["actor"] == "li" and row["at"] == T0 and '"role": "reviewer"' in row["detail"]


@pytest.mark.parametrize(
    ("name", "password", "reason"),
    [("li", "wrong-password-1", "wrong password"), ("ghost", PW, "unknown user")],
)
def test_a_failure_says_the_same_for_unknown_users(
    store, name: str, password: str, reason: str
) -> None:
    with pytest.raises(auth.LoginError) as e:
        auth.login(store, name, password, now=T0)
    assert str(e.value) == WRONG and e.value.locked_until is None
    row = store.audit_log(name).row(-1, named=True)
    assert row["action"] == "login.failure" and f'"reason": "{reason}"' in row["detail"]


def test_a_disabled_account_cannot_log_in(store) -> None:
    set_active(store, "li", False, by="zhao")
    with pytest.raises(auth.LoginError, match="account disabled") as e:
        auth.login(store, "li", PW, now=T0)
    assert e.value.reason == "disabled"  # the login page words it in its language
    with pytest.raises(auth.LoginError, match="wrong user name or password") as e:
        auth.login(store, "li", "wrong-password-1", now=T0)  # says nothing without the password
    assert e.value.reason == "wrong"


def test_an_empty_user_name_is_refused_without_a_log_row(store) -> None:
    before = store.audit_log().height
    with pytest.raises(auth.LoginError, match="enter your user name") as e:
        auth.login(store, "  ", PW, now=T0)
    assert store.audit_log().height == before and e.value.reason == "no_name"


def test_lockout_after_n_failures_until_the_window_passes(store) -> None:
    _fail(store, "li", auth.LOCKOUT_ATTEMPTS - 1)
    with pytest.raises(auth.LoginError, match="locked until") as e:
        auth.login(store, "li", "still-wrong-1", now=T0 + timedelta(minutes=1))
    assert e.value.locked_until == T0 + auth.LOCKOUT_WINDOW  # the oldest failure + window
    with pytest.raises(auth.LoginError, match="too many failed logins") as e:
        auth.login(store, "li", PW, now=T0 + timedelta(minutes=14))  # right password, locked
    assert e.value.reason == "locked"
    assert _actions(store, "li")[-1] == "login.locked"
    assert "login.success" not in _actions(store, "li")
    user = auth.login(store, "li", PW, now=T0 + auth.LOCKOUT_WINDOW + timedelta(seconds=5))
    assert user.username == "li"


def test_unknown_names_lock_too(store) -> None:
    _fail(store, "ghost", auth.LOCKOUT_ATTEMPTS)
    with pytest.raises(auth.LoginError, match="too many failed logins"):
        auth.login(store, "ghost", PW, now=T0 + timedelta(minutes=1))


def test_a_success_or_a_new_password_forgives_earlier_failures(store) -> None:
    _fail(store, "li", auth.LOCKOUT_ATTEMPTS - 1)
    auth.login(store, "li", PW, now=T0 + timedelta(minutes=1))
    _fail(store, "li", auth.LOCKOUT_ATTEMPTS - 1, start=T0 + timedelta(minutes=2))
    assert auth.login(store, "li", PW, now=T0 + timedelta(minutes=3)).username == "li"
    _fail(store, "zhao", auth.LOCKOUT_ATTEMPTS, start=T0)
    set_password(store, "zhao", "Fresh-password-7", by="root", now=T0 + timedelta(minutes=1))
    assert auth.login(store, "zhao", "Fresh-password-7", now=T0 + timedelta(minutes=2))


def test_the_secret_key_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    key = auth.secret_key(tmp_path / "ws")
    path = tmp_path / "ws" / auth.SECRET_FILE
    assert len(key) == 64 and path.stat().st_mode & 0o777 == 0o600
    assert auth.secret_key(tmp_path / "ws") == key
    assert [p.name for p in path.parent.iterdir()] == [auth.SECRET_FILE]  # no temp file left
    os.chmod(path, 0o644)
    with pytest.raises(auth.SecretKeyError, match=r"by others \(mode 644\): run chmod 600"):
        auth.secret_key(tmp_path / "ws")
    os.chmod(path, 0o600)
    path.write_text("short")
    with pytest.raises(auth.SecretKeyError, match="delete it to make a new one"):
        auth.secret_key(tmp_path / "ws")


@pytest.fixture
def app(store) -> Flask:
    app = Flask(__name__)
    auth.configure(app, store.path.parent)

    @app.route("/users")
    def manage() -> str:
        return auth.require("manage_users").username

    @app.route("/as/<name>")
    def sign_in(name: str) -> str:
        auth.start_session(auth.login(auth.request_store(), name, PW))
        return "ok"

    @app.route("/out")
    def sign_out() -> str:
        auth.end_session()
        return "bye"

    return app


def test_configure_sets_the_key_and_cookie(app: Flask, store) -> None:
    assert app.secret_key == auth.secret_key(store.path.parent)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_NAME"] == auth.COOKIE_NAME
    assert app.config["PERMANENT_SESSION_LIFETIME"] == auth.SESSION_LIFETIME


def test_session_helpers_and_require(app: Flask, store) -> None:
    with app.test_request_context():
        with pytest.raises(auth.AccessDenied, match="log in first"):
            auth.require("view_leads")
        li = auth.login(store, "li", PW)
        auth.start_session(li)
        assert auth.current_user() == li
        assert auth.require("decide_first_review") == li
        with pytest.raises(auth.AccessDenied, match=r"审核员无“管理用户”权限 \(reviewer may not"):
            auth.require("manage_users")
        with pytest.raises(ValueError, match="unknown permission"):
            auth.require("everything")
        auth.end_session(store)
        assert auth.current_user() is None
    assert store.audit_log("li")["action"].to_list()[-1] == "logout"


def test_a_disabled_account_loses_its_session_at_its_next_request(app: Flask, store) -> None:
    client = app.test_client()
    assert client.get("/as/li").status_code == 200
    assert client.get("/users").status_code == 403  # a reviewer: no user management
    set_active(store, "li", False, by="zhao")
    set_active(store, "li", True, by="zhao")
    with client.session_transaction() as s:
        assert "_user_id" in s  # the old token is still in the cookie, and worth nothing
    reply = client.get("/users")
    assert reply.status_code == 403 and "log in first" in reply.text


def test_a_route_answers_403_without_the_permission(app: Flask, store) -> None:
    client = app.test_client()
    client.get("/as/li")
    assert client.get("/users").status_code == 403
    client.get("/out")
    client.get("/as/zhao")
    reply = client.get("/users")
    assert reply.status_code == 200 and reply.text == "zhao"


def test_a_forged_cookie_with_a_user_name_is_no_session(app: Flask, store) -> None:
    client = app.test_client()
    with client.session_transaction() as s:
        s["username"] = "zhao"  # what the old signed-cookie session trusted
        s["_user_id"] = "zhao"
    assert client.get("/users").status_code == 403
