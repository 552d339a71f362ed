"""机构画像 Institution profile: a picker, and one institution's indicators among its peers,
monthly trend, top items and doctors, leads with their review decisions, data quality.

Every figure comes from :mod:`hrss_fraud.outputs.institution_view`; this module draws.
"""

from __future__ import annotations

from typing import Any

import dash
import polars as pl
from dash import Input, Output, dcc, html

from hrss_fraud.dashboard import context, guard, profile_page
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.charts import amount_axis, month_labels
from hrss_fraud.engine.runs import RunError
from hrss_fraud.model.numbers import yuan
from hrss_fraud.model.times import minute
from hrss_fraud.outputs import case_queue as cq
from hrss_fraud.outputs import institution_view as iv
from hrss_fraud.outputs import quality_view as qv
from hrss_fraud.outputs.labels import COLUMNS

profile_page.register_finder(
    "institution_picker", "/institution", "机构画像", "Institutions", 20, lambda **q: picker(**q)
)
profile_page.register_page(__name__, "/institution/<fixmedins_code>", "机构画像", "Institution")

RANKED_COLUMNS = [
    "rank",
    "fixmedins_name",
    "fixmedins_code",
    "risk_score",
    "amount_at_risk",
    "n_findings",
    "reasons",
]


def picker(**query: str) -> html.Div:
    """The institutions, most at risk first, and a picker searchable by name or code;
    ``?code=`` (or ``?fixmedins_code=``, or ``?name=`` with a name or part of one) opens
    that institution's profile at this address."""
    t, lang = context.t, context.lang()
    try:
        view = context.runs().latest()
    except RunError as e:
        return profile_page.failed("institution.institutions", e)
    asked = query.get("code") or query.get("fixmedins_code") or query.get("name")
    if asked:
        code = cq.resolve_institution(view.institutions, asked)
        return layout(fixmedins_code=code or asked.strip())
    ranked = iv.ranked(view, lang=lang)
    return html.Div(
        [
            html.H1(t("institution.institutions")),
            html.Div(
                [
                    dcc.Dropdown(
                        id="institution-pick",
                        options=iv.choices(view, lang=lang),
                        placeholder=t("institution.choose_institution"),
                        searchable=True,
                        style={"minWidth": "360px"},
                    ),
                    dcc.RadioItems(
                        id="institution-order",
                        options=[
                            {"label": t("institution.by_risk"), "value": "risk"},
                            {"label": t("institution.by_name"), "value": "name"},
                        ],
                        value="risk",
                        inline=True,
                        inputStyle={"marginRight": "4px", "marginLeft": "12px"},
                    ),
                ],
                className="toolbar",
            ),
            dcc.Location(id="institution-go", refresh="callback-nav"),
            html.H2(t("institution.ranked_most_at_risk")),
            pc.table(
                ranked,
                RANKED_COLUMNS,
                lang,
                labels=PEER_LABELS,
                links={"fixmedins_name": lambda r: f"/institution/{r['fixmedins_code']}"},
                table_id="institution-ranked",
            ),
        ]
    )


@guard.callback(
    Output("institution-pick", "options"),
    Input("institution-order", "value"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _order(order: str | None) -> list[dict[str, str]]:
    view = context.runs().latest()
    return iv.choices(view, order="name" if order == "name" else "risk", lang=context.lang())


@guard.callback(
    Output("institution-go", "pathname"),
    Input("institution-pick", "value"),
    permission="view_leads",
)
def _go(code: str | None) -> str:
    if not code:
        raise dash.exceptions.PreventUpdate
    return f"/institution/{code}"


def _indicator_format(name: str) -> tuple[str, str]:
    """(plotly's number format, its prefix) of an indicator's values."""
    if name in iv.SHARE_INDICATORS:
        return ".1%", ""
    return ",.2f", "¥" if name in iv.AMOUNT_INDICATORS else ""


def _peer_figure(profile: iv.InstitutionProfile, lang: str) -> dict[str, Any]:
    """One box per indicator of the peer group, the institution as a red diamond; each
    point's hover names the institution and its value."""
    values = profile.peer_values
    data: list[dict[str, Any]] = []
    layout = pc.side_by_side([pc.cell(lbl) for lbl in profile.peers["label"]])
    for i, name in enumerate(iv.INDICATORS, start=1):
        suffix = str(i) if i > 1 else ""
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        fmt, prefix = _indicator_format(name)
        hover = f"%{{text}}: {prefix}%{{y:{fmt}}}<extra></extra>"
        layout[f"yaxis{suffix}"]["tickformat"] = ".0%" if name in iv.SHARE_INDICATORS else ","
        group = values.filter(values["indicator"] == name)
        data.append(
            {
                "type": "box",
                "y": group["value"].to_list(),
                "text": group["fixmedins_name"].to_list(),
                "boxpoints": "all",
                "jitter": 0.4,
                "marker": {"color": "#7a8ca3", "size": 5},
                "name": "",
                "showlegend": False,
                "hovertemplate": hover,
                **axes,
            }
        )
        own = group.filter(group["is_self"])
        data.append(
            {
                "type": "scatter",
                "x": [""] * own.height,
                "y": own["value"].to_list(),
                "text": own["fixmedins_name"].to_list(),
                "mode": "markers",
                "marker": {"color": "#c0392b", "size": 13, "symbol": "diamond"},
                "name": profile.header["fixmedins_name"] or "",
                "showlegend": i == 1,
                "hovertemplate": hover,
                **axes,
            }
        )
    title = context.t("institution.peer_group_red_institution")
    return pc.plain_figure(data, layout, title, height=380)


FIGURES = ("value", "numerator", "denominator", "peer_median", "p90")


def _peer_rows(peers: pl.DataFrame) -> pl.DataFrame:
    """The peer table's figures as text: shares as percentages, yuan to the fen, counts
    whole, other ratios to two places."""

    def figure(name: str, value: float | None, term: str | None = None) -> str:
        if value is None:
            return ""
        if term is not None:
            return yuan(value) if term in iv.AMOUNT_TERMS else f"{value:,.0f}"
        if name in iv.SHARE_INDICATORS:
            return pc.percent(value)
        return yuan(value) if name in iv.AMOUNT_INDICATORS else f"{value:,.2f}"

    rows = []
    for r in peers.iter_rows(named=True):
        name = r["indicator"]
        _zh, _en, num, den = iv.INDICATORS[name]
        rows.append(
            {
                **r,
                "value": figure(name, r["value"]),
                "numerator": figure(name, r["numerator"], num),
                "denominator": figure(name, r["denominator"], den),
                "peer_median": figure(name, r["peer_median"]),
                "p90": figure(name, r["p90"]),
            }
        )
    return pl.DataFrame(rows, schema={**peers.schema, **dict.fromkeys(FIGURES, pl.String)})


def _trend_figure(profile: iv.InstitutionProfile, lang: str) -> dict[str, Any]:
    """In-scope amount (bars) and amount at risk per month on the left axis, the cost
    per visit on the right; months and amounts in the screen's language."""
    t, trend = context.t, profile.trend
    months = month_labels(trend["month"].to_list(), lang)
    money = "%{x}<br>%{fullData.name}: ¥%{y:,.2f}<extra></extra>"
    data = [
        {
            "type": "bar",
            "x": months,
            "y": trend["inscp_amt"].to_list(),
            "name": t("institution.scope_amount"),
            "marker": {"color": "#7a8ca3"},
            "hovertemplate": money,
        },
        {
            "type": "scatter",
            "x": months,
            "y": trend["amount_at_risk"].to_list(),
            "customdata": trend["n_findings"].to_list(),
            "name": t("institution.amount_at_risk"),
            "mode": "lines+markers",
            "marker": {"color": "#c0392b"},
            "hovertemplate": "%{x}<br>%{fullData.name}: ¥%{y:,.2f}<br>"
            + t("institution.hover_leads", n="%{customdata}")
            + "<extra></extra>",
        },
        {
            "type": "scatter",
            "x": months,
            "y": trend["cost_per_visit"].to_list(),
            "name": t("institution.cost_per_visit"),
            "mode": "lines+markers",
            "line": {"dash": "dot"},
            "yaxis": "y2",
            "hovertemplate": money,
        },
    ]
    layout = {  # as make_subplots lays out a secondary y axis
        "xaxis": {"anchor": "y", "domain": [0.0, 0.94], "type": "category"},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
        "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right"},
    }
    fig = pc.plain_figure(data, layout, t("institution.monthly_trend"))
    amount_axis(fig, lang, title=t("institution.amount"))
    return amount_axis(fig, lang, axis="yaxis2", title=t("institution.cost_per_visit"))


@guard.layout
def layout(fixmedins_code: str = "", **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    opened = profile_page.open_profile(
        "institution.institution",
        lambda view, store, lang: iv.institution_profile(view, fixmedins_code, store, lang=lang),
    )
    if isinstance(opened, html.Div):
        return opened
    view, profile = opened
    h = profile.header
    quality = profile.quality or {}
    doctor_link = {"dr_codg": lambda r: f"/doctor/{fixmedins_code}/{r['dr_codg']}"}
    return html.Div(
        [
            html.Div(
                [
                    dcc.Link(t("institution.other_institutions"), href="/institution"),
                    dcc.Link(
                        t("institution.all_leads_in_queue"),
                        href=cq.queue_link(institution=fixmedins_code),
                        id="institution-all-leads",
                        className="button-link",
                    ),
                ],
                className="toolbar",
            ),
            html.H1(
                pc.named(h["fixmedins_name"], h["fixmedins_code"], lang), id="institution-title"
            ),
            pc.message(
                t(
                    "institution.peer_group_agreement_run",
                    area=h["admdvs_name"] or "",
                    peer_group=h["peer_group_label"],
                    settings=("、" if lang == "zh" else ", ").join(h["setting_labels"]),
                    agreement=h["agrmt_no"] or "—",
                    scored=minute(view.manifest.get("finished_at"), "—"),
                )
            ),
            pc.graph(_peer_figure(profile, lang), "institution-peers"),
            pc.table(
                _peer_rows(profile.peers),
                [
                    "label",
                    "value",
                    "numerator",
                    "denominator",
                    "n_peers",
                    "peer_median",
                    "p90",
                    "percentile",
                ],
                lang,
                labels=PEER_LABELS,
                table_id="institution-peer-table",
                shares=("percentile",),
            ),
            pc.graph(_trend_figure(profile, lang), "institution-trend"),
            pc.table(
                profile.trend.with_columns(
                    month=pl.Series(month_labels(profile.trend["month"].to_list(), lang))
                ),
                [
                    "month",
                    "n_settlements",
                    "inscp_amt",
                    "cost_per_visit",
                    "n_findings",
                    "amount_at_risk",
                ],
                lang,
                labels=PEER_LABELS,
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H2(t("institution.top_items")),
                            pc.table(
                                profile.items,
                                [
                                    "med_list_codg",
                                    "item_name",
                                    "n_lines",
                                    "inscp_amt",
                                    "share",
                                    "n_findings",
                                ],
                                lang,
                                labels=PEER_LABELS,
                                shares=("share",),
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.H2(t("institution.top_doctors")),
                            pc.table(
                                profile.doctors,
                                ["dr_codg", "dr_name", "n_settlements", "inscp_amt", "n_findings"],
                                lang,
                                labels=PEER_LABELS,
                                links=doctor_link,
                                table_id="institution-doctors",
                            ),
                        ]
                    ),
                ],
                className="two-columns",
            ),
            *pc.leads_section(
                profile.leads_by_rule,
                profile.leads,
                profile.n_leads,
                lang,
                "institution-leads",
                queue_href=cq.queue_link(institution=fixmedins_code),
            ),
            html.H2(t("institution.data_quality")),
            pc.message(t("institution.data_quality_findings_no_leads")),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3(t("institution.data_quality_findings_rule")),
                            _quality_findings(profile, lang),
                            dcc.Link(
                                t("institution.findings_lines_export"),
                                href=f"/quality?institution={fixmedins_code}",
                                id="institution-quality-link",
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.H3(t("institution.uploads")),
                            pc.table(
                                _quality_rows(quality, lang),
                                ["measure", "value"],
                                lang,
                                labels=PEER_LABELS,
                            ),
                        ]
                    ),
                ],
                className="two-columns",
            ),
        ]
    )


def _quality_findings(profile: iv.InstitutionProfile, lang: str) -> Any:
    found = profile.quality_findings
    if found.height == 0:
        return pc.message(context.t("institution.no_data_quality_findings_run"))
    return pc.table(
        found,
        ["rule_name", "n_findings", "n_settlements", "share_of_settlements"],
        lang,
        labels=qv.LABELS,
        table_id="institution-quality-findings",
        shares=("share_of_settlements",),
    )


PEER_LABELS: dict[str, tuple[str, str]] = {
    "label": ("指标", "indicator"),
    "value": ("本机构", "this institution"),
    "numerator": ("分子", "numerator"),
    "denominator": ("分母", "denominator"),
    "n_peers": ("同类机构数", "peers"),
    "peer_median": ("同类中位数", "peer median"),
    "p90": ("同类P90", "peer P90"),
    "percentile": ("百分位", "percentile"),
    "cost_per_visit": ("次均费用(元)", "cost per visit (yuan)"),
    "n_patients": ("人数", "patients"),
    "med_list_codg": ("医疗目录编码", "item code"),
    "item_name": ("项目名称", "item"),
    "n_lines": ("明细条数", "lines"),
    "share": ("金额占比", "share"),
    "dr_codg": ("医师编码", "doctor code"),
    "dr_name": ("医师姓名", "doctor"),
    "n_confirmed": ("确认违规", "confirmed"),
    "n_dismissed": ("排除疑点", "dismissed"),
    "n_open": ("未结", "open"),
    "measure": ("项目", "measure"),
    "rank": ("风险排名", "risk rank"),
    "risk_score": ("风险分", "risk score"),
    "reasons": ("主要原因", "main reasons"),
}

QUALITY: dict[str, tuple[str, str]] = {c: COLUMNS[c] for c in qv.LAKE_COLUMNS}
"""The lake's data-quality figures of the institution, as the data-quality page names them."""


def _quality_rows(quality: dict, lang: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "measure": [v[1] if lang == "en" else v[0] for v in QUALITY.values()],
            "value": [_quality_value(k, quality.get(k), lang) for k in QUALITY],
        }
    )


def _quality_value(measure: str, value: object, lang: str) -> str:
    """A figure as the data-quality page shows it: shares as percentages, the quarantine
    reasons in words (not ``bad_code:3``)."""
    if isinstance(value, float):
        return pc.percent(value)
    if measure == "quarantined_by_reason":
        return qv.reasons_text(value, lang) or ""
    return pc.cell(value)
