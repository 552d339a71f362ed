"""审计日志 Audit log, for administrators: the trail filtered by user, action, object and
dates, a page at a time. :func:`audit_view.audit_page` checks the permission and logs
the browsing itself."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from hrss_fraud.dashboard import audit_view, context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.forms import field
from hrss_fraud.dashboard.rule_catalogue_view import current_catalogue

dash.register_page(
    __name__,
    path="/audit",
    name="审计日志",
    name_en="Audit log",
    order=90,
    permission="browse_audit",
)

LABELS: dict[str, tuple[str, str]] = {
    "at_local": ("时间", "when"),
    "actor": ("用户", "user"),
    "action_label": ("操作", "action"),
    "object_label": ("对象类型", "object type"),
    "object_id": ("对象", "object"),
    "detail_text": ("详情", "detail"),
}
DATE_FIELDS = {"date_from": "audit.date_from", "date_to": "audit.date_to"}


@guard.layout
def layout(**_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    return html.Div(
        [
            html.H1(t("audit.audit_log")),
            html.Div(
                [
                    field(t("audit.user"), dcc.Input(id="audit-actor")),
                    field(
                        t("audit.action"),
                        dcc.Dropdown(id="audit-action", options=audit_view.action_choices(lang)),
                        width="260px",
                    ),
                    field(t("audit.object_id"), dcc.Input(id="audit-object")),
                    field(
                        t("audit.date_from"),
                        dcc.Input(id="audit-from", placeholder=t("audit.date_format")),
                    ),
                    field(
                        t("audit.date_to"),
                        dcc.Input(id="audit-to", placeholder=t("audit.date_format")),
                    ),
                    html.Button(t("audit.search"), id="audit-search", className="primary"),
                ],
                className="decision-form",
            ),
            dcc.Store(id="audit-page", data=0),
            html.Div(
                [
                    html.Button(t("audit.previous"), id="audit-prev", className="secondary"),
                    html.Button(t("audit.next"), id="audit-next", className="secondary"),
                ],
                className="toolbar",
            ),
            html.Div(id="audit-results"),
        ]
    )


@guard.callback(
    Output("audit-results", "children"),
    Output("audit-page", "data"),
    Input("audit-search", "n_clicks"),
    Input("audit-prev", "n_clicks"),
    Input("audit-next", "n_clicks"),
    State("audit-page", "data"),
    State("audit-actor", "value"),
    State("audit-action", "value"),
    State("audit-object", "value"),
    State("audit-from", "value"),
    State("audit-to", "value"),
    permission="browse_audit",
)
def _results(
    _s: Any, _p: Any, _n: Any, page: int, actor: str, action: str, obj: str, start: str, end: str
) -> tuple[html.Div, int]:
    t, lang = context.t, context.lang()
    trigger = dash.ctx.triggered_id
    page = {"audit-prev": max(0, page - 1), "audit-next": page + 1}.get(trigger, 0)
    catalogue = current_catalogue(context.workspace())  # rules and parameters by name
    try:
        flt = audit_view.filter_from_form(
            actor=actor, action=action, object_id=obj, date_from=start, date_to=end
        )
        rows, total = audit_view.audit_page(
            context.store(), context.user(), flt, page=page, lang=lang, catalogue=catalogue
        )
    except audit_view.NotADate as e:
        said = t("audit.not_a_date", field=t(DATE_FIELDS[e.field]), value=e.value)
        return html.Div(pc.message(said, error=True)), page
    except PermissionError:
        return html.Div(pc.message(t("audit.only_administrators"), error=True)), page
    last = max(0, (total - 1) // audit_view.PAGE_SIZE)
    if page > last:
        page = last
        rows, total = audit_view.audit_page(
            context.store(), context.user(), flt, page=page, lang=lang, catalogue=catalogue
        )
    summary = t("audit.rows_page", total=total, page=page + 1, pages=last + 1)
    return html.Div(
        [
            pc.message(summary),
            pc.table(rows, list(LABELS), lang, labels=LABELS, table_id="audit-table"),
        ]
    ), page
