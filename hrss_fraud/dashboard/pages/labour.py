"""劳动保障监察 Labour inspection: the cases with the step each waits for, its deadline and
overdue mark; forms to register a case, take a step and issue a document; one case's
steps, amounts and documents.

Every form runs the library's own step (:mod:`hrss_fraud.registers.labour_cases`) as the
session's user, which checks that user's role for that step in its transaction; a refusal
is shown in the screen's language and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.dashboard.forms import field, refused, saved
from hrss_fraud.model.numbers import yuan
from hrss_fraud.notices.render import RenderError
from hrss_fraud.registers import labour_cases as lc
from hrss_fraud.registers import labour_procedure as lp
from hrss_fraud.registers.documents import DocumentError
from hrss_fraud.registers.labour_documents import KINDS, issue
from hrss_fraud.registers.labour_views import cases, get_case
from hrss_fraud.registers.workdays import CalendarError

PERMISSION = "decide_first_review"
"""Who opens the page and submits its forms: 承办人 and 负责人; each step checks its own."""

dash.register_page(
    __name__,
    path="/labour",
    name="劳动保障监察",
    name_en="Labour inspection",
    order=67,
    permission=PERMISSION,
)

_ERRORS = (lp.CaseError, CalendarError, DocumentError, RenderError, ValueError)
STEP_ACTIONS = tuple(a for a in lp.ACTIONS if a != "register")


class FormError(ValueError):
    """What was typed into a form cannot be read; the message is in the screen's language."""


def _name(pair: tuple[str, ...], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _names(vocab: dict[str, tuple[str, ...]], lang: str) -> dict[str, str]:
    return {k: _name(v, lang) for k, v in vocab.items()}


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise FormError(context.t("labour.not_a_date", value=value or "")) from None


def _amounts(text: str | None) -> dict[str, str]:
    out = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        kind, sep, value = line.partition("=")
        if not sep or not kind.strip():
            raise FormError(context.t("labour.bad_amount", value=line.strip()))
        out[kind.strip()] = value.strip()
    return out


def _table(header: list[str], rows: list[list[Any]], table_id: str) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows]),
        ],
        className="data-table",
        id=table_id,
    )


def _choice(
    label: str, component_id: str, choices: dict[str, str], width: str = "100%"
) -> html.Label:
    """Radio buttons for ``choices`` (value → label), the first chosen, under ``label``."""
    options = [{"label": text, "value": value} for value, text in choices.items()]
    radio = dcc.RadioItems(id=component_id, options=options, value=next(iter(choices)), inline=True)
    return field(label, radio, width)


@guard.layout
def layout(**_query: str) -> html.Div:
    t, lang = context.t, context.lang()
    return html.Div(
        [
            html.H1(t("labour.title")),
            dcc.Store(id="labour-changed", data=0),
            html.H2(t("labour.cases")),
            html.Div(
                [
                    field(t("labour.employer_filter"), dcc.Input(id="labour-employer"), "220px"),
                    dcc.Checklist(
                        id="labour-overdue-only",
                        options=[{"label": t("labour.overdue_only"), "value": "yes"}],
                        value=[],
                    ),
                ],
                className="decision-form",
            ),
            html.Div(id="labour-list"),
            html.H2(t("labour.new_case")),
            html.Div(
                [
                    field(t("labour.employer_code"), dcc.Input(id="labour-new-code"), "220px"),
                    field(t("labour.employer_name"), dcc.Input(id="labour-new-name"), "260px"),
                    field(t("labour.date"), dcc.Input(id="labour-new-on"), "160px"),
                    field(t("labour.source_ref"), dcc.Input(id="labour-new-ref")),
                ],
                className="decision-form",
            ),
            _choice(t("labour.employer_kind"), "labour-new-kind", _names(lp.EMPLOYER_KINDS, lang)),
            _choice(t("labour.source"), "labour-new-source", _names(lp.SOURCES, lang)),
            field(
                t("labour.areas"),
                dcc.Checklist(
                    id="labour-new-areas",
                    options=[{"label": v, "value": k} for k, v in _names(lp.AREAS, lang).items()],
                    value=[],
                    inline=True,
                ),
                "100%",
            ),
            field(t("labour.summary"), dcc.Textarea(id="labour-new-summary"), "100%"),
            html.Button(t("labour.register"), id="labour-new-submit", className="primary"),
            html.Div(id="labour-new-result"),
            html.H2(t("labour.take_step")),
            html.Div(
                [
                    field(t("labour.case"), dcc.Input(id="labour-step-case"), "160px"),
                    field(t("labour.date"), dcc.Input(id="labour-step-on"), "160px"),
                ],
                className="decision-form",
            ),
            _choice(
                t("labour.action"),
                "labour-step-action",
                {k: _name((a.zh, a.en), lang) for k, a in lp.ACTIONS.items() if k in STEP_ACTIONS},
            ),
            field(t("labour.text"), dcc.Textarea(id="labour-step-text"), "100%"),
            html.Div(
                [
                    _choice(
                        t("labour.notice_kind"),
                        "labour-step-kind",
                        {"advance": t("labour.advance"), "hearing": t("labour.hearing")},
                        "260px",
                    ),
                    _choice(
                        t("labour.how"),
                        "labour-step-how",
                        {"complied": t("labour.complied"), "court": t("labour.court")},
                        "300px",
                    ),
                    dcc.Checklist(
                        id="labour-step-not-opened",
                        options=[{"label": t("labour.not_opened"), "value": "yes"}],
                        value=[],
                    ),
                ],
                className="decision-form",
            ),
            field(t("labour.amounts"), dcc.Textarea(id="labour-step-amounts"), "100%"),
            html.Button(t("labour.submit"), id="labour-step-submit", className="primary"),
            html.Div(id="labour-step-result"),
            html.H2(t("labour.documents")),
            html.Div(
                [
                    field(t("labour.case"), dcc.Input(id="labour-doc-case"), "160px"),
                    field(t("labour.appear_on"), dcc.Input(id="labour-doc-appear-on"), "160px"),
                    field(t("labour.appear_at"), dcc.Input(id="labour-doc-appear-at")),
                    field(t("labour.place"), dcc.Input(id="labour-doc-place"), "220px"),
                ],
                className="decision-form",
            ),
            _choice(
                t("labour.doc_kind"),
                "labour-doc-kind",
                {k: _name(v[1:], lang) for k, v in KINDS.items()},
            ),
            field(t("labour.materials"), dcc.Textarea(id="labour-doc-materials"), "100%"),
            html.Button(t("labour.issue"), id="labour-doc-submit", className="primary"),
            html.Div(id="labour-doc-result"),
            html.H2(t("labour.detail")),
            html.Div(
                [
                    field(t("labour.case"), dcc.Input(id="labour-detail-case"), "160px"),
                    html.Button(t("labour.show"), id="labour-detail-show", className="secondary"),
                ],
                className="decision-form",
            ),
            html.Div(id="labour-detail"),
        ]
    )


@guard.callback(
    Output("labour-list", "children"),
    Input("labour-changed", "data"),
    Input("labour-employer", "value"),
    Input("labour-overdue-only", "value"),
    permission=PERMISSION,
)
def _list(changed: int, employer: str | None, overdue_only: list[str]) -> html.Div:
    """The cases (one employer's history, when its code is typed), overdue ones alone on
    request."""
    t, lang = context.t, context.lang()
    code = (employer or "").strip() or None
    df = cases(context.store(), employer_code=code, workspace=context.workspace())
    if overdue_only:
        df = df.filter("overdue")
    if df.is_empty():
        return html.Div(pc.message(t("labour.no_cases")), **{"data-version": changed})
    rows = [
        [
            r["case_no"],
            r["employer_name"],
            _name(lp.SOURCES[r["source"]], lang),
            _name(lp.STEPS[r["step"]], lang),
            _name(lp.STEPS[r["next_step"]], lang) if r["next_step"] else "—",
            _due(r["due"], r["provisional"]),
            t("labour.overdue") if r["overdue"] else "",
            yuan(lp.fen_to_yuan(r["outstanding_fen"])),
        ]
        for r in df.iter_rows(named=True)
    ]
    header = [
        t("labour.col_case"), t("labour.col_employer"), t("labour.col_source"),
        t("labour.col_step"), t("labour.col_next"), t("labour.col_due"),
        t("labour.col_overdue"), t("labour.col_outstanding"),
    ]  # fmt: skip
    return html.Div(_table(header, rows, "labour-table"), **{"data-version": changed})


def _due(day: str | None, provisional: list[int]) -> str:
    """A deadline, marked provisional when counted through a year the working-day calendar
    does not hold yet."""
    if not day:
        return "—"
    if not provisional:
        return day
    sep = "、" if context.lang() == "zh" else ", "
    note = context.t("labour.provisional", year=sep.join(map(str, provisional)))
    return f"{day}（{note}）" if context.lang() == "zh" else f"{day} ({note})"


def _done(message: str, changed: int) -> tuple[html.P, int]:
    return saved(message), (changed or 0) + 1


@guard.callback(
    Output("labour-new-result", "children"),
    Output("labour-changed", "data", allow_duplicate=True),
    Input("labour-new-submit", "n_clicks"),
    State("labour-new-code", "value"),
    State("labour-new-name", "value"),
    State("labour-new-kind", "value"),
    State("labour-new-source", "value"),
    State("labour-new-ref", "value"),
    State("labour-new-areas", "value"),
    State("labour-new-summary", "value"),
    State("labour-new-on", "value"),
    State("labour-changed", "data"),
    permission=PERMISSION,
    prevent_initial_call=True,
)
def _register(
    _n: Any, code: str, name: str, kind: str, source: str, ref: str, areas: list[str],
    summary: str, on: str, changed: int,
) -> tuple[Any, Any]:  # fmt: skip
    store, lang = context.store(), context.lang()
    try:
        case_id = lc.register_case(
            store, employer_code=code or "", employer_name=name or "", employer_kind=kind,
            source=source, source_ref=ref or "", areas=areas or [], summary=summary or "",
            by=context.user().username, on=_day(on), workspace=context.workspace(),
        )  # fmt: skip
    except (*_ERRORS, FormError) as e:
        return refused(e, lang), dash.no_update
    case_no = get_case(store, case_id, workspace=context.workspace())["case_no"]
    return _done(context.t("labour.registered", case_no=case_no), changed)


def _run_step(action: str, case: str, opts: dict[str, Any]) -> int:
    """The library's step ``action`` with the form's values."""
    store, ws, text = context.store(), context.workspace(), opts["text"]
    common = {"by": context.user().username, "on": opts["on"], "workspace": ws}
    steps = {
        "preliminary": lambda: lc.preliminary_check(
            store, case, findings=text, open_case=not opts["not_opened"], **common
        ),
        "file": lambda: lc.file_case(store, case, **common),
        "extend": lambda: lc.extend(store, case, reason=text, **common),
        "investigate": lambda: lc.investigate(store, case, facts=text, **common),
        "notify": lambda: lc.notify(
            store, case, kind=opts["kind"], proposal=text, amounts=opts["amounts"], **common
        ),
        "statement": lambda: lc.statement(store, case, text=text, **common),
        "hearing_request": lambda: lc.request_hearing(store, case, text=text, **common),
        "hearing": lambda: lc.hold_hearing(store, case, record=text, **common),
        "review": lambda: lc.review(store, case, conclusion=text, **common),
        "decide": lambda: lc.decide(
            store, case, decision=text, amounts=opts["amounts"], **common
        ),
        "payment": lambda: lc.record_payment(
            store, case, kind=opts["payment"][0], amount=opts["payment"][1], reference=text,
            **common,
        ),
        "execute": lambda: lc.conclude_execution(store, case, how=opts["how"], text=text, **common),
        "close": lambda: lc.close_case(store, case, summary=text, **common),
    }  # fmt: skip
    return steps[action]()


@guard.callback(
    Output("labour-step-result", "children"),
    Output("labour-changed", "data", allow_duplicate=True),
    Input("labour-step-submit", "n_clicks"),
    State("labour-step-case", "value"),
    State("labour-step-action", "value"),
    State("labour-step-on", "value"),
    State("labour-step-text", "value"),
    State("labour-step-kind", "value"),
    State("labour-step-how", "value"),
    State("labour-step-not-opened", "value"),
    State("labour-step-amounts", "value"),
    State("labour-changed", "data"),
    permission=PERMISSION,
    prevent_initial_call=True,
)
def _step(
    _n: Any, case: str, action: str, on: str, text: str, kind: str, how: str,
    not_opened: list[str], amounts: str, changed: int,
) -> tuple[Any, Any]:  # fmt: skip
    t, lang = context.t, context.lang()
    try:
        if not (case or "").strip():
            raise FormError(t("labour.choose_case"))
        money = _amounts(amounts)
        opts = {
            "text": (text or "").strip(), "on": _day(on), "kind": kind, "how": how,
            "not_opened": bool(not_opened), "amounts": money,
            "payment": next(iter(money.items()), ("", "")),
        }  # fmt: skip
        case_id = _run_step(action, case.strip(), opts)
    except (*_ERRORS, FormError) as e:
        return refused(e, lang), dash.no_update
    c = get_case(context.store(), case_id, workspace=context.workspace())
    a = lp.ACTIONS[action]
    nxt = _name(lp.STEPS[c["next_step"]], lang) if c["next_step"] else "—"
    said = t("labour.stepped", case_no=c["case_no"], action=_name((a.zh, a.en), lang), next=nxt)
    return _done(said, changed)


@guard.callback(
    Output("labour-doc-result", "children"),
    Output("labour-changed", "data", allow_duplicate=True),
    Input("labour-doc-submit", "n_clicks"),
    State("labour-doc-case", "value"),
    State("labour-doc-kind", "value"),
    State("labour-doc-appear-on", "value"),
    State("labour-doc-appear-at", "value"),
    State("labour-doc-place", "value"),
    State("labour-doc-materials", "value"),
    State("labour-changed", "data"),
    permission=PERMISSION,
    prevent_initial_call=True,
)
def _document(
    _n: Any, case: str, kind: str, appear_on: str, appear_at: str, place: str,
    materials: str, changed: int,
) -> tuple[Any, Any]:  # fmt: skip
    t, lang = context.t, context.lang()
    try:
        if not (case or "").strip():
            raise FormError(t("labour.choose_case"))
        extra: dict[str, Any] = {}
        if kind == "inquiry_notice":
            extra = {
                "appear_on": _day(appear_on), "appear_at": appear_at or "",
                "place": place or "", "materials": (materials or "").splitlines(),
            }  # fmt: skip
        done = issue(
            context.store(), context.workspace(), case.strip(), kind,
            by=context.user().username, **extra,
        )  # fmt: skip
    except (*_ERRORS, FormError) as e:
        return refused(e, lang), dash.no_update
    return _done(t("labour.issued", number=done.number), changed)


@guard.callback(
    Output("labour-detail", "children"),
    Input("labour-detail-show", "n_clicks"),
    Input("labour-changed", "data"),
    State("labour-detail-case", "value"),
    permission=PERMISSION,
    prevent_initial_call=True,
)
def _detail(_n: Any, changed: int, case: str) -> html.Div:
    t, lang = context.t, context.lang()
    if not (case or "").strip():
        return html.Div()
    try:
        c = get_case(context.store(), case.strip(), workspace=context.workspace())
    except _ERRORS as e:
        return html.Div(refused(e, lang))
    names = dict(context.store().query("SELECT username, display_name FROM users"))
    events = [
        [
            e["on_date"],
            _name((lp.ACTIONS[e["action"]].zh, lp.ACTIONS[e["action"]].en), lang),
            names.get(e["actor"], e["actor"]),
            e["text"] or "",
            t("labour.overdue") if e["late"] else "",
        ]
        for e in c["events"]
    ]
    money = [
        [_name(lp.AMOUNT_KINDS[a["kind"]], lang)]
        + [yuan(lp.fen_to_yuan(a[k])) for k in ("ordered_fen", "paid_fen", "outstanding_fen")]
        for a in c["amounts"]
    ]
    docs = [[d["number"], _name(KINDS[d["kind"]][1:], lang), d["docx_path"] or ""]
            for d in c["documents"] if d["status"] == "issued"]  # fmt: skip
    nxt = _name(lp.STEPS[c["next_step"]], lang) if c["next_step"] else "—"
    summary = t("labour.summary_line", case_no=c["case_no"], employer=c["employer_name"],
                next=nxt, due=_due(c["due"], c["due_provisional"]))  # fmt: skip
    return html.Div(
        [
            pc.message(summary),
            html.H3(t("labour.events")),
            _table(
                [
                    t("labour.col_on"),
                    t("labour.col_action"),
                    t("labour.col_actor"),
                    t("labour.col_text"),
                    t("labour.col_overdue"),
                ],
                events,
                "labour-events",
            ),
            html.H3(t("labour.amounts_heading")),
            _table(
                [
                    t("labour.col_item"),
                    t("labour.col_ordered"),
                    t("labour.col_paid"),
                    t("labour.col_outstanding"),
                ],
                money,
                "labour-amounts",
            ),
            html.H3(t("labour.documents_heading")),
            _table(
                [t("labour.col_number"), t("labour.col_document"), t("labour.col_file")],
                docs,
                "labour-docs",
            ),
        ],
        **{"data-version": changed},
    )
