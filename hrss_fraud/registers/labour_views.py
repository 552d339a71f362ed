"""What is read about labour-inspection cases: one case with its steps, amounts and
documents; the cases with the step each waits for, its deadline and overdue marks; an
employer's history of cases.

Overdue marks are computed from the dates each time they are asked for (``today``), never
stored: a case waiting to be filed past ``filing_days`` after registration, a filed case
not decided by ``conclude_by``, a decided case with money outstanding after ``pay_by``.
The deadline day itself is still in time.

Deadlines are counted on the working-day calendar each time a case is read
(:func:`~hrss_fraud.registers.labour_procedure.due_dates`), never taken from the stored
columns, so updating the calendar file moves them. A deadline counted through a year the
file does not hold yet is provisional: ``provisional`` lists those years, and
:func:`~hrss_fraud.registers.workdays.provisional_note` says so in words.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.cases.store import CaseStore
from hrss_fraud.registers.labour_procedure import (
    AMOUNT_KINDS,
    STEPS,
    Due,
    case_row,
    due_dates,
    next_step,
    refresh_dues,
)
from hrss_fraud.registers.workdays import Calendar, load_calendar

LIST_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "case_no": pl.String(),
    "employer_code": pl.String(),
    "employer_name": pl.String(),
    "source": pl.String(),
    "registered_on": pl.String(),
    "status": pl.String(),
    "step": pl.String(),
    "next_step": pl.String(),
    "due": pl.String(),
    "reply_due": pl.String(),
    "overdue": pl.Boolean(),
    "provisional": pl.List(pl.Int64()),
    "ordered_fen": pl.Int64(),
    "paid_fen": pl.Int64(),
    "outstanding_fen": pl.Int64(),
}


def _rows(store: CaseStore, where: str = "", params: tuple = ()) -> list[dict[str, Any]]:
    with store.snapshot() as con:
        cur = con.execute(f"SELECT * FROM labour_case {where} ORDER BY case_id", params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def amounts(store: CaseStore, case_id: int) -> list[dict[str, Any]]:
    """Per kind ordered: ordered, paid and outstanding, in fen."""
    rows = store.query(
        """SELECT a.kind, a.ordered_fen, coalesce(sum(p.amount_fen), 0)
           FROM labour_case_amount a LEFT JOIN labour_case_payment p USING (case_id, kind)
           WHERE a.case_id = ? GROUP BY a.kind ORDER BY a.kind""",
        (int(case_id),),
    )
    return [
        {
            "kind": k,
            "label": AMOUNT_KINDS[k][0],
            "ordered_fen": o,
            "paid_fen": p,
            "outstanding_fen": o - p,
        }
        for k, o, p in rows
    ]


def due_of(c: dict[str, Any], cal: Calendar) -> Due | None:
    """The deadline of the step a case waits for, counted now."""
    nxt = next_step(c)
    dues = due_dates(c, cal)
    if nxt in ("preliminary", "file"):
        return dues["filing"] if c["status"] == "open" else None
    if nxt in ("investigate", "notify", "review", "decide"):
        return dues["conclude_by"]
    if nxt == "execute":
        return dues["pay_by"]
    return None


def _provisional(*dues: Due | None) -> list[int]:
    return sorted({y for d in dues if d for y in d.provisional})


def cases(
    store: CaseStore,
    *,
    today: date | None = None,
    employer_code: str | None = None,
    workspace: Path | None = None,
) -> pl.DataFrame:
    """Every case (of one employer) with what it waits for and whether that is overdue
    (:data:`LIST_SCHEMA`; amounts in fen)."""
    day = (today or date.today()).isoformat()
    cal = load_calendar(workspace)
    where, params = (
        ("WHERE employer_code = ?", (employer_code.strip(),)) if employer_code else ("", ())
    )
    totals = {
        case_id: (ordered, paid)
        for case_id, ordered, paid in store.query(
            """SELECT case_id, sum(ordered_fen), sum(paid) FROM (
                   SELECT a.case_id, a.ordered_fen, coalesce(sum(p.amount_fen), 0) AS paid
                   FROM labour_case_amount a
                   LEFT JOIN labour_case_payment p USING (case_id, kind)
                   GROUP BY a.case_id, a.kind)
               GROUP BY case_id"""
        )
    }
    out = []
    for c in _rows(store, where, params):
        ordered, paid = totals.get(c["case_id"], (0, 0))
        due = due_of(c, cal)
        nxt = next_step(c)
        reply = due_dates(c, cal)["reply_due"] if nxt == "review" else None
        out.append(
            {
                **{k: c[k] for k in ("case_id", "case_no", "employer_code", "employer_name")},
                **{k: c[k] for k in ("source", "registered_on", "status", "step")},
                "next_step": nxt,
                "due": str(due) if due else None,
                "reply_due": str(reply) if reply else None,
                "overdue": bool(due and day > str(due)),
                "provisional": _provisional(due, reply),
                "ordered_fen": ordered,
                "paid_fen": paid,
                "outstanding_fen": ordered - paid,
            }
        )
    return pl.DataFrame(out, schema=LIST_SCHEMA, orient="row")


def employer_history(
    store: CaseStore,
    employer_code: str,
    *,
    today: date | None = None,
    workspace: Path | None = None,
) -> pl.DataFrame:
    """An employer's cases, oldest first, with amounts ordered, paid and outstanding."""
    return cases(store, today=today, employer_code=employer_code, workspace=workspace)


def get_case(
    store: CaseStore, case: int | str, *, today: date | None = None, workspace: Path | None = None
) -> dict[str, Any]:
    """One case: its row, areas, events in order, amounts, documents, what it waits for."""
    with store.snapshot() as con:
        c = case_row(con, case)
    cal = load_calendar(workspace)
    refresh_dues(c, cal)
    events = store.query(
        "SELECT event_id, step, action, on_date, text, detail, late, actor "
        "FROM labour_case_event WHERE case_id = ? ORDER BY event_id",
        (c["case_id"],),
    )
    keys = ("event_id", "step", "action", "on_date", "text", "detail", "late", "actor")
    docs = store.query(
        "SELECT number, kind, status, issue_date, docx_path, pdf_path FROM labour_document "
        "WHERE object_id = ? ORDER BY kind, year, serial",
        (c["case_id"],),
    )
    due = due_of(c, cal)
    day = (today or date.today()).isoformat()
    return {
        **c,
        "areas": json.loads(c["areas"]),
        "parameters": json.loads(c["parameters"]),
        "events": [
            {**dict(zip(keys, e, strict=True)), "detail": json.loads(e[5]) if e[5] else {}}
            for e in events
        ],
        "amounts": amounts(store, c["case_id"]),
        "documents": [
            dict(
                zip(
                    ("number", "kind", "status", "issue_date", "docx_path", "pdf_path"),
                    d,
                    strict=True,
                )
            )
            for d in docs
        ],
        "next_step": next_step(c),
        "due": str(due) if due else None,
        "overdue": bool(due and day > str(due)),
        "due_provisional": list(due.provisional) if due else [],
        "provisional": {
            k: list(v.provisional) for k, v in due_dates(c, cal).items() if v and v.provisional
        },
    }


def step_label(step: str | None, lang: str = "zh") -> str:
    if step is None:
        return "—"
    zh, en, _ = STEPS[step]
    return zh if lang == "zh" else en
