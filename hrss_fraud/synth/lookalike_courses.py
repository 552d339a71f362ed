"""Look-alikes that are courses of care: prenatal checks and a planned delivery, daily
rehabilitation, an acupuncture course, dressing changes after an operation. Each one's
frequency is what the care needs, and what a naive visit-count rule flags."""

from __future__ import annotations

import numpy as np
import polars as pl

from hrss_fraud.synth.lookalike_visits import course_visits, own_stream, thc, visits
from hrss_fraud.synth.persons import CHRONIC_BITS
from hrss_fraud.synth.plan import _alive
from hrss_fraud.synth.world import World

#: Share of women aged 20–39 pregnant at a time (≈ 1 % births a year), and of those with
#: a scar from an earlier caesarean, followed as high-risk (瘢痕子宫妊娠).
PREGNANT_SHARE = 0.05
SCARRED_SHARE = 0.3
#: Weeks of gestation of the prenatal checks; the repeat caesarean is planned at 39.
VISIT_WEEKS = np.array([12, 16, 20, 24, 28, 30, 32, 34, 36, 37, 38])
DELIVERY_WEEK = 39
WOUND_GROUPS = ("APPEND", "CHOLE", "FRACT")


@own_stream
def maternity_care(world: World) -> pl.DataFrame:
    """Prenatal checks (产检, 生育门诊 51, obstetrics A05) of women whose earlier caesarean
    makes this pregnancy high-risk: every 4 weeks, every 2 from week 28, weekly from 36;
    then the planned repeat caesarean at 39 weeks (生育住院 52) at the same hospital."""
    rng = world.rng
    pop = world.pop
    gend = pop.person["gend"].to_numpy()
    women = np.flatnonzero((gend == "2") & (pop.age_years >= 20) & (pop.age_years < 40))
    mothers = women[rng.random(len(women)) < PREGNANT_SHARE * SCARRED_SHARE]
    # The last period: early enough that a check falls in the period, late enough that the
    # delivery has not happened before it starts.
    lmp = rng.integers(-DELIVERY_WEEK * 7, world.days - 12 * 7, len(mothers))
    a1, a3 = world.insts("A1")[0], world.insts("A3")[0]
    inst = np.where(rng.random(len(mothers)) < 0.7, a3, a1)
    k = len(VISIT_WEEKS)
    p = np.repeat(mothers, k)
    week = np.tile(VISIT_WEEKS, len(mothers))
    # A check moves by a few days to suit the family; the weekly ones near term by one.
    slack = np.where(week >= 36, 1, 3)
    day = np.repeat(lmp, k) + week * 7 + rng.integers(-slack, slack + 1)
    keep = _alive(world, p, day)
    checks = visits(
        world,
        "maternity_care",
        p[keep],
        day[keep],
        np.repeat(inst, k)[keep],
        "DELIV",
        "51",
        dept="A05",
    )
    birth = lmp + DELIVERY_WEEK * 7 + rng.integers(-3, 3, len(mothers))
    los = rng.integers(4, 8, len(mothers)).astype(np.int32)
    keep = _alive(world, mothers, birth) & _alive(world, mothers, birth + los)
    stays = visits(
        world,
        "maternity_care",
        mothers[keep],
        birth[keep],
        inst[keep],
        "DELIV",
        "52",
        setting="ip",
        los=los[keep],
        dept="A05",
    )
    return pl.concat([checks, stays])


@own_stream
def rehab_course(world: World) -> pl.DataFrame:
    """Stroke survivors' rehabilitation (康复医学科 A21) every weekday for 10–20 sessions
    at the county or TCM hospital; only the first session prescribes drugs or tests."""
    rng = world.rng
    pop = world.pop
    people = np.flatnonzero(((pop.chronic & CHRONIC_BITS["STROKE"]) > 0) & (pop.age_years >= 45))
    people = people[rng.random(len(people)) < 0.2 * min(1.0, world.days / 90)]
    start = rng.integers(-14, world.days, len(people))
    count = rng.integers(10, 21, len(people))
    a1, a2 = world.insts("A1")[0], world.insts("A2")[0]
    inst = np.where(rng.random(len(people)) < 0.6, a1, a2)
    return course_visits(
        world,
        "rehab_course",
        people,
        start,
        count,
        np.ones(len(people), int),
        weekdays_only=True,
        inst=inst,
        group="STROKE",
        med_type=np.full(len(people), "11"),
        dept="A21",
    )


@own_stream
def tcm_course(world: World) -> pl.DataFrame:
    """One course of ten acupuncture sessions (针灸, TCM department A50), daily or every
    other day, at the TCM hospital (中医特色门诊 16) or the township centre."""
    rng = world.rng
    pop = world.pop
    adults = np.flatnonzero(pop.age_years >= 30)
    people = adults[rng.random(len(adults)) < 0.012 * world.days / 365]
    start = rng.integers(-5, world.days, len(people))
    step = np.where(rng.random(len(people)) < 0.5, 1, 2)
    at_a2 = rng.random(len(people)) < 0.6
    return course_visits(
        world,
        "tcm_course",
        people,
        start,
        np.full(len(people), 10),
        step,
        weekdays_only=False,
        inst=np.where(at_a2, world.insts("A2")[0], thc(world, people)),
        group="TCM_PAIN",
        med_type=np.where(at_a2, "16", "11"),
        dept="A50",
    )


@own_stream
def wound_care(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """Dressing changes (换药) every two or three days after an operation for appendicitis,
    gallstones or a fracture, at the surgical clinic (A04) of the hospital that operated."""
    rng = world.rng
    ops = enc.filter(
        (pl.col("setting") == "ip")
        & (pl.col("kind") == "")
        & pl.col("group").is_in(WOUND_GROUPS)
        & (pl.col("med_type") != "28")
    ).sort("day", "psn", "inst")
    ops = ops.filter(pl.Series(rng.random(ops.height) < 0.6))
    fracture = ops["group"].to_numpy() == "FRACT"
    per_op = np.where(fracture, rng.integers(3, 5, ops.height), rng.integers(2, 4, ops.height))
    row = np.repeat(np.arange(ops.height), per_op)
    gaps = rng.integers(2, 4, len(row))
    # Days since discharge: the running sum of the gaps within each operation's per_op.
    first_of = np.repeat(np.cumsum(per_op) - per_op, per_op)
    since = np.cumsum(gaps) - np.r_[0, np.cumsum(gaps)][first_of]
    end = (ops["day"] + ops["los"]).to_numpy()[row]
    psn = ops["psn"].to_numpy()[row]
    day = end + since
    keep = _alive(world, psn, day)
    return visits(
        world,
        "wound_care",
        psn[keep],
        day[keep],
        ops["inst"].to_numpy()[row][keep],
        ops["group"].to_numpy()[row][keep],
        "11",
        dept="A04",
        mode="session",
    )
