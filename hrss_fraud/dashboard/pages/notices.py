"""违约通知单 Violation notices: the list with deadlines and overdue marks, a draft from an
institution's confirmed leads, issuing, the DOCX and PDF, and each later step.

Every value comes from :mod:`hrss_fraud.dashboard.notices_view`; this module draws.
"""

from __future__ import annotations

from typing import Any

import dash
import polars as pl
from dash import ALL, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from hrss_fraud.cases.migrate import SchemaError
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import notices_view as nv
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.forms import field, refused, saved
from hrss_fraud.engine.runs import RunError
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.model.numbers import yuan
from hrss_fraud.notices.draft import catalogue_of
from hrss_fraud.notices.render import Layout, RenderError
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
        df = load_institutions(Workspace.of(context.workspace()).lake)
    except Exception:  # names are a convenience: the code is what counts
        return {}
    return dict(zip(df["fixmedins_code"], df["fixmedins_name"].fill_null(""), strict=True))


def _evidence(ids: list[str]) -> dict[str, str]:
    """Finding id → its evidence text in the latest run (empty if the run cannot be read:
    the items' facts then say how many leads and how much, without examples)."""
    try:
        findings = context.runs().latest().run.findings()
    except (RunError, OSError):
        return {}
    found = findings.filter(pl.col("finding_id").is_in(ids))
    return dict(zip(found["finding_id"], found["evidence"].fill_null(""), strict=True))


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
            "100%",
        ),
        html.Div(
            [
                field(t("notices.site_facts"), dcc.Textarea(id="notice-facts"), "380px"),
                field(t("notices.rectification_required"), inp(id="notice-requirements"), "320px"),
                field(
                    t("notices.rectify_within_days"),
                    inp(id="notice-rectify-days", value=str(nv.DEFAULT_RECTIFY_DAYS)),
                ),
                field(
                    t("notices.issuing_unit"), inp(id="notice-unit", value=nv.DEFAULT_UNIT), "180px"
                ),
                html.Button(t("notices.save_draft"), id="notice-create", className="primary"),
            ],
            className="decision-form",
        ),
        html.P(t("notices.draft_items_hint"), className="muted"),
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
        return html.Div(refused(e, context.lang()))
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
    Output("notice-agreement", "value"),
    Input("notice-institution", "value"),
    State("notice-date", "value"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _leads(code: str | None, on: str | None) -> tuple[Any, ...]:
    if not code:
        return None, [], [], "", ""
    t, lang = context.t, context.lang()
    try:
        catalogue = catalogue_of(context.workspace())
        leads = nv.confirmed_leads(context.store(), context.user(), code, catalogue)
    except _ERRORS as e:
        return refused(e, context.lang()), [], [], dash.no_update, dash.no_update
    name, agreement = nv.register_fields(context.workspace(), code, on)
    ids = leads["finding_id"].to_list()
    shown = html.Div(
        [
            html.H3(t("notices.confirmed_leads", n_ids=len(ids))),
            pc.table(leads, nv.LEAD_COLUMNS, lang, labels=nv.LABELS, table_id="notice-lead-table"),
        ]
    )
    names = dict(zip(leads["finding_id"], leads["rule_name"], strict=True))
    options = [{"label": f"{f}（{names[f]}）", "value": f} for f in ids]
    return shown, options, ids, name or _names().get(code, ""), agreement


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
    *fields, selected, changed = values
    form = nv.DraftForm(*fields)
    t = context.t
    try:
        catalogue = catalogue_of(context.workspace())
        evidence = _evidence(form.findings or [])
        notice_id = nv.draft_from_form(
            context.store(), context.user(), form, catalogue, evidence, context.lang()
        )
    except _ERRORS as e:
        return refused(e, context.lang()), selected, changed
    done = t("notices.saved_draft", notice_id=notice_id)
    return saved(done), str(notice_id), (changed or 0) + 1


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
        return html.Div(refused(e, context.lang()))
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
            f"{i.rule}{f'（{i.framework}）' if i.framework else ''}：{i.facts}"
            f"（{i.legal_basis}；{yuan(i.amount_involved)}）"
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
        parts += [*_edit_form(n.content), *_issue_tools()]
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
                        "320px",
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
                    html.Button(t("notices.record"), id="notice-step-record", className="primary"),
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


ITEM_FIELDS = ("rule", "facts", "basis", "amount", "recover", "refuse", "penalty", "suspend")
"""The inputs of each item in the draft's edit form (pattern-matching ids
``{"type": "notice-item-<name>", "index": n}``), in :class:`nv.ItemForm`'s order."""


def _item_id(name: str, index: int | Any) -> dict[str, Any]:
    return {"type": f"notice-item-{name}", "index": index}


def _edit_form(c: Any) -> list[Any]:
    """The draft's fields and each item, prefilled, to change before it is issued."""
    t, inp = context.t, dcc.Input
    head = html.Div(
        [
            field(t("notices.agreement_no"), inp(id="notice-edit-agreement", value=c.agreement_no)),
            field(
                t("notices.inspection_date"),
                inp(id="notice-edit-date", value=c.inspection_date, placeholder="YYYY-MM-DD"),
            ),
            field(
                t("notices.inspectors_2_comma_separated"),
                inp(id="notice-edit-inspectors", value="、".join(c.inspectors)),
            ),
            field(
                t("notices.representative"),
                inp(id="notice-edit-representative", value=c.representative),
            ),
            field(t("notices.round"), inp(id="notice-edit-round", value=c.round_ref)),
            field(
                t("notices.site_facts"),
                dcc.Textarea(id="notice-edit-facts", value=c.onsite_facts),
                "380px",
            ),
            field(
                t("notices.rectification_required"),
                inp(id="notice-edit-requirements", value=c.requirements),
                "320px",
            ),
            field(
                t("notices.rectify_within_days"),
                inp(id="notice-edit-days", value=str(c.rectify_days)),
            ),
            field(t("notices.issuing_unit"), inp(id="notice-edit-unit", value=c.issuing_unit)),
        ],
        className="decision-form",
    )
    items = []
    for n, i in enumerate(c.items, start=1):
        amounts = {h.measure: h for h in i.handling}

        def amount(measure: str, amounts: dict = amounts) -> str:
            h = amounts.get(measure)
            return "" if h is None or h.amount is None else f"{h.amount:.2f}"

        suspend = amounts["suspend"].detail if "suspend" in amounts else ""
        items.append(
            html.Fieldset(
                [
                    html.Legend(t("notices.item_n", n=n)),
                    field(
                        t("notices.rule_name"), inp(id=_item_id("rule", n), value=i.rule), "260px"
                    ),
                    html.Span(
                        t("notices.framework_code", code=i.framework or "—"), className="muted"
                    ),
                    field(
                        t("notices.item_facts"),
                        dcc.Textarea(id=_item_id("facts", n), value=i.facts),
                        "380px",
                    ),
                    field(
                        t("notices.clause_broken"),
                        dcc.Textarea(id=_item_id("basis", n), value=i.legal_basis),
                        "320px",
                    ),
                    field(
                        t("notices.item_amount"),
                        inp(id=_item_id("amount", n), value=f"{i.amount_involved:.2f}"),
                    ),
                    field(
                        t("notices.recover"),
                        inp(id=_item_id("recover", n), value=amount("recover")),
                    ),
                    field(
                        t("notices.refuse"), inp(id=_item_id("refuse", n), value=amount("refuse"))
                    ),
                    field(
                        t("notices.penalty"),
                        inp(id=_item_id("penalty", n), value=amount("penalty")),
                    ),
                    field(
                        t("notices.suspend_settlement"),
                        inp(
                            id=_item_id("suspend", n),
                            value=suspend,
                            placeholder=t("notices.suspend_example"),
                        ),
                    ),
                    dcc.Checklist(
                        id=_item_id("interview", n),
                        options=[{"label": t("notices.interview"), "value": "yes"}],
                        value=["yes"] if "interview" in amounts else [],
                    ),
                ],
                className="decision-form notice-item",
            )
        )
    return [
        html.H3(t("notices.edit_draft")),
        head,
        *items,
        html.Button(t("notices.save_changes"), id="notice-edit-save", className="primary"),
    ]


def _issue_tools() -> list[Any]:
    t = context.t
    return [
        html.H3(t("notices.preview_and_issue")),
        html.Div(
            [
                field(
                    t("notices.issue_date_default_today"),
                    dcc.Input(id="notice-issue-on", placeholder="YYYY-MM-DD"),
                ),
                html.Button(t("notices.preview"), id="notice-preview"),
                html.Button(t("notices.issue"), id="notice-issue", className="primary"),
            ],
            className="decision-form",
        ),
        dcc.Store(id="notice-expect"),
        html.Div(id="notice-confirm"),
        html.Div(id="notice-preview-body"),
    ]


def _document(number: str, lay: Layout) -> html.Div:
    """The document as it would be written: its strings in order, the items as a table."""
    t = context.t
    rows = [html.Tr([html.Th(h) for h in lay.table_header])]
    rows += [html.Tr([html.Td(c) for c in row]) for row in lay.table_rows]
    return html.Div(
        [
            html.P(t("notices.preview_note", number=number), className="muted"),
            html.H3(lay.title, style={"textAlign": "center"}),
            html.P(lay.number, style={"textAlign": "right"}),
            *(html.P(f"{k}{v}") for k, v in lay.fields),
            html.H4(lay.facts_heading),
            html.P(lay.facts),
            html.Table(rows, className="kv notice-preview-items"),
            html.P(lay.total),
            *(part for heading, text in lay.sections for part in (html.H4(heading), html.P(text))),
            *(
                html.P(line, style={"textAlign": "right"} if i >= lay.right_from else None)
                for i, line in enumerate(lay.signatures)
            ),
        ],
        id="notice-preview-document",
        className="notice-preview",
    )


@guard.callback(
    Output("notice-action-result", "children"),
    Output("notices-changed", "data", allow_duplicate=True),
    Input("notice-edit-save", "n_clicks"),
    State("notice-edit-agreement", "value"),
    State("notice-edit-date", "value"),
    State("notice-edit-inspectors", "value"),
    State("notice-edit-representative", "value"),
    State("notice-edit-round", "value"),
    State("notice-edit-facts", "value"),
    State("notice-edit-requirements", "value"),
    State("notice-edit-days", "value"),
    State("notice-edit-unit", "value"),
    *(State(_item_id(name, ALL), "value") for name in (*ITEM_FIELDS, "interview")),
    State("notices-selected", "data"),
    State("notices-changed", "data"),
    prevent_initial_call=True,
    permission=nv.MANAGE,
)
def _save_edit(n: Any, *values: Any) -> tuple[html.P, Any]:
    if not n:
        raise PreventUpdate
    agreement, on, inspectors, representative, round_ref, facts, req, days, unit = values[:9]
    *columns, interview = values[9:-2]
    selected, changed = values[-2:]
    form = nv.DraftForm(
        None,
        None,
        on,
        inspectors,
        facts,
        agreement_no=agreement,
        representative=representative,
        round_ref=round_ref,
        requirements=req,
        rectify_days=days,
        issuing_unit=unit,
    )
    items = [
        nv.ItemForm(*cells, interview=bool(ticked))
        for *cells, ticked in zip(*columns, interview, strict=True)
    ]
    try:
        lang = context.lang()
        notice_id = nv.edit_draft(context.store(), context.user(), selected, form, items, lang)
    except _ERRORS as e:
        return refused(e, context.lang()), changed
    return saved(context.t("notices.saved_changes", notice_id=notice_id)), (changed or 0) + 1


@guard.callback(
    Output("notice-preview-body", "children"),
    Output("notice-confirm", "children"),
    Output("notice-expect", "data"),
    Input("notice-preview", "n_clicks"),
    Input("notice-issue", "n_clicks"),
    State("notice-issue-on", "value"),
    State("notices-selected", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _preview(shown: Any, asked: Any, on: str | None, selected: str) -> tuple[Any, ...]:
    """预览 shows the document; 编号下达 shows it too, and asks to confirm the number it
    is about to take."""
    trigger = dash.ctx.triggered_id
    if not (shown or asked):
        raise PreventUpdate
    t = context.t
    try:
        number, lay = nv.preview_from_page(
            context.store(),
            context.workspace(),
            context.user(),
            selected,
            on=on,
            lang=context.lang(),
        )
    except _ERRORS as e:
        return refused(e, context.lang()), None, None
    document = _document(number, lay)
    if trigger != "notice-issue":
        return document, None, None
    question = html.Div(
        [
            html.P(t("notices.confirm_issue", number=number), id="notice-confirm-text"),
            html.Button(t("notices.confirm"), id="notice-issue-confirm", className="primary"),
            html.Button(t("notices.cancel"), id="notice-issue-cancel"),
        ],
        className="decision-form confirm",
    )
    return document, question, number


@guard.callback(
    Output("notice-confirm", "children", allow_duplicate=True),
    Output("notice-expect", "data", allow_duplicate=True),
    Input("notice-issue-cancel", "n_clicks"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _cancel(n: Any) -> tuple[None, None]:
    """取消: the question goes, no number is taken."""
    if not n:
        raise PreventUpdate
    return None, None


@guard.callback(
    Output("notice-action-result", "children", allow_duplicate=True),
    Output("notices-selected", "data", allow_duplicate=True),
    Output("notices-changed", "data", allow_duplicate=True),
    Input("notice-issue-confirm", "n_clicks"),
    State("notice-issue-on", "value"),
    State("notice-expect", "data"),
    State("notices-selected", "data"),
    State("notices-changed", "data"),
    prevent_initial_call=True,
    permission=nv.MANAGE,
)
def _issue(
    n: Any, on: str | None, expect: str | None, selected: str, changed: int
) -> tuple[html.P, Any, Any]:
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
            expect=expect,
        )
    except _ERRORS as e:
        return refused(e, context.lang()), selected, changed
    done_text = t("notices.issued", number=done.number)
    return saved(done_text), done.number, (changed or 0) + 1


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
        return dash.no_update, refused(e, context.lang())
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
            lang=lang,
        )
    except _ERRORS as e:
        return refused(e, lang), changed
    label = nv.STEPS[step][1 if lang == "en" else 0]
    return saved(t("notices.recorded", label=label)), (changed or 0) + 1
