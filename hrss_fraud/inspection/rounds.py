"""Plan an inspection round (检查轮次) from the latest run, and reproduce its draw for an audit.

Planning gathers the draw's inputs from the case store (zones, groups with their active
members, conflicts, the zones each group inspected in the previous round) and from the
run (the institution risk ranking), draws (:func:`hrss_fraud.inspection.draw.draw`) with
a stored seed, and records the round, its draw and its targets in one transaction. The
inputs are stored verbatim with their SHA-256, so :func:`reproduce` needs nothing but the
store to recompute the draw and check it against what was sent out.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.engine.runs import open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.inspection.draw import (
    Candidate,
    Conflict,
    DrawInputs,
    DrawParams,
    Target,
    draw,
    recheck,
    rotation_groups,
    sha256,
)
from hrss_fraud.inspection.draw import canonical_json as _json
from hrss_fraud.inspection.refusal import Refusal
from hrss_fraud.inspection.registry import active_group_members
from hrss_fraud.outputs.ranking import institution_ranking, review_weights

SOURCES = {
    "risk": ("重点检查", "risk ranking"),
    "random": ("随机抽查", "random draw"),
    "complaint": ("投诉举报", "complaint"),
}
"""How a target was chosen → (Chinese, English), as in the ``target_source`` table."""

TARGET_SCHEMA: dict[str, pl.DataType] = {
    "fixmedins_code": pl.String(),
    "fixmedins_name": pl.String(),
    "admdvs": pl.String(),
    "zone_name": pl.String(),
    "source": pl.String(),
    "source_ref": pl.String(),
    "risk_rank": pl.Int64(),
    "risk_score": pl.Float64(),
    "amount_at_risk": pl.Float64(),
    "n_findings": pl.Int64(),
    "reasons": pl.String(),
    "reasons_en": pl.String(),
    "group_code": pl.String(),
    "group_name": pl.String(),
}


class RoundError(Refusal):
    """A round that cannot be planned, shown or reproduced; the message says why."""


@dataclass(frozen=True)
class Round:
    round_id: int
    name: str
    kinds: dict[str, int]
    run_id: str
    status: str
    created_by: str
    created_at: str
    seed: int
    targets: pl.DataFrame
    """One row per institution, in :data:`TARGET_SCHEMA`, in draw order."""


@dataclass(frozen=True)
class Reproduction:
    """What recomputing a round's draw found: ``ok`` when every check passed."""

    round_id: int
    seed: int
    inputs_sha256: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_complaints(text: str | None, default_ref: str = "") -> list[tuple[str, str]]:
    """``CODE[:REF],CODE[:REF]`` → ``[(code, ref)]``; a bare code gets ``default_ref``."""
    out = []
    for part in (text or "").split(","):
        code, _, ref = part.strip().partition(":")
        if code.strip():
            out.append((code.strip(), ref.strip() or default_ref))
    return out


def plan_round(
    store: CaseStore,
    workspace: Path,
    *,
    name: str,
    top: int,
    n_random: int,
    by: str,
    seed: int | None = None,
    complaints: Sequence[tuple[str, str]] = (),
    groups: Sequence[str] | None = None,
    capacity: int | None = None,
    run_id: str | None = None,
) -> Round:
    """Draw and record a round; return it. ``complaints`` are ``(fixmedins_code, ref)``
    from the complaint register; ``groups`` restricts the round to these group codes
    (default: every standing group and those formed for this round name)."""
    name = (name or "").strip()
    if not name:
        msg = "the round needs a name (--name)"
        raise RoundError(msg, "required", field="round_name")
    if store.query("SELECT 1 FROM inspection_round WHERE name = ?", (name,)):
        msg = f"a round named {name!r} already exists"
        raise RoundError(msg, "round_name_taken", name=name)
    run = open_run(workspace, run_id)
    weights, _ = review_weights(run, workspace)
    lake = Workspace.of(workspace).lake
    ranking = institution_ranking(run, lake, "zh", weights).join(
        institution_ranking(run, lake, "en", weights).select(
            "fixmedins_code", reasons_en="reasons"
        ),
        on="fixmedins_code",
    )
    inputs = gather_inputs(store, ranking, run.run_id, name, groups, complaints)
    seed = secrets.randbits(64) if seed is None else int(seed)
    params = DrawParams(top=top, random=n_random, capacity=capacity)
    targets = draw(inputs, params, seed)
    return _record(store, name, inputs, params, seed, targets, by)


def gather_inputs(
    store: CaseStore,
    ranking: pl.DataFrame,
    run_id: str,
    round_name: str,
    groups: Sequence[str] | None = None,
    complaints: Sequence[tuple[str, str]] = (),
) -> DrawInputs:
    """The draw's inputs: the zoned institutions with the ranking's figures, the groups
    with their active members and the zones that they or any of their members inspected
    in the previous round, the conflicts."""
    institutions = store.query(
        "SELECT fixmedins_code, fixmedins_name, admdvs FROM inspection_institution"
    )
    if not institutions:
        msg = "no zones yet: run `hrss-fraud rounds zones sync` first"
        raise RoundError(msg, "no_zones")
    zoned = {c for c, _, _ in institutions}
    unzoned = ranking.filter(
        (pl.col("n_findings") > 0) & ~pl.col("fixmedins_code").is_in(list(zoned))
    )["fixmedins_code"].to_list()
    if unzoned:
        msg = (
            f"institutions with findings but no zone: {', '.join(unzoned[:10])}; "
            "run `hrss-fraud rounds zones sync`"
        )
        raise RoundError(msg, "unzoned", codes=", ".join(unzoned[:10]))
    ranked = {r["fixmedins_code"]: r for r in ranking.iter_rows(named=True)}
    candidates = []
    for code, cname, zone in institutions:
        r = ranked.get(code, {})
        candidates.append(
            Candidate(
                fixmedins_code=code,
                fixmedins_name=cname,
                admdvs=zone,
                risk_rank=r.get("rank"),
                risk_score=round(float(r.get("risk_score") or 0.0), 4),
                amount_at_risk=round(float(r.get("amount_at_risk") or 0.0), 2),
                n_findings=int(r.get("n_findings") or 0),
                reasons=r.get("reasons") or "无疑点",
                reasons_en=r.get("reasons_en") or "no findings",
            )
        )
    previous = store.query(
        "SELECT max(round_id) FROM inspection_round WHERE status <> 'cancelled'"
    )[0][0]
    # rotation is by group and by person: a group formed anew for this round must not send
    # an inspector back to a zone they inspected in the previous round either
    last_zones: dict[str, set[str]] = {}
    for who, z in store.query(
        """SELECT t.group_code, t.admdvs FROM round_target t WHERE t.round_id = ?
           UNION
           SELECT 'inspector:' || m.inspector_code, t.admdvs
           FROM round_target t JOIN inspection_group_member m USING (group_code)
           WHERE t.round_id = ?""",
        (previous, previous),
    ):
        last_zones.setdefault(who, set()).add(z)
    members, missing = active_group_members(store, round_name, groups)
    if missing:
        msg = (
            f"groups {', '.join(missing)} do not exist, have no active member, or were "
            "formed for another round"
        )
        raise RoundError(msg, "groups_missing", codes=", ".join(missing))
    conflicts = tuple(
        Conflict(*row)
        for row in store.query(
            "SELECT inspector_code, fixmedins_code, reason FROM inspector_conflict"
        )
    )
    return DrawInputs(
        run_id=run_id,
        previous_round=previous,
        candidates=tuple(candidates),
        groups=rotation_groups(members, last_zones),
        conflicts=conflicts,
        complaints=tuple(complaints),
    )


def _result(targets: Sequence[Target]) -> list[dict[str, Any]]:
    return [asdict(t) for t in targets]


def _record(
    store: CaseStore,
    name: str,
    inputs: DrawInputs,
    params: DrawParams,
    seed: int,
    targets: Sequence[Target],
    by: str,
) -> Round:
    canonical = inputs.canonical()
    result = _result(targets)
    kinds = {s: sum(t.source == s for t in targets) for s in SOURCES}
    by_code = {c.fixmedins_code: c for c in inputs.candidates}
    at = timestamp()
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM inspection_round WHERE name = ?", (name,)).fetchone():
            msg = f"a round named {name!r} already exists"
            raise RoundError(msg, "round_name_taken", name=name)
        # the previous round may have changed since the inputs were gathered
        previous = con.execute(
            "SELECT max(round_id) FROM inspection_round WHERE status <> 'cancelled'"
        ).fetchone()[0]
        if previous != inputs.previous_round:
            msg = "another round was planned meanwhile: plan this one again"
            raise RoundError(msg, "round_changed")
        cur = con.execute(
            "INSERT INTO inspection_round (name, kinds, run_id, status, created_by, created_at) "
            "VALUES (?, ?, ?, 'planned', ?, ?)",
            (name, _json(kinds), inputs.run_id, by, at),
        )
        round_id = int(cur.lastrowid or 0)
        con.execute(
            "INSERT INTO inspection_draw (round_id, seed, inputs, inputs_sha256, parameters, "
            "result, result_sha256, drawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                round_id,
                str(seed),
                _json(canonical),
                sha256(canonical),
                _json(asdict(params)),
                _json(result),
                sha256(result),
                at,
            ),
        )
        con.executemany(
            """INSERT INTO round_target (round_id, fixmedins_code, fixmedins_name, admdvs,
                   source, source_ref, risk_rank, risk_score, amount_at_risk, n_findings,
                   reasons, reasons_en, group_code)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [_target_row(round_id, t, by_code[t.fixmedins_code]) for t in targets],
        )
        detail = {"name": name, "kinds": kinds, "seed": str(seed), "run_id": inputs.run_id}
        write_audit(con, at, by, "round.plan", "inspection_round", str(round_id), detail)
    return load_round(store, round_id)


def _target_row(round_id: int, t: Target, c: Candidate) -> tuple:
    labels = {"random": ("随机抽查（双随机）", "random draw (double random)")}
    extra_zh, extra_en = labels.get(t.source, ("", ""))
    if t.source_ref:
        extra_zh, extra_en = f"投诉举报 {t.source_ref}", f"complaint {t.source_ref}"
    reasons = "；".join(x for x in (extra_zh, c.reasons) if x)
    reasons_en = "; ".join(x for x in (extra_en, c.reasons_en) if x)
    return (
        round_id,
        c.fixmedins_code,
        c.fixmedins_name,
        c.admdvs,
        t.source,
        t.source_ref,
        c.risk_rank,
        c.risk_score,
        c.amount_at_risk,
        c.n_findings,
        reasons,
        reasons_en,
        t.group_code,
    )


def load_round(store: CaseStore, round_id: int) -> Round:
    """A recorded round with its targets, or :class:`RoundError`."""
    row = store.query(
        """SELECT r.round_id, r.name, r.kinds, r.run_id, r.status, r.created_by, r.created_at,
                  d.seed
           FROM inspection_round r JOIN inspection_draw d USING (round_id)
           WHERE r.round_id = ?""",
        (int(round_id),),
    )
    if not row:
        msg = f"no inspection round {round_id}"
        raise RoundError(msg, "no_round", round_id=round_id)
    rid, name, kinds, run_id, status, created_by, created_at, seed = row[0]
    cols = ", ".join(
        {"zone_name": "z.name", "group_name": "g.name"}.get(c, f"t.{c}") for c in TARGET_SCHEMA
    )
    rows = store.query(
        f"""SELECT {cols}
            FROM round_target t
            LEFT JOIN inspection_zone z ON z.admdvs = t.admdvs
            LEFT JOIN inspection_group g ON g.group_code = t.group_code
            WHERE t.round_id = ? ORDER BY t.rowid""",
        (rid,),
    )
    targets = pl.DataFrame(rows, schema=TARGET_SCHEMA, orient="row")
    return Round(
        rid, name, json.loads(kinds), run_id, status, created_by, created_at, int(seed), targets
    )


def rounds(store: CaseStore) -> pl.DataFrame:
    """Every round, newest first."""
    rows = store.query(
        """SELECT r.round_id, r.name, r.status, r.run_id, r.created_by, r.created_at,
                  count(t.fixmedins_code)
           FROM inspection_round r LEFT JOIN round_target t USING (round_id)
           GROUP BY r.round_id ORDER BY r.round_id DESC"""
    )
    schema = {
        "round_id": pl.Int64,
        "name": pl.String,
        "status": pl.String,
        "run_id": pl.String,
        "created_by": pl.String,
        "created_at": pl.String,
        "n_targets": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def group_members(store: CaseStore, group_codes: Sequence[str]) -> dict[str, list[str]]:
    """Group code → its members as ``code 姓名``."""
    out: dict[str, list[str]] = {g: [] for g in group_codes}
    for g, code, name in store.query(
        """SELECT m.group_code, i.inspector_code, i.name
           FROM inspection_group_member m JOIN inspector i USING (inspector_code)
           ORDER BY m.group_code, i.inspector_code"""
    ):
        if g in out:
            out[g].append(f"{code} {name}")
    return out


STATUS_MOVES = {
    "planned": ("in_progress", "cancelled"),
    "in_progress": ("closed", "cancelled"),
    "closed": (),
    "cancelled": (),
}
"""Forward only: a round is never planned again once it started, nor reopened once closed."""


def set_status(store: CaseStore, round_id: int, status: str, *, by: str, reason: str) -> None:
    """Move a round on (检查中, 已结束) or cancel it; a cancelled round no longer counts as
    the previous round for rotation."""
    if not (reason or "").strip():
        msg = "a status change needs a reason"
        raise RoundError(msg, "required", field="reason")
    at = timestamp()
    with store.transaction() as con:
        row = con.execute(
            "SELECT status FROM inspection_round WHERE round_id = ?", (int(round_id),)
        ).fetchone()
        if not row:
            msg = f"no inspection round {round_id}"
            raise RoundError(msg, "no_round", round_id=round_id)
        if status not in STATUS_MOVES[row[0]]:
            allowed = ", ".join(STATUS_MOVES[row[0]]) or "none"
            msg = f"round {round_id} is {row[0]}: it can move to {allowed}, not {status}"
            raise RoundError(msg, "status_move", round_id=round_id, current=row[0], wanted=status)
        con.execute(
            "UPDATE inspection_round SET status = ? WHERE round_id = ?", (status, int(round_id))
        )
        detail = {"from": row[0], "to": status, "reason": reason.strip()}
        write_audit(con, at, by, "round.status", "inspection_round", str(round_id), detail)


def reproduce(store: CaseStore, round_id: int) -> Reproduction:
    """Recompute a round's draw from its stored seed and inputs and compare it with the
    stored result and the round's targets; every difference is a problem."""
    row = store.query(
        "SELECT seed, inputs, inputs_sha256, parameters, result, result_sha256 "
        "FROM inspection_draw WHERE round_id = ?",
        (int(round_id),),
    )
    if not row:
        msg = f"no inspection round {round_id}"
        raise RoundError(msg, "no_round", round_id=round_id)
    seed_text, inputs_text, inputs_sha, params_text, result_text, result_sha = row[0]
    seed = int(seed_text)
    stored = json.loads(result_text)
    problems = recheck(
        seed, json.loads(inputs_text), inputs_sha, json.loads(params_text), stored, result_sha
    )
    recorded = [
        {"fixmedins_code": c, "source": s, "source_ref": r, "group_code": g}
        for c, s, r, g in store.query(
            "SELECT fixmedins_code, source, source_ref, group_code FROM round_target "
            "WHERE round_id = ? ORDER BY rowid",
            (int(round_id),),
        )
    ]
    if recorded != stored:
        problems.append("the round's targets differ from its stored draw")
    return Reproduction(int(round_id), seed, inputs_sha, tuple(problems))
