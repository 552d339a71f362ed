"""违约通知单 Violation notices: the list with deadlines and overdue marks, a draft from an
institution's confirmed leads, issuing, the DOCX and PDF, and each later step.

Every value comes from :mod:`hrss_fraud.dashboard.notices_view`; this module draws.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from hrss_fraud.cases.migrate import SchemaError
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import notices_view as nv
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.forms import field
from hrss_fraud.lake import Lake
from hrss_fraud.model.numbers import yuan
from hrss_fraud.notices.render import RenderError
from hrss_fraud.outputs.runs_view import load_institutions

dash.register_page(
    __name__,
    path="/notices",
    name="违约通知单",
    name_en="Notices",
    order=70,
    permission="view_leads",
)

_ERRORS = (*nv.ERRORS, SchemaError, RenderError)


def _names() -> dict[str, str]:
    """Institution code → name from the lake (empty if it cannot be read)."""
    try:
        df = load_institutions(Lake(context.workspace() / "lake"))
    except Exception:  # names are a convenience: the code is what counts
        return {}
    return dict(zip(df["fixmedins_code"], df["fixmedins_name"].fill_null(""), strict=True))


def _draft_form() -> list[Any]:
    t = context.t
    inp = dcc.Input
    return [
        html.H2(t("notices.draft_notice")),
        html.Div(
            [
                field(
                    t("notices.institution_with_confirmed_leads"),
                    dcc.Dropdown(
                        id="notice-institution",
                        options=nv.institution_options(context.store(), _names()),
                    ),
                    "420px",
                ),
                field(t("notices.name"), inp(id="notice-name")),
                field(t("notices.agreement_no"), inp(id="notice-agreement")),
                field(
                    t("notices.inspection_date"),
                    inp(id="notice-date", placeholder="YYYY-MM-DD"),
                ),
                field(
                    t("notices.inspectors_2_comma_separated"),
                    inp(id="notice-inspectors"),
                ),
                field(t("notices.representative"), inp(id="notice-representative")),
                field(t("notices.round"), inp(id="notice-round")),
            ],
            className="decision-form",
        ),
        html.Div(id="notice-leads"),
        field(
            t("notices.leads_notice"),
            dcc.Checklist(id="notice-findings", options=[], value=[], inline=True),
        ),
        html.Div(
            [
                field(
                    t("notices.site_facts"),
                    dcc.Textarea(id="notice-facts"),
                    "380px",
                ),
                field(
                    t("notices.breach_default_rules"),
                    inp(id="notice-rule"),
                    "220px",
                ),
                field(
                    t("notices.facts_breach"),
                    dcc.Textarea(id="notice-item-facts"),
                    "380px",
                ),
                field(t("notices.clause_broken"), inp(id="notice-basis"), "260px"),
                field(
                    t("notices.amount_default_leads_total"),
                    inp(id="notice-amount"),
                ),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(t("notices.recover"), inp(id="notice-recover")),
                field(t("notices.refuse"), inp(id="notice-refuse")),
                field(t("notices.penalty"), inp(id="notice-penalty")),
                field(
                    t("notices.suspend_settlement"),
                    inp(id="notice-suspend", placeholder="3个月"),
                ),
                dcc.Checklist(
                    id="notice-interview",
                    options=[{"label": t("notices.interview"), "value": "yes"}],
                    value=[],
                ),
                field(t("notices.rectification_required"), inp(id="notice-requirements"), "320px"),
                field(
                    t("notices.rectify_within_days"),
                    inp(id="notice-rectify-days", value=str(nv.DEFAULT_RECTIFY_DAYS)),
                ),
                field(
                    t("notices.issuing_unit"),
                    inp(id="notice-unit", value=nv.DEFAULT_UNIT),
                    "180px",
                ),
                html.Button(t("notices.save_draft"), id="notice-create"),
            ],
            className="decision-form",
        ),
        html.Div(id="notice-create-result"),
    ]


@guard.layout
def layout(notice: str | None = None, **_query: str) -> html.Div:
    t = context.t
    user = context.user()
    return html.Div(
        [
            html.H1(t("notices.site_violation_notices")),
            dcc.Store(id="notices-selected", data=notice),
            dcc.Store(id="notices-changed", data=0),
            dcc.Download(id="notice-download"),
            html.Div(id="notice-action-result"),
            html.Div(id="notice-detail"),
            *(_draft_form() if user.can(nv.MANAGE) else []),
            html.H2(t("notices.notices")),
            dcc.Checklist(
                id="notices-overdue",
                options=[{"label": t("notices.overdue_only"), "value": "overdue"}],
                value=[],
            ),
            html.Div(id="notices-list"),
        ]
    )


@guard.callback(
    Output("notices-list", "children"),
    Input("notices-overdue", "value"),
    Input("notices-changed", "data"),
    permission="view_leads",
)
def _list(overdue: list[str], _changed: Any) -> html.Div:
    lang = context.lang()
    try:
        rows = nv.notice_rows(context.store(), context.user(), lang=lang)
    except _ERRORS as e:
        return html.Div(pc.message(str(e), error=True))
    if overdue:
        rows = rows.filter(rows["overdue"])
    if rows.is_empty():
        return html.Div(pc.message(context.t("notices.no_notices")))
    return html.Div(
        pc.table(
            rows,
            nv.LIST_COLUMNS,
            lang,
            labels=nv.LABELS,
            links={"ref": lambda r: f"/notices?notice={r['number'] or r['notice_id']}"},
            table_id="notices-table",
        )
    )


@guard.callback(
    Output("notice-leads", "children"),
    Output("notice-findings", "options"),
    Output("notice-findings", "value"),
    Output("notice-name", "value"),
    Input("notice-institution", "value"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _leads(code: str | None) -> tuple[Any, Any, Any, Any]:
    if not code:
        return None, [], [], ""
    t, lang = context.t, context.lang()
    try:
        leads = nv.confirmed_leads(context.store(), context.user(), code)
    except _ERRORS as e:
        return pc.message(str(e), error=True), [], [], dash.no_update
    ids = leads["finding_id"].to_list()
    shown = html.Div(
        [
            html.H3(t("notices.confirmed_leads", n_ids=len(ids))),
            pc.table(leads, nv.LEAD_COLUMNS, lang, labels=nv.LABELS, table_id="notice-lead-table"),
        ]
    )
    options = [{"label": f, "value": f} for f in ids]
    return shown, options, ids, _names().get(code, "")


@guard.callback(
    Output("notice-create-result", "children"),
    Output("notices-selected", "data"),
    Output("notices-changed", "data"),
    Input("notice-create", "n_clicks"),
    State("notice-institution", "value"),
    State("notice-findings", "value"),
    State("notice-date", "value"),
    State("notice-inspectors", "value"),
    State("notice-facts", "value"),
    State("notice-name", "value"),
    State("notice-agreement", "value"),
    State("notice-representative", "value"),
    State("notice-round", "value"),
    State("notice-rule", "value"),
    State("notice-item-facts", "value"),
    State("notice-basis", "value"),
    State("notice-amount", "value"),
    State("notice-recover", "value"),
    State("notice-refuse", "value"),
    State("notice-penalty", "value"),
    State("notice-suspend", "value"),
    State("notice-interview", "value"),
    State("notice-requirements", "value"),
    State("notice-rectify-days", "value"),
    State("notice-unit", "value"),
    State("notices-selected", "data"),
    State("notices-changed", "data"),
    prevent_initial_call=True,
    permission=nv.MANAGE,
)
def _create(n: Any, *values: Any) -> tuple[html.P, Any, int]:
    if not n:
        raise PreventUpdate
    *fields, interview, requirements, days, unit, selected, changed = values
    form = nv.DraftForm(
        *fields,
        interview=bool(interview),
        requirements=requirements,
        rectify_days=days,
        issuing_unit=unit,
    )
    t = context.t
    try:
        notice_id = nv.draft_from_form(context.store(), context.user(), form)
    except _ERRORS as e:
        return pc.message(str(e), error=True), selected, changed
    done = t("notices.saved_draft", notice_id=notice_id)
    return pc.message(done), str(notice_id), (changed or 0) + 1


def _kv(rows: list[tuple[str, str]]) -> html.Table:
    return html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows], className="kv")


@guard.callback(
    Output("notice-detail", "children"),
    Input("notices-selected", "data"),
    Input("notices-changed", "data"),
    permission="view_leads",
)
def _detail(selected: str | None, _changed: Any) -> html.Div | None:
    if not selected:
        return None
    t, lang = context.t, context.lang()
    user = context.user()
    try:
        n, events = nv.notice(context.store(), user, selected, lang=lang)
    except _ERRORS as e:
        return html.Div(pc.message(str(e), error=True))
    c = n.content
    ref = n.number or f"#{n.notice_id}"
    head = [
        (t("notices.number"), ref),
        (t("common.status"), nv.status_label(n.status, lang)),
        (t("notices.institution"), f"{c.fixmedins_code} {c.fixmedins_name}"),
        (t("notices.agreement"), c.agreement_no),
        (t("notices.inspected"), f"{c.inspection_date} {'、'.join(c.inspectors)}"),
        (t("notices.site_facts"), c.onsite_facts),
        (t("notices.leads"), ", ".join(c.findings)),
        (t("notices.required"), f"{c.requirements}（{c.rectify_days} {t('notices.days')}）"),
    ]
    if n.number:
        head += [
            (t("notices.issued_on"), c.issue_date),
            (t("notices.statement_due"), c.statement_due),
            (t("notices.rectify"), c.rectify_due),
        ]
    items = [
        html.Li(
            f"{i.rule}：{i.facts}（{i.legal_basis}；{yuan(i.amount_involved)}）"
            + "；".join(h.label(lang) for h in i.handling)
        )
        for i in c.items
    ]
    parts: list[Any] = [
        html.H2(t("notices.notice", ref=ref)),
        _kv(head),
        html.H3(t("notices.breaches_handling")),
        html.Ol(items),
    ]
    manage = user is not None and user.can(nv.MANAGE)
    if n.status == "draft" and manage:
        parts.append(
            html.Div(
                [
                    field(
                        t("notices.issue_date_default_today"),
                        dcc.Input(id="notice-issue-on"),
                    ),
                    html.Button(t("notices.issue"), id="notice-issue"),
                ],
                className="decision-form",
            )
        )
    if n.number:
        parts.append(
            html.Div(
                [
                    html.Button(t("notices.download_docx"), id="notice-docx"),
                    html.Button(t("notices.download_pdf"), id="notice-pdf"),
                ],
                className="decision-form",
            )
        )
    steps = nv.step_options(n.status, lang, review_pending=nv.review_pending(n))
    if steps and manage:
        parts += [
            html.H3(t("notices.record_step")),
            html.Div(
                [
                    field(
                        t("notices.step"),
                        dcc.Dropdown(
                            id="notice-step",
                            options=steps,
                            value=steps[0]["value"],
                            clearable=False,
                            style={"minWidth": "200px"},
                        ),
                    ),
                    field(
                        t("notices.date_default_today"),
                        dcc.Input(id="notice-step-on", placeholder="YYYY-MM-DD"),
                    ),
                    field(
                        t("notices.person_who_signed"),
                        dcc.Input(id="notice-step-person"),
                    ),
                    field(
                        t("notices.text_required_most_steps"),
                        dcc.Textarea(id="notice-step-text"),
                    ),
                    dcc.Checklist(
                        id="notice-step-late",
                        options=[
                            {
                                "label": t("notices.record_late_statement"),
                                "value": "late",
                            }
                        ],
                        value=[],
                    ),
                    html.Button(t("notices.record"), id="notice-step-record"),
                ],
                className="decision-form",
            ),
        ]
    if events.height:
        parts += [
            html.H3(t("notices.history")),
            pc.table(
                events,
                ["on_date", "kind_label", "person", "text", "actor"],
                lang,
                labels=nv.LABELS,
                table_id="notice-events",
            ),
        ]
    return html.Div(parts, id="notice-detail-body")


@guard.callback(
    Output("notice-action-result", "children"),
    Output("notices-selected", "data", allow_duplicate=True),
    Output("notices-changed", "data", allow_duplicate=True),
    Input("notice-issue", "n_clicks"),
    State("notice-issue-on", "value"),
    State("notices-selected", "data"),
    State("notices-changed", "data"),
    prevent_initial_call=True,
    permission=nv.MANAGE,
)
def _issue(n: Any, on: str | None, selected: str, changed: int) -> tuple[html.P, Any, Any]:
    if not n:
        raise PreventUpdate
    t = context.t
    try:
        done = nv.issue_from_page(
            context.store(),
            context.workspace(),
            context.user(),
            selected,
            on=on,
            lang=context.lang(),
        )
    except _ERRORS as e:
        return pc.message(str(e), error=True), selected, changed
    done_text = t("notices.issued", number=done.number)
    return pc.message(done_text), done.number, (changed or 0) + 1


@guard.callback(
    Output("notice-download", "data"),
    Output("notice-action-result", "children", allow_duplicate=True),
    Input("notice-docx", "n_clicks"),
    Input("notice-pdf", "n_clicks"),
    State("notices-selected", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _download(docx: Any, pdf: Any, selected: str) -> tuple[Any, Any]:
    kind = "pdf" if dash.ctx.triggered_id == "notice-pdf" else "docx"
    if not (pdf if kind == "pdf" else docx):
        raise PreventUpdate
    try:
        name, data = nv.document(
            context.store(), context.workspace(), context.user(), selected, kind
        )
    except _ERRORS as e:
        return dash.no_update, pc.message(str(e), error=True)
    return dcc.send_bytes(data, name), dash.no_update


@guard.callback(
    Output("notice-action-result", "children", allow_duplicate=True),
    Output("notices-changed", "data", allow_duplicate=True),
    Input("notice-step-record", "n_clicks"),
    State("notice-step", "value"),
    State("notice-step-on", "value"),
    State("notice-step-person", "value"),
    State("notice-step-text", "value"),
    State("notice-step-late", "value"),
    State("notices-selected", "data"),
    State("notices-changed", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _step(
    n: Any, step: str, on: str, person: str, text: str, late: list[str], selected: str, changed: int
) -> tuple[html.P, Any]:
    if not n:
        raise PreventUpdate
    t, lang = context.t, context.lang()
    try:
        nv.record_step(
            context.store(),
            context.user(),
            selected,
            step,
            on=on,
            text=text,
            person=person,
            late=bool(late),
        )
    except _ERRORS as e:
        return pc.message(str(e), error=True), changed
    label = nv.STEPS[step][1 if lang == "en" else 0]
    return pc.message(t("notices.recorded", label=label)), (changed or 0) + 1
