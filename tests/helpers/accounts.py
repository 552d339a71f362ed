"""Accounts for tests that run commands as someone: every command-line write resolves its
``--by`` to an enabled account holding the step's permission
(:mod:`hrss_fraud.cases.operators`), so a test creates the people it names first."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from hrss_fraud.cases import open_store
from hrss_fraud.cases.store import timestamp
from hrss_fraud.cases.users import User, hash_password

PASSWORD = "Operator-pass-2025"


@cache
def _hash() -> str:
    return hash_password(PASSWORD)  # scrypt is slow on purpose: once per process


def add_accounts(workspace: Path, accounts: Mapping[str, str]) -> None:
    """Create ``name → role`` accounts in the workspace's case store, all with
    :data:`PASSWORD`. No audit rows: this is the tests' set-up, and many tests count the
    rows their own commands write."""
    at = timestamp()
    with open_store(workspace) as store, store.transaction() as con:
        for name, role in accounts.items():
            con.execute(
                "INSERT INTO users (username, display_name, role, password_hash, active, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (name, name, role, _hash(), at, at),
            )


def user(role: str, name: str | None = None) -> User:
    """A signed-in account of ``role`` named ``name`` (the role's name by default), as the
    dashboard's callbacks receive it; nothing stored."""
    return User(name or role, name or role, role, True, "", "")
