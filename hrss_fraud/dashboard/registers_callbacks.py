"""The 监管事项 page's workflow callbacks: each sends one form to
:mod:`hrss_fraud.dashboard.registers_work` as the logged-in user and tells the result in
``register-work-result``; a write then bumps ``registers-changed``, which redraws the tables
and the forms.

Every callback is guarded: the writes, the documents' downloads and the disclosure export
need ``manage_inspections``, as the command line's ``registers`` group does (the forms are
drawn only for that role; a request from another role is refused before the code runs).

The page module calls :func:`register`: Dash executes a page module afresh for every app it
builds and hands the callbacks registered meanwhile to that app, so callbacks registered
once, when this module is first imported, would reach only the first app of a process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from hrss_fraud.cases.migrate import SchemaError
from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import registers_forms as rf
from hrss_fraud.dashboard import registers_work as rw
from hrss_fraud.dashboard.forms import refused, saved
from hrss_fraud.dashboard.registers_view import MANAGE
from hrss_fraud.registers.inspections import RESULTS

_ERRORS = (*rw.ERRORS, SchemaError)
RESULT = "register-work-result"
CHANGED = "registers-changed"
CALLBACKS: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
"""Each callback of the workflow with its ``guard.callback`` arguments (``permission``
among them), for :func:`register`."""


def _callback(*args: Any, permission: str, **kwargs: Any) -> Callable[..., Any]:
    """Keep ``fn`` for :func:`register` with its dependencies and permission; ``fn``
    itself stays a plain function."""

    def keep(fn: Callable[..., Any]) -> Callable[..., Any]:
        CALLBACKS.append((fn, args, {**kwargs, "permission": permission}))
        return fn

    return keep


def register() -> None:
    """Register every workflow callback with Dash for the app being built, each guarded by
    its permission."""
    for fn, args, kwargs in CALLBACKS:
        guard.callback(*args, **kwargs)(fn)


def work_layout(lang: str) -> list[Any]:
    """The page's parts for a supervisor: where results are told, the download, the
    register's forms (drawn by :func:`_work`) and the disclosure export."""
    return [
        dcc.Download(id="register-download"),
        html.Div(id=RESULT, role="status"),
        html.Div(id="register-work"),
        *rf.disclosure_form(lang),
    ]


def _choices(code: str, lang: str) -> tuple[Any, rf.Choices]:
    store, ws = context.store(), context.workspace()
    reg = rw.register(ws, code)
    return reg, rf.Choices(
        targets=rw.target_options(store, reg, lang),
        inspectors=rw.inspector_options(store),
        failed=rw.order_options(store, reg.code),
        open_orders=rw.open_order_options(store, reg.code, lang),
        issued=rw.issued_options(store, reg.code, lang),
    )


@_callback(
    Output("register-work", "children"),
    Input("register-choice", "value"),
    Input(CHANGED, "data"),
    permission=MANAGE,
)
def _work(code: str | None, changed: int | None) -> Any:
    if not code:
        return None
    lang = context.lang()
    try:
        reg, choices = _choices(code, lang)
    except _ERRORS as e:
        return _refused(e)
    if not reg.runs_here:
        return None
    return rf.work(reg, choices, lang, changed or 0)


def _refused(e: Exception) -> html.P:
    return refused(e, context.lang())


def _write(
    run: Callable[[], Any], done: Callable[[Any], str], changed: int | None
) -> tuple[html.P, Any]:
    """Run one write of the workflow: its message and the bumped change counter, or the
    refusal and no redraw."""
    try:
        result = run()
    except _ERRORS as e:
        return _refused(e), dash.no_update
    return saved(done(result)), (changed or 0) + 1


@_callback(
    Output("register-insp-inspectors", "value"),
    Input("register-insp-target", "value"),
    State("register-choice", "value"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _suggest(target: str | None, code: str | None) -> list[str]:
    if not target:
        raise PreventUpdate
    try:
        suggested = rw.suggested_inspectors(
            context.store(), context.workspace(), context.user(), code, target
        )
    except _ERRORS:
        raise PreventUpdate from None
    return suggested or dash.no_update


def _uploads(contents: list[str] | None, names: list[str] | None) -> list[rw.Upload]:
    return [rw.Upload(n, c) for n, c in zip(names or [], contents or [], strict=False)]


@_callback(
    Output("register-insp-files", "children"),
    Input("register-insp-evidence", "contents"),
    State("register-insp-evidence", "filename"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _files(contents: list[str] | None, names: list[str] | None) -> Any:
    t = context.t
    try:
        files = rw.upload_summary(_uploads(contents, names))
    except _ERRORS as e:
        return _refused(e)
    if not files:
        return None
    return html.Ul(
        [html.Li(f"{n}（{size:,} {t('registers_callbacks.bytes')}）") for n, size in files],
        id="register-insp-file-list",
    )


@_callback(
    Output(RESULT, "children", allow_duplicate=True),
    Output(CHANGED, "data", allow_duplicate=True),
    Input("register-insp-record", "n_clicks"),
    State("register-choice", "value"),
    State("register-insp-target", "value"),
    State("register-insp-on", "value"),
    State("register-insp-complaint", "value"),
    State("register-insp-inspectors", "value"),
    State("register-insp-summary", "value"),
    State({"type": rf.ITEM_RESULT, "item": ALL}, "value"),
    State({"type": rf.ITEM_RESULT, "item": ALL}, "id"),
    State({"type": rf.ITEM_FINDING, "item": ALL}, "value"),
    State({"type": rf.ITEM_FINDING, "item": ALL}, "id"),
    State("register-insp-evidence", "contents"),
    State("register-insp-evidence", "filename"),
    State("register-insp-evidence-item", "value"),
    State(CHANGED, "data"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _record(
    n: Any,
    code: str | None,
    target: str | None,
    on: str | None,
    complaint: str | None,
    inspectors: list[str] | None,
    summary: str | None,
    results: list[str],
    result_ids: list[dict],
    findings: list[str | None],
    finding_ids: list[dict],
    contents: list[str] | None,
    names: list[str] | None,
    evidence_item: str | None,
    changed: int | None,
) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t, lang = context.t, context.lang()
    form = rw.InspectionForm(
        code=code,
        target=target,
        on=on,
        inspectors=inspectors or [],
        summary=summary,
        results={i["item"]: v for i, v in zip(result_ids, results, strict=True)},
        findings={i["item"]: v for i, v in zip(finding_ids, findings, strict=True)},
        complaint_ref=complaint,
        uploads=_uploads(contents, names),
        evidence_item=evidence_item,
    )
    failed = [k for k, v in form.results.items() if v == "fail"]
    outcome = RESULTS["fail" if failed else "pass"][1 if lang == "en" else 0]
    return _write(
        lambda: rw.record_from_form(context.store(), context.workspace(), context.user(), form),
        lambda iid: t(
            "registers_callbacks.recorded_inspection_failed_evidence_files",
            iid=iid,
            outcome=outcome,
            n_failed=len(failed),
            n_uploads=len(form.uploads),
        ),
        changed,
    )


@_callback(
    Output(RESULT, "children", allow_duplicate=True),
    Output(CHANGED, "data", allow_duplicate=True),
    Input("register-order-issue", "n_clicks"),
    State("register-order-inspection", "value"),
    State("register-order-requirements", "value"),
    State("register-order-on", "value"),
    State(CHANGED, "data"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _order(n: Any, iid: Any, requirements: Any, on: Any, changed: int | None) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t = context.t
    return _write(
        lambda: rw.order_from_form(
            context.store(),
            context.workspace(),
            context.user(),
            inspection_id=iid,
            requirements=requirements,
            on=on,
        ),
        lambda rid: t("registers_callbacks.ordered_rectification", rid=rid),
        changed,
    )


@_callback(
    Output(RESULT, "children", allow_duplicate=True),
    Output(CHANGED, "data", allow_duplicate=True),
    Input("register-followup-record", "n_clicks"),
    State("register-rect-choice", "value"),
    State("register-followup-result", "value"),
    State("register-followup-text", "value"),
    State("register-rect-on", "value"),
    State(CHANGED, "data"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _follow_up(
    n: Any, rid: Any, outcome: Any, text: Any, on: Any, changed: int | None
) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t = context.t
    labels = {o["value"]: o["label"] for o in rw.outcome_options(context.lang())}
    return _write(
        lambda: rw.follow_up_from_form(
            context.store(), context.user(), rect_id=rid, outcome=outcome, text=text, on=on
        ),
        lambda _: t("registers_callbacks.follow_up_recorded", outcome=labels[outcome]),
        changed,
    )


@_callback(
    Output(RESULT, "children", allow_duplicate=True),
    Output(CHANGED, "data", allow_duplicate=True),
    Input("register-close", "n_clicks"),
    State("register-rect-choice", "value"),
    State("register-close-text", "value"),
    State("register-rect-on", "value"),
    State(CHANGED, "data"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _close(n: Any, rid: Any, text: Any, on: Any, changed: int | None) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t = context.t
    return _write(
        lambda: rw.close_from_form(context.store(), context.user(), rect_id=rid, text=text, on=on),
        lambda _: t("registers_callbacks.rectification_closed", rid=rid),
        changed,
    )


@_callback(
    Output(RESULT, "children", allow_duplicate=True),
    Output(CHANGED, "data", allow_duplicate=True),
    Input("register-sanction", "n_clicks"),
    State("register-rect-choice", "value"),
    State("register-sanction-handling", "value"),
    State("register-sanction-decision", "value"),
    State("register-rect-on", "value"),
    State(CHANGED, "data"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _sanction(
    n: Any, rid: Any, handling: Any, decision: Any, on: Any, changed: int | None
) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t = context.t
    return _write(
        lambda: rw.sanction_from_form(
            context.store(),
            context.workspace(),
            context.user(),
            rect_id=rid,
            handling=handling,
            decision=decision,
            on=on,
        ),
        lambda sid: t("registers_callbacks.sanction_decided", sid=sid),
        changed,
    )


@_callback(
    Output("register-doc-object", "options"),
    Input("register-doc-kind", "value"),
    State("register-choice", "value"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _doc_objects(kind: str | None, code: str | None) -> list[dict[str, str]]:
    if not code:
        return []
    return rw.document_object_options(context.store(), code, kind, context.lang())


@_callback(
    Output(RESULT, "children", allow_duplicate=True),
    Output(CHANGED, "data", allow_duplicate=True),
    Input("register-doc-issue", "n_clicks"),
    State("register-doc-kind", "value"),
    State("register-doc-object", "value"),
    State("register-doc-unit", "value"),
    State("register-doc-on", "value"),
    State(CHANGED, "data"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _issue(
    n: Any, kind: Any, object_id: Any, unit: Any, on: Any, changed: int | None
) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t = context.t
    return _write(
        lambda: rw.issue_from_form(
            context.store(),
            context.workspace(),
            context.user(),
            kind=kind,
            object_id=object_id,
            unit=unit,
            on=on,
        ),
        lambda done: t(
            "registers_callbacks.issued_docx_pdf_pdf_sha",
            number=done.number,
            sha=done.pdf_sha256[:12],
        ),
        changed,
    )


@_callback(
    Output("register-download", "data", allow_duplicate=True),
    Output(RESULT, "children", allow_duplicate=True),
    Input("register-doc-docx", "n_clicks"),
    Input("register-doc-pdf", "n_clicks"),
    State("register-doc-number", "value"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _download(docx: Any, pdf: Any, number: str | None) -> tuple[Any, Any]:
    fmt = "pdf" if dash.ctx.triggered_id == "register-doc-pdf" else "docx"
    if not (pdf if fmt == "pdf" else docx):
        raise PreventUpdate
    try:
        name, data = rw.document_file(
            context.store(), context.workspace(), context.user(), number, fmt
        )
    except _ERRORS as e:
        return dash.no_update, _refused(e)
    return dcc.send_bytes(data, name), dash.no_update


@_callback(
    Output("register-download", "data", allow_duplicate=True),
    Output(RESULT, "children", allow_duplicate=True),
    Input("register-disclose", "n_clicks"),
    State("register-disclose-year", "value"),
    State("register-disclose-targeted", "value"),
    State("register-disclose-format", "value"),
    prevent_initial_call=True,
    permission=MANAGE,
)
def _disclose(n: Any, year: Any, targeted: list[str] | None, fmt: str | None) -> tuple[Any, Any]:
    if not n:
        raise PreventUpdate
    t = context.t
    try:
        name, data = rw.disclosure_file(
            context.store(),
            context.workspace(),
            context.user(),
            year=year,
            targeted=bool(targeted),
            fmt=fmt,
            lang=context.lang(),
        )
    except _ERRORS as e:
        return dash.no_update, _refused(e)
    return dcc.send_bytes(data, name), saved(t("registers_callbacks.exported", name=name))
