"""The review workflow over the decisions: which step each lead waits at, by when, and the
checks a dashboard decision passes (step order, a second pair of eyes) before it is recorded.

The steps run 初审 → 复审 → 申诉 → 调查核实 → 违规处理 (DOMAIN.md §4). *Confirmed* at a step
sends the lead to the next one (at the appeal step: the appeal is rejected, so on to
investigation); *dismissed* closes it; *pending* and *needs_info* keep it where it is, and
its clock keeps running from when it entered the step, so parking a lead does not reset
its deadline. Nothing here is stored twice: the queue is computed from the append-only
decisions and the deadlines table each time it is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import polars as pl

from hrss_fraud.cases.store import (
    SNAPSHOT,
    CaseStore,
    Decision,
    DecisionError,
    timestamp,
    write_audit,
)
from hrss_fraud.cases.vocab import STEPS, normalise

DEFAULT_DEADLINE_DAYS: dict[str, int] = {
    "first_review": 15,
    "second_review": 15,
    "appeal": 10,
    "investigation": 30,
    "sanction": 15,
}
"""Days a lead may wait at each step, as migration 0002 seeds them (a test holds the two
equal); local choices, changed with :func:`set_deadline`."""
CLOSED = "closed"
"""The ``step`` of a lead that waits for nothing: dismissed, or sanctioned."""

_ORDER = list(STEPS)
QUEUE_SCHEMA: dict[str, pl.DataType] = {
    "finding_id": pl.String(),
    "step": pl.String(),
    "step_zh": pl.String(),
    "since": pl.Datetime("us", "UTC"),
    "due_at": pl.Datetime("us", "UTC"),
    "overdue": pl.Boolean(),
    "last_decision": pl.String(),
    "last_by": pl.String(),
    "decisions": pl.UInt32(),
}


class WorkflowError(DecisionError):
    """A decision the workflow refuses: wrong step, or the same person deciding twice."""


def next_step(step: str, decision: str) -> str:
    """The step a lead waits at after ``decision`` at ``step``: the next step, the same
    one, or :data:`CLOSED`."""
    if decision == "dismissed":
        return CLOSED
    if decision != "confirmed":
        return step
    i = _ORDER.index(step)
    return _ORDER[i + 1] if i + 1 < len(_ORDER) else CLOSED


def deadlines(store: CaseStore) -> dict[str, int]:
    """Step → the days a lead may wait there."""
    return dict(store.query("SELECT step, days FROM step_deadline"))


def set_deadline(store: CaseStore, step: str, days: int, *, by: str, reason: str) -> None:
    """Change one step's deadline; the audit log keeps the old value, who and why."""
    step = normalise(step, STEPS, "step")
    if not isinstance(days, int) or not 1 <= days <= 365:
        msg = f"a deadline is a whole number of days from 1 to 365, not {days!r}"
        raise ValueError(msg)
    if not reason.strip() or not by.strip():
        msg = "a deadline change needs who (by) and why (reason)"
        raise ValueError(msg)
    at = timestamp()
    with store.transaction() as con:
        (old,) = con.execute("SELECT days FROM step_deadline WHERE step = ?", (step,)).fetchone()
        con.execute(
            "UPDATE step_deadline SET days = ?, changed_by = ?, changed_at = ?, reason = ? "
            "WHERE step = ?",
            (days, by.strip(), at, reason.strip(), step),
        )
        detail = {"old_days": old, "new_days": days, "reason": reason.strip()}
        write_audit(con, at, by.strip(), "deadline.change", "step", step, detail)


def queue(
    store: CaseStore, *, now: datetime | None = None, new_leads: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per lead (:data:`QUEUE_SCHEMA`): the step it waits at, since when, its due
    time and whether it is overdue (closed leads are never overdue).

    ``new_leads`` (``finding_id``, ``since`` as UTC datetimes, e.g. the run's time) adds
    the leads nobody has decided yet, waiting at first review; for a decided lead its
    ``since`` starts the first-review clock instead of the first decision."""
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    history = store.history().select(
        "decision_id", "finding_id", "step", "decision", "decided_by", "decided_at"
    )
    after_confirmed = {s: next_step(s, "confirmed") for s in _ORDER}
    history = history.with_columns(
        next=pl.when(pl.col("decision") == "dismissed")
        .then(pl.lit(CLOSED))
        .when(pl.col("decision") == "confirmed")
        .then(pl.col("step").replace_strict(after_confirmed, return_dtype=pl.String))
        .otherwise(pl.col("step"))
    )
    last = history.group_by("finding_id").agg(
        pl.col("next").last().alias("waiting"),
        pl.col("decision").last().alias("last_decision"),
        pl.col("decided_by").last().alias("last_by"),
        pl.len().cast(pl.UInt32).alias("decisions"),
        pl.col("decided_at").first().alias("first_at"),
    )
    entered = (
        history.join(last.select("finding_id", "waiting"), on="finding_id")
        .filter((pl.col("next") == pl.col("waiting")) & (pl.col("step") != pl.col("waiting")))
        .group_by("finding_id")
        .agg(pl.col("decided_at").max().alias("entered_at"))
    )
    leads = last.join(entered, on="finding_id", how="left")
    if new_leads is not None:
        given = new_leads.select(
            pl.col("finding_id").cast(pl.String),
            pl.col("since").cast(pl.Datetime("us", "UTC")).alias("lead_since"),
        ).unique("finding_id", keep="first")
        leads = leads.join(given, on="finding_id", how="full", coalesce=True)
    else:
        leads = leads.with_columns(lead_since=pl.lit(None, pl.Datetime("us", "UTC")))
    days = deadlines(store)
    out = leads.with_columns(
        step=pl.col("waiting").fill_null("first_review"),
        since=pl.coalesce("entered_at", "lead_since", "first_at"),
    ).with_columns(
        due_at=pl.when(pl.col("step") != CLOSED).then(
            pl.col("since")
            + pl.duration(
                days=pl.col("step").replace_strict(days, default=None, return_dtype=pl.Int64)
            )
        ),
        step_zh=pl.col("step").replace_strict(
            {k: v[0] for k, v in STEPS.items()} | {CLOSED: "已办结"}, return_dtype=pl.String
        ),
    )
    out = out.with_columns(overdue=(pl.col("due_at") < now).fill_null(False))
    return out.select(*(pl.col(c).cast(t) for c, t in QUEUE_SCHEMA.items())).sort(
        "overdue", "due_at", "finding_id", descending=[True, False, False], nulls_last=True
    )


def check(store: CaseStore, decisions: Iterable[Decision]) -> list[Decision]:
    """The decisions validated against the workflow, or :class:`WorkflowError` naming
    each refused one: a lead is decided at the step it waits at (or, to correct a
    decision, at the step of its latest one), and its second review by someone other than
    whoever recorded its first (:func:`second_reviewer_problems`)."""
    checked = [d.validated() for d in decisions]
    ids = sorted({d.finding_id for d in checked})
    state: dict[str, tuple[str, str]] = {}
    if ids:
        marks = ",".join("?" * len(ids))
        rows = store.query(
            f"SELECT finding_id, step, decision FROM review_decision "
            f"WHERE finding_id IN ({marks}) ORDER BY decision_id",
            tuple(ids),
        )
        for finding_id, step, decision in rows:
            state[finding_id] = (step, next_step(step, decision))
    problems, in_order = [], []
    for d in checked:
        last_step, waiting = state.get(d.finding_id, ("first_review", "first_review"))
        allowed = {waiting, last_step} - {CLOSED}
        if d.step not in allowed:
            shown = " / ".join(f"{s} {STEPS[s][0]}" for s in sorted(allowed, key=_ORDER.index))
            problems.append(f"{d.finding_id}: waits at {shown}, not {d.step} {STEPS[d.step][0]}")
        else:
            in_order.append(d)
    problems += second_reviewer_problems(store, in_order)
    if problems:
        msg = f"{len(problems)} decision(s) refused, none recorded: " + " | ".join(problems[:10])
        raise WorkflowError(msg)
    return checked


def second_reviewer_problems(store: CaseStore, decisions: Iterable[Decision]) -> list[str]:
    """One line per second review (复审) recorded by whoever recorded the lead's first
    review — stored, or earlier among ``decisions`` (an import may hold both). Names
    compare in any case, as accounts match: ``ADM`` is ``adm``."""
    items = list(decisions)
    ids = sorted({d.finding_id for d in items if d.step == "second_review"})
    first_by: dict[str, set[str]] = {}
    if ids:
        marks = ",".join("?" * len(ids))
        rows = store.query(
            f"SELECT finding_id, decided_by FROM review_decision "
            f"WHERE step = 'first_review' AND finding_id IN ({marks})",
            tuple(ids),
        )
        for finding_id, by in rows:
            first_by.setdefault(finding_id, set()).add(by.strip().casefold())
    problems = []
    for d in items:
        who = d.by.strip().casefold()
        if d.step == "first_review":
            first_by.setdefault(d.finding_id, set()).add(who)
        elif d.step == "second_review" and who in first_by.get(d.finding_id, set()):
            problems.append(
                f"{d.finding_id}: {d.by} recorded its first review; 复审须由他人进行 "
                "(the second review needs someone else)"
            )
    return problems


def decide(
    store: CaseStore,
    finding_ids: Iterable[str],
    *,
    step: str,
    decision: str,
    reason: str,
    by: str,
    leads: Mapping[str, Mapping[str, object]] | None = None,
) -> list[int]:
    """One decision, with its reason, on one or many leads (a bulk action: one
    transaction, one ``batch_id``, all or none), after :func:`check`. ``leads`` maps a
    finding id to its row, for the snapshot columns."""
    ids = list(dict.fromkeys(finding_ids))
    if not ids:
        return []
    snapshot = leads or {}
    items = [
        Decision(
            f,
            step,
            decision,
            reason,
            by,
            **{k: v for k, v in snapshot.get(f, {}).items() if k in SNAPSHOT},  # type: ignore[arg-type]
        )
        for f in ids
    ]
    checked = check(store, items)
    if len(checked) == 1:
        d = checked[0]
        lead = {k: getattr(d, k) for k in SNAPSHOT}
        return [
            store.record_decision(
                d.finding_id, step=d.step, decision=d.decision, reason=d.reason, by=d.by, lead=lead
            )
        ]
    return store.record_decisions(checked, actor=by, source="dashboard")
