"""规则目录 Rule catalogue: every rule with its parameters in force, hits and amounts in the
latest run and the share of its reviewed leads confirmed; one rule's parameters (default,
bounds, value) and history, and, for roles allowed to, the form that changes one — through
:func:`rule_catalogue_view.change_parameter`, as ``hrss-fraud rules set`` does."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard import rule_catalogue_view as rc
from hrss_fraud.engine.runs import RunError

dash.register_page(
    __name__, path="/rules", name="规则目录", name_en="Rules", order=40, permission="view_leads"
)

LABELS: dict[str, tuple[str, str]] = {
    "family_label": ("规则类别", "family"),
    "version": ("版本", "version"),
    "params": ("参数", "parameters"),
    "n_confirmed": ("确认违规", "confirmed"),
    "n_dismissed": ("排除疑点", "dismissed"),
    "confirmed_share": ("确认率", "confirmed share"),
    "name": ("参数", "parameter"),
    "description": ("说明", "description"),
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


@guard.layout
def layout(rule: str = "", **_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    ws = context.workspace()
    try:
        view = context.runs().latest()
    except RunError:
        view = None
    catalogue = rc.current_catalogue(ws)
    table = rc.rule_table(catalogue, ws, view, context.store(), lang=lang)
    options = [
        {"label": f"{r['rule_id']} {r['rule_name']}", "value": r["rule_id"]}
        for r in table.select("rule_id", "rule_name").to_dicts()
    ]
    return html.Div(
        [
            html.H1(t("rules.rule_catalogue")),
            pc.message(
                t("rules.leads_amounts_from_run_confirmed", run_id=view.run_id if view else "—")
            ),
            dcc.Dropdown(
                id="rules-pick",
                options=options,
                value=rule or None,
                placeholder=t("rules.choose_rule_see_parameters"),
            ),
            html.Div(id="rules-detail"),
            pc.table(
                table,
                [
                    "rule_id",
                    "rule_name",
                    "family_label",
                    "severity_label",
                    "version",
                    "params",
                    "n_findings",
                    "amount_at_risk",
                    "n_confirmed",
                    "n_dismissed",
                    "confirmed_share",
                ],
                lang,
                labels=LABELS,
                links={"rule_id": lambda r: f"/rules?rule={r['rule_id']}"},
                table_id="rules-table",
            ),
        ]
    )


def _detail(rule_id: str, note: Any = None) -> html.Div:
    t, lang, user = context.t, context.lang(), context.user()
    ws = context.workspace()
    catalogue = rc.current_catalogue(ws)
    if rule_id not in catalogue.rules:
        return html.Div()
    params = rc.rule_params(catalogue, ws, rule_id, lang=lang)
    history = rc.rule_history(catalogue, ws, rule_id)
    form: Any = pc.message(t("rules.changing_parameter_needs_supervisor_role"))
    if user is not None and user.can(rc.CHANGE_PERMISSION) and params.height:
        form = html.Div(
            [
                dcc.Dropdown(
                    id="rules-param",
                    options=params["name"].to_list(),
                    value=params["name"][0],
                    clearable=False,
                ),
                dcc.Input(id="rules-value", type="number", placeholder=t("rules.new_value")),
                dcc.Textarea(
                    id="rules-reason",
                    placeholder=t("rules.reason_required"),
                    style={"width": "100%"},
                ),
                html.Button(t("rules.save_change"), id="rules-save"),
            ],
            className="form",
        )
    return html.Div(
        [
            html.H2(f"{rule_id}"),
            pc.table(
                params,
                ["name", "description", "unit", "default", "min", "max", "value", "n_changes"],
                lang,
                labels=LABELS,
                table_id="rules-params",
            ),
            form,
            html.Div(note, id="rules-message"),
            html.H3(t("rules.change_history")),
            pc.table(
                history,
                ["param", "value", "changed_by", "changed_at", "reason"],
                lang,
                labels=LABELS,
            ),
        ]
    )


@guard.callback(
    Output("rules-detail", "children"), Input("rules-pick", "value"), permission="view_leads"
)
def _show(rule_id: str | None) -> html.Div:
    return _detail(rule_id) if rule_id else html.Div()


@guard.callback(
    Output("rules-detail", "children", allow_duplicate=True),
    Input("rules-save", "n_clicks"),
    State("rules-pick", "value"),
    State("rules-param", "value"),
    State("rules-value", "value"),
    State("rules-reason", "value"),
    prevent_initial_call=True,
    permission=rc.CHANGE_PERMISSION,
)
def _save(_n: int | None, rule_id: str, param: str, value: Any, reason: str | None) -> html.Div:
    t, user = context.t, context.user()
    if user is None or not _n:  # the button appearing with the detail is not a click
        raise dash.exceptions.PreventUpdate
    try:
        change = rc.change_parameter(
            context.store(), context.workspace(), user, rule_id, param, value, reason or ""
        )
    except rc.ParameterChangeError as e:
        return _detail(rule_id, pc.message(str(e), error=True))
    done = t("rules.saved_applies_from_next_scoring", param=change.param, value=change.value)
    return _detail(rule_id, pc.message(done))
