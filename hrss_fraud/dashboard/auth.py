"""Log in, keep a session, and check permissions, for the Dash dashboard.

A login compares the password through werkzeug's hash check, which is constant-time;
an unknown user name is checked against a dummy hash so that it takes as long as a wrong
password and the reply never says which it was. After :data:`LOCKOUT_ATTEMPTS` failures
within :data:`LOCKOUT_WINDOW` the account is locked until the oldest of them leaves the
window. The failures are counted from the audit log itself (``login.failure`` rows since
the last success or password change), so the log is the one record and every process
serving the dashboard sees the same count; the lock check, the password check and the
failure's row are one write transaction, so parallel guesses queue instead of slipping
past the count.

Sessions are server-side (:mod:`hrss_fraud.cases.sessions`): Flask-Login keeps the
logged-in user for the request, its user loader resumes the session row named by the
random token in Flask's signed cookie, and a revoked or timed-out row ends the session
at once. The cookie's signing key lives in the workspace, created on first start and
readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import flask_login
from flask import Flask, current_app, g, has_request_context, request, session
from werkzeug.exceptions import Forbidden
from werkzeug.security import check_password_hash

from hrss_fraud.cases import sessions
from hrss_fraud.cases.audit import record
from hrss_fraud.cases.store import CaseStore, open_store, timestamp, write_audit
from hrss_fraud.cases.users import (
    PERMISSIONS,
    User,
    get_user,
    hash_password,
    known_permission,
    password_hash,
)

LOCKOUT_ATTEMPTS = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = sessions.SessionPolicy().absolute
"""A working day: a session left open overnight asks for the password again."""
SECRET_FILE = "dashboard_secret.key"
WORKSPACE_KEY = "HRSS_FRAUD_WORKSPACE"
"""Where :func:`configure` leaves the workspace in ``app.config`` for :func:`require`."""
SETTINGS_KEY = "HRSS_FRAUD_SECURITY"
"""Where :func:`configure` leaves the :class:`~sessions.Settings` in ``app.config``."""
COOKIE_NAME = "hrss_session"
SECURE_COOKIE_NAME = "__Host-hrss_session"
"""Behind TLS: ``Secure``, host-only, path ``/`` (the ``__Host-`` prefix makes browsers
refuse it otherwise)."""
_RESETS = ("login.success", "user.password", "user.enable")
"""Audit actions after which earlier failures no longer count."""


class LoginError(Exception):
    """A refused login: ``reason`` (``no_name``, ``locked``, ``disabled`` or ``wrong``)
    for the login page to say in its language, the message in both for logs."""

    def __init__(
        self, message: str, *, locked_until: datetime | None = None, reason: str = "wrong"
    ) -> None:
        super().__init__(message)
        self.locked_until = locked_until
        self.reason = reason


class AccessDenied(Forbidden):
    """No session, or a role without the permission (HTTP 403 if it reaches Flask)."""


class SecretKeyError(RuntimeError):
    """The session key file is unusable: readable by others, or too short."""


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def _locked_until(
    store: CaseStore, username: str, now: datetime, attempts: int, window: timedelta
) -> datetime | None:
    rows = store.query(
        "SELECT action, at FROM audit_log WHERE object_type = 'user' AND object_id = ? "
        "AND at >= ? AND at <= ? AND action IN ('login.failure', ?, ?, ?) ORDER BY audit_id",
        (username, timestamp(now - window), timestamp(now), *_RESETS),
    )
    failures: list[str] = []
    for action, at in rows:
        if action == "login.failure":
            failures.append(at)
        else:
            failures = []  # a success or a new password: earlier failures are forgiven
    if len(failures) < attempts:
        return None
    oldest = datetime.strptime(failures[-attempts], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return oldest + window


def login(
    store: CaseStore,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    attempts: int = LOCKOUT_ATTEMPTS,
    window: timedelta = LOCKOUT_WINDOW,
) -> User:
    """The user if ``password`` is theirs and the account is active and not locked out;
    otherwise :class:`LoginError`. Either way the attempt goes to the audit log, in the
    same transaction as the lockout check (see the module's docstring)."""
    name = (username or "").strip()
    if not name:
        msg = "请输入用户名 (enter your user name)"
        raise LoginError(msg, reason="no_name")
    with store.transaction() as con:
        # the time is read once the lock is held: an attempt that waited for it must see
        # the failures written meanwhile as earlier than itself
        now = datetime.now(UTC) if now is None else now.astimezone(UTC)
        user = get_user(store, name)
        key = user.username if user else name
        until = _locked_until(store, key, now, attempts, window)
        if until is not None:
            detail = {"until": timestamp(until)}
            write_audit(con, timestamp(now), key, "login.locked", "user", key, detail)
            refused = LoginError(
                f"登录失败次数过多，账户已锁定至 {until:%Y-%m-%d %H:%M} UTC "
                f"(too many failed logins: locked until then)",
                locked_until=until,
                reason="locked",
            )
        else:
            refused = _check_password(con, store, user, key, password, now, attempts, window)
    if refused is not None:
        raise refused
    return user  # type: ignore[return-value]


def _check_password(
    con: sqlite3.Connection,
    store: CaseStore,
    user: User | None,
    key: str,
    password: str,
    now: datetime,
    attempts: int,
    window: timedelta,
) -> LoginError | None:
    """Check the password inside :func:`login`'s transaction and write its audit row;
    the refusal to raise once the row is committed, or ``None`` for a success."""
    stored = password_hash(store, key) if user else None
    matches = check_password_hash(stored or _dummy_hash(), password or "")
    at = timestamp(now)
    if user is not None and matches and user.active:
        write_audit(con, at, key, "login.success", "user", key, {"role": user.role})
        return None
    reason = "unknown user" if user is None else ("disabled" if matches else "wrong password")
    write_audit(con, at, key, "login.failure", "user", key, {"reason": reason})
    until = _locked_until(store, key, now, attempts, window)
    if reason == "disabled":
        msg = "账户已停用，请联系系统管理员 (account disabled: ask the administrator)"
    else:
        msg = "用户名或密码错误 (wrong user name or password)"
    if until is not None:
        msg += f"；账户已锁定至 {until:%Y-%m-%d %H:%M} UTC (locked until then)"
    return LoginError(
        msg, locked_until=until, reason="disabled" if reason == "disabled" else "wrong"
    )


def secret_key(workspace: Path) -> str:
    """The workspace's session key, created on first use with mode 0600; two processes
    starting at once agree on one (the file is linked into place, never half-written)."""
    path = Path(workspace) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            tmp.unlink()
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        msg = f"{path} is readable by others (mode {mode:o}): run chmod 600 on it"
        raise SecretKeyError(msg)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        msg = f"{path} holds a key of {len(key)} characters; delete it to make a new one"
        raise SecretKeyError(msg)
    return key


class SignedIn(flask_login.UserMixin):
    """What Flask-Login keeps for the request: the account and its session token (the
    only thing the cookie names)."""

    def __init__(self, user: User, token: str) -> None:
        self.user = user
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def is_active(self) -> bool:
        return self.user.active


def configure(
    app: Flask,
    workspace: Path,
    *,
    secure_cookies: bool = False,
    settings: sessions.Settings | None = None,
) -> None:
    """Give the dashboard's Flask server (``dash_app.server``) its session key, cookie
    settings and Flask-Login, and the workspace for :func:`require`. ``secure_cookies``:
    served behind TLS, so the cookie is ``Secure`` and ``__Host-`` prefixed."""
    settings = settings or sessions.load_settings(workspace)
    app.secret_key = secret_key(workspace)
    app.config.update(
        {
            WORKSPACE_KEY: str(workspace),
            SETTINGS_KEY: settings,
            "SESSION_COOKIE_NAME": SECURE_COOKIE_NAME if secure_cookies else COOKIE_NAME,
            "SESSION_COOKIE_SECURE": secure_cookies,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_PATH": "/",
            "PERMANENT_SESSION_LIFETIME": settings.sessions.absolute,
            "REMEMBER_COOKIE_SECURE": secure_cookies,
            "REMEMBER_COOKIE_HTTPONLY": True,
        }
    )
    manager = flask_login.LoginManager()
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    manager.init_app(app)
    app.teardown_appcontext(_close_request_store)


def settings() -> sessions.Settings:
    """The security settings of the running app (defaults outside one)."""
    if has_request_context() and SETTINGS_KEY in current_app.config:
        return current_app.config[SETTINGS_KEY]
    return sessions.Settings()


def request_store() -> CaseStore:
    """The configured workspace's case store for this request: opened on first use with
    the bounded busy wait of the settings, closed when the request ends."""
    if "case_store" not in g:
        g.case_store = open_store(
            Path(current_app.config[WORKSPACE_KEY]), busy_timeout=settings().busy_wait
        )
    return g.case_store


def _close_request_store(_exc: BaseException | None) -> None:
    opened = g.pop("case_store", None)
    if opened is not None:
        opened.close()


def _load_user(token: str) -> SignedIn | None:
    """Flask-Login's user loader: the live session ``token`` names, with its account if
    that is still active; ``None`` ends the session."""
    store = request_store()
    name = sessions.resume(store, token, settings().sessions)
    user = get_user(store, name) if name else None
    if user is None or not user.active:
        return None
    return SignedIn(user, token)


def start_session(user: User, store: CaseStore | None = None) -> str:
    """Open a server-side session for ``user`` (call after :func:`login`) and log it in
    with Flask-Login; earlier session content is dropped (no fixation) except the chosen
    language. Returns the token."""
    store = store or request_store()
    lang = session.get("lang")
    session.clear()
    token = sessions.open_session(
        store,
        user.username,
        remote_addr=request.remote_addr if has_request_context() else None,
        user_agent=request.headers.get("User-Agent") if has_request_context() else None,
    )
    session.permanent = True
    flask_login.login_user(SignedIn(user, token))
    if lang:
        session["lang"] = lang
    return token


def current_user() -> User | None:
    """The session's user, its session row and account read afresh at each request: a
    revoked session, a disabled account or a changed role takes effect at once. ``None``
    without a live session."""
    signed = flask_login.current_user
    if signed is None or not signed.is_authenticated:
        return None
    return signed.user


def end_session(store: CaseStore | None = None) -> None:
    """Log out: the session row is revoked, the audit log notes it, the cookie cleared."""
    store = store or request_store()
    signed = flask_login.current_user
    if signed is not None and signed.is_authenticated:
        sessions.revoke(store, signed.token, "logout")
        record(store, signed.user.username, "logout", "user", signed.user.username)
    flask_login.logout_user()
    session.clear()


def require(permission: str) -> User:
    """The session's user if their role has ``permission``, else :class:`AccessDenied`."""
    return check(current_user(), permission)


def check(user: User | None, permission: str) -> User:
    """``user`` if it is someone whose role has ``permission``, else :class:`AccessDenied`
    saying why (no session, or which right the role lacks)."""
    known_permission(permission)
    if user is None:
        raise AccessDenied("请先登录 (log in first)")
    if not user.can(permission):
        zh, en = PERMISSIONS[permission]
        raise AccessDenied(f"{user.role_zh}无“{zh}”权限 ({user.role} may not {en})")
    return user
