"""What the lead queue page's case grid does when it asks for rows or the user opens a
case: plain functions over a run, a case store and a user, so the page's callbacks stay
one line each and these can be tested without a browser.

A grid request is checked as the lead queue's is (:func:`queue_callbacks.row_range`,
:func:`queue_callbacks.grid_request`: whole-number rows, at most the page cap, known
sortable columns and directions, readable filters); opening a case leaves an audit row
before anything is returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hrss_fraud.cases import audit
from hrss_fraud.cases.store import CaseStore
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard.queue_callbacks import (
    DEFAULT_PAGE_CAP,
    doctor_leads,
    grid_request,
    preset_leads,
    row_range,
)
from hrss_fraud.outputs.case_queue import (
    FILTER_OPTIONS,
    SORTABLE,
    QueueQuery,
    case_filter,
    cases_of_leads,
    filter_from_ag_grid,
    one_case,
    page,
    preset_sort,
)
from hrss_fraud.outputs.labels import column_label
from hrss_fraud.outputs.leads import FilterError
from hrss_fraud.outputs.runs_view import RunView

GRID_COLUMNS = (
    "case_rank",
    "title",
    "fixmedins_name",
    "fixmedins_code",
    "case_kind_label",
    "months",
    "rules",
    "n_findings",
    "amount_at_risk",
    "expected_recovery",
    "severity_label",
    "progress",
    "progress_label",
)
"""The case grid's columns, left to right; ``case_id`` is the row id."""

_FILTERS = {
    "amount_at_risk": "agNumberColumnFilter",
    "expected_recovery": "agNumberColumnFilter",
    "months": "agDateColumnFilter",
}
_WIDTHS = {"title": 300, "fixmedins_name": 200, "rules": 260, "case_rank": 90}
_MONEY = ("amount_at_risk", "expected_recovery")


def column_defs(lang: str = "zh") -> list[dict[str, Any]]:
    """ag-grid column definitions: sortable where the case queue can sort
    (:data:`case_queue.SORTABLE`), a filter only where it can apply it, with only the
    operators it supports."""
    defs = []
    for col in GRID_COLUMNS:
        d: dict[str, Any] = {
            "field": col,
            "headerName": column_label(col, lang),
            "sortable": col in SORTABLE,
        }
        options = FILTER_OPTIONS.get(col)
        if options:
            d["filter"] = _FILTERS.get(col, "agTextColumnFilter")
            d["filterParams"] = {"filterOptions": list(options), "maxNumConditions": 1}
        if col in _MONEY:
            d["type"] = "rightAligned"
            d["valueFormatter"] = {"function": "d3.format(',.2f')(params.value)"}
        d["width"] = _WIDTHS.get(col, 120)
        defs.append(d)
    return defs


def rows(
    view: RunView,
    request: dict[str, Any] | None,
    store: CaseStore,
    *,
    lang: str = "zh",
    cap: int = DEFAULT_PAGE_CAP,
    query: QueueQuery | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], str]:
    """The infinite row model's answer (``{"rowData", "rowCount"}``) for one request of
    the case grid, and a message for a request it cannot answer (then no rows).
    ``query`` is the toolbar's, as for the lead grid (the overdue and flagged presets keep
    the cases holding such a lead)."""
    request = request or {}
    try:
        flt, sort = grid_request(request, parse=filter_from_ag_grid, sortable=SORTABLE)
        start, end = row_range(request, cap)
    except FilterError as e:
        return {"rowData": [], "rowCount": 0}, str(e)
    if query is not None:
        kept = preset_leads(store, view, query, now=now)
        chosen = cases_of_leads(view, kept) if kept is not None else None
        ids = doctor_leads(view, query)
        mine = cases_of_leads(view, ids) if ids is not None else None
        flt = flt.narrowed(case_filter(query, chosen, mine))
        sort = sort or preset_sort(query.preset)
    data, n = page(view, flt, sort, start, end, store, lang=lang)
    return {"rowData": data, "rowCount": n}, ""


def open_case(
    view: RunView, case_id: str, store: CaseStore, user: User, *, lang: str = "zh"
) -> dict[str, Any]:
    """Everything the case panel shows of one case (:func:`case_queue.one_case`), its
    view audited first; :class:`LookupError` for a case the run does not hold."""
    case = one_case(view, case_id, store, lang=lang)
    audit.record(store, user.username, "case.view", "case", case_id, {"run": view.run_id})
    return case
