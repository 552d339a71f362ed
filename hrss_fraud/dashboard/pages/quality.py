"""数据质量 Data quality: per institution, the run's data-quality findings by rule beside the
lake's own figures (missing fields, late uploads, quarantined rows); an institution opens
its rules, a rule its findings, a finding its lines; Excel export of the report (of one
institution when one is open). ``/quality?institution=<code>`` opens on one institution.

Data-quality findings are no leads: this page is the only place they are shown. Every
figure comes from :mod:`hrss_fraud.outputs.quality_view`; this module draws.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import polars as pl
from dash import Input, Output, State, dcc, html

from hrss_fraud.cases import audit
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.components import kv
from hrss_fraud.dashboard.grid_locale import grid_locale
from hrss_fraud.dashboard.queue_callbacks import records
from hrss_fraud.engine.runs import RunError
from hrss_fraud.outputs import quality_view as qv
from hrss_fraud.outputs.labels import column_label

dash.register_page(
    __name__,
    path="/quality",
    name="数据质量",
    name_en="Data quality",
    order=15,
    permission="view_leads",
)

GRID_COLUMNS = tuple(
    c
    for c in qv.INSTITUTION_COLUMNS
    if c not in ("institution_settlements", "fee_lines", "quarantined_by_reason")
)
RULE_COLUMNS = ("rule_name", "n_findings", "n_settlements", "share_of_settlements", "rule_id")
LINE_COLUMNS = (
    "role",
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "line_time",
    "med_list_codg",
    "medins_list_name",
    "med_type",
    "dise_codg",
    "dise_name",
    "medfee_sumamt",
)


def _header(column: str, lang: str) -> str:
    pair = qv.LABELS.get(column)
    return (pair[1] if lang == "en" else pair[0]) if pair else column_label(column, lang)


def _defs(columns: tuple[str, ...], lang: str) -> list[dict[str, Any]]:
    defs = []
    for c in columns:
        d: dict[str, Any] = {"field": c, "headerName": _header(c, lang), "sortable": True}
        if c in qv.SHARES:
            d["valueFormatter"] = {
                "function": "params.value == null ? '' : d3.format('.1%')(params.value)"
            }
            d["type"] = "rightAligned"
        d["filter"] = c in ("fixmedins_name", "fixmedins_code", "rule_name")
        d["width"] = {"fixmedins_name": 200, "rule_name": 220, "evidence": 420}.get(c, 120)
        defs.append(d)
    return defs


def _figure(column: str, value: Any) -> str:
    """A lake figure as the page shows it: a share as a percentage."""
    if column in qv.SHARES and isinstance(value, float):
        return f"{value:.1%}"
    return pc.cell(value)


HIDDEN = ("rule_id",)
"""Columns a grid keeps in its rows (a click names the rule by its id) but does not show:
the rule's name says which it is."""


def _grid(grid_id: str, frame: pl.DataFrame, row_id: str, lang: str, height: int) -> dag.AgGrid:
    """A grid of ``frame``'s rows (all in the browser: a report, not a queue), sortable,
    its rows named by ``row_id`` so a click says which."""
    shown = tuple(c for c in frame.columns if c not in HIDDEN)
    return dag.AgGrid(
        id=grid_id,
        rowData=records(frame),
        columnDefs=_defs(shown, lang),
        defaultColDef={"resizable": True},
        dashGridOptions={"localeText": grid_locale(lang)},
        getRowId=f"params.data.{row_id}",
        style={"height": f"{height}px"},
    )


@guard.layout
def layout(institution: str = "", **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    try:
        view = context.runs().latest()
        units = qv.institutions(view, lang=lang)
    except RunError as e:
        return html.Div([html.H1(t("quality.data_quality")), pc.message(str(e), error=True)])
    return html.Div(
        [
            html.H1(t("quality.data_quality")),
            pc.message(t("quality.run_data_quality_findings_missing", run_id=view.run_id)),
            html.Div(
                [
                    html.Button(
                        t("quality.export_excel"),
                        id="quality-export",
                        className="secondary",
                    ),
                    dcc.Download(id="quality-download"),
                ],
                className="toolbar",
            ),
            _grid("quality-institutions", units.select(GRID_COLUMNS), "fixmedins_code", lang, 360),
            dcc.Store(id="quality-open", data=institution or None),
            html.Div(id="quality-detail"),
        ]
    )


@guard.callback(
    Output("quality-open", "data"),
    Input("quality-institutions", "cellClicked"),
    prevent_initial_call=True,
    permission="view_leads",
)
def pick(cell: dict[str, Any] | None) -> Any:
    code = (cell or {}).get("rowId")
    return code or dash.no_update


@guard.callback(
    Output("quality-detail", "children"),
    Input("quality-open", "data"),
    permission="view_leads",
)
def detail(code: str | None) -> Any:
    if not code:
        return html.Div()
    t, lang = context.t, context.lang()
    view = context.runs().latest()
    try:
        unit = qv.institution(view, code, lang=lang)
    except LookupError as e:
        return pc.message(str(e), error=True)
    rules: pl.DataFrame = unit["rules"]
    lake = [(_header(c, lang), _figure(c, unit.get(c))) for c in qv.LAKE_COLUMNS]
    return html.Div(
        [
            html.H2(
                [
                    f"{unit['fixmedins_name'] or code}（{code}） ",
                    dcc.Link(t("quality.profile"), href=f"/institution/{code}"),
                ],
                id="quality-title",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3(t("quality.data_quality_findings_rule")),
                            _grid("quality-rules", rules.select(RULE_COLUMNS), "rule_id", lang, 220)
                            if rules.height
                            else pc.message(t("quality.no_data_quality_findings")),
                        ]
                    ),
                    html.Div([html.H3(t("quality.uploads")), kv(lake, id="quality-lake")]),
                ],
                className="two-columns",
            ),
            html.H3(t("quality.finding_list")),
            _findings(code, None),
        ],
        className="panel",
    )


def _findings(code: str, rule_id: str | None) -> html.Div:
    """The institution's data-quality findings (of one rule), the first of them listed."""
    t, lang = context.t, context.lang()
    user = context.user()
    found, n = qv.findings(
        context.runs().latest(), code, rule_id, role=user.role if user else None, lang=lang
    )
    columns = tuple(c for c in qv.FINDING_COLUMNS if c != "fixmedins_code")
    shown = (
        t("quality.findings", n=n)
        if n <= found.height
        else t("quality.findings_first_listed_export_has", n=n, height=found.height)
    )
    return html.Div(
        [
            pc.message(shown),
            _grid("quality-findings", found.select(columns), "finding_id", lang, 300),
            html.Div(id="quality-lines"),
        ],
        id="quality-findings-box",
    )


@guard.callback(
    Output("quality-findings-box", "children"),
    Input("quality-rules", "cellClicked"),
    State("quality-open", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def pick_rule(cell: dict[str, Any] | None, code: str | None) -> Any:
    rule_id = (cell or {}).get("rowId")
    if not rule_id or not code:
        return dash.no_update
    return _findings(code, rule_id).children


@guard.callback(
    Output("quality-lines", "children"),
    Input("quality-findings", "cellClicked"),
    prevent_initial_call=True,
    permission="view_leads",
)
def pick_finding(cell: dict[str, Any] | None) -> Any:
    finding_id = (cell or {}).get("rowId")
    if not finding_id:
        return dash.no_update
    t, lang = context.t, context.lang()
    user = context.user()
    lines = qv.lines(
        context.runs().latest(), finding_id, role=user.role if user else None, lang=lang
    )
    columns = [c for c in LINE_COLUMNS if c in lines.columns]
    return html.Div(
        [
            html.H3(t("quality.lines_finding", finding_id=finding_id)),
            pc.table(lines.select(columns), columns, lang, table_id="quality-line-table"),
        ]
    )


@guard.callback(
    Output("quality-download", "data"),
    Input("quality-export", "n_clicks"),
    State("quality-open", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def export(_clicks: int, code: str | None) -> dict[str, Any]:
    view, user, lang = context.runs().latest(), context.user(), context.lang()
    assert user is not None  # the guard let only a user with view_leads through
    data = qv.export_bytes(view, code=code, role=user.role, lang=lang)
    audit.record(
        context.store(),
        user.username,
        "export.download",
        "run",
        view.run_id,
        {"what": "data_quality", "institution": code},
    )
    return dcc.send_bytes(data, qv.export_name(view, code))
