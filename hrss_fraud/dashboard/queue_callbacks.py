"""What the lead queue page (疑点审核) does when the grid asks for rows, the user exports,
opens a lead or records a decision: plain functions over a run, a case store and a user,
so the page's callbacks stay one line each and these can be tested without a browser.

Every opened lead and every view of a person's record leaves an audit row before
anything is returned; identities are masked for roles that may not see them
(:func:`masking.mask_frame`); a decision goes through :func:`workflow.decide`, which
checks the step and the second pair of eyes and writes its own audit row. A user is
offered only the steps their role may decide now, and a refusal says why in the
screen's language (``[queue_callbacks]`` texts). Anyone who sees the leads may flag one
for review (:mod:`hrss_fraud.cases.flags`); a flag moves no lead.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from hrss_fraud.cases import audit, flags
from hrss_fraud.cases.store import SNAPSHOT, CaseStore, DecisionError
from hrss_fraud.cases.users import ROLES, User, may_decide
from hrss_fraud.cases.vocab import DECISIONS, STEPS
from hrss_fraud.cases.workflow import CLOSED, WorkflowError, decide, next_step, queue
from hrss_fraud.dashboard import context
from hrss_fraud.outputs.case_queue import QueueQuery, lead_filter, preset_sort
from hrss_fraud.outputs.doctor_view import doctor_lead_ids
from hrss_fraud.outputs.excel_export import export_leads_bytes
from hrss_fraud.outputs.labels import column_label
from hrss_fraud.outputs.lead_detail import LeadDetail, lead_detail
from hrss_fraud.outputs.leads import (
    FILTER_OPTIONS,
    FilterError,
    SortModel,
    describe,
    filter_from_ag_grid,
    lead_index,
    page,
)
from hrss_fraud.outputs.person_view import identity
from hrss_fraud.outputs.runs_view import RunView

GRID_COLUMNS = (
    "severity_label",
    "rule_name",
    "flag",
    "rule_id",
    "fixmedins_name",
    "fixmedins_code",
    "zone_name",
    "psn_no",
    "period_start",
    "period_end",
    "amount_at_risk",
    "status_label",
    "step_label",
    "due_at",
    "evidence",
    "case_rank",
    "case_id",
)
"""The queue's columns, left to right (``flag``: 已提请审核 on a lead flagged for review,
near the left where it is seen); ``finding_id`` is the row id, shown in the panel."""
HIDDEN = frozenset({"rule_id"})
"""Columns the grid keeps but does not show: a rule is named by its name in the screen's
language (its id on hover over the name), the id kept for the filter a link or the
grid's API sets on it."""
_FILTERS = {"amount_at_risk": "agNumberColumnFilter", "period_start": "agDateColumnFilter"}
_FILTERS["period_end"] = "agDateColumnFilter"
_UNSORTABLE = frozenset({"due_at", "flag"})
SORTABLE_COLUMNS = tuple(c for c in GRID_COLUMNS if c not in _UNSORTABLE)
_OWN_HEADERS = {"due_at": "queue_callbacks.due", "flag": "queue_callbacks.flag"}
"""Columns the page computes (not the run's), headed by their own screen text."""


def records(df: pl.DataFrame) -> list[dict[str, Any]]:
    """``df``'s rows as JSON-ready dicts for a grid: dates and times as text."""
    temporal = pl.col(pl.Date, pl.Datetime, pl.Time, pl.Duration)
    return df.with_columns(temporal.cast(pl.String)).to_dicts()


def column_defs(lang: str = "zh") -> list[dict[str, Any]]:
    """ag-grid column definitions: a filter only where the queue can apply it
    (:data:`leads.FILTER_OPTIONS`), with only the operators it supports."""
    defs = []
    for col in GRID_COLUMNS:
        own = _OWN_HEADERS.get(col)
        header = context.text(own, lang) if own else column_label(col, lang)
        d: dict[str, Any] = {"field": col, "headerName": header, "sortable": col not in _UNSORTABLE}
        options = FILTER_OPTIONS.get(col)
        if options:
            d["filter"] = _FILTERS.get(col, "agTextColumnFilter")
            d["filterParams"] = {"filterOptions": list(options), "maxNumConditions": 1}
        if col == "amount_at_risk":
            d["type"] = "rightAligned"
            d["valueFormatter"] = {"function": "d3.format(',.2f')(params.value)"}
        if col in HIDDEN:
            d["hide"] = True
        if col == "rule_name":
            d["tooltipField"] = "rule_id"
        if col == "due_at":
            d["cellClassRules"] = {"overdue": "params.data && params.data.overdue"}
        d["width"] = {"evidence": 420, "rule_name": 200, "fixmedins_name": 200, "flag": 110}.get(
            col, 120
        )
        defs.append(d)
    return defs


def run_time(view: RunView) -> datetime:
    """When the run finished: the first-review clock of leads nobody has decided yet."""
    stamp = view.manifest.get("finished_at") or view.manifest.get("started_at")
    if stamp:
        return datetime.fromisoformat(stamp).astimezone(UTC)
    return datetime.strptime(view.run_id[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def due_marks(
    store: CaseStore, view: RunView, finding_ids: list[str], *, now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """``finding_id -> {due_at, overdue, step}`` by the review workflow's deadlines; a lead
    nobody has decided waits at first review since the run finished."""
    if not finding_ids:
        return {}
    new = pl.DataFrame(
        {"finding_id": finding_ids, "since": [run_time(view)] * len(finding_ids)},
        schema={"finding_id": pl.String, "since": pl.Datetime("us", "UTC")},
    )
    q = queue(store, now=now, new_leads=new).filter(pl.col("finding_id").is_in(finding_ids))
    return {
        r["finding_id"]: {
            "due_at": r["due_at"].strftime("%Y-%m-%d") if r["due_at"] else None,
            "overdue": bool(r["overdue"]),
            "waiting": r["step"],
        }
        for r in q.iter_rows(named=True)
    }


def overdue_leads(
    store: CaseStore, view: RunView, *, now: datetime | None = None
) -> tuple[str, ...]:
    """The run's leads whose review is overdue (by the workflow's deadlines; a lead
    nobody has decided waits at first review since the run finished), sorted."""
    ids = lead_index(view).finding_id
    if ids.len() == 0:
        return ()
    new = pl.DataFrame({"finding_id": ids}).with_columns(
        since=pl.lit(run_time(view), dtype=pl.Datetime("us", "UTC"))
    )
    late = queue(store, now=now, new_leads=new).filter(
        pl.col("overdue") & pl.col("finding_id").is_in(ids.implode())
    )
    return tuple(late["finding_id"].sort().to_list())


def preset_leads(
    store: CaseStore, view: RunView, query: QueueQuery, *, now: datetime | None = None
) -> tuple[str, ...] | None:
    """The leads a preset keeps (overdue ones, or those flagged for review); None for a
    preset that only orders the rows, or none."""
    if query.preset == "overdue":
        return overdue_leads(store, view, now=now)
    if query.preset == "flagged":
        return flags.flagged(store)
    return None


def doctor_leads(view: RunView, query: QueueQuery) -> tuple[str, ...] | None:
    """The leads the query's doctor (of its institution) answers for; None without one."""
    if not (query.doctor and query.institution):
        return None
    return tuple(doctor_lead_ids(view, query.institution, query.doctor))


DEFAULT_PAGE_CAP = 500
"""Most rows one grid request may ask for (the grid asks 100 at a time); the dashboard's
``grid.page_cap`` setting replaces it."""


def grid_request(
    request: dict[str, Any] | None,
    *,
    parse: Callable[[dict[str, Any] | None], Any] = filter_from_ag_grid,
    sortable: Collection[str] = SORTABLE_COLUMNS,
) -> tuple[Any, SortModel | None]:
    """The filter (``parse``: the lead queue's by default) and sort of an ag-grid
    ``getRowsRequest`` (:class:`FilterError` if the queue cannot apply them, or they are
    not what a grid sends)."""
    request = request or {}
    if not isinstance(request, dict):
        raise FilterError("表格请求格式不正确 (the grid request is not an object)")
    sort = _sort_model(request.get("sortModel"), sortable)
    model = request.get("filterModel")
    if model is not None and not isinstance(model, dict):
        raise FilterError("筛选条件格式不正确 (filterModel is not an object)")
    try:
        flt = parse(model)
    except FilterError:
        raise
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as e:
        msg = f"筛选条件无法识别 (a filter value the queue cannot read: {e})"
        raise FilterError(msg) from e
    return flt, sort


def _sort_model(sort: Any, sortable: Collection[str]) -> SortModel | None:
    """ag-grid's sort model, each column one the grid offers for sorting, each direction
    ``asc`` or ``desc``."""
    if not sort:
        return None
    if not isinstance(sort, list) or len(sort) > len(sortable):
        raise FilterError("排序条件格式不正确 (sortModel is not a list of columns)")
    for item in sort:
        col = item.get("colId") if isinstance(item, dict) else None
        if col not in sortable:
            msg = f"不能按此列排序 (cannot sort the queue by {col!r})"
            raise FilterError(msg)
        if item.get("sort") not in ("asc", "desc"):
            msg = f"排序方向应为 asc 或 desc (sort direction {item.get('sort')!r})"
            raise FilterError(msg)
    return sort


def row_range(request: dict[str, Any], cap: int = DEFAULT_PAGE_CAP) -> tuple[int, int]:
    """``startRow``, ``endRow`` of a grid request: whole numbers, ``0 <= start <= end``,
    at most ``cap`` rows (:class:`FilterError` otherwise, never every row at once)."""
    start, end = request.get("startRow", 0), request.get("endRow")
    start = 0 if start is None else start
    end = start + 100 if end is None else end
    for name, value in (("startRow", start), ("endRow", end)):
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{name} 应为整数 ({name} must be a whole number, got {value!r})"
            raise FilterError(msg)
    if not 0 <= start <= end:
        msg = f"行号范围不正确 (rows {start}..{end}: need 0 <= startRow <= endRow)"
        raise FilterError(msg)
    if end - start > cap:
        msg = f"一次最多取 {cap} 行 (at most {cap} rows per request, asked {end - start})"
        raise FilterError(msg)
    return start, end


def rows(
    view: RunView,
    request: dict[str, Any] | None,
    store: CaseStore,
    *,
    lang: str = "zh",
    now: datetime | None = None,
    cap: int = DEFAULT_PAGE_CAP,
    query: QueueQuery | None = None,
) -> tuple[dict[str, Any], str]:
    """The infinite row model's answer (``{"rowData", "rowCount"}``) for one request, each
    row with its due date and overdue mark, and a message for a request the queue cannot
    answer (then no rows): a filter it cannot apply, a bad sort, a bad or too large row
    range. ``query`` is the toolbar's (institution, person, preset): it narrows the grid's
    own filter, and its preset orders the rows unless the grid asks for an order."""
    request = request or {}
    try:
        flt, sort = grid_request(request)
        start, end = row_range(request, cap)
    except FilterError as e:
        return {"rowData": [], "rowCount": 0}, str(e)
    if query is not None:
        kept = preset_leads(store, view, query, now=now)
        flt = flt.narrowed(lead_filter(query, kept, doctor_leads(view, query)))
        sort = sort or preset_sort(query.preset)
    data, n = page(view, flt, sort, start, end, store, lang=lang)
    ids = [r["finding_id"] for r in data]
    marks = due_marks(store, view, ids, now=now)
    flagged = set(flags.flags(store, ids)["finding_id"])
    mark = context.text("queue_callbacks.flagged", lang)
    for r in data:
        r.update(marks.get(r["finding_id"], {}))
        r["flag"] = mark if r["finding_id"] in flagged else None
        for key in ("period_start", "period_end"):
            if r.get(key) is not None:
                r[key] = str(r[key])
    return {"rowData": data, "rowCount": n}, ""


def export(
    view: RunView, request: dict[str, Any] | None, store: CaseStore, user: User, *, lang: str
) -> bytes:
    """The queue as filtered and sorted now, as .xlsx bytes; the download is audited
    with the filter that produced it."""
    flt, sort = grid_request(request)
    data = export_leads_bytes(view, flt, sort, store, lang=lang)
    audit.record(
        store,
        user.username,
        "export.download",
        "run",
        view.run_id,
        {"what": "leads", "filter": describe(flt)},
    )
    return data


def export_name(view: RunView) -> str:
    return f"leads_{view.run_id}.xlsx"


@dataclass(frozen=True)
class LeadPanel:
    """An opened lead: its detail, who the person is (masked by role), its due date, the
    step it waits at and who recorded its first review, the steps the user may decide at
    now, and the flags on it (oldest first)."""

    detail: LeadDetail
    identity: dict[str, Any] | None
    due: dict[str, Any]
    steps: list[str]
    waiting: str
    first_by: tuple[str, ...]
    flags: pl.DataFrame


def open_lead(
    view: RunView,
    finding_id: str,
    store: CaseStore,
    user: User,
    *,
    lang: str = "zh",
    now: datetime | None = None,
) -> LeadPanel:
    """Everything the panel shows for one lead; the view of the lead, and of its person's
    record when it has one, is audited first. :class:`LookupError` for an unknown lead."""
    detail = lead_detail(view, finding_id, store, lang=lang)
    audit.record(store, user.username, "finding.view", "finding", finding_id, {"run": view.run_id})
    person = None
    psn_no = detail.lead.get("psn_no")
    if psn_no:
        masked = not user.can("view_identity")
        audit.record(
            store,
            user.username,
            "person.view",
            "person",
            psn_no,
            {"finding_id": finding_id, "masked": masked},
        )
        person = identity(view, psn_no, user.role)
    due = due_marks(store, view, [finding_id], now=now).get(finding_id, {})
    waiting = due.get("waiting") or "first_review"
    first = detail.history.filter(pl.col("step") == "first_review")["decided_by"]
    first_by = tuple(dict.fromkeys(first.to_list()))
    steps = decidable_steps(user, waiting, first_by)
    return LeadPanel(
        detail, person, due, steps, waiting, first_by, flags.flags(store, [finding_id])
    )


def decidable_steps(user: User, waiting: str | None, first_by: Collection[str] = ()) -> list[str]:
    """The steps ``user`` may record a decision at for a lead waiting at ``waiting``: that
    step, if their role decides it and, at second review, they are not among ``first_by``
    (who recorded its first review); a closed lead has none."""
    step = waiting or "first_review"
    if step == CLOSED or not may_decide(user.role, step):
        return []
    if step == "second_review" and _same(user.username) in {_same(b) for b in first_by}:
        return []
    return [step]


def _same(name: str) -> str:
    """A user name as accounts match it (any case, no surrounding space)."""
    return name.strip().casefold()


def next_role(step: str) -> str | None:
    """The least trusted role that may decide ``step``: who the lead waits for (None for
    a closed lead)."""
    if step == CLOSED:
        return None
    return next((role for role in ROLES if may_decide(role, step)), None)


def waiting_text(panel: LeadPanel, lang: str = "zh") -> str:
    """Who may act next on the lead, at which step and by when (``待 审核员 初审 · 时限
    2026-03-02``); at second review, not whoever recorded its first."""
    role = next_role(panel.waiting)
    if role is None:
        return context.text("queue_callbacks.closed", lang)
    fields = {"role": _role(role, lang), "step": _step(panel.waiting, lang)}
    due = panel.due.get("due_at")
    key = "queue_callbacks.waiting_due" if due else "queue_callbacks.waiting"
    text = context.text(key, lang, due=due, **fields)
    if panel.waiting == "second_review" and panel.first_by:
        other = context.text("queue_callbacks.not_first", lang, who="、".join(panel.first_by))
        text += other
    return text


def why_no_decision(user: User, panel: LeadPanel, lang: str = "zh") -> str:
    """Why ``user`` is offered no decision on the lead now, and who may act instead."""
    step, role = panel.waiting, next_role(panel.waiting)
    mine = _role(user.role, lang)
    if role is None:
        return context.text("queue_callbacks.closed", lang)
    if not any(may_decide(user.role, s) for s in STEPS):
        return context.text("queue_callbacks.role_records_none", lang, role=mine)
    if not may_decide(user.role, step):
        fields = {"step": _step(step, lang), "role": _role(role, lang)}
        return context.text("queue_callbacks.step_for_other_role", lang, **fields)
    return context.text("queue_callbacks.second_needs_other_you", lang)


def _role(role: str, lang: str) -> str:
    zh, en = ROLES[role]
    return en if lang == "en" else zh


def _step(step: str, lang: str) -> str:
    zh, en = STEPS[step]
    return en if lang == "en" else zh


def step_options(lang: str = "zh", role: str | None = None) -> list[dict[str, str]]:
    """The review steps as dropdown options (only those ``role`` may decide, if given)."""
    return [
        {"label": zh if lang == "zh" else en, "value": code}
        for code, (zh, en) in STEPS.items()
        if role is None or may_decide(role, code)
    ]


def decision_options(lang: str = "zh") -> list[dict[str, str]]:
    return [
        {"label": zh if lang == "zh" else en, "value": code}
        for code, (zh, en, _label) in DECISIONS.items()
    ]


def record(
    view: RunView,
    store: CaseStore,
    user: User,
    finding_ids: list[str],
    *,
    step: str | None,
    decision: str | None,
    reason: str | None,
    lang: str = "zh",
) -> str:
    """Record ``decision`` at ``step`` with ``reason`` on the leads, all or none, as
    ``user``; the leads' rows as the reviewer saw them are kept with the decision.
    :class:`DecisionError` when it cannot be recorded, its message in ``lang`` saying
    every field that is missing, or each lead refused and why."""
    ids = [f for f in dict.fromkeys(finding_ids) if f]
    missing = [
        key
        for key, given in (
            ("queue_callbacks.select_leads", ids),
            ("queue_callbacks.choose_step", step),
            ("queue_callbacks.choose_decision", decision),
            ("queue_callbacks.reason_required", (reason or "").strip()),
        )
        if not given
    ]
    if missing:
        raise DecisionError("；".join(context.text(k, lang) for k in missing))
    if step not in STEPS or decision not in DECISIONS:
        raise DecisionError(context.text("queue_callbacks.unknown_choice", lang))
    if not may_decide(user.role, step):
        fields = {"role": _role(user.role, lang), "step": _step(step, lang)}
        raise DecisionError(context.text("queue_callbacks.role_may_not_decide", lang, **fields))
    refused = _refusals(store, user, ids, step, lang)
    if refused:
        problems = "；".join(refused[:10])
        raise DecisionError(context.text("queue_callbacks.none_recorded", lang, problems=problems))
    snapshot = {r["finding_id"]: r for r in _snapshots(view, ids).to_dicts()}
    try:
        decide(
            store,
            ids,
            step=step,
            decision=decision,
            reason=reason.strip(),  # type: ignore[union-attr]
            by=user.username,
            leads=snapshot,
        )
    except WorkflowError as e:  # another reviewer decided one of them meanwhile
        raise DecisionError(context.text("queue_callbacks.changed_meanwhile", lang)) from e
    label = DECISIONS[decision][1 if lang == "en" else 0]
    return context.text("queue_callbacks.recorded", lang, n=len(ids), decision=label)


def _refusals(store: CaseStore, user: User, ids: list[str], step: str, lang: str) -> list[str]:
    """Each lead the workflow would refuse ``user``'s decision at ``step`` on, and why:
    it waits at another step (a decision is also taken at the step of its latest one, to
    correct it), or ``user`` recorded its first review and this is its second."""
    history = store.history().filter(pl.col("finding_id").is_in(ids))
    out = []
    for fid in ids:
        mine = history.filter(pl.col("finding_id") == fid)
        last = mine.tail(1).to_dicts()
        last_step, decided = (last[0]["step"], last[0]["decision"]) if last else (None, None)
        waiting = next_step(last_step, decided) if last_step else "first_review"
        if step not in {waiting, last_step} - {CLOSED, None}:
            key = (
                "queue_callbacks.lead_closed"
                if waiting == CLOSED
                else "queue_callbacks.lead_waits_at"
            )
            shown = _step(waiting, lang) if waiting != CLOSED else ""
            out.append(
                context.text(key, lang, finding_id=fid, waiting=shown, step=_step(step, lang))
            )
            continue
        first = mine.filter(pl.col("step") == "first_review")["decided_by"].to_list()
        if step == "second_review" and _same(user.username) in {_same(b) for b in first}:
            out.append(context.text("queue_callbacks.second_needs_other", lang, finding_id=fid))
    return out


_FLAG_REFUSALS = {
    "no_actor": "flags.no_actor",
    "unknown_lead": "flags.unknown_lead",
    "note_empty": "flags.note_empty",
    "note_too_long": "flags.note_too_long",
}
"""A refused flag's reason (:class:`flags.FlagError`) → the text that says it."""


def flag(
    view: RunView, store: CaseStore, user: User, finding_id: str, note: str | None, *, lang: str
) -> str:
    """Flag the lead for review with ``note`` as ``user``; the message to show.
    :class:`flags.FlagError` with its message in ``lang`` when it cannot be recorded."""
    try:
        flags.flag(store, finding_id, note, by=user.username, known=lead_index(view).finding_id)
    except flags.FlagError as e:
        said = context.text(_FLAG_REFUSALS[e.reason], lang, **e.fields)
        raise flags.FlagError(e.reason, said, **e.fields) from e
    return context.text("flags.flagged", lang)


def _snapshots(view: RunView, finding_ids: list[str]) -> pl.DataFrame:
    """The leads' columns as the run holds them (``store.SNAPSHOT``), kept with each
    decision so it says what the reviewer saw."""
    return (
        pl.scan_parquet(view.findings_path)
        .filter(pl.col("finding_id").is_in(finding_ids))
        .select("finding_id", *SNAPSHOT)
        .collect()
    )
