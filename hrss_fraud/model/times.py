"""Times as every screen shows them: local time to the minute (``2026-03-02 16:15``).

The stores and manifests keep UTC ISO timestamps with microseconds (``…T08:15:02.123456Z``,
``…T08:15:02+00:00``); a person reads the office's clock, to the minute. A time without a
zone is taken as UTC (what every writer here records); text that is no time is shown as
written, so a hand-edited record never breaks a page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

MISSING = ""


def local(at: str | datetime | None) -> datetime | None:
    """``at`` as an aware local time; ``None`` for a missing or unreadable one."""
    if at is None or at == "":
        return None
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone()


def minute(at: str | datetime | None, missing: str = MISSING) -> str:
    """``at`` in local time to the minute (``2026-03-02 16:15``); ``missing`` for none,
    unreadable text as written."""
    moment = local(at)
    if moment is None:
        return missing if at is None or at == "" else str(at)
    return moment.strftime("%Y-%m-%d %H:%M")


def minute_expr(column: str | pl.Expr) -> pl.Expr:
    """:func:`minute` over a column of timestamps (text or datetimes; null stays null)."""
    e = pl.col(column) if isinstance(column, str) else column
    return e.map_elements(minute, return_dtype=pl.String, skip_nulls=True)
