"""The evaluation's figures — recall per scheme and seed, the ranking's ROC curve, the
inspection list's precision by list size, false-positive rates — and their HTML with
plotly.js embedded: the centre's network has no internet, so nothing may come from a CDN."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from hrss_fraud.evaluation.labels import Lang, label
from hrss_fraud.evaluation.report import BEYOND, GOALS, SCHEME_RECALL, Evaluation, Goal
from hrss_fraud.evaluation.report import precision_curve as _precision_curve
from hrss_fraud.evaluation.report import roc_points as _roc_points

#: fonts that draw Chinese on the machines the centre uses, first found wins
FONT = "Noto Sans CJK SC, WenQuanYi Zen Hei, Microsoft YaHei, SimHei, sans-serif"
CONFIG = {"displaylogo": False, "responsive": True}
_FP_GOAL = next(g for g in GOALS if g.metric == "fp_rate_clean_persons")
_PAK_GOAL = next(g for g in GOALS if g.metric == "precision_at_k")

_T = {
    "zh": {
        "recall": "各方案召回率（按种子）",
        "beyond": f"固定规则遗漏的方案（目标 {SCHEME_RECALL.text}）",
        "rule": "固定规则可查的方案",
        "seed": "种子 {s}",
        "goal": "目标 {g}",
        "roc": "机构风险排名的ROC曲线",
        "fpr": "清白机构中被排在前面的比例（假阳性率）",
        "tpr": "违规机构中被排在前面的比例（真阳性率）",
        "chance": "随机排序",
        "pak": "检查名单精确率随名单长度的变化",
        "share": "检查名单占机构的比例",
        "k10": "K = 10%",
        "fp": "清白对象误报率",
        "fp_persons": f"清白参保人（目标 {_FP_GOAL.text}）",
        "fp_inst": "清白机构（进入前10%名单）",
    },
    "en": {
        "recall": "Recall per scheme and seed",
        "beyond": f"Schemes fixed rules miss (goal {SCHEME_RECALL.text})",
        "rule": "Schemes fixed rules catch",
        "seed": "seed {s}",
        "goal": "goal {g}",
        "roc": "ROC curve of the institution risk ranking",
        "fpr": "False-positive rate (clean institutions ranked above)",
        "tpr": "True-positive rate (fraudulent institutions ranked above)",
        "chance": "random order",
        "pak": "Precision of the inspection list by its size",
        "share": "List size, share of institutions",
        "k10": "K = 10%",
        "fp": "False-positive rates among the clean",
        "fp_persons": f"Clean persons (goal {_FP_GOAL.text})",
        "fp_inst": "Clean institutions (in the top 10%)",
    },
}


def _layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(title=title, font_family=FONT, template="plotly_white", legend_title=None)
    return fig


def _goal_line(fig: go.Figure, goal: Goal, lang: Lang, **where: int) -> None:
    text = _T[lang]["goal"].format(g=goal.text)
    fig.add_hline(
        y=goal.threshold, line_dash="dash", line_color="firebrick", annotation_text=text, **where
    )


def recall_figure(schemes: pl.DataFrame, lang: Lang = "zh") -> go.Figure:
    """Bars of recall at each scheme's own unit, one colour a seed; the schemes fixed rules
    miss on top with their goal line."""
    t = _T[lang]
    name = "scheme_zh" if lang == "zh" else "scheme"
    fig = make_subplots(
        rows=2, cols=1, subplot_titles=(t["beyond"], t["rule"]), vertical_spacing=0.25
    )
    found = f"{label('found', lang)}/{label('injected', lang)}"
    hover = (
        f"%{{x}}<br>{label('recall', lang)} %{{y}}<br>{label('unit', lang)} %{{customdata[0]}}"
        f"<br>{found} %{{customdata[1]}}/%{{customdata[2]}}"
        f"<br>{label('institution_recall', lang)} %{{customdata[3]}}<extra></extra>"
    )
    for i, (seed,) in enumerate(schemes.select("seed").unique(maintain_order=True).iter_rows()):
        for row, part in enumerate(
            (pl.col("family") == BEYOND, pl.col("family") != BEYOND), start=1
        ):
            d = schemes.filter(part, pl.col("seed").eq_missing(seed)).sort("scheme")
            fig.add_bar(
                x=d[name].fill_null(d["scheme"]).to_list(),
                y=d["recall"].to_list(),
                customdata=d.select("unit", "found", "injected", "institution_recall").rows(),
                hovertemplate=hover,
                name=t["seed"].format(s=seed),
                legendgroup=str(seed),
                showlegend=row == 1,
                marker_color=_colour(i),
                row=row,
                col=1,
            )
    _goal_line(fig, SCHEME_RECALL, lang, row=1, col=1)
    fig.update_yaxes(range=[0, 1.05], title_text=label("recall", lang))
    fig.update_layout(barmode="group", height=800)
    return _layout(fig, t["recall"])


def roc_figure(evaluation: Evaluation, lang: Lang = "zh") -> go.Figure:
    """Each seed's ROC curve of the institution ranking, its AUC in the legend."""
    t = _T[lang]
    points = _roc_points(evaluation.rankings)
    auc = dict(evaluation.seeds.select("seed", "roc_auc").iter_rows())
    fig = go.Figure()
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", line_dash="dot", line_color="grey", name=t["chance"]
    )
    for i, (seed,) in enumerate(points.select("seed").unique(maintain_order=True).iter_rows()):
        d = points.filter(pl.col("seed").eq_missing(seed))
        fig.add_scatter(
            x=d["fpr"].to_list(),
            y=d["tpr"].to_list(),
            mode="lines+markers",
            name=f"{t['seed'].format(s=seed)} (AUC {auc.get(seed)})",
            line_color=_colour(i),
        )
    fig.update_xaxes(range=[0, 1], title_text=t["fpr"])
    fig.update_yaxes(range=[0, 1.02], title_text=t["tpr"], scaleanchor="x")
    return _layout(fig, t["roc"])


def precision_at_k_figure(evaluation: Evaluation, lang: Lang = "zh") -> go.Figure:
    """Precision of the top-k list for every k, per seed, with K = 10 % and the goal marked."""
    t = _T[lang]
    curve = _precision_curve(evaluation.rankings)
    fig = go.Figure()
    for i, (seed,) in enumerate(curve.select("seed").unique(maintain_order=True).iter_rows()):
        d = curve.filter(pl.col("seed").eq_missing(seed))
        fig.add_scatter(
            x=d["share"].to_list(),
            y=d["precision"].to_list(),
            customdata=d["k"].to_list(),
            hovertemplate="k = %{customdata}<br>%{x:.1%}<br>%{y:.3f}<extra></extra>",
            mode="lines+markers",
            name=t["seed"].format(s=seed),
            line_color=_colour(i),
        )
    fig.add_vline(x=0.1, line_dash="dot", line_color="grey", annotation_text=t["k10"])
    _goal_line(fig, _PAK_GOAL, lang)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=t["share"])
    fig.update_yaxes(range=[0, 1.05], title_text=label("precision", lang))
    return _layout(fig, t["pak"])


def fp_figure(evaluation: Evaluation, lang: Lang = "zh") -> go.Figure:
    """False-positive rates per seed among clean persons (with the goal) and institutions."""
    t = _T[lang]
    seeds = evaluation.seeds
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t["fp_persons"], t["fp_inst"]))
    x = [t["seed"].format(s=s) for s in seeds["seed"].to_list()]
    for col, metric in enumerate(("fp_rate_clean_persons", "fp_rate_clean_institutions"), 1):
        fig.add_bar(
            x=x,
            y=seeds[metric].to_list(),
            name=label(metric, lang),
            marker_color=_colour(col - 1),
            texttemplate="%{y:.2%}",
            row=1,
            col=col,
        )
    _goal_line(fig, _FP_GOAL, lang, row=1, col=1)
    fig.update_yaxes(tickformat=".2%", rangemode="tozero")
    fig.update_layout(showlegend=False)
    return _layout(fig, t["fp"])


def _colour(i: int) -> str:
    return qualitative.Plotly[i % len(qualitative.Plotly)]


def figures(evaluation: Evaluation, lang: Lang = "zh") -> dict[str, go.Figure]:
    """Every figure of the evaluation by file name (without ``.html``)."""
    return {
        "recall_per_scheme": recall_figure(evaluation.schemes, lang),
        "roc_curve": roc_figure(evaluation, lang),
        "precision_at_k": precision_at_k_figure(evaluation, lang),
        "fp_rates": fp_figure(evaluation, lang),
    }


def to_html(fig: go.Figure, *, full_html: bool = True) -> str:
    """The figure as HTML that works offline: plotly.js embedded, no MathJax (its only
    source would be a CDN)."""
    return fig.to_html(
        include_plotlyjs=True, include_mathjax=False, full_html=full_html, config=CONFIG
    )


class Inline:
    """A figure for a notebook's output: self-contained HTML, shown the same in Jupyter and
    in a notebook executed headless, with no CDN (plotly's own notebook renderers fetch
    MathJax or plotly.js from one)."""

    def __init__(self, fig: go.Figure) -> None:
        self.fig = fig

    def _repr_html_(self) -> str:
        return to_html(self.fig, full_html=False)
