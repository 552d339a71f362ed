"""Labour-inspection cases (劳动保障监察案件): the actions that take a case against an
employer through the nine steps of the procedure (:mod:`hrss_fraud.registers.labour_procedure`).

The nine steps: 登记 → 初步核查 → 立案 → 调查取证 → 事先告知（或听证告知）→ 陈述申辩或听证、
案件审核 → 作出并送达处理决定 → 执行监督或申请法院强制执行 → 结案归档. A statement or a hearing
request is accepted only inside its window after the notice is served, and a requested hearing
must be held before the review; a review before the window has passed needs the party's
statement. A preliminary check may end the case (不予立案), which then only closes.

Deadlines are counted in working days (:mod:`hrss_fraud.registers.workdays`) from the
parameters a case kept when it was registered. A step taken after its deadline is marked
``late``; overdue marks are computed when asked for (:mod:`hrss_fraud.registers.labour_views`).
Each action runs in :func:`~hrss_fraud.registers.labour_procedure.take`'s one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.registers.labour_procedure import (
    AMOUNT_KINDS,
    AREAS,
    EMPLOYER_KINDS,
    SOURCES,
    CaseError,
    acting_account,
    amounts_fen,
    fen_to_yuan,
    filing_due,
    load_deadlines,
    not_before,
    pick,
    required_text,
    take,
    to_fen,
)
from hrss_fraud.registers.workdays import load_calendar


def register_case(
    store: CaseStore,
    *,
    employer_code: str,
    employer_name: str,
    employer_kind: str,
    source: str,
    areas: list[str],
    summary: str,
    by: str,
    on: date,
    source_ref: str = "",
    workspace: Path | None = None,
) -> int:
    """Step 1, 登记: a new case numbered ``LJ-<year>-<serial>``; return its id."""
    kind = pick(employer_kind, EMPLOYER_KINDS, "用人单位类型")
    src = pick(source, SOURCES, "案件来源")
    codes = sorted({pick(a, AREAS, "监察事项") for a in areas})
    if not codes:
        msg = "须选择至少一项监察事项 (a case needs at least one content area)"
        raise CaseError(msg)
    code, name = (
        required_text(employer_code, "用人单位统一社会信用代码"),
        required_text(employer_name, "用人单位名称"),
    )
    what = required_text(summary, "案情摘要")
    deadlines = load_deadlines(workspace)
    load_calendar(workspace).is_working_day(on)  # a day the calendar covers
    at = timestamp()
    with store.transaction() as con:
        actor = acting_account(con, by, "register")
        (serial,) = con.execute(
            "SELECT count(*) + 1 FROM labour_case WHERE substr(registered_on, 1, 4) = ?",
            (str(on.year),),
        ).fetchone()
        case_no = f"LJ-{on.year}-{serial:04d}"
        cur = con.execute(
            """INSERT INTO labour_case (case_no, employer_code, employer_name, employer_kind,
                   source, source_ref, areas, summary, parameters, registered_on, registered_by,
                   registered_at, step)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'register')""",
            (
                case_no,
                code,
                name,
                kind,
                src,
                (source_ref or "").strip() or None,
                json.dumps(codes),
                what,
                json.dumps(asdict(deadlines)),
                on.isoformat(),
                actor,
                at,
            ),
        )
        case_id = int(cur.lastrowid or 0)
        con.execute(
            "INSERT INTO labour_case_event (case_id, step, action, on_date, text, at, actor) "
            "VALUES (?, 'register', 'register', ?, ?, ?, ?)",
            (case_id, on.isoformat(), what, at, actor),
        )
        detail = {"case_no": case_no, "employer_code": code, "source": src, "areas": codes}
        write_audit(con, at, actor, "labour.register", "labour_case", str(case_id), detail)
    return case_id


def preliminary_check(
    store: CaseStore,
    case: int | str,
    *,
    findings: str,
    open_case: bool,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Step 2, 初步核查: whether the facts call for a case; ``open_case=False`` ends it
    (不予立案), to be closed."""
    text = required_text(findings, "初步核查情况")

    def body(con, c, d, cal) -> dict[str, Any]:
        out: dict[str, Any] = {"late": on > filing_due(c, cal), "detail": {"open": open_case}}
        if not open_case:
            out["status"] = "not_opened"
        return out

    return take(store, case, "preliminary", by=by, on=on, text=text, body=body, workspace=workspace)


def file_case(
    store: CaseStore, case: int | str, *, by: str, on: date, workspace: Path | None = None
) -> int:
    """Step 3, 立案 (approved by the head): the case must be concluded within
    ``conclude_days`` working days from today."""

    def body(con, c, d, cal) -> dict[str, Any]:
        due = cal.add_working_days(on, d.conclude_days)
        return {
            "filed_on": on.isoformat(),
            "conclude_by": due.isoformat(),
            "late": on > filing_due(c, cal),
            "detail": {"conclude_by": due.isoformat()},
        }

    return take(store, case, "file", by=by, on=on, text=None, body=body, workspace=workspace)


def extend(
    store: CaseStore,
    case: int | str,
    *,
    reason: str,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Extend the time to conclude by ``extend_days`` working days (once, approved by the
    head, before the time has run out)."""
    text = required_text(reason, "延期理由")

    def body(con, c, d, cal) -> dict[str, Any]:
        if c["extended"]:
            msg = f"案件 {c['case_no']} 已延长过办案期限 (case {c['case_no']} was extended once)"
            raise CaseError(msg)
        if on.isoformat() > c["conclude_by"]:
            msg = (
                f"办案期限已于 {c['conclude_by']} 届满，不能再批准延长 "
                f"(the time to conclude ran out on {c['conclude_by']})"
            )
            raise CaseError(msg)
        filed = date.fromisoformat(c["filed_on"])
        due = cal.add_working_days(filed, d.conclude_days + d.extend_days)
        return {"extended": 1, "conclude_by": due.isoformat(), "detail": {"conclude_by": str(due)}}

    return take(store, case, "extend", by=by, on=on, text=text, body=body, workspace=workspace)


def _in_time(c: Mapping[str, Any], on: date) -> bool:
    return not c["conclude_by"] or on.isoformat() <= c["conclude_by"]


def investigate(
    store: CaseStore,
    case: int | str,
    *,
    facts: str,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Step 4, 调查取证: record what was found (may be recorded more than once)."""
    text = required_text(facts, "调查取证情况")

    def body(con, c, d, cal) -> dict[str, Any]:
        not_before(on, c["filed_on"], "立案日期")
        return {"late": not _in_time(c, on)}

    return take(store, case, "investigate", by=by, on=on, text=text, body=body, workspace=workspace)


def notify(
    store: CaseStore,
    case: int | str,
    *,
    kind: str,
    proposal: str,
    amounts: Mapping[str, object] | None = None,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Step 5, serve the advance notice (``advance``, 事先告知书) or the notice of the right
    to a hearing (``hearing``, 听证告知书) with the proposed handling; the reply window
    runs from ``on``. A fine at or above the threshold needs the hearing notice."""
    if kind not in ("advance", "hearing"):
        msg = f"告知书种类须为 advance（事先告知）或 hearing（听证告知），而不是 {kind!r}"
        raise CaseError(msg)
    text = required_text(proposal, "拟作出的处理（处罚）决定")
    fen = amounts_fen(amounts)

    def body(con, c, d, cal) -> dict[str, Any]:
        if kind == "advance" and fen.get("fine", 0) >= d.hearing_fine_threshold * 100:
            msg = (
                f"拟罚款达到 {d.hearing_fine_threshold} 元，应当送达听证告知书 "
                f"(a fine of {d.hearing_fine_threshold} yuan or more needs the hearing notice)"
            )
            raise CaseError(msg)
        days = d.hearing_request_days if kind == "hearing" else d.statement_days
        due = cal.add_working_days(on, days)
        return {
            "notice_kind": kind,
            "notice_served": on.isoformat(),
            "reply_due": due.isoformat(),
            "late": not _in_time(c, on),
            "detail": {"kind": kind, "reply_due": due.isoformat(), "amounts_fen": fen},
        }

    return take(store, case, "notify", by=by, on=on, text=text, body=body, workspace=workspace)


def _in_window(c: Mapping[str, Any], on: date, what: str) -> None:
    not_before(on, c["notice_served"], "告知书送达日期")
    if on.isoformat() > c["reply_due"]:
        msg = (
            f"{what}期限已于 {c['reply_due']} 届满（告知书 {c['notice_served']} 送达），"
            f"逾期视为放弃 (the window for the {what} closed on {c['reply_due']})"
        )
        raise CaseError(msg)


def statement(
    store: CaseStore,
    case: int | str,
    *,
    text: str,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """A statement and defence (陈述申辩) received inside the window."""
    said = required_text(text, "陈述申辩内容")

    def body(con, c, d, cal) -> dict[str, Any]:
        _in_window(c, on, "陈述申辩")
        return {"path": c["path"] or "statement"}

    return take(store, case, "statement", by=by, on=on, text=said, body=body, workspace=workspace)


def request_hearing(
    store: CaseStore,
    case: int | str,
    *,
    text: str = "",
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """A hearing asked for inside the window of a hearing notice: the review must wait for
    the hearing."""

    def body(con, c, d, cal) -> dict[str, Any]:
        if c["notice_kind"] != "hearing":
            msg = (
                f"案件 {c['case_no']} 送达的是事先告知书，未告知听证权利 "
                f"(case {c['case_no']} served no hearing notice)"
            )
            raise CaseError(msg)
        if c["path"] == "hearing":
            msg = f"案件 {c['case_no']} 已申请听证 (a hearing was already requested)"
            raise CaseError(msg)
        _in_window(c, on, "听证申请")
        return {"path": "hearing"}

    note = (text or "").strip() or "当事人申请听证"
    return take(
        store, case, "hearing_request", by=by, on=on, text=note, body=body, workspace=workspace
    )


def _events(con: sqlite3.Connection, case_id: int, action: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT on_date, actor FROM labour_case_event WHERE case_id = ? AND action = ? "
        "ORDER BY event_id",
        (case_id, action),
    ).fetchall()


def hold_hearing(
    store: CaseStore,
    case: int | str,
    *,
    record: str,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """The hearing held, presided by someone who did not investigate the case."""
    text = required_text(record, "听证笔录摘要")

    def body(con, c, d, cal) -> dict[str, Any]:
        if c["path"] != "hearing":
            msg = f"案件 {c['case_no']} 无人申请听证 (no hearing was requested)"
            raise CaseError(msg)
        if _events(con, c["case_id"], "hearing"):
            msg = f"案件 {c['case_no']} 已举行听证 (the hearing was already held)"
            raise CaseError(msg)
        not_before(on, _events(con, c["case_id"], "hearing_request")[-1][0], "听证申请日期")
        investigators = {a.casefold() for _, a in _events(con, c["case_id"], "investigate")}
        if by.strip().casefold() in investigators:
            msg = (
                f"{by} 参与了本案调查，不能主持听证 "
                "(the hearing is presided by someone who did not investigate the case)"
            )
            raise CaseError(msg)
        return {}

    return take(store, case, "hearing", by=by, on=on, text=text, body=body, workspace=workspace)


def review(
    store: CaseStore,
    case: int | str,
    *,
    conclusion: str,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Step 6, 案件审核: after the hearing if one was asked for; otherwise after the
    party's statement or once the window has passed."""
    text = required_text(conclusion, "审核意见")

    def body(con, c, d, cal) -> dict[str, Any]:
        if c["path"] == "hearing":
            held = _events(con, c["case_id"], "hearing")
            if not held:
                msg = (
                    f"当事人已申请听证，须先举行听证再审核 "
                    f"(case {c['case_no']}: hold the requested hearing before the review)"
                )
                raise CaseError(msg)
            not_before(on, held[-1][0], "听证日期")
        elif c["path"] != "statement" and on.isoformat() <= c["reply_due"]:
            msg = (
                f"陈述申辩（听证申请）期限至 {c['reply_due']}，期内当事人仍可提出，"
                f"请于期满后审核 (the reply window runs to {c['reply_due']}: review after it)"
            )
            raise CaseError(msg)
        return {"late": not _in_time(c, on), "detail": {"path": c["path"] or "none"}}

    return take(store, case, "review", by=by, on=on, text=text, body=body, workspace=workspace)


def decide(
    store: CaseStore,
    case: int | str,
    *,
    decision: str,
    amounts: Mapping[str, object] | None = None,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Step 7, decide and serve on ``on``: the amounts ordered paid (back wages,
    contributions, compensation, fine), due within ``pay_days`` working days."""
    text = required_text(decision, "处理（处罚）决定")
    fen = amounts_fen(amounts)

    def body(con, c, d, cal) -> dict[str, Any]:
        for kind, value in fen.items():
            con.execute(
                "INSERT INTO labour_case_amount (case_id, kind, ordered_fen) VALUES (?, ?, ?)",
                (c["case_id"], kind, value),
            )
        pay_by = cal.add_working_days(on, d.pay_days)
        return {
            "decided_on": on.isoformat(),
            "pay_by": pay_by.isoformat(),
            "late": not _in_time(c, on),
            "detail": {"amounts_fen": fen, "pay_by": pay_by.isoformat()},
        }

    return take(store, case, "decide", by=by, on=on, text=text, body=body, workspace=workspace)


def _outstanding(con: sqlite3.Connection, case_id: int) -> dict[str, int]:
    rows = con.execute(
        """SELECT a.kind, a.ordered_fen - coalesce(sum(p.amount_fen), 0)
           FROM labour_case_amount a LEFT JOIN labour_case_payment p USING (case_id, kind)
           WHERE a.case_id = ? GROUP BY a.kind""",
        (case_id,),
    ).fetchall()
    return dict(rows)


def record_payment(
    store: CaseStore,
    case: int | str,
    *,
    kind: str,
    amount: object,
    by: str,
    on: date,
    reference: str = "",
    workspace: Path | None = None,
) -> int:
    """A payment against an amount ordered (no more than is outstanding); ``late`` after
    the decision's ``pay_by``."""
    code = pick(kind, AMOUNT_KINDS, "金额类别")
    fen = to_fen(amount, AMOUNT_KINDS[code][0])
    at = timestamp()

    def body(con, c, d, cal) -> dict[str, Any]:
        not_before(on, c["decided_on"], "处理决定送达日期")
        left = _outstanding(con, c["case_id"])
        if code not in left:
            msg = f"处理决定未责令缴付{AMOUNT_KINDS[code][0]} (the decision orders no {code})"
            raise CaseError(msg)
        if fen > left[code]:
            msg = (
                f"{AMOUNT_KINDS[code][0]}尚欠 {fen_to_yuan(left[code])} 元，缴付额 "
                f"{fen_to_yuan(fen)} 元超出 (more than the {fen_to_yuan(left[code])} outstanding)"
            )
            raise CaseError(msg)
        con.execute(
            "INSERT INTO labour_case_payment (case_id, kind, amount_fen, paid_on, reference, at, "
            "actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (c["case_id"], code, fen, on.isoformat(), reference.strip() or None, at, c["actor"]),
        )
        late = on.isoformat() > c["pay_by"]
        return {"late": late, "detail": {"kind": code, "amount_fen": fen}}

    note = (reference or "").strip() or None
    return take(store, case, "payment", by=by, on=on, text=note, body=body, workspace=workspace)


def conclude_execution(
    store: CaseStore,
    case: int | str,
    *,
    how: str,
    text: str,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Step 8: ``complied`` once nothing is outstanding, or ``court`` (申请人民法院强制执行)
    when something still is after the deadline to pay."""
    if how not in ("complied", "court"):
        msg = f"执行结果须为 complied（已履行）或 court（申请法院强制执行），而不是 {how!r}"
        raise CaseError(msg)
    note = required_text(text, "执行情况")

    def body(con, c, d, cal) -> dict[str, Any]:
        left = sum(_outstanding(con, c["case_id"]).values())
        if how == "complied" and left:
            msg = (
                f"尚有 {fen_to_yuan(left)} 元未履行，不能认定已履行 "
                f"({fen_to_yuan(left)} yuan is still outstanding)"
            )
            raise CaseError(msg)
        if how == "court" and not left:
            msg = "处理决定已全部履行，无需申请强制执行 (nothing is outstanding)"
            raise CaseError(msg)
        if how == "court" and on.isoformat() <= c["pay_by"]:
            msg = (
                f"履行期限至 {c['pay_by']}，期满仍未履行的方可申请法院强制执行 "
                f"(apply to the court only after {c['pay_by']})"
            )
            raise CaseError(msg)
        return {"execution": how, "detail": {"how": how, "outstanding_fen": left}}

    return take(store, case, "execute", by=by, on=on, text=note, body=body, workspace=workspace)


def close_case(
    store: CaseStore,
    case: int | str,
    *,
    summary: str,
    by: str,
    on: date,
    workspace: Path | None = None,
) -> int:
    """Step 9, 结案归档: after execution, or after a preliminary check that opened no case."""
    text = required_text(summary, "结案意见")

    def body(con, c, d, cal) -> dict[str, Any]:
        return {"status": "closed", "closed_on": on.isoformat()}

    return take(store, case, "close", by=by, on=on, text=text, body=body, workspace=workspace)
