"""What the lead queue page (疑点审核) does when the grid asks for rows, the user exports,
opens a lead or records a decision: plain functions over a run, a case store and a user,
so the page's callbacks stay one line each and these can be tested without a browser.

Every opened lead and every view of a person's record leaves an audit row before
anything is returned; identities are masked for roles that may not see them
(:func:`masking.mask_frame`); a decision goes through :func:`workflow.decide`, which
checks the step and the second pair of eyes and writes its own audit row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from hrss_fraud.cases import audit
from hrss_fraud.cases.store import SNAPSHOT, CaseStore, DecisionError
from hrss_fraud.cases.users import User, may_decide
from hrss_fraud.cases.vocab import DECISIONS, STEPS
from hrss_fraud.cases.workflow import CLOSED, decide, queue
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
"""The queue's columns, left to right; ``finding_id`` is the row id, shown in the panel."""
_FILTERS = {"amount_at_risk": "agNumberColumnFilter", "period_start": "agDateColumnFilter"}
_FILTERS["period_end"] = "agDateColumnFilter"
_UNSORTABLE = frozenset({"due_at"})
SORTABLE_COLUMNS = tuple(c for c in GRID_COLUMNS if c not in _UNSORTABLE)


def records(df: pl.DataFrame) -> list[dict[str, Any]]:
    """``df``'s rows as JSON-ready dicts for a grid: dates and times as text."""
    temporal = pl.col(pl.Date, pl.Datetime, pl.Time, pl.Duration)
    return df.with_columns(temporal.cast(pl.String)).to_dicts()


def column_defs(lang: str = "zh") -> list[dict[str, Any]]:
    """ag-grid column definitions: a filter only where the queue can apply it
    (:data:`leads.FILTER_OPTIONS`), with only the operators it supports."""
    defs = []
    for col in GRID_COLUMNS:
        header = (
            context.text("queue_callbacks.due", lang)
            if col == "due_at"
            else column_label(col, lang)
        )
        d: dict[str, Any] = {"field": col, "headerName": header, "sortable": col not in _UNSORTABLE}
        options = FILTER_OPTIONS.get(col)
        if options:
            d["filter"] = _FILTERS.get(col, "agTextColumnFilter")
            d["filterParams"] = {"filterOptions": list(options), "maxNumConditions": 1}
        if col == "amount_at_risk":
            d["type"] = "rightAligned"
            d["valueFormatter"] = {"function": "d3.format(',.2f')(params.value)"}
        if col == "due_at":
            d["cellClassRules"] = {"overdue": "params.data && params.data.overdue"}
        d["width"] = {"evidence": 420, "rule_name": 200, "fixmedins_name": 200}.get(col, 120)
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
        late = overdue_leads(store, view, now=now) if query.preset == "overdue" else None
        flt = flt.narrowed(lead_filter(query, late, doctor_leads(view, query)))
        sort = sort or preset_sort(query.preset)
    data, n = page(view, flt, sort, start, end, store, lang=lang)
    marks = due_marks(store, view, [r["finding_id"] for r in data], now=now)
    for r in data:
        r.update(marks.get(r["finding_id"], {}))
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
    """An opened lead: its detail, who the person is (masked by role), its due date,
    the steps the user may decide at now, and whether they may decide at all."""

    detail: LeadDetail
    identity: dict[str, Any] | None
    due: dict[str, Any]
    steps: list[str]


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
    return LeadPanel(detail, person, due, decidable_steps(user, due.get("waiting")))


def decidable_steps(user: User, waiting: str | None) -> list[str]:
    """The steps ``user`` may record a decision at for a lead waiting at ``waiting``: that
    step, if their role decides it (a closed lead has none)."""
    step = waiting or "first_review"
    if step == CLOSED or not may_decide(user.role, step):
        return []
    return [step]


def step_options(lang: str = "zh") -> list[dict[str, str]]:
    return [
        {"label": zh if lang == "zh" else en, "value": code} for code, (zh, en) in STEPS.items()
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
) -> str:
    """Record ``decision`` at ``step`` with ``reason`` on the leads, all or none, as
    ``user``; the leads' rows as the reviewer saw them are kept with the decision.
    :class:`DecisionError` (message fit to show) when it cannot be recorded."""
    ids = [f for f in dict.fromkeys(finding_ids) if f]
    problems = []
    if not ids:
        problems.append("请先选择疑点 (select at least one lead)")
    if not step:
        problems.append("请选择审核环节 (choose the step)")
    if not decision:
        problems.append("请选择审核结论 (choose the decision)")
    if not (reason or "").strip():
        problems.append("须填写理由 (a reason is required)")
    if problems:
        raise DecisionError("；".join(problems))
    if not may_decide(user.role, step):  # type: ignore[arg-type]
        zh = STEPS.get(step, (step,))[0]  # type: ignore[arg-type]
        msg = f"{user.role_zh}无权作出“{zh}”决定 ({user.role} may not decide {step})"
        raise DecisionError(msg)
    snapshot = {r["finding_id"]: r for r in _snapshots(view, ids).to_dicts()}
    decide(
        store,
        ids,
        step=step,  # type: ignore[arg-type]
        decision=decision,  # type: ignore[arg-type]
        reason=reason.strip(),  # type: ignore[union-attr]
        by=user.username,
        leads=snapshot,
    )
    zh, en, _ = DECISIONS[decision]  # type: ignore[index]
    return f"已记录 {len(ids)} 条：{zh} (recorded {len(ids)}: {en})"


def _snapshots(view: RunView, finding_ids: list[str]) -> pl.DataFrame:
    """The leads' columns as the run holds them (``store.SNAPSHOT``), kept with each
    decision so it says what the reviewer saw."""
    return (
        pl.scan_parquet(view.findings_path)
        .filter(pl.col("finding_id").is_in(finding_ids))
        .select("finding_id", *SNAPSHOT)
        .collect()
    )
