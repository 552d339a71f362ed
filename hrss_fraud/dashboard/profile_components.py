"""Pieces the profile, rule and audit pages draw alike: a table from a frame with its
headers in the chosen language, a lead list whose rows link to the people and leads
behind them, and a figure with the dashboard's look.

Plain functions of frames, so a page's callback stays a line or two and every number a
table shows is a value of the frame the logic module returned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import dash_ag_grid as dag
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from dash import dcc, html

from hrss_fraud.dashboard import context
from hrss_fraud.dashboard.grid_locale import grid_locale
from hrss_fraud.model.numbers import yuan
from hrss_fraud.outputs.labels import AMOUNT_COLUMNS, column_label, with_labels

CJK_FONT = "Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif"


def cell(value: Any) -> str:
    """A value as a table shows it: times to the minute, ratios to two or three places,
    lists joined, nothing for null (amounts: :func:`table` knows its columns of yuan)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.3f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def named(name: str | None, code: str, lang: str) -> str:
    """A unit's name with its code, as a title says it: ``永宁县中医医院（H0002）`` in
    Chinese, ``永宁县中医医院 (H0002)`` in English; the code alone without a name."""
    if not name:
        return code
    return f"{name}（{code}）" if lang == "zh" else f"{name} ({code})"


def percent(value: float | None) -> str:
    """A share (0–1) as ``12.5%``; nothing for null."""
    return "" if value is None else f"{value:.1%}"


def table(
    df: pl.DataFrame,
    columns: Sequence[str],
    lang: str,
    *,
    labels: Mapping[str, tuple[str, str]] | None = None,
    links: Mapping[str, Callable[[dict[str, Any]], str | None]] | None = None,
    table_id: str | None = None,
    shares: Collection[str] = (),
) -> html.Table:
    """``columns`` of ``df`` as an HTML table as a reader sees it: codes by their labels
    and true/false as 是/否 (:func:`labels.with_labels`), yuan to the fen (the data model's
    amounts and the columns labelled (元)), the ``shares`` as percentages. ``labels``
    overrides the shared column labels, ``links`` maps a column to the address its cell
    links to (given the row's values before labelling)."""

    def head(col: str, which: str = lang) -> str:
        if labels and col in labels:
            return labels[col][1] if which == "en" else labels[col][0]
        return column_label(col, which)

    def show(col: str) -> Callable[[Any], str]:
        if col in shares:
            return percent
        if col in AMOUNT_COLUMNS or head(col, "zh").endswith("(元)"):
            return lambda v: yuan(v, "") if isinstance(v, int | float | Decimal) else cell(v)
        return cell

    # the lists of lead ids behind a count stay in the data unless shown: a hospital's
    # run to hundreds of thousands, and turning them into Python cost most of the page
    kept = [c for c in df.columns if c in columns or not isinstance(df.schema[c], pl.List)]
    raw = df.select(kept)
    shown = with_labels(raw.select(columns), lang)
    formats = [show(c) for c in columns]
    rows = []
    for row, values in zip(raw.iter_rows(named=True), shown.iter_rows(), strict=True):
        cells = []
        for col, value, fmt in zip(columns, values, formats, strict=True):
            text = fmt(value)
            href = links[col](row) if links and col in links else None
            cells.append(html.Td(dcc.Link(text, href=href) if href else text))
        rows.append(html.Tr(cells))
    kwargs = {"id": table_id} if table_id else {}
    return html.Table(
        [html.Thead(html.Tr([html.Th(head(c)) for c in columns])), html.Tbody(rows)],
        className="data-table",
        **kwargs,
    )


LEAD_COLUMNS = (
    "rule_name",
    "severity_label",
    "psn_no",
    "fixmedins_name",
    "period_start",
    "amount_at_risk",
    "status_label",
    "step_label",
)
"""A profile's lead grid: what each lead is, whose, when, how much and how far reviewed;
no lead ids (the queue, linked above the grid, opens each lead)."""

_LINKS = {
    "psn_no": lambda r: f"/person/{r['psn_no']}",
    "fixmedins_name": lambda r: f"/institution/{r['fixmedins_code']}",
}


def lead_grid(leads: pl.DataFrame, lang: str, grid_id: str) -> dag.AgGrid:
    """The leads of a profile (each with its review status), sortable and filterable in
    the browser, in the screen's language; a person links to their timeline and an
    institution to its profile; amounts sort as numbers and read to the fen."""
    columns = [c for c in LEAD_COLUMNS if c in leads.columns]
    rows = leads.to_dicts()
    for r in rows:
        for col, href in _LINKS.items():
            if col in columns:
                r[col] = f"[{r[col]}]({href(r)})" if r[col] else ""
        r["amount_text"] = yuan(r.get("amount_at_risk"), "")
        if isinstance(r.get("period_start"), datetime):
            r["period_start"] = cell(r["period_start"])
    defs = [
        {
            "field": c,
            "headerName": column_label(c, lang),
            "filter": True,
            "sortable": True,
            **({"cellRenderer": "markdown"} if c in _LINKS else {}),
            **(
                {"type": "numericColumn", "valueFormatter": {"function": "params.data.amount_text"}}
                if c == "amount_at_risk"
                else {}
            ),
        }
        for c in columns
    ]
    return dag.AgGrid(
        id=grid_id,
        rowData=[{k: r.get(k) for k in [*columns, "amount_text"]} for r in rows],
        columnDefs=defs,
        defaultColDef={"resizable": True},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,
            "localeText": grid_locale(lang),
        },
        style={"height": "420px"},
    )


BY_RULE_LABELS: dict[str, tuple[str, str]] = {
    "n_confirmed": ("确认违规", "confirmed"),
    "n_dismissed": ("排除疑点", "dismissed"),
    "n_open": ("未结", "open"),
}


def leads_heading(n_leads: int, shown: int, lang: str) -> str:
    """The heading of a profile's lead grid: the number of leads, and how many the grid
    lists when it lists the riskiest only."""
    if lang == "en":
        if shown < n_leads:
            return f"Leads ({n_leads}; the {shown} riskiest listed, the lead queue has all)"
        return f"Leads ({n_leads})"
    if shown < n_leads:
        return f"疑点明细（共{n_leads}条，列出风险最高的{shown}条，全部见疑点审核）"
    return f"疑点明细（{n_leads}条）"


def leads_section(
    by_rule: pl.DataFrame,
    leads: pl.DataFrame,
    n_leads: int,
    lang: str,
    grid_id: str,
    *,
    queue_href: str | None = None,
) -> list:
    """A profile's leads: per rule with their review outcomes (all of them), then the
    riskiest ``leads`` of the ``n_leads``; ``queue_href`` is the lead queue filtered on the
    unit, linked under the heading (``{grid_id}-queue``)."""
    link = (
        [
            dcc.Link(
                context.text("profile_components.all_leads_in_queue", lang, n=n_leads),
                href=queue_href,
                id=f"{grid_id}-queue",
            )
        ]
        if queue_href
        else []
    )
    return [
        html.H2(context.text("profile_components.leads_by_rule", lang)),
        table(
            by_rule,
            ["rule_name", "n_findings", "amount_at_risk", "n_confirmed", "n_dismissed", "n_open"],
            lang,
            labels=BY_RULE_LABELS,
        ),
        html.H2(leads_heading(n_leads, leads.height, lang)),
        *link,
        lead_grid(leads, lang, grid_id),
    ]


def _look(title: str, height: int) -> dict[str, Any]:
    """The dashboard's figure look: a title, a CJK font, white plot area."""
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "font": {"family": CJK_FONT, "size": 12},
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.15},
    }


def figure_layout(fig: go.Figure, title: str, *, height: int = 360) -> go.Figure:
    """``fig`` in the dashboard's figure look."""
    fig.update_layout(**_look(title, height))
    return fig


@functools.cache
def _template() -> dict[str, Any]:
    return pio.templates[pio.templates.default].to_plotly_json()


def plain_figure(
    data: list[dict[str, Any]], layout: dict[str, Any], title: str, *, height: int = 360
) -> dict[str, Any]:
    """A figure as the plain dict ``dcc.Graph`` draws, in the look of
    :func:`figure_layout` (plotly's default template included): plotly's figure objects
    check every property as it is set, which cost a profile page ~100 ms a request."""
    return {"data": data, "layout": {"template": _template(), **layout, **_look(title, height)}}


def side_by_side(titles: Sequence[str], *, title_size: int = 11) -> dict[str, Any]:
    """The layout of one row of plots with a title over each (trace ``i`` from 1 on
    axes ``x{i}``/``y{i}``, the first ``x``/``y``), as ``make_subplots(rows=1, cols=n)``
    spaces them."""
    n = len(titles)
    gap = 0.2 / n
    width = (1 - gap * (n - 1)) / n
    layout: dict[str, Any] = {"annotations": []}
    for i, text in enumerate(titles, start=1):
        left = (width + gap) * (i - 1)
        suffix = "" if i == 1 else str(i)
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": [left, left + width]}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [0.0, 1.0]}
        layout["annotations"].append(
            {
                "font": {"size": title_size},
                "showarrow": False,
                "text": text,
                "x": left + width / 2,
                "xanchor": "center",
                "xref": "paper",
                "y": 1.0,
                "yanchor": "bottom",
                "yref": "paper",
            }
        )
    return layout


def graph(fig: go.Figure | dict[str, Any], graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=fig, config={"displaylogo": False})


def message(text: str, *, error: bool = False) -> html.P:
    return html.P(text, className="error" if error else "muted")
