"""举报投诉 Complaints and tips: the list with overdue marks, a register form, and one
complaint's detail with its targeted check, linked leads and closing form.

Every value comes from :mod:`hrss_fraud.dashboard.complaints_view`; this module draws.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from hrss_fraud.cases.migrate import SchemaError
from hrss_fraud.complaints.register import OUTCOMES, SOURCES, STATUSES, ComplaintError
from hrss_fraud.dashboard import complaints_view as cv
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.forms import field, refused, saved
from hrss_fraud.engine.runs import RunError

dash.register_page(
    __name__,
    path="/complaints",
    name="举报投诉",
    name_en="Complaints",
    order=50,
    permission="view_leads",
)

_ERRORS = (ComplaintError, PermissionError, SchemaError, RunError)
MAX_LEADS_SHOWN = 20
"""The largest linked leads shown; the lead review page has them all."""
LEAD_COLUMNS = ("finding_id", "rule_id", "fixmedins_code", "psn_no", "amount_at_risk", "run_id")


def _field(key: str, control: Any, width: str = "180px") -> html.Label:
    """A form control under its visible label (the screen text ``key``)."""
    return field(context.t(key), control, width)


FORM_FIELDS = (
    "complaint-received",
    "complaint-source",
    "complaint-content",
    "complaint-complainant",
    "complaint-contact",
    "complaint-institutions",
    "complaint-persons",
)
"""The register form's controls, in the order the register callback reads them."""


@guard.layout
def layout(number: str | None = None, **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    return html.Div(
        [
            html.H1(t("complaints.complaints_tips")),
            dcc.Store(id="complaints-number", data=number),
            dcc.Store(id="complaints-changed", data=0),
            html.Div(id="complaint-action-result"),
            html.Div(id="complaints-detail"),
            html.H2(t("complaints.register")),
            html.Div(
                [
                    _field(
                        "complaints.received",
                        dcc.Input(id="complaint-received", placeholder="YYYY-MM-DD"),
                    ),
                    _field(
                        "complaints.source",
                        dcc.Dropdown(id="complaint-source", options=cv.source_options(lang)),
                    ),
                    _field(
                        "complaints.complainant_optional", dcc.Input(id="complaint-complainant")
                    ),
                    _field("complaints.phone", dcc.Input(id="complaint-contact")),
                    _field(
                        "complaints.institutions",
                        dcc.Dropdown(
                            id="complaint-institutions",
                            options=cv.institution_options(context.workspace()),
                            multi=True,
                            searchable=True,
                            placeholder=t("complaints.choose_institutions"),
                        ),
                        "320px",
                    ),
                    _field(
                        "complaints.persons",
                        dcc.Dropdown(
                            id="complaint-persons",
                            options=[],
                            multi=True,
                            searchable=True,
                            placeholder=t("complaints.choose_persons"),
                        ),
                        "320px",
                    ),
                    _field("complaints.what_says", dcc.Textarea(id="complaint-content"), "360px"),
                    html.Button(
                        t("complaints.register"), id="complaint-register", className="primary"
                    ),
                ],
                className="form",
            ),
            html.Div(id="complaint-register-result"),
            html.H2(t("complaints.list")),
            dcc.Checklist(
                id="complaints-overdue",
                options=[{"label": t("complaints.overdue_only"), "value": "overdue"}],
                value=[],
            ),
            html.Div(id="complaints-list"),
        ]
    )


@guard.callback(
    Output("complaints-list", "children"),
    Input("complaints-overdue", "value"),
    Input("complaints-changed", "data"),
    permission="view_leads",
)
def _list(overdue: list[str], _changed: Any) -> html.Div:
    lang = context.lang()
    try:
        rows = cv.complaint_rows(
            context.store(), context.user(), overdue_only=bool(overdue), lang=lang
        )
    except _ERRORS as e:
        return html.Div(refused(e, context.lang()))
    if rows.is_empty():
        return html.Div(pc.message(context.t("complaints.no_complaints")))
    return html.Div(
        pc.table(
            rows,
            cv.LIST_COLUMNS,
            lang,
            labels=cv.LABELS,
            links={"number": lambda r: f"/complaints?number={r['number']}"},
            table_id="complaints-table",
        )
    )


@guard.callback(
    Output("complaint-persons", "options"),
    Input("complaint-persons", "search_value"),
    State("complaint-persons", "value"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _persons(search: str | None, chosen: list[str] | None) -> list[dict[str, str]]:
    if not (search or "").strip():
        raise PreventUpdate  # the list closed or was cleared: keep what it offers
    return cv.person_options(context.workspace(), context.user(), search, chosen)


@guard.callback(
    Output("complaint-register-result", "children"),
    Output("complaints-changed", "data"),
    *(Output(f, "value") for f in FORM_FIELDS),
    Input("complaint-register", "n_clicks"),
    *(State(f, "value") for f in FORM_FIELDS),
    State("complaints-changed", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _register(
    _n: Any,
    received: str,
    source: str,
    content: str,
    complainant: str,
    contact: str,
    institutions: list[str] | None,
    persons: list[str] | None,
    changed: int,
) -> tuple:
    """Register; on success clear the form and name the new number, on an error keep
    every field as typed."""
    try:
        number = cv.register_from_form(
            context.store(),
            context.user(),
            received=received,
            source=source,
            content=content,
            complainant=complainant,
            contact=contact,
            institutions=institutions,
            persons=persons,
            workspace=context.workspace(),
            lang=context.lang(),
        )
    except _ERRORS as e:
        keep = (dash.no_update,) * len(FORM_FIELDS)
        return refused(e, context.lang()), changed, *keep
    cleared = ("", None, "", "", "", [], [])  # "" clears a text box, None would not
    done = html.P(
        [
            context.t("complaints.registered", number=number),
            " ",
            dcc.Link("→", href=f"/complaints?number={number}"),
        ],
        className="muted success",
    )
    return done, (changed or 0) + 1, *cleared


@guard.callback(
    Output("complaints-detail", "children"),
    Input("complaints-number", "data"),
    Input("complaints-changed", "data"),
    permission="view_leads",
)
def _detail(number: str | None, _changed: Any) -> html.Div | None:
    if not number:
        return None
    t, lang = context.t, context.lang()
    try:
        d = cv.detail(
            context.store(), context.user(), number, lang=lang, workspace=context.workspace()
        )
    except _ERRORS as e:
        return html.Div(refused(e, context.lang()))
    c = d.complaint
    named = {o["value"]: o["label"] for o in cv.institution_options(context.workspace())}
    # the persons as the dropdown names them: masked per role
    persons = cv.person_options(context.workspace(), context.user(), None, list(c.persons))
    rows = [
        (t("complaints.number"), c.number),
        (t("complaints.received"), str(c.received_on)),
        (t("complaints.due"), str(c.due_on)),
        (t("complaints.source"), cv.label(SOURCES, c.source, lang)),
        (t("common.status"), cv.label(STATUSES, c.status, lang)),
        (
            t("complaints.complainant"),
            f"{c.complainant or t('complaints.anonymous')} {c.contact or ''}",
        ),
        (t("complaints.institutions"), ", ".join(named.get(i, i) for i in c.institutions)),
        (t("complaints.persons"), ", ".join(o["label"] for o in persons)),
        (t("complaints.content"), c.content),
        (
            t("complaints.outcome"),
            f"{cv.label(OUTCOMES, c.outcome, lang)} {c.outcome_text or ''}".strip(),
        ),
    ]
    parts: list[Any] = [
        html.H2(t("complaints.complaint", number=c.number)),
        html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows], className="kv"),
    ]
    if c.status != "handled":
        start, end = d.period or (None, None)
        parts += [
            html.P(t("complaints.check_period"), className="muted"),
            html.Div(
                [
                    _field(
                        "complaints.check_from",
                        dcc.Input(
                            id="complaint-check-from",
                            value=str(start or ""),
                            placeholder="YYYY-MM-DD",
                        ),
                    ),
                    _field(
                        "complaints.check_to",
                        dcc.Input(
                            id="complaint-check-to", value=str(end or ""), placeholder="YYYY-MM-DD"
                        ),
                    ),
                    html.Button(
                        t("complaints.run_targeted_check"),
                        id="complaint-check",
                        className="primary",
                    ),
                ],
                className="form",
            ),
            html.Div(
                [
                    _field(
                        "complaints.outcome",
                        dcc.Dropdown(id="complaint-outcome", options=cv.outcome_options(lang)),
                        "220px",
                    ),
                    _field(
                        "complaints.what_was_done", dcc.Input(id="complaint-outcome-text"), "360px"
                    ),
                    html.Button(t("complaints.close"), id="complaint-close", className="primary"),
                ],
                className="form",
            ),
        ]
    if d.summary:
        parts += [
            html.H3(t("complaints.check_result")),
            pc.message(d.summary, error=bool(d.warnings)),  # it leads with the warnings
            pc.table(
                d.by_rule,
                ["rule_id", "rule_name", "n_findings", "amount_at_risk"],
                lang,
                labels=cv.LABELS,
            ),
        ]
    if d.leads.height:
        k = min(d.leads.height, MAX_LEADS_SHOWN)
        parts += [
            html.H3(t("complaints.linked_leads_largest", height=d.leads.height, k=k)),
            pc.table(d.leads.head(MAX_LEADS_SHOWN), LEAD_COLUMNS, lang, labels=cv.LABELS),
        ]
    return html.Div(parts, id="complaint-detail")


@guard.callback(
    Output("complaint-action-result", "children"),
    Output("complaints-changed", "data", allow_duplicate=True),
    Input("complaint-check", "n_clicks"),
    Input("complaint-close", "n_clicks"),
    State("complaints-number", "data"),
    State("complaint-outcome", "value"),
    State("complaint-outcome-text", "value"),
    State("complaint-check-from", "value"),
    State("complaint-check-to", "value"),
    State("complaints-changed", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _act(
    check_clicks: Any,
    close_clicks: Any,
    number: str,
    outcome: str,
    text: str,
    date_from: str | None,
    date_to: str | None,
    changed: int,
) -> tuple[Any, int]:
    t = context.t
    closing = dash.ctx.triggered_id == "complaint-close"
    if not (close_clicks if closing else check_clicks):
        raise PreventUpdate  # the buttons were just drawn (the detail redraws), not clicked
    try:
        if closing:
            c = cv.close_from_page(
                context.store(), context.user(), number, outcome=outcome, text=text
            )
            done = t("complaints.closed", number=c.number)
        else:
            lang = context.lang()
            r = cv.check_from_page(
                context.store(),
                context.workspace(),
                context.user(),
                number,
                date_from=date_from,
                date_to=date_to,
                lang=lang,
            )
            # the summary leads with the warnings (a target without settlements): in red
            warned = bool(r.warnings_en if lang == "en" else r.warnings_zh)
            summary = r.summary_en if lang == "en" else r.summary_zh
            return pc.message(summary, error=warned), (changed or 0) + 1
    except _ERRORS as e:
        return refused(e, context.lang()), changed
    return saved(done), (changed or 0) + 1
