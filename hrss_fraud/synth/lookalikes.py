"""Legitimate care that looks like a scheme: one planner per kind, each a pattern a county
really sees and a naive rule would flag (the kinds: :mod:`hrss_fraud.synth.lookalike_kinds`).
Their encounters carry ``kind="lookalike"`` and the kind as ``tag``, so they land in
``truth/lookalikes.parquet`` and never in the truth of schemes (no injector picks a
look-alike encounter: they take ``kind == ""`` only).

Here are the episodes of two or a few encounters and the long prescriptions; the courses
of care are in :mod:`hrss_fraud.synth.lookalike_courses`, their diagnoses and own lines
in :mod:`hrss_fraud.synth.lookalike_care`. Each kind draws from its own random stream
(seed, kind), so adding one leaves the others as they were.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from hrss_fraud.synth.lookalike_courses import (
    maternity_care,
    rehab_course,
    tcm_course,
    wound_care,
)
from hrss_fraud.synth.lookalike_visits import HOUR, LOOKALIKE, own_stream, thc, visits
from hrss_fraud.synth.persons import CHRONIC_BITS
from hrss_fraud.synth.plan import TRANSFER_TAG, _alive, day_weights
from hrss_fraud.synth.world import World

__all__ = ["complete_pairs", "plan", "routine_care", "wound_care"]

#: Twelve weeks' supply: the longest a long prescription may give.
LONG_SUPPLY_DAYS = 84
#: Chronic conditions an elderly patient's one-stop visit covers, the main diagnosis first.
POLYPHARMACY_GROUPS = ("HTN", "CHD", "STROKE", "DM", "COPD")


@own_stream
def referral_transfer(world: World) -> pl.DataFrame:
    """An acute stroke, heart or chest patient admitted at the township centre for one to
    three days, then transferred up (上转) and admitted at the county hospital on the
    afternoon of the day they left."""
    rng = world.rng
    pop = world.pop
    older = np.flatnonzero(pop.age_years >= 50)
    people = older[rng.random(len(older)) < 0.02 * world.days / 365]
    n = len(people)
    group = rng.choice(np.array(["STROKE", "CHD", "PNEU", "COPD"]), n, p=[0.35, 0.3, 0.2, 0.15])
    day1 = rng.choice(world.days, n, p=day_weights(world))
    los1 = rng.integers(1, 4, n)
    day2 = day1 + los1
    los2 = np.clip(np.round(8 * np.exp(rng.normal(0, 0.3, n))), 4, 20).astype(np.int32)
    keep = _alive(world, people, day1) & _alive(world, people, day2 + los2)
    p, g = people[keep], group[keep]
    first = visits(
        world, TRANSFER_TAG, p, day1[keep], thc(world, p), g, "21", setting="ip", los=los1[keep]
    )
    second = visits(
        world,
        TRANSFER_TAG,
        p,
        day2[keep],
        np.full(len(p), world.insts("A1")[0]),
        g,
        "21",
        setting="ip",
        los=los2[keep],
    )
    afternoon = rng.integers(13 * HOUR, 17 * HOUR, len(p)).astype(np.int32)
    return pl.concat([first, second.with_columns(sec=pl.Series(afternoon))])


@own_stream
def same_day_departments(world: World) -> pl.DataFrame:
    """An elderly patient with two or more chronic conditions sees internal medicine in the
    morning and orthopaedics or ophthalmology an hour or two later, same county hospital."""
    rng = world.rng
    pop = world.pop
    chronic = ("HTN", "DM", "CHD", "COPD")
    has = np.stack([(pop.chronic & CHRONIC_BITS[g]) > 0 for g in chronic], axis=1)
    people = np.flatnonzero((has.sum(axis=1) >= 2) & (pop.age_years >= 60))
    people = people[rng.random(len(people)) < min(0.9, 0.25 * world.days / 90)]
    n = len(people)
    # One of the person's own chronic conditions, at random.
    own = has[people] * rng.random((n, len(chronic)))
    g1 = np.array(chronic)[own.argmax(axis=1)]
    g2 = rng.choice(np.array(["KNEE_OA", "LUMBAR", "CATAR"]), n, p=[0.4, 0.35, 0.25])
    day = rng.choice(world.days, n, p=day_weights(world))
    keep = _alive(world, people, day)
    p, d, g1, g2 = people[keep], day[keep], g1[keep], g2[keep]
    inst = np.full(len(p), world.insts("A1")[0])
    mt = np.where(rng.random(len(p)) < 0.5, "14", "11")
    morning = rng.integers(8 * HOUR, 10 * HOUR, len(p)).astype(np.int32)
    later = morning + rng.integers(1 * HOUR, 5 * HOUR // 2, len(p)).astype(np.int32)
    first = visits(world, "same_day_departments", p, d, inst, g1, mt)
    second = visits(world, "same_day_departments", p, d, inst, g2, "11")
    return pl.concat(
        [first.with_columns(sec=pl.Series(morning)), second.with_columns(sec=pl.Series(later))]
    )


@own_stream
def family_covisit(world: World) -> pl.DataFrame:
    """Two siblings, ill together, brought by a parent to one clinic minutes apart, a few
    times a season (paediatrics A07 at the maternal and child hospital)."""
    rng = world.rng
    pop = world.pop
    kids = np.flatnonzero((pop.age_years >= 1) & (pop.age_years < 15))
    kids = kids[np.argsort(pop.household[kids], kind="stable")]
    hh = pop.household[kids]
    older = np.flatnonzero(hh[1:] == hh[:-1])
    older = older[np.r_[True, hh[older[1:]] != hh[older[:-1]]]] if len(older) else older
    a, b = kids[older], kids[older + 1]
    chosen = rng.random(len(a)) < 0.5
    a, b = a[chosen], b[chosen]
    outings = rng.poisson(1.5 * world.days / 90, len(a))
    a, b = np.repeat(a, outings), np.repeat(b, outings)
    n = len(a)
    day = rng.choice(world.days, n, p=day_weights(world))
    group = rng.choice(np.array(["URTI", "PED_DIARR", "BRONCH"]), n, p=[0.6, 0.25, 0.15])
    u = rng.random(n)
    clinics = [world.insts("C1", town=t) for t in range(len(world.county.townships))]
    village = np.array([c[0] if len(c) else -1 for c in clinics])[pop.town[a]]
    inst = np.where(u < 0.5, world.insts("A3")[0], np.where(u < 0.8, thc(world, a), village))
    inst = np.where(inst < 0, thc(world, a), inst)
    keep = _alive(world, a, day) & _alive(world, b, day)
    a, b, day, group, inst = a[keep], b[keep], day[keep], group[keep], inst[keep]
    first = visits(world, "family_covisit", a, day, inst, group, "11", dept="A07")
    second = visits(world, "family_covisit", b, day, inst, group, "11", dept="A07")
    sec = rng.integers(8 * HOUR, 17 * HOUR, len(a)).astype(np.int32)
    gap = rng.integers(60, 600, len(a)).astype(np.int32)
    return pl.concat(
        [
            first.with_columns(sec=pl.Series(sec)),
            second.with_columns(sec=pl.Series(sec + gap), dr=first["dr"]),
        ]
    )


@own_stream
def emergency_return(world: World) -> pl.DataFrame:
    """A night visit to the county hospital's emergency department (急诊 13, A20) and the
    follow-up its doctor asked for that morning in the clinic, for the same complaint."""
    rng = world.rng
    pop = world.pop
    people = np.flatnonzero(rng.random(len(pop.age_years)) < 0.02 * world.days / 365)
    n = len(people)
    child = pop.age_years[people] < 15
    adult_group = rng.choice(np.array(["GASTR", "URTI", "BRONCH"]), n, p=[0.45, 0.35, 0.2])
    child_group = rng.choice(np.array(["URTI", "PED_DIARR"]), n)
    group = np.where(child, child_group, adult_group)
    day = rng.choice(world.days, n, p=day_weights(world))
    keep = _alive(world, people, day)
    p, d, g, child = people[keep], day[keep], group[keep], child[keep]
    inst = np.full(len(p), world.insts("A1")[0])
    night = visits(world, "emergency_return", p, d, inst, g, "13", dept="A20")
    clinic = np.where(child, "A07", "A03")
    morning = visits(world, "emergency_return", p, d, inst, g, "11", dept=clinic)
    return pl.concat(
        [
            night.with_columns(sec=pl.Series(rng.integers(HOUR // 2, 5 * HOUR, len(p)))),
            morning.with_columns(sec=pl.Series(rng.integers(8 * HOUR, 23 * HOUR // 2, len(p)))),
        ]
    ).with_columns(pl.col("sec").cast(pl.Int32))


def _every(
    world: World, rng: np.random.Generator, people: np.ndarray, period: int, slack: int
) -> tuple[np.ndarray, np.ndarray]:
    """A visit every ``period`` days (± ``slack``) from a random first day: (person, day)."""
    per_person = world.days // period + 1
    p = np.repeat(people, per_person)
    first = np.repeat(rng.integers(0, period, len(people)), per_person)
    day = first + period * np.tile(np.arange(per_person), len(people))
    return p, day + rng.integers(-slack, slack + 1, len(p))


def _instead_of_follow_ups(
    enc: pl.DataFrame, psn: np.ndarray, group: np.ndarray, new: pl.DataFrame
) -> pl.DataFrame:
    """``new`` in place of the routine follow-ups and pharmacy refills of these persons'
    conditions (``psn`` and ``group`` pairwise): nobody keeps both."""
    replaced = pl.DataFrame(
        {"psn": psn, "group": group}, schema={"psn": pl.Int32, "group": pl.String}
    )
    routine = (pl.col("kind") == "") | pl.col("tag").is_in(["chronic_refill", "proxy_collection"])
    enc = enc.with_row_index("_r")
    dropped = (
        enc.join(replaced, on=["psn", "group"], how="semi")
        .filter(pl.col("setting").is_in(["op", "ph"]) & routine)
        .select("_r")
    )
    kept = enc.join(dropped, on="_r", how="anti", maintain_order="left").drop("_r")
    return pl.concat([kept, new])


@own_stream
def long_prescription(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """Some stable hypertension or diabetes patients get twelve weeks' supply per visit
    (门诊慢特病 14) and come every twelve weeks: their monthly follow-ups and pharmacy
    refills for that condition give way to these visits."""
    rng = world.rng
    pop = world.pop
    htn = (pop.chronic & CHRONIC_BITS["HTN"]) > 0
    dm = (pop.chronic & CHRONIC_BITS["DM"]) > 0
    people = np.flatnonzero((htn | dm) & (pop.age_years >= 45))
    people = people[rng.random(len(people)) < 0.12]
    group = np.where(htn[people], "HTN", "DM")
    p, day = _every(world, rng, people, LONG_SUPPLY_DAYS, 3)
    g = group[np.searchsorted(people, p)]
    at_thc = rng.random(len(people))[np.searchsorted(people, p)] < 0.6
    inst = np.where(at_thc, thc(world, p), world.insts("A1")[0])
    keep = _alive(world, p, day)
    new = visits(world, "long_prescription", p[keep], day[keep], inst[keep], g[keep], "14")
    return _instead_of_follow_ups(enc, people, group, new)


@own_stream
def elderly_polypharmacy(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """Elderly patients with three or more chronic conditions come monthly to the county
    hospital's chronic-disease clinic (门诊慢特病 14), where every drug they take is
    prescribed at one visit on two prescriptions, at most five drugs each (处方管理办法):
    their separate follow-ups and refills give way to it. Not those on long prescriptions."""
    rng = world.rng
    pop = world.pop
    has = np.stack([(pop.chronic & CHRONIC_BITS[g]) > 0 for g in POLYPHARMACY_GROUPS], axis=1)
    taken = enc.filter(pl.col("tag") == "long_prescription")["psn"].to_numpy()
    people = np.flatnonzero((has.sum(axis=1) >= 3) & (pop.age_years >= 65))
    people = np.setdiff1d(people, taken)
    people = people[rng.random(len(people)) < 0.3]
    # The visit's main diagnosis: the first of the person's conditions in that order.
    main = np.array(POLYPHARMACY_GROUPS)[has[people].argmax(axis=1)]
    p, day = _every(world, rng, people, 30, 2)
    keep = _alive(world, p, day)
    p, day = p[keep], day[keep]
    g = main[np.searchsorted(people, p)]
    inst = np.full(len(p), world.insts("A1")[0])
    new = visits(world, "elderly_polypharmacy", p, day, inst, g, "14", dept="A03")
    rows, cols = np.nonzero(has[people])
    return _instead_of_follow_ups(enc, people[rows], np.array(POLYPHARMACY_GROUPS)[cols], new)


def routine_care(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """The kinds that replace some of a chronic patient's routine care with their own."""
    return elderly_polypharmacy(world, long_prescription(world, enc))


def plan(world: World) -> list[pl.DataFrame]:
    """The kinds that need nothing but the county's people and institutions."""
    return [
        maternity_care(world),
        rehab_course(world),
        tcm_course(world),
        referral_transfer(world),
        same_day_departments(world),
        family_covisit(world),
        emergency_return(world),
    ]


#: Kinds whose two encounters only make sense together, and per person one episode.
PAIRED = ("referral_transfer", "same_day_departments", "emergency_return")


def complete_pairs(enc: pl.DataFrame) -> pl.DataFrame:
    """Drop the half of a paired look-alike whose partner collided with a stay."""
    paired = pl.col("tag").is_in(PAIRED) & (pl.col("kind") == LOOKALIKE)
    whole = pl.len().over("psn", "tag") == 2
    return enc.filter(~paired | whole)
