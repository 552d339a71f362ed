"""The audit-log page (审计日志) for administrators: one page of :func:`audit.browse` with
the filters the form sends, refused to anyone without ``browse_audit``, and itself logged
(``audit.browse``): reading the trail leaves a trace in it too."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.cases import audit
from hrss_fraud.cases.users import ROLES
from hrss_fraud.cases.vocab import DECISIONS, STEPS
from hrss_fraud.complaints.register import OUTCOMES as COMPLAINT_OUTCOMES
from hrss_fraud.complaints.register import SOURCES as COMPLAINT_SOURCES
from hrss_fraud.complaints.register import STATUSES as COMPLAINT_STATUSES
from hrss_fraud.dashboard.rounds_view import STATUSES as ROUND_STATUSES
from hrss_fraud.inspection.rounds import SOURCES
from hrss_fraud.model.times import minute, minute_expr
from hrss_fraud.notices.store import REVIEW_OUTCOMES
from hrss_fraud.notices.store import STATUSES as NOTICE_STATUSES
from hrss_fraud.outputs.labels import _pick, column_label

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User
    from hrss_fraud.engine.catalogue import Catalogue, Rule

PAGE_SIZE = 50

FAMILIES: dict[str, tuple[str, str]] = {
    "login.": ("登录（全部）", "logins (all)"),
    "user.": ("用户管理（全部）", "user management (all)"),
    "decision.": ("审核结论（全部）", "decisions (all)"),
    "inspector.": ("检查人员（全部）", "inspectors (all)"),
    "round.": ("检查轮次（全部）", "inspection rounds (all)"),
    "notice.": ("违约通知单（全部）", "violation notices (all)"),
    "complaint.": ("举报投诉（全部）", "complaints (all)"),
    "register.": ("监管事项登记（全部）", "registers (all)"),
    "labour.": ("劳动保障监察（全部）", "labour inspection (all)"),
    "enrolment.": ("参保稽核整改（全部）", "enrolment corrections (all)"),
    "check_key.": ("事前事中审核接口密钥（全部）", "check-service API keys (all)"),
}
"""The families of actions the filter offers as one choice (every prefix two or more
actions share)."""

OBJECT_TYPES: dict[str, tuple[str, str]] = {
    "user": ("用户", "user"),
    "person": ("参保人", "person"),
    "finding": ("疑点", "lead"),
    "case": ("案件", "case"),
    "institution": ("定点医药机构", "institution"),
    "rule": ("规则", "rule"),
    "run": ("评分批次", "scoring run"),
    "batch": ("批量导入", "bulk import"),
    "step": ("审核环节", "review step"),
    "audit_log": ("审计日志", "audit log"),
    "store": ("案件库", "case store"),
    "zones": ("检查区域", "inspection zones"),
    "inspector": ("检查人员", "inspector"),
    "inspection_group": ("检查组", "inspection group"),
    "inspection_round": ("检查轮次", "inspection round"),
    "notice": ("违约通知单", "violation notice"),
    "complaint": ("举报投诉", "complaint"),
    "labour_case": ("劳动监察案件", "labour inspection case"),
    "enrolment_correction": ("参保单位整改要求", "employer correction request"),
    "register": ("监管登记", "register"),
    "register_document": ("监管文书", "supervision document"),
    "register_plan": ("抽查计划", "inspection plan"),
    "register_inspection": ("检查记录", "inspection record"),
    "register_rectification": ("整改", "rectification"),
    "register_sanction": ("处理决定", "sanction"),
}
"""What an audit row is about (``object_type``) → label."""

DETAIL_LABELS: dict[str, tuple[str, str]] = {
    "role": ("角色", "role"),
    "display_name": ("姓名", "name"),
    "name": ("名称", "name"),
    "reason": ("原因", "reason"),
    "param": ("参数", "parameter"),
    "old": ("原值", "old value"),
    "new": ("新值", "new value"),
    "version": ("版本", "version"),
    "changed_at": ("修改时间", "changed at"),
    "until": ("锁定至", "locked until"),
    "what": ("内容", "what"),
    "institution": ("机构", "institution"),
    "page": ("页码", "page"),
    "decision": ("审核结论", "decision"),
    "decisions": ("结论数", "decisions"),
    "decision_id": ("结论编号", "decision id"),
    "step": ("审核环节", "review step"),
    "batch_id": ("批次编号", "batch id"),
    "run_id": ("评分批次", "scoring run"),
    "source": ("来源", "source"),
    "zones": ("区域数", "zones"),
    "institutions": ("机构", "institutions"),
    "new_institutions": ("新增机构", "new institutions"),
    "moved_institutions": ("变更区域的机构", "institutions moved"),
    "members": ("成员", "members"),
    "round_name": ("轮次名称", "round name"),
    "kinds": ("检查对象类型", "kinds"),
    "seed": ("随机种子", "random seed"),
    "findings": ("疑点数", "leads"),
    "leads": ("疑点", "leads"),
    "notice_id": ("通知单编号", "notice id"),
    "received_on": ("收到日期", "received on"),
    "persons": ("参保人", "persons"),
    "check_id": ("核查编号", "check id"),
    "newly_linked": ("新关联疑点", "newly linked"),
    "register": ("登记簿", "register"),
    "entity_code": ("监管对象编号", "entity code"),
    "plan_id": ("抽查计划编号", "plan id"),
    "result": ("结果", "result"),
    "evidence": ("证据", "evidence"),
    "due_date": ("整改期限", "due date"),
    "outcome": ("结果", "outcome"),
    "file": ("文件", "file"),
    "rows": ("行数", "rows"),
    "actor": ("用户", "user"),
    "action": ("操作", "action"),
    "object_type": ("对象类型", "object type"),
    "object_id": ("对象", "object"),
    "since": ("起始时间", "since"),
    "filter": ("筛选条件", "filter"),
    "filters": ("筛选条件", "filters"),
    "flag_id": ("提请编号", "flag id"),
    "found": ("查到", "found"),
    "group": ("检查组", "group"),
    "lang": ("语言", "language"),
    "masked": ("已脱敏", "masked"),
    "run": ("评分批次", "scoring run"),
    "fingerprint": ("数据指纹", "fingerprint"),
    "pdf": ("PDF文件", "PDF file"),
    "docx": ("Word文件", "Word file"),
    "on": ("日期", "date"),
    "failed": ("未通过", "failed"),
    "late": ("逾期", "late"),
    "sha256": ("文件校验码", "checksum"),
    "added": ("新增", "added"),
    "changed": ("变更", "changed"),
    "set_aside": ("未采用的列", "columns set aside"),
    "sanction_id": ("处理决定编号", "sanction id"),
    "kind": ("种类", "kind"),
    "handling": ("处理方式", "handling"),
    "inspection_id": ("检查记录编号", "inspection id"),
    "from": ("原状态", "from"),
    "to": ("新状态", "to"),
    "status": ("状态", "status"),
    "person": ("机构人员", "person"),
    "items": ("违约事项数", "items"),
    "handler": ("承办人", "handler"),
    "previous": ("原承办人", "previous handler"),
    "handled_on": ("办结日期", "handled on"),
    "key_id": ("密钥编号", "key number"),
    "key_ids": ("密钥编号", "key numbers"),
}
"""Keys of an audit row's ``detail`` → label; any other key takes its column label
(:func:`labels.column_label`), else is shown as written."""


LOGIN_FAILURES: dict[str, tuple[str, str]] = {
    "unknown user": ("用户名不存在", "unknown user"),
    "disabled": ("账户已停用", "account disabled"),
    "wrong password": ("密码错误", "wrong password"),
}
"""Why a login failed, as ``login.failure`` rows record it."""


def action_choices(lang: str = "zh") -> list[dict[str, str]]:
    """The action filter's options: each family of actions (``login.``) as one choice,
    then each action, by their labels."""
    out = [{"label": _pick(label, lang), "value": p} for p, label in FAMILIES.items()]
    out += [{"label": _pick(v, lang), "value": k} for k, v in audit.ACTIONS.items()]
    return out


EXPORTS: dict[str, tuple[str, str]] = {
    "leads": ("疑点清单", "lead list"),
    "data_quality": ("数据质量清单", "data-quality list"),
    "enrolment visit list": ("参保稽核走访清单", "enrolment audit visit list"),
}
"""What an ``export`` row exported (its ``what``) → label."""
ALL_OBJECTS = {"all": ("全部", "all")}
"""An object id meaning every object (a zone sync touches all zones) → label."""
CODED: dict[str, dict[str, tuple[str, ...]]] = {
    "role": ROLES,
    "step": STEPS,
    "decision": DECISIONS,
    "reason": LOGIN_FAILURES,
    "what": EXPORTS,
    "lang": {"zh": ("中文", "Chinese"), "en": ("英文", "English")},
    "from": ROUND_STATUSES,
    "to": ROUND_STATUSES,
    "status": {**NOTICE_STATUSES, **COMPLAINT_STATUSES},
    "source": {"dashboard": ("系统界面", "dashboard"), **COMPLAINT_SOURCES},
    "outcome": {**COMPLAINT_OUTCOMES, **REVIEW_OUTCOMES},
}
"""Detail keys whose values are codes → their labels."""


def object_text(object_id: str | None, lang: str = "zh") -> str:
    """An audit row's object id as shown: ``all`` by its label, any other as written."""
    if object_id in ALL_OBJECTS:
        return _pick(ALL_OBJECTS[object_id], lang)
    return object_id or ""


def _value(key: str, value: Any, lang: str) -> str:
    codes = CODED.get(key, {})
    if isinstance(value, str) and value in codes:
        return _pick(codes[value][:2], lang)
    if key == "kinds" and isinstance(value, dict):  # a round's targets by how chosen
        sep = "、" if lang == "zh" else ", "
        return sep.join(
            f"{_pick(SOURCES[k], lang) if k in SOURCES else k} {n}" for k, n in value.items()
        )
    if isinstance(value, bool):
        return ("是", "yes")[lang == "en"] if value else ("否", "no")[lang == "en"]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        zoned = value.endswith("Z") or "+" in value[19:]
        return minute(value) if zoned else value[:16].replace("T", " ")  # naive: local
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh" else ", ").join(_value(key, v, lang) for v in value)
    if isinstance(value, dict):
        return detail_text(value, lang)
    return "" if value is None else str(value)


def detail_text(
    detail: str | dict[str, Any] | None,
    lang: str = "zh",
    words: dict[str, dict[str, str]] | None = None,
) -> str:
    """An audit row's ``detail`` (JSON) as the page shows it: ``标签：值`` pairs, codes by
    their labels, times local to the minute, a value of a key in ``words`` (``param`` →
    the rule's parameters) by its word there; text that is no JSON object as written."""
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return detail
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    parts = []
    for key, value in detail.items():
        pair = DETAIL_LABELS.get(key)
        label = _pick(pair, lang) if pair else column_label(key, lang)
        said = (words or {}).get(key, {}).get(value) if isinstance(value, str) else None
        said = said or _value(key, value, lang)
        parts.append(f"{label}：{said}" if lang == "zh" else f"{label}: {said}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


class NotADate(ValueError):
    """A date field of the form that holds no date: ``field`` (``date_from`` or
    ``date_to``) and the ``value`` typed, for the page to say in its language."""

    def __init__(self, field: str, value: object) -> None:
        self.field, self.value = field, str(value)
        super().__init__(f"日期格式应为 YYYY-MM-DD ({field}: {value!r} is not a date)")


def _day(value: str | date | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise NotADate(field, value) from None


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
    start, end = _day(date_from, "date_from"), _day(date_to, "date_to")
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
    catalogue: Catalogue | None = None,
) -> tuple[pl.DataFrame, int]:
    """Page ``page`` (from 0) of the log, newest first, with ``action_label``,
    ``object_label`` and ``detail_text`` in ``lang`` and ``at_local`` (local time to the
    minute), and the number of matching rows; with ``catalogue``, a rule and its parameters
    by their names. ``PermissionError`` unless ``user`` may browse the
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
    objects = {k: _pick(v, lang) for k, v in OBJECT_TYPES.items()}
    rules = catalogue.rules if catalogue is not None else {}
    return rows.with_columns(
        action_label=pl.col(label),
        object_label=pl.col("object_type").replace_strict(objects, default=pl.col("object_type")),
        detail_text=pl.struct("object_type", "object_id", "detail").map_elements(
            lambda r: _detail(r, rules, lang), return_dtype=pl.String
        ),
        object_id=pl.struct("object_type", "object_id").map_elements(
            lambda r: _object(r, rules, lang), return_dtype=pl.String
        ),
        at_local=minute_expr("at"),
    ), total


def _object(row: dict[str, Any], rules: dict[str, Rule], lang: str) -> str:
    """A row's object: a rule by its name (a rule the catalogue no longer holds by its id)."""
    rule = rules.get(row["object_id"]) if row["object_type"] == "rule" else None
    if rule is not None:
        return rule.name_en if lang == "en" else rule.name_zh
    return object_text(row["object_id"], lang)


def _detail(row: dict[str, Any], rules: dict[str, Rule], lang: str) -> str | None:
    """A row's detail in words; a rule's parameter by its description."""
    if row["detail"] is None:
        return None
    rule = rules.get(row["object_id"]) if row["object_type"] == "rule" else None
    params = (
        {p.name: (p.description_en if lang == "en" else p.description_zh) for p in rule.params}
        if rule is not None
        else {}
    )
    return detail_text(row["detail"], lang, {"param": params})
