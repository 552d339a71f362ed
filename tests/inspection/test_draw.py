"""The draw's rules as properties: rotation, conflicts, capacity, reproducibility, and a
refusal only when brute force finds the round impossible (a draw that refused every round
would pass no property here)."""

from __future__ import annotations

import functools
import itertools
import json
import math

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hrss_fraud.inspection.draw import (
    Candidate,
    Conflict,
    DrawError,
    DrawInputs,
    DrawParams,
    Group,
    Stream,
    Target,
    canonical_json,
    draw,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def candidate(i: int, zone: str, n_findings: int) -> Candidate:
    return Candidate(
        fixmedins_code=f"H{i:03d}",
        fixmedins_name=f"机构{i}",
        admdvs=zone,
        risk_rank=i + 1,
        risk_score=round(1 / (i + 1), 4),
        amount_at_risk=float(100 * n_findings),
        n_findings=n_findings,
        reasons="规则",
        reasons_en="rule",
    )


@st.composite
def rounds(draw_: st.DrawFn, *, max_institutions: int = 25, max_groups: int = 5) -> tuple:
    n_zones = draw_(st.integers(1, 6))
    zones = [f"Z{z}" for z in range(n_zones)]
    n = draw_(st.integers(1, max_institutions))
    cands = tuple(
        candidate(i, draw_(st.sampled_from(zones)), draw_(st.integers(0, 3))) for i in range(n)
    )
    n_groups = draw_(st.integers(1, max_groups))
    groups = tuple(
        Group(
            f"G{g}",
            (f"I{g}a", f"I{g}b"),
            tuple(sorted(draw_(st.sets(st.sampled_from(zones), max_size=2)))),
        )
        for g in range(n_groups)
    )
    inspectors = [m for g in groups for m in g.members]
    pairs = draw_(
        st.lists(
            st.tuples(st.sampled_from(inspectors), st.sampled_from(cands)), max_size=6, unique=True
        )
    )
    conflicts = tuple(Conflict(i, c.fixmedins_code, "亲属") for i, c in pairs)
    complaints = tuple(
        (c.fixmedins_code, f"TS-{k}")
        for k, c in enumerate(draw_(st.lists(st.sampled_from(cands), max_size=2, unique=True)))
    )
    inputs = DrawInputs("run1", None, cands, groups, conflicts, complaints)
    ranked = sum(c.n_findings > 0 for c in cands)
    top = draw_(st.integers(0, ranked))
    n_random = draw_(st.integers(0, max(0, n - top - len(complaints))))
    capacity = draw_(st.none() | st.integers(1, 4))
    params = DrawParams(top=top, random=n_random, capacity=capacity)
    return inputs, params, draw_(st.integers(0, 2**64 - 1))


def check_rules(inputs: DrawInputs, params: DrawParams, targets: tuple[Target, ...]) -> None:
    by_code = {c.fixmedins_code: c for c in inputs.candidates}
    groups = {g.group_code: g for g in inputs.groups}
    codes = [t.fixmedins_code for t in targets]
    assert len(codes) == len(set(codes))
    ranked = sorted((c for c in inputs.candidates if c.n_findings), key=lambda c: c.risk_rank)
    assert [t.fixmedins_code for t in targets if t.source == "risk"] == [
        c.fixmedins_code for c in ranked[: params.top]
    ]
    assert sum(t.source == "random" for t in targets) == params.random
    assert {c for c, _ in inputs.complaints} <= set(codes)
    capacity = params.capacity or math.ceil(len(targets) / len(groups))
    for t in targets:
        zone = by_code[t.fixmedins_code].admdvs
        assert zone not in groups[t.group_code].previous_zones, "rotation broken"
        conflicted = {
            c.inspector_code for c in inputs.conflicts if c.fixmedins_code == t.fixmedins_code
        }
        assert not conflicted & set(groups[t.group_code].members), "conflicted assignment"
    for g in groups:
        assert sum(t.group_code == g for t in targets) <= capacity


def allowed_groups(inputs: DrawInputs, code: str) -> list[int]:
    """The groups (by position) that may visit ``code``: none of them inspected its zone
    in the previous round, none of their members is conflicted with it. Worked out here
    from the inputs, apart from the draw's own ``exclusions``."""
    zone = next(c.admdvs for c in inputs.candidates if c.fixmedins_code == code)
    conflicted = {c.inspector_code for c in inputs.conflicts if c.fixmedins_code == code}
    return [
        i
        for i, g in enumerate(inputs.groups)
        if zone not in g.previous_zones and not conflicted & set(g.members)
    ]


def feasible(inputs: DrawInputs, codes: list[str], capacity: int) -> bool:
    """Exhaustive search: is there any assignment of these targets, each to a group that
    may visit it, no group over ``capacity``? Every choice is tried, target after target,
    remembering only how many targets each group already has (so 25 targets stay cheap)."""
    allowed = [allowed_groups(inputs, code) for code in codes]

    @functools.cache
    def place(t: int, load: tuple[int, ...]) -> bool:
        if t == len(codes):
            return True
        return any(
            place(t + 1, (*load[:g], load[g] + 1, *load[g + 1 :]))
            for g in allowed[t]
            if load[g] < capacity
        )

    return place(0, (0,) * len(inputs.groups))


def feasible_by_enumeration(inputs: DrawInputs, codes: list[str], capacity: int) -> bool:
    """The same question by listing every assignment (small rounds only)."""
    allowed = [allowed_groups(inputs, code) for code in codes]
    return any(
        all(choice.count(g) <= capacity for g in set(choice))
        for choice in itertools.product(*allowed)
    )


def expected_targets(inputs: DrawInputs, params: DrawParams, seed: int) -> list[str] | None:
    """The institutions the round must visit, in order, from the inputs alone: the
    ``top`` ranked institutions with findings, then the complaint targets not among them,
    then ``random`` of the others (sorted by code) in the order the seed's stream samples
    them; None when the counts cannot be met (too few ranked or left, or no target at
    all), a refusal whatever the groups."""
    by_code = {c.fixmedins_code for c in inputs.candidates}
    if any(code not in by_code for code, _ in inputs.complaints):
        return None
    ranked = sorted(
        (c for c in inputs.candidates if c.n_findings > 0 and c.risk_rank is not None),
        key=lambda c: (c.risk_rank, c.fixmedins_code),
    )
    if len(ranked) < params.top:
        return None
    codes = [c.fixmedins_code for c in ranked[: params.top]]
    codes += [
        code for code in dict.fromkeys(code for code, _ in inputs.complaints) if code not in codes
    ]
    pool = sorted(by_code - set(codes))
    if len(pool) < params.random:
        return None
    codes += [pool[i] for i in Stream(seed).sample(len(pool), params.random)]
    return codes or None


def capacity_of(inputs: DrawInputs, params: DrawParams, codes: list[str]) -> int:
    return params.capacity or math.ceil(len(codes) / len(inputs.groups))


def possible(inputs: DrawInputs, params: DrawParams, seed: int) -> bool:
    """Whether the round can be drawn at all: its counts can be met and brute force finds
    an assignment of its targets that keeps every rule."""
    codes = expected_targets(inputs, params, seed)
    ok = codes is not None and feasible(inputs, codes, capacity_of(inputs, params, codes))
    event("possible" if ok else "impossible")
    return ok


ASSIGNMENT_REFUSALS = ("no group may visit", "cannot place", "raise --capacity or add groups")
COUNT_REFUSALS = ("--top", "--random", "the round has no targets")


@SETTINGS
@given(rounds())
def test_a_draw_keeps_every_rule_and_refuses_only_an_impossible_round(case: tuple) -> None:
    inputs, params, seed = case
    can = possible(inputs, params, seed)
    try:
        targets = draw(inputs, params, seed)
    except DrawError as e:
        assert not can, f"refused a round brute force can draw: {e}"
        assert str(e)
        return
    assert can, "drew a round brute force finds impossible"
    assert [t.fixmedins_code for t in targets] == expected_targets(inputs, params, seed)
    check_rules(inputs, params, targets)


@SETTINGS
@given(rounds(max_institutions=7, max_groups=3))
def test_a_refusal_is_really_impossible_and_says_why(case: tuple) -> None:
    """Small rounds, so every assignment can also be listed."""
    inputs, params, seed = case
    codes, can = expected_targets(inputs, params, seed), False
    if codes is not None:
        capacity = capacity_of(inputs, params, codes)
        can = feasible(inputs, codes, capacity)
        assert can == feasible_by_enumeration(inputs, codes, capacity)
    event("counts cannot be met" if codes is None else ("possible" if can else "impossible"))
    try:
        draw(inputs, params, seed)
    except DrawError as e:
        if codes is None:  # the counts: refused before assigning
            assert any(s in str(e) for s in COUNT_REFUSALS), str(e)
        else:  # an assignment verdict, and a true one
            assert not can, f"refused a round brute force can draw: {e}"
            assert any(s in str(e) for s in ASSIGNMENT_REFUSALS), str(e)
        return
    assert codes is not None and can, "drew a round brute force finds impossible"


@SETTINGS
@given(rounds())
def test_the_same_seed_and_stored_inputs_give_the_same_draw(case: tuple) -> None:
    inputs, params, seed = case
    stored = json.loads(canonical_json(inputs.canonical()))
    can = possible(inputs, params, seed)
    try:
        first = draw(inputs, params, seed)
    except DrawError as e:
        assert not can, f"refused a round brute force can draw: {e}"
        with pytest.raises(DrawError) as again:
            draw(DrawInputs.from_canonical(stored), params, seed)
        assert str(again.value) == str(e)
        return
    assert draw(DrawInputs.from_canonical(stored), params, seed) == first
    assert draw(inputs, params, seed) == first


@SETTINGS
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_different_seeds_give_different_draws(seed_a: int, seed_b: int) -> None:
    if seed_a == seed_b:
        return
    cands = tuple(candidate(i, f"Z{i % 8}", 0) for i in range(40))
    groups = tuple(Group(f"G{g}", (f"I{g}",)) for g in range(4))
    inputs = DrawInputs("run1", None, cands, groups)
    params = DrawParams(top=0, random=12)
    assert draw(inputs, params, seed_a) != draw(inputs, params, seed_b)


@SETTINGS
@given(rounds(max_institutions=20, max_groups=4), st.integers(2, 4))
def test_no_group_inspects_a_zone_in_consecutive_rounds(case: tuple, n_rounds: int) -> None:
    inputs, params, seed = case
    previous: dict[str, set[str]] = {}
    zone = {c.fixmedins_code: c.admdvs for c in inputs.candidates}
    for k in range(n_rounds):
        groups = tuple(
            Group(g.group_code, g.members, tuple(sorted(previous.get(g.group_code, ()))))
            for g in inputs.groups
        )
        this = DrawInputs("run1", k or None, inputs.candidates, groups, inputs.conflicts)
        can = possible(this, params, seed + k)
        try:
            targets = draw(this, params, seed + k)
        except DrawError as e:
            assert not can, f"round {k + 1}: refused a round brute force can draw: {e}"
            return  # the next round would rotate from this one's assignment
        assert can, f"round {k + 1}: drew a round brute force finds impossible"
        now: dict[str, set[str]] = {}
        for t in targets:
            assert zone[t.fixmedins_code] not in previous.get(t.group_code, set())
            now.setdefault(t.group_code, set()).add(zone[t.fixmedins_code])
        previous = now


def test_impossible_placements_name_the_institution_and_each_groups_bar() -> None:
    cands = (candidate(0, "Z0", 2), candidate(1, "Z1", 1))
    groups = (Group("G0", ("I0",), ("Z0",)), Group("G1", ("I1",)))
    conflicts = (Conflict("I1", "H000", "前雇主"),)
    inputs = DrawInputs("run1", 3, cands, groups, conflicts)
    with pytest.raises(DrawError) as e:
        draw(inputs, DrawParams(top=1, random=0), 1)
    assert str(e.value) == (
        "no group may visit H000 (zone Z0) — G0: inspected zone Z0 in the previous round; "
        "G1: member I1 is conflicted (前雇主)"
    )


def test_too_few_groups_for_the_targets_they_alone_may_take_is_explained() -> None:
    cands = (*(candidate(i, "Z0", 1) for i in range(3)), candidate(3, "Z1", 1))
    groups = (Group("G0", ("I0",)), Group("G1", ("I1",), ("Z0",)))
    inputs = DrawInputs("run1", 1, cands, groups)
    with pytest.raises(DrawError, match=r"the 3 institutions H000, H001, H002 may only go to "):
        draw(inputs, DrawParams(top=4, random=0, capacity=2), 5)
    assert len(draw(inputs, DrawParams(top=4, random=0, capacity=3), 5)) == 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (DrawParams(top=3, random=0), r"--top 3: only 2 institutions have findings"),
        (DrawParams(top=2, random=2), r"--random 2: only 1 institutions are left"),
        (DrawParams(top=0, random=0), r"the round has no targets"),
    ],
)
def test_counts_that_cannot_be_met_are_refused(params: DrawParams, message: str) -> None:
    cands = (candidate(0, "Z0", 1), candidate(1, "Z1", 1), candidate(2, "Z1", 0))
    inputs = DrawInputs("run1", None, cands, (Group("G0", ("I0",)),))
    with pytest.raises(DrawError, match=message):
        draw(inputs, params, 0)


def test_the_stream_is_pinned_to_pcg64s_raw_output() -> None:
    """If this changes, stored rounds no longer reproduce: numpy changed PCG64 or seeding."""
    s = Stream(20250101)
    assert (s.sample(10, 4), s.below(1000)) == ([4, 6, 0, 8], 981)


@SETTINGS
@given(st.integers(0, 2**64 - 1), st.integers(1, 60), st.data())
def test_stream_samples_are_distinct_and_in_range(seed: int, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    picked = Stream(seed).sample(n, k)
    assert len(picked) == len(set(picked)) == k
    assert all(0 <= i < n for i in picked)
    assert sorted(Stream(seed).sample(n, n)) == list(range(n))


@st.composite
def drawable_rounds(draw_: st.DrawFn) -> tuple:
    """Rounds that can be drawn by construction, whatever the brute force says: every
    institution is first given a group (the planted assignment) and some other groups it
    may also go to; conflicts bar it from all the rest (a member of each is conflicted with
    it), rotation bars a group only from zones none of its planted institutions lies in,
    and the capacity just takes each group's planted institutions (or one more). Whichever
    targets the seed picks, the planted assignment keeps every rule, so a refusal is always
    wrong; and with so few choices left, a first-come assignment that never moves an
    earlier target to make room (no augmenting path) gets stuck."""
    n_zones = draw_(st.integers(1, 6))
    zones = [f"Z{z}" for z in range(n_zones)]
    n = draw_(st.integers(1, 20))
    n_groups = draw_(st.integers(1, 5))
    planted = [draw_(st.integers(0, n_groups - 1)) for _ in range(n)]
    cands = tuple(
        candidate(i, draw_(st.sampled_from(zones)), draw_(st.integers(0, 3))) for i in range(n)
    )
    groups = []
    for g in range(n_groups):
        own = {c.admdvs for c, p in zip(cands, planted, strict=True) if p == g}
        free = [z for z in zones if z not in own]
        barred = draw_(st.sets(st.sampled_from(free), max_size=3)) if free else set()
        groups.append(Group(f"G{g}", (f"I{g}a", f"I{g}b"), tuple(sorted(barred))))
    conflicts = []
    for i, c in enumerate(cands):
        also = draw_(st.sets(st.integers(0, n_groups - 1), max_size=2))
        for g in set(range(n_groups)) - also - {planted[i]}:
            member = draw_(st.sampled_from(groups[g].members))
            conflicts.append(Conflict(member, c.fixmedins_code, "亲属"))
    complaints = tuple(
        (c.fixmedins_code, f"TS-{k}")
        for k, c in enumerate(draw_(st.lists(st.sampled_from(cands), max_size=2, unique=True)))
    )
    inputs = DrawInputs("run1", 2, cands, tuple(groups), tuple(conflicts), complaints)
    ranked = sum(c.n_findings > 0 for c in cands)
    top = draw_(st.integers(0, ranked))
    n_random = draw_(st.integers(0, max(0, n - top - len(complaints))))
    if top + n_random + len(complaints) == 0:  # a round needs a target
        top = min(1, ranked)
        n_random = 1 - top
    load = max(planted.count(g) for g in range(n_groups))
    capacity = load + draw_(st.sampled_from([0, 0, 1]))
    params = DrawParams(top=top, random=n_random, capacity=capacity)
    return inputs, params, draw_(st.integers(0, 2**64 - 1))


@SETTINGS
@given(drawable_rounds())
def test_a_round_with_a_planted_assignment_is_always_drawn(case: tuple) -> None:
    """A draw that refuses when unsure (or always) fails here on every example; and the
    brute force must find the planted assignment too."""
    inputs, params, seed = case
    codes = expected_targets(inputs, params, seed)
    assert codes is not None  # the counts are within what the round has
    assert feasible(inputs, codes, params.capacity)
    targets = draw(inputs, params, seed)  # a DrawError fails the test
    assert [t.fixmedins_code for t in targets] == codes
    check_rules(inputs, params, targets)
