"""Labour-inspection cases (劳动保障监察案件): a case against an employer taken through the
nine steps of the procedure, each step by whom it may be taken, in its order, on time.

The nine steps (:data:`STEPS`): 登记 → 初步核查 → 立案 → 调查取证 → 事先告知（或听证告知）→
陈述申辩或听证、案件审核 → 作出并送达处理决定 → 执行监督或申请法院强制执行 → 结案归档. Each
action (:data:`ACTIONS`) belongs to a step; some complete it (the case moves on), others
are taken inside it (a statement, a hearing, a payment). A statement or a hearing request
is accepted only inside its window after the notice is served, and a requested hearing
must be held before the review; a review before the window has passed needs the party's
statement. A preliminary check may end the case (不予立案), which then only closes.

Deadlines are counted in working days (:mod:`hrss_fraud.registers.workdays`) from the
parameters in ``registers/labour/deadlines.toml``, which a case keeps as they were when it
was registered. A step taken after its deadline is marked ``late``; overdue marks are
computed when asked for (:mod:`hrss_fraud.registers.labour_views`). Every action writes
its event, its changes to the case and its audit row in one transaction, or nothing.
Money is kept in fen. Refusals are in Chinese first, with the English kept.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.cases.users import PERMISSIONS, ROLES, can
from hrss_fraud.registers.workdays import Calendar, load_calendar
from hrss_fraud.resources import policy_path

EMPLOYER_KINDS = {
    "enterprise": ("企业", "enterprise"),
    "individual": ("个体工商户", "individual business"),
    "private_non_enterprise": ("民办非企业单位", "private non-enterprise unit"),
    "state_organ": ("国家机关", "state organ"),
    "institution": ("事业单位、社会团体", "public institution or association"),
}
"""The employers labour inspection covers (《劳动保障监察条例》第二条、第三十四条)."""
SOURCES = {
    "complaint": ("投诉举报", "complaint or tip"),
    "patrol": ("日常巡视检查", "routine patrol"),
    "audit": ("工资支付、社会保险费缴纳审计", "audit of wages and contributions"),
    "report_review": ("书面材料审查（年度审查）", "review of written reports"),
    "campaign": ("专项检查", "special campaign"),
    "mass_incident": ("群体性事件", "mass incident"),
}
AREAS = {
    "rules": ("制定内部劳动保障规章制度", "internal labour rules"),
    "contracts": ("订立、履行劳动合同", "labour contracts"),
    "child_labour": ("禁止使用童工", "ban on child labour"),
    "women_minors": ("女职工和未成年工特殊劳动保护", "protection of women workers and minors"),
    "hours": ("工作时间和休息休假", "working hours, rest and leave"),
    "wages": ("支付劳动者工资和执行最低工资标准", "wage payment and the minimum wage"),
    "social_insurance": ("参加各项社会保险和缴纳社会保险费", "social-insurance enrolment"),
    "agencies": (
        "劳务派遣、职业中介、职业技能培训和职业技能考核鉴定机构遵守规定",
        "dispatch, job, training and appraisal agencies",
    ),
}
"""What a case is about (《劳动保障监察条例》第十一条)."""
AMOUNT_KINDS = {
    "back_wages": ("工资（补发）", "back wages"),
    "contributions": ("社会保险费（补缴）", "contributions"),
    "compensation": ("赔偿金", "compensation"),
    "fine": ("罚款", "fine"),
}
STEPS = {
    "register": ("登记", "register", "承办人"),
    "preliminary": ("初步核查", "preliminary check", "承办人"),
    "file": ("立案", "open and file the case", "负责人批准"),
    "investigate": ("调查取证", "investigate", "承办人（二人以上）"),
    "notify": ("事先告知（听证告知）", "advance notice", "承办人"),
    "review": ("陈述申辩或听证、案件审核", "statements or hearing; review", "负责人"),
    "decide": ("作出并送达处理决定", "decide and serve", "负责人"),
    "execute": ("执行监督或申请法院强制执行", "supervise execution", "负责人"),
    "close": ("结案归档", "close and archive", "负责人"),
}
"""Step → (Chinese, English, who acts), in the procedure's order."""
ORDER = tuple(STEPS)
DOCUMENTS = {
    "investigate": ("inquiry_notice",),
    "notify": ("advance_notice", "hearing_notice"),
    "decide": ("decision",),
    "close": ("closing_record",),
}
"""Step → the documents it issues (:mod:`hrss_fraud.registers.labour_documents`)."""
HANDLER, HEAD = "decide_first_review", "decide_second_review"


@dataclass(frozen=True)
class Action:
    step: str
    permission: str
    completes: bool
    zh: str
    en: str


ACTIONS = {
    "register": Action("register", HANDLER, True, "登记案件", "register"),
    "preliminary": Action("preliminary", HANDLER, True, "初步核查", "preliminary check"),
    "file": Action("file", HEAD, True, "批准立案", "file"),
    "extend": Action("file", HEAD, False, "批准延长办案期限", "extend"),
    "investigate": Action("investigate", HANDLER, True, "调查取证", "investigate"),
    "notify": Action("notify", HANDLER, True, "送达告知书", "serve the notice"),
    "statement": Action("review", HANDLER, False, "登记陈述申辩", "statement"),
    "hearing_request": Action("review", HANDLER, False, "登记听证申请", "hearing request"),
    "hearing": Action("review", HEAD, False, "举行听证", "hold the hearing"),
    "review": Action("review", HEAD, True, "案件审核", "review"),
    "decide": Action("decide", HEAD, True, "作出并送达处理决定", "decide"),
    "payment": Action("execute", HANDLER, False, "登记履行（缴付）", "payment"),
    "execute": Action("execute", HEAD, True, "执行监督终结", "execution"),
    "close": Action("close", HEAD, True, "结案归档", "close"),
}
"""Action → its step, the permission it needs (承办人: first review; 负责人: second
review, :mod:`hrss_fraud.cases.users`), and whether it completes the step."""
AFTER = {
    "preliminary": ("register",),
    "file": ("preliminary",),
    "extend": ("file", "investigate", "notify", "review"),
    "investigate": ("file", "investigate"),
    "notify": ("investigate",),
    "statement": ("notify",),
    "hearing_request": ("notify",),
    "hearing": ("notify",),
    "review": ("notify",),
    "decide": ("review",),
    "payment": ("decide",),
    "execute": ("decide",),
    "close": ("execute",),
}
"""Action → the steps the case must be at for it."""
DEADLINES_FILE = "labour/deadlines.toml"


class CaseError(ValueError):
    """A step that cannot be taken; nothing was written."""


class UnknownCase(CaseError):
    """No such case."""


@dataclass(frozen=True)
class Deadlines:
    """The procedure's time limits in working days, and the fine from which a hearing
    must be offered (yuan)."""

    filing_days: int = 5
    conclude_days: int = 60
    extend_days: int = 30
    statement_days: int = 3
    hearing_request_days: int = 3
    pay_days: int = 15
    hearing_fine_threshold: int = 10000


def load_deadlines(workspace: Path | None = None) -> Deadlines:
    """The deadlines file (the workspace's own, else the shipped one), every key checked."""
    path = policy_path("registers", DEADLINES_FILE, workspace)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        msg = f"{path}: cannot read the labour-case deadlines: {e}"
        raise CaseError(msg) from e
    known = set(asdict(Deadlines()))
    unknown = sorted(set(data) - known)
    if unknown:
        msg = f"{path.name}: unknown key {unknown[0]!r}; keys: {', '.join(sorted(known))}"
        raise CaseError(msg)
    for key, value in data.items():
        if type(value) is not int or value < 1:
            msg = f"{path.name}: {key} must be a whole number of 1 or more, not {value!r}"
            raise CaseError(msg)
    return Deadlines(**data)


def to_fen(amount: object, what: str = "金额") -> int:
    """Yuan as typed (``12000``, ``"3,456.7"``) → fen; an error for anything not a positive
    amount with at most two decimals."""
    text = str(amount).replace(",", "").replace("，", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        msg = f"{what}须为大于零、最多两位小数的金额，而不是 {amount!r} ({what}: not an amount)"
        raise CaseError(msg)
    return int(value * 100)


def fen_to_yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _pick(value: str, vocab: Mapping[str, tuple[str, ...]], what: str) -> str:
    """A code given as itself or by its Chinese name."""
    v = (value or "").strip()
    for code, names in vocab.items():
        if v in (code, names[0]):
            return code
    known = "、".join(f"{c}（{n[0]}）" for c, n in vocab.items())
    msg = f"未知的{what} {value!r}，可选：{known} (unknown {what} {value!r})"
    raise CaseError(msg)


def _actor(con: sqlite3.Connection, by: str, action: str) -> str:
    """The stored account name of ``by`` if it is enabled and may take ``action``."""
    row = con.execute(
        "SELECT username, role, active FROM users WHERE username = ?", ((by or "").strip(),)
    ).fetchone()
    if not row or not row[2]:
        msg = f"无此启用的用户 {by!r} (no enabled account {by!r})"
        raise CaseError(msg)
    a = ACTIONS[action]
    if not can(row[1], a.permission):
        msg = (
            f"{ROLES[row[1]][0]} {row[0]} 无权{a.zh}（须有「{PERMISSIONS[a.permission][0]}」权限，"
            f"即{STEPS[a.step][2]}） ({row[0]} may not {a.en}: needs {a.permission})"
        )
        raise CaseError(msg)
    return str(row[0])


def case_row(con: sqlite3.Connection, case: int | str) -> dict[str, Any]:
    """The case row by id or by number (``LJ-2026-0001``)."""
    key = str(case).strip()
    column = "case_id" if key.isdigit() else "case_no"
    cur = con.execute(f"SELECT * FROM labour_case WHERE {column} = ?", (key,))
    row = cur.fetchone()
    if not row:
        msg = f"无此劳动保障监察案件 {case} (no labour case {case})"
        raise UnknownCase(msg)
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _at_step(c: dict[str, Any], action: str) -> None:
    if c["status"] == "closed":
        msg = f"案件 {c['case_no']} 已结案归档，不能再办理 (case {c['case_no']} is closed)"
        raise CaseError(msg)
    allowed = AFTER[action]
    if c["status"] == "not_opened":
        allowed = ("preliminary",) if action == "close" else ()
    if c["step"] not in allowed:
        now = STEPS[c["step"]][0]
        nxt = next_step(c)
        hint = f"，下一步：{STEPS[nxt][0]}" if nxt else ""
        msg = (
            f"案件 {c['case_no']} 当前处于「{now}」，不能{ACTIONS[action].zh}{hint} "
            f"(case {c['case_no']} is at step {c['step']}: cannot {ACTIONS[action].en} now)"
        )
        raise CaseError(msg)


def _last_step_day(con: sqlite3.Connection, case_id: int) -> str:
    """The day of the case's latest step (an action that completed its step)."""
    done = [a for a, act in ACTIONS.items() if act.completes]
    (day,) = con.execute(
        f"SELECT max(on_date) FROM labour_case_event WHERE case_id = ? "
        f"AND action IN ({', '.join('?' * len(done))})",
        (case_id, *done),
    ).fetchone()
    return str(day)


def next_step(c: Mapping[str, Any]) -> str | None:
    """The step a case waits for (``None`` once closed)."""
    if c["status"] == "closed":
        return None
    if c["status"] == "not_opened":
        return "close"
    return ORDER[ORDER.index(c["step"]) + 1]


def _not_before(day: date, earlier: str | None, what: str) -> None:
    if earlier and day.isoformat() < earlier:
        msg = f"日期 {day} 不能早于{what}（{earlier}） ({day} is before the {what} {earlier})"
        raise CaseError(msg)


def _text(text: str | None, what: str) -> str:
    out = (text or "").strip()
    if not out:
        msg = f"须填写{what} ({what} is required)"
        raise CaseError(msg)
    return out


def _amounts(amounts: Mapping[str, object] | None) -> dict[str, int]:
    out = {}
    for kind, value in (amounts or {}).items():
        code = _pick(kind, AMOUNT_KINDS, "金额类别")
        out[code] = to_fen(value, AMOUNT_KINDS[code][0])
    return out


Step = Callable[[sqlite3.Connection, dict[str, Any], Deadlines, Calendar], dict[str, Any]]


def _take(
    store: CaseStore,
    case: int | str,
    action: str,
    *,
    by: str,
    on: date,
    text: str | None,
    body: Step,
    workspace: Path | None,
) -> int:
    """Take ``action`` on ``case`` in one transaction: who, which step, then ``body``
    (which checks what is particular to the action and returns the case's new columns,
    ``late`` and ``detail``), then the event, the case row and the audit row."""
    calendar = load_calendar(workspace)
    calendar.is_working_day(on)  # a day the calendar covers, or its error
    at = timestamp()
    with store.transaction() as con:
        actor = _actor(con, by, action)
        c = case_row(con, case)
        c["actor"] = actor
        _at_step(c, action)
        _not_before(on, c["registered_on"], "登记日期")
        if ACTIONS[action].completes:
            _not_before(on, _last_step_day(con, c["case_id"]), "上一步骤的日期")
        deadlines = Deadlines(**json.loads(c["parameters"]))
        changes = body(con, c, deadlines, calendar)
        late = int(changes.pop("late", False))
        detail = changes.pop("detail", {})
        if ACTIONS[action].completes:
            changes["step"] = ACTIONS[action].step
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            con.execute(
                f"UPDATE labour_case SET {sets} WHERE case_id = ?",
                (*changes.values(), c["case_id"]),
            )
        con.execute(
            "INSERT INTO labour_case_event (case_id, step, action, on_date, text, detail, late, "
            "at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                c["case_id"],
                ACTIONS[action].step,
                action,
                on.isoformat(),
                text,
                json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
                late,
                at,
                actor,
            ),
        )
        audit = {"case_no": c["case_no"], "on": on.isoformat(), "late": bool(late), **detail}
        write_audit(con, at, actor, f"labour.{action}", "labour_case", str(c["case_id"]), audit)
    return int(c["case_id"])


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
    kind = _pick(employer_kind, EMPLOYER_KINDS, "用人单位类型")
    src = _pick(source, SOURCES, "案件来源")
    codes = sorted({_pick(a, AREAS, "监察事项") for a in areas})
    if not codes:
        msg = "须选择至少一项监察事项 (a case needs at least one content area)"
        raise CaseError(msg)
    code, name = (
        _text(employer_code, "用人单位统一社会信用代码"),
        _text(employer_name, "用人单位名称"),
    )
    what = _text(summary, "案情摘要")
    deadlines = load_deadlines(workspace)
    load_calendar(workspace).is_working_day(on)  # a day the calendar covers
    at = timestamp()
    with store.transaction() as con:
        actor = _actor(con, by, "register")
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


def filing_due(c: Mapping[str, Any], cal: Calendar) -> date:
    deadlines = Deadlines(**json.loads(c["parameters"]))
    return cal.add_working_days(date.fromisoformat(c["registered_on"]), deadlines.filing_days)


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
    text = _text(findings, "初步核查情况")

    def body(con, c, d, cal) -> dict[str, Any]:
        out: dict[str, Any] = {"late": on > filing_due(c, cal), "detail": {"open": open_case}}
        if not open_case:
            out["status"] = "not_opened"
        return out

    return _take(
        store, case, "preliminary", by=by, on=on, text=text, body=body, workspace=workspace
    )


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

    return _take(store, case, "file", by=by, on=on, text=None, body=body, workspace=workspace)


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
    text = _text(reason, "延期理由")

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

    return _take(store, case, "extend", by=by, on=on, text=text, body=body, workspace=workspace)


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
    text = _text(facts, "调查取证情况")

    def body(con, c, d, cal) -> dict[str, Any]:
        _not_before(on, c["filed_on"], "立案日期")
        return {"late": not _in_time(c, on)}

    return _take(
        store, case, "investigate", by=by, on=on, text=text, body=body, workspace=workspace
    )


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
    text = _text(proposal, "拟作出的处理（处罚）决定")
    fen = _amounts(amounts)

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

    return _take(store, case, "notify", by=by, on=on, text=text, body=body, workspace=workspace)


def _in_window(c: Mapping[str, Any], on: date, what: str) -> None:
    _not_before(on, c["notice_served"], "告知书送达日期")
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
    said = _text(text, "陈述申辩内容")

    def body(con, c, d, cal) -> dict[str, Any]:
        _in_window(c, on, "陈述申辩")
        return {"path": c["path"] or "statement"}

    return _take(store, case, "statement", by=by, on=on, text=said, body=body, workspace=workspace)


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
    return _take(
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
    text = _text(record, "听证笔录摘要")

    def body(con, c, d, cal) -> dict[str, Any]:
        if c["path"] != "hearing":
            msg = f"案件 {c['case_no']} 无人申请听证 (no hearing was requested)"
            raise CaseError(msg)
        if _events(con, c["case_id"], "hearing"):
            msg = f"案件 {c['case_no']} 已举行听证 (the hearing was already held)"
            raise CaseError(msg)
        _not_before(on, _events(con, c["case_id"], "hearing_request")[-1][0], "听证申请日期")
        investigators = {a.casefold() for _, a in _events(con, c["case_id"], "investigate")}
        if by.strip().casefold() in investigators:
            msg = (
                f"{by} 参与了本案调查，不能主持听证 "
                "(the hearing is presided by someone who did not investigate the case)"
            )
            raise CaseError(msg)
        return {}

    return _take(store, case, "hearing", by=by, on=on, text=text, body=body, workspace=workspace)


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
    text = _text(conclusion, "审核意见")

    def body(con, c, d, cal) -> dict[str, Any]:
        if c["path"] == "hearing":
            held = _events(con, c["case_id"], "hearing")
            if not held:
                msg = (
                    f"当事人已申请听证，须先举行听证再审核 "
                    f"(case {c['case_no']}: hold the requested hearing before the review)"
                )
                raise CaseError(msg)
            _not_before(on, held[-1][0], "听证日期")
        elif c["path"] != "statement" and on.isoformat() <= c["reply_due"]:
            msg = (
                f"陈述申辩（听证申请）期限至 {c['reply_due']}，期内当事人仍可提出，"
                f"请于期满后审核 (the reply window runs to {c['reply_due']}: review after it)"
            )
            raise CaseError(msg)
        return {"late": not _in_time(c, on), "detail": {"path": c["path"] or "none"}}

    return _take(store, case, "review", by=by, on=on, text=text, body=body, workspace=workspace)


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
    text = _text(decision, "处理（处罚）决定")
    fen = _amounts(amounts)

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

    return _take(store, case, "decide", by=by, on=on, text=text, body=body, workspace=workspace)


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
    code = _pick(kind, AMOUNT_KINDS, "金额类别")
    fen = to_fen(amount, AMOUNT_KINDS[code][0])
    at = timestamp()

    def body(con, c, d, cal) -> dict[str, Any]:
        _not_before(on, c["decided_on"], "处理决定送达日期")
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
    return _take(store, case, "payment", by=by, on=on, text=note, body=body, workspace=workspace)


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
    note = _text(text, "执行情况")

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

    return _take(store, case, "execute", by=by, on=on, text=note, body=body, workspace=workspace)


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
    text = _text(summary, "结案意见")

    def body(con, c, d, cal) -> dict[str, Any]:
        return {"status": "closed", "closed_on": on.isoformat()}

    return _take(store, case, "close", by=by, on=on, text=text, body=body, workspace=workspace)
