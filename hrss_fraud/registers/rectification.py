"""From a failed inspection to a closed case: rectification order (整改通知) with its deadline,
follow-up check (跟踪复查), then closed (办结) or escalated to a sanction (处理决定).

The deadlines come from the register's file: the entity rectifies within ``rectify_days``
of the order (``due_date``, its last day), and the office checks within
``follow_up_days`` after that (``follow_up_due``). A follow-up may come early (the entity
rectified before the deadline); a passed one lets the order close. A failed follow-up
leads to a sanction only once the deadline has come (on ``due_date`` or later): before it
the entity still has time. Overdue marks are computed from the dates each time they are
asked for (:func:`rectifications`), never stored: past the deadline without a passed
follow-up, and past ``follow_up_due`` without any follow-up.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.registers.definitions import HANDLING_KINDS, Register

STATUSES = {
    "open": ("整改中", "being rectified"),
    "closed": ("整改完成，已办结", "rectified and closed"),
    "escalated": ("已作出处理决定", "escalated to a sanction"),
}
OUTCOMES = {
    "passed": ("复查合格", "follow-up passed"),
    "failed": ("复查不合格", "follow-up failed"),
}


class RectificationError(ValueError):
    """A step that cannot be taken; nothing was written."""


def _day(on: date | None) -> date:
    return on or date.today()


def order(
    store: CaseStore,
    reg: Register,
    inspection_id: int,
    *,
    requirements: str,
    by: str,
    on: date | None = None,
) -> int:
    """Order the rectification of a failed inspection; return the order's id."""
    if not (requirements or "").strip():
        msg = "须填写整改要求 (the order needs its requirements)"
        raise RectificationError(msg)
    day = _day(on)
    due = day + timedelta(days=reg.rectify_days)
    follow_up_due = due + timedelta(days=reg.follow_up_days)
    at = timestamp()
    with store.transaction() as con:
        row = con.execute(
            "SELECT register, result, inspected_on FROM register_inspection "
            "WHERE inspection_id = ?",
            (int(inspection_id),),
        ).fetchone()
        if not row:
            msg = f"无此检查记录 {inspection_id} (no inspection {inspection_id})"
            raise RectificationError(msg)
        register, result, inspected_on = row
        if register != reg.code:
            msg = (
                f"检查记录 {inspection_id} 不属于本监管事项 "
                f"(inspection {inspection_id} is of register {register}, not {reg.code})"
            )
            raise RectificationError(msg)
        if result != "fail":
            msg = (
                f"检查记录 {inspection_id} 各项合格，无需整改 "
                f"(inspection {inspection_id} found nothing to rectify)"
            )
            raise RectificationError(msg)
        if day.isoformat() < inspected_on:
            msg = (
                f"责令日期 {day} 不能早于检查日期 {inspected_on} "
                "(an order cannot precede the inspection)"
            )
            raise RectificationError(msg)
        if con.execute(
            "SELECT 1 FROM register_rectification WHERE inspection_id = ?", (int(inspection_id),)
        ).fetchone():
            msg = (
                f"检查记录 {inspection_id} 已责令整改 "
                f"(inspection {inspection_id} already has a rectification order)"
            )
            raise RectificationError(msg)
        cur = con.execute(
            """INSERT INTO register_rectification (inspection_id, ordered_on, due_date,
                   follow_up_due, requirements, ordered_by, ordered_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                int(inspection_id),
                day.isoformat(),
                due.isoformat(),
                follow_up_due.isoformat(),
                requirements.strip(),
                by,
                at,
            ),
        )
        rect_id = int(cur.lastrowid or 0)
        _event(con, rect_id, "ordered", day, None, requirements.strip(), 0, at, by)
        detail = {"inspection_id": int(inspection_id), "due_date": due.isoformat()}
        write_audit(
            con, at, by, "register.rectify.order", "register_rectification", str(rect_id), detail
        )
    return rect_id


def _event(
    con: sqlite3.Connection,
    rect_id: int,
    kind: str,
    day: date,
    outcome: str | None,
    text: str | None,
    late: int,
    at: str,
    by: str,
) -> None:
    con.execute(
        "INSERT INTO register_rectification_event (rectification_id, kind, outcome, on_date, "
        "text, late, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (rect_id, kind, outcome, day.isoformat(), text, late, at, by),
    )


def _open(con: sqlite3.Connection, rect_id: int) -> tuple[str, str, str, str]:
    row = con.execute(
        "SELECT status, ordered_on, due_date, follow_up_due FROM register_rectification "
        "WHERE rectification_id = ?",
        (int(rect_id),),
    ).fetchone()
    if not row:
        msg = f"无此整改单 {rect_id} (no rectification order {rect_id})"
        raise RectificationError(msg)
    if row[0] != "open":
        msg = (
            f"整改单 {rect_id} {STATUSES[row[0]][0]}，不能再办理 "
            f"(rectification order {rect_id} is {row[0]}: nothing more to do)"
        )
        raise RectificationError(msg)
    return row


def _last_follow_up(con: sqlite3.Connection, rect_id: int) -> tuple[str, str] | None:
    return con.execute(
        "SELECT outcome, on_date FROM register_rectification_event "
        "WHERE rectification_id = ? AND kind = 'follow_up' ORDER BY event_id DESC LIMIT 1",
        (int(rect_id),),
    ).fetchone()


def follow_up(
    store: CaseStore, rect_id: int, *, passed: bool, text: str, by: str, on: date | None = None
) -> None:
    """Record a follow-up check; ``late`` when after ``follow_up_due``."""
    if not (text or "").strip():
        msg = "须填写复查情况 (a follow-up needs what was found)"
        raise RectificationError(msg)
    day = _day(on)
    at = timestamp()
    with store.transaction() as con:
        _, ordered_on, _, follow_up_due = _open(con, rect_id)
        if day.isoformat() < ordered_on:
            msg = (
                f"复查日期 {day} 不能早于责令日期 {ordered_on} "
                "(a follow-up cannot precede the order)"
            )
            raise RectificationError(msg)
        outcome = "passed" if passed else "failed"
        late = int(day.isoformat() > follow_up_due)
        _event(con, rect_id, "follow_up", day, outcome, text.strip(), late, at, by)
        detail = {"on": day.isoformat(), "outcome": outcome, "late": bool(late)}
        write_audit(
            con,
            at,
            by,
            "register.rectify.follow_up",
            "register_rectification",
            str(rect_id),
            detail,
        )


def close(store: CaseStore, rect_id: int, *, text: str, by: str, on: date | None = None) -> None:
    """Close an order whose latest follow-up passed (办结)."""
    day = _day(on)
    at = timestamp()
    with store.transaction() as con:
        _open(con, rect_id)
        last = _last_follow_up(con, rect_id)
        if last is None or last[0] != "passed":
            msg = (
                f"整改单 {rect_id} 须复查合格后才能办结 "
                f"(rectification order {rect_id} closes only after a passed follow-up)"
            )
            raise RectificationError(msg)
        if day.isoformat() < last[1]:
            msg = (
                f"办结日期 {day} 不能早于复查日期 {last[1]} (closing cannot precede the follow-up)"
            )
            raise RectificationError(msg)
        con.execute(
            "UPDATE register_rectification SET status = 'closed' WHERE rectification_id = ?",
            (int(rect_id),),
        )
        _event(con, rect_id, "closed", day, None, (text or "").strip() or None, 0, at, by)
        detail = {"on": day.isoformat()}
        write_audit(
            con, at, by, "register.rectify.close", "register_rectification", str(rect_id), detail
        )


def sanction(
    store: CaseStore,
    reg: Register,
    rect_id: int,
    *,
    handling: str,
    decision: str,
    by: str,
    on: date | None = None,
) -> int:
    """Escalate an order to a sanction of the register (警告, 暂停, 吊销, 移送): only after a
    failed follow-up on or after the deadline; return the sanction's id."""
    option = reg.sanction(handling)
    if not (decision or "").strip():
        msg = "须填写处理决定 (a sanction needs its decision text)"
        raise RectificationError(msg)
    day = _day(on)
    at = timestamp()
    with store.transaction() as con:
        _, _, due, _ = _open(con, rect_id)
        register = con.execute(
            "SELECT i.register FROM register_rectification r JOIN register_inspection i "
            "USING (inspection_id) WHERE r.rectification_id = ?",
            (int(rect_id),),
        ).fetchone()[0]
        if register != reg.code:
            msg = (
                f"整改单 {rect_id} 不属于本监管事项 "
                f"(rectification order {rect_id} is of register {register}, not {reg.code})"
            )
            raise RectificationError(msg)
        last = _last_follow_up(con, rect_id)
        if last is None or last[0] != "failed":
            msg = (
                f"整改单 {rect_id} 须复查不合格后才能作出处理决定 "
                f"(order {rect_id}: a sanction follows a failed follow-up only)"
            )
            raise RectificationError(msg)
        if last[1] < due:
            msg = (
                f"整改单 {rect_id} 的复查（{last[1]}）在整改期限 {due} 之前，对象仍可整改，"
                f"请于 {due} 或之后再次复查 (order {rect_id}: the failed follow-up of {last[1]} "
                f"came before the deadline {due}; the entity may still rectify: follow up again "
                f"on or after {due})"
            )
            raise RectificationError(msg)
        cur = con.execute(
            """INSERT INTO register_sanction (rectification_id, kind, handling_code, decision,
                   decided_on, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (int(rect_id), option.kind, option.code, decision.strip(), day.isoformat(), by, at),
        )
        sanction_id = int(cur.lastrowid or 0)
        con.execute(
            "UPDATE register_rectification SET status = 'escalated' WHERE rectification_id = ?",
            (int(rect_id),),
        )
        _event(con, rect_id, "escalated", day, None, option.text, 0, at, by)
        detail = {"sanction_id": sanction_id, "kind": option.kind, "handling": option.code}
        write_audit(
            con, at, by, "register.sanction", "register_rectification", str(rect_id), detail
        )
    return sanction_id


def rectifications(
    store: CaseStore, register: str | None = None, *, today: date | None = None
) -> pl.DataFrame:
    """Every order with its status and overdue marks as of ``today``: ``past_deadline``
    (open, after ``due_date``, no passed follow-up) and ``follow_up_overdue`` (open, after
    ``follow_up_due``, no follow-up at all). The deadline day itself is still in time."""
    day = (today or date.today()).isoformat()
    where = "WHERE i.register = ?" if register else ""
    rows = store.query(
        f"""WITH fu AS (
               SELECT rectification_id, count(*) AS n,
                      max(CASE WHEN outcome = 'passed' THEN 1 ELSE 0 END) AS any_passed
               FROM register_rectification_event WHERE kind = 'follow_up'
               GROUP BY rectification_id)
           SELECT r.rectification_id, i.register, r.inspection_id, e.entity_code, e.name,
                  r.ordered_on, r.due_date, r.follow_up_due, r.status,
                  coalesce(fu.n, 0),
                  r.status = 'open' AND ? > r.due_date AND coalesce(fu.any_passed, 0) = 0,
                  r.status = 'open' AND ? > r.follow_up_due AND coalesce(fu.n, 0) = 0,
                  s.kind
           FROM register_rectification r JOIN register_inspection i USING (inspection_id)
           JOIN register_entity e USING (entity_id)
           LEFT JOIN fu USING (rectification_id)
           LEFT JOIN register_sanction s USING (rectification_id)
           {where} ORDER BY r.due_date, r.rectification_id""",
        (day, day, register) if register else (day, day),
    )
    schema = {
        "rectification_id": pl.Int64,
        "register": pl.String,
        "inspection_id": pl.Int64,
        "entity_code": pl.String,
        "name": pl.String,
        "ordered_on": pl.String,
        "due_date": pl.String,
        "follow_up_due": pl.String,
        "status": pl.String,
        "n_follow_ups": pl.Int64,
        "past_deadline": pl.Boolean,
        "follow_up_overdue": pl.Boolean,
        "sanction": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def sanction_label(kind: str, lang: str = "zh") -> str:
    zh, en = HANDLING_KINDS[kind]
    return zh if lang == "zh" else en
