"""The labour-inspection procedure as data and rules: what a case may be about and come
from, the nine steps (:data:`STEPS`) and the actions taken in them (:data:`ACTIONS`), who may
take each and after which step (:data:`AFTER`), the deadlines' parameters
(``registers/labour/deadlines.toml``), money in fen; and :func:`take`, the one transaction
every action of :mod:`hrss_fraud.registers.labour_cases` runs in: who, which step, the
action's own checks, then its event, the case's new columns and the audit row, or nothing.
Refusals are in Chinese first, with the English kept.
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


def pick(value: str, vocab: Mapping[str, tuple[str, ...]], what: str) -> str:
    """A code given as itself or by its Chinese name."""
    v = (value or "").strip()
    for code, names in vocab.items():
        if v in (code, names[0]):
            return code
    known = "、".join(f"{c}（{n[0]}）" for c, n in vocab.items())
    msg = f"未知的{what} {value!r}，可选：{known} (unknown {what} {value!r})"
    raise CaseError(msg)


def acting_account(con: sqlite3.Connection, by: str, action: str) -> str:
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


def at_step(c: dict[str, Any], action: str) -> None:
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


def last_step_day(con: sqlite3.Connection, case_id: int) -> str:
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


def not_before(day: date, earlier: str | None, what: str) -> None:
    if earlier and day.isoformat() < earlier:
        msg = f"日期 {day} 不能早于{what}（{earlier}） ({day} is before the {what} {earlier})"
        raise CaseError(msg)


def required_text(text: str | None, what: str) -> str:
    out = (text or "").strip()
    if not out:
        msg = f"须填写{what} ({what} is required)"
        raise CaseError(msg)
    return out


def amounts_fen(amounts: Mapping[str, object] | None) -> dict[str, int]:
    out = {}
    for kind, value in (amounts or {}).items():
        code = pick(kind, AMOUNT_KINDS, "金额类别")
        out[code] = to_fen(value, AMOUNT_KINDS[code][0])
    return out


Step = Callable[[sqlite3.Connection, dict[str, Any], Deadlines, Calendar], dict[str, Any]]


def take(
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
    calendar.is_working_day(on)  # not before the calendar's first year, or its error
    at = timestamp()
    with store.transaction() as con:
        actor = acting_account(con, by, action)
        c = case_row(con, case)
        c["actor"] = actor
        at_step(c, action)
        not_before(on, c["registered_on"], "登记日期")
        if ACTIONS[action].completes:
            not_before(on, last_step_day(con, c["case_id"]), "上一步骤的日期")
        deadlines = Deadlines(**json.loads(c["parameters"]))
        changes = {**refresh_dues(c, calendar), **body(con, c, deadlines, calendar)}
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


def filing_due(c: Mapping[str, Any], cal: Calendar) -> date:
    deadlines = Deadlines(**json.loads(c["parameters"]))
    return cal.add_working_days(date.fromisoformat(c["registered_on"]), deadlines.filing_days)


@dataclass(frozen=True)
class Due:
    """A deadline counted from ``start``, and the years it was counted through that the
    calendar file does not hold yet (Monday to Friday only: provisional)."""

    start: date
    day: date
    provisional: tuple[int, ...] = ()

    def __str__(self) -> str:
        return self.day.isoformat()


DUE_COLUMNS = ("conclude_by", "reply_due", "pay_by")
"""The case's deadline columns: a record of the last computation, recomputed by
:func:`due_dates` each time a case is read or acted on."""


def due_dates(c: Mapping[str, Any], cal: Calendar) -> dict[str, Due | None]:
    """The case's deadlines counted now on ``cal`` from the days its steps were taken and
    the parameters it was registered with: ``filing`` (from registration), ``conclude_by``
    (from filing, plus the extension once extended), ``reply_due`` (from the notice served)
    and ``pay_by`` (from the decision); ``None`` before the step that starts one. Never
    read from the stored columns, so a calendar file updated with next year's holidays
    moves every deadline counted through that year (and clears its provisional mark)."""
    d = Deadlines(**json.loads(c["parameters"]))

    def count(start: str | None, days: int) -> Due | None:
        if not start:
            return None
        first = date.fromisoformat(start)
        due = cal.add_working_days(first, days)
        return Due(first, due, cal.provisional_years(first, due))

    conclude = d.conclude_days + (d.extend_days if c["extended"] else 0)
    reply = d.hearing_request_days if c["notice_kind"] == "hearing" else d.statement_days
    return {
        "filing": count(c["registered_on"], d.filing_days),
        "conclude_by": count(c["filed_on"], conclude),
        "reply_due": count(c["notice_served"], reply),
        "pay_by": count(c["decided_on"], d.pay_days),
    }


def refresh_dues(c: dict[str, Any], cal: Calendar) -> dict[str, str]:
    """Put the deadlines counted now into ``c``'s deadline columns; return those whose
    stored value differed (the calendar file changed since), to be written back."""
    fresh = due_dates(c, cal)
    stale = {}
    for column in DUE_COLUMNS:
        due = fresh[column]
        value = str(due) if due else None
        if value != c[column] and value is not None:
            stale[column] = value
        c[column] = value
    return stale
