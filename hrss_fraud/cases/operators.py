"""Who runs a command-line write: the name given with ``--by`` resolved to a stored account.

The decisions and the audit log name whoever acted, and the workflow's checks compare
those names (a second review by someone other than the first reviewer). Free text let a
non-user record a 复审 and let ``ADM`` pass as someone other than ``adm``. So every write
the command line makes resolves its operator here first: an account that exists (names
match in any case, and the stored spelling is what gets recorded), that is enabled, and
whose role holds the permission the step needs (the dashboard's table,
:mod:`hrss_fraud.cases.users`).

The command line does not authenticate: whoever can run it can also open the database
file, which the file modes keep to the service account (0600). What this gives is an
audit trail that names real, current accounts and a role check that matches the
dashboard's.

Bootstrap: a workspace without an enabled administrator (a new one, or one where
``hrss-fraud demo`` made only its demo accounts) has nobody who may add accounts or
restore a backup. Then those commands, run without ``--by``, act as the shell login,
recorded as ``os:<login name>`` — a prefix no account name can have
(:func:`bootstrap_actor`); ``users add`` may then add an administrator only. A name given
with ``--by`` is always checked: it is a claim, and only an account can back it.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from hrss_fraud.cases.store import CaseStore
from hrss_fraud.cases.users import PERMISSIONS, ROLES, STEP_PERMISSION, can
from hrss_fraud.cases.vocab import STEPS, normalise

BOOTSTRAP_PREFIX = "os:"
"""Marks an audit actor that is a shell login, not an account (``:`` is never in a user
name)."""
BOOTSTRAP_ROLE = "admin"
"""The only role the bootstrap may add: the one that adds the others."""


class OperatorError(ValueError):
    """An operator a command refuses; the message is one line naming the name given."""


@dataclass(frozen=True)
class Operator:
    """A resolved operator: the account's name as stored, and its role."""

    username: str
    role: str


def login_name() -> str:
    """Who runs the command at the shell: the default of ``--by``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def bootstrap_actor() -> str:
    """The audit actor of a bootstrap: ``os:`` and the shell's login name."""
    return BOOTSTRAP_PREFIX + login_name()


def resolve_operator(
    store: CaseStore, name: str | None, *, permission: str | None = None, option: str = "--by"
) -> Operator:
    """The enabled account named ``name`` (any case) that holds ``permission`` (if given);
    :class:`OperatorError` naming what is wrong otherwise. ``option`` names where the name
    came from, for the message."""
    given = (name or "").strip()
    if not given:
        msg = f"{option}: say who does it (操作人): an account name from `hrss-fraud users list`"
        raise OperatorError(msg)
    rows = store.query(
        "SELECT username, role, active FROM users WHERE username = ? COLLATE NOCASE", (given,)
    )
    if not rows:
        msg = (
            f"{option} {given!r}: no such account (无此用户); the operator must be a user "
            "of `hrss-fraud users list`"
        )
        raise OperatorError(msg)
    username, role, active = rows[0]
    if not active:
        msg = f"{option} {given!r}: the account {username} is disabled (账号已停用)"
        raise OperatorError(msg)
    if permission is not None and not can(role, permission):
        zh, en = PERMISSIONS[permission]
        msg = f"{option} {given!r}: {username} ({role} {ROLES[role][0]}) may not {en} (无权{zh})"
        raise OperatorError(msg)
    return Operator(username, role)


def operator_or_bootstrap(store: CaseStore, name: str | None, *, permission: str) -> str:
    """The audit actor of an administrator's step: ``name`` (default: the shell login)
    resolved with ``permission``, or — when no name was given and no enabled account may
    manage users — :func:`bootstrap_actor`."""
    if name is None and may_bootstrap(store):
        return bootstrap_actor()
    try:
        return resolve_operator(store, name or login_name(), permission=permission).username
    except OperatorError as e:
        if not may_bootstrap(store):
            raise
        hint = (
            "尚无系统管理员 no enabled administrator yet: leave out --by to act as the shell login"
        )
        msg = f"{e}; {hint}"
        raise OperatorError(msg) from None


def step_permission(step: str) -> str:
    """The permission a decision at review ``step`` (code or Chinese) needs."""
    try:
        return STEP_PERMISSION[normalise(step, STEPS, "step")]
    except ValueError as e:
        raise OperatorError(str(e)) from None


def may_bootstrap(store: CaseStore) -> bool:
    """Whether no enabled account may manage users, so the shell login may add the first
    administrator (:func:`bootstrap_actor`)."""
    roles = [r for (r,) in store.query("SELECT DISTINCT role FROM users WHERE active = 1")]
    return not any(can(r, "manage_users") for r in roles)
