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

from hrss_fraud.cases.masking import mask_frame, mask_name, mask_phone
from hrss_fraud.complaints import fields
from hrss_fraud.complaints.check import (
    CheckResult,
    checks,
    default_period,
    linked_leads,
    run_check,
)
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
from hrss_fraud.engine.workspace import Workspace

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


MAX_PERSON_OPTIONS = 20
"""Persons suggested at most for one search: a county holds tens of thousands."""


def institution_options(workspace: Path) -> list[dict[str, str]]:
    """Every institution of the lake's register as the form's dropdown offers it, by name:
    ``永宁县人民医院 H13012300001`` (the dropdown searches the whole label, so a name, part of
    one or a code finds it); empty without a register."""
    names = Workspace.of(workspace).institution_names()
    if names is None:
        return []
    rows = names.sort(["fixmedins_name", "fixmedins_code"], nulls_last=True).iter_rows()
    return [{"label": f"{name or ''} {code}".strip(), "value": code} for code, name in rows]


def _person_label(code: str, name: str | None, role: str) -> str:
    shown = mask_frame(pl.DataFrame({"psn_name": [name]}, schema={"psn_name": pl.String}), role)
    return f"{shown.item(0, 'psn_name') or ''} {code}".strip()


def person_options(
    workspace: Path,
    user: User | None,
    search: str | None,
    selected: list[str] | None = None,
) -> list[dict[str, str]]:
    """The persons the form suggests for ``search``, the ``selected`` ones first (so the
    dropdown keeps showing them): ``name 人员编号``, the name masked as the rest of the
    dashboard masks it for the user's role. A role that may view identities finds a
    person by part of the name or number; any other by the number's start or the whole
    name (as the complaint gives it): it cannot list names by a character or two."""
    user = _allow(user, VIEW, "查找参保人", "search persons")
    lake = Workspace.of(workspace).lake
    query = (search or "").strip()
    chosen = [c for c in selected or () if c]
    if not lake.batches() or not (query or chosen):
        return []
    full = user.can("view_identity")
    name_match = "contains(psn_name, ?)" if full else "psn_name = ?"
    con = lake.connect()
    try:
        rows = con.execute(
            "SELECT psn_no, any_value(psn_name) FROM person WHERE list_contains(?, psn_no) "
            "GROUP BY 1 ORDER BY 1",
            [chosen or [""]],
        ).fetchall()
        if query:
            rows += con.execute(
                f"""SELECT psn_no, any_value(psn_name) FROM person
                    WHERE (starts_with(psn_no, ?) OR {name_match}) AND NOT list_contains(?, psn_no)
                    GROUP BY 1 ORDER BY 1 LIMIT ?""",
                [query.upper(), query, chosen or [""], MAX_PERSON_OPTIONS],
            ).fetchall()
    finally:
        con.close()
    return [{"label": _person_label(c, n, user.role), "value": c} for c, n in rows]


def _codes(text: str | list[str] | None) -> list[str]:
    """Codes chosen in a dropdown (a list), or typed into a field, separated by commas,
    spaces or new lines."""
    if isinstance(text, list):
        return [c.strip() for c in text if c and c.strip()]
    return [c for c in re.split(r"[\s,，、;；]+", text or "") if c]


TARGETS = {
    "institution": (
        "complaints.institutions",
        fields.INSTITUTION_CODE,
        "complaints.not_an_institution_code",
    ),
    "person": ("complaints.persons", fields.PERSON_CODE, "complaints.not_a_person_number"),
}
"""A target kind → the form field's label key, the code format and the refusal's key."""


def known_targets(
    workspace: Path | None, kind: str, values: str | list[str] | None, lang: str = "zh"
) -> list[str]:
    """The codes the form holds for ``kind``; :class:`ComplaintError` in ``lang`` naming the
    field by its label for a value that is not a code (a name typed in) or a code the
    workspace's lake does not hold (checked when a workspace is given)."""
    key, pattern, refusal = TARGETS[kind]
    label = context.text(key, lang)
    codes = [c.upper() for c in _codes(values)]
    for v in _codes(values):
        if not pattern.match(v.upper()):
            raise ComplaintError(context.text(refusal, lang, field=label, value=v))
    unknown = fields.lake_unknown(workspace, kind, sorted(set(codes))) if workspace else []
    if unknown:
        msg = context.text("complaints.unknown_codes", lang, field=label, codes="、".join(unknown))
        raise ComplaintError(msg)
    return codes


def register_from_form(
    store: CaseStore,
    user: User | None,
    *,
    received: str | None,
    source: str | None,
    content: str | None,
    complainant: str | None = None,
    contact: str | None = None,
    institutions: str | list[str] | None = None,
    persons: str | list[str] | None = None,
    workspace: Path | None = None,
    lang: str = "zh",
) -> str:
    """Register what the form holds; return the new number. ``ComplaintError`` (with
    the form's wording, fields named by their labels) for a bad date or field, a name
    where a code belongs, or a code the ``workspace``'s lake does not hold; nothing is
    written then."""
    user = _allow(user, VIEW, "登记举报投诉", "register complaints")
    received_on = _form_date(received, "complaints.received", lang)
    if received_on is None:
        label = context.text("complaints.received", lang)
        raise ComplaintError(context.text("complaints.field_required", lang, field=label))
    for value, key in ((source, "complaints.source"), (content, "complaints.what_says")):
        if not (value or "").strip():
            label = context.text(key, lang)
            raise ComplaintError(context.text("complaints.field_required", lang, field=label))
    institutions = known_targets(workspace, "institution", institutions, lang)
    persons = known_targets(workspace, "person", persons, lang)
    return register(
        store,
        received_on=received_on,
        source=source or "",
        content=content or "",
        by=user.username,
        complainant=complainant,
        contact=contact,
        institutions=institutions,
        persons=persons,
    )


def _form_date(value: str | None, key: str, lang: str) -> date | None:
    """A date typed or picked into the field labelled by ``key``; None when empty."""
    typed = (value or "").strip()
    if not typed:
        return None
    try:
        return date.fromisoformat(typed[:10])
    except ValueError:
        label = context.text(key, lang)
        msg = context.text("complaints.not_a_date", lang, field=label, value=typed)
        raise ComplaintError(msg) from None


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
    warnings: tuple[str, ...] = ()
    period: tuple[date, date] | None = None


def detail(
    store: CaseStore,
    user: User | None,
    number: str,
    *,
    lang: str = "zh",
    workspace: Path | None = None,
) -> Detail:
    """One complaint for the page; showing an unmasked complainant writes an audit row.
    ``period`` is the check's default range (the lake's data on the targets) when a
    ``workspace`` is given and the complaint names a target."""
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
    period = None
    if workspace is not None and (c.institutions or c.persons):
        period = default_period(workspace, c)
    done = checks(store, number)
    warnings: list[str] = []
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
        stored = json.loads(latest["detail"])
        rows = stored["by_rule"]
        warnings = stored.get("warnings_en" if lang == "en" else "warnings_zh", [])
        if rows:
            by_rule = pl.DataFrame(rows, schema=by_rule.schema)
    leads = linked_leads(store, number)
    return Detail(c, summary, by_rule, done.drop("detail"), leads, tuple(warnings), period)


def check_from_page(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    number: str,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    lang: str = "zh",
) -> CheckResult:
    """Run and store the targeted check as the logged-in user over the period the form
    holds (an empty end: that end of :func:`default_period`)."""
    user = _allow(user, VIEW, "核查举报投诉", "check complaints")
    start = _form_date(date_from, "complaints.check_from", lang)
    end = _form_date(date_to, "complaints.check_to", lang)
    if start and end and start > end:
        raise ComplaintError(context.text("complaints.empty_period", lang, start=start, end=end))
    return run_check(store, workspace, number, by=user.username, date_from=start, date_to=end)


def close_from_page(
    store: CaseStore, user: User | None, number: str, *, outcome: str | None, text: str | None
) -> Complaint:
    """Close the complaint with the outcome the handler chose, dated today."""
    user = _allow(user, CLOSE, "办结举报投诉", "close complaints")
    return record_outcome(store, number, outcome=outcome or "", text=text or "", by=user.username)
