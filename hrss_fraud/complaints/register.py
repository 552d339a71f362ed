"""The complaints register (举报投诉登记): register, link, assign, close, and list with deadlines.

A complaint is handled within 30 days of receipt (DOMAIN.md §1). It moves forward only:
registered → checking (a handler is assigned, or a targeted check runs) → handled with an
outcome; one passed on to another body (转办) may be closed straight from registered.
Every change writes its audit-log row in the same transaction, and every check runs
before anything is written, so a refused change leaves the store as it was. The
complainant's name and contact are masked in lists unless the role may view identities.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from hrss_fraud.cases.masking import mask_frame
from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.cases.vocab import normalise
from hrss_fraud.complaints import fields
from hrss_fraud.complaints.fields import ComplaintError

DEADLINE_DAYS = 30
"""Days from receipt to the handling deadline (DOMAIN.md §1)."""

SOURCES: dict[str, tuple[str, str]] = {
    "phone": ("电话", "phone"),
    "letter": ("信件", "letter"),
    "online": ("网络", "online"),
    "visit": ("来访", "in person"),
    "referral": ("上级转办", "referred by a higher authority"),
    "media": ("媒体", "media report"),
    "other": ("其他", "other"),
}
"""Source code → (Chinese, English), as migration 0005 seeds them (a test holds them equal)."""
STATUSES: dict[str, tuple[str, str]] = {
    "registered": ("已登记", "registered"),
    "checking": ("核查中", "checking"),
    "handled": ("已办结", "handled"),
}
OUTCOMES: dict[str, tuple[str, str]] = {
    "substantiated": ("属实", "substantiated"),
    "partly": ("部分属实", "partly substantiated"),
    "unfounded": ("不属实", "unfounded"),
    "referred": ("转办", "referred elsewhere"),
}
MASKED = {"complainant": "name", "contact": "phone"}
"""The complaint's identifying columns and how :func:`mask_frame` masks them."""

COMPLAINT_COLUMNS = (
    "complaint_id",
    "number",
    "received_on",
    "due_on",
    "source",
    "complainant",
    "contact",
    "content",
    "status",
    "handler",
    "outcome",
    "outcome_text",
    "handled_on",
    "registered_by",
    "registered_at",
    "updated_at",
)
LIST_SCHEMA: dict[str, pl.DataType] = {c: pl.String() for c in COMPLAINT_COLUMNS} | {
    "complaint_id": pl.Int64(),
    "institutions": pl.String(),
    "persons": pl.String(),
    "n_leads": pl.Int64(),
}


@dataclass(frozen=True)
class Complaint:
    """One complaint as stored, with its targets (codes)."""

    complaint_id: int
    number: str
    received_on: date
    due_on: date
    source: str
    complainant: str | None
    contact: str | None
    content: str
    status: str
    handler: str | None
    outcome: str | None
    outcome_text: str | None
    handled_on: date | None
    registered_by: str
    institutions: tuple[str, ...]
    persons: tuple[str, ...]


def required_text(value: str | None, what: str) -> str:
    """``value`` stripped; :class:`ComplaintError` naming ``what`` if it is empty, longer
    than a name may be or holds a control character (:mod:`hrss_fraud.complaints.fields`)."""
    return fields.required(None if value is None else str(value), what)


def long_text(value: str | None, what: str) -> str:
    """A required text of several lines (the content, the outcome), at most
    :data:`~hrss_fraud.complaints.fields.MAX_TEXT` characters."""
    return fields.required(value, what, limit=fields.MAX_TEXT, lines=True)


def _code(value: str, vocabulary: dict[str, tuple[str, str]], what: str) -> str:
    try:
        return normalise(value, vocabulary, what)
    except ValueError as e:
        raise ComplaintError(str(e)) from None


def _row(store: CaseStore, number: str) -> tuple:
    rows = store.query(
        f"SELECT {', '.join(COMPLAINT_COLUMNS)} FROM complaint WHERE number = ?",
        (number.strip(),),
    )
    if not rows:
        msg = f"no complaint numbered {number!r}; `hrss-fraud complaints list` shows them"
        raise ComplaintError(msg)
    return rows[0]


def _insert_targets(
    con: sqlite3.Connection, complaint_id: int, kind: str, codes: list[str], by: str, at: str
) -> list[str]:
    added = []
    for code in codes:
        cur = con.execute(
            "INSERT OR IGNORE INTO complaint_target (complaint_id, kind, code, linked_by, "
            "linked_at) VALUES (?, ?, ?, ?, ?)",
            (complaint_id, kind, code, by, at),
        )
        if cur.rowcount:
            added.append(code)
    return added


def register(
    store: CaseStore,
    *,
    received_on: date,
    source: str,
    content: str,
    by: str,
    complainant: str | None = None,
    contact: str | None = None,
    institutions: Iterable[str] = (),
    persons: Iterable[str] = (),
    today: date | None = None,
) -> str:
    """Register a complaint received on ``received_on``; return its number (year of
    receipt and the next serial of that year, e.g. ``2025-0007``).

    ``source`` is a code or its Chinese label (电话, 信件, …). The serial is taken inside
    the write transaction, so two registrations at once never share a number."""
    source = _code(source, SOURCES, "source")
    content = long_text(content, "content (举报内容)")
    by = required_text(by, "by (登记人)")
    complainant = fields.text(complainant, "complainant (举报人)") or None
    contact = fields.text(contact, "contact (联系方式)") or None
    if received_on > (today or date.today()):
        msg = f"received date {received_on} is in the future"
        raise ComplaintError(msg)
    insts = fields.institution_codes(institutions)
    psns = fields.person_codes(persons)
    at = timestamp()
    with store.transaction() as con:
        serial = con.execute(
            "SELECT coalesce(max(serial), 0) + 1 FROM complaint WHERE year = ?",
            (received_on.year,),
        ).fetchone()[0]
        number = f"{received_on.year}-{serial:04d}"
        cur = con.execute(
            """INSERT INTO complaint (number, year, serial, received_on, due_on, source,
                   complainant, contact, content, registered_by, registered_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                number,
                received_on.year,
                serial,
                received_on.isoformat(),
                (received_on + timedelta(days=DEADLINE_DAYS)).isoformat(),
                source,
                complainant,
                contact,
                content,
                by,
                at,
                at,
            ),
        )
        complaint_id = int(cur.lastrowid or 0)
        _insert_targets(con, complaint_id, "institution", insts, by, at)
        _insert_targets(con, complaint_id, "person", psns, by, at)
        detail = {"source": source, "received_on": received_on.isoformat()}
        detail |= {"institutions": insts, "persons": psns}
        write_audit(con, at, by, "complaint.register", "complaint", number, detail)
    return number


def get(store: CaseStore, number: str) -> Complaint:
    """The complaint numbered ``number`` (unmasked: for the code that handles it)."""
    row = dict(zip(COMPLAINT_COLUMNS, _row(store, number), strict=True))
    targets = store.query(
        "SELECT kind, code FROM complaint_target WHERE complaint_id = ? ORDER BY kind, code",
        (row["complaint_id"],),
    )
    return Complaint(
        complaint_id=row["complaint_id"],
        number=row["number"],
        received_on=date.fromisoformat(row["received_on"]),
        due_on=date.fromisoformat(row["due_on"]),
        source=row["source"],
        complainant=row["complainant"],
        contact=row["contact"],
        content=row["content"],
        status=row["status"],
        handler=row["handler"],
        outcome=row["outcome"],
        outcome_text=row["outcome_text"],
        handled_on=date.fromisoformat(row["handled_on"]) if row["handled_on"] else None,
        registered_by=row["registered_by"],
        institutions=tuple(c for k, c in targets if k == "institution"),
        persons=tuple(c for k, c in targets if k == "person"),
    )


def _open(c: Complaint, action: str) -> None:
    if c.status == "handled":
        msg = (
            f"complaint {c.number} was handled on {c.handled_on} ({OUTCOMES[c.outcome or ''][0]}) "
            f"and is final: cannot {action}"
        )
        raise ComplaintError(msg)


def link(
    store: CaseStore,
    number: str,
    *,
    by: str,
    institutions: Iterable[str] = (),
    persons: Iterable[str] = (),
    leads: pl.DataFrame | None = None,
    check_id: int | None = None,
) -> dict[str, list[str]]:
    """Link institutions, persons and leads to an open complaint; return what was new.

    ``leads`` holds finding rows (``finding_id`` and, if present, ``rule_id,
    fixmedins_code, psn_no, amount_at_risk, run_id``) kept as they are now. Linking
    something already linked changes nothing."""
    by = required_text(by, "by (操作人)")
    insts = fields.institution_codes(institutions)
    psns = fields.person_codes(persons)
    lead_rows = [] if leads is None else leads.to_dicts()
    if not (insts or psns or lead_rows):
        msg = "nothing to link: give institutions, persons or leads"
        raise ComplaintError(msg)
    at = timestamp()
    with store.transaction() as con:
        c = get(store, number)  # read under the write lock: no one closes it meanwhile
        _open(c, "link to it")
        added = {
            "institutions": _insert_targets(con, c.complaint_id, "institution", insts, by, at),
            "persons": _insert_targets(con, c.complaint_id, "person", psns, by, at),
            "leads": insert_leads(con, c.complaint_id, lead_rows, check_id, by, at),
        }
        if any(added.values()):
            sql = "UPDATE complaint SET updated_at = ? WHERE complaint_id = ?"
            con.execute(sql, (at, c.complaint_id))
            detail = {k: v for k, v in added.items() if v} | {"check_id": check_id}
            write_audit(con, at, by, "complaint.link", "complaint", c.number, detail)
    return added


def insert_leads(
    con: sqlite3.Connection,
    complaint_id: int,
    rows: list[dict],
    check_id: int | None,
    by: str,
    at: str,
) -> list[str]:
    """Inside the caller's transaction: link the finding rows not yet linked; return
    their ids."""
    added = []
    for r in rows:
        amount = r.get("amount_at_risk")
        cur = con.execute(
            """INSERT OR IGNORE INTO complaint_lead (complaint_id, finding_id, check_id,
                   rule_id, fixmedins_code, psn_no, amount_at_risk, run_id, linked_by,
                   linked_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                complaint_id,
                r["finding_id"],
                check_id,
                r.get("rule_id"),
                r.get("fixmedins_code"),
                r.get("psn_no"),
                None if amount is None else float(amount),
                r.get("run_id"),
                by,
                at,
            ),
        )
        if cur.rowcount:
            added.append(r["finding_id"])
    return added


def assign(store: CaseStore, number: str, handler: str, *, by: str) -> None:
    """Give the complaint a handler (承办人); a registered complaint starts its check."""
    handler = required_text(handler, "handler (承办人)")
    by = required_text(by, "by (操作人)")
    at = timestamp()
    with store.transaction() as con:
        c = get(store, number)
        _open(c, "reassign it")
        con.execute(
            "UPDATE complaint SET handler = ?, status = 'checking', updated_at = ? "
            "WHERE complaint_id = ?",
            (handler, at, c.complaint_id),
        )
        detail = {"handler": handler, "previous": c.handler, "status": "checking"}
        write_audit(con, at, by, "complaint.assign", "complaint", c.number, detail)


def start_check(con: sqlite3.Connection, c: Complaint, at: str) -> None:
    """Inside the caller's transaction: a registered complaint moves to checking."""
    if c.status == "registered":
        con.execute(
            "UPDATE complaint SET status = 'checking', updated_at = ? WHERE complaint_id = ?",
            (at, c.complaint_id),
        )


def _closable(c: Complaint, outcome: str, handled_on: date) -> None:
    _open(c, "close it again")
    if c.status == "registered" and outcome != "referred":
        msg = (
            f"complaint {c.number} is still registered: check it first (`complaints check "
            f"{c.number}` or assign a handler), or close it as 转办 (referred)"
        )
        raise ComplaintError(msg)
    if handled_on < c.received_on:
        msg = f"handled date {handled_on} precedes the receipt date {c.received_on}"
        raise ComplaintError(msg)


def record_outcome(
    store: CaseStore,
    number: str,
    *,
    outcome: str,
    text: str,
    by: str,
    handled_on: date | None = None,
) -> Complaint:
    """Close the complaint with its outcome (属实/部分属实/不属实/转办) and what was done.

    Only a complaint under check may be found true or not; one still registered may only
    be referred on (转办). ``handled_on`` (default today) may not precede receipt."""
    outcome = _code(outcome, OUTCOMES, "outcome")
    text = long_text(text, "outcome text (办理结果)")
    by = required_text(by, "by (操作人)")
    handled_on = handled_on or date.today()
    at = timestamp()
    with store.transaction() as con:
        c = get(store, number)
        _closable(c, outcome, handled_on)
        con.execute(
            """UPDATE complaint SET status = 'handled', outcome = ?, outcome_text = ?,
                   handled_on = ?, handler = coalesce(handler, ?), updated_at = ?
               WHERE complaint_id = ?""",
            (outcome, text, handled_on.isoformat(), by, at, c.complaint_id),
        )
        detail = {"outcome": outcome, "handled_on": handled_on.isoformat()}
        detail["late"] = handled_on > c.due_on
        write_audit(con, at, by, "complaint.close", "complaint", c.number, detail)
    return get(store, number)


def complaints(
    store: CaseStore,
    *,
    today: date | None = None,
    overdue_only: bool = False,
    status: str | None = None,
    role: str | None = None,
) -> pl.DataFrame:
    """Every complaint, newest first, with labels, days left, ``overdue`` (open past its
    deadline) and ``late`` (handled after it), its targets and number of linked leads.

    The complainant and contact are masked unless ``role`` may view identities."""
    today = today or date.today()
    cols = ", ".join(f"c.{c}" for c in COMPLAINT_COLUMNS)
    rows = store.query(
        f"""SELECT {cols},
                (SELECT group_concat(code, ',') FROM (SELECT code FROM complaint_target t
                  WHERE t.complaint_id = c.complaint_id AND kind = 'institution' ORDER BY code)),
                (SELECT group_concat(code, ',') FROM (SELECT code FROM complaint_target t
                  WHERE t.complaint_id = c.complaint_id AND kind = 'person' ORDER BY code)),
                (SELECT count(*) FROM complaint_lead l WHERE l.complaint_id = c.complaint_id)
            FROM complaint c ORDER BY c.year DESC, c.serial DESC"""
    )
    df = pl.DataFrame(rows, schema=LIST_SCHEMA, orient="row").with_columns(
        pl.col("received_on", "due_on", "handled_on").str.to_date()
    )
    df = df.with_columns(
        source_zh=pl.col("source").replace_strict({k: v[0] for k, v in SOURCES.items()}),
        status_zh=pl.col("status").replace_strict({k: v[0] for k, v in STATUSES.items()}),
        outcome_zh=pl.col("outcome").replace_strict(
            {k: v[0] for k, v in OUTCOMES.items()}, default=None
        ),
        days_left=pl.when(pl.col("status") != "handled").then(
            (pl.col("due_on") - pl.lit(today)).dt.total_days()
        ),
        overdue=(pl.col("status") != "handled") & (pl.col("due_on") < pl.lit(today)),
        late=pl.col("handled_on").is_not_null() & (pl.col("handled_on") > pl.col("due_on")),
    )
    if status is not None:
        df = df.filter(pl.col("status") == _code(status, STATUSES, "status"))
    if overdue_only:
        df = df.filter(pl.col("overdue"))
    return mask_frame(df, role, columns=MASKED)


def reveal_complainant(store: CaseStore, number: str, *, by: str) -> tuple[str | None, str | None]:
    """The complainant's name and contact unmasked, for the handler who must reply; the
    view is written to the audit log (PIPL: every access to personal data is logged)."""
    by = required_text(by, "by (查看人)")
    c = get(store, number)
    with store.transaction() as con:
        write_audit(con, timestamp(), by, "complaint.reveal", "complaint", c.number, None)
    return c.complainant, c.contact


def institutions_for_round(store: CaseStore) -> pl.DataFrame:
    """Institutions named by open complaints, for an inspection round to take as targets:
    ``fixmedins_code, complaint_numbers`` (list, oldest first), ``n_complaints`` and the
    earliest ``due_on``, most complaints first."""
    rows = store.query(
        """SELECT t.code, c.number, c.due_on
           FROM complaint_target t JOIN complaint c USING (complaint_id)
           WHERE t.kind = 'institution' AND c.status <> 'handled'
           ORDER BY t.code, c.year, c.serial"""
    )
    df = pl.DataFrame(
        rows,
        schema={"fixmedins_code": pl.String(), "number": pl.String(), "due_on": pl.String()},
        orient="row",
    )
    return (
        df.group_by("fixmedins_code", maintain_order=True)
        .agg(
            complaint_numbers=pl.col("number"),
            n_complaints=pl.len(),
            due_on=pl.col("due_on").min().str.to_date(),
        )
        .sort(["n_complaints", "due_on", "fixmedins_code"], descending=[True, False, False])
    )


def round_targets(store: CaseStore) -> list[tuple[str, str]]:
    """:func:`institutions_for_round` as the round planner takes complaint targets
    (``hrss_fraud.inspection.rounds.plan_round(complaints=...)``): ``(fixmedins_code,
    "2025-0003, 2025-0007")``."""
    df = institutions_for_round(store)
    return [
        (code, ", ".join(nums))
        for code, nums in df.select("fixmedins_code", "complaint_numbers").rows()
    ]
