"""事前事中审核 Pre-settlement checks: the check service's calls of a day (or a range of
days), warned, blocked and handled, by institution and by rule, and each warning beside
the visit's later claim and the latest batch run's leads on it. Every value comes from
:mod:`hrss_fraud.dashboard.checks_view`; this module draws."""

from __future__ import annotations

from datetime import date
from typing import Any

import dash
import polars as pl
from dash import Input, Output, State, dcc, html

from hrss_fraud.dashboard import checks_view as cv
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.audit_view import NotADate
from hrss_fraud.dashboard.forms import field
from hrss_fraud.dashboard.rule_catalogue_view import current_catalogue
from hrss_fraud.engine.runs import RunError

dash.register_page(
    __name__,
    path="/checks",
    name="事前事中审核",
    name_en="Pre-settlement checks",
    order=45,
    permission=cv.PERMISSION,
)

LABELS: dict[str, tuple[str, str]] = {
    "calls": ("调用次数", "calls"),
    "checks": ("审核次数", "checks"),
    "passed": ("通过", "passed"),
    "warned": ("提醒", "warned"),
    "blocked": ("拦截", "blocked"),
    "refused": ("拒绝的请求", "refused requests"),
    "warnings": ("提醒条数", "warnings"),
    "continued": ("继续执行（已说明理由）", "continued with a reason"),
    "changed": ("已修改", "changed"),
    "no_feedback": ("未反馈", "no feedback"),
    "visits": ("就诊次数", "visits"),
    "batch_flagged": ("事后批量亦发现", "also found by the batch"),
    "amount": ("涉及金额(元)", "amount (yuan)"),
    "fixmedins_name": ("定点医药机构", "institution"),
    "rule_name": ("规则", "rule"),
    "checked_at": ("审核时间", "checked at"),
    "scene": ("场景", "scene"),
    "psn_name": ("姓名", "name"),
    "severity_label": ("严重程度", "severity"),
    "verdict_label": ("审核结论", "verdict"),
    "handling": ("医生处理", "doctor's handling"),
    "reason": ("理由", "reason given"),
    "claimed": ("已结算入库", "claim arrived"),
    "settled_at": ("结算时间", "settled at"),
    "batch_same": ("批量规则亦发现", "batch found the same"),
    "batch_rules": ("批量发现的规则", "rules the batch found"),
}
TOTALS = ("calls", *cv.COUNTS, *cv.HANDLED)
INSTITUTION_COLUMNS = ("fixmedins_name", "checks", "warned", "blocked", "refused", "warnings",
                       "continued", "changed", "no_feedback")  # fmt: skip
RULE_COLUMNS = ("rule_name", "warnings", "visits", "blocked", "continued", "changed",
                "no_feedback", "batch_flagged", "amount")  # fmt: skip
LATER_COLUMNS = ("checked_at", "scene", "fixmedins_name", "psn_no", "psn_name", "mdtrt_id",
                 "rule_name", "severity_label", "amount", "verdict_label", "handling", "reason",
                 "claimed", "settled_at", "batch_same", "batch_rules")  # fmt: skip


@guard.layout
def layout(**_query: str) -> html.Div:
    t = context.t
    today = date.today().isoformat()
    return html.Div(
        [
            html.H1(t("checks.title")),
            html.P(t("checks.intro"), className="muted"),
            html.Div(
                [
                    field(
                        t("checks.date_from"), dcc.Input(id="checks-from", type="date", value=today)
                    ),
                    field(t("checks.date_to"), dcc.Input(id="checks-to", type="date", value=today)),
                    html.Button(t("checks.show"), id="checks-show", className="primary"),
                ],
                className="decision-form",
            ),
            dcc.Loading(html.Div(id="checks-results")),
        ]
    )


def _section(title: str, body: Any) -> html.Div:
    return html.Div([html.H2(title), body])


def render(report: cv.ChecksReport, lang: str) -> html.Div:
    """The report's tables in ``lang``."""
    t = context.t
    totals = pl.DataFrame([report.totals])
    days = report.start.isoformat() + (
        "" if report.end == report.start else f" – {report.end.isoformat()}"
    )
    if report.totals["calls"] == 0:
        return html.Div(pc.message(t("checks.none", days=days)), id="checks-summary")
    later = (
        pc.table(report.later, list(LATER_COLUMNS), lang, labels=LABELS, table_id="checks-later")
        if report.later.height
        else pc.message(t("checks.no_warnings"))
    )
    return html.Div(
        [
            html.Div(
                [
                    pc.message(t("checks.days", days=days)),
                    pc.table(totals, list(TOTALS), lang, labels=LABELS, table_id="checks-totals"),
                ],
                id="checks-summary",
            ),
            _section(
                t("checks.by_institution"),
                pc.table(
                    report.by_institution,
                    list(INSTITUTION_COLUMNS),
                    lang,
                    labels=LABELS,
                    table_id="checks-institutions",
                ),
            ),
            _section(
                t("checks.by_rule"),
                pc.table(
                    report.by_rule, list(RULE_COLUMNS), lang, labels=LABELS, table_id="checks-rules"
                ),
            ),
            _section(
                t("checks.later"),
                html.Div(
                    [
                        pc.message(
                            t(
                                "checks.later_note",
                                arrived=report.n_later,
                                shown=report.later.height,
                            )
                        ),
                        later,
                    ]
                ),
            ),
        ]
    )


@guard.callback(
    Output("checks-results", "children"),
    Input("checks-show", "n_clicks"),
    State("checks-from", "value"),
    State("checks-to", "value"),
    permission=cv.PERMISSION,
)
def _results(_n: Any, start: str | None, end: str | None) -> html.Div:
    t, lang = context.t, context.lang()
    today = date.today()
    try:
        first = cv.parse_day(start, "date_from", today)
        last = cv.parse_day(end, "date_to", first)
    except NotADate as e:
        said = t("checks.not_a_date", field=t(f"checks.{e.field}"), value=e.value)
        return html.Div(pc.message(said, error=True))
    if last < first:
        return html.Div(pc.message(t("checks.end_before_start"), error=True))
    try:
        view = context.runs().latest()
    except RunError:
        return html.Div(pc.message(t("checks.no_run"), error=True))
    user = context.user()
    report = cv.checks_report(
        context.store(),
        view,
        current_catalogue(context.workspace()),
        first,
        last,
        role=user.role if user else None,
        lang=lang,
    )
    return render(report, lang)
