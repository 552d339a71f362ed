"""The 监管事项 page's workflow forms for one register: record an inspection (every check
item's result, evidence files), order the rectification, follow it up, close it or decide a
sanction, issue and download the documents; and the public-disclosure export.

Drawing only: the choices come from :mod:`hrss_fraud.dashboard.registers_work`, and the
callbacks (:mod:`hrss_fraud.dashboard.registers_callbacks`) send the forms there. Every
label is in the session's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dash import dcc, html

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


def _t(lang: str):
    return lambda zh, en: en if lang == "en" else zh


def _dropdown(id_: str, options: list[dict[str, str]], **kw: Any) -> dcc.Dropdown:
    return dcc.Dropdown(id=id_, options=options, style={"minWidth": "320px"}, **kw)


def _date(id_: str, lang: str) -> dcc.Input:
    return dcc.Input(id=id_, placeholder=_t(lang)("默认今天", "default today"))


def _item_row(item: Any, lang: str) -> html.Div:
    t = _t(lang)
    severity = SEVERITIES[item.severity][1 if lang == "en" else 0]
    text = item.text_en if lang == "en" else item.text
    return html.Div(
        [
            html.Span(f"{item.code}（{severity}）", className="muted"),
            html.Span(text, style={"flex": "1 1 320px"}),
            dcc.RadioItems(
                id={"type": ITEM_RESULT, "item": item.code},
                options=rw.result_options(lang),
                value="pass",
                inline=True,
            ),
            dcc.Input(
                id={"type": ITEM_FINDING, "item": item.code},
                placeholder=t("不合格时填写发现的问题", "what was found, if failed"),
                style={"width": "320px"},
            ),
        ],
        className="register-item decision-form",
        **{"data-item": item.code},
    )


def inspection_form(reg: Register, choices: Choices, lang: str) -> list[Any]:
    t = _t(lang)
    items = [("", t("不指定", "none"))] + [(i.code, i.code) for i in reg.check_items]
    return [
        html.H2(t("登记检查", "Record an inspection")),
        html.Div(
            [
                field(
                    t("检查对象（抽查计划或投诉核查）", "inspected (plan target or complaint)"),
                    _dropdown("register-insp-target", choices.targets),
                    "460px",
                ),
                field(t("检查日期", "inspection date"), _date("register-insp-on", lang)),
                field(
                    t("投诉编号（投诉核查时填）", "complaint number (complaint checks)"),
                    dcc.Input(id="register-insp-complaint"),
                    "220px",
                ),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("检查人员（不少于2人）", "inspectors (at least two)"),
                    _dropdown("register-insp-inspectors", choices.inspectors, multi=True),
                    "460px",
                ),
                field(
                    t("检查情况", "what was done and seen"),
                    dcc.Textarea(id="register-insp-summary"),
                    "460px",
                ),
            ],
            className="decision-form",
        ),
        html.H3(t("检查事项", "Check items")),
        html.Div([_item_row(i, lang) for i in reg.check_items], id="register-items"),
        html.Div(
            [
                dcc.Upload(
                    html.Span(t("选择证据文件（可多选）", "choose evidence files")),
                    id="register-insp-evidence",
                    multiple=True,
                    className="upload-box",
                    style={"border": "1px dashed #999", "padding": "6px 12px"},
                ),
                field(
                    t("证据所属检查事项", "item the evidence is for"),
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
        html.Button(t("登记检查", "Record"), id="register-insp-record"),
    ]


def rectification_forms(reg: Register, choices: Choices, lang: str) -> list[Any]:
    t = _t(lang)
    days = t(
        f"整改期限 {reg.rectify_days} 日，期满后 {reg.follow_up_days} 日内复查",
        f"rectify within {reg.rectify_days} days, follow up within {reg.follow_up_days} more",
    )
    return [
        html.H2(t("责令整改", "Order rectification")),
        html.P(days, className="muted"),
        html.Div(
            [
                field(
                    t("发现问题的检查", "inspection that found problems"),
                    _dropdown("register-order-inspection", choices.failed),
                    "380px",
                ),
                field(
                    t("整改要求", "requirements"),
                    dcc.Textarea(id="register-order-requirements"),
                    "380px",
                ),
                field(t("责令日期", "order date"), _date("register-order-on", lang)),
                html.Button(t("责令整改", "Order"), id="register-order-issue"),
            ],
            className="decision-form",
        ),
        html.H2(t("跟踪复查、办结与处理", "Follow-up, closing and sanctions")),
        html.Div(
            [
                field(
                    t("整改单", "rectification order"),
                    _dropdown("register-rect-choice", choices.open_orders),
                    "420px",
                ),
                field(t("日期", "date"), _date("register-rect-on", lang)),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("复查结果", "follow-up result"),
                    dcc.RadioItems(
                        id="register-followup-result",
                        options=rw.outcome_options(lang),
                        value="passed",
                        inline=True,
                    ),
                    "240px",
                ),
                field(
                    t("复查情况", "what the follow-up found"),
                    dcc.Textarea(id="register-followup-text"),
                    "380px",
                ),
                html.Button(t("登记复查", "Record follow-up"), id="register-followup-record"),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("办结说明（可空）", "closing note (optional)"),
                    dcc.Input(id="register-close-text"),
                    "380px",
                ),
                html.Button(t("复查合格，办结", "Close"), id="register-close"),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("处理方式", "sanction"),
                    _dropdown("register-sanction-handling", rw.sanction_options(reg, lang)),
                    "320px",
                ),
                field(
                    t("处理决定", "decision"),
                    dcc.Textarea(id="register-sanction-decision"),
                    "380px",
                ),
                html.Button(t("作出处理决定", "Decide"), id="register-sanction"),
            ],
            className="decision-form",
        ),
    ]


def document_forms(choices: Choices, lang: str) -> list[Any]:
    t = _t(lang)
    return [
        html.H2(t("文书", "Documents")),
        html.Div(
            [
                field(
                    t("文书种类", "kind"),
                    dcc.Dropdown(
                        id="register-doc-kind",
                        options=rw.document_kind_options(lang),
                        style={"minWidth": "200px"},
                    ),
                    "220px",
                ),
                field(
                    t("对应记录", "for"),
                    _dropdown("register-doc-object", []),
                    "340px",
                ),
                field(
                    t("出具单位", "issuing unit"),
                    dcc.Input(id="register-doc-unit", value=DEFAULT_UNIT),
                    "220px",
                ),
                field(t("出具日期", "issue date"), _date("register-doc-on", lang)),
                html.Button(t("编号出具", "Issue"), id="register-doc-issue"),
            ],
            className="decision-form",
        ),
        html.Div(
            [
                field(
                    t("已出具的文书", "issued documents"),
                    _dropdown("register-doc-number", choices.issued),
                    "420px",
                ),
                html.Button(t("下载 DOCX", "Download DOCX"), id="register-doc-docx"),
                html.Button(t("下载 PDF", "Download PDF"), id="register-doc-pdf"),
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
        html.H2(t("抽查结果公开（一公开）", "Public disclosure of results")),
        html.P(
            t(
                "导出当年随机抽查结果：监管事项、检查对象、统一社会信用代码、检查日期、检查方式、"
                "检查事项、检查结果、处理情况；不含任何个人信息。",
                "The year's random inspections as published: register, entity, its code, date, "
                "how chosen, items checked, result and handling; no personal data.",
            ),
            className="muted",
        ),
        html.Div(
            [
                field(
                    t("年度", "year"),
                    dcc.Input(id="register-disclose-year", value=str(date.today().year)),
                    "100px",
                ),
                dcc.Checklist(
                    id="register-disclose-targeted",
                    options=[
                        {"label": t("含投诉核查", "include complaint checks"), "value": "yes"}
                    ],
                    value=[],
                ),
                dcc.RadioItems(
                    id="register-disclose-format",
                    options=[{"label": "CSV", "value": "csv"}, {"label": "XLSX", "value": "xlsx"}],
                    value="csv",
                    inline=True,
                ),
                html.Button(t("导出公开表", "Export"), id="register-disclose"),
            ],
            className="decision-form",
        ),
    ]
