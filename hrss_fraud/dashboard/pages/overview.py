"""总览 Overview: fund spending, leads and amounts at risk by month, care type, zone and rule
family, the last run's status, what changed since the previous run, and the nightly batch's
last runs.

The figures come from :mod:`hrss_fraud.outputs.overview` (computed once per run) and
:mod:`hrss_fraud.dashboard.nightly_view` (a few small JSON-lines files); this module only
draws them.
"""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
import polars as pl
from dash import dcc, html

from hrss_fraud.dashboard import charts, context, county_panel, guard, nightly_view, run_words
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.components import kv
from hrss_fraud.engine.runs import RunError
from hrss_fraud.model.numbers import money
from hrss_fraud.model.times import minute
from hrss_fraud.outputs import overview as data

dash.register_page(
    __name__, path="/", name="总览", name_en="Overview", order=0, permission="view_leads"
)

_BREAKDOWNS = {
    "month": "overview.by_month",
    "care_type": "overview.by_care_type",
    "zone": "overview.by_zone",
    "family": "overview.by_rule_family",
}


@guard.layout
def layout(**_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    try:
        view = context.runs().latest()
    except RunError:
        return html.Div(
            [
                html.H1(t("overview.overview")),
                html.P(t("overview.no_run_yet"), className="error"),
                _nightly(t, lang),
            ]
        )
    totals = data.lead_totals(view)
    status = data.run_status(view)
    previous = context.runs().previous(view)
    changes = data.changes(view, previous)
    shown = [r["rule_id"] for r in status["failed_rules"] + status["inactive_rules"]]
    names = data.rule_titles(view, previous, [*changes.by_rule["rule_id"], *shown], lang=lang)
    apart = data.apart_counts(view)
    cards = [
        (t("overview.leads"), f"{totals['n_findings']:,}"),
        (t("overview.amount_risk"), money(totals["amount_at_risk"])),
        (t("overview.cases"), dcc.Link(f"{apart['n_cases']:,}", href="/leads")),
        (t("overview.new_since_previous_run"), f"{changes.new.height:,}"),
        (t("overview.gone_since_previous_run"), f"{changes.gone.height:,}"),
        (
            t("overview.data_quality_findings_not_leads"),
            dcc.Link(f"{apart['n_quality_findings']:,}", href="/quality"),
        ),
    ]
    figures = [_spending(data.fund_spending(view, lang=lang), t, lang)] + [
        _leads_chart(data.leads_by(view, by, lang=lang), t(title), by, lang)
        for by, title in _BREAKDOWNS.items()
    ]
    return html.Div(
        [
            html.H1(t("overview.overview")),
            html.Div(
                [
                    html.Div(
                        [html.Div(k, className="label"), html.Div(v, className="value")],
                        className="card",
                    )
                    for k, v in cards
                ],
                className="cards",
            ),
            html.Div(
                [
                    html.Div(dcc.Graph(figure=f, config={"displaylogo": False}), className="panel")
                    for f in figures
                ],
                className="grid2",
                id="overview-charts",
            ),
            county_panel.panel(view, t, lang),
            html.Div(
                [_status(status, names, t, lang), _changes(changes, names, t)],
                className="grid2",
                style={"marginTop": "12px"},
            ),
            _nightly(t, lang),
        ]
    )


def _layout(title: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 60, "r": 10, "t": 40, "b": 60},
        "height": 300,
        "legend": {"orientation": "h", "y": -0.25},
        "font": {"family": "Noto Sans CJK SC, sans-serif"},
    }


def _spending(spend: pl.DataFrame, t: Any, lang: str) -> go.Figure:
    """Fund payments per month, stacked by care type: months as the language writes them,
    amounts in 万元 on a Chinese axis (to the fen on hover)."""
    spend = spend.sort("month")
    months = charts.month_labels(spend["month"].unique(maintain_order=True).to_list(), lang)
    fig = go.Figure()
    for (name,), part in spend.group_by("med_type_name", maintain_order=True):
        fig.add_bar(
            x=charts.month_labels(part["month"].to_list(), lang),
            y=part["fund_pay_sumamt"].to_list(),
            name=str(name or "—"),
            customdata=part["n_settlements"].to_list(),
            hovertemplate="%{x}: ¥%{y:,.2f} (%{customdata} " + t("overview.settlements") + ")",
        )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=months)
    fig.update_layout(barmode="stack", **_layout(t("overview.fund_paid_by_month")))
    return charts.amount_axis(fig, lang)


def _leads_chart(leads: pl.DataFrame, title: str, by: str, lang: str) -> go.Figure:
    """Amount at risk per group, with the number of leads on hover."""
    leads = leads.sort("key" if by == "month" else "amount_at_risk", descending=by != "month")
    labels = [str(v) if v is not None else "—" for v in leads["label"].to_list()]
    if by == "month":
        labels = [
            charts.month_label(k, lang) if k is not None else label
            for k, label in zip(leads["key"].to_list(), labels, strict=True)
        ]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=leads["amount_at_risk"].to_list(),
            customdata=leads["n_findings"].to_list(),
            hovertemplate="%{x}: ¥%{y:,.2f} · %{customdata}",
            marker_color="#0b5394",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_layout(**_layout(f"{context.t('overview.amount_risk')} {title}"))
    return charts.amount_axis(fig, lang)


def _status(status: dict[str, Any], names: dict[str, str], t: Any, lang: str) -> html.Div:
    failed = status.get("failed_rules") or []
    inactive = status.get("inactive_rules") or []
    sep = "；" if lang == "zh" else "; "
    rows = [
        (t("overview.run"), status["run_id"]),
        (t("overview.mode"), run_words.mode_and_why(status.get("mode"), status.get("why"), lang)),
        (t("overview.started"), minute(status.get("started_at"), "—")),
        (t("overview.finished"), minute(status.get("finished_at"), "—")),
        (t("overview.took"), t("overview.seconds", n=status.get("seconds") or 0)),
        (t("overview.rules"), str(status.get("n_rules"))),
        (
            t("overview.failed_rules"),
            sep.join(names.get(r["rule_id"], str(r["rule_id"])) for r in failed)
            or t("overview.none"),
        ),
        (
            t("overview.rules_not_run_knowledge_missing"),
            sep.join(names.get(r["rule_id"], str(r["rule_id"])) for r in inactive)
            or t("overview.none"),
        ),
    ]
    return html.Div([html.H2(t("overview.last_run")), kv(rows)], className="panel", id="run-status")


def _changes(changes: data.RunChanges, names: dict[str, str], t: Any) -> html.Div:
    delta = changes.amount_latest - changes.amount_previous
    rows = [
        (t("overview.previous_run"), changes.previous_run_id or t("overview.none")),
        (
            t("overview.new_gone_kept"),
            f"{changes.new.height:,} / {changes.gone.height:,} / {changes.n_kept:,}",
        ),
        (t("overview.change_amount_risk"), money(delta, signed=True)),
    ]
    top = changes.by_rule.sort(pl.col("change").abs(), descending=True).head(8)
    table = html.Table(
        [
            html.Tr(
                [
                    html.Th(t("overview.rule")),
                    html.Th(t("overview.new")),
                    html.Th(t("overview.gone")),
                    html.Th(t("overview.change")),
                ]
            )
        ]
        + [
            html.Tr(
                [
                    html.Td(names.get(r["rule_id"], r["rule_id"]), title=r["rule_id"]),
                    html.Td(r["n_new"]),
                    html.Td(r["n_gone"]),
                    html.Td(money(r["change"], signed=True), style={"whiteSpace": "nowrap"}),
                ]
            )
            for r in top.iter_rows(named=True)
        ],
        className="kv",
        id="run-changes-rules",
    )
    return html.Div(
        [
            html.H2(t("overview.since_previous_run")),
            kv(rows),
            html.H3(t("overview.rules_changed_most")),
            table,
        ],
        className="panel",
        id="run-changes",
    )


_RUN_COLUMNS = [
    "started",
    "finished",
    "seconds",
    "status_label",
    "score_run",
    *(f"{s}_seconds" for s in nightly_view.STAGES),
    "n_warnings",
    "error",
    "resumed",
]


def _nightly(t: Any, lang: str) -> html.Div:
    """The nightly batch: the latest run in a line (a warning when it failed or last night's
    did not run), the last ten runs and the last upload files it rejected."""
    ws = context.workspace()
    status = nightly_view.nightly_status(ws, lang=lang)
    runs = nightly_view.runs_frame(ws, 10, lang=lang)
    rejected = nightly_view.rejections_frame(ws, 10)
    labels = nightly_view.COLUMN_LABELS
    parts = [
        html.H2(t("overview.nightly_batch")),
        html.Div(pc.message(status.headline, error=status.alert), id="nightly-headline"),
    ]
    if runs.height:
        parts.append(pc.table(runs, _RUN_COLUMNS, lang, labels=labels, table_id="nightly-runs"))
    if rejected.height:
        parts += [
            html.H3(t("overview.upload_files_rejected_lately")),
            pc.table(
                rejected,
                ["time", "file", "error"],  # the error says why, in words
                lang,
                labels=labels,
                table_id="nightly-rejections",
            ),
        ]
    return html.Div(parts, className="panel", id="nightly-batch", style={"marginTop": "12px"})
