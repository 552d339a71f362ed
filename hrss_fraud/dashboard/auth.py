"""Log in, keep a session, and check permissions, for the Dash dashboard without
Flask-Login (one package fewer on a network that downloads nothing).

A login compares the password through werkzeug's hash check, which is constant-time;
an unknown user name is checked against a dummy hash so that it takes as long as a wrong
password and the reply never says which it was. After :data:`LOCKOUT_ATTEMPTS` failures
within :data:`LOCKOUT_WINDOW` the account is locked until the oldest of them leaves the
window. The failures are counted from the audit log itself (``login.failure`` rows since
the last success or password change), so the log is the one record and every process
serving the dashboard sees the same count. The session is Flask's signed cookie; its key
lives in the workspace, created on first start and readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from flask import Flask, current_app, session
from werkzeug.exceptions import Forbidden
from werkzeug.security import check_password_hash

from hrss_fraud.cases.store import CaseStore, open_store, timestamp
from hrss_fraud.dashboard.audit import record
from hrss_fraud.dashboard.users import (
    PERMISSIONS,
    User,
    get_user,
    hash_password,
    known_permission,
    password_hash,
)

LOCKOUT_ATTEMPTS = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
"""A working day: a session left open overnight asks for the password again."""
SECRET_FILE = "dashboard_secret.key"
WORKSPACE_KEY = "HRSS_FRAUD_WORKSPACE"
"""Where :func:`configure` leaves the workspace in ``app.config`` for :func:`require`."""
_RESETS = ("login.success", "user.password", "user.enable")
"""Audit actions after which earlier failures no longer count."""


class LoginError(Exception):
    """A refused login; the message is fit to show on the login page."""

    def __init__(self, message: str, *, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


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
    otherwise :class:`LoginError`. Either way the attempt goes to the audit log."""
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    name = (username or "").strip()
    if not name:
        msg = "请输入用户名 (enter your user name)"
        raise LoginError(msg)
    user = get_user(store, name)
    key = user.username if user else name
    until = _locked_until(store, key, now, attempts, window)
    if until is not None:
        record(store, key, "login.locked", "user", key, {"until": timestamp(until)}, at=now)
        msg = (
            f"登录失败次数过多，账户已锁定至 {until:%Y-%m-%d %H:%M} UTC "
            f"(too many failed logins: locked until then)"
        )
        raise LoginError(msg, locked_until=until)
    stored = password_hash(store, key) if user else None
    matches = check_password_hash(stored or _dummy_hash(), password or "")
    if user is not None and matches and user.active:
        record(store, key, "login.success", "user", key, {"role": user.role}, at=now)
        return user
    reason = "unknown user" if user is None else ("disabled" if matches else "wrong password")
    record(store, key, "login.failure", "user", key, {"reason": reason}, at=now)
    until = _locked_until(store, key, now, attempts, window)
    if reason == "disabled":
        msg = "账户已停用，请联系系统管理员 (account disabled: ask the administrator)"
    else:
        msg = "用户名或密码错误 (wrong user name or password)"
    if until is not None:
        msg += f"；账户已锁定至 {until:%Y-%m-%d %H:%M} UTC (locked until then)"
    raise LoginError(msg, locked_until=until)


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


def configure(app: Flask, workspace: Path) -> None:
    """Give the dashboard's Flask server (``dash_app.server``) its session key and
    cookie settings, and the workspace for :func:`require`."""
    app.secret_key = secret_key(workspace)
    app.config.update(
        {
            WORKSPACE_KEY: str(workspace),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
        }
    )


def start_session(user: User) -> None:
    """Remember ``user`` in the session (call after :func:`login`); any earlier session
    content is dropped, so nothing carries over from before the login."""
    session.clear()
    session.permanent = True
    session["username"] = user.username
    session["login_at"] = timestamp()


def current_user(store: CaseStore) -> User | None:
    """The session's user, read afresh from the store: a disabled account or a changed
    role takes effect at its next request. ``None`` (and the session cleared) otherwise."""
    name = session.get("username")
    user = get_user(store, name) if name else None
    if user is None or not user.active:
        session.clear()
        return None
    return user


def end_session(store: CaseStore) -> None:
    """Log out: the audit log notes it and the session is cleared."""
    name = session.get("username")
    if name:
        record(store, name, "logout", "user", name)
    session.clear()


def require(permission: str, store: CaseStore | None = None) -> User:
    """The session's user if their role has ``permission``, else :class:`AccessDenied`.
    Without ``store`` the workspace given to :func:`configure` is opened for the check."""
    known_permission(permission)
    if store is None:
        with open_store(Path(current_app.config[WORKSPACE_KEY])) as opened:
            return require(permission, opened)
    user = current_user(store)
    if user is None:
        raise AccessDenied("请先登录 (log in first)")
    if not user.can(permission):
        zh, en = PERMISSIONS[permission]
        raise AccessDenied(f"{user.role_zh}无“{zh}”权限 ({user.role} may not {en})")
    return user
