"""Random inspection plans (双随机抽查计划) of one register, drawn with the inspection rounds'
draw (:func:`hrss_fraud.inspection.draw.draw`), not a copy of it.

The register's entities are the draw's candidates (none has a risk rank: a plan takes
``random`` of them, plus every entity named by a complaint as a targeted inspection); the
inspection groups are the rounds' (the same office); rotation is per register: a group,
or any of its members, does not go back to a zone it inspected in the register's previous
plan; conflicts are the ones declared against the register's entities. The seed, the
inputs and the result are stored with their SHA-256, so :func:`reproduce` recomputes a
plan from the store alone. A draw that cannot meet its rules refuses with the draw's
explanation.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.inspection.draw import (
    Candidate,
    Conflict,
    DrawError,
    DrawInputs,
    DrawParams,
    Target,
    canonical_json,
    draw,
    recheck,
    rotation_groups,
    sha256,
)
from hrss_fraud.inspection.registry import active_group_members
from hrss_fraud.registers.definitions import Register

SOURCES = {"random": ("随机抽查", "random draw"), "complaint": ("投诉举报", "complaint")}


class PlanError(ValueError):
    """A plan that cannot be drawn, shown or reproduced; the message says why."""


@dataclass(frozen=True)
class Plan:
    plan_id: int
    register: str
    name: str
    planned_on: str
    due_date: str
    status: str
    seed: int
    created_by: str
    targets: pl.DataFrame
    """One row per entity in draw order: entity_code, name, zone, source, source_ref,
    group_code, inspection_id (null until inspected)."""


@dataclass(frozen=True)
class Reproduction:
    plan_id: int
    seed: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _previous(store: CaseStore, register: str) -> int | None:
    return store.query(
        "SELECT max(plan_id) FROM register_plan WHERE register = ? AND status <> 'cancelled'",
        (register,),
    )[0][0]


def gather_inputs(
    store: CaseStore,
    reg: Register,
    plan_name: str,
    groups: Sequence[str] | None = None,
    complaints: Sequence[tuple[str, str]] = (),
) -> DrawInputs:
    """The draw's inputs for a plan of ``reg`` (see the module)."""
    rows = store.query(
        "SELECT entity_code, name, zone FROM register_entity WHERE register = ?", (reg.code,)
    )
    if not rows:
        msg = (
            f"{reg.name}尚无监管对象，请先导入 "
            f"(register {reg.code} has no entities: import them first)"
        )
        raise PlanError(msg)
    codes = {c for c, _, _ in rows}
    unknown = [c for c, _ in complaints if c not in codes]
    if unknown:
        msg = (
            "投诉核查对象不在本监管事项中 "
            f"(complaint targets not in register {reg.code}: {', '.join(unknown)})"
        )
        raise PlanError(msg)
    candidates = tuple(Candidate(c, n, z, None, 0.0, 0.0, 0, "", "") for c, n, z in rows)
    previous = _previous(store, reg.code)
    last_zones: dict[str, set[str]] = {}
    for who, zone in store.query(
        """SELECT t.group_code, e.zone FROM register_plan_target t
           JOIN register_entity e USING (entity_id) WHERE t.plan_id = ?
           UNION
           SELECT 'inspector:' || m.inspector_code, e.zone FROM register_plan_target t
           JOIN register_entity e USING (entity_id)
           JOIN inspection_group_member m USING (group_code) WHERE t.plan_id = ?""",
        (previous, previous),
    ):
        last_zones.setdefault(who, set()).add(zone)
    members, missing = active_group_members(store, plan_name, groups)
    if missing:
        msg = (
            f"检查组 {', '.join(missing)} 不存在或无在岗成员 "
            "(groups do not exist or have no active member)"
        )
        raise PlanError(msg)
    conflicts = tuple(
        Conflict(i, c, r)
        for i, c, r in store.query(
            """SELECT k.inspector_code, e.entity_code, k.reason FROM register_conflict k
               JOIN register_entity e USING (entity_id) WHERE e.register = ?""",
            (reg.code,),
        )
    )
    return DrawInputs(
        run_id=f"register:{reg.code}",
        previous_round=previous,
        candidates=candidates,
        groups=rotation_groups(members, last_zones),
        conflicts=conflicts,
        complaints=tuple(complaints),
    )


def draw_plan(
    store: CaseStore,
    reg: Register,
    *,
    name: str,
    n_random: int,
    by: str,
    seed: int | None = None,
    complaints: Sequence[tuple[str, str]] = (),
    groups: Sequence[str] | None = None,
    capacity: int | None = None,
    planned_on: date | None = None,
) -> Plan:
    """Draw and record a plan of ``reg``; its inspections are due ``reg.inspection_days``
    after ``planned_on`` (default today)."""
    if not reg.runs_here:
        msg = (
            f"{reg.name}的抽查用 {', '.join(reg.commands)} 办理 "
            f"(register {reg.code} is planned there)"
        )
        raise PlanError(msg)
    name = (name or "").strip()
    if not name:
        msg = "须填写计划名称 (the plan needs a name)"
        raise PlanError(msg)
    if store.query("SELECT 1 FROM register_plan WHERE name = ?", (name,)):
        msg = f"已有名为 {name!r} 的抽查计划 (a plan named {name!r} already exists)"
        raise PlanError(msg)
    inputs = gather_inputs(store, reg, name, groups, complaints)
    seed = secrets.randbits(64) if seed is None else int(seed)
    params = DrawParams(top=0, random=n_random, capacity=capacity)
    try:
        targets = draw(inputs, params, seed)
    except DrawError as e:
        raise PlanError(f"无法抽取 (register {reg.code}): {e}") from e
    day = planned_on or date.today()
    due = day + timedelta(days=reg.inspection_days)
    return _record(store, reg, name, day, due, inputs, params, seed, targets, by)


def _record(
    store: CaseStore,
    reg: Register,
    name: str,
    day: date,
    due: date,
    inputs: DrawInputs,
    params: DrawParams,
    seed: int,
    targets: Sequence[Target],
    by: str,
) -> Plan:
    canonical = inputs.canonical()
    result = [asdict(t) for t in targets]
    at = timestamp()
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM register_plan WHERE name = ?", (name,)).fetchone():
            msg = f"已有名为 {name!r} 的抽查计划 (a plan named {name!r} already exists)"
            raise PlanError(msg)
        previous = con.execute(
            "SELECT max(plan_id) FROM register_plan WHERE register = ? AND status <> 'cancelled'",
            (reg.code,),
        ).fetchone()[0]
        if previous != inputs.previous_round:
            msg = (
                "本监管事项刚抽取了另一计划，请重新抽取 "
                "(another plan of this register was drawn meanwhile: draw this one again)"
            )
            raise PlanError(msg)
        cur = con.execute(
            """INSERT INTO register_plan (register, name, planned_on, due_date, seed, inputs,
                   inputs_sha256, parameters, result, result_sha256, created_by, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                reg.code,
                name,
                day.isoformat(),
                due.isoformat(),
                str(seed),
                canonical_json(canonical),
                sha256(canonical),
                canonical_json(asdict(params)),
                canonical_json(result),
                sha256(result),
                by,
                at,
            ),
        )
        plan_id = int(cur.lastrowid or 0)
        ids = dict(
            con.execute(
                "SELECT entity_code, entity_id FROM register_entity WHERE register = ?",
                (reg.code,),
            ).fetchall()
        )
        con.executemany(
            "INSERT INTO register_plan_target (plan_id, entity_id, source, source_ref, "
            "group_code) VALUES (?, ?, ?, ?, ?)",
            [
                (plan_id, ids[t.fixmedins_code], t.source, t.source_ref, t.group_code)
                for t in targets
            ],
        )
        kinds = {s: sum(t.source == s for t in targets) for s in SOURCES}
        detail = {"register": reg.code, "name": name, "seed": str(seed), "kinds": kinds}
        write_audit(con, at, by, "register.plan.draw", "register_plan", str(plan_id), detail)
    return load_plan(store, plan_id)


def load_plan(store: CaseStore, plan_id: int) -> Plan:
    row = store.query(
        "SELECT plan_id, register, name, planned_on, due_date, status, seed, created_by "
        "FROM register_plan WHERE plan_id = ?",
        (int(plan_id),),
    )
    if not row:
        msg = f"no plan {plan_id}"
        raise PlanError(msg)
    pid, register, name, planned_on, due, status, seed, created_by = row[0]
    rows = store.query(
        """SELECT e.entity_code, e.name, e.zone, t.source, t.source_ref, t.group_code,
                  i.inspection_id
           FROM register_plan_target t JOIN register_entity e USING (entity_id)
           LEFT JOIN register_inspection i ON i.plan_id = t.plan_id AND i.entity_id = t.entity_id
           WHERE t.plan_id = ? ORDER BY t.rowid""",
        (pid,),
    )
    schema = {
        "entity_code": pl.String,
        "name": pl.String,
        "zone": pl.String,
        "source": pl.String,
        "source_ref": pl.String,
        "group_code": pl.String,
        "inspection_id": pl.Int64,
    }
    targets = pl.DataFrame(rows, schema=schema, orient="row")
    return Plan(pid, register, name, planned_on, due, status, int(seed), created_by, targets)


def plans(store: CaseStore, register: str | None = None) -> pl.DataFrame:
    """Every plan (of one register), newest first, with its targets and inspections counted."""
    where, params = ("WHERE p.register = ?", (register,)) if register else ("", ())
    rows = store.query(
        f"""SELECT p.plan_id, p.register, p.name, p.planned_on, p.due_date, p.status,
                   count(t.entity_id), count(i.inspection_id)
            FROM register_plan p LEFT JOIN register_plan_target t USING (plan_id)
            LEFT JOIN register_inspection i
                   ON i.plan_id = t.plan_id AND i.entity_id = t.entity_id
            {where} GROUP BY p.plan_id ORDER BY p.plan_id DESC""",
        params,
    )
    schema = {
        "plan_id": pl.Int64,
        "register": pl.String,
        "name": pl.String,
        "planned_on": pl.String,
        "due_date": pl.String,
        "status": pl.String,
        "n_targets": pl.Int64,
        "n_inspected": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def due_targets(
    store: CaseStore, register: str | None = None, *, today: date | None = None
) -> pl.DataFrame:
    """Plan targets not yet inspected, of plans still planned, with ``overdue`` true once
    ``today`` is past the plan's due date (the due date itself is still in time)."""
    day = (today or date.today()).isoformat()
    where = "AND p.register = ?" if register else ""
    rows = store.query(
        f"""SELECT p.plan_id, p.register, p.name, e.entity_code, e.name, e.zone, t.group_code,
                   p.due_date, ? > p.due_date
            FROM register_plan_target t JOIN register_plan p USING (plan_id)
            JOIN register_entity e USING (entity_id)
            LEFT JOIN register_inspection i
                   ON i.plan_id = t.plan_id AND i.entity_id = t.entity_id
            WHERE p.status = 'planned' AND i.inspection_id IS NULL {where}
            ORDER BY p.due_date, p.plan_id, e.entity_code""",
        (day, register) if register else (day,),
    )
    schema = {
        "plan_id": pl.Int64,
        "register": pl.String,
        "plan_name": pl.String,
        "entity_code": pl.String,
        "name": pl.String,
        "zone": pl.String,
        "group_code": pl.String,
        "due_date": pl.String,
        "overdue": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def set_status(store: CaseStore, plan_id: int, status: str, *, by: str, reason: str) -> None:
    """Close a plan (every target inspected) or cancel it (it then no longer counts as the
    register's previous plan for rotation)."""
    if status not in ("closed", "cancelled"):
        msg = f"a plan moves to closed or cancelled, not {status!r}"
        raise PlanError(msg)
    if not (reason or "").strip():
        msg = "a status change needs a reason"
        raise PlanError(msg)
    at = timestamp()
    with store.transaction() as con:
        row = con.execute(
            "SELECT status FROM register_plan WHERE plan_id = ?", (int(plan_id),)
        ).fetchone()
        if not row:
            msg = f"no plan {plan_id}"
            raise PlanError(msg)
        if row[0] != "planned":
            msg = f"plan {plan_id} is {row[0]}: it cannot move any more"
            raise PlanError(msg)
        if status == "closed":
            (left,) = con.execute(
                """SELECT count(*) FROM register_plan_target t LEFT JOIN register_inspection i
                   ON i.plan_id = t.plan_id AND i.entity_id = t.entity_id
                   WHERE t.plan_id = ? AND i.inspection_id IS NULL""",
                (int(plan_id),),
            ).fetchone()
            if left:
                msg = f"plan {plan_id} has {left} targets not inspected yet: record them or cancel"
                raise PlanError(msg)
        con.execute("UPDATE register_plan SET status = ? WHERE plan_id = ?", (status, int(plan_id)))
        detail = {"to": status, "reason": reason.strip()}
        write_audit(con, at, by, "register.plan.status", "register_plan", str(plan_id), detail)


def reproduce(store: CaseStore, plan_id: int) -> Reproduction:
    """Recompute a plan's draw from its stored seed and inputs; every difference from the
    stored result or the plan's targets is a problem."""
    row = store.query(
        "SELECT seed, inputs, inputs_sha256, parameters, result, result_sha256 "
        "FROM register_plan WHERE plan_id = ?",
        (int(plan_id),),
    )
    if not row:
        msg = f"no plan {plan_id}"
        raise PlanError(msg)
    seed_text, inputs_text, inputs_sha, params_text, result_text, result_sha = row[0]
    stored = json.loads(result_text)
    problems = recheck(
        int(seed_text),
        json.loads(inputs_text),
        inputs_sha,
        json.loads(params_text),
        stored,
        result_sha,
    )
    recorded = [
        {"fixmedins_code": c, "source": s, "source_ref": r, "group_code": g}
        for c, s, r, g in store.query(
            """SELECT e.entity_code, t.source, t.source_ref, t.group_code
               FROM register_plan_target t JOIN register_entity e USING (entity_id)
               WHERE t.plan_id = ? ORDER BY t.rowid""",
            (int(plan_id),),
        )
    ]
    if recorded != stored:
        problems.append("the plan's targets differ from its stored draw")
    return Reproduction(int(plan_id), int(seed_text), tuple(problems))
