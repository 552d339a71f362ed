"""Violation notices in the case store: drafts, issuance with numbering, and their life
until the rectification is verified (tables of migration 0004).

Issuing is three steps, so that a number is never handed out twice nor reused: (1) a
write transaction takes the year's next serial and records it as *allocated*; (2) the
documents are rendered and written (temporary name, fsync, rename) under
``WORKSPACE/notices/<number>/``; (3) a second transaction records them, their SHA-256 and
the exact content, and marks the notice issued. If (2) or (3) fails the number is marked
*void* with the reason, its files are removed, and the draft stays a draft: issuing it
again takes the next number. The serials of a year are therefore consecutive, and each
names one attempt.

Status: issued → acknowledged (签收) → rectified (整改报告已提交) → closed (验收办结).
Statements and review requests (陈述、申请复核) are events beside the status, accepted
within ``statement_days`` (10) of the issue date; a later one is refused, or recorded
with ``late = 1`` when the caller says so. Deadlines and overdue marks are computed from
the dates each time they are asked for, never stored twice.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.notices.content import Handling, Item, NoticeContent
from hrss_fraud.notices.draft import catalogue_of, named
from hrss_fraud.notices.render import Layout, docx_bytes, layout, pdf_bytes, sha256, write_atomic

STATUSES: dict[str, tuple[str, str]] = {
    "draft": ("草稿", "draft"),
    "issued": ("已下达", "issued"),
    "acknowledged": ("机构已签收", "acknowledged"),
    "rectified": ("已提交整改报告", "rectification submitted"),
    "closed": ("整改验收，已办结", "verified and closed"),
    "revoked": ("复核撤销", "revoked on review"),
}
"""Status → Chinese and English label, as migrations 0004 and 0006 seed ``notice_status``."""
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "acknowledged": ("issued",),
    "rectified": ("acknowledged",),
    "closed": ("rectified",),
    "revoked": ("issued", "acknowledged", "rectified"),
}
"""Target status → the statuses it may be reached from."""
OPEN = ("issued", "acknowledged")
"""Statuses in which the rectification is still awaited (so may be overdue)."""
REVIEW_OUTCOMES: dict[str, tuple[str, str]] = {
    "upheld": ("维持原通知", "notice upheld"),
    "amended": ("变更处理", "handling amended"),
    "revoked": ("撤销通知", "notice revoked"),
}
"""Outcome of a review request → labels, as migration 0006 seeds them."""
FOLDER = "notices"
_NUMBER = re.compile(r"^(\d{4})-(\d{4,})$")

LIST_SCHEMA: dict[str, pl.DataType] = {
    "number": pl.String(),
    "notice_id": pl.Int64(),
    "status": pl.String(),
    "status_zh": pl.String(),
    "fixmedins_code": pl.String(),
    "fixmedins_name": pl.String(),
    "round_ref": pl.String(),
    "issue_date": pl.Date(),
    "statement_due": pl.Date(),
    "rectify_due": pl.Date(),
    "items": pl.Int64(),
    "amount_involved": pl.Float64(),
    "statements": pl.Int64(),
    "late_statements": pl.Int64(),
    "statement_open": pl.Boolean(),
    "overdue": pl.Boolean(),
    "days_overdue": pl.Int64(),
    "reviews_pending": pl.Int64(),
    "review_due": pl.Date(),
    "review_overdue": pl.Boolean(),
}


class NoticeError(ValueError):
    """A notice action refused: the message says why and leaves nothing half-written."""


EVENT_KINDS: dict[str, tuple[str, str]] = {
    "acknowledged": ("签收", "acknowledgement"),
    "statement": ("陈述", "statement"),
    "review_request": ("复核申请", "review request"),
    "rectified": ("整改报告", "rectification report"),
    "closed": ("整改验收", "verification"),
}
"""What each event of a notice is called in a refusal of it (Chinese, English)."""


@dataclass(frozen=True)
class Issued:
    """A notice just issued: its number and the documents written."""

    notice_id: int
    number: str
    docx: Path
    pdf: Path
    docx_sha256: str
    pdf_sha256: str


@dataclass(frozen=True)
class Notice:
    """One notice as stored: its content (frozen at issue), status and events."""

    notice_id: int
    number: str | None
    status: str
    content: NoticeContent
    docx_path: str | None
    docx_sha256: str | None
    pdf_path: str | None
    pdf_sha256: str | None
    content_sha256: str | None
    events: pl.DataFrame
    reviews: pl.DataFrame
    """One row per review request (:data:`REVIEW_SCHEMA`): when it came, its decision's
    deadline, and the decision once recorded."""


def _today(on: date | None) -> date:
    return date.today() if on is None else on


def _by(by: str) -> str:
    if not by or not by.strip():
        msg = "say who records this (by)"
        raise NoticeError(msg)
    return by.strip()


def _notice_values(content: NoticeContent) -> tuple[object, ...]:
    """The notice row's own columns, in the order creating and editing a draft write them."""
    return (
        content.fixmedins_code.strip(),
        content.fixmedins_name or None,
        content.agreement_no or None,
        content.round_ref or None,
        content.target_ref or None,
        content.inspection_date,
        content.onsite_facts.strip(),
        json.dumps(list(content.inspectors), ensure_ascii=False),
        content.representative or None,
        content.issuing_unit.strip(),
        content.requirements.strip(),
        content.rectify_days,
        content.statement_days,
    )


def create(
    store: CaseStore, content: NoticeContent, *, by: str, require_confirmed: bool = True
) -> int:
    """Record a draft notice; return its ``notice_id``.

    Its findings must be leads whose latest review decision is *confirmed* (a notice
    reports violations, not suspicions) and, where the decision names an institution,
    that institution; ``require_confirmed=False`` allows a notice on on-site facts alone."""
    by = _by(by)
    content = replace(content, number="", issue_date="")
    problems = []
    try:
        content.validate()
    except ValueError as e:
        problems.append(str(e))
    if require_confirmed:
        problems += _finding_problems(store, content)
    if problems:
        msg = "nothing recorded: " + "; ".join(problems)
        raise NoticeError(msg)
    at = timestamp()
    with store.transaction() as con:
        cur = con.execute(
            """INSERT INTO notice (fixmedins_code, fixmedins_name, agreement_no, round_ref,
                   target_ref, inspection_date, onsite_facts, inspectors, representative,
                   issuing_unit, requirements, rectify_days, statement_days, created_by,
                   created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (*_notice_values(content), by, at),
        )
        notice_id = int(cur.lastrowid or 0)
        _write_parts(con, notice_id, content)
        detail = {"fixmedins_code": content.fixmedins_code, "findings": len(content.findings)}
        write_audit(con, at, by, "notice.create", "notice", f"#{notice_id}", detail)
    return notice_id


def _write_parts(con: sqlite3.Connection, notice_id: int, content: NoticeContent) -> None:
    """A draft's leads, items and handling (replacing any it had: migration 0009's
    triggers refuse this once the notice is issued)."""
    for table in ("notice_handling", "notice_item", "notice_finding"):
        con.execute(f"DELETE FROM {table} WHERE notice_id = ?", (notice_id,))
    con.executemany(
        "INSERT INTO notice_finding (notice_id, finding_id) VALUES (?, ?)",
        [(notice_id, f) for f in dict.fromkeys(content.findings)],
    )
    for seq, item in enumerate(content.items, start=1):
        con.execute(
            "INSERT INTO notice_item (notice_id, seq, rule, facts, legal_basis, "
            "amount_involved, framework) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                notice_id,
                seq,
                item.rule,
                item.facts,
                item.legal_basis,
                item.amount_involved,
                item.framework or None,
            ),
        )
        con.executemany(
            "INSERT INTO notice_handling (notice_id, item_seq, measure, amount, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            [(notice_id, seq, h.measure, h.amount, h.detail or None) for h in item.handling],
        )


def update_draft(
    store: CaseStore,
    ref: str | int,
    content: NoticeContent,
    *,
    by: str,
    require_confirmed: bool = True,
) -> int:
    """Replace a draft's content (its fields, leads, items and handling) with ``content``,
    checked as :func:`create` checks a new one; refused once the notice is issued (an
    issued notice is fixed). Returns its ``notice_id``."""
    by = _by(by)
    notice_id = resolve(store, ref)
    content = replace(content, number="", issue_date="")
    problems = []
    try:
        content.validate()
    except ValueError as e:
        problems.append(str(e))
    if require_confirmed:
        problems += _finding_problems(store, content)
    if problems:
        msg = f"draft #{notice_id} not changed: " + "; ".join(problems)
        raise NoticeError(msg)
    at = timestamp()
    with store.transaction() as con:  # the status read and the change under one lock
        (status,) = con.execute(
            "SELECT status FROM notice WHERE notice_id = ?", (notice_id,)
        ).fetchone()
        if status != "draft":
            msg = (
                f"notice #{notice_id} is {status} ({STATUSES[status][0]}): an issued notice "
                "is fixed, only drafts can be edited"
            )
            raise NoticeError(msg)
        con.execute(
            """UPDATE notice SET fixmedins_code = ?, fixmedins_name = ?, agreement_no = ?,
                   round_ref = ?, target_ref = ?, inspection_date = ?, onsite_facts = ?,
                   inspectors = ?, representative = ?, issuing_unit = ?, requirements = ?,
                   rectify_days = ?, statement_days = ?
               WHERE notice_id = ? AND status = 'draft'""",
            (*_notice_values(content), notice_id),
        )
        _write_parts(con, notice_id, content)
        detail = {"items": len(content.items), "findings": len(content.findings)}
        write_audit(con, at, by, "notice.edit", "notice", f"#{notice_id}", detail)
    return notice_id


def next_number(store: CaseStore, on: date | None = None) -> str:
    """The number issuing a notice dated ``on`` (default today) would take now: the
    year's next serial (void ones are never reused)."""
    day = _today(on)
    ((serial,),) = store.query(
        "SELECT coalesce(max(serial), 0) + 1 FROM notice_number WHERE year = ?", (day.year,)
    )
    return f"{day.year}-{serial:04d}"


def preview(
    store: CaseStore,
    ref: str | int,
    workspace: Path | None = None,
    *,
    on: date | None = None,
    lang: str = "zh",
) -> tuple[str, Layout]:
    """What issuing the draft ``ref`` on ``on`` would write: the number it would take and
    the document's layout (its rules named from ``workspace``'s catalogue, as
    :func:`issue` names them), without taking the number."""
    notice_id = resolve(store, ref)
    (status,) = store.query("SELECT status FROM notice WHERE notice_id = ?", (notice_id,))[0]
    if status != "draft":
        n = get(store, notice_id)
        return str(n.number), layout(n.content, n.content.lang)
    number = next_number(store, on)
    content = named(draft_content(store, notice_id), catalogue_of(workspace))
    day = _today(on).isoformat()
    return number, layout(replace(content, number=number, issue_date=day, lang=lang), lang)


def _finding_problems(store: CaseStore, content: NoticeContent) -> list[str]:
    ids = list(dict.fromkeys(content.findings))
    if not ids:
        return ["no finding named: a notice is built from confirmed leads (--findings)"]
    marks = ",".join("?" * len(ids))
    rows = store.query(
        f"SELECT finding_id, decision, fixmedins_code FROM current_decision "
        f"WHERE finding_id IN ({marks})",
        tuple(ids),
    )
    state = {f: (d, code) for f, d, code in rows}
    problems = []
    for f in ids:
        decision, code = state.get(f, (None, None))
        if decision != "confirmed":
            problems.append(f"{f} is not a confirmed lead ({decision or 'never decided'})")
        elif code and code != content.fixmedins_code.strip():
            problems.append(f"{f} is a lead on {code}, not {content.fixmedins_code}")
    return problems[:10] + ([f"… {len(problems) - 10} more"] if len(problems) > 10 else [])


def resolve(store: CaseStore, ref: str | int) -> int:
    """The ``notice_id`` of ``ref``: a number (2026-0001), or a draft's id (12 or #12)."""
    text = str(ref).strip()
    if _NUMBER.match(text):
        row = store.query("SELECT notice_id FROM notice WHERE number = ?", (text,))
        if not row:
            voided = store.query(
                "SELECT void_reason FROM notice_number WHERE number = ? AND status = 'void'",
                (text,),
            )
            why = f" (void: {voided[0][0]})" if voided else ""
            msg = f"no issued notice {text}{why}"
            raise NoticeError(msg)
        return int(row[0][0])
    digits = text.removeprefix("#")
    if digits.isdigit():
        row = store.query("SELECT notice_id FROM notice WHERE notice_id = ?", (int(digits),))
        if row:
            return int(row[0][0])
    msg = f"no notice {text!r}: give a number like 2026-0001 or a draft id like #3"
    raise NoticeError(msg)


def draft_content(store: CaseStore, notice_id: int) -> NoticeContent:
    """A notice's content as its tables hold it (the draft; for an issued notice use
    :func:`get`, whose content is the one frozen at issue)."""
    (row,) = store.query(
        """SELECT fixmedins_code, fixmedins_name, agreement_no, round_ref, target_ref,
                  inspection_date, onsite_facts, inspectors, representative, issuing_unit,
                  requirements, rectify_days, statement_days
           FROM notice WHERE notice_id = ?""",
        (notice_id,),
    )
    handling: dict[int, list[Handling]] = {}
    for seq, measure, amount, detail in store.query(
        "SELECT h.item_seq, h.measure, h.amount, h.detail FROM notice_handling h "
        "JOIN notice_measure m USING (measure) WHERE h.notice_id = ? ORDER BY h.item_seq, m.seq",
        (notice_id,),
    ):
        handling.setdefault(seq, []).append(Handling(measure, amount, detail or ""))
    items = tuple(
        Item(rule, facts, basis, amount, tuple(handling.get(seq, ())), framework or "")
        for seq, rule, facts, basis, amount, framework in store.query(
            "SELECT seq, rule, facts, legal_basis, amount_involved, framework FROM notice_item "
            "WHERE notice_id = ? ORDER BY seq",
            (notice_id,),
        )
    )
    findings = tuple(
        f
        for (f,) in store.query(
            "SELECT finding_id FROM notice_finding WHERE notice_id = ? ORDER BY finding_id",
            (notice_id,),
        )
    )
    return NoticeContent(
        fixmedins_code=row[0],
        fixmedins_name=row[1] or "",
        agreement_no=row[2] or "",
        round_ref=row[3] or "",
        target_ref=row[4] or "",
        inspection_date=row[5],
        onsite_facts=row[6],
        inspectors=tuple(json.loads(row[7])),
        representative=row[8] or "",
        issuing_unit=row[9],
        requirements=row[10],
        rectify_days=row[11],
        statement_days=row[12],
        items=items,
        findings=findings,
    )


def issue(
    store: CaseStore,
    ref: str | int,
    workspace: Path,
    *,
    by: str,
    on: date | None = None,
    lang: str = "zh",
    render: Callable[[NoticeContent], tuple[bytes, bytes]] | None = None,
    expect: str | None = None,
) -> Issued:
    """Give a draft the year's next number, render and write its DOCX and PDF, and record
    them (see the module's docstring); :class:`NoticeError` if it fails, with the number
    then void. ``render`` (content → DOCX bytes, PDF bytes) replaces the renderers.

    The rules the items name by id are named from ``workspace``'s catalogue first
    (:func:`~hrss_fraud.notices.draft.named`). ``expect``: the number the user confirmed
    (:func:`next_number`); if another notice took it meanwhile nothing is allocated and
    :class:`NoticeError` says which number would be taken instead."""
    by = _by(by)
    notice_id = resolve(store, ref)
    day = _today(on)
    at = timestamp()
    try:  # an incomplete draft is refused before it costs a number
        draft_content(store, notice_id).validate()
    except ValueError as e:
        raise NoticeError(f"notice #{notice_id}: {e}") from e
    catalogue = catalogue_of(workspace)
    with store.transaction() as con:
        (status,) = con.execute(
            "SELECT status FROM notice WHERE notice_id = ?", (notice_id,)
        ).fetchone()
        if status != "draft":
            msg = f"notice #{notice_id} is {status} ({STATUSES[status][0]}), not a draft"
            raise NoticeError(msg)
        # an attempt that died between allocating and recording left its number allocated
        con.execute(
            "UPDATE notice_number SET status = 'void', void_reason = ? "
            "WHERE notice_id = ? AND status = 'allocated'",
            ("签发中断 issuance interrupted", notice_id),
        )
        (serial,) = con.execute(
            "SELECT coalesce(max(serial), 0) + 1 FROM notice_number WHERE year = ?", (day.year,)
        ).fetchone()
        number = f"{day.year}-{serial:04d}"
        if expect is not None and expect.strip() != number:
            msg = (
                f"编号已变为 {number}（确认时为 {expect.strip()}）：请重新确认 — the next number "
                f"is now {number}, not {expect.strip()}; nothing was issued"
            )
            raise NoticeError(msg)
        con.execute(
            "INSERT INTO notice_number (number, year, serial, notice_id, status, allocated_at, "
            "allocated_by) VALUES (?, ?, ?, ?, 'allocated', ?, ?)",
            (number, day.year, serial, notice_id, at, by),
        )
        write_audit(con, at, by, "notice.number", "notice", number, {"notice_id": notice_id})
    folder = Path(workspace) / FOLDER / number
    try:
        content = replace(
            named(draft_content(store, notice_id), catalogue),
            number=number,
            issue_date=day.isoformat(),
            lang=lang,
        ).validate()
        if render is None:
            docx, pdf = docx_bytes(content, lang), pdf_bytes(content, lang)
        else:
            docx, pdf = render(content)
        docx_path, pdf_path = folder / f"{number}.docx", folder / f"{number}.pdf"
        write_atomic(docx_path, docx)
        write_atomic(pdf_path, pdf)
        text = content.to_json()
        rel = Path(FOLDER) / number
        with store.transaction() as con:
            con.execute(
                """UPDATE notice SET number = ?, status = 'issued', issue_date = ?,
                       statement_due = ?, rectify_due = ?, content_json = ?, content_sha256 = ?,
                       docx_path = ?, docx_sha256 = ?, pdf_path = ?, pdf_sha256 = ?
                   WHERE notice_id = ? AND status = 'draft'""",
                (
                    number,
                    content.issue_date,
                    content.statement_due,
                    content.rectify_due,
                    text,
                    sha256(text.encode("utf-8")),
                    str(rel / docx_path.name),
                    sha256(docx),
                    str(rel / pdf_path.name),
                    sha256(pdf),
                    notice_id,
                ),
            )
            con.execute(
                "UPDATE notice_number SET status = 'issued' WHERE number = ? "
                "AND status = 'allocated'",
                (number,),
            )
            con.execute(
                "INSERT INTO notice_event (notice_id, kind, on_date, at, actor) "
                "VALUES (?, 'issued', ?, ?, ?)",
                (notice_id, content.issue_date, at, by),
            )
            detail = {"notice_id": notice_id, "pdf": sha256(pdf), "docx": sha256(docx)}
            write_audit(con, timestamp(), by, "notice.issue", "notice", number, detail)
    except BaseException as e:
        shutil.rmtree(folder, ignore_errors=True)
        reason = f"{type(e).__name__}: {e}"[:500]
        with store.transaction() as con:
            con.execute(
                "UPDATE notice_number SET status = 'void', void_reason = ? WHERE number = ?",
                (reason, number),
            )
            write_audit(con, timestamp(), by, "notice.void", "notice", number, {"reason": reason})
        if not isinstance(e, Exception):
            raise
        msg = f"issuing notice #{notice_id} failed, number {number} is void: {reason}"
        raise NoticeError(msg) from e
    return Issued(notice_id, number, docx_path, pdf_path, sha256(docx), sha256(pdf))


def _issued(store: CaseStore, ref: str | int) -> tuple[int, str, str, str]:
    notice_id = resolve(store, ref)
    number, status, issue_date = store.query(
        "SELECT number, status, issue_date FROM notice WHERE notice_id = ?",
        (notice_id,),
    )[0]
    if status == "draft":
        msg = f"notice #{notice_id} is a draft: issue it first"
        raise NoticeError(msg)
    return notice_id, number, status, issue_date


def _event(
    store: CaseStore,
    ref: str | int,
    kind: str,
    *,
    by: str,
    on: date | None,
    person: str | None = None,
    text: str | None = None,
    to_status: str | None = None,
    late_ok: bool = False,
) -> int:
    by = _by(by)
    day = _today(on).isoformat()
    at = timestamp()
    with store.transaction() as con:  # read and write under one lock: no race on status
        notice_id, number, status, issue_date = _issued(store, ref)
        last = con.execute(
            "SELECT max(on_date) FROM notice_event WHERE notice_id = ?", (notice_id,)
        ).fetchone()[0]
        what_zh, what_en = EVENT_KINDS[kind]
        # both languages in each refusal, each screen shows its own (dashboard.forms.in_lang)
        if day < issue_date:
            msg = (
                f"{number}：{what_zh}日期 {day} 早于通知单签发日期 {issue_date} "
                f"({number}: {what_en} dated {day}, before the notice was issued ({issue_date}))"
            )
            raise NoticeError(msg)
        if to_status is not None:
            if status not in TRANSITIONS[to_status]:
                allowed_zh = "、".join(STATUSES[s][0] for s in TRANSITIONS[to_status])
                allowed_en = " / ".join(STATUSES[s][1] for s in TRANSITIONS[to_status])
                msg = (
                    f"{number} 当前为“{STATUSES[status][0]}”，只有“{allowed_zh}”的通知单才能"
                    f"变为“{STATUSES[to_status][0]}” ({number} is {STATUSES[status][1]}: it "
                    f"can become {STATUSES[to_status][1]} only from {allowed_en})"
                )
                raise NoticeError(msg)
            if last and day < last:
                msg = (
                    f"{number}：{what_zh}日期 {day} 早于上一次登记的日期 {last} "
                    f"({number}: {what_en} dated {day}, before its last event ({last}))"
                )
                raise NoticeError(msg)
        late = 0
        if kind in ("statement", "review_request"):
            if status in ("closed", "revoked"):
                msg = (
                    f"{number} 已{STATUSES[status][0]}，不能再登记{what_zh} "
                    f"({number} is {status}: no statement can be recorded)"
                )
                raise NoticeError(msg)
            (due,) = con.execute(
                "SELECT statement_due FROM notice WHERE notice_id = ?", (notice_id,)
            ).fetchone()
            if day > due:
                if not late_ok:
                    msg = (  # both languages, each screen shows its own (forms.in_lang)
                        f"{number}：{what_zh}于 {day} 收到，已过 {due} 的期限（签发后10日内），"
                        "不予登记；如需保留，请按逾期登记 "
                        f"({number}: {what_en} received {day}, after the {due} deadline, "
                        "10 days from issue; refused — record it as late if it is to be kept)"
                    )
                    raise NoticeError(msg)
                late = 1
        cur = con.execute(
            "INSERT INTO notice_event (notice_id, kind, on_date, at, actor, person, text, late) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (notice_id, kind, day, at, by, person or None, text or None, late),
        )
        if to_status is not None:
            con.execute("UPDATE notice SET status = ? WHERE notice_id = ?", (to_status, notice_id))
        detail = {"on": day, "late": bool(late), "person": person, "status": to_status or status}
        write_audit(con, at, by, f"notice.{kind}", "notice", number, detail)
        return int(cur.lastrowid or 0)


def acknowledge(
    store: CaseStore, ref: str | int, *, by: str, person: str, on: date | None = None
) -> int:
    """The institution signed for the notice (签收); ``person`` signed."""
    if not person.strip():
        msg = "say who signed for the institution (person)"
        raise NoticeError(msg)
    return _event(store, ref, "acknowledged", by=by, on=on, person=person, to_status="acknowledged")


def statement(
    store: CaseStore,
    ref: str | int,
    *,
    by: str,
    text: str,
    person: str = "",
    review: bool = False,
    on: date | None = None,
    late_ok: bool = False,
) -> int:
    """Record the institution's statement (陈述) or, with ``review``, its review request
    (申请复核), received ``on``; refused after the deadline unless ``late_ok`` (then flagged
    late)."""
    if not text.strip():
        msg = "a statement needs its text (or a summary of it)"
        raise NoticeError(msg)
    kind = "review_request" if review else "statement"
    return _event(store, ref, kind, by=by, on=on, person=person, text=text, late_ok=late_ok)


def rectify(
    store: CaseStore,
    ref: str | int,
    *,
    by: str,
    text: str,
    person: str = "",
    on: date | None = None,
) -> int:
    """The institution submitted its rectification report (整改报告)."""
    if not text.strip():
        msg = "say what the rectification report contains (text)"
        raise NoticeError(msg)
    return _event(
        store, ref, "rectified", by=by, on=on, person=person, text=text, to_status="rectified"
    )


def close(store: CaseStore, ref: str | int, *, by: str, text: str, on: date | None = None) -> int:
    """The centre verified the rectification (整改验收) and closes the notice."""
    if not text.strip():
        msg = "say how the rectification was verified (text)"
        raise NoticeError(msg)
    return _event(store, ref, "closed", by=by, on=on, text=text, to_status="closed")


def get(store: CaseStore, ref: str | int) -> Notice:
    """One notice, with the content it was issued with (a draft's current content)."""
    notice_id = resolve(store, ref)
    (row,) = store.query(
        "SELECT number, status, content_json, content_sha256, docx_path, docx_sha256, "
        "pdf_path, pdf_sha256 FROM notice WHERE notice_id = ?",
        (notice_id,),
    )
    number, status, content_json, content_sha, docx_path, docx_sha, pdf_path, pdf_sha = row
    content = (
        NoticeContent.from_json(content_json) if content_json else draft_content(store, notice_id)
    )
    events = pl.DataFrame(
        store.query(
            "SELECT event_id, kind, on_date, actor, person, text, late = 1 FROM notice_event "
            "WHERE notice_id = ? ORDER BY event_id",
            (notice_id,),
        ),
        schema={
            "event_id": pl.Int64(),
            "kind": pl.String(),
            "on_date": pl.String(),
            "actor": pl.String(),
            "person": pl.String(),
            "text": pl.String(),
            "late": pl.Boolean(),
        },
        orient="row",
    )
    return Notice(
        notice_id,
        number,
        status,
        content,
        docx_path,
        docx_sha,
        pdf_path,
        pdf_sha,
        content_sha,
        events,
        _reviews(store, notice_id),
    )


REVIEW_SCHEMA: dict[str, pl.DataType] = {
    "request_event_id": pl.Int64(),
    "requested_on": pl.String(),
    "decision_due": pl.String(),
    "outcome": pl.String(),
    "outcome_zh": pl.String(),
    "decided_on": pl.String(),
    "decided_by": pl.String(),
    "text": pl.String(),
    "late": pl.Boolean(),
}


def _reviews(store: CaseStore, notice_id: int) -> pl.DataFrame:
    rows = store.query(
        """SELECT r.request_event_id, r.requested_on, r.decision_due, r.outcome, o.label_zh,
                  r.decided_on, r.decided_by, r.text, r.late = 1
           FROM notice_review r LEFT JOIN notice_review_outcome o USING (outcome)
           WHERE r.notice_id = ? ORDER BY r.request_event_id""",
        (notice_id,),
    )
    return pl.DataFrame(rows, schema=REVIEW_SCHEMA, orient="row")


def decide_review(
    store: CaseStore,
    ref: str | int,
    *,
    by: str,
    outcome: str,
    text: str,
    on: date | None = None,
) -> int:
    """Record the centre's decision (复核决定) on the notice's oldest undecided review
    request: ``upheld``, ``amended`` (the handling changed: ``text`` says how) or
    ``revoked`` (the notice is withdrawn: status ``revoked``, no rectification awaited).
    A decision after its deadline (``notice_review.decision_due``, 15 days) is flagged
    late: the delay is the centre's. Returns the request's event id."""
    by = _by(by)
    if outcome not in REVIEW_OUTCOMES:
        msg = f"unknown review outcome {outcome!r}; expected one of {', '.join(REVIEW_OUTCOMES)}"
        raise NoticeError(msg)
    if not text.strip():
        msg = "a review decision needs its text: what was decided and why"
        raise NoticeError(msg)
    day = _today(on).isoformat()
    at = timestamp()
    with store.transaction() as con:
        notice_id, number, status, _issue = _issued(store, ref)
        pending = con.execute(
            """SELECT request_event_id, requested_on, decision_due FROM notice_review
               WHERE notice_id = ? AND outcome IS NULL ORDER BY request_event_id LIMIT 1""",
            (notice_id,),
        ).fetchone()
        if pending is None:
            msg = f"{number}: no review request awaits a decision"
            raise NoticeError(msg)
        request_id, requested_on, due = pending
        if day < requested_on:
            msg = f"{number}: decision dated {day}, before the review request ({requested_on})"
            raise NoticeError(msg)
        if outcome == "revoked" and status not in TRANSITIONS["revoked"]:
            msg = f"{number} is {status} ({STATUSES[status][0]}): it can no longer be revoked"
            raise NoticeError(msg)
        late = int(day > due)
        con.execute(
            "INSERT INTO notice_review_decision (request_event_id, notice_id, outcome, "
            "on_date, at, actor, text, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (request_id, notice_id, outcome, day, at, by, text.strip(), late),
        )
        if outcome == "revoked":
            con.execute("UPDATE notice SET status = 'revoked' WHERE notice_id = ?", (notice_id,))
        detail = {"on": day, "outcome": outcome, "request": request_id, "late": bool(late)}
        write_audit(con, at, by, "notice.review_decision", "notice", number, detail)
        return int(request_id)


def verify(store: CaseStore, ref: str | int, workspace: Path) -> list[str]:
    """What differs between an issued notice's stored hashes and its files and content
    (empty: the files are what was issued)."""
    n = get(store, ref)
    if n.number is None:
        return [f"notice #{n.notice_id} is a draft"]
    problems = []
    for rel, expected in ((n.docx_path, n.docx_sha256), (n.pdf_path, n.pdf_sha256)):
        path = Path(workspace) / str(rel)
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif sha256(path.read_bytes()) != expected:
            problems.append(f"{rel} differs from what was issued (SHA-256)")
    if sha256(n.content.to_json().encode("utf-8")) != n.content_sha256:
        problems.append("the stored content differs from its SHA-256")
    return problems


def notices(store: CaseStore, *, today: date | None = None) -> pl.DataFrame:
    """One row per notice (:data:`LIST_SCHEMA`), newest first, with its deadlines, whether
    the statement window is still open, whether its rectification is overdue, and its
    undecided review requests with the earliest decision deadline."""
    day = _today(today).isoformat()
    rows = store.query(
        """WITH pending AS (
               SELECT notice_id, count(*) AS n, min(decision_due) AS due FROM notice_review
               WHERE outcome IS NULL GROUP BY notice_id)
           SELECT n.number, n.notice_id, n.status, s.label_zh, n.fixmedins_code,
                  n.fixmedins_name, n.round_ref, n.issue_date, n.statement_due, n.rectify_due,
                  (SELECT count(*) FROM notice_item i WHERE i.notice_id = n.notice_id),
                  (SELECT coalesce(sum(amount_involved), 0) FROM notice_item i
                    WHERE i.notice_id = n.notice_id),
                  (SELECT count(*) FROM notice_event e WHERE e.notice_id = n.notice_id
                    AND e.kind IN ('statement', 'review_request')),
                  (SELECT count(*) FROM notice_event e WHERE e.notice_id = n.notice_id
                    AND e.kind IN ('statement', 'review_request') AND e.late = 1),
                  n.status NOT IN ('draft', 'closed', 'revoked') AND ? <= n.statement_due,
                  n.status IN ('issued', 'acknowledged') AND ? > n.rectify_due,
                  CASE WHEN n.status IN ('issued', 'acknowledged') AND ? > n.rectify_due
                       THEN CAST(julianday(?) - julianday(n.rectify_due) AS INTEGER) END,
                  coalesce(p.n, 0), p.due, p.due < ?
           FROM notice n JOIN notice_status s USING (status)
           LEFT JOIN pending p USING (notice_id)
           ORDER BY n.issue_date IS NULL DESC, n.number DESC, n.notice_id DESC""",
        (day, day, day, day, day),
    )
    raw = {k: (pl.String() if isinstance(v, pl.Date) else v) for k, v in LIST_SCHEMA.items()}
    df = pl.DataFrame(rows, schema=raw, orient="row")
    dates = ("issue_date", "statement_due", "rectify_due", "review_due")
    return df.with_columns(pl.col(c).str.to_date("%Y-%m-%d") for c in dates).with_columns(
        pl.col("statement_open", "overdue", "review_overdue").fill_null(False)
    )


def overdue(store: CaseStore, *, today: date | None = None) -> pl.DataFrame:
    """The issued notices whose rectification is past its deadline, most overdue first."""
    return (
        notices(store, today=today)
        .filter(pl.col("overdue"))
        .sort("days_overdue", "number", descending=[True, False])
    )
