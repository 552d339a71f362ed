"""检查轮次 Inspection rounds: the rounds, one round's targets, planning a round, reproducing
its draw and downloading each group's Excel list.

Every value comes from :mod:`hrss_fraud.dashboard.rounds_view`; this module draws.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from hrss_fraud.cases.migrate import SchemaError
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard import rounds_view as rv
from hrss_fraud.dashboard.forms import field
from hrss_fraud.engine.runs import RunError
from hrss_fraud.inspection.draw import DrawError
from hrss_fraud.inspection.exports import ExportError
from hrss_fraud.inspection.rounds import RoundError

dash.register_page(
    __name__,
    path="/rounds",
    name="检查轮次",
    name_en="Inspection rounds",
    order=60,
    permission="view_leads",
)

_ERRORS = (RoundError, DrawError, ExportError, PermissionError, SchemaError, RunError)


@guard.layout
def layout(round: str | None = None, **_query: str) -> html.Div:
    t = context.t
    user = context.user()
    plan: list[Any] = []
    if user.can(rv.MANAGE):
        plan = [
            html.H2(t("rounds.plan_round")),
            html.Div(
                [
                    field(t("rounds.round_name"), dcc.Input(id="round-name"), "220px"),
                    field(t("rounds.top_k"), dcc.Input(id="round-top")),
                    field(t("rounds.random_n"), dcc.Input(id="round-random")),
                    field(t("rounds.seed_optional"), dcc.Input(id="round-seed")),
                    dcc.Checklist(
                        id="round-complaints",
                        options=[
                            {
                                "label": t("rounds.include_complaint_institutions"),
                                "value": "yes",
                            }
                        ],
                        value=["yes"],
                    ),
                    html.Button(t("rounds.draw"), id="round-plan"),
                ],
                className="decision-form",
            ),
            html.Div(id="round-plan-result"),
        ]
    return html.Div(
        [
            html.H1(t("rounds.inspection_rounds")),
            dcc.Store(id="rounds-selected", data=round),
            dcc.Store(id="rounds-changed", data=0),
            dcc.Download(id="round-download"),
            html.Div(id="round-detail"),
            *plan,
            html.H2(t("rounds.rounds")),
            html.Div(id="rounds-list"),
        ]
    )


@guard.callback(
    Output("rounds-list", "children"), Input("rounds-changed", "data"), permission="view_leads"
)
def _list(_changed: Any) -> html.Div:
    lang = context.lang()
    try:
        rows = rv.round_rows(context.store(), context.user(), lang=lang)
    except _ERRORS as e:
        return html.Div(pc.message(str(e), error=True))
    if rows.is_empty():
        return html.Div(pc.message(context.t("rounds.no_rounds_yet")))
    return html.Div(
        pc.table(
            rows,
            rv.LIST_COLUMNS,
            lang,
            labels=rv.LABELS,
            links={
                "round_id": lambda r: f"/rounds?round={r['round_id']}",
                "name": lambda r: f"/rounds?round={r['round_id']}",
            },
            table_id="rounds-table",
        )
    )


@guard.callback(
    Output("round-plan-result", "children"),
    Output("rounds-selected", "data"),
    Output("rounds-changed", "data"),
    Input("round-plan", "n_clicks"),
    State("round-name", "value"),
    State("round-top", "value"),
    State("round-random", "value"),
    State("round-seed", "value"),
    State("round-complaints", "value"),
    State("rounds-selected", "data"),
    State("rounds-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _plan(
    n: Any,
    name: str,
    top: Any,
    n_random: Any,
    seed: Any,
    complaints: list[str],
    selected: Any,
    changed: int,
) -> tuple[html.P, Any, int]:
    if not n:
        raise PreventUpdate
    t = context.t
    try:
        rnd = rv.plan_from_form(
            context.store(),
            context.workspace(),
            context.user(),
            name=name,
            top=top,
            n_random=n_random,
            seed=seed,
            with_complaints=bool(complaints),
        )
    except _ERRORS as e:
        return pc.message(str(e), error=True), selected, changed
    done = t(
        "rounds.drew_id_institutions_seed",
        name=rnd.name,
        round_id=rnd.round_id,
        height=rnd.targets.height,
        seed=rnd.seed,
    )
    return pc.message(done), str(rnd.round_id), (changed or 0) + 1


@guard.callback(
    Output("round-detail", "children"),
    Input("rounds-selected", "data"),
    Input("rounds-changed", "data"),
    permission="view_leads",
)
def _detail(selected: Any, _changed: Any) -> html.Div | None:
    if not selected:
        return None
    t, lang = context.t, context.lang()
    store, user = context.store(), context.user()
    try:
        rnd = rv.targets(store, user, int(selected), lang=lang)
        groups = rv.groups(store, rnd.round_id)
    except (*_ERRORS, ValueError) as e:
        return html.Div(pc.message(str(e), error=True))
    status = rv.STATUSES.get(rnd.status, (rnd.status, rnd.status))[1 if lang == "en" else 0]
    rows = [
        (t("rounds.round"), f"{rnd.round_id} {rnd.name}"),
        (t("common.status"), status),
        (t("rounds.run"), rnd.run_id),
        (t("rounds.seed"), str(rnd.seed)),
        (t("rounds.drawn"), f"{rnd.created_by} {rnd.created_at}"),
    ]
    downloads: list[Any] = []
    if user is not None and user.can(rv.MANAGE):
        downloads = [
            html.Span(t("rounds.download_lists")),
            *[
                html.Button(
                    f"{g} Excel",
                    id={"type": "round-xlsx", "group": g},
                    className="round-xlsx",
                )
                for g in groups
            ],
        ]
    moves = rv.status_options(rnd.status, lang)
    status_form: list[Any] = []
    if moves and user is not None and user.can(rv.MANAGE):
        status_form = [
            html.Div(
                [
                    field(
                        t("rounds.new_status"),
                        dcc.Dropdown(id="round-status", options=moves, value=moves[0]["value"]),
                    ),
                    field(t("rounds.reason"), dcc.Input(id="round-status-reason"), "320px"),
                    html.Button(t("rounds.change_status"), id="round-status-change"),
                ],
                className="decision-form",
            )
        ]
    return html.Div(
        [
            html.H2(t("rounds.round_named", name=rnd.name)),
            html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows], className="kv"),
            html.Div(
                [
                    html.Button(t("rounds.reproduce_draw"), id="round-reproduce"),
                    *downloads,
                ],
                className="decision-form",
            ),
            html.Div(id="round-reproduce-result"),
            *status_form,
            html.H3(t("rounds.targets", height=rnd.targets.height)),
            pc.table(
                rnd.targets, rv.TARGET_COLUMNS, lang, labels=rv.LABELS, table_id="round-targets"
            ),
        ],
        id="round-detail-body",
    )


@guard.callback(
    Output("round-reproduce-result", "children"),
    Input("round-reproduce", "n_clicks"),
    State("rounds-selected", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _reproduce(n: Any, selected: Any) -> html.P:
    if not n:
        raise PreventUpdate
    try:
        check = rv.reproduce_text(
            context.store(), context.user(), int(selected), lang=context.lang()
        )
    except _ERRORS as e:
        return pc.message(str(e), error=True)
    return pc.message(check.text, error=not check.ok)


@guard.callback(
    Output("round-download", "data"),
    Output("round-reproduce-result", "children", allow_duplicate=True),
    Input({"type": "round-xlsx", "group": ALL}, "n_clicks"),
    State("rounds-selected", "data"),
    prevent_initial_call=True,
    permission="view_leads",
)
def _download(clicks: list[Any], selected: Any) -> tuple[Any, Any]:
    trigger = dash.ctx.triggered_id
    if not trigger or not any(clicks):
        raise PreventUpdate  # the buttons were just drawn, not clicked
    try:
        name, data = rv.group_workbook(
            context.store(),
            context.workspace(),
            context.user(),
            int(selected),
            trigger["group"],
            lang=context.lang(),
        )
    except _ERRORS as e:
        return dash.no_update, pc.message(str(e), error=True)
    return dcc.send_bytes(data, name), dash.no_update


@guard.callback(
    Output("round-reproduce-result", "children", allow_duplicate=True),
    Output("rounds-changed", "data", allow_duplicate=True),
    Input("round-status-change", "n_clicks"),
    State("round-status", "value"),
    State("round-status-reason", "value"),
    State("rounds-selected", "data"),
    State("rounds-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _status(n: Any, status: str, reason: str, selected: Any, changed: int) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t, lang = context.t, context.lang()
    try:
        done = rv.status_from_page(context.store(), context.user(), int(selected), status, reason)
    except _ERRORS as e:
        return pc.message(str(e), error=True), changed
    label = rv.STATUSES[done][1 if lang == "en" else 0]
    return pc.message(t("rounds.now", label=label)), (changed or 0) + 1
