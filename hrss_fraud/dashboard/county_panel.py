"""The overview's 按县 panel, for a run over several counties: each county's leads and
amount at risk, and the leads of a chosen county with those crossing counties (跨县) marked
and first. A run over one county has no such panel (:func:`panel` returns None).

The rows come from :mod:`hrss_fraud.outputs.counties`; this module draws them.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, dcc, html

from hrss_fraud.dashboard import context, guard
from hrss_fraud.engine.runs import RunError
from hrss_fraud.model.numbers import money
from hrss_fraud.outputs import counties as data
from hrss_fraud.outputs.runs_view import RunView

ALL = "*"
"""The dropdown's value for every county."""


def panel(view: RunView, t: Any, lang: str) -> html.Div | None:
    """The panel, or None when the run's institutions are all in one county."""
    if len(data.run_counties(view)) < 2:
        return None
    summary = data.county_summary(view, lang)
    head = [t("county_panel.county"), t("county_panel.leads"), t("county_panel.amount")]
    head.append(t("county_panel.cross_leads"))
    options = [{"label": t("county_panel.all_counties"), "value": ALL}] + [
        {"label": _named(r, lang), "value": r["county"]} for r in summary.iter_rows(named=True)
    ]
    return html.Div(
        [
            html.H2(t("county_panel.by_county")),
            html.Table(
                [html.Tr([html.Th(h) for h in head])]
                + [
                    html.Tr(
                        [
                            html.Td(_named(r, lang)),
                            html.Td(f"{r['n_findings']:,}"),
                            html.Td(money(r["amount_at_risk"])),
                            html.Td(f"{r['n_cross']:,}"),
                        ]
                    )
                    for r in summary.iter_rows(named=True)
                ],
                className="kv",
                id="county-summary",
            ),
            html.Div(
                [
                    dcc.Dropdown(id="county-pick", options=options, value=ALL, clearable=False),
                    dcc.Checklist(
                        id="county-cross",
                        options=[{"label": t("county_panel.cross_only"), "value": "cross"}],
                        value=[],
                    ),
                ],
                style={"maxWidth": "420px", "marginTop": "8px"},
            ),
            html.Div(id="county-leads"),
        ],
        className="panel",
        id="county-panel",
        style={"marginTop": "12px"},
    )


def _named(row: dict[str, Any], lang: str) -> str:
    """A county by name with its code: 永宁县（130123）, Yongning County (130123)."""
    code = row["county"]
    return f"{row['county_name']} ({code})" if lang == "en" else f"{row['county_name']}（{code}）"


def leads_table(rows: pl.DataFrame, t: Any) -> html.Div:
    """The leads as a table: rule, institution, counties by name, the 跨县 mark, amount."""
    if rows.is_empty():
        return html.P(t("county_panel.no_leads"))
    head = [t("county_panel.rule"), t("county_panel.institution"), t("county_panel.counties")]
    head += [t("county_panel.cross"), t("county_panel.amount"), ""]
    body = [
        html.Tr(
            [
                html.Td(r["rule_name"]),
                html.Td(r["fixmedins_name"]),
                html.Td(r["county_names"]),
                html.Td(
                    html.Span(t("county_panel.cross_mark"), className="badge cross-county")
                    if r["cross"]
                    else ""
                ),
                html.Td(money(r["amount_at_risk"])),
                html.Td(dcc.Link(t("county_panel.open"), href=r["link"])),
            ],
            **{"data-finding": r["finding_id"]},
        )
        for r in rows.iter_rows(named=True)
    ]
    return html.Div(html.Table([html.Tr([html.Th(h) for h in head]), *body], className="kv"))


def rows_for(
    view: RunView, county: str | None, cross: list[str] | None, lang: str, identities: bool
) -> pl.DataFrame:
    """The panel's rows for the dropdown's and the tick box's values."""
    return data.county_leads(
        view,
        None if county in (None, ALL) else county,
        cross_only="cross" in (cross or []),
        lang=lang,
        identities=identities,
    )


@guard.callback(
    Output("county-leads", "children"),
    Input("county-pick", "value"),
    Input("county-cross", "value"),
    permission="view_leads",
)
def _show(county: str | None, cross: list[str] | None) -> html.Div:
    t, lang = context.t, context.lang()
    try:
        view = context.runs().latest()
    except RunError as e:
        return html.P(str(e), className="error")
    user = context.user()
    identities = user is not None and user.can("view_identity")
    return leads_table(rows_for(view, county, cross, lang, identities), t)
