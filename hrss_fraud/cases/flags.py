"""Leads flagged for review (提请审核): anyone who may see the leads asks the reviewers to
look at one, with a note saying why.

A flag is not a decision: the lead stays at its step. Flags are append-only (migration
0010); each writes its audit row (``lead.flag``, with the note) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import datetime

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit

MAX_NOTE = 500
"""The longest note a flag takes, in characters (after trimming)."""

FLAG_SCHEMA: dict[str, pl.DataType] = {
    "flag_id": pl.Int64(),
    "finding_id": pl.String(),
    "note": pl.String(),
    "flagged_by": pl.String(),
    "flagged_at": pl.Datetime("us", "UTC"),
}


class FlagError(ValueError):
    """A flag that cannot be recorded. ``reason`` says which check failed (``note_empty``,
    ``note_too_long``, ``unknown_lead``, ``no_actor``), for a screen to say it in its own
    language; the message says it in both."""

    def __init__(self, reason: str, message: str, **fields: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.fields = fields


def flag(
    store: CaseStore,
    finding_id: str,
    note: str | None,
    *,
    by: str,
    known: Container[str],
    now: datetime | None = None,
) -> int:
    """Flag the lead ``finding_id`` (one of ``known``: the run's leads) for review with
    ``note`` (trimmed, 1 to :data:`MAX_NOTE` characters), as ``by``; return the flag's id.
    :class:`FlagError` says what is wrong, nothing written."""
    fid, text, actor = (finding_id or "").strip(), (note or "").strip(), (by or "").strip()
    if not actor:
        raise FlagError("no_actor", "须说明由谁提请 (say who flags the lead: by)")
    if not fid or fid not in known:
        msg = f"疑点 {fid or '（空）'} 不在本批次中 (no lead {fid!r} in this run)"
        raise FlagError("unknown_lead", msg, finding_id=fid)
    if not text:
        raise FlagError("note_empty", "须填写提请说明 (a note saying why is required)")
    if len(text) > MAX_NOTE:
        msg = (
            f"提请说明最多 {MAX_NOTE} 字，现有 {len(text)} 字 "
            f"(a note of at most {MAX_NOTE} characters, got {len(text)})"
        )
        raise FlagError("note_too_long", msg, limit=MAX_NOTE, n=len(text))
    at = timestamp(now)
    with store.transaction() as con:
        cur = con.execute(
            "INSERT INTO review_flag (finding_id, note, flagged_by, flagged_at) "
            "VALUES (?, ?, ?, ?)",
            (fid, text, actor, at),
        )
        flag_id = int(cur.lastrowid or 0)
        write_audit(con, at, actor, "lead.flag", "finding", fid, {"flag_id": flag_id, "note": text})
    return flag_id


def flags(store: CaseStore, finding_ids: Iterable[str] | None = None) -> pl.DataFrame:
    """The flags (of ``finding_ids``, if given), oldest first (:data:`FLAG_SCHEMA`)."""
    cols = ", ".join(FLAG_SCHEMA)
    if finding_ids is None:
        rows = store.query(f"SELECT {cols} FROM review_flag ORDER BY flag_id")
    else:
        ids = sorted(set(finding_ids))
        rows = []
        for i in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            sql = f"SELECT {cols} FROM review_flag WHERE finding_id IN ({marks})"
            rows += store.query(sql, tuple(part))
        rows.sort(key=lambda r: r[0])
    schema = {**FLAG_SCHEMA, "flagged_at": pl.String()}
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        pl.col("flagged_at")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us")
        .dt.replace_time_zone("UTC")
    )


def flagged(store: CaseStore) -> tuple[str, ...]:
    """The ids of every flagged lead, sorted: the queue's 已提请审核 preset."""
    return tuple(
        r[0] for r in store.query("SELECT DISTINCT finding_id FROM review_flag ORDER BY 1")
    )
