"""医师画像 Doctor profile: outpatient visits per working day against the peers' usual day,
billing by charge class against the peers' mix, and the leads the doctor answers for.

Reached from an institution's top doctors; every figure is
:mod:`hrss_fraud.outputs.doctor_view`'s.
"""

from __future__ import annotations

import plotly.graph_objects as go
from dash import dcc, html

from hrss_fraud.dashboard import context, guard, profile_page
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.charts import month_axis
from hrss_fraud.outputs import case_queue as cq
from hrss_fraud.outputs import doctor_view as dv

profile_page.register_page(__name__, "/doctor/<fixmedins_code>/<dr_codg>", "医师画像", "Doctor")

LABELS: dict[str, tuple[str, str]] = {
    "day": ("日期", "day"),
    "n_visits": ("门诊人次", "visits"),
    "n_patients": ("人数", "patients"),
    "label": ("收费类别", "charge class"),
    "n_lines": ("明细条数", "lines"),
    "share": ("本医师占比", "share"),
    "peer_share": ("同类医师占比", "peers' share"),
}


def _volume_figure(p: dv.DoctorProfile, lang: str) -> go.Figure:
    """Visits per working day, with the peers' usual day and their P90 as lines."""
    t = context.t
    fig = go.Figure(
        go.Bar(
            x=p.days["day"].to_list(),
            y=p.days["n_visits"].to_list(),
            customdata=p.days["n_patients"].to_list(),
            name=t("doctor.visits_per_day"),
            marker_color="#2e86c1",
            hovertemplate="%{x}<br>"
            + t("doctor.hover_day", visits="%{y}", patients="%{customdata}")
            + "<extra></extra>",
        )
    )
    for key, text, dash_style in (
        ("usual_day", t("doctor.peers_usual_day"), "dash"),
        ("p90_day", t("doctor.peers_p90"), "dot"),
    ):
        if p.usual[key] is not None:
            fig.add_hline(
                y=p.usual[key],
                line={"color": "#c0392b", "dash": dash_style},
                annotation_text=f"{text} {p.usual[key]:g}",
            )
    fig = pc.figure_layout(fig, t("doctor.daily_volume"))
    return month_axis(fig, lang).update_xaxes(hoverformat="%Y-%m-%d")


def _mix_figure(p: dv.DoctorProfile) -> go.Figure:
    """The doctor's billing by charge class beside the peer doctors', as shares."""
    t = context.t
    labels = p.mix["label"].to_list()
    share = "%{x}<br>%{fullData.name}: %{y:.1%}<extra></extra>"
    fig = go.Figure(
        [
            go.Bar(
                x=labels, y=p.mix["share"].to_list(), name=t("doctor.doctor"), hovertemplate=share
            ),
            go.Bar(
                x=labels,
                y=p.mix["peer_share"].to_list(),
                name=t("doctor.peer_doctors"),
                hovertemplate=share,
            ),
        ]
    )
    fig.update_yaxes(tickformat=".0%")
    return pc.figure_layout(fig, t("doctor.item_mix_charge_class"))


def _counts(usual: dict) -> dict[str, str]:
    """The day counts as a sentence says them: ``1.5``, ``3`` (not ``3.0``), ``—`` for none."""
    return {
        k: "—" if v is None else f"{v:g}" if isinstance(v, float) else f"{v:,}"
        for k, v in usual.items()
    }


@guard.layout
def layout(fixmedins_code: str = "", dr_codg: str = "", **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    opened = profile_page.open_profile(
        "doctor.doctor_profile",
        lambda view, store, lang: dv.doctor_profile(
            view, fixmedins_code, dr_codg, store, lang=lang
        ),
    )
    if isinstance(opened, html.Div):
        return opened
    _view, p = opened
    h, u = p.header, p.usual
    return html.Div(
        [
            html.Div(
                [
                    dcc.Link(
                        f"← {h['fixmedins_name'] or fixmedins_code}",
                        href=f"/institution/{fixmedins_code}",
                    ),
                    dcc.Link(
                        t("doctor.all_leads_in_queue"),
                        href=cq.queue_link(institution=fixmedins_code, doctor=dr_codg),
                        id="doctor-all-leads",
                    ),
                ],
                className="toolbar",
            ),
            html.H1(pc.named(h["dr_name"], dr_codg, lang), id="doctor-title"),
            pc.message(
                t("doctor.working_days_median_most_visits", height=p.days.height, **_counts(u))
            ),
            pc.graph(_volume_figure(p, lang), "doctor-volume"),
            pc.graph(_mix_figure(p), "doctor-mix"),
            pc.table(
                p.mix,
                ["label", "n_lines", "inscp_amt", "share", "peer_share"],
                lang,
                labels=LABELS,
                shares=("share", "peer_share"),
                table_id="doctor-mix-table",
            ),
            *pc.leads_section(
                p.leads_by_rule,
                p.leads,
                p.n_leads,
                lang,
                "doctor-leads",
                queue_href=cq.queue_link(institution=fixmedins_code, doctor=dr_codg),
            ),
        ]
    )
