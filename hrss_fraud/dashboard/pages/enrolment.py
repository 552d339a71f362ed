"""参保稽核 Enrolment audit: employers ranked by the contribution at stake in the latest
run's enrolment hits, with the audit-visit list to download; one employer (``?emp=``)
with its hits and the rows behind each, its filings and contribution months, and its
correction requests (要求整改) with their deadlines, overdue marks and the forms to make
and close them.

The data come from :mod:`hrss_fraud.outputs.enrolment_view` (persons' names masked for a
role that may not see identities) and the requests from
:mod:`hrss_fraud.registers.enrolment_corrections`, which checks the user's permission
itself; this module draws.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import dash
import polars as pl
from dash import Input, Output, State, dcc, html

from hrss_fraud.cases import audit
from hrss_fraud.cases.users import can
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.forms import field, refused, saved
from hrss_fraud.engine.runs import RunError
from hrss_fraud.model.numbers import yuan, yuan_expr
from hrss_fraud.outputs import enrolment_view as ev
from hrss_fraud.outputs.enrolment_excel import visit_list_bytes
from hrss_fraud.registers import enrolment_corrections as ec

PERMISSION = "view_leads"
"""Who opens the page: whoever reads leads; the forms need ``ec.PERMISSION``."""

dash.register_page(
    __name__,
    path="/enrolment",
    name="参保稽核",
    name_en="Enrolment audit",
    order=68,
    permission=PERMISSION,
)


HEADERS = {
    "rank": "enrolment.col_rank",
    "emp_name": "enrolment.col_employer",
    "emp_no": "enrolment.col_emp_no",
    "emp_type": "enrolment.col_kind",
    "zone_name": "enrolment.col_zone",
    "n_hits": "enrolment.col_hits",
    "rules": "enrolment.col_rules",
    "amount_at_risk": "enrolment.col_amount",
    "line_no": "enrolment.col_line",
    "filed_by": "enrolment.col_filed_by",
    "role": "enrolment.col_line_kind",
    "line_date": "enrolment.col_date",
    "evt_date": "enrolment.col_date",
    "psn_no": "enrolment.col_psn_no",
    "psn_name": "enrolment.col_name",
    "cashym": "enrolment.col_month",
    "n_people": "enrolment.col_people",
    "psn_clctstd": "enrolment.col_base",
    "base_total": "enrolment.col_base_total",
    "emp_clct_amt": "enrolment.col_emp_paid",
    "psn_clct_amt": "enrolment.col_psn_paid",
    "evt_sn": "enrolment.col_filing",
    "evt_type": "enrolment.col_filing_kind",
    "evt_rea": "enrolment.col_reason",
    "docs": "enrolment.col_docs",
    "setl_id": "enrolment.col_settlement",
    "correction_id": "enrolment.col_request",
    "requested_on": "enrolment.col_requested_on",
    "due_on": "enrolment.col_due",
    "status_label": "enrolment.col_status",
    "days_left": "enrolment.col_days_left",
    "amount_yuan": "enrolment.col_amount",
    "n_requested": "enrolment.col_hits",
    "note": "enrolment.col_note",
    "corrected_on": "enrolment.col_corrected_on",
}
"""Column → the screen text of its header."""
ROW_COLUMNS = (
    "line_no", "role", "line_date", "filed_by", "psn_no", "psn_name", "cashym", "n_people",
    "psn_clctstd", "evt_sn", "evt_type", "docs", "setl_id", "amount_at_risk",
)  # fmt: skip


def _table(df: pl.DataFrame, columns: tuple[str, ...], table_id: str, **links: Any) -> Any:
    """``columns`` of ``df`` under their headers in the screen's language."""
    t = context.t
    labels = {c: (t(HEADERS[c]), t(HEADERS[c])) for c in columns if c in HEADERS}
    return pc.table(df, columns, context.lang(), labels=labels, links=links, table_id=table_id)


def _role() -> str | None:
    user = context.user()
    return user.role if user else None


def _ranking(view: ev.EnrolmentView, lang: str) -> Any:
    df = view.ranking(lang=lang)
    if df.is_empty():
        return pc.message(context.t("enrolment.no_hits"))
    columns = (
        "rank", "emp_name", "emp_no", "emp_type", "zone_name", "n_hits", "rules",
        "amount_at_risk",
    )  # fmt: skip
    return _table(
        df.with_row_index("rank", offset=1),
        columns,
        "enrolment-ranking",
        emp_name=lambda r: f"/enrolment?emp={r['emp_no']}",
    )


def _hit(hit: dict[str, Any], rows: pl.DataFrame) -> html.Div:
    title = f"{hit['rule_name']} · {hit['severity']} · {yuan(hit['amount_at_risk'])}"
    return html.Div(
        [
            html.H4(title),
            html.P(hit["evidence"], className="evidence"),
            _table(
                rows.rename({"emp_no": "filed_by"}),
                ROW_COLUMNS,
                f"enrolment-rows-{hit['finding_id']}",
            ),
        ],
        className="enrolment-hit",
        **{"data-finding": hit["finding_id"]},
    )


def _employer(view: ev.EnrolmentView, emp_no: str, lang: str) -> html.Div:
    t, role = context.t, _role()
    name = view.name(emp_no)
    if name is None:
        return pc.message(t("enrolment.no_employer", emp_no=emp_no), error=True)
    hits = view.hits(emp_no, lang=lang)
    total = yuan(float(hits["amount_at_risk"].sum())) if hits.height else yuan(0)
    parts: list[Any] = [
        html.H2(f"{name}（{emp_no}）" if lang == "zh" else f"{name} ({emp_no})"),
        pc.message(t("enrolment.summary", hits=hits.height, amount=total)),
        html.H3(t("enrolment.hits")),
    ]
    rows = view.rows(hits.select("finding_id", "emp_no"), lang=lang, role=role)
    for hit in hits.iter_rows(named=True):
        parts.append(_hit(hit, rows.filter(pl.col("finding_id") == hit["finding_id"])))
    filings = view.filings(emp_no, lang=lang)
    months = view.months(emp_no).with_columns(base_total=yuan_expr("base_total"))
    month_columns = ("cashym", "n_people", "base_total", "emp_clct_amt", "psn_clct_amt")
    parts += [
        html.H3(t("enrolment.filings")),
        _table(filings, tuple(filings.columns), "enrolment-filings"),
        html.H3(t("enrolment.months")),
        _table(months, month_columns, "enrolment-months"),
        html.H3(t("enrolment.corrections")),
        html.Div(id="enrolment-corrections"),
    ]
    if role and can(role, ec.PERMISSION):
        parts += _forms(hits)
    return html.Div(parts)


def _with_amount(text: str, amount: float) -> str:
    money = yuan(amount)
    return f"{text}（{money}）" if context.lang() == "zh" else f"{text} ({money})"


def _forms(hits: pl.DataFrame) -> list[Any]:
    t = context.t
    choices = [
        {"label": _with_amount(h["rule_name"], h["amount_at_risk"]), "value": h["finding_id"]}
        for h in hits.iter_rows(named=True)
    ]
    return [
        html.H3(t("enrolment.request")),
        field(
            t("enrolment.hits_chosen"),
            dcc.Checklist(id="enrolment-request-hits", options=choices, value=[]),
            "100%",
        ),
        html.Div(
            [
                field(
                    t("enrolment.days"),
                    dcc.Input(id="enrolment-request-days", value=str(ec.DEFAULT_DAYS)),
                    "160px",
                ),
            ],
            className="decision-form",
        ),
        field(t("enrolment.note"), dcc.Textarea(id="enrolment-request-note"), "100%"),
        html.Button(
            t("enrolment.submit_request"), id="enrolment-request-submit", className="primary"
        ),
        html.Div(id="enrolment-request-result"),
        html.H3(t("enrolment.mark_corrected")),
        html.Div(
            [
                field(t("enrolment.request_no"), dcc.Input(id="enrolment-done-id"), "160px"),
                field(t("enrolment.done_on"), dcc.Input(id="enrolment-done-on"), "160px"),
            ],
            className="decision-form",
        ),
        field(t("enrolment.done_note"), dcc.Textarea(id="enrolment-done-note"), "100%"),
        html.Button(t("enrolment.submit_done"), id="enrolment-done-submit", className="primary"),
        html.Div(id="enrolment-done-result"),
    ]


@guard.layout
def layout(emp: str | None = None, **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    try:
        run = context.runs().latest().run
    except RunError:
        return html.Div([html.H1(t("enrolment.title")), pc.message(t("enrolment.no_run"))])
    with ev.EnrolmentView(context.workspace(), run) as view:
        employer = _employer(view, emp, lang) if emp else html.Div()
        ranking = _ranking(view, lang)
    return html.Div(
        [
            html.H1(t("enrolment.title")),
            dcc.Store(id="enrolment-emp", data=emp or ""),
            dcc.Store(id="enrolment-changed", data=0),
            employer,
            html.H2(t("enrolment.ranking")),
            html.Div(
                [
                    html.Button(
                        t("enrolment.download"), id="enrolment-export", className="secondary"
                    ),
                    dcc.Download(id="enrolment-download"),
                ],
                className="toolbar",
            ),
            ranking,
        ]
    )


@guard.callback(
    Output("enrolment-download", "data"),
    Input("enrolment-export", "n_clicks"),
    permission=PERMISSION,
    prevent_initial_call=True,
)
def _export(_n: Any) -> dict[str, Any]:
    view, user = context.runs().latest(), context.user()
    data = visit_list_bytes(context.workspace(), view.run, lang=context.lang(), role=_role())
    audit.record(
        context.store(), user.username, "export.download", "run", view.run_id,
        {"what": "enrolment visit list"},
    )  # fmt: skip
    return dcc.send_bytes(data, f"enrolment_visits_{view.run_id}.xlsx")


@guard.callback(
    Output("enrolment-corrections", "children"),
    Input("enrolment-changed", "data"),
    State("enrolment-emp", "data"),
    permission=PERMISSION,
)
def _corrections(changed: int, emp_no: str) -> html.Div:
    df = ec.corrections(context.store(), emp_no or None, lang=context.lang())
    if df.is_empty():
        message = pc.message(context.t("enrolment.no_corrections"))
        return html.Div(message, **{"data-version": changed})
    shown = df.with_columns(
        amount_yuan=yuan_expr(pl.col("amount_fen") / 100),
        n_requested=pl.col("finding_ids").map_elements(
            lambda ids: len(json.loads(ids)), return_dtype=pl.Int64
        ),
    )
    columns = (
        "correction_id", "requested_on", "due_on", "status_label", "days_left", "amount_yuan",
        "n_requested", "note", "corrected_on",
    )  # fmt: skip
    table = _table(shown, columns, "enrolment-correction-table")
    return html.Div(table, **{"data-version": changed})


@guard.callback(
    Output("enrolment-request-result", "children"),
    Output("enrolment-changed", "data", allow_duplicate=True),
    Input("enrolment-request-submit", "n_clicks"),
    State("enrolment-emp", "data"),
    State("enrolment-request-hits", "value"),
    State("enrolment-request-days", "value"),
    State("enrolment-request-note", "value"),
    State("enrolment-changed", "data"),
    permission=ec.PERMISSION,
    prevent_initial_call=True,
)
def _request(
    _n: Any, emp_no: str, hits: list[str], days: str, note: str, changed: int
) -> tuple[Any, Any]:
    lang = context.lang()
    try:
        run = context.runs().latest().run
        correction_id = ec.request_correction(
            context.store(), context.workspace(), run, emp_no or "", hits or [],
            note=note or "", by=context.user().username, days=days or "",
        )  # fmt: skip
    except (ec.CorrectionError, RunError) as e:
        return refused(e, lang), dash.no_update
    said = context.t("enrolment.requested", number=correction_id)
    return saved(said), (changed or 0) + 1


@guard.callback(
    Output("enrolment-done-result", "children"),
    Output("enrolment-changed", "data", allow_duplicate=True),
    Input("enrolment-done-submit", "n_clicks"),
    State("enrolment-done-id", "value"),
    State("enrolment-done-on", "value"),
    State("enrolment-done-note", "value"),
    State("enrolment-changed", "data"),
    permission=ec.PERMISSION,
    prevent_initial_call=True,
)
def _done(_n: Any, number: str, on: str, note: str, changed: int) -> tuple[Any, Any]:
    t, lang = context.t, context.lang()
    try:
        correction_id = int((number or "").strip())
    except ValueError:
        return refused(t("enrolment.not_a_number", value=number or ""), lang), dash.no_update
    try:
        day = date.fromisoformat(on.strip()) if (on or "").strip() else None
    except ValueError:
        return refused(t("enrolment.not_a_date", value=on), lang), dash.no_update
    try:
        ec.mark_corrected(
            context.store(), correction_id, note=note or "", by=context.user().username, on=day
        )
    except ec.CorrectionError as e:
        return refused(e, lang), dash.no_update
    return saved(t("enrolment.corrected", number=correction_id)), (changed or 0) + 1
