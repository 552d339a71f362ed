"""医师画像 Doctor profile: outpatient visits per working day against the peers' usual day,
billing by charge class against the peers' mix, and the leads the doctor answers for.

Reached from an institution's top doctors; every figure is
:mod:`hrss_fraud.outputs.doctor_view`'s.
"""

from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import dcc, html

from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.engine.runs import RunError
from hrss_fraud.outputs import doctor_view as dv

dash.register_page(
    __name__,
    path_template="/doctor/<fixmedins_code>/<dr_codg>",
    name="医师画像",
    name_en="Doctor",
    nav=False,
    permission="view_leads",
)

LABELS: dict[str, tuple[str, str]] = {
    "day": ("日期", "day"),
    "n_visits": ("门诊人次", "visits"),
    "n_patients": ("人数", "patients"),
    "label": ("收费类别", "charge class"),
    "n_lines": ("明细条数", "lines"),
    "share": ("本医师占比", "share"),
    "peer_share": ("同类医师占比", "peers' share"),
}


def _volume_figure(p: dv.DoctorProfile) -> go.Figure:
    t = context.t
    fig = go.Figure(
        go.Bar(
            x=p.days["day"].to_list(),
            y=p.days["n_visits"].to_list(),
            name=t("本医师日门诊人次", "visits per day"),
            marker_color="#2e86c1",
        )
    )
    for key, text, dash_style in (
        ("usual_day", t("同类医师常见日", "peers' usual day"), "dash"),
        ("p90_day", t("同类P90", "peers' P90"), "dot"),
    ):
        if p.usual[key] is not None:
            fig.add_hline(
                y=p.usual[key],
                line={"color": "#c0392b", "dash": dash_style},
                annotation_text=f"{text} {p.usual[key]:g}",
            )
    return pc.figure_layout(fig, t("日门诊量", "Daily volume"))


def _mix_figure(p: dv.DoctorProfile) -> go.Figure:
    t = context.t
    labels = p.mix["label"].to_list()
    fig = go.Figure(
        [
            go.Bar(x=labels, y=p.mix["share"].to_list(), name=t("本医师", "this doctor")),
            go.Bar(x=labels, y=p.mix["peer_share"].to_list(), name=t("同类医师", "peer doctors")),
        ]
    )
    fig.update_yaxes(tickformat=".0%")
    return pc.figure_layout(fig, t("收费类别构成", "Item mix by charge class"))


@guard.layout
def layout(fixmedins_code: str = "", dr_codg: str = "", **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    try:
        view = context.runs().latest()
        p = dv.doctor_profile(view, fixmedins_code, dr_codg, context.store(), lang=lang)
    except (RunError, LookupError) as e:
        return html.Div([html.H1(t("医师画像", "Doctor")), pc.message(str(e), error=True)])
    h, u = p.header, p.usual
    return html.Div(
        [
            dcc.Link(
                f"← {h['fixmedins_name'] or fixmedins_code}",
                href=f"/institution/{fixmedins_code}",
            ),
            html.H1(f"{h['dr_name'] or ''}（{dr_codg}）", id="doctor-title"),
            pc.message(
                t(
                    f"工作日 {p.days.height} 天，日门诊人次中位数 {u['own_median_day']}、最多 "
                    f"{u['own_max_day']}；同类 {u['n_doctors']} 名医师 {u['n_days']} 个工作日的"
                    f"中位数 {u['usual_day']}、P90 {u['p90_day']}",
                    f"{p.days.height} working days, median {u['own_median_day']} and at most "
                    f"{u['own_max_day']} visits a day; {u['n_doctors']} peer doctors over "
                    f"{u['n_days']} working days: median {u['usual_day']}, P90 {u['p90_day']}",
                )
            ),
            pc.graph(_volume_figure(p), "doctor-volume"),
            pc.graph(_mix_figure(p), "doctor-mix"),
            pc.table(
                p.mix, ["label", "n_lines", "inscp_amt", "share", "peer_share"], lang, labels=LABELS
            ),
            *pc.leads_section(p.leads_by_rule, p.leads, p.n_leads, lang, "doctor-leads"),
        ]
    )
