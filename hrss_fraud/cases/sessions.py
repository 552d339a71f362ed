"""Server-side dashboard sessions, kept in the case store's ``user_session`` table.

The browser's cookie holds only a random token; the row (keyed by the token's SHA-256,
so a copy of the database hands out no live session) says whose session it is, when it
began and was last used, and whether it was revoked. A session therefore ends for good
when its user logs out, changes or is given a new password, is disabled or changes role
(:func:`revoke_user`, called in the transaction of that change), and after
:attr:`SessionPolicy.idle` without a request or :attr:`SessionPolicy.absolute` in all.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hrss_fraud.cases.store import CaseStore, timestamp
from hrss_fraud.resources import policy_path

SETTINGS_FILE = "security.toml"
"""The dashboard's security settings in the ``dashboards`` policy folder."""
TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often per session (one write per request
would queue every page behind the case store's write lock)."""
_MAX_AGENT = 300


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lasts: ``idle`` without a request, ``absolute`` in all."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=8)


@dataclass(frozen=True)
class Settings:
    """``dashboards/security.toml``: session timeouts, the case-store wait, grid page cap."""

    sessions: SessionPolicy = SessionPolicy()
    busy_wait: float = 5.0
    """Seconds a dashboard request waits for the case store's write lock before it
    answers "busy, try again"."""
    grid_page_cap: int = 500
    """Most rows one grid request may ask for."""


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


def load_settings(workspace: Path | None = None) -> Settings:
    """The workspace's ``dashboards/security.toml`` (or the shipped one), checked."""
    path = policy_path("dashboards", SETTINGS_FILE, workspace)
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        msg = f"{path}: not valid TOML ({e})"
        raise SettingsError(msg) from e
    session = data.get("session", {})
    idle = _number(path, "session.idle_minutes", session.get("idle_minutes", 30), 1, 24 * 60)
    absolute = _number(path, "session.absolute_hours", session.get("absolute_hours", 8), 1, 72)
    store = data.get("case_store", {})
    wait = _number(path, "case_store.busy_wait_seconds", store.get("busy_wait_seconds", 5), 0, 60)
    grid = data.get("grid", {})
    cap = _number(path, "grid.page_cap", grid.get("page_cap", 500), 10, 10_000)
    return Settings(
        SessionPolicy(timedelta(minutes=idle), timedelta(hours=absolute)), float(wait), int(cap)
    )


def _number(path: Path, key: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        msg = f"{path}: {key} = {value!r} should be a number from {low:g} to {high:g}"
        raise SettingsError(msg)
    return value


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    store: CaseStore,
    username: str,
    *,
    remote_addr: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> str:
    """Start a session for ``username``; return the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    at = timestamp(now)
    with store.transaction() as con:
        con.execute(
            "INSERT INTO user_session (token_sha256, username, created_at, last_seen_at, "
            "remote_addr, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
            (token_digest(token), username, at, at, remote_addr, (user_agent or "")[:_MAX_AGENT]),
        )
    return token


def resume(
    store: CaseStore, token: str, policy: SessionPolicy, *, now: datetime | None = None
) -> str | None:
    """The user name of the live session ``token``, or ``None``: unknown, revoked, idle
    too long or too old (those two are revoked now, with the reason)."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    digest = token_digest(token)
    row = store.query(
        "SELECT username, created_at, last_seen_at, revoked_at FROM user_session "
        "WHERE token_sha256 = ?",
        (digest,),
    )
    if not row:
        return None
    username, created, seen, revoked = row[0]
    if revoked is not None:
        return None
    if now - _parse(created) > policy.absolute:
        _revoke_digest(store, digest, "expired", now)
        return None
    if now - _parse(seen) > policy.idle:
        _revoke_digest(store, digest, "idle", now)
        return None
    if now - _parse(seen) > TOUCH_EVERY:
        with store.transaction() as con:
            con.execute(
                "UPDATE user_session SET last_seen_at = ? WHERE token_sha256 = ? "
                "AND revoked_at IS NULL",
                (timestamp(now), digest),
            )
    return str(username)


def revoke(store: CaseStore, token: str, reason: str, *, now: datetime | None = None) -> None:
    """End the session ``token`` (logout); nothing happens if it is unknown or ended."""
    if token:
        _revoke_digest(store, token_digest(token), reason, now)


def _revoke_digest(store: CaseStore, digest: str, reason: str, now: datetime | None) -> None:
    with store.transaction() as con:
        con.execute(
            "UPDATE user_session SET revoked_at = ?, revoked_reason = ? "
            "WHERE token_sha256 = ? AND revoked_at IS NULL",
            (timestamp(now), reason, digest),
        )


def revoke_user(con: sqlite3.Connection, username: str, reason: str, at: str) -> int:
    """End every open session of ``username`` inside the caller's transaction (a password,
    role or status change); return how many were open."""
    cur = con.execute(
        "UPDATE user_session SET revoked_at = ?, revoked_reason = ? "
        "WHERE username = ? AND revoked_at IS NULL",
        (at, reason, username),
    )
    return cur.rowcount


def open_sessions(store: CaseStore, username: str) -> int:
    """How many sessions of ``username`` are not revoked (some may have timed out)."""
    rows = store.query(
        "SELECT count(*) FROM user_session WHERE username = ? AND revoked_at IS NULL",
        (username,),
    )
    return int(rows[0][0])


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
