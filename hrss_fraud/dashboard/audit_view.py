"""The audit-log page (审计日志) for administrators: one page of :func:`audit.browse` with
the filters the form sends, refused to anyone without ``browse_audit``, and itself logged
(``audit.browse``): reading the trail leaves a trace in it too."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.cases import audit

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User

PAGE_SIZE = 50


def action_choices(lang: str = "zh") -> list[dict[str, str]]:
    """The action filter's options: each action code with its label, and each family of
    actions (``login.``) as a prefix."""
    prefixes = sorted({code.split(".")[0] + "." for code in audit.ACTIONS if "." in code})
    label = 1 if lang == "en" else 0
    out = [{"label": f"{p}*", "value": p} for p in prefixes]
    out += [{"label": f"{v[label]} ({k})", "value": k} for k, v in audit.ACTIONS.items()]
    return out


def _day(value: str | date | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        msg = f"日期格式应为 YYYY-MM-DD ({value!r} is not a date)"
        raise ValueError(msg) from None


def filter_from_form(
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
) -> audit.AuditFilter:
    """The form's fields as an :class:`audit.AuditFilter`; ``date_to`` is inclusive (the
    whole day), empty fields are no constraint."""
    start, end = _day(date_from), _day(date_to)
    return audit.AuditFilter(
        actor=(actor or "").strip() or None,
        action=action or None,
        object_type=(object_type or "").strip() or None,
        object_id=(object_id or "").strip() or None,
        since=datetime.combine(start, time()) if start else None,
        until=datetime.combine(end + timedelta(days=1), time()) if end else None,
    )


def audit_page(
    case_store: CaseStore,
    user: User | None,
    flt: audit.AuditFilter | None = None,
    *,
    page: int = 0,
    page_size: int = PAGE_SIZE,
    lang: str = "zh",
) -> tuple[pl.DataFrame, int]:
    """Page ``page`` (from 0) of the log, newest first, with ``action_label`` in ``lang``,
    and the number of matching rows. ``PermissionError`` unless ``user`` may browse the
    log; each call is recorded as ``audit.browse`` with the filters it used."""
    if user is None or not user.can("browse_audit"):
        who = "未登录用户" if user is None else user.role_zh
        msg = f"{who}无“查阅审计日志”权限 (only an administrator may browse the audit log)"
        raise PermissionError(msg)
    f = flt or audit.AuditFilter()
    rows, total = audit.browse(case_store, f, limit=page_size, offset=max(0, page) * page_size)
    used: dict[str, Any] = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in vars(f).items()
        if v is not None
    }
    audit.record(case_store, user.username, "audit.browse", "audit_log", "", {**used, "page": page})
    label = "action_en" if lang == "en" else "action_zh"
    return rows.with_columns(action_label=pl.col(label)), total
