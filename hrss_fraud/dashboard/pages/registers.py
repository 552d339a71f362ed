"""监管事项 Supervision registers: per register the entities, plans, inspections due and
overdue, open rectifications and sanctions; for a supervisor, drawing a random plan (双随机)
and the whole inspection workflow — inspections with evidence, rectification, follow-up,
closing or sanction, documents, and the public disclosure (一公开).

Every value comes from :mod:`hrss_fraud.dashboard.registers_view` and
:mod:`hrss_fraud.dashboard.registers_work`; the workflow's forms and callbacks are in
:mod:`hrss_fraud.dashboard.registers_forms` and ``registers_callbacks``; this module draws
the page.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from hrss_fraud.cases.migrate import SchemaError
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard import registers_callbacks as rc
from hrss_fraud.dashboard import registers_view as rv
from hrss_fraud.dashboard.forms import field, refused, saved
from hrss_fraud.inspection.rounds import RoundError
from hrss_fraud.registers.definitions import DefinitionError
from hrss_fraud.registers.plans import PlanError

dash.register_page(
    __name__,
    path="/registers",
    name="监管事项",
    name_en="Supervision registers",
    order=65,
    permission="view_leads",
)

_ERRORS = (PlanError, RoundError, DefinitionError, PermissionError, SchemaError)
rc.register()  # the workflow's callbacks, for the app this page module is executed for


@guard.layout
def layout(register: str | None = None, **_query: str) -> html.Div:
    t = context.t
    user = context.user()
    try:
        options = rv.register_options(context.workspace(), context.lang())
    except _ERRORS as e:
        return html.Div([html.H1(t("registers.supervision_registers")), refused(e, context.lang())])
    codes = [o["value"] for o in options]
    chosen = register if register in codes else next(iter(codes), None)
    draw: list[Any] = []
    if user.can(rv.MANAGE):
        draw = [
            html.H2(t("registers.draw_random_plan")),
            html.Div(
                [
                    field(t("registers.plan_name"), dcc.Input(id="register-plan-name"), "260px"),
                    field(t("registers.random_n"), dcc.Input(id="register-plan-random")),
                    field(t("registers.seed_optional"), dcc.Input(id="register-seed")),
                    html.Button(t("registers.draw"), id="register-plan-draw", className="primary"),
                ],
                className="decision-form",
            ),
            html.Div(id="register-plan-result"),
        ]
    work = rc.work_layout(context.lang()) if user.can(rv.MANAGE) else []
    return html.Div(
        [
            html.H1(t("registers.supervision_registers_random_inspections")),
            dcc.Store(id="registers-changed", data=0),
            html.Div(id="registers-overview"),
            field(
                t("registers.register"),
                dcc.Dropdown(id="register-choice", options=options, value=chosen, clearable=False),
                "420px",
            ),
            *draw,
            *work,
            html.Div(id="register-detail"),
        ]
    )


@guard.callback(
    Output("registers-overview", "children"),
    Input("registers-changed", "data"),
    permission="view_leads",
)
def _overview(_changed: Any) -> html.Div:
    lang = context.lang()
    try:
        df = rv.overview(context.store(), context.workspace(), context.user(), lang=lang)
    except _ERRORS as e:
        return html.Div(refused(e, context.lang()))
    return html.Div(
        pc.table(
            df,
            rv.OVERVIEW_COLUMNS,
            lang,
            labels=rv.LABELS,
            links={"register_name": lambda r: f"/registers?register={r['register']}"},
            table_id="registers-overview-table",
        )
    )


def _section(title: str, df: Any, columns: tuple[str, ...], empty: str, table_id: str) -> list:
    lang = context.lang()
    if df.is_empty():
        return [html.H2(title), pc.message(empty)]
    return [html.H2(title), pc.table(df, columns, lang, labels=rv.LABELS, table_id=table_id)]


@guard.callback(
    Output("register-detail", "children"),
    Input("register-choice", "value"),
    Input("registers-changed", "data"),
    permission="view_leads",
)
def _detail(code: str | None, _changed: Any) -> html.Div | None:
    if not code:
        return None
    t, lang = context.t, context.lang()
    try:
        d = rv.detail(context.store(), context.workspace(), context.user(), code, lang=lang)
    except _ERRORS as e:
        return html.Div(refused(e, context.lang()))
    reg = d.register
    en = lang == "en"
    colon = ": " if en else "："
    head = [
        html.H2(reg.name_en if en else reg.name),
        html.P(f"{t('registers.object')}{colon}{reg.object_en if en else reg.object}"),
        html.P(f"{t('registers.run')}{colon}{rv.engine_text(reg, lang)}"),
        html.Ul([html.Li(rv.check_item_text(i, lang)) for i in reg.check_items]),
    ]
    if not reg.runs_here:
        link = dcc.Link(t("registers.inspection_rounds"), href="/rounds")
        return html.Div([*head, html.P([t("registers.see"), link])])
    none = t("registers.none_yet")
    return html.Div(
        [
            *head,
            *_section(
                t("registers.targets_due_overdue"),
                d.due,
                rv.DUE_COLUMNS,
                none,
                "register-due-table",
            ),
            *_section(
                t("registers.rectification_sanctions"),
                d.rectifications,
                rv.RECT_COLUMNS,
                none,
                "register-rect-table",
            ),
            *_section(t("registers.plans"), d.plans, rv.PLAN_COLUMNS, none, "register-plans-table"),
            *_section(
                t("registers.inspections"),
                d.inspections,
                rv.INSPECTION_COLUMNS,
                none,
                "register-inspections-table",
            ),
            *_section(
                t("registers.entities"),
                d.entities,
                rv.ENTITY_COLUMNS,
                none,
                "register-entities-table",
            ),
        ]
    )


@guard.callback(
    Output("register-plan-result", "children"),
    Output("registers-changed", "data"),
    Input("register-plan-draw", "n_clicks"),
    State("register-choice", "value"),
    State("register-plan-name", "value"),
    State("register-plan-random", "value"),
    State("register-seed", "value"),
    State("registers-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _draw(
    n: Any, code: str | None, name: str, n_random: Any, seed: Any, changed: int
) -> tuple[html.P, int]:
    if not n:
        raise PreventUpdate
    t = context.t
    try:
        plan = rv.draw_from_form(
            context.store(),
            context.workspace(),
            context.user(),
            code=code,
            name=name,
            n_random=n_random,
            seed=seed,
            lang=context.lang(),
        )
    except _ERRORS as e:
        return refused(e, context.lang()), changed
    n_targets = plan.targets.height
    done = t(
        "registers.drew_id_targets_seed",
        name=plan.name,
        plan_id=plan.plan_id,
        n_targets=n_targets,
        seed=plan.seed,
    )
    return saved(done), (changed or 0) + 1
