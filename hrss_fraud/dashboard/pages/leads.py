"""疑点审核 Lead review: the queue opens on the run's cases (ag-grid, infinite rows from the
server, ranked by expected recovery); opening a case shows its leads in the lead grid
(filtered to the case), from which a lead opens with its evidence and context, and single
and bulk decisions. The toggle 全部疑点 shows every lead, with the grid's filters and the
Excel export. ``/leads?view=leads`` opens on the leads, ``/leads?case=<case_id>`` on one
case.

Each user sees only what their role may do: tick boxes and decision forms for the roles
that decide (and only the steps they may decide now), for the others a flag for review
(提请审核) with a note; every lead says who may act on it next.

The callbacks only fetch the request's run, store, user and language and hand them to
:mod:`hrss_fraud.dashboard.case_callbacks` and
:mod:`hrss_fraud.dashboard.queue_callbacks`; this module draws what those return.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import dash
import dash_ag_grid as dag
import polars as pl
from dash import Input, Output, State, dcc, html

from hrss_fraud.cases.flags import MAX_NOTE, FlagError
from hrss_fraud.cases.store import DecisionError
from hrss_fraud.cases.users import can as role_can
from hrss_fraud.cases.users import may_decide as can_decide
from hrss_fraud.cases.vocab import STEPS
from hrss_fraud.dashboard import auth, context, guard
from hrss_fraud.dashboard import case_callbacks as cc
from hrss_fraud.dashboard import queue_callbacks as qc
from hrss_fraud.dashboard.components import kv
from hrss_fraud.dashboard.grid_locale import grid_locale
from hrss_fraud.engine.runs import RunError
from hrss_fraud.model.numbers import money
from hrss_fraud.model.times import minute
from hrss_fraud.outputs import case_queue as cq
from hrss_fraud.outputs import institution_view as iv
from hrss_fraud.outputs import person_view as pv
from hrss_fraud.outputs.labels import (
    column_label,
    family_labels,
    status_labels,
    step_labels,
)
from hrss_fraud.outputs.lead_detail import shown_lines

dash.register_page(
    __name__,
    path="/leads",
    name="疑点审核",
    name_en="Lead review",
    order=10,
    permission="view_leads",
)

GRID = "leads-grid"
CASES_GRID = "cases-grid"
VIEWS = ("cases", "leads")
PARAM_HEADERS = {
    "name": "leads.param_name",
    "value": "leads.param_value",
    "default": "leads.param_default",
    "min": "leads.param_min",
    "max": "leads.param_max",
    "unit": "leads.param_unit",
}
"""The parameter table's columns → the screen text that heads each."""


@guard.layout
def layout(**query: str) -> html.Div:
    t, lang = context.t, context.lang()
    try:
        run = context.runs().latest()
    except RunError as e:
        return html.Div([html.H1(t("leads.lead_review")), html.P(str(e), className="error")])
    user = context.user()
    may_decide = bool(user and any(can_decide(user.role, s) for s in STEPS))
    q = cq.parse_query(query, lambda s: cq.resolve_institution(run.institutions, s))
    shown = q.view
    intro = (
        "leads.run_cases_ranked_expected_recovery"
        if may_decide
        else "leads.run_cases_ranked_view_only"
    )
    return html.Div(
        [
            html.H1(t("leads.lead_review")),
            html.P(t(intro, run_id=run.run_id), className="muted", id="leads-intro"),
            dcc.RadioItems(
                id="queue-view",
                options=[
                    {"label": t("leads.cases"), "value": "cases"},
                    {"label": t("leads.all_leads"), "value": "leads"},
                ],
                value=shown,
                inline=True,
                className="toolbar",
                inputStyle={"marginRight": "4px", "marginLeft": "12px"},
            ),
            _toolbar(t, lang, run, q, user.role if user else None),
            html.Div(
                _cases_view(lang),
                id="cases-view",
                style=_shown(shown == "cases"),
            ),
            html.Div(
                _leads_view(t, lang, user.role if may_decide and user else None),
                id="leads-view",
                style=_shown(shown == "leads"),
            ),
            dcc.Store(id="case-open", data=q.case),
            dcc.Store(id="case-filter-set"),
            dcc.Store(id="queue-query", data=_query_data(q)),
        ]
    )


def _query_data(q: cq.QueueQuery) -> dict[str, Any]:
    """The toolbar's state as the page keeps it, with the address it gives (the query
    string written to the address bar: a bookmark or a shared link opens the same view)."""
    return {**asdict(q), "search": cq.query_string(q)}


def _query(data: dict[str, Any] | None) -> cq.QueueQuery:
    data = data or {}
    return cq.QueueQuery(**{k: data.get(k) for k in cq.QUERY_KEYS if data.get(k)})


def _toolbar(t: Any, lang: str, run: Any, q: cq.QueueQuery, role: str | None) -> html.Div:
    """Institution (searchable by name or code) and person filters, a preset, the active
    filters as chips with a clear button."""
    person_options = []
    if q.person:
        found = pv.find_persons(run, q.person, role).filter(pl.col("psn_no") == q.person)
        label = found["label"][0] if found.height else q.person
        person_options = [{"label": label, "value": q.person}]
    return html.Div(
        [
            html.Div(
                [
                    html.Label(t("leads.filter_institution"), htmlFor="queue-institution"),
                    dcc.Dropdown(
                        id="queue-institution",
                        options=iv.choices(run, lang=lang),
                        value=q.institution,
                        searchable=True,
                        clearable=True,
                        placeholder=t("leads.institution_name_or_code"),
                        style={"minWidth": "280px"},
                    ),
                ]
            ),
            html.Div(
                [
                    html.Label(t("leads.filter_person"), htmlFor="queue-person"),
                    dcc.Dropdown(
                        id="queue-person",
                        options=person_options,
                        value=q.person,
                        searchable=True,
                        clearable=True,
                        placeholder=t(
                            "leads.person_name_or_number"
                            if role and role_can(role, "view_identity")
                            else "leads.person_number_part"
                        ),
                        style={"minWidth": "240px"},
                    ),
                ]
            ),
            html.Div(
                [
                    html.Label(t("leads.preset"), htmlFor="queue-preset"),
                    dcc.Dropdown(
                        id="queue-preset",
                        options=_preset_options(t),
                        value=q.preset,
                        clearable=True,
                        placeholder=t("leads.preset_none"),
                        style={"minWidth": "180px"},
                    ),
                ]
            ),
            html.Div(_chips(t, run, q), id="queue-chips", className="chips"),
        ],
        className="toolbar queue-toolbar",
        id="queue-toolbar",
    )


CHIP = {
    "display": "inline-block",
    "padding": "2px 10px",
    "marginRight": "6px",
    "border": "1px solid #9fb3c8",
    "borderRadius": "12px",
    "background": "#eef3f8",
    "whiteSpace": "nowrap",
}
"""A filter chip's look (inline: the page's own; the shared stylesheet is left alone)."""

CHIP_KEYS = {
    "institution": "leads.chip_institution",
    "doctor": "leads.chip_doctor",
    "person": "leads.chip_person",
    "preset": "leads.chip_preset",
}


def _preset_options(t: Any) -> list[dict[str, str]]:
    return [
        {"label": t("leads.preset_severe"), "value": "severe"},
        {"label": t("leads.preset_amount"), "value": "amount"},
        {"label": t("leads.preset_overdue"), "value": "overdue"},
        {"label": t("leads.preset_flagged"), "value": "flagged"},
    ]


def _chips(t: Any, run: Any, q: cq.QueueQuery) -> list[Any]:
    """The active filters, each a chip, and the button that lifts them all."""
    names = {o["value"]: o["label"] for o in _preset_options(t)}
    chips = []
    for key, value in cq.chips(q, run.institutions):
        shown = names.get(value, value) if key == "preset" else value
        text = t(CHIP_KEYS[key], value=shown)
        chips.append(html.Span(text, className="chip", id=f"chip-{key}", style=CHIP))
    if not chips:
        return [html.Span(t("leads.no_filters"), className="muted")]
    return [*chips, html.Button(t("leads.clear_filters"), id="queue-clear", className="secondary")]


def _shown(visible: bool) -> dict[str, str]:
    return {} if visible else {"display": "none"}


def _cases_view(lang: str) -> list[Any]:
    return [
        html.Div(
            [
                html.Span(id="cases-count", className="count", style={"fontWeight": "bold"}),
                html.Span(id="cases-message", className="error"),
            ],
            className="toolbar",
        ),
        dag.AgGrid(
            id=CASES_GRID,
            rowModelType="infinite",
            columnDefs=cc.column_defs(lang),
            defaultColDef={"resizable": True, "floatingFilter": False},
            getRowId="params.data.case_id",
            dashGridOptions={
                "cacheBlockSize": 100,
                "maxBlocksInCache": 20,
                "infiniteInitialRowCount": 100,
                "localeText": grid_locale(lang),
            },
            style={"height": "520px"},
        ),
    ]


def _leads_view(t: Any, lang: str, decider: str | None) -> list[Any]:
    """The lead grid, with tick boxes and the bulk form only for ``decider``, the role of
    a user who records decisions (None for one who does not)."""
    options: dict[str, Any] = {
        "cacheBlockSize": 100,
        "maxBlocksInCache": 20,
        "infiniteInitialRowCount": 100,
        "localeText": grid_locale(lang),
    }
    if decider:
        options["rowSelection"] = {
            "mode": "multiRow",
            "checkboxes": True,
            "headerCheckbox": False,
            "enableClickSelection": False,
        }
    return [
        html.Div(id="case-panel"),
        html.Div(
            [
                html.Span(id="leads-count", className="count", style={"fontWeight": "bold"}),
                html.Button(t("leads.export_excel"), id="leads-export", className="secondary"),
                dcc.Download(id="leads-download"),
                html.Span(id="leads-message", className="error"),
            ],
            className="toolbar",
        ),
        dag.AgGrid(
            id=GRID,
            rowModelType="infinite",
            columnDefs=qc.column_defs(lang),
            defaultColDef={"resizable": True, "floatingFilter": False},
            getRowId="params.data.finding_id",
            dashGridOptions=options,
            style={"height": "460px"},
        ),
        _bulk_form(t, lang, decider) if decider else html.Div(),
        dcc.Store(id="leads-refresh", data=0),
        dcc.Store(id="lead-open"),
        html.Div(id="lead-panel", className="panel", style={"marginTop": "12px"}),
    ]


def _bulk_form(t: Any, lang: str, role: str) -> html.Div:
    return html.Div(
        [
            html.Span(t("leads.bulk_decision_ticked_rows"), className="muted"),
            _decision_fields("bulk", t, lang, qc.step_options(lang, role)),
            html.Button(t("leads.record_all_ticked"), id="bulk-submit", className="primary"),
            html.Div(id="bulk-message"),
        ],
        className="toolbar decision-form",
    )


def _decision_fields(
    prefix: str, t: Any, lang: str, steps: list[dict[str, str]], reason: str = ""
) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Label(t("leads.review_step")),
                    dcc.Dropdown(
                        id=f"{prefix}-step",
                        options=steps,
                        value=steps[0]["value"] if len(steps) == 1 else None,
                        clearable=False,
                    ),
                ]
            ),
            html.Div(
                [
                    html.Label(t("leads.review_decision")),
                    dcc.Dropdown(
                        id=f"{prefix}-decision", options=qc.decision_options(lang), clearable=False
                    ),
                ]
            ),
            html.Div(
                [
                    html.Label(t("leads.reason_required")),
                    dcc.Textarea(id=f"{prefix}-reason", value=reason),
                ]
            ),
        ],
        className="decision-form",
    )


@guard.callback(
    Output(GRID, "getRowsResponse"),
    Output("leads-message", "children"),
    Output("leads-count", "children"),
    Input(GRID, "getRowsRequest"),
    State("queue-query", "data"),
    permission="view_leads",
)
def load_rows(request: dict[str, Any] | None, query: dict[str, Any] | None) -> tuple:
    cap = auth.settings().grid_page_cap
    answer, message = qc.rows(
        context.runs().latest(),
        request,
        context.store(),
        lang=context.lang(),
        cap=cap,
        query=_query(query),
    )
    return answer, message, context.t("leads.n_leads_found", n=f"{answer['rowCount']:,}")


@guard.callback(
    Output("queue-query", "data"),
    Output("queue-chips", "children"),
    Input("queue-institution", "value"),
    Input("queue-person", "value"),
    Input("queue-preset", "value"),
    Input("queue-view", "value"),
    Input("case-open", "data"),
    State("queue-query", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def set_query(
    institution: str | None,
    person: str | None,
    preset: str | None,
    view: str,
    case: str | None,
    before: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[Any]]:
    """The toolbar's state, after any of its fields changed: kept for the grids' requests,
    written to the address bar, shown as chips. A doctor (from a doctor's profile) stays
    while their institution does."""
    before = before or {}
    doctor = (
        before.get("doctor") if institution and institution == before.get("institution") else None
    )
    q = cq.QueueQuery(
        doctor=doctor,
        view=view if view in cq.QUEUE_VIEWS else "cases",
        case=case or None,
        institution=institution or None,
        person=person or None,
        preset=preset if preset in cq.PRESETS else None,
    )
    return _query_data(q), _chips(context.t, context.runs().latest(), q)


@guard.callback(
    Output("queue-institution", "value"),
    Output("queue-person", "value"),
    Output("queue-preset", "value"),
    Input("queue-clear", "n_clicks"),
    prevent_initial_call=True,
    permission="view_leads",
)
def clear_filters(n: int | None) -> tuple[Any, Any, Any]:
    if not n:
        return dash.no_update, dash.no_update, dash.no_update
    return None, None, None


@guard.callback(
    Output("queue-person", "options"),
    Input("queue-person", "search_value"),
    State("queue-person", "value"),
    State("queue-person", "options"),
    prevent_initial_call=True,
    permission="view_leads",
)
def find_person(text: str | None, value: str | None, options: list[dict] | None) -> Any:
    """Suggestions for the person filter: a part of the number, or of the name for a role
    that may see names (:func:`person_view.find_persons`); the chosen one stays."""
    if not (text or "").strip():
        return dash.no_update
    user = context.user()
    found = pv.find_persons(context.runs().latest(), text, user.role if user else None)
    kept = [o for o in options or [] if o.get("value") == value]
    return kept + [o for o in _options(found) if o["value"] != value]


def _options(found: pl.DataFrame) -> list[dict[str, str]]:
    return [{"label": label, "value": psn} for psn, label in found.iter_rows()]


# a changed toolbar: the address bar shows it (replaced, not a new page: the back button
# leaves the queue) and both grids ask for their rows again
dash.clientside_callback(
    """function(data) {
        if (!data) { return window.dash_clientside.no_update; }
        const search = data.search || "";
        if (window.location.pathname === "/leads" && window.location.search !== search) {
            window.history.replaceState(window.history.state, "", "/leads" + search);
        }
        for (const id of ["cases-grid", "leads-grid"]) {
            dash_ag_grid.getApiAsync(id).then(api => api.purgeInfiniteCache());
        }
        return window.dash_clientside.no_update;
    }""",
    Output("queue-toolbar", "title"),
    Input("queue-query", "data"),
    prevent_initial_call=True,
)


dash.clientside_callback(
    """function(n) {
        if (n) { dash_ag_grid.getApiAsync("leads-grid").then(api => api.refreshInfiniteCache()); }
        return window.dash_clientside.no_update;
    }""",
    Output(GRID, "id"),
    Input("leads-refresh", "data"),
    prevent_initial_call=True,
)

dash.clientside_callback(
    """function(view) {
        const hidden = {display: "none"};
        return view === "leads" ? [hidden, {}] : [{}, hidden];
    }""",
    Output("cases-view", "style"),
    Output("leads-view", "style"),
    Input("queue-view", "value"),
    prevent_initial_call=True,
)

# the lead grid shows the open case's leads: its filter model gains (or loses) the case,
# so the filter shows in the grid's header, the export follows it, and the user can lift it
dash.clientside_callback(
    """function(caseId) {
        dash_ag_grid.getApiAsync("leads-grid").then(api => {
            const model = Object.assign({}, api.getFilterModel() || {});
            delete model.case_id;
            if (caseId) { model.case_id = {filterType: "text", type: "equals", filter: caseId}; }
            api.setFilterModel(model);
        });
        return caseId || null;
    }""",
    Output("case-filter-set", "data"),
    Input("case-open", "data"),
)


@guard.callback(
    Output(CASES_GRID, "getRowsResponse"),
    Output("cases-message", "children"),
    Output("cases-count", "children"),
    Input(CASES_GRID, "getRowsRequest"),
    State("queue-query", "data"),
    permission="view_leads",
)
def load_cases(request: dict[str, Any] | None, query: dict[str, Any] | None) -> tuple:
    cap = auth.settings().grid_page_cap
    answer, message = cc.rows(
        context.runs().latest(),
        request,
        context.store(),
        lang=context.lang(),
        cap=cap,
        query=_query(query),
    )
    return answer, message, context.t("leads.n_cases_found", n=f"{answer['rowCount']:,}")


@guard.callback(
    Output("case-open", "data", allow_duplicate=True),
    Output("queue-view", "value"),
    Input(CASES_GRID, "cellClicked"),
    prevent_initial_call=True,
    permission="view_leads",
)
def pick_case(cell: dict[str, Any] | None) -> tuple[Any, Any]:
    case_id = (cell or {}).get("rowId")
    if not case_id:
        return dash.no_update, dash.no_update
    return case_id, "leads"


@guard.callback(
    Output("case-open", "data", allow_duplicate=True),
    Input("case-clear", "n_clicks"),
    prevent_initial_call=True,
    permission="view_leads",
)
def clear_case(n: int | None) -> Any:
    return None if n else dash.no_update


@guard.callback(
    Output("case-panel", "children"),
    Output("lead-panel", "children", allow_duplicate=True),
    Input("case-open", "data"),
    prevent_initial_call="initial_duplicate",
    permission="view_leads",
)
def show_case(case_id: str | None) -> tuple[Any, Any]:
    if not case_id:
        return html.Div(), html.Div()
    return _case_panel(case_id), html.Div()


@guard.callback(
    Output("leads-download", "data"),
    Input("leads-export", "n_clicks"),
    State(GRID, "getRowsRequest"),
    prevent_initial_call=True,
    permission="view_leads",
)
def export(_clicks: int, request: dict[str, Any] | None) -> dict[str, Any]:
    view = context.runs().latest()
    data = qc.export(view, request, context.store(), context.user(), lang=context.lang())
    return dcc.send_bytes(data, qc.export_name(view))


@guard.callback(
    Output("lead-panel", "children", allow_duplicate=True),
    Output("lead-open", "data"),
    Input(GRID, "cellClicked"),
    prevent_initial_call=True,
    permission="view_leads",
)
def open_lead(cell: dict[str, Any] | None) -> tuple[Any, str | None]:
    finding_id = (cell or {}).get("rowId")
    if not finding_id or (cell or {}).get("colId") in (None, "ag-Grid-SelectionColumn"):
        return dash.no_update, dash.no_update
    return _panel(finding_id), finding_id


@guard.callback(
    Output("lead-panel", "children", allow_duplicate=True),
    Output("leads-refresh", "data", allow_duplicate=True),
    Input("lead-submit", "n_clicks"),
    State("lead-open", "data"),
    State("lead-step", "value"),
    State("lead-decision", "value"),
    State("lead-reason", "value"),
    State("leads-refresh", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def decide_one(n: int | None, finding_id: str, step: str, decision: str, reason: str, seq: int):
    if not n:  # the button was just drawn with a new panel, not clicked
        return dash.no_update, dash.no_update
    try:
        done = qc.record(
            context.runs().latest(),
            context.store(),
            context.user(),
            [finding_id],
            step=step,
            decision=decision,
            reason=reason,
            lang=context.lang(),
        )
    except DecisionError as e:
        return _panel(finding_id, message=str(e), error=True, reason=reason), dash.no_update
    return _panel(finding_id, message=done), (seq or 0) + 1


@guard.callback(
    Output("lead-panel", "children", allow_duplicate=True),
    Output("leads-refresh", "data", allow_duplicate=True),
    Input("flag-submit", "n_clicks"),
    State("lead-open", "data"),
    State("flag-note", "value"),
    State("leads-refresh", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def flag_one(n: int | None, finding_id: str, note: str | None, seq: int):
    """提请审核: the lead flagged with the note (kept in the box when refused)."""
    if not n:
        return dash.no_update, dash.no_update
    try:
        done = qc.flag(
            context.runs().latest(),
            context.store(),
            context.user(),
            finding_id,
            note,
            lang=context.lang(),
        )
    except FlagError as e:
        return _panel(finding_id, flag_message=str(e), error=True, note=note or ""), dash.no_update
    return _panel(finding_id, flag_message=done), (seq or 0) + 1


@guard.callback(
    Output("bulk-message", "children"),
    Output("leads-refresh", "data", allow_duplicate=True),
    Input("bulk-submit", "n_clicks"),
    State(GRID, "selectedRows"),
    State("bulk-step", "value"),
    State("bulk-decision", "value"),
    State("bulk-reason", "value"),
    State("leads-refresh", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def decide_many(
    n: int | None, selected: list[dict] | None, step: str, decision: str, reason: str, seq: int
):
    if not n:
        return dash.no_update, dash.no_update
    ids = [r.get("finding_id") for r in selected or []]
    try:
        done = qc.record(
            context.runs().latest(),
            context.store(),
            context.user(),
            ids,
            step=step,
            decision=decision,
            reason=reason,
            lang=context.lang(),
        )
    except DecisionError as e:
        return html.Span(str(e), className="error"), dash.no_update
    return html.Span(done, className="ok"), (seq or 0) + 1


def _panel(
    finding_id: str,
    *,
    message: str = "",
    error: bool = False,
    reason: str = "",
    flag_message: str = "",
    note: str = "",
) -> Any:
    """The opened lead, drawn from :func:`queue_callbacks.open_lead`; ``message`` answers
    a decision, ``flag_message`` a flag (``error``: a refusal, the text typed kept)."""
    t, lang, user = context.t, context.lang(), context.user()
    try:
        p = qc.open_lead(context.runs().latest(), finding_id, context.store(), user, lang=lang)
    except LookupError as e:
        return html.P(str(e), className="error")
    d, lead, rule = p.detail, p.detail.lead, p.detail.rule
    waiting = [html.Span(qc.waiting_text(p, lang), id="lead-waiting")]
    if p.due.get("overdue"):
        waiting.append(html.Span(t("leads.overdue"), className="overdue"))
    name = rule["name_zh"] if lang == "zh" else rule["name_en"]
    lines = shown_lines(d.lines, lang)
    return html.Div(
        [
            html.H2(
                [f"{name} ", html.Span(f"[{rule['severity_label']}]", className="muted")],
                id="lead-title",
            ),
            html.P(
                [
                    f"{t('leads.lead')} {finding_id} · {money(lead['amount_at_risk'])} · "
                    f"{lead.get('status_label') or ''} · ",
                    *waiting,
                ]
            ),
            html.H3(t("leads.reasoning")),
            html.P(d.evidence_zh if lang == "zh" else d.evidence_en, id="lead-evidence"),
            html.P(
                [
                    t("leads.basis"),
                    html.Span(
                        rule.get("legal_basis_text") or "—",
                        id="lead-basis",
                        title=rule.get("legal_basis") if lang == "en" else None,
                    ),
                ],
                className="muted",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3(t("leads.parameter_values_fired")),
                            _table(_params(d.params), t),
                        ]
                    ),
                    html.Div([html.H3(t("leads.institution")), _institution(d.institution, t)]),
                ],
                className="grid2",
            ),
            html.H3(t("leads.person")),
            _person(p.identity, d.person, t),
            html.H3(t("leads.violating_involved_lines")),
            dag.AgGrid(
                id="lead-lines",
                rowData=lines.to_dicts(),
                columnDefs=[
                    {"field": c, "headerName": column_label(c, lang)} for c in lines.columns
                ],
                defaultColDef={"resizable": True, "sortable": True, "width": 130},
                dashGridOptions={"localeText": grid_locale(lang)},
                style={"height": "240px"},
            ),
            html.H3(t("leads.review_history")),
            _history(d.history, t, lang),
            _decision_form(p, t, lang, message, error, reason),
            _flags(p, t, flag_message, error, note),
        ]
    )


def _case_panel(case_id: str) -> Any:
    """The opened case, drawn from :func:`case_callbacks.open_case`, above its leads."""
    t, lang = context.t, context.lang()
    try:
        c = cc.open_case(
            context.runs().latest(), case_id, context.store(), context.user(), lang=lang
        )
    except LookupError as e:
        return html.P(str(e), className="error", id="case-title")
    code = c["fixmedins_code"]
    rows: list[tuple[str, Any]] = [
        (t("leads.kind"), c["case_kind_label"]),
        (
            t("leads.institution"),
            dcc.Link(f"{c['fixmedins_name'] or code} ({code})", href=f"/institution/{code}")
            if code
            else "—",
        ),
    ]
    if c["psn_no"]:
        psn = c["psn_no"]
        rows.append((t("leads.person_number"), dcc.Link(psn, href=f"/person/{psn}")))
    if c["doctor"]:
        href = f"/doctor/{code}/{c['doctor']}"
        rows.append((t("leads.doctor"), dcc.Link(c["doctor"], href=href)))
    if c["family"]:
        rows.append((t("leads.rule_family"), family_labels(lang).get(c["family"], c["family"])))
    names = status_labels(lang)
    statuses = "、".join(f"{names.get(s, s)} {n}" for s, n in c["statuses"].items())
    rows += [
        (t("leads.period"), f"{c['period_start']} – {c['period_end']}"),
        (t("leads.rules"), c["rules"]),
        (
            t("leads.leads_lines"),
            t("leads.n_leads_on_lines", n_findings=c["n_findings"], n_lines=c["n_lines"]),
        ),
        (t("leads.amount_risk_yuan"), money(c["amount_at_risk"])),
        (t("leads.expected_recovery_yuan"), money(c["expected_recovery"])),
        (t("leads.severity"), c["severity_label"]),
        (t("leads.review_progress"), f"{c['progress']} · {statuses}"),
    ]
    return html.Div(
        [
            html.H2(
                [
                    html.Span(f"#{c['case_rank']} ", className="muted"),
                    c["title"],
                ],
                id="case-title",
            ),
            html.P(c["evidence"], id="case-evidence"),
            kv(rows),
            html.Div(
                [
                    html.Span(
                        t("leads.grid_below_holds_case_leads"),
                        className="muted",
                    ),
                    html.Button(t("leads.show_all_leads"), id="case-clear", className="secondary"),
                ],
                className="toolbar",
            ),
        ],
        className="panel",
        id="case-box",
    )


def _institution(inst: dict[str, Any], t: Any) -> html.Table:
    code = inst["fixmedins_code"]
    rank = f"{inst['rank']} / {inst['n_ranked']}" if inst.get("rank") else "—"
    rows = [
        (
            t("leads.institution"),
            dcc.Link(
                f"{inst.get('fixmedins_name') or code} ({code})",
                href=f"/institution/{code}",
                id="lead-institution-link",
            ),
        ),
        (t("leads.zone"), inst.get("zone_name") or "—"),
        (
            t("leads.leads_run"),
            f"{inst['n_findings']:,} · {money(inst['amount_at_risk'])}",
        ),
        (t("leads.risk_rank"), rank),
        (t("leads.main_reasons"), inst.get("reasons") or "—"),
    ]
    return kv(rows)


def _person(identity: dict[str, Any] | None, stats: dict[str, Any] | None, t: Any) -> Any:
    if not stats:
        return html.P(t("leads.no_single_person_behind_lead"), className="muted")
    psn_no = stats["psn_no"]
    ident = identity or {}
    rows = [
        (
            t("leads.person_number"),
            dcc.Link(psn_no, href=f"/person/{psn_no}", id="lead-person-link"),
        ),
        (t("leads.name"), html.Span(ident.get("psn_name") or "—", id="lead-person-name")),
        (
            t("leads.id_number"),
            html.Span(ident.get("certno") or "—", id="lead-person-certno"),
        ),
        (t("leads.phone"), html.Span(ident.get("tel") or "—", id="lead-person-tel")),
        (
            t("leads.visits"),
            f"{stats.get('n_visits', 0)} · {stats.get('n_institutions', 0)} "
            + t("leads.institutions"),
        ),
        (t("leads.scope_amount"), money(stats.get("inscp_amt") or 0)),
        (t("leads.leads"), str(stats.get("n_findings", 0))),
    ]
    return kv(rows)


def _history(history: pl.DataFrame, t: Any, lang: str) -> Any:
    """The lead's decisions, oldest first: local time to the minute, step and decision
    by their labels."""
    if history.is_empty():
        return html.P(t("leads.not_reviewed_yet"), className="muted", id="lead-history")
    head = [t("leads.when"), t("leads.step"), t("leads.decision"), t("leads.reason"), t("leads.by")]
    steps, decisions = step_labels(lang), status_labels(lang)
    body = [
        html.Tr(
            [
                html.Td(minute(r["decided_at"])),
                html.Td(steps.get(r["step"], r["step"])),
                html.Td(decisions.get(r["decision"], r["decision"])),
                html.Td(r["reason"]),
                html.Td(r["decided_by"]),
            ]
        )
        for r in history.iter_rows(named=True)
    ]
    return html.Table(
        [html.Tr([html.Th(h) for h in head]), *body], className="kv", id="lead-history"
    )


def _flags(p: qc.LeadPanel, t: Any, message: str, error: bool, note: str) -> html.Div:
    """Who flagged the lead for review, when and why, and the form to flag it (every role
    that sees the lead may)."""
    shown = [
        html.Li(t("flags.line", who=r["flagged_by"], at=minute(r["flagged_at"]), note=r["note"]))
        for r in p.flags.iter_rows(named=True)
    ]
    listed = (
        html.Ul(shown, id="lead-flags")
        if shown
        else html.P(t("flags.none"), className="muted", id="lead-flags")
    )
    said = html.Div(message, id="flag-message", className="error" if error and message else "ok")
    return html.Div(
        [
            html.H3(t("flags.title")),
            listed,
            html.P(t("flags.intro"), className="muted"),
            html.Label(t("flags.note_label", limit=MAX_NOTE), htmlFor="flag-note"),
            dcc.Textarea(id="flag-note", value=note, maxLength=MAX_NOTE, style={"width": "100%"}),
            html.Button(t("flags.submit"), id="flag-submit", className="secondary"),
            said,
        ],
        id="flag-box",
    )


def _decision_form(
    p: qc.LeadPanel, t: Any, lang: str, message: str, error: bool, reason: str
) -> Any:
    """The decision form, with only the steps the user may decide now; without any, why
    not and who may act instead (no form)."""
    result = html.Div(message, id="lead-message", className="error" if error else "ok")
    if not p.steps:
        why = qc.why_no_decision(context.user(), p, lang)
        return html.Div(
            [
                html.H3(t("leads.review_decision")),
                html.P(why, className="muted", id="lead-why"),
                result,
            ]
        )
    steps = [o for o in qc.step_options(lang) if o["value"] in p.steps]
    fields = _decision_fields("lead", t, lang, steps, reason)
    return html.Div(
        [
            html.H3(t("leads.record_decision")),
            fields,
            html.Button(t("leads.record"), id="lead-submit", className="primary"),
            result,
        ]
    )


def _params(params: pl.DataFrame) -> list[dict[str, Any]]:
    """The parameter values the lead was found with, each named by its description (its
    code only when the catalogue has none)."""
    named = params.with_columns(pl.coalesce("description", "name").alias("name"))
    return named.drop("description").to_dicts()


def _table(rows: list[dict[str, Any]], t: Any) -> Any:
    """The parameter values as a table, each column headed by its screen text."""
    if not rows:
        return html.P("—")
    cols = list(rows[0])
    return html.Table(
        [html.Tr([html.Th(t(PARAM_HEADERS[c]) if c in PARAM_HEADERS else c) for c in cols])]
        + [html.Tr([html.Td(_cell(r[c])) for c in cols]) for r in rows],
        className="kv",
    )


def _cell(value: Any) -> str:
    """A parameter table's value: a number without trailing zeros (``3``, ``0.25``)."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
