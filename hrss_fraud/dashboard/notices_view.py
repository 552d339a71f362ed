"""The notices page's logic (违约通知单): the list with deadlines and overdue marks, the
institutions with confirmed leads, a draft from the form, issuing, the documents, and
every later step (签收, 陈述/申请复核, 整改报告, 验收办结).

Plain functions of a case store and the logged-in user, so the page's callbacks stay a
line or two and tests need no browser. Anyone who may view leads sees the notices and
downloads their documents; drafting, issuing and recording the steps needs
``manage_inspections`` (审核负责人). The store (:mod:`hrss_fraud.notices.store`) checks
every step and writes its audit row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from hrss_fraud.cases.audit import record
from hrss_fraud.dashboard import context
from hrss_fraud.dashboard.forms import field_name
from hrss_fraud.engine.catalogue import Catalogue
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.model.numbers import yuan
from hrss_fraud.model.times import minute
from hrss_fraud.notices.content import (
    DEFAULT_RECTIFY_DAYS,
    DEFAULT_REQUIREMENTS,
    DEFAULT_UNIT,
    ContentError,
    Handling,
    Item,
    NoticeContent,
)
from hrss_fraud.notices.draft import UNKNOWN_RULE, Lead, register_entry, rule_items
from hrss_fraud.notices.render import Layout
from hrss_fraud.notices.store import (
    REVIEW_OUTCOMES,
    STATUSES,
    Issued,
    Notice,
    NoticeError,
    acknowledge,
    close,
    create,
    decide_review,
    get,
    issue,
    notices,
    preview,
    rectify,
    statement,
    update_draft,
)

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User

VIEW = "view_leads"
MANAGE = "manage_inspections"
STEPS: dict[str, tuple[str, str]] = {
    "acknowledged": ("机构签收", "acknowledged"),
    "statement": ("陈述", "statement"),
    "review_request": ("申请复核", "review request"),
    "rectified": ("提交整改报告", "rectification submitted"),
    "closed": ("整改验收办结", "verified and closed"),
    **{
        f"review_{outcome}": (f"复核决定：{zh}", f"review decided: {en}")
        for outcome, (zh, en) in REVIEW_OUTCOMES.items()
    },
}
"""What the step form records → its label; the store names the same kinds (a review
decision is ``review_<outcome>``)."""
LIST_COLUMNS = (
    "ref",
    "status_label",
    "fixmedins_code",
    "fixmedins_name",
    "issue_date",
    "statement_due",
    "rectify_due",
    "deadline",
    "items",
    "amount_involved",
    "statements",
)
LEAD_COLUMNS = ("finding_id", "rule_name", "amount_at_risk", "decided_by", "decided_at")
LABELS: dict[str, tuple[str, str]] = {
    "ref": ("编号", "number"),
    "status_label": ("状态", "status"),
    "fixmedins_code": ("机构编号", "institution"),
    "fixmedins_name": ("机构名称", "name"),
    "issue_date": ("下达日期", "issued"),
    "statement_due": ("陈述期限", "statement due"),
    "rectify_due": ("整改期限", "rectify by"),
    "deadline": ("时限状态", "deadline"),
    "items": ("违约事项", "items"),
    "amount_involved": ("涉及金额(元)", "amount involved (yuan)"),
    "statements": ("陈述/复核", "statements"),
    "finding_id": ("疑点编号", "lead"),
    "rule_id": ("规则", "rule"),
    "rule_name": ("规则", "rule"),
    "amount_at_risk": ("疑点金额(元)", "amount at risk (yuan)"),
    "decided_by": ("确认人", "confirmed by"),
    "decided_at": ("确认时间", "confirmed at"),
    "kind_label": ("事项", "event"),
    "on_date": ("日期", "date"),
    "actor": ("经办人", "recorded by"),
    "person": ("机构人员", "person"),
    "text": ("内容", "text"),
}


def allow(user: User | None, permission: str, what_zh: str, what_en: str) -> User:
    """``user`` if it may ``permission``, else :class:`PermissionError` saying who may not
    do what."""
    if user is None or not user.can(permission):
        who = "未登录用户" if user is None else user.role_zh
        msg = f"{who}无权{what_zh} (not allowed to {what_en})"
        raise PermissionError(msg)
    return user


def status_label(status: str, lang: str = "zh") -> str:
    return STATUSES.get(status, (status, status))[1 if lang == "en" else 0]


def deadline_text(row: dict, lang: str = "zh") -> str:
    """The mark a notice's row carries: overdue, the statement window, a review decision
    awaited (overdue after 15 days), or nothing."""

    text = context.text
    if row["overdue"]:
        return text("notices_view.rectification_overdue", lang, days=row["days_overdue"])
    parts = []
    if row["statement_open"]:
        parts.append(text("notices_view.statement_window_open", lang))
    if row["late_statements"]:
        parts.append(text("notices_view.late_statements", lang, n=row["late_statements"]))
    if row["reviews_pending"]:
        late = row["review_overdue"]
        review = "notices_view.review_overdue_since" if late else "notices_view.review_due"
        parts.append(text(review, lang, due=row["review_due"]))
    return text("notices_view.separator", lang).join(parts)


def notice_rows(
    store: CaseStore, user: User | None, *, today: date | None = None, lang: str = "zh"
) -> pl.DataFrame:
    """Every notice, newest first: ``ref`` (its number, or ``#id`` for a draft), status
    in ``lang``, deadlines and the ``deadline`` mark."""
    allow(user, VIEW, "查看违约通知单", "view notices")
    df = notices(store, today=today)
    return df.with_columns(
        ref=pl.coalesce("number", pl.format("#{}", pl.col("notice_id"))),
        status_label=pl.col("status").map_elements(
            lambda s: status_label(s, lang), return_dtype=pl.String
        ),
        deadline=pl.struct(
            "overdue",
            "days_overdue",
            "statement_open",
            "late_statements",
            "reviews_pending",
            pl.col("review_due").cast(pl.String),
            "review_overdue",
        ).map_elements(lambda r: deadline_text(r, lang), return_dtype=pl.String),
    )


def institutions_with_leads(store: CaseStore, names: dict[str, str] | None = None) -> pl.DataFrame:
    """Institutions with confirmed leads (their latest decision): code, name, count and
    amount at risk, most leads first."""
    rows = store.query(
        """SELECT fixmedins_code, count(*), coalesce(sum(amount_at_risk), 0)
           FROM current_decision
           WHERE decision = 'confirmed' AND fixmedins_code IS NOT NULL
           GROUP BY fixmedins_code ORDER BY count(*) DESC, fixmedins_code"""
    )
    names = names or {}
    return pl.DataFrame(
        [(c, names.get(c, ""), n, a) for c, n, a in rows],
        schema={
            "fixmedins_code": pl.String,
            "fixmedins_name": pl.String,
            "n_leads": pl.Int64,
            "amount_at_risk": pl.Float64,
        },
        orient="row",
    )


def institution_options(store: CaseStore, names: dict[str, str] | None = None) -> list[dict]:
    """The institution dropdown: ``code 名称（N 条，金额）``."""
    return [
        {
            "label": f"{r['fixmedins_code']} {r['fixmedins_name']}（{r['n_leads']}，"
            f"{yuan(r['amount_at_risk'])}）",
            "value": r["fixmedins_code"],
        }
        for r in institutions_with_leads(store, names).iter_rows(named=True)
    ]


def confirmed_leads(
    store: CaseStore, user: User | None, code: str, catalogue: Catalogue | None = None
) -> pl.DataFrame:
    """An institution's confirmed leads as their latest decision recorded them, with the
    rule's Chinese name (``rule_name``; the catalogue's, else the id)."""
    allow(user, VIEW, "查看违约通知单", "view notices")
    rows = store.query(
        """SELECT finding_id, rule_id, amount_at_risk, decided_by, decided_at
           FROM current_decision WHERE decision = 'confirmed' AND fixmedins_code = ?
           ORDER BY amount_at_risk DESC, finding_id""",
        ((code or "").strip(),),
    )
    rules = catalogue.rules if catalogue is not None else {}
    rows = [(f, r, a, b, minute(at, None)) for f, r, a, b, at in rows]
    return pl.DataFrame(
        [
            (f, r, rules[r].name_zh if r in rules else UNKNOWN_RULE, a, b, at)
            for f, r, a, b, at in rows
        ],
        schema={
            "finding_id": pl.String,
            "rule_id": pl.String,
            "rule_name": pl.String,
            "amount_at_risk": pl.Float64,
            "decided_by": pl.String,
            "decided_at": pl.String,
        },
        orient="row",
    )


def register_fields(workspace: Path, code: str | None, on: str | None = None) -> tuple[str, str]:
    """The institution's name and agreement number (协议编号) from the lake's register,
    for the draft form to fill in."""
    if not (code or "").strip():
        return "", ""
    try:
        day = _day(on)
    except NoticeError:
        day = None
    return register_entry(Workspace.of(workspace).lake, str(code), day)


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n for n in re.split(r"[\s,，、;；]+", text or "") if n)


def label(key: str, lang: str = "zh", **fields: object) -> str:
    """A form field's label (``notices.<key>``) as a message names it: without the hint
    in brackets the form shows after it ("检查人员（≥2人，逗号分隔）" → "检查人员")."""
    return field_name(context.text(f"notices.{key}", lang, **fields))


def _refuse(key: str, lang: str, **fields: object) -> NoticeError:
    return NoticeError(context.text(key, lang, **fields))


def _amount(text: str | float | None, what: str, lang: str = "zh") -> float | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        value = float(str(text).replace(",", "").strip())
    except ValueError:
        raise _refuse("notices_view.not_amount", lang, field=what, value=text) from None
    return value


def _days(text: str | int | None, lang: str = "zh") -> int:
    typed = str(text if text is not None else "").strip() or str(DEFAULT_RECTIFY_DAYS)
    try:
        days = int(typed)
    except ValueError:
        days = 0
    if not 1 <= days <= 365:
        raise _refuse(
            "notices_view.not_days", lang, field=label("rectify_within_days", lang), value=typed
        )
    return days


def check_draft(form: DraftForm, lang: str = "zh", *, leads: bool = True) -> None:
    """Refuse a draft form that lacks what a notice needs, in ``lang``, naming each field
    by its label: every empty field at once, then a bad date, too few inspectors or a bad
    number of days (``leads``: whether leads must be ticked, as for a new draft)."""
    empty = [
        label(key, lang)
        for key, value in (
            ("institution_with_confirmed_leads", form.fixmedins_code),
            ("leads_notice", "x" if form.findings or not leads else ""),
            ("inspection_date", form.inspection_date),
            ("inspectors_2_comma_separated", form.inspectors),
            ("site_facts", form.onsite_facts),
        )
        if not str(value or "").strip()
    ]
    if empty:
        fields = context.text("notices_view.list_separator", lang).join(empty)
        raise _refuse("notices_view.fill_in", lang, fields=fields)
    _day(form.inspection_date, label("inspection_date", lang), lang)
    if len(_names(form.inspectors)) < 2:
        field = label("inspectors_2_comma_separated", lang)
        raise _refuse(
            "notices_view.two_inspectors", lang, field=field, n=len(_names(form.inspectors))
        )
    _days(form.rectify_days, lang)


def check_items(items: list[ItemForm], lang: str = "zh") -> None:
    """Refuse an edited draft's item with an empty name, facts or clause, naming the item
    and the field."""
    for n, item in enumerate(items, start=1):
        empty = [
            label(key, lang)
            for key, value in (
                ("rule_name", item.rule),
                ("item_facts", item.facts),
                ("clause_broken", item.legal_basis),
            )
            if not str(value or "").strip()
        ]
        if empty:
            where = context.text("notices.item_n", lang, n=n)
            fields = context.text("notices_view.list_separator", lang).join(empty)
            raise _refuse("notices_view.fill_in_item", lang, item=where, fields=fields)


@dataclass(frozen=True)
class DraftForm:
    """What the draft form holds; text as typed. The items are drafted from the chosen
    leads, one per rule (:func:`hrss_fraud.notices.draft.rule_items`), and edited in the
    draft."""

    fixmedins_code: str | None
    findings: list[str] | None
    inspection_date: str | None
    inspectors: str | None
    onsite_facts: str | None
    fixmedins_name: str | None = None
    agreement_no: str | None = None
    representative: str | None = None
    round_ref: str | None = None
    requirements: str | None = None
    rectify_days: str | int | None = None
    issuing_unit: str | None = None


@dataclass(frozen=True)
class ItemForm:
    """One item of a draft as its edit form holds it (text as typed)."""

    rule: str | None
    facts: str | None
    legal_basis: str | None
    amount: str | float | None
    recover: str | float | None = None
    refuse: str | float | None = None
    penalty: str | float | None = None
    suspend: str | None = None
    interview: bool = False


def _content(form: DraftForm, items: tuple[Item, ...], findings: tuple[str, ...]) -> NoticeContent:
    return NoticeContent(
        fixmedins_code=(form.fixmedins_code or "").strip(),
        fixmedins_name=(form.fixmedins_name or "").strip(),
        agreement_no=(form.agreement_no or "").strip(),
        inspection_date=(form.inspection_date or "").strip()[:10],
        inspectors=_names(form.inspectors),
        onsite_facts=(form.onsite_facts or "").strip(),
        items=items,
        requirements=(form.requirements or "").strip() or DEFAULT_REQUIREMENTS,
        rectify_days=_days(form.rectify_days),
        issuing_unit=(form.issuing_unit or "").strip() or DEFAULT_UNIT,
        representative=(form.representative or "").strip(),
        round_ref=(form.round_ref or "").strip(),
        findings=findings,
    )


def draft_from_form(
    store: CaseStore,
    user: User | None,
    form: DraftForm,
    catalogue: Catalogue | None = None,
    evidence: dict[str, str] | None = None,
    lang: str = "zh",
) -> int:
    """Record a draft from the form: one item per rule of the chosen confirmed leads, with
    the rule's Chinese name, framework code, legal basis, facts (quoting up to three of
    the leads' ``evidence`` texts, finding id → text, when the run still holds them) and
    total (recovery of it as the handling), to edit before it is issued; return its id.
    A form lacking what a notice needs is refused in ``lang`` (:func:`check_draft`)."""
    user = allow(user, MANAGE, "起草违约通知单", "draft notices")
    check_draft(form, lang)
    code = (form.fixmedins_code or "").strip()
    chosen = list(form.findings or [])
    leads = confirmed_leads(store, user, code).filter(pl.col("finding_id").is_in(chosen))
    items = rule_items(
        (
            Lead(
                r["finding_id"],
                r["rule_id"],
                r["amount_at_risk"] or 0.0,
                (evidence or {}).get(r["finding_id"]) or "",
            )
            for r in leads.iter_rows(named=True)
        ),
        catalogue,
    )
    return create(store, _content(form, items, tuple(chosen)), by=user.username)


def edit_draft(
    store: CaseStore,
    user: User | None,
    ref: str,
    form: DraftForm,
    items: list[ItemForm],
    lang: str = "zh",
) -> int:
    """Replace a draft's fields and items with the edit form's (its leads and each item's
    framework code stay); refused once it is issued, or in ``lang`` naming the field when
    one is empty or malformed. Return its id."""
    user = allow(user, MANAGE, "修改违约通知单草稿", "edit notice drafts")
    old = get(store, ref).content
    check_draft(replace(form, fixmedins_code=old.fixmedins_code), lang, leads=False)
    check_items(items, lang)
    edited = []
    for n, i in enumerate(items, start=1):
        handling = [
            Handling(m, v)
            for m, text in (("recover", i.recover), ("refuse", i.refuse), ("penalty", i.penalty))
            if (v := _amount(text, _item_field(n, m, lang), lang)) is not None
        ]
        if (i.suspend or "").strip():
            handling.append(Handling("suspend", None, str(i.suspend).strip()))
        if i.interview:
            handling.append(Handling("interview"))
        amount = _amount(i.amount, _item_field(n, "item_amount", lang), lang)
        framework = old.items[n - 1].framework if n <= len(old.items) else ""
        edited.append(
            Item(
                rule=(i.rule or "").strip(),
                facts=(i.facts or "").strip(),
                legal_basis=(i.legal_basis or "").strip(),
                amount_involved=0.0 if amount is None else amount,
                handling=tuple(handling),
                framework=framework,
            )
        )
    form = replace(
        form,
        fixmedins_code=old.fixmedins_code,
        fixmedins_name=form.fixmedins_name or old.fixmedins_name,
    )
    content = replace(_content(form, tuple(edited), old.findings), target_ref=old.target_ref)
    return update_draft(store, ref, content, by=user.username, require_confirmed=bool(old.findings))


def _item_field(n: int, key: str, lang: str) -> str:
    """Item ``n``'s field ``key`` as a message names it ("第2项追回金额", "Item 2 recover")."""
    space = " " if lang == "en" else ""
    return f"{context.text('notices.item_n', lang, n=n)}{space}{label(key, lang)}"


def preview_from_page(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    ref: str,
    *,
    on: str | None = None,
    lang: str = "zh",
) -> tuple[str, Layout]:
    """The number issuing the draft now would take and the document it would write."""
    allow(user, VIEW, "查看违约通知单", "view notices")
    day = _day(on, label("issue_date_default_today", lang), lang)
    return preview(store, ref, workspace, on=day, lang=lang)


def issue_from_page(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    ref: str,
    *,
    on: str | None = None,
    lang: str = "zh",
    expect: str | None = None,
) -> Issued:
    """Number the draft and render its DOCX and PDF (dated ``on``, default today);
    ``expect``: the number the user confirmed (refused if another notice took it)."""
    user = allow(user, MANAGE, "下达违约通知单", "issue notices")
    day = _day(on, label("issue_date_default_today", lang), lang)
    return issue(store, ref, workspace, by=user.username, on=day, lang=lang, expect=expect)


def _day(text: str | None, field: str = "", lang: str = "zh") -> date | None:
    """The date typed (None when empty); refused in ``lang`` naming ``field`` (by default
    the step form's date) when it is not one."""
    if not (text or "").strip():
        return None
    try:
        return date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        field = field or label("date_default_today", lang)
        raise _refuse(
            "notices_view.not_a_date", lang, field=field, value=str(text).strip()
        ) from None


def record_step(
    store: CaseStore,
    user: User | None,
    ref: str,
    step: str | None,
    *,
    on: str | None = None,
    text: str | None = None,
    person: str | None = None,
    late: bool = False,
    lang: str = "zh",
) -> int:
    """Record one step of an issued notice (see :data:`STEPS`) dated ``on`` (default
    today); a missing step, text or signer or a bad date is refused in ``lang`` naming
    the field, and the store refuses a step out of order or a late statement unless
    ``late``. Return the event id."""
    user = allow(user, MANAGE, "登记违约通知单办理情况", "record notice steps")
    if step is None:
        raise _refuse("notices_view.choose", lang, field=label("step", lang))
    day, by, text, person = _day(on, "", lang), user.username, text or "", (person or "").strip()
    if step == "acknowledged" and not person:
        raise _refuse("notices_view.fill_in", lang, fields=label("person_who_signed", lang))
    if step != "acknowledged" and not text.strip():
        raise _refuse("notices_view.fill_in", lang, fields=label("text_required_most_steps", lang))
    if step == "acknowledged":
        return acknowledge(store, ref, by=by, person=person, on=day)
    if step in ("statement", "review_request"):
        return statement(
            store,
            ref,
            by=by,
            text=text,
            person=person,
            review=step == "review_request",
            on=day,
            late_ok=late,
        )
    if step == "rectified":
        return rectify(store, ref, by=by, text=text, person=person, on=day)
    if step == "closed":
        return close(store, ref, by=by, text=text, on=day)
    if step.removeprefix("review_") in REVIEW_OUTCOMES:
        outcome = step.removeprefix("review_")
        return decide_review(store, ref, by=by, outcome=outcome, text=text, on=day)
    raise _refuse("notices_view.choose", lang, field=label("step", lang))


def next_steps(status: str, *, review_pending: bool = False) -> list[str]:
    """The steps a notice in ``status`` may take next (statements until it is closed or
    revoked; a decision while a review request awaits one)."""
    move = {"issued": "acknowledged", "acknowledged": "rectified", "rectified": "closed"}
    out = [move[status]] if status in move else []
    if status not in ("draft", "closed", "revoked"):
        out += ["statement", "review_request"]
    if review_pending:
        out += [f"review_{o}" for o in REVIEW_OUTCOMES if o != "revoked" or status != "closed"]
    return out


def step_options(
    status: str, lang: str = "zh", *, review_pending: bool = False
) -> list[dict[str, str]]:
    i = 1 if lang == "en" else 0
    steps = next_steps(status, review_pending=review_pending)
    return [{"label": STEPS[s][i], "value": s} for s in steps]


def review_pending(n: Notice) -> bool:
    """Whether a review request of ``n`` awaits the centre's decision."""
    return bool(n.reviews["outcome"].is_null().any())


def notice(
    store: CaseStore, user: User | None, ref: str, *, lang: str = "zh"
) -> tuple[Notice, pl.DataFrame]:
    """One notice and its events with their labels in ``lang``."""
    allow(user, VIEW, "查看违约通知单", "view notices")
    n = get(store, ref)
    i = 1 if lang == "en" else 0
    labels = {k: v[i] for k, v in STEPS.items()} | {"issued": ("下达", "issued")[i]}
    decided = n.reviews.filter(pl.col("outcome").is_not_null()).select(
        event_id=pl.lit(None, pl.Int64),
        kind=pl.format("review_{}", "outcome"),
        on_date="decided_on",
        actor="decided_by",
        person=pl.lit(None, pl.String),
        text="text",
        late="late",
    )
    events = (
        pl.concat([n.events, decided])
        .sort("on_date", maintain_order=True)
        .with_columns(
            kind_label=pl.col("kind").replace_strict(labels, default=pl.col("kind"))
            + pl.when(pl.col("late"))
            .then(pl.lit(context.text("notices_view.late_mark", lang)))
            .otherwise(pl.lit(""))
        )
    )
    return n, events


def document(
    store: CaseStore, workspace: Path, user: User | None, ref: str, kind: str
) -> tuple[str, bytes]:
    """An issued notice's DOCX or PDF: file name and bytes, as written when it was issued."""
    user = allow(user, VIEW, "下载违约通知单", "download notices")
    n = get(store, ref)
    rel = n.pdf_path if kind == "pdf" else n.docx_path
    if not rel:
        msg = f"notice #{n.notice_id} is a draft: it has no document yet"
        raise NoticeError(msg)
    path = Path(workspace) / rel
    if not path.is_file():
        msg = f"{rel} is missing from the workspace"
        raise NoticeError(msg)
    data = path.read_bytes()
    detail = {"file": path.name}
    record(store, user.username, "export.download", "notice", str(n.number), detail)
    return path.name, data


ERRORS = (NoticeError, ContentError, PermissionError)
"""What the page shows as a message instead of failing."""
