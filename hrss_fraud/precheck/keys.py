"""API keys of the check service: one or more per institution, which checks its own visits.

A key reads ``hfk_<key_id>.<secret>``: the key id finds the stored row, the secret (32
random bytes) is compared with the SHA-256 kept in ``check_key`` — a random 256-bit secret
needs no slow hash, and each check stays within the service's few milliseconds. The key is
shown once, when issued; it cannot be recovered, only revoked and replaced. Issuing and
revoking write a chained audit-log row in the same transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from hrss_fraud.cases.store import CaseStore, open_store, timestamp, write_audit

PREFIX = "hfk_"
_KEY = re.compile(r"^hfk_([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$")


class CheckKeyError(ValueError):
    """A key that cannot be issued or revoked; the message names what and which."""


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the whole key (shown once) and its id (listed, logged)."""

    key_id: str
    fixmedins_code: str
    key: str


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as listed: never its secret."""

    key_id: str
    fixmedins_code: str
    note: str
    created_by: str
    created_at: str
    revoked_by: str | None
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _institution(fixmedins_code: str) -> str:
    code = (fixmedins_code or "").strip()
    if not code or any(c.isspace() for c in code):
        msg = f"机构编码无效 invalid institution code {fixmedins_code!r} (fixmedins_code)"
        raise CheckKeyError(msg)
    return code


def add_key(store: CaseStore, fixmedins_code: str, *, by: str, note: str = "") -> IssuedKey:
    """Issue a key to the institution ``fixmedins_code``; the returned key is the only copy."""
    code = _institution(fixmedins_code)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    at = timestamp()
    with store.transaction() as con:
        con.execute(
            "INSERT INTO check_key (key_id, fixmedins_code, secret_sha256, note, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, code, _digest(secret), note.strip(), by, at),
        )
        write_audit(con, at, by, "check_key.add", "institution", code, {"key_id": key_id})
    return IssuedKey(key_id, code, f"{PREFIX}{key_id}.{secret}")


_COLUMNS = "key_id, fixmedins_code, note, created_by, created_at, revoked_by, revoked_at"


def list_keys(store: CaseStore, fixmedins_code: str | None = None) -> list[KeyInfo]:
    """The keys (of one institution, if given), oldest first, revoked ones included."""
    where, params = (
        ("WHERE fixmedins_code = ?", (fixmedins_code.strip(),)) if fixmedins_code else ("", ())
    )
    rows = store.query(f"SELECT {_COLUMNS} FROM check_key {where} ORDER BY created_at", params)
    return [KeyInfo(*row) for row in rows]


def revoke_keys(
    store: CaseStore, fixmedins_code: str, *, by: str, key_id: str | None = None
) -> list[str]:
    """Revoke the institution's active keys (only ``key_id``, if given); their ids. The
    service refuses a revoked key from its next request on (:class:`KeyRing`)."""
    code = _institution(fixmedins_code)
    at = timestamp()
    with store.transaction() as con:
        sql = "SELECT key_id FROM check_key WHERE fixmedins_code = ? AND revoked_at IS NULL"
        params: tuple[str, ...] = (code,)
        if key_id:
            sql, params = f"{sql} AND key_id = ?", (code, key_id.strip())
        ids = [r[0] for r in con.execute(sql, params).fetchall()]
        if not ids:
            which = f"key {key_id} of " if key_id else ""
            msg = f"没有可吊销的密钥 no active {which}key of institution {code} to revoke"
            raise CheckKeyError(msg)
        for kid in ids:
            con.execute(
                "UPDATE check_key SET revoked_by = ?, revoked_at = ? WHERE key_id = ?",
                (by, at, kid),
            )
        write_audit(con, at, by, "check_key.revoke", "institution", code, {"key_ids": ids})
    return ids


class KeyRing:
    """Looks a presented key up in the case store at each request (one indexed row), so a
    key issued or revoked from the command line counts from the next request, whatever
    the store (SQLite or PostgreSQL). Each thread asking gets its own connection."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stores: list[CaseStore] = []

    def _store(self) -> CaseStore:
        store: CaseStore | None = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.workspace)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    def close(self) -> None:
        """Close the connections; one made in a thread gone is left to the process's end
        (SQLite refuses closing it from another thread)."""
        with self._lock:
            stores, self._stores = self._stores, []
        for store in stores:
            with contextlib.suppress(sqlite3.ProgrammingError):
                store.close()

    def institution(self, presented: str | None) -> tuple[str, str] | None:
        """``(key_id, fixmedins_code)`` of a good, unrevoked key; ``None`` for anything else."""
        m = _KEY.match((presented or "").strip())
        if not m:
            return None
        rows = self._store().query(
            "SELECT secret_sha256, fixmedins_code FROM check_key "
            "WHERE key_id = ? AND revoked_at IS NULL",
            (m[1],),
        )
        if not rows or not hmac.compare_digest(rows[0][0], _digest(m[2])):
            return None
        return m[1], rows[0][1]
