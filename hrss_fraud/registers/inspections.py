"""Inspection records (检查记录): one per entity visited, with every check item's result.

A record is complete or refused: every check item of the register gets a result (合格
pass, 不合格 fail with what was found, 不适用 not applicable), at least two inspectors
sign it (检查人员不少于2人), and for a planned inspection they are members of the group the
draw assigned and none has declared a conflict with the entity. An inspection outside a
plan is a targeted one and names the complaint it follows. Evidence files are copied under
``WORKSPACE/supervision/evidence/`` by their SHA-256, which the record keeps; a file written
for a record that then fails to commit is removed again. Once recorded, nothing of it
changes (the database refuses).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.ingest.readers import file_sha256
from hrss_fraud.registers.definitions import Register
from hrss_fraud.registers.entities import entity_id

RESULTS = {
    "pass": ("合格", "pass"),
    "fail": ("不合格", "fail"),
    "na": ("不适用", "not applicable"),
}
RESULT_ALIASES = {zh: code for code, (zh, _) in RESULTS.items()} | {
    "通过": "pass",
    "发现问题": "fail",
}
EVIDENCE_FOLDER = Path("supervision") / "evidence"
INSPECTION_KEYS = (
    "inspection_id",
    "register",
    "entity_code",
    "name",
    "licence_no",
    "address",
    "zone",
    "plan_id",
    "source",
    "source_ref",
    "inspected_on",
    "inspectors",
    "summary",
    "result",
    "recorded_by",
)


class InspectionError(ValueError):
    """An inspection that cannot be recorded; nothing was written."""


@dataclass(frozen=True)
class ItemResult:
    result: str
    finding: str = ""


@dataclass(frozen=True)
class Evidence:
    path: Path
    item_code: str | None = None


def result_code(text: str) -> str:
    key = (text or "").strip()
    code = key if key in RESULTS else RESULT_ALIASES.get(key)
    if code is None:
        known = ", ".join(f"{c} {zh}" for c, (zh, _) in RESULTS.items())
        msg = f"无法识别的检查结果 {text!r}，应为：{known} (unknown result; one of them)"
        raise InspectionError(msg)
    return code


def _check_items(reg: Register, results: Mapping[str, ItemResult]) -> list[str]:
    problems = []
    codes = {i.code for i in reg.check_items}
    unknown = sorted(set(results) - codes)
    if unknown:
        problems.append(
            f"本监管事项无此检查事项 {', '.join(unknown)} (items not in register {reg.code})"
        )
    missing = [c for c in sorted(codes) if c not in results]
    if missing:
        problems.append(
            f"检查事项 {', '.join(missing)} 未填写结果 (no result for items: every item needs one)"
        )
    for code, r in sorted(results.items()):
        if r.result not in RESULTS:
            problems.append(
                f"{code}：结果应为合格、不合格或不适用 "
                f"(result {r.result!r} is not pass, fail or na)"
            )
        elif r.result == "fail" and not r.finding.strip():
            problems.append(
                f"{code}：不合格事项须填写发现的问题 "
                f"(item {code}: a failed item needs what was found)"
            )
    return problems


def _target(
    store: CaseStore, plan_id: int, eid: int, reg: Register
) -> tuple[str, str | None, str, str]:
    row = store.query(
        """SELECT p.register, p.status, p.planned_on, t.source, t.source_ref, t.group_code
           FROM register_plan p LEFT JOIN register_plan_target t
                ON t.plan_id = p.plan_id AND t.entity_id = ?
           WHERE p.plan_id = ?""",
        (eid, int(plan_id)),
    )
    if not row:
        msg = f"无此抽查计划 {plan_id} (no plan {plan_id})"
        raise InspectionError(msg)
    register, status, planned_on, source, ref, group = row[0]
    if register != reg.code:
        msg = (
            f"抽查计划 {plan_id} 不属于本监管事项 "
            f"(plan {plan_id} is of register {register}, not {reg.code})"
        )
        raise InspectionError(msg)
    if status != "planned":
        msg = (
            f"抽查计划 {plan_id} 已结束或取消，不再登记检查 "
            f"(plan {plan_id} is {status}: it takes no more inspections)"
        )
        raise InspectionError(msg)
    if source is None:
        msg = f"该对象不在抽查计划 {plan_id} 中 (the entity is not a target of plan {plan_id})"
        raise InspectionError(msg)
    return source, ref, group, planned_on


def _inspector_problems(
    store: CaseStore, inspectors: Sequence[str], eid: int, group: str | None
) -> list[str]:
    problems = []
    if len(inspectors) < 2:
        problems.append("检查人员不少于2人 (an inspection needs at least two inspectors)")
    known = dict(store.query("SELECT inspector_code, active FROM inspector"))
    for code in inspectors:
        if code not in known:
            problems.append(f"无此检查人员 {code} (no inspector {code})")
        elif not known[code]:
            problems.append(f"检查人员 {code} 已停用 (inspector {code} is inactive)")
    if group is not None:
        members = {
            m
            for (m,) in store.query(
                "SELECT inspector_code FROM inspection_group_member WHERE group_code = ?", (group,)
            )
        }
        strangers = [c for c in inspectors if c not in members]
        if strangers:
            problems.append(
                f"检查人员 {', '.join(strangers)} 不是抽取分配给该对象的检查组 {group} 的成员 "
                f"(inspectors {', '.join(strangers)} are not in group {group}, which the draw "
                "assigned to this entity)"
            )
    for code, reason in store.query(
        "SELECT inspector_code, reason FROM register_conflict WHERE entity_id = ?", (eid,)
    ):
        if code in inspectors:
            problems.append(
                f"检查人员 {code} 与该对象须回避：{reason} "
                f"(inspector {code} is conflicted with the entity)"
            )
    return problems


def record_inspection(
    store: CaseStore,
    workspace: Path,
    reg: Register,
    *,
    entity_code: str,
    inspected_on: date,
    inspectors: Sequence[str],
    summary: str,
    results: Mapping[str, ItemResult],
    by: str,
    plan_id: int | None = None,
    complaint_ref: str | None = None,
    evidence: Sequence[Evidence] = (),
    today: date | None = None,
) -> int:
    """Record one inspection (see the module); return its id."""
    if not reg.runs_here:
        msg = (
            f"{reg.name}的检查用 {', '.join(reg.commands)} 登记 "
            f"(register {reg.code} records its inspections there)"
        )
        raise InspectionError(msg)
    eid = entity_id(store, reg.code, entity_code)
    people = sorted({i.strip() for i in inspectors if i.strip()})
    group = None
    if plan_id is not None:
        source, ref, group, planned_on = _target(store, plan_id, eid, reg)
        if inspected_on.isoformat() < planned_on:
            msg = (
                f"检查日期 {inspected_on} 早于计划抽取日期 {planned_on} "
                f"(inspected on {inspected_on} is before the plan was drawn)"
            )
            raise InspectionError(msg)
    elif (complaint_ref or "").strip():
        source, ref = "complaint", complaint_ref.strip()
    else:
        msg = (
            "计划外的检查为投诉核查，须填写投诉编号 "
            "(an inspection outside a plan is targeted: name the complaint by its number)"
        )
        raise InspectionError(msg)
    problems = _check_items(reg, results)
    problems += _inspector_problems(store, people, eid, group)
    if not (summary or "").strip():
        problems.append("须填写检查情况 (the record needs a summary)")
    if inspected_on > (today or date.today()):
        problems.append(
            f"检查日期 {inspected_on} 晚于今天 (inspected on {inspected_on} is in the future)"
        )
    for ev in evidence:
        if not Path(ev.path).is_file():
            problems.append(f"证据 {ev.path} 不是文件 (evidence {ev.path} is not a file)")
        if ev.item_code is not None and ev.item_code not in results:
            problems.append(
                f"证据 {Path(ev.path).name}：无检查事项 {ev.item_code} "
                f"(evidence: no item {ev.item_code})"
            )
    if problems:
        raise InspectionError("; ".join(problems))
    outcome = "fail" if any(r.result == "fail" for r in results.values()) else "pass"
    stored, written = _store_evidence(workspace, evidence)
    at = timestamp()
    try:
        with store.transaction() as con:
            if (
                plan_id is not None
                and con.execute(
                    "SELECT 1 FROM register_inspection WHERE plan_id = ? AND entity_id = ?",
                    (int(plan_id), eid),
                ).fetchone()
            ):
                msg = (
                    f"{entity_code} 在抽查计划 {plan_id} 中已检查 "
                    f"({entity_code} is already inspected in plan {plan_id})"
                )
                raise InspectionError(msg)
            cur = con.execute(
                """INSERT INTO register_inspection (register, entity_id, plan_id, source,
                       source_ref, inspected_on, inspectors, summary, result, recorded_by,
                       recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    reg.code,
                    eid,
                    plan_id,
                    source,
                    ref,
                    inspected_on.isoformat(),
                    json.dumps(people),
                    summary.strip(),
                    outcome,
                    by,
                    at,
                ),
            )
            inspection_id = int(cur.lastrowid or 0)
            con.executemany(
                "INSERT INTO register_inspection_item (inspection_id, item_code, result, "
                "finding) VALUES (?, ?, ?, ?)",
                [
                    (inspection_id, code, r.result, r.finding.strip() or None)
                    for code, r in sorted(results.items())
                ],
            )
            con.executemany(
                "INSERT INTO register_evidence (inspection_id, item_code, file_name, path, "
                "sha256, size, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(inspection_id, *s, by, at) for s in stored],
            )
            detail = {
                "register": reg.code,
                "entity_code": entity_code,
                "plan_id": plan_id,
                "result": outcome,
                "failed": sorted(c for c, r in results.items() if r.result == "fail"),
                "evidence": [s[4] for s in stored],
            }
            action = "register.inspection.record"
            write_audit(con, at, by, action, "register_inspection", str(inspection_id), detail)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return inspection_id


def _store_evidence(
    workspace: Path, evidence: Sequence[Evidence]
) -> tuple[list[tuple[str | None, str, str, str, int]], list[Path]]:
    """Copy each file to the evidence folder under its SHA-256; (item, name, relative path,
    sha256, size) per file, and the files this call created (to remove on failure)."""
    stored, written = [], []
    for ev in evidence:
        src = Path(ev.path)
        digest = file_sha256(src)
        rel = EVIDENCE_FOLDER / digest[:2] / f"{digest}{src.suffix.lower()}"
        dest = Path(workspace) / rel
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copyfile(src, tmp)
            tmp.chmod(0o600)
            tmp.replace(dest)
            written.append(dest)
        stored.append((ev.item_code, src.name, str(rel), digest, src.stat().st_size))
    return stored, written


def get_inspection(store: CaseStore, inspection_id: int) -> dict[str, object]:
    """One inspection with its entity, items (with the register's texts left to the
    caller) and evidence."""
    row = store.query(
        """SELECT i.inspection_id, i.register, e.entity_code, e.name, e.licence_no, e.address,
                  e.zone, i.plan_id, i.source, i.source_ref, i.inspected_on, i.inspectors,
                  i.summary, i.result, i.recorded_by
           FROM register_inspection i JOIN register_entity e USING (entity_id)
           WHERE i.inspection_id = ?""",
        (int(inspection_id),),
    )
    if not row:
        msg = f"无此检查记录 {inspection_id} (no inspection {inspection_id})"
        raise InspectionError(msg)
    keys = INSPECTION_KEYS
    out: dict[str, object] = dict(zip(keys, row[0], strict=True))
    out["inspectors"] = json.loads(str(out["inspectors"]))
    out["items"] = [
        {"item_code": c, "result": r, "finding": f}
        for c, r, f in store.query(
            "SELECT item_code, result, finding FROM register_inspection_item "
            "WHERE inspection_id = ? ORDER BY item_code",
            (int(inspection_id),),
        )
    ]
    out["evidence"] = [
        {"item_code": c, "file_name": n, "path": p, "sha256": s}
        for c, n, p, s in store.query(
            "SELECT item_code, file_name, path, sha256 FROM register_evidence "
            "WHERE inspection_id = ? ORDER BY evidence_id",
            (int(inspection_id),),
        )
    ]
    return out


def inspections(store: CaseStore, register: str | None = None) -> pl.DataFrame:
    """Every inspection (of one register), newest first."""
    where, params = ("WHERE i.register = ?", (register,)) if register else ("", ())
    rows = store.query(
        f"""SELECT i.inspection_id, i.register, e.entity_code, e.name, i.plan_id, i.source,
                   i.inspected_on, i.result,
                   (SELECT count(*) FROM register_inspection_item t
                     WHERE t.inspection_id = i.inspection_id AND t.result = 'fail')
            FROM register_inspection i JOIN register_entity e USING (entity_id)
            {where} ORDER BY i.inspected_on DESC, i.inspection_id DESC""",
        params,
    )
    schema = {
        "inspection_id": pl.Int64,
        "register": pl.String,
        "entity_code": pl.String,
        "name": pl.String,
        "plan_id": pl.Int64,
        "source": pl.String,
        "inspected_on": pl.String,
        "result": pl.String,
        "n_failed": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
