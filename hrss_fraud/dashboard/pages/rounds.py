"""检查轮次 Inspection rounds: the rounds, one round's targets, planning a round, reproducing
its draw and downloading each group's Excel list; and, for those who may plan rounds,
setting up the office the draw needs: zones synced from the lake, inspectors, groups,
conflicts of interest.

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
from hrss_fraud.dashboard.forms import field, refused, saved
from hrss_fraud.engine.runs import RunError
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.model.times import minute

dash.register_page(
    __name__,
    path="/rounds",
    name="检查轮次",
    name_en="Inspection rounds",
    order=60,
    permission="view_leads",
)

_ERRORS = (*rv.ERRORS, PermissionError, SchemaError, RunError)


def _error(e: Exception) -> html.P:
    """A refusal in the session's language, fields named by their labels."""
    return refused(rv.say(e, context.lang(), context.workspace()))


def _set_up(t: Any) -> list[Any]:
    """The forms that set up zones, inspectors, groups and conflicts (managers only)."""
    form = "decision-form"
    return [
        html.H2(t("rounds.set_up_office")),
        html.P(t("rounds.set_up_hint"), className="muted"),
        html.H3(t("rounds.zones")),
        html.Div(
            [html.Button(t("rounds.sync_zones"), id="round-zones-sync", className="primary")],
            className=form,
        ),
        html.Div(id="round-zones-result"),
        html.Div(id="round-zones-list"),
        html.H3(t("rounds.inspectors")),
        html.Div(
            [
                field(t("rounds.inspector_code"), dcc.Input(id="round-inspector-code")),
                field(t("rounds.inspector_name"), dcc.Input(id="round-inspector-name")),
                html.Button(
                    t("rounds.add_inspector"), id="round-inspector-add", className="primary"
                ),
            ],
            className=form,
        ),
        html.Div(
            [
                field(
                    t("rounds.inspector"),
                    dcc.Dropdown(id="round-inspector-disable-code", options=[]),
                    "260px",
                ),
                html.Button(
                    t("rounds.disable_inspector"),
                    id="round-inspector-disable",
                    className="secondary",
                ),
            ],
            className=form,
        ),
        html.Div(id="round-inspector-result"),
        html.Div(id="round-inspectors-list"),
        html.H3(t("rounds.groups")),
        html.Div(
            [
                field(t("rounds.group_code"), dcc.Input(id="round-group-code")),
                field(t("rounds.group_name"), dcc.Input(id="round-group-name"), "220px"),
                field(
                    t("rounds.members"),
                    dcc.Dropdown(id="round-group-members", options=[], multi=True),
                    "360px",
                ),
                html.Button(t("rounds.add_group"), id="round-group-add", className="primary"),
            ],
            className=form,
        ),
        html.Div(id="round-group-result"),
        html.Div(id="round-groups-list"),
        html.H3(t("rounds.conflicts")),
        html.Div(
            [
                field(
                    t("rounds.inspector"),
                    dcc.Dropdown(id="round-conflict-inspector", options=[]),
                    "220px",
                ),
                field(
                    t("rounds.institution"),
                    dcc.Dropdown(id="round-conflict-institution", options=[]),
                    "320px",
                ),
                field(t("rounds.conflict_reason"), dcc.Input(id="round-conflict-reason"), "260px"),
                html.Button(t("rounds.add_conflict"), id="round-conflict-add", className="primary"),
            ],
            className=form,
        ),
        html.Div(id="round-conflict-result"),
        html.Div(id="round-conflicts-list"),
    ]


@guard.layout
def layout(round: str | None = None, **_query: str) -> html.Div:
    t = context.t
    user = context.user()
    plan: list[Any] = []
    set_up: list[Any] = []
    if user is not None and user.can(rv.MANAGE):
        set_up = _set_up(t)
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
                    html.Button(t("rounds.draw"), id="round-plan", className="primary"),
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
            dcc.Store(id="rounds-staff-changed", data=0),
            dcc.Download(id="round-download"),
            html.Div(id="round-detail"),
            *plan,
            html.H2(t("rounds.rounds")),
            html.Div(id="rounds-list"),
            *set_up,
        ]
    )


@guard.callback(
    Output("round-zones-list", "children"),
    Output("round-inspectors-list", "children"),
    Output("round-groups-list", "children"),
    Output("round-conflicts-list", "children"),
    Output("round-inspector-disable-code", "options"),
    Output("round-group-members", "options"),
    Output("round-conflict-inspector", "options"),
    Output("round-conflict-institution", "options"),
    Input("rounds-staff-changed", "data"),
    permission=rv.MANAGE,
)
def _staff(_changed: Any) -> tuple[Any, ...]:
    t, lang = context.t, context.lang()
    store, user = context.store(), context.user()
    try:
        zones = rv.zone_rows(store, user)
        people = rv.inspector_rows(store, user, lang=lang)
        groups = rv.group_rows(store, user, lang=lang)
        conflicts = rv.conflict_rows(store, user)
    except _ERRORS as e:
        return (_error(e), None, None, None, [], [], [], [])

    def shown(df: Any, columns: tuple[str, ...], empty: str, table_id: str) -> Any:
        if df.is_empty():
            return pc.message(t(empty))
        return pc.table(df, columns, lang, labels=rv.LABELS, table_id=table_id)

    active = rv.inspector_options(store)
    return (
        shown(zones, rv.ZONE_COLUMNS, "rounds.no_zones_yet", "round-zones-table"),
        shown(people, rv.INSPECTOR_COLUMNS, "rounds.no_inspectors_yet", "round-inspectors-table"),
        shown(groups, rv.GROUP_COLUMNS, "rounds.no_groups_yet", "round-groups-table"),
        shown(conflicts, rv.CONFLICT_COLUMNS, "rounds.no_conflicts_yet", "round-conflicts-table"),
        active,
        active,
        rv.inspector_options(store, active_only=False),
        rv.institution_options(store),
    )


@guard.callback(
    Output("round-zones-result", "children"),
    Output("rounds-staff-changed", "data", allow_duplicate=True),
    Input("round-zones-sync", "n_clicks"),
    State("rounds-staff-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _sync(n: Any, changed: int) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    try:
        lake = Workspace.of(context.workspace()).lake
        done = rv.sync_zones_from_page(context.store(), lake, context.user())
    except _ERRORS as e:
        return _error(e), dash.no_update
    text = context.t(
        "rounds.zones_synced",
        zones=done.zones,
        institutions=done.institutions,
        new=done.new_institutions,
        moved=done.moved_institutions,
    )
    return saved(text), (changed or 0) + 1


@guard.callback(
    Output("round-inspector-result", "children"),
    Output("round-inspector-code", "value"),
    Output("round-inspector-name", "value"),
    Output("rounds-staff-changed", "data", allow_duplicate=True),
    Input("round-inspector-add", "n_clicks"),
    State("round-inspector-code", "value"),
    State("round-inspector-name", "value"),
    State("rounds-staff-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _add_inspector(n: Any, code: str, name: str, changed: int) -> tuple[Any, ...]:
    if not n:
        raise PreventUpdate
    try:
        done = rv.add_inspector_from_page(context.store(), context.user(), code, name)
    except _ERRORS as e:
        return _error(e), dash.no_update, dash.no_update, dash.no_update
    text = context.t("rounds.inspector_added", code=done, name=(name or "").strip())
    return saved(text), "", "", (changed or 0) + 1


@guard.callback(
    Output("round-inspector-result", "children", allow_duplicate=True),
    Output("rounds-staff-changed", "data", allow_duplicate=True),
    Input("round-inspector-disable", "n_clicks"),
    State("round-inspector-disable-code", "value"),
    State("rounds-staff-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _disable_inspector(n: Any, code: str, changed: int) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    try:
        done = rv.disable_inspector_from_page(context.store(), context.user(), code)
    except _ERRORS as e:
        return _error(e), dash.no_update
    return saved(context.t("rounds.inspector_disabled", code=done)), (changed or 0) + 1


@guard.callback(
    Output("round-group-result", "children"),
    Output("round-group-code", "value"),
    Output("round-group-name", "value"),
    Output("round-group-members", "value"),
    Output("rounds-staff-changed", "data", allow_duplicate=True),
    Input("round-group-add", "n_clicks"),
    State("round-group-code", "value"),
    State("round-group-name", "value"),
    State("round-group-members", "value"),
    State("rounds-staff-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _add_group(n: Any, code: str, name: str, members: list[str], changed: int) -> tuple[Any, ...]:
    if not n:
        raise PreventUpdate
    try:
        done = rv.add_group_from_page(context.store(), context.user(), code, name, members)
    except _ERRORS as e:
        return _error(e), dash.no_update, dash.no_update, dash.no_update, dash.no_update
    text = context.t("rounds.group_added", code=done, n=len(set(members or [])))
    return saved(text), "", "", [], (changed or 0) + 1


@guard.callback(
    Output("round-conflict-result", "children"),
    Output("round-conflict-reason", "value"),
    Output("rounds-staff-changed", "data", allow_duplicate=True),
    Input("round-conflict-add", "n_clicks"),
    State("round-conflict-inspector", "value"),
    State("round-conflict-institution", "value"),
    State("round-conflict-reason", "value"),
    State("rounds-staff-changed", "data"),
    prevent_initial_call=True,
    permission=rv.MANAGE,
)
def _add_conflict(
    n: Any, inspector: str, institution: str, reason: str, changed: int
) -> tuple[Any, ...]:
    if not n:
        raise PreventUpdate
    try:
        who, where = rv.add_conflict_from_page(
            context.store(), context.user(), inspector, institution, reason
        )
    except _ERRORS as e:
        return _error(e), dash.no_update, dash.no_update
    text = context.t("rounds.conflict_added", inspector=who, institution=where)
    return saved(text), "", (changed or 0) + 1


@guard.callback(
    Output("rounds-list", "children"), Input("rounds-changed", "data"), permission="view_leads"
)
def _list(_changed: Any) -> html.Div:
    lang = context.lang()
    try:
        rows = rv.round_rows(context.store(), context.user(), lang=lang)
    except _ERRORS as e:
        return html.Div(_error(e))
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
        return _error(e), selected, changed
    done = t(
        "rounds.drew_id_institutions_seed",
        name=rnd.name,
        round_id=rnd.round_id,
        height=rnd.targets.height,
        seed=rnd.seed,
    )
    return saved(done), str(rnd.round_id), (changed or 0) + 1


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
        return html.Div(_error(e))
    status = rv.STATUSES.get(rnd.status, (rnd.status, rnd.status))[1 if lang == "en" else 0]
    rows = [
        (t("rounds.round"), f"{rnd.round_id} {rnd.name}"),
        (t("common.status"), status),
        (t("rounds.run"), rnd.run_id),
        (t("rounds.seed"), str(rnd.seed)),
        (t("rounds.drawn"), f"{rnd.created_by} {minute(rnd.created_at)}"),
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
                    html.Button(
                        t("rounds.change_status"), id="round-status-change", className="secondary"
                    ),
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
                    html.Button(
                        t("rounds.reproduce_draw"), id="round-reproduce", className="secondary"
                    ),
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
        return _error(e)
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
        return dash.no_update, _error(e)
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
        return _error(e), changed
    label = rv.STATUSES[done][1 if lang == "en" else 0]
    return saved(t("rounds.now", label=label)), (changed or 0) + 1
