"""The complaints page's logic (举报投诉): the list with overdue marks, the register form,
one complaint's detail with its targeted checks and linked leads, and running a check.

Plain functions of a case store and the logged-in user, so the page's callbacks stay a
line or two and tests need no browser. Anyone who may view leads may list, register and
check complaints; closing one is a review decision (``decide_first_review``). The
complainant is masked unless the user's role may view identities.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from hrss_fraud.cases.masking import mask_name, mask_phone
from hrss_fraud.complaints.check import CheckResult, checks, linked_leads, run_check
from hrss_fraud.complaints.register import (
    OUTCOMES,
    SOURCES,
    STATUSES,
    Complaint,
    ComplaintError,
    complaints,
    get,
    record_outcome,
    register,
    reveal_complainant,
)
from hrss_fraud.dashboard import context

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User

VIEW = "view_leads"
CLOSE = "decide_first_review"
LIST_COLUMNS = (
    "number",
    "received_on",
    "due_on",
    "deadline",
    "source_label",
    "status_label",
    "handler",
    "institutions",
    "n_leads",
    "content",
)
LABELS: dict[str, tuple[str, str]] = {
    "number": ("编号", "number"),
    "received_on": ("收到日期", "received"),
    "due_on": ("办结时限", "due"),
    "deadline": ("时限状态", "deadline"),
    "source_label": ("来源", "source"),
    "status_label": ("状态", "status"),
    "handler": ("承办人", "handler"),
    "institutions": ("被举报机构", "institutions"),
    "n_leads": ("关联疑点", "linked leads"),
    "content": ("内容", "content"),
    "rule_id": ("规则", "rule"),
    "rule_name": ("规则名称", "rule name"),
    "n_findings": ("疑点数", "leads"),
    "amount_at_risk": ("疑点金额", "amount at risk"),
    "run_id": ("评分批次", "run"),
}


def _allow(user: User | None, permission: str, what_zh: str, what_en: str) -> User:
    if user is None or not user.can(permission):
        who = "未登录用户" if user is None else user.role_zh
        msg = f"{who}无权{what_zh} (not allowed to {what_en})"
        raise PermissionError(msg)
    return user


def label(vocabulary: dict[str, tuple[str, str]], code: str | None, lang: str = "zh") -> str:
    """A source, status or outcome code in ``lang``; empty for none."""
    if not code:
        return ""
    return vocabulary[code][1 if lang == "en" else 0]


def source_options(lang: str = "zh") -> list[dict[str, str]]:
    i = 1 if lang == "en" else 0
    return [{"label": v[i], "value": k} for k, v in SOURCES.items()]


def outcome_options(lang: str = "zh") -> list[dict[str, str]]:
    i = 1 if lang == "en" else 0
    return [{"label": v[i], "value": k} for k, v in OUTCOMES.items()]


def deadline_text(overdue: bool, late: bool, days_left: int | None, lang: str = "zh") -> str:
    """The mark a row carries: overdue, handled late, or the days left."""
    if overdue:
        return context.text("complaints_view.overdue_days", lang, days=-(days_left or 0))
    if late:
        return context.text("complaints_view.handled_late", lang)
    if days_left is None:
        return context.text("complaints_view.handled_in_time", lang)
    return context.text("complaints_view.days_left", lang, days=days_left)


def complaint_rows(
    store: CaseStore,
    user: User | None,
    *,
    overdue_only: bool = False,
    today: date | None = None,
    lang: str = "zh",
) -> pl.DataFrame:
    """The list, newest first, masked for the user's role, with ``deadline`` marks and
    labels in ``lang``; ``PermissionError`` for a user who may not view leads."""
    user = _allow(user, VIEW, "查看举报投诉", "view complaints")
    df = complaints(store, today=today, overdue_only=overdue_only, role=user.role)
    i = 1 if lang == "en" else 0
    return df.with_columns(
        source_label=pl.col("source").replace_strict({k: v[i] for k, v in SOURCES.items()}),
        status_label=pl.col("status").replace_strict({k: v[i] for k, v in STATUSES.items()}),
        deadline=pl.struct("overdue", "late", "days_left").map_elements(
            lambda s: deadline_text(s["overdue"], s["late"], s["days_left"], lang),
            return_dtype=pl.String,
        ),
    )


def _codes(text: str | None) -> list[str]:
    """Codes typed into a form field, separated by commas, spaces or new lines."""
    return [c for c in re.split(r"[\s,，、;；]+", text or "") if c]


def register_from_form(
    store: CaseStore,
    user: User | None,
    *,
    received: str | None,
    source: str | None,
    content: str | None,
    complainant: str | None = None,
    contact: str | None = None,
    institutions: str | None = None,
    persons: str | None = None,
) -> str:
    """Register what the form holds; return the new number. ``ComplaintError`` (with
    the form's wording) for a bad date or field; nothing is written then."""
    user = _allow(user, VIEW, "登记举报投诉", "register complaints")
    try:
        received_on = date.fromisoformat((received or "").strip()[:10])
    except ValueError:
        msg = f"收到日期应为 YYYY-MM-DD ({received!r} is not a date)"
        raise ComplaintError(msg) from None
    return register(
        store,
        received_on=received_on,
        source=source or "",
        content=content or "",
        by=user.username,
        complainant=complainant,
        contact=contact,
        institutions=_codes(institutions),
        persons=_codes(persons),
    )


@dataclass(frozen=True)
class Detail:
    """One complaint as the page shows it: the complaint (complainant masked unless the
    role may see), its latest check's summary and leads by rule, every check's date and
    fingerprint, and the linked leads."""

    complaint: Complaint
    summary: str | None
    by_rule: pl.DataFrame
    checks: pl.DataFrame
    leads: pl.DataFrame


def detail(store: CaseStore, user: User | None, number: str, *, lang: str = "zh") -> Detail:
    """One complaint for the page; showing an unmasked complainant writes an audit row."""
    user = _allow(user, VIEW, "查看举报投诉", "view complaints")
    c = get(store, number)
    if user.can("view_identity"):
        if c.complainant or c.contact:
            reveal_complainant(store, number, by=user.username)  # audited, as person views are
    else:
        c = Complaint(
            **{
                **c.__dict__,
                "complainant": mask_name(c.complainant),
                "contact": mask_phone(c.contact),
            }
        )
    done = checks(store, number)
    summary, by_rule = (
        None,
        pl.DataFrame(
            schema={"rule_id": pl.String, "rule_name": pl.String, "n_findings": pl.Int64}
            | {"amount_at_risk": pl.Float64}
        ),
    )
    if done.height:
        latest = done.row(0, named=True)
        summary = latest["summary_en" if lang == "en" else "summary_zh"]
        rows = json.loads(latest["detail"])["by_rule"]
        if rows:
            by_rule = pl.DataFrame(rows, schema=by_rule.schema)
    return Detail(c, summary, by_rule, done.drop("detail"), linked_leads(store, number))


def check_from_page(
    store: CaseStore, workspace: Path, user: User | None, number: str
) -> CheckResult:
    """Run and store the targeted check as the logged-in user."""
    user = _allow(user, VIEW, "核查举报投诉", "check complaints")
    return run_check(store, workspace, number, by=user.username)


def close_from_page(
    store: CaseStore, user: User | None, number: str, *, outcome: str | None, text: str | None
) -> Complaint:
    """Close the complaint with the outcome the handler chose, dated today."""
    user = _allow(user, CLOSE, "办结举报投诉", "close complaints")
    return record_outcome(store, number, outcome=outcome or "", text=text or "", by=user.username)
