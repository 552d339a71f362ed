"""On-site violation notices (现场监督检查违约通知单): drafting, numbered issuance as DOCX
and PDF, and tracking until the rectification is verified (DOMAIN.md §5)."""

from hrss_fraud.notices.content import ContentError, Handling, Item, NoticeContent
from hrss_fraud.notices.draft import Lead, named, register_entry, rule_items
from hrss_fraud.notices.render import RenderError, docx_bytes, layout, pdf_bytes
from hrss_fraud.notices.store import (
    Issued,
    Notice,
    NoticeError,
    acknowledge,
    close,
    create,
    decide_review,
    get,
    issue,
    next_number,
    notices,
    overdue,
    preview,
    rectify,
    statement,
    update_draft,
    verify,
)

__all__ = [
    "ContentError",
    "Handling",
    "Issued",
    "Item",
    "Lead",
    "Notice",
    "NoticeContent",
    "NoticeError",
    "RenderError",
    "acknowledge",
    "close",
    "create",
    "decide_review",
    "docx_bytes",
    "get",
    "issue",
    "layout",
    "named",
    "next_number",
    "notices",
    "overdue",
    "pdf_bytes",
    "preview",
    "rectify",
    "register_entry",
    "rule_items",
    "statement",
    "update_draft",
    "verify",
]
