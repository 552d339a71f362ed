"""The 监管事项 page's workflow forms for one register: record an inspection (every check
item's result, evidence files), order the rectification, follow it up, close it or decide a
sanction, issue and download the documents; and the public-disclosure export.

Drawing only: the choices come from :mod:`hrss_fraud.dashboard.registers_work`, and the
callbacks (:mod:`hrss_fraud.dashboard.registers_callbacks`) send the forms there. Every
label is in the session's language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from dash import dcc, html

from hrss_fraud.dashboard import context
from hrss_fraud.dashboard import registers_work as rw
from hrss_fraud.dashboard.forms import field
from hrss_fraud.registers.definitions import SEVERITIES, Register
from hrss_fraud.registers.documents import DEFAULT_UNIT

ITEM_RESULT = "register-item-result"
ITEM_FINDING = "register-item-finding"
"""Pattern-matching id types of an item's result and finding (``{"type": …, "item": code}``)."""


@dataclass(frozen=True)
class Choices:
    """What the register's forms offer, as dropdown options."""

    targets: list[dict[str, str]]
    inspectors: list[dict[str, str]]
    failed: list[dict[str, str]]
    open_orders: list[dict[str, str]]
    issued: list[dict[str, str]]


def _t(lang: str) -> Callable[..., str]:
    """``t(key, **fields)`` in ``lang`` (the forms are drawn for a given language)."""
    return functools.partial(context.text, language=lang)


def _dropdown(id_: str, options: list[dict[str, str]], **kw: Any) -> dcc.Dropdown:
    return dcc.Dropdown(id=id_, options=options, style={"minWidth": "320px"}, **kw)


def _date(id_: str, lang: str) -> dcc.Input:
    return dcc.Input(id=id_, placeholder=_t(lang)("registers_forms.default_today"))


def _item_row(item: Any, lang: str) -> html.Div:
    t = _t(lang)
    severity = SEVERITIES[item.severity][1 if lang == "en" else 0]
    text = item.text_en if lang == "en" else item.text
    return html.Div(
        [
            html.Span(
                f"{item.code} ({severity})" if lang == "en" else f"{item.code}（{severity}）",
                className="muted",
            ),
            html.Span(text),
            dcc.RadioItems(
                id={"type": ITEM_RESULT, "item": item.code},
                options=rw.result_options(lang),
                value="pass",
                inline=True,
            ),
            dcc.Input(
                id={"type": ITEM_FINDING, "item": item.code},
                placeholder=t("registers_forms.what_was_found_if_failed"),
            ),
        ],
        className="register-item",
        **{"data-item": item.code},
    )


def _item_head(lang: str) -> html.Div:
    """The check items' column labels, above their rows (the same grid)."""
    t = _t(lang)
    keys = (
        "registers_forms.item_code",
        "registers_forms.item_text",
        "registers_forms.item_result",
        "registers_forms.what_was_found_if_failed",
    )
    return html.Div(
        [html.Span(t(k), className="muted") for k in keys],
        className="register-item register-item-head",
    )


def inspection_form(reg: Register, choices: Choices, lang: str) -> list[Any]:
    t = _t(lang)
    items = [("", t("registers_forms.none"))] + [(i.code, i.code) for i in reg.check_items]
    return [
        html.H2(t("registers_forms.record_inspection")),
        html.Div(
            [
                field(
                    t("registers_forms.inspected_plan_target_complaint"),
                    _dropdown("register-insp-target", choices.targets),
                    "460px",
                ),
                field(t("registers_forms.inspection_date"), _date("register-insp-on", lang)),
                field(
                    t("registers_forms.complaint_number_complaint_checks"),
                    dcc.Input(id="register-insp-complaint"),
                    "220px",
                ),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("registers_forms.inspectors_least_two"),
                    _dropdown("register-insp-inspectors", choices.inspectors, multi=True),
                    "460px",
                ),
                field(
                    t("registers_forms.what_was_done_seen"),
                    dcc.Textarea(id="register-insp-summary"),
                    "460px",
                ),
            ],
            className="decision-form",
        ),
        html.H3(t("registers_forms.check_items")),
        html.Div(
            [_item_head(lang), *(_item_row(i, lang) for i in reg.check_items)], id="register-items"
        ),
        html.Div(
            [
                dcc.Upload(
                    html.Span(t("registers_forms.choose_evidence_files")),
                    id="register-insp-evidence",
                    multiple=True,
                    className="upload-box",
                    style={"border": "1px dashed #999", "padding": "6px 12px"},
                ),
                field(
                    t("registers_forms.item_evidence"),
                    dcc.Dropdown(
                        id="register-insp-evidence-item",
                        options=[{"label": label, "value": v} for v, label in items],
                        value="",
                        clearable=False,
                    ),
                    "200px",
                ),
                html.Div(id="register-insp-files"),
            ],
            className="decision-form",
        ),
        html.Button(t("registers_forms.record"), id="register-insp-record", className="primary"),
    ]


def rectification_forms(reg: Register, choices: Choices, lang: str) -> list[Any]:
    t = _t(lang)
    days = t(
        "registers_forms.rectify_within_days_follow_up",
        rectify_days=reg.rectify_days,
        follow_up_days=reg.follow_up_days,
    )
    return [
        html.H2(t("registers_forms.order_rectification")),
        html.P(days, className="muted"),
        html.Div(
            [
                field(
                    t("registers_forms.inspection_found_problems"),
                    _dropdown("register-order-inspection", choices.failed),
                    "380px",
                ),
                field(
                    t("registers_forms.requirements"),
                    dcc.Textarea(id="register-order-requirements"),
                    "380px",
                ),
                field(t("registers_forms.order_date"), _date("register-order-on", lang)),
                html.Button(
                    t("registers_forms.order"), id="register-order-issue", className="primary"
                ),
            ],
            className="decision-form",
        ),
        html.H2(t("registers_forms.follow_up_closing_sanctions")),
        html.Div(
            [
                field(
                    t("registers_forms.rectification_order"),
                    _dropdown("register-rect-choice", choices.open_orders),
                    "420px",
                ),
                field(t("registers_forms.date"), _date("register-rect-on", lang)),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("registers_forms.follow_up_result"),
                    dcc.RadioItems(
                        id="register-followup-result",
                        options=rw.outcome_options(lang),
                        value="passed",
                        inline=True,
                    ),
                    "240px",
                ),
                field(
                    t("registers_forms.what_follow_up_found"),
                    dcc.Textarea(id="register-followup-text"),
                    "380px",
                ),
                html.Button(
                    t("registers_forms.record_follow_up"),
                    id="register-followup-record",
                    className="primary",
                ),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("registers_forms.closing_note_optional"),
                    dcc.Input(id="register-close-text"),
                    "380px",
                ),
                html.Button(t("registers_forms.close"), id="register-close", className="primary"),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("registers_forms.sanction"),
                    _dropdown("register-sanction-handling", rw.sanction_options(reg, lang)),
                    "320px",
                ),
                field(
                    t("registers_forms.decision"),
                    dcc.Textarea(id="register-sanction-decision"),
                    "380px",
                ),
                html.Button(
                    t("registers_forms.decide"), id="register-sanction", className="primary"
                ),
            ],
            className="decision-form",
        ),
    ]


def document_forms(choices: Choices, lang: str) -> list[Any]:
    t = _t(lang)
    return [
        html.H2(t("registers_forms.documents")),
        html.Div(
            [
                field(
                    t("registers_forms.kind"),
                    dcc.Dropdown(
                        id="register-doc-kind",
                        options=rw.document_kind_options(lang),
                        style={"minWidth": "200px"},
                    ),
                    "220px",
                ),
                field(
                    t("registers_forms.for"),
                    _dropdown("register-doc-object", []),
                    "340px",
                ),
                field(
                    t("registers_forms.issuing_unit"),
                    dcc.Input(id="register-doc-unit", value=DEFAULT_UNIT),
                    "220px",
                ),
                field(t("registers_forms.issue_date"), _date("register-doc-on", lang)),
                html.Button(
                    t("registers_forms.issue"), id="register-doc-issue", className="primary"
                ),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("registers_forms.issued_documents"),
                    _dropdown("register-doc-number", choices.issued),
                    "420px",
                ),
                html.Button(t("registers_forms.download_docx"), id="register-doc-docx"),
                html.Button(t("registers_forms.download_pdf"), id="register-doc-pdf"),
            ],
            className="decision-form",
        ),
    ]


def work(reg: Register, choices: Choices, lang: str, version: int) -> html.Div:
    """Every workflow form of ``reg``; ``data-version`` is the page's change counter when
    they were drawn (a test waits for it after each step)."""
    return html.Div(
        [
            *inspection_form(reg, choices, lang),
            *rectification_forms(reg, choices, lang),
            *document_forms(choices, lang),
        ],
        id="register-work-body",
        **{"data-version": str(version)},
    )


def disclosure_form(lang: str) -> list[Any]:
    """The year's public disclosure (一公开) of every register, downloaded as a file."""
    t = _t(lang)
    return [
        html.H2(t("registers_forms.public_disclosure_results")),
        html.P(
            t("registers_forms.year_random_inspections_as_published"),
            className="muted",
        ),
        html.Div(
            [
                field(
                    t("registers_forms.year"),
                    dcc.Input(id="register-disclose-year", value=str(date.today().year)),
                    "100px",
                ),
                dcc.Checklist(
                    id="register-disclose-targeted",
                    options=[
                        {"label": t("registers_forms.include_complaint_checks"), "value": "yes"}
                    ],
                    value=[],
                ),
                dcc.RadioItems(
                    id="register-disclose-format",
                    options=[{"label": "CSV", "value": "csv"}, {"label": "XLSX", "value": "xlsx"}],
                    value="csv",
                    inline=True,
                ),
                html.Button(
                    t("registers_forms.export"), id="register-disclose", className="primary"
                ),
            ],
            className="decision-form",
        ),
    ]
