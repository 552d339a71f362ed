"""规则目录 Rule catalogue: every rule with its parameters in force, hits and amounts in the
latest run and the share of its reviewed leads confirmed; one rule's parameters (default,
bounds, value) and history, a what-if (试算) of other values beside the latest run's
figures (:mod:`~hrss_fraud.dashboard.rule_whatif_view`, as ``hrss-fraud rules try``), and,
for roles allowed to, the form that changes one — through
:func:`rule_catalogue_view.change_parameter`, as ``hrss-fraud rules set`` does."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
from dash import ALL, Input, Output, State, dcc, html

from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard import rule_catalogue_view as rc
from hrss_fraud.dashboard import rule_whatif_view as wv
from hrss_fraud.dashboard.forms import field
from hrss_fraud.dashboard.grid_locale import grid_locale
from hrss_fraud.engine.runs import RunError
from hrss_fraud.engine.whatif import WhatIfError
from hrss_fraud.outputs.labels import column_label

dash.register_page(
    __name__, path="/rules", name="规则目录", name_en="Rules", order=40, permission="view_leads"
)

LABELS: dict[str, tuple[str, str]] = {
    "family_label": ("规则类别", "family"),
    "kernel_label": ("检测方式", "method"),
    "version": ("版本", "version"),
    "params": ("参数", "parameters"),
    "n_confirmed": ("确认违规", "confirmed"),
    "n_dismissed": ("排除疑点", "dismissed"),
    "confirmed_share": ("确认率", "confirmed share"),
    "description": ("参数", "parameter"),
    "unit": ("单位", "unit"),
    "default": ("默认值", "default"),
    "min": ("下限", "min"),
    "max": ("上限", "max"),
    "value": ("当前值", "value in force"),
    "n_changes": ("修改次数", "changes"),
    "param": ("参数", "parameter"),
    "changed_by": ("修改人", "by"),
    "changed_at": ("修改时间", "when"),
    "reason": ("理由", "reason"),
}
TABLE_COLUMNS = (
    "rule_name",
    "rule_id",
    "family_label",
    "severity_label",
    "kernel_label",
    "version",
    "params",
    "n_findings",
    "amount_at_risk",
    "n_confirmed",
    "n_dismissed",
    "confirmed_share",
)
"""The catalogue table: the rule's name first, its id a detail after it."""


def _rows(lang: str) -> list[dict[str, Any]]:
    """The catalogue's rows as the parameters are in force now, each rule's name a link
    to its parameters."""
    ws = context.workspace()
    try:
        view = context.runs().latest()
    except RunError:
        view = None
    table = rc.rule_table(rc.current_catalogue(ws), ws, view, context.store(), lang=lang)
    rows = table.select(TABLE_COLUMNS).to_dicts()
    for r in rows:
        r["rule_name"] = f"[{r['rule_name']}](/rules?rule={r['rule_id']})"
    return rows


_NUMBER = {"function": "params.value == null ? '' : d3.format(',.2f')(params.value)"}
_SHARE = {"function": "params.value == null ? '' : d3.format('.0%')(params.value)"}


def _catalogue(lang: str) -> dag.AgGrid:
    """The catalogue as a grid, every row drawn (a hundred rules), sortable and
    filterable; a saved change replaces its rows only (:func:`_save`), not the grid."""

    def header(col: str) -> str:
        return LABELS[col][1 if lang == "en" else 0] if col in LABELS else column_label(col, lang)

    wide = {"rule_name": 220, "params": 420, "kernel_label": 150}
    defs = [
        {
            "field": c,
            "headerName": header(c),
            "sortable": True,
            "filter": c in ("rule_name", "rule_id", "family_label", "severity_label"),
            "width": wide.get(c, 110),
            **({"cellRenderer": "markdown"} if c == "rule_name" else {}),
            **({"wrapText": True, "autoHeight": True} if c == "params" else {}),
            **(
                {"valueFormatter": _NUMBER, "type": "rightAligned"} if c == "amount_at_risk" else {}
            ),
            **(
                {"valueFormatter": _SHARE, "type": "rightAligned"} if c == "confirmed_share" else {}
            ),
        }
        for c in TABLE_COLUMNS
    ]
    return dag.AgGrid(
        id="rules-table",
        rowData=_rows(lang),
        columnDefs=defs,
        defaultColDef={"resizable": True},
        getRowId="params.data.rule_id",
        dashGridOptions={"domLayout": "autoHeight", "localeText": grid_locale(lang)},
        style={"height": None},
    )


@guard.layout
def layout(rule: str = "", **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    try:
        run_id = context.runs().latest().run_id
    except RunError:
        run_id = "—"
    catalogue = rc.current_catalogue(context.workspace())
    # listed by name; typing the id finds a rule too
    options = [
        {"label": rc.rule_name(r, lang), "value": r.id, "search": f"{rc.rule_name(r, lang)} {r.id}"}
        for r in catalogue.rules.values()
    ]
    return html.Div(
        [
            html.H1(t("rules.rule_catalogue")),
            pc.message(t("rules.leads_amounts_from_run_confirmed", run_id=run_id)),
            html.Label(t("rules.rule"), htmlFor="rules-pick"),
            dcc.Dropdown(
                id="rules-pick",
                options=sorted(options, key=lambda o: o["label"]),
                value=rule or None,
                placeholder=t("rules.choose_rule_see_parameters"),
            ),
            html.Div(id="rules-detail"),
            html.Div(_catalogue(lang), id="rules-table-box"),
        ]
    )


def _params(rule_id: str, lang: str) -> html.Table:
    params = rc.rule_params(
        rc.current_catalogue(context.workspace()), context.workspace(), rule_id, lang=lang
    )
    return pc.table(
        params,
        ["description", "value", "unit", "default", "min", "max", "n_changes"],
        lang,
        labels=LABELS,
        table_id="rules-params",
    )


def _history(rule_id: str, lang: str) -> html.Table:
    catalogue = rc.current_catalogue(context.workspace())
    history = rc.rule_history(catalogue, context.workspace(), rule_id, lang=lang)
    return pc.table(
        history,
        ["param", "value", "changed_by", "changed_at", "reason"],
        lang,
        labels=LABELS,
        table_id="rules-history",
    )


def _form(rule: Any, lang: str) -> Any:
    """The change form, for a role allowed to change parameters; a note otherwise."""
    t, user = context.t, context.user()
    if user is None or not user.can(rc.CHANGE_PERMISSION) or not rule.params:
        return pc.message(t("rules.changing_parameter_needs_supervisor_role"))
    return html.Div(
        [
            field(
                t("rules.parameter"),
                dcc.Dropdown(
                    id="rules-param",
                    options=[
                        {"label": rc.param_label(p, lang), "value": p.name} for p in rule.params
                    ],
                    value=rule.params[0].name,
                    clearable=False,
                ),
                width="420px",
            ),
            field(
                t("rules.new_value"), dcc.Input(id="rules-value", type="text", inputMode="decimal")
            ),
            field(
                t("rules.reason_required"),
                dcc.Textarea(id="rules-reason"),
                width="360px",
            ),
            html.Button(t("rules.save_change"), id="rules-save", className="primary"),
        ],
        className="decision-form",
    )


def _whatif_form(rule: Any, lang: str) -> Any:
    """The what-if: each parameter's value in force to edit, a button, and where the
    figures appear (a spinner while the rule runs); nothing for a rule without
    parameters."""
    t = context.t
    if not rule.params:
        return html.Div()
    ws = context.workspace()
    values = rc.rule_params(rc.current_catalogue(ws), ws, rule.id, lang=lang)
    inputs = [
        field(
            (
                f"{row['description']}（{row['unit']}）"
                if lang == "zh"
                else f"{row['description']} ({row['unit']})"
            )
            if row["unit"]
            else row["description"],
            dcc.Input(
                id={"type": "rules-try-value", "param": row["name"]},
                type="text",
                inputMode="decimal",
                value=f"{row['value']:.15g}",
            ),
            width="260px",
        )
        for row in values.iter_rows(named=True)
    ]
    return html.Div(
        [
            html.H3(t("whatif.heading")),
            pc.message(t("whatif.intro")),
            html.Div(
                [*inputs, html.Button(t("whatif.button"), id="rules-try")],
                className="decision-form",
            ),
            dcc.Loading(html.Div(id="rules-try-result", role="status")),
        ],
        id="rules-whatif",
    )


def _whatif_result(out: Any, lang: str) -> html.Div:
    ws, t = context.workspace(), context.t
    head = {
        "measure": (t("whatif.measure"),) * 2,
        "current": (t("whatif.current"),) * 2,
        "tried": (t("whatif.tried"),) * 2,
        "difference": (t("whatif.difference"),) * 2,
    }
    return html.Div(
        [
            pc.table(
                wv.figures_table(out, lang, ws),
                ["measure", "current", "tried", "difference"],
                lang,
                labels=head,
                table_id="rules-try-figures",
            ),
            *(html.P(line, className="muted") for line in wv.notes(out, lang, ws)),
        ]
    )


@guard.callback(
    Output("rules-try-result", "children"),
    Input("rules-try", "n_clicks"),
    State("rules-pick", "value"),
    State({"type": "rules-try-value", "param": ALL}, "value"),
    State({"type": "rules-try-value", "param": ALL}, "id"),
    prevent_initial_call=True,
    permission=wv.PERMISSION,
)
def _try(_n: int | None, rule_id: str, values: list[Any], ids: list[dict[str, str]]) -> Any:
    """Run the what-if of the values typed; a refusal names the parameter by its label."""
    lang = context.lang()
    if not _n or not rule_id:  # the button appearing with the detail is not a click
        raise dash.exceptions.PreventUpdate
    typed = {i["param"]: v for i, v in zip(ids, values, strict=True)}
    try:
        out = wv.try_values(context.workspace(), rule_id, typed)
    except WhatIfError as e:
        return pc.message(wv.say(e, lang, context.workspace()), error=True)
    return _whatif_result(out, lang)


def _detail(rule_id: str) -> html.Div:
    t, lang = context.t, context.lang()
    rule = rc.current_catalogue(context.workspace()).rules.get(rule_id)
    if rule is None:
        return html.Div()
    return html.Div(
        [
            html.H2(rc.rule_name(rule, lang), id="rules-title", title=rule.id),
            html.Div(_params(rule_id, lang), id="rules-params-box"),
            _whatif_form(rule, lang),
            _form(rule, lang),
            html.Div(id="rules-message", role="status"),
            html.H3(t("rules.change_history")),
            html.Div(_history(rule_id, lang), id="rules-history-box"),
        ],
        className="panel",
    )


@guard.callback(
    Output("rules-detail", "children"), Input("rules-pick", "value"), permission="view_leads"
)
def _show(rule_id: str | None) -> html.Div:
    return _detail(rule_id) if rule_id else html.Div()


@guard.callback(
    Output("rules-message", "children"),
    Output("rules-params-box", "children"),
    Output("rules-history-box", "children"),
    Output("rules-table", "rowData"),
    Output("rules-value", "value"),
    Output("rules-reason", "value"),
    Input("rules-save", "n_clicks"),
    State("rules-pick", "value"),
    State("rules-param", "value"),
    State("rules-value", "value"),
    State("rules-reason", "value"),
    prevent_initial_call=True,
    permission=rc.CHANGE_PERMISSION,
)
def _save(_n: int | None, rule_id: str, param: str, value: Any, reason: str | None) -> tuple:
    """Save the change; on success the rule's parameters, its history and the catalogue
    table show the new value at once and the form is cleared; a refusal keeps what was
    typed and names the parameter by its label."""
    t, lang, user = context.t, context.lang(), context.user()
    if user is None or not _n:  # the button appearing with the detail is not a click
        raise dash.exceptions.PreventUpdate
    ws = context.workspace()
    try:
        change = rc.change_parameter(context.store(), ws, user, rule_id, param, value, reason or "")
    except rc.ParameterChangeError as e:
        keep = (dash.no_update,) * 5
        return (pc.message(rc.say(e, lang, ws), error=True), *keep)
    p = rc.current_catalogue(ws).rules[rule_id].param(change.param)
    done = t(
        "rules.saved_applies_from_next_scoring",
        param=rc.param_label(p, lang),
        value=change.value,
        unit=rc.unit(p, lang),
    )
    return (
        html.P(done, className="ok"),
        _params(rule_id, lang),
        _history(rule_id, lang),
        _rows(lang),
        "",
        "",
    )
