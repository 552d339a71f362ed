"""Correction requests to employers (要求整改): the enrolment audit's handling of what does
not conform — explain it to the employer and require its correction by a deadline.

A request names one employer and the hits of the latest run it is about (each must be an
``enrolment`` hit of that employer, :mod:`hrss_fraud.outputs.enrolment_view`), a note and
a deadline in calendar days (:data:`DEFAULT_DAYS` unless given); the contribution at stake
in those hits is kept with it, in fen. It is then marked corrected (整改完成), once.
Overdue is computed from the dates whenever asked (:func:`corrections`), never stored.

Who may: an account with ``decide_first_review`` (审核员 and 审核负责人). Requiring an
employer to correct is telling it that a hit holds — the first judgement on a finding,
which that permission grants — not a sanction or an inspection round
(``manage_inspections``). An auditor (稽核员) reads the hits and requests but writes
nothing, as on every other page. Each change and its audit row are one transaction.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.cases.users import PERMISSIONS, ROLES, can
from hrss_fraud.engine.runs import Run
from hrss_fraud.outputs.enrolment_view import EnrolmentView

PERMISSION = "decide_first_review"
DEFAULT_DAYS = 15
"""Days an employer has to correct, unless the request says otherwise."""
MAX_DAYS = 180
STATUSES = {
    "open": ("整改中", "being corrected"),
    "overdue": ("已逾期", "overdue"),
    "corrected": ("整改完成", "corrected"),
}
COLUMNS: dict[str, pl.DataType] = {
    "correction_id": pl.Int64(),
    "emp_no": pl.String(),
    "emp_name": pl.String(),
    "run_id": pl.String(),
    "finding_ids": pl.String(),
    "amount_fen": pl.Int64(),
    "note": pl.String(),
    "days": pl.Int64(),
    "requested_on": pl.String(),
    "due_on": pl.String(),
    "requested_by": pl.String(),
    "corrected_on": pl.String(),
    "corrected_note": pl.String(),
    "corrected_by": pl.String(),
}


class CorrectionError(ValueError):
    """A request or a correction that cannot be recorded; nothing was written. The message
    is Chinese with the English in brackets."""


def _actor(store: CaseStore, by: str) -> str:
    rows = store.query(
        "SELECT username, role, active FROM users WHERE username = ?", ((by or "").strip(),)
    )
    row = rows[0] if rows else None
    if not row or not row[2]:
        msg = f"无此启用的用户 {by!r} (no enabled account {by!r})"
        raise CorrectionError(msg)
    if not can(row[1], PERMISSION):
        msg = (
            f"{ROLES[row[1]][0]} {row[0]} 无权要求整改（须有「{PERMISSIONS[PERMISSION][0]}」"
            f"权限） ({row[0]} may not request corrections: needs {PERMISSION})"
        )
        raise CorrectionError(msg)
    return str(row[0])


def _days(days: int | str) -> int:
    try:
        n = int(str(days).strip())
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_DAYS:
        msg = (
            f"整改期限 {days!r} 应为 1 至 {MAX_DAYS} 天的整数 "
            f"(the deadline must be 1 to {MAX_DAYS} days)"
        )
        raise CorrectionError(msg)
    return n


def _fen(amount: float) -> int:
    return int(Decimal(repr(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)


def request_correction(
    store: CaseStore,
    workspace: Path,
    run: Run,
    emp_no: str,
    finding_ids: list[str],
    *,
    note: str,
    by: str,
    days: int | str = DEFAULT_DAYS,
    on: date | None = None,
) -> int:
    """Record a request to ``emp_no`` to correct ``finding_ids`` (hits of ``run``) within
    ``days`` of ``on`` (today); return its id. Refused with :class:`CorrectionError`."""
    actor = _actor(store, by)
    n_days = _days(days)
    if not (note or "").strip():
        msg = "须填写整改要求 (the request needs a note saying what to correct)"
        raise CorrectionError(msg)
    wanted = [f.strip() for f in finding_ids if f and f.strip()]
    if not wanted:
        msg = "请至少选择一条疑点 (choose at least one hit)"
        raise CorrectionError(msg)
    with EnrolmentView(workspace, run) as view:
        name = view.name(emp_no)
        hits = view.hits(emp_no).filter(pl.col("finding_id").is_in(wanted))
    if name is None:
        msg = f"无此参保单位 {emp_no!r} (no employer {emp_no!r})"
        raise CorrectionError(msg)
    missing = sorted(set(wanted) - set(hits["finding_id"]))
    if missing:
        msg = (
            f"疑点 {'、'.join(missing)} 不是{name}在本批次的参保稽核疑点 "
            f"({', '.join(missing)}: not enrolment hits of {emp_no} in run {run.run_id})"
        )
        raise CorrectionError(msg)
    day = on or date.today()
    due = day + timedelta(days=n_days)
    amount = _fen(float(hits["amount_at_risk"].sum()))
    at = timestamp()
    with store.transaction() as con:
        cur = con.execute(
            """INSERT INTO enrolment_correction (emp_no, emp_name, run_id, finding_ids,
                   amount_fen, note, days, requested_on, due_on, requested_by, requested_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                emp_no, name, run.run_id, json.dumps(sorted(wanted)), amount, note.strip(),
                n_days, day.isoformat(), due.isoformat(), actor, at,
            ),
        )  # fmt: skip
        correction_id = int(cur.lastrowid or 0)
        detail = {
            "emp_no": emp_no, "leads": sorted(wanted), "due_date": due.isoformat(),
            "amount_at_risk": amount / 100,
        }  # fmt: skip
        write_audit(
            con, at, actor, "enrolment.request", "enrolment_correction", str(correction_id),
            detail,
        )  # fmt: skip
    return correction_id


def mark_corrected(
    store: CaseStore, correction_id: int, *, note: str, by: str, on: date | None = None
) -> None:
    """Record that the employer corrected what request ``correction_id`` asked, on ``on``
    (today), with a note of what was checked. Refused with :class:`CorrectionError`."""
    actor = _actor(store, by)
    if not (note or "").strip():
        msg = "须填写整改情况 (say what was corrected)"
        raise CorrectionError(msg)
    day = on or date.today()
    at = timestamp()
    with store.transaction() as con:
        row = con.execute(
            "SELECT requested_on, corrected_on FROM enrolment_correction WHERE correction_id = ?",
            (int(correction_id),),
        ).fetchone()
        if not row:
            msg = f"无此整改要求 {correction_id} (no correction request {correction_id})"
            raise CorrectionError(msg)
        if row[1] is not None:
            msg = (
                f"整改要求 {correction_id} 已于 {row[1]} 整改完成 "
                f"(request {correction_id} was already corrected on {row[1]})"
            )
            raise CorrectionError(msg)
        if day.isoformat() < row[0]:
            msg = (
                f"整改完成日期 {day} 不能早于要求日期 {row[0]} "
                "(a correction cannot precede its request)"
            )
            raise CorrectionError(msg)
        con.execute(
            "UPDATE enrolment_correction SET corrected_on = ?, corrected_note = ?, "
            "corrected_by = ?, corrected_at = ? WHERE correction_id = ?",
            (day.isoformat(), note.strip(), actor, at, int(correction_id)),
        )
        write_audit(
            con, at, actor, "enrolment.corrected", "enrolment_correction", str(correction_id),
            {"on": day.isoformat()},
        )  # fmt: skip


def corrections(
    store: CaseStore, emp_no: str | None = None, *, today: date | None = None, lang: str = "zh"
) -> pl.DataFrame:
    """The requests (all, or ``emp_no``'s), newest first, with ``status`` (open, overdue
    — past ``due_on`` and not corrected — or corrected), its ``status_label`` and
    ``days_left`` (negative when overdue; null once corrected)."""
    where, params = ("WHERE emp_no = ?", (emp_no,)) if emp_no else ("", ())
    cols = ", ".join(COLUMNS)
    rows = store.query(
        f"SELECT {cols} FROM enrolment_correction {where} ORDER BY correction_id DESC", params
    )
    df = pl.DataFrame(rows, schema=COLUMNS, orient="row")
    day = pl.lit(today or date.today())
    due = pl.col("due_on").str.to_date()
    status = (
        pl.when(pl.col("corrected_on").is_not_null())
        .then(pl.lit("corrected"))
        .when(due < day)
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("open"))
    )
    labels = {k: v[0] if lang == "zh" else v[1] for k, v in STATUSES.items()}
    return df.with_columns(
        status=status,
        days_left=pl.when(pl.col("corrected_on").is_null()).then((due - day).dt.total_days()),
    ).with_columns(status_label=pl.col("status").replace_strict(labels))
