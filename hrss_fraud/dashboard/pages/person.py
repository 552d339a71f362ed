"""参保人 Person timeline: a search box, and one insured person's visits, purchases and
stays on a time axis with their leads, identity fields masked for roles that may not see
them. Every opening is written to the audit log by :func:`person_view.open_person`."""

from __future__ import annotations

import dash
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State, dcc, html

from hrss_fraud.dashboard import context, guard, profile_page
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.charts import month_axis
from hrss_fraud.model.numbers import money
from hrss_fraud.outputs import case_queue as cq
from hrss_fraud.outputs import person_view as pv
from hrss_fraud.outputs.labels import code_label
from hrss_fraud.outputs.profile_data import SETTINGS, pick

profile_page.register_finder(
    "person_search", "/person", "参保人", "Persons", 30, lambda **q: search(**q)
)
profile_page.register_page(__name__, "/person/<psn_no>", "参保人", "Person")

IDENTITY: dict[str, tuple[str, str]] = {
    "psn_name": ("姓名", "name"),
    "certno": ("证件号码", "ID number"),
    "gend": ("性别", "sex"),
    "brdy": ("出生日期", "born"),
    "insutype": ("险种类型", "insurance"),
    "emp_name": ("单位名称", "employer"),
    "tel": ("联系电话", "telephone"),
    "addr": ("地址", "address"),
    "die_date": ("死亡日期", "died"),
}
LABELS: dict[str, tuple[str, str]] = {
    "setting_label": ("就医方式", "setting"),
    "begntime": ("开始时间", "from"),
    "endtime": ("结束时间", "to"),
    "dise_name": ("诊断", "diagnosis"),
    "valid": ("有效", "valid"),
    "n_findings": ("疑点数", "leads"),
}
SETTLEMENT_COLUMNS = [
    "setl_id",
    "fixmedins_name",
    "setting_label",
    "begntime",
    "endtime",
    "dise_name",
    "inscp_amt",
    "valid",
    "n_findings",
    "amount_at_risk",
]
COLORS = {"op": "#2e86c1", "ip": "#8e44ad", "ph": "#16a085"}


def search(**query: str) -> html.Div:
    """A search box that suggests persons by a part of their number, or of their name for
    a role that may see names (:func:`person_view.find_persons`); ``?psn_no=`` opens that
    person's timeline at this address."""
    t, user = context.t, context.user()
    asked = (query.get("psn_no") or query.get("person") or "").strip()
    if asked:
        return layout(psn_no=asked)
    by_name = bool(user and user.can("view_identity"))
    hint = "person.enter_name_or_number" if by_name else "person.enter_person_number_open_timeline"
    return html.Div(
        [
            html.H1(t("person.persons")),
            pc.message(t(hint)),
            html.Div(
                [
                    dcc.Dropdown(
                        id="person-find",
                        options=[],
                        searchable=True,
                        placeholder=t(
                            "person.name_or_number" if by_name else "person.person_number"
                        ),
                        style={"minWidth": "320px"},
                    ),
                    dcc.Input(id="person-psn", type="text", placeholder=t("person.person_number")),
                    html.Button(t("person.open"), id="person-open", className="primary"),
                ],
                className="toolbar",
            ),
            dcc.Location(id="person-go", refresh="callback-nav"),
        ]
    )


@guard.callback(
    Output("person-find", "options"),
    Input("person-find", "search_value"),
    State("person-find", "value"),
    State("person-find", "options"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _suggest(text: str | None, value: str | None, options: list[dict] | None):
    if not (text or "").strip():
        raise dash.exceptions.PreventUpdate
    user = context.user()
    found = pv.find_persons(context.runs().latest(), text, user.role if user else None)
    kept = [o for o in options or [] if o.get("value") == value]
    return kept + [{"label": lb, "value": p} for p, lb in found.iter_rows() if p != value]


@guard.callback(
    Output("person-go", "pathname", allow_duplicate=True),
    Input("person-find", "value"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _picked(psn_no: str | None) -> str:
    if not psn_no:
        raise dash.exceptions.PreventUpdate
    return f"/person/{psn_no}"


@guard.callback(
    Output("person-go", "pathname"),
    Input("person-open", "n_clicks"),
    State("person-psn", "value"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _go(_n: int | None, psn_no: str | None) -> str:
    if not (psn_no or "").strip():
        raise dash.exceptions.PreventUpdate
    return f"/person/{psn_no.strip()}"


def _hover(r: dict, lang: str) -> str:
    """A settlement's hover text: when and where, then each figure with its label."""
    t = context.t
    lines = [
        f"{pc.cell(r['begntime'])} {r['fixmedins_name'] or r['fixmedins_code']}",
        t("person.hover_diagnosis", name=r["dise_name"] or "—"),
        t("person.hover_amount", amount=money(r["inscp_amt"])),
    ]
    if r["n_findings"]:
        lines.append(t("person.hover_leads", n=r["n_findings"], amount=money(r["amount_at_risk"])))
    return "<br>".join(lines)


def _timeline_figure(events: pl.DataFrame, lang: str) -> go.Figure:
    """Each setting a row; a stay a bar from admission to discharge, a visit or purchase a
    dot; settlements with leads ringed in red, how many and how much in the hover text."""
    fig = go.Figure()
    for setting, pair in SETTINGS.items():
        rows = events.filter(pl.col("setting") == setting)
        if rows.is_empty():
            continue
        label = pick(pair, lang)
        if setting == "ip":
            xs, ys = [], []
            for b, e in rows.select("begntime", "endtime").iter_rows():
                xs += [b, e, None]
                ys += [label, label, None]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line={"width": 10, "color": COLORS[setting]},
                    name=label,
                    hoverinfo="skip",
                )
            )
        flagged = rows["n_findings"] > 0
        fig.add_trace(
            go.Scatter(
                x=rows["begntime"].to_list(),
                y=[label] * rows.height,
                mode="markers",
                marker={
                    "size": 11,
                    "color": COLORS[setting],
                    "line": {
                        "width": [3 if f else 0 for f in flagged],
                        "color": "#c0392b",
                    },
                },
                text=[_hover(r, lang) for r in rows.iter_rows(named=True)],
                hoverinfo="text",
                name=label,
                showlegend=setting != "ip",
            )
        )
    title = context.t("person.timeline_red_ring_has_leads")
    return month_axis(pc.figure_layout(fig, title, height=300), lang)


@guard.layout
def layout(psn_no: str = "", **_query: str) -> html.Div:
    t, lang, user = context.t, context.lang(), context.user()
    if user is None:
        return html.Div()
    opened = profile_page.open_profile(
        "person.person",
        lambda view, store, lang: pv.open_person(view, store, psn_no, user, lang=lang),
    )
    if isinstance(opened, html.Div):
        return opened
    _view, rec = opened
    who = rec.identity or {}
    identity = pl.DataFrame(
        {
            "field": [pick(v, lang) for v in IDENTITY.values()],
            "value": [code_label(k, pc.cell(who.get(k)) or None, lang) for k in IDENTITY],
        }
    )
    masked = t("person.masked") if rec.masked else ""
    return html.Div(
        [
            html.Div(
                [
                    dcc.Link(t("person.other_persons"), href="/person"),
                    dcc.Link(
                        t("person.all_leads_in_queue"),
                        href=cq.queue_link(person=psn_no),
                        id="person-all-leads",
                        className="button-link",
                    ),
                ],
                className="toolbar",
            ),
            html.H1(f"{t('person.person')} {psn_no}{masked}", id="person-title"),
            pc.table(
                identity,
                ["field", "value"],
                lang,
                labels={"field": ("字段", "field"), "value": ("值", "value")},
                table_id="person-identity",
            ),
            pc.graph(_timeline_figure(rec.timeline, lang), "person-timeline"),
            html.H2(t("person.settlements", height=rec.timeline.height)),
            pc.table(
                rec.timeline,
                SETTLEMENT_COLUMNS,
                lang,
                labels=LABELS,
                links={
                    "fixmedins_name": lambda r: f"/institution/{r['fixmedins_code']}",
                    "n_findings": lambda r: (
                        cq.queue_link(institution=r["fixmedins_code"], person=psn_no)
                        if r["n_findings"]
                        else None
                    ),
                },
                table_id="person-settlements",
            ),
            html.H2(pc.leads_heading(rec.n_leads, rec.leads.height, lang)),
            dcc.Link(
                t("profile_components.all_leads_in_queue", n=rec.n_leads),
                href=cq.queue_link(person=psn_no),
                id="person-leads-queue",
            ),
            pc.lead_grid(rec.leads, lang, "person-leads"),
        ]
    )
