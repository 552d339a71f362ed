"""The draw of one inspection round, as a pure function of its inputs and a seed.

Which institutions a round visits and which group visits each is decided here and
nowhere else, from nothing but :class:`DrawInputs`, :class:`DrawParams` and an integer
seed, so an audit can recompute a stored draw and find the same result (双随机: the
random targets *and* the random assignment of groups both come from one seeded
:class:`Stream`). The rules it enforces:

- the ``top`` riskiest institutions with findings (重点检查), then every complaint target
  (投诉), then ``random`` institutions drawn from all the others (抽查);
- rotation: a group never gets an institution in a zone it (or one of its members, as the
  caller gathers ``previous_zones``) inspected in the previous round; conflicts: never
  one that a member of the group is conflicted with;
- no group gets more than ``capacity`` targets (default: an even share, rounded up).

When the rules cannot all be met, :class:`DrawError` says which institutions cannot be
placed and exactly why, instead of relaxing a rule silently.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hrss_fraud.inspection.refusal import Refusal

ALGORITHM = "rounds-draw-1"
"""Changes whenever the draw would give another result for the same inputs and seed."""


class DrawError(Refusal):
    """The round cannot be drawn; the message says why and what to change."""


@dataclass(frozen=True)
class Candidate:
    """One institution a round may visit, with what the risk ranking says of it."""

    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    risk_rank: int | None
    risk_score: float
    amount_at_risk: float
    n_findings: int
    reasons: str
    reasons_en: str


@dataclass(frozen=True)
class Group:
    """An inspection group as the draw sees it: its active members, and the zones it
    inspected in the previous round (which rotation forbids now)."""

    group_code: str
    members: tuple[str, ...]
    previous_zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conflict:
    inspector_code: str
    fixmedins_code: str
    reason: str


@dataclass(frozen=True)
class DrawInputs:
    """Everything a draw reads, kept verbatim with the round."""

    run_id: str
    previous_round: int | None
    candidates: tuple[Candidate, ...]
    groups: tuple[Group, ...]
    conflicts: tuple[Conflict, ...] = ()
    complaints: tuple[tuple[str, str], ...] = ()
    """``(fixmedins_code, source reference)`` of institutions named by complaints."""

    def canonical(self) -> dict[str, Any]:
        """The inputs in one order whatever order they were gathered in."""
        return {
            "run_id": self.run_id,
            "previous_round": self.previous_round,
            "candidates": [asdict(c) for c in sorted(self.candidates, key=_code)],
            "groups": [
                {
                    "group_code": g.group_code,
                    "members": sorted(g.members),
                    "previous_zones": sorted(g.previous_zones),
                }
                for g in sorted(self.groups, key=lambda g: g.group_code)
            ],
            "conflicts": [
                asdict(c)
                for c in sorted(self.conflicts, key=lambda c: (c.inspector_code, c.fixmedins_code))
            ],
            "complaints": [list(c) for c in self.complaints],
        }

    @classmethod
    def from_canonical(cls, data: dict[str, Any]) -> DrawInputs:
        return cls(
            run_id=data["run_id"],
            previous_round=data["previous_round"],
            candidates=tuple(Candidate(**c) for c in data["candidates"]),
            groups=tuple(
                Group(g["group_code"], tuple(g["members"]), tuple(g["previous_zones"]))
                for g in data["groups"]
            ),
            conflicts=tuple(Conflict(**c) for c in data["conflicts"]),
            complaints=tuple((c[0], c[1]) for c in data["complaints"]),
        )


@dataclass(frozen=True)
class DrawParams:
    top: int
    random: int
    capacity: int | None = None
    """Most targets one group may get; None: ``ceil(targets / groups)``."""
    algorithm: str = ALGORITHM


@dataclass(frozen=True)
class Target:
    """One institution of the round: how it was chosen and which group visits it."""

    fixmedins_code: str
    source: str  # risk, random or complaint
    source_ref: str | None
    group_code: str


class Stream:
    """Uniform draws from the raw PCG64 stream of ``numpy.random.default_rng(seed)``.

    The ``Generator``'s own methods (``choice``, ``permutation``) may change their output
    between numpy versions (NEP 19); the bit generator's raw stream and the seeding may
    not. Drawing from the raw stream here keeps a round reproducible for an audit after
    numpy is upgraded."""

    def __init__(self, seed: int) -> None:
        self._bits = np.random.default_rng(seed).bit_generator

    def below(self, n: int) -> int:
        """An integer in ``[0, n)``; rejection, not modulo, so every value is as likely."""
        limit = (1 << 64) // n * n
        while True:
            x = int(self._bits.random_raw())
            if x < limit:
                return x % n

    def sample(self, n: int, k: int) -> list[int]:
        """``k`` distinct indices of ``range(n)`` in draw order (partial Fisher–Yates)."""
        idx = list(range(n))
        for i in range(k):
            j = i + self.below(n - i)
            idx[i], idx[j] = idx[j], idx[i]
        return idx[:k]


def _code(c: Candidate) -> str:
    return c.fixmedins_code


def canonical_json(obj: object) -> str:
    """One text for one value: sorted keys, no spaces, so its SHA-256 is a fingerprint."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256(obj: object) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def draw(inputs: DrawInputs, params: DrawParams, seed: int) -> tuple[Target, ...]:
    """The round's targets in order (risk by rank, complaints, random in draw order), each
    with its group; :class:`DrawError` when the rules cannot all be met."""
    if params.algorithm != ALGORITHM:
        msg = f"draw algorithm {params.algorithm!r} is not this code's {ALGORITHM!r}"
        raise DrawError(msg)
    if params.top < 0 or params.random < 0:
        msg = "--top and --random must be 0 or more"
        raise DrawError(msg, "negative", field="top" if params.top < 0 else "random")
    rng = Stream(seed)
    by_code = {c.fixmedins_code: c for c in inputs.candidates}
    chosen = _choose(inputs, params, by_code, rng)
    if not chosen:
        msg = "the round has no targets: ask for --top, --random or complaint institutions"
        raise DrawError(msg, "no_targets")
    groups = _assign([t[0] for t in chosen], inputs, params, by_code, rng)
    return tuple(
        Target(code, source, ref, group)
        for (code, source, ref), group in zip(chosen, groups, strict=True)
    )


def _choose(
    inputs: DrawInputs,
    params: DrawParams,
    by_code: dict[str, Candidate],
    rng: Stream,
) -> list[tuple[str, str, str | None]]:
    unknown = [code for code, _ in inputs.complaints if code not in by_code]
    if unknown:
        msg = (
            f"complaint institutions not in any zone: {', '.join(unknown)}; check the codes, "
            "or run `hrss-fraud rounds zones sync` after they are in the lake"
        )
        raise DrawError(msg, "complaint_unzoned", codes=", ".join(unknown))
    ranked = sorted(
        (c for c in inputs.candidates if c.n_findings > 0 and c.risk_rank is not None),
        key=lambda c: (c.risk_rank, c.fixmedins_code),
    )
    if len(ranked) < params.top:
        msg = (
            f"--top {params.top}: only {len(ranked)} institutions have findings in run "
            f"{inputs.run_id}; ask for at most {len(ranked)}"
        )
        raise DrawError(msg, "top_too_many", top=params.top, n=len(ranked), run_id=inputs.run_id)
    refs: dict[str, list[str]] = {}
    for code, ref in inputs.complaints:
        refs.setdefault(code, []).append(ref)
    chosen: list[tuple[str, str, str | None]] = []
    for c in ranked[: params.top]:
        ref = refs.get(c.fixmedins_code)
        chosen.append((c.fixmedins_code, "risk", "; ".join(ref) if ref else None))
    taken = {code for code, _, _ in chosen}
    for code, ref_list in refs.items():
        if code not in taken:
            chosen.append((code, "complaint", "; ".join(ref_list)))
            taken.add(code)
    pool = sorted(code for code in by_code if code not in taken)
    if len(pool) < params.random:
        msg = (
            f"--random {params.random}: only {len(pool)} institutions are left to draw from "
            f"after {len(taken)} risk and complaint targets; ask for at most {len(pool)}"
        )
        raise DrawError(msg, "random_too_many", random=params.random, n=len(pool), taken=len(taken))
    chosen.extend((pool[i], "random", None) for i in rng.sample(len(pool), params.random))
    return chosen


def exclusions(
    code: str, zone: str, groups: tuple[Group, ...], conflicts: tuple[Conflict, ...]
) -> dict[str, str]:
    """Group code → why that group may not visit institution ``code`` in ``zone`` (only the
    groups that may not)."""
    conflicted = {c.inspector_code: c.reason for c in conflicts if c.fixmedins_code == code}
    out = {}
    for g in groups:
        why = []
        if zone in g.previous_zones:
            why.append(f"inspected zone {zone} in the previous round")
        why.extend(
            f"member {m} is conflicted ({conflicted[m]})" for m in g.members if m in conflicted
        )
        if why:
            out[g.group_code] = "; ".join(why)
    return out


def _assign(
    codes: list[str],
    inputs: DrawInputs,
    params: DrawParams,
    by_code: dict[str, Candidate],
    rng: Stream,
) -> list[str]:
    """A group for each target: a maximum matching with capacities, searched in a random
    order so that which allowed group gets which target is drawn, not fixed."""
    groups = tuple(sorted(inputs.groups, key=lambda g: g.group_code))
    if not groups:
        msg = "no inspection group with an active member: add one with `rounds groups add`"
        raise DrawError(msg, "no_groups")
    capacity = params.capacity or math.ceil(len(codes) / len(groups))
    if capacity * len(groups) < len(codes):
        msg = (
            f"{len(codes)} targets but {len(groups)} groups of at most {capacity} each: "
            "raise --capacity or add groups"
        )
        raise DrawError(msg, "capacity", targets=len(codes), groups=len(groups), capacity=capacity)
    allowed: list[list[int]] = []
    stuck = []
    stuck_codes = []
    for code in codes:
        zone = by_code[code].admdvs
        barred = exclusions(code, zone, groups, inputs.conflicts)
        ok = [i for i, g in enumerate(groups) if g.group_code not in barred]
        if not ok:
            why = "; ".join(f"{g}: {w}" for g, w in sorted(barred.items()))
            stuck.append(f"{code} (zone {zone}) — {why}")
            stuck_codes.append(code)
        allowed.append(ok)
    if stuck:
        msg = "no group may visit " + " | ".join(stuck)
        raise DrawError(msg, "no_group_may_visit", codes=", ".join(stuck_codes))
    order = rng.sample(len(codes), len(codes))
    prefs = {
        t: [allowed[t][i] for i in rng.sample(len(allowed[t]), len(allowed[t]))] for t in order
    }
    holders: list[list[int]] = [[] for _ in groups]
    owner = [-1] * len(codes)

    def place(t: int, seen: set[int]) -> bool:
        for g in prefs[t]:
            if g in seen:
                continue
            seen.add(g)
            if len(holders[g]) < capacity:
                holders[g].append(t)
                owner[t] = g
                return True
            for other in list(holders[g]):
                if place(other, seen):
                    holders[g].remove(other)
                    holders[g].append(t)
                    owner[t] = g
                    return True
        return False

    for t in order:
        seen: set[int] = set()
        if not place(t, seen):
            _explain_full(codes[t], seen, groups, holders, codes, capacity)
    return [groups[g].group_code for g in owner]


def _explain_full(
    code: str,
    seen: set[int],
    groups: tuple[Group, ...],
    holders: list[list[int]],
    codes: list[str],
    capacity: int,
) -> None:
    """Raise the Hall violation the failed search found: these institutions may only go to
    these groups, which are too few for them."""
    crowd = sorted({code, *(codes[t] for g in seen for t in holders[g])})
    names = ", ".join(groups[g].group_code for g in sorted(seen))
    msg = (
        f"cannot place {code}: the {len(crowd)} institutions {', '.join(crowd)} may only go "
        f"to groups {names} (rotation and conflicts bar the others), which take at most "
        f"{capacity * len(seen)} ({capacity} each); raise --capacity or add groups"
    )
    raise DrawError(
        msg, "cannot_place", codes=", ".join(crowd), groups=names, most=capacity * len(seen)
    )


def rotation_groups(
    members: dict[str, list[str]], last_zones: dict[str, set[str]]
) -> tuple[Group, ...]:
    """The draw's groups from ``group code → active members`` and the zones inspected in the
    previous round or plan, keyed by group code and by ``inspector:<code>``: a group may not
    go where it, or any of its members in another group, went last time."""
    return tuple(
        Group(
            g,
            tuple(m),
            tuple(
                sorted(
                    last_zones.get(g, set()).union(
                        *(last_zones.get(f"inspector:{i}", set()) for i in m)
                    )
                )
            ),
        )
        for g, m in members.items()
    )


def recheck(
    seed: int,
    inputs: dict[str, Any],
    inputs_sha256: str,
    params: dict[str, Any],
    result: list[dict[str, Any]],
    result_sha256: str,
) -> list[str]:
    """What an audit finds recomputing a stored draw: fingerprints that do not match, a draw
    that fails or gives another result (empty: the stored draw is the draw)."""
    problems = []
    if sha256(inputs) != inputs_sha256:
        problems.append("the stored inputs do not match their fingerprint")
    if sha256(result) != result_sha256:
        problems.append("the stored result does not match its fingerprint")
    try:
        again = [
            asdict(t) for t in draw(DrawInputs.from_canonical(inputs), DrawParams(**params), seed)
        ]
    except DrawError as e:
        return [*problems, f"the draw fails on its stored inputs: {e}"]
    if again != result:
        differ = [
            f"{a['fixmedins_code']}→{a['group_code']} vs {b['fixmedins_code']}→{b['group_code']}"
            for a, b in zip(again, result, strict=False)
            if a != b
        ]
        problems.append(
            "recomputed draw differs from the stored one: "
            + ("; ".join(differ[:5]) or f"{len(again)} vs {len(result)} targets")
        )
    return problems
