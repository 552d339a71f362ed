"""A busy case store: how long a write waits for another writer, and how the command line
says it gave up.

SQLite lets one writer in at a time; the others wait up to the busy timeout and then get
``sqlite3.OperationalError: database is locked``. The wait is bounded so a command never
hangs behind a stuck writer, and the command line turns the error into one line that
says what to do instead of a traceback (:func:`is_busy`, :func:`busy_message`).

On PostgreSQL (:mod:`hrss_fraud.cases.pg`) writers queue on one advisory lock with the
same timeout as ``lock_timeout``; a lock not granted in time (or a deadlock) reaches the
caller as the same ``OperationalError: database is locked (PostgreSQL: …)``.
"""

from __future__ import annotations

import os
import sqlite3

BUSY_TIMEOUT_ENV = "HRSS_FRAUD_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT = 30.0
"""Seconds a write waits for another writer before giving up (``$HRSS_FRAUD_BUSY_TIMEOUT``
overrides it, e.g. a shorter wait for scripts that retry themselves)."""

_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_BUSY_TEXT = ("database is locked", "database table is locked", "database is busy")


def busy_timeout() -> float:
    """The wait in seconds: ``$HRSS_FRAUD_BUSY_TIMEOUT`` if it is a positive number (at
    most an hour), else :data:`DEFAULT_BUSY_TIMEOUT`."""
    try:
        value = float(os.environ.get(BUSY_TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT
    return value if 0 < value <= 3600 else DEFAULT_BUSY_TIMEOUT


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite giving up on a lock another connection holds."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _BUSY_CODES:  # extended codes keep the base
        return True
    return any(t in str(exc).lower() for t in _BUSY_TEXT)


def busy_message(waited: float | None = None) -> str:
    """The one line a command ends with when the store stayed locked."""
    seconds = busy_timeout() if waited is None else waited
    return (
        f"案件库正忙，请稍后重试 (the case store is busy: another process kept it locked "
        f"for more than {seconds:g} s; try again)"
    )
