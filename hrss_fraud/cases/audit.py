"""Write and read the audit trail: who saw or did what, when (PIPL: every access to a
person's record is logged).

The trail is the case store's ``audit_log`` table, which the database keeps append-only
(triggers refuse UPDATE and DELETE); this module has :func:`record` and :func:`browse`
and nothing else, by design. Actions come from :data:`ACTIONS`, so the admin's page can
label and filter every row; a new kind of action is added there first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from hrss_fraud.cases.store import AUDIT_SCHEMA, CaseStore, timestamp, write_audit

ACTIONS: dict[str, tuple[str, str]] = {
    "login.success": ("登录成功", "logged in"),
    "login.failure": ("登录失败", "failed login"),
    "login.locked": ("账户锁定中尝试登录", "login while locked out"),
    "logout": ("退出登录", "logged out"),
    "user.add": ("新增用户", "user added"),
    "user.disable": ("停用用户", "user disabled"),
    "user.enable": ("启用用户", "user enabled"),
    "user.password": ("修改密码", "password changed"),
    "user.role": ("变更用户角色", "role changed"),
    "person.view": ("查看参保人信息", "viewed a person's record"),
    "finding.view": ("查看疑点详情", "viewed a lead"),
    "case.view": ("查看案件详情", "viewed a case"),
    "institution.view": ("查看机构详情", "viewed an institution"),
    "export.download": ("导出数据", "exported data"),
    "decision.record": ("记录审核结论", "decision recorded"),
    "decision.import": ("批量审核结论", "bulk decisions recorded"),
    "lead.flag": ("提请审核", "lead flagged for review"),
    "parameter.change": ("修改规则参数", "rule parameter changed"),
    "deadline.change": ("修改审核时限", "review deadline changed"),
    "audit.browse": ("查阅审计日志", "browsed the audit log"),
    "zones.sync": ("同步检查区域", "inspection zones synced"),
    "inspector.add": ("新增检查人员", "inspector added"),
    "inspector.enable": ("启用检查人员", "inspector enabled"),
    "inspector.disable": ("停用检查人员", "inspector disabled"),
    "group.add": ("新增检查组", "inspection group added"),
    "conflict.add": ("登记回避关系", "conflict of interest declared"),
    "round.plan": ("抽取检查轮次", "inspection round drawn"),
    "round.status": ("变更检查轮次状态", "inspection round status changed"),
    "notice.create": ("起草违约通知单", "violation notice drafted"),
    "notice.edit": ("修改违约通知单草稿", "violation notice draft edited"),
    "notice.number": ("分配通知单编号", "notice number allocated"),
    "notice.issue": ("下达违约通知单", "violation notice issued"),
    "notice.void": ("作废通知单编号", "notice number voided"),
    "notice.acknowledged": ("登记通知单签收", "notice acknowledged"),
    "notice.statement": ("登记陈述意见", "statement recorded"),
    "notice.review_request": ("登记复核申请", "review request recorded"),
    "notice.rectified": ("登记整改报告", "rectification report recorded"),
    "notice.closed": ("整改验收办结", "rectification verified, notice closed"),
    "notice.review_decision": ("复核决定", "review request decided"),
    "complaint.register": ("登记举报投诉", "complaint registered"),
    "complaint.assign": ("分派举报投诉", "complaint assigned"),
    "complaint.link": ("关联疑点", "complaint linked to leads"),
    "complaint.check": ("举报数据核查", "complaint data check run"),
    "complaint.close": ("举报投诉办结", "complaint closed"),
    "complaint.reveal": ("查看举报人信息", "complainant's identity viewed"),
    "store.restore": ("从备份恢复案件库", "case store restored from a backup"),
    "register.entities.import": ("导入监管对象", "supervised entities imported"),
    "register.conflict.add": ("登记监管事项回避关系", "register conflict of interest declared"),
    "register.plan.draw": ("抽取双随机抽查计划", "random inspection plan drawn"),
    "register.plan.status": ("变更抽查计划状态", "inspection plan status changed"),
    "register.inspection.record": ("登记检查记录", "inspection recorded"),
    "register.rectify.order": ("责令整改", "rectification ordered"),
    "register.rectify.follow_up": ("登记整改复查", "rectification follow-up recorded"),
    "register.rectify.close": ("整改办结", "rectification closed"),
    "register.sanction": ("作出处理决定", "sanction decided"),
    "register.document.number": ("出具监管文书", "supervision document issued"),
    "register.document.void": ("作废监管文书编号", "supervision document number voided"),
    "register.disclose": ("导出抽查结果公开表", "inspection results exported for publication"),
    "labour.register": ("登记劳动保障监察案件", "labour case registered"),
    "labour.preliminary": ("劳动保障监察初步核查", "labour case: preliminary check"),
    "labour.file": ("劳动保障监察批准立案", "labour case filed"),
    "labour.extend": ("批准延长办案期限", "labour case: time to conclude extended"),
    "labour.investigate": ("登记调查取证", "labour case: investigation recorded"),
    "labour.notify": ("送达事先（听证）告知书", "labour case: advance notice served"),
    "labour.statement": ("登记陈述申辩", "labour case: statement recorded"),
    "labour.hearing_request": ("登记听证申请", "labour case: hearing requested"),
    "labour.hearing": ("举行听证", "labour case: hearing held"),
    "labour.review": ("劳动保障监察案件审核", "labour case reviewed"),
    "labour.decide": ("作出并送达处理决定", "labour case decided and served"),
    "labour.payment": ("登记履行缴付", "labour case: payment recorded"),
    "labour.execute": ("执行监督终结", "labour case: execution concluded"),
    "labour.close": ("劳动保障监察结案归档", "labour case closed and archived"),
    "labour.document.number": ("分配监察文书编号", "labour document number allocated"),
    "labour.document.issue": ("出具劳动保障监察文书", "labour document issued"),
    "labour.document.void": ("作废监察文书编号", "labour document number voided"),
    "enrolment.request": ("要求参保单位整改", "employer asked to correct its filings"),
    "enrolment.corrected": ("参保单位整改完成", "employer's correction recorded"),
    "check_key.add": ("发放事前事中审核接口密钥", "check-service API key issued"),
    "check_key.revoke": ("吊销事前事中审核接口密钥", "check-service API key revoked"),
}
"""Action code → (Chinese, English). ``decision.*`` and ``deadline.change`` are written by
the case store itself, in the transaction of the change they record."""

BROWSE_SCHEMA: dict[str, pl.DataType] = {
    **AUDIT_SCHEMA,
    "action_zh": pl.String(),
    "action_en": pl.String(),
}
MAX_LIMIT = 1000


@dataclass(frozen=True)
class AuditFilter:
    """What the admin's audit page narrows the log to; every field optional."""

    actor: str | None = None
    action: str | None = None
    """An action code, or a prefix ending in ``.`` (``login.`` for every login row)."""
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    """Inclusive."""
    until: datetime | None = None
    """Exclusive."""


def record(
    store: CaseStore,
    username: str,
    action: str,
    object_type: str,
    object_id: str,
    details: Mapping[str, object] | None = None,
    *,
    at: datetime | None = None,
) -> int:
    """Append one row to the audit log; return its ``audit_id``. ``details`` is stored as
    JSON (not-JSON values as text); ``at`` defaults to now."""
    if action not in ACTIONS:
        msg = f"unknown audit action {action!r}: add it to ACTIONS in {__name__} first"
        raise ValueError(msg)
    actor = (username or "").strip()
    if not actor:
        msg = "an audit row needs the user name of whoever acted"
        raise ValueError(msg)
    if not (object_type or "").strip():
        msg = "an audit row needs the type of object acted on (e.g. person, finding)"
        raise ValueError(msg)
    with store.transaction() as con:
        return write_audit(
            con, timestamp(at), actor, action, object_type.strip(), str(object_id), details
        )


def browse(
    store: CaseStore,
    filters: AuditFilter | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[pl.DataFrame, int]:
    """One page of the log, newest first (:data:`BROWSE_SCHEMA`), and how many rows match
    in all, for the page count. ``limit`` is capped at :data:`MAX_LIMIT`."""
    f = filters or AuditFilter()
    clauses, params = [], []
    for column, value in (
        ("actor", f.actor),
        ("object_type", f.object_type),
        ("object_id", f.object_id),
    ):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value.strip())
    if f.action:
        if f.action.endswith("."):
            clauses.append("action >= ? AND action < ?")
            params += [f.action, f.action[:-1] + "/"]  # '/' sorts just after '.'
        else:
            clauses.append("action = ?")
            params.append(f.action)
    if f.since is not None:
        clauses.append("at >= ?")
        params.append(timestamp(f.since))
    if f.until is not None:
        clauses.append("at < ?")
        params.append(timestamp(f.until))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    (total,) = store.query(f"SELECT count(*) FROM audit_log {where}", tuple(params))[0]
    limit = max(0, min(int(limit), MAX_LIMIT))
    cols = ", ".join(AUDIT_SCHEMA)
    page = store.frame(
        f"SELECT {cols} FROM audit_log {where} ORDER BY audit_id DESC LIMIT ? OFFSET ?",
        (*params, limit, max(0, int(offset))),
        AUDIT_SCHEMA,
    ).with_columns(
        action_zh=pl.col("action").replace_strict(
            {k: v[0] for k, v in ACTIONS.items()}, default=pl.col("action")
        ),
        action_en=pl.col("action").replace_strict(
            {k: v[1] for k, v in ACTIONS.items()}, default=pl.col("action")
        ),
    )
    return page, total
