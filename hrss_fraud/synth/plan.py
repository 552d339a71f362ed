"""Ordinary care for a year: outpatient visits, pharmacy purchases and admissions, one row
per encounter. Lines are made later, month by month, from this plan.

Targets (county-level care, China Health Statistics Yearbook 2023 and NHSA statistical
bulletins): about 6 outpatient visits per person per year, an admission rate near 20 %,
6–9 days' average stay.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from hrss_fraud.knowledge import RECIPE_GROUP_MIN_HOSP_LV
from hrss_fraud.synth.persons import CHRONIC_BITS
from hrss_fraud.synth.world import ENCOUNTER_SCHEMA, World

# Chronic conditions whose patients refill the same drugs at a pharmacy every month.
REFILL_GROUPS = ("HTN", "DM", "CHD", "COPD")

#: Seasonal weight of each calendar month (respiratory winters).
SEASON = np.array([1.25, 1.1, 1.05, 0.95, 0.9, 0.85, 0.85, 0.85, 0.9, 0.95, 1.05, 1.2])

#: Department by diagnosis group.
GROUP_DEPT = {
    "HTN": "A03",
    "DM": "A03",
    "COPD": "A03",
    "CHD": "A03",
    "STROKE": "A03",
    "URTI": "A03",
    "BRONCH": "A03",
    "PNEU": "A03",
    "GASTR": "A03",
    "LUMBAR": "A04",
    "KNEE_OA": "A04",
    "APPEND": "A04",
    "CHOLE": "A04",
    "FRACT": "A04",
    "DELIV": "A05",
    "GYN": "A05",
    "CATAR": "A10",
    "CANCER": "A51",
    "CHEMO": "A51",
    "CKD": "A52",
    "DIALYSIS": "A52",
    "BPH": "A04",
    "NEONATE": "A07",
    "PED_DIARR": "A07",
    "DERM": "A03",
    "TCM_PAIN": "A50",
    "GENERAL": "A03",
}

#: The look-alike whose second admission begins on the day the first one ended.
TRANSFER_TAG = "referral_transfer"

SURGICAL = ("APPEND", "CHOLE", "FRACT", "CATAR", "KNEE_OA", "BPH", "DELIV")


def frame(**cols: object) -> pl.DataFrame:
    """An encounter frame with every column of the plan, filling defaults."""
    n = len(next(iter(cols.values())))  # type: ignore[arg-type]
    defaults = {"tag": "", "kind": "", "mode": "normal", "los": 0, "sec": 8 * 3600}
    data = {}
    for name, dtype in ENCOUNTER_SCHEMA.items():
        value = cols.get(name, defaults.get(name))
        if value is None:
            msg = f"encounter column {name} missing"
            raise ValueError(msg)
        if np.isscalar(value):
            value = np.full(n, value)
        data[name] = pl.Series(name, value, dtype=dtype)
    return pl.DataFrame(data)


def day_weights(world: World) -> np.ndarray:
    """Probability of each day of the period for an acute visit."""
    dates = np.datetime64(world.start, "D") + np.arange(world.days)
    month = dates.astype("datetime64[M]").astype(int) % 12
    weekday = (dates.astype(int) + 3) % 7  # 0 = Monday
    w = SEASON[month] * np.where(weekday >= 5, 0.7, 1.0)
    return w / w.sum()


def _age_group_choice(
    world: World, psn: np.ndarray, table: list[tuple[str, float, float, float]]
) -> np.ndarray:
    """Pick a diagnosis group per person from (group, weight child, adult, elderly)."""
    age = world.pop.age_years[psn]
    band = np.digitize(age, [15, 60])
    gend = world.pop.person["gend"].to_numpy()[psn]
    groups = np.array([t[0] for t in table])
    weights = np.array([t[1:] for t in table])  # groups x 3
    out = np.empty(len(psn), dtype=object)
    for b in range(3):
        for sex in ("1", "2"):
            sel = (band == b) & (gend == sex)
            w = weights[:, b].copy()
            w[np.isin(groups, ["GYN", "DELIV"])] *= sex == "2"
            w[groups == "BPH"] *= sex == "1"
            if sel.any() and w.sum() > 0:
                out[sel] = world.rng.choice(groups, sel.sum(), p=w / w.sum())
    return out.astype(str)


ACUTE_OP = [
    ("URTI", 5, 3, 2),
    ("BRONCH", 2, 1, 1.5),
    ("GASTR", 0.8, 2, 1.5),
    ("PED_DIARR", 2, 0, 0),
    ("LUMBAR", 0, 1.2, 1.3),
    ("KNEE_OA", 0, 0.4, 1.5),
    ("DERM", 1, 1, 0.6),
    ("GYN", 0, 0.8, 0.2),
    ("BPH", 0, 0.1, 0.8),
    ("TCM_PAIN", 0, 0.6, 0.8),
    ("GENERAL", 1, 1.5, 1.5),
]
ADMISSION = [
    ("PNEU", 3, 1, 3),
    ("COPD", 0, 0.2, 1.5),
    ("CHD", 0, 0.3, 1.5),
    ("STROKE", 0, 0.3, 1.5),
    ("APPEND", 1, 1, 0.3),
    ("CHOLE", 0, 0.8, 0.6),
    ("FRACT", 0.5, 0.8, 0.8),
    ("CATAR", 0, 0.05, 0.8),
    ("KNEE_OA", 0, 0.1, 0.5),
    ("LUMBAR", 0, 0.8, 0.6),
    ("GASTR", 0.3, 0.6, 0.6),
    ("DM", 0, 0.3, 0.5),
    ("HTN", 0, 0.3, 0.6),
    ("BPH", 0, 0, 0.3),
]


def _alive(world: World, psn: np.ndarray, day: np.ndarray) -> np.ndarray:
    die = world.pop.die_day[psn]
    born = world.pop.birth_day[psn]
    return ((die < 0) | (day < die)) & (day >= born) & (day >= 0) & (day < world.days)


def _op_institution(world: World, psn: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Village clinic, township centre, county hospitals or a private clinic."""
    rng = world.rng
    n = len(psn)
    town = world.pop.town[psn]
    child = world.pop.age_years[psn] < 15
    u = rng.random(n)
    out = np.empty(n, dtype=np.int64)
    a1, a2, a3 = (world.insts(k)[0] for k in ("A1", "A2", "A3"))
    cat = np.select(
        [u < 0.45, u < 0.75, u < 0.88, u < 0.93, u < 0.97],
        [0, 1, 2, 3, 4],
        5,
    )
    cat = np.where(child & (cat == 3), 4, cat)
    cat = np.where(np.isin(group, ["GYN"]) & (cat >= 2), 4, cat)
    cat = np.where(np.isin(group, ["TCM_PAIN"]) & (cat >= 2), 3, cat)
    # Groups whose care needs a level-2 hospital (knowledge: RECIPE_GROUP_MIN_HOSP_LV).
    level2 = np.isin(group, list(RECIPE_GROUP_MIN_HOSP_LV))
    cat = np.where(level2, np.where(np.isin(group, ["KNEE_OA"]) & (u < 0.4), 3, 2), cat)
    for t in range(len(world.county.townships)):
        sel_t = town == t
        clinics = world.insts("C1", town=t)
        thc = world.insts("B1", town=t)
        m = sel_t & (cat == 0)
        out[m] = clinics[rng.integers(0, len(clinics), m.sum())]
        m = sel_t & (cat == 1)
        out[m] = thc[0]
    out[cat == 2] = a1
    out[cat == 3] = a2
    out[cat == 4] = a3
    private = world.insts("C2")
    m = cat == 5
    out[m] = private[rng.integers(0, len(private), m.sum())]
    return out


def _med_type_op(world: World, inst: np.ndarray, chronic_visit: np.ndarray) -> np.ndarray:
    kind = world.inst_kind[inst]
    u = world.rng.random(len(inst))
    mt = np.full(len(inst), "11")
    mt = np.where(chronic_visit & np.isin(kind, ["B1", "A1", "A2"]) & (u < 0.5), "14", mt)
    mt = np.where((kind == "A1") & (u > 0.96), "13", mt)
    mt = np.where((kind == "A2") & (u > 0.7), "16", mt)
    return mt


def _hours(world: World, n: int, med_type: np.ndarray) -> np.ndarray:
    rng = world.rng
    sec = (8 * 3600 + rng.integers(0, 9 * 3600, n)).astype(np.int32)
    night = rng.integers(0, 24 * 3600, n).astype(np.int32)
    return np.where(med_type == "13", night, sec)


def _encounters(
    world: World,
    psn: np.ndarray,
    day: np.ndarray,
    inst: np.ndarray,
    group: np.ndarray,
    setting: str,
    med_type: np.ndarray,
    los: np.ndarray | int = 0,
    tag: str = "",
    kind: str = "",
    mode: str | np.ndarray = "normal",
    dept: np.ndarray | None = None,
) -> pl.DataFrame:
    """Encounters of one setting; the department follows the diagnosis group unless given."""
    if dept is None:
        dept = (
            np.array([GROUP_DEPT.get(g, "A03") for g in group])
            if setting != "ph"
            else np.full(len(psn), "D01")
        )
    dr, dept = world.doctors(inst, dept)
    return frame(
        psn=psn,
        inst=inst,
        dr=dr,
        dept=dept,
        setting=setting,
        med_type=med_type,
        day=day,
        sec=_hours(world, len(psn), med_type),
        los=los,
        group=group,
        tag=tag,
        kind=kind,
        mode=mode,
    )


def outpatient(world: World) -> pl.DataFrame:
    """Acute visits (seasonal, by age) and monthly follow-ups of chronic patients."""
    rng, pop = world.rng, world.pop
    n = len(pop.age_years)
    age = pop.age_years
    rate = np.select([age < 5, age < 15, age < 45, age < 60], [6.0, 3.5, 2.6, 3.6], 4.6)
    counts = rng.poisson(rate * world.days / 365)
    psn = np.repeat(np.arange(n), counts)
    day = rng.choice(world.days, len(psn), p=day_weights(world))
    group = _age_group_choice(world, psn, ACUTE_OP)
    acute = (psn, day, group)

    chronic_groups = ["HTN", "DM", "COPD", "CHD", "STROKE"]
    parts = [acute]
    for g in chronic_groups:
        people = np.flatnonzero((pop.chronic & CHRONIC_BITS[g]) > 0)
        people = people[rng.random(len(people)) < 0.6]
        visits = int(np.ceil(world.days / 30)) + 1
        p = np.repeat(people, visits)
        k = np.tile(np.arange(visits), len(people))
        phase = np.repeat(rng.integers(0, 30, len(people)), visits)
        d = phase + 30 * k + rng.integers(-4, 5, len(p))
        parts.append((p, d, np.full(len(p), g)))
    psn = np.concatenate([x[0] for x in parts])
    day = np.concatenate([x[1] for x in parts])
    group = np.concatenate([x[2] for x in parts])
    chronic_visit = np.isin(group, chronic_groups)
    keep = _alive(world, psn, day)
    psn, day, group, chronic_visit = psn[keep], day[keep], group[keep], chronic_visit[keep]
    inst = _op_institution(world, psn, group)
    med_type = _med_type_op(world, inst, chronic_visit)
    return _encounters(world, psn, day, inst, group, "op", med_type)


def pharmacy(world: World) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Chronic refills on a 30-day schedule (never early) and occasional OTC purchases.

    Returns (ordinary purchases, chronic refills); refills are the on-time look-alike of
    overlapping supply."""
    rng, pop = world.rng, world.pop
    n = len(pop.age_years)
    shops = world.insts("D1")
    shop_town = world.inst_town[shops]
    # Each person's usual pharmacy: one in their township when there is one.
    home = np.empty(n, dtype=np.int64)
    for t in range(len(world.county.townships)):
        local = shops[shop_town == t]
        pool = local if len(local) else shops
        sel = pop.town == t
        home[sel] = pool[rng.integers(0, len(pool), sel.sum())]

    refill_parts = []
    for g in REFILL_GROUPS:
        people = np.flatnonzero((pop.chronic & CHRONIC_BITS[g]) > 0)
        people = people[rng.random(len(people)) < 0.35]
        visits = int(np.ceil(world.days / 30)) + 1
        gaps = 30 + rng.integers(0, 4, (len(people), visits))
        first = rng.integers(0, 30, len(people))
        day = (first[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1]).ravel()
        p = np.repeat(people, visits)
        refill_parts.append((p, day, np.full(len(p), g)))
    p = np.concatenate([x[0] for x in refill_parts])
    d = np.concatenate([x[1] for x in refill_parts])
    g = np.concatenate([x[2] for x in refill_parts])
    keep = _alive(world, p, d)
    p, d, g = p[keep], d[keep], g[keep]
    refills = _encounters(
        world, p, d, home[p], g, "ph", np.full(len(p), "41"), tag="chronic_refill", kind="lookalike"
    )

    adults = np.flatnonzero(pop.age_years >= 15)
    counts = rng.poisson(0.8 * world.days / 365, len(adults))
    p = np.repeat(adults, counts)
    d = rng.choice(world.days, len(p), p=day_weights(world))
    g = rng.choice(np.array(["URTI", "GASTR", "DERM", "GENERAL"]), len(p), p=[0.45, 0.25, 0.1, 0.2])
    keep = _alive(world, p, d)
    p, d, g = p[keep], d[keep], g[keep]
    # At most one purchase a month: an honest buyer does not buy again while the last
    # pack lasts (that is the overlapping-supply scheme's pattern).
    order = np.lexsort((d, p))
    p, d, g = p[order], d[order], g[order]
    keep = np.ones(len(p), dtype=bool)
    last = -(10**9)
    for i in range(len(p)):
        if i and p[i] != p[i - 1]:
            last = -(10**9)
        if d[i] - last < 30:
            keep[i] = False
        else:
            last = d[i]
    p, d, g = p[keep], d[keep], g[keep]
    otc = _encounters(world, p, d, home[p], g, "ph", np.full(len(p), "41"))
    return otc, refills


def _ip_institution(world: World, psn: np.ndarray, group: np.ndarray) -> np.ndarray:
    rng = world.rng
    n = len(psn)
    u = rng.random(n)
    a1, a2, a3 = (world.insts(k)[0] for k in ("A1", "A2", "A3"))
    thc_by_town = np.array(
        [world.insts("B1", town=t)[0] for t in range(len(world.county.townships))]
    )
    thc = thc_by_town[world.pop.town[psn]]
    out = np.where(u < 0.55, thc, a1)
    county_only = np.isin(group, ["CATAR", "KNEE_OA", "CHOLE", "FRACT", "BPH", "STROKE"])
    out = np.where(county_only & (u < 0.8), a1, out)
    # The TCM hospital's orthopaedics (中医骨伤科) takes a share of back, knee and fractures.
    out = np.where(np.isin(group, ["LUMBAR", "KNEE_OA", "FRACT"]) & (u > 0.6), a2, out)
    out = np.where(
        np.isin(group, ["DELIV"]), np.where(u < 0.6, a3, np.where(u < 0.9, a1, thc)), out
    )
    out = np.where(group == "NEONATE", a3, out)
    level2 = np.isin(group, list(RECIPE_GROUP_MIN_HOSP_LV))
    return np.where(level2 & (world.inst_level[out] != "2"), a1, out)


def length_of_stay(world: World, inst: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Lognormal stays: about 6 days at a township centre and 8 at a county hospital."""
    median = np.where(world.inst_level[inst] == "1", 6.0, 8.0)
    factor = np.select(
        [
            group == "STROKE",
            group == "FRACT",
            group == "CATAR",
            group == "DELIV",
            group == "NEONATE",
            group == "APPEND",
        ],
        [1.5, 1.6, 0.5, 0.6, 0.8, 0.9],
        1.0,
    )
    los = np.round(median * factor * np.exp(world.rng.normal(0, 0.35, len(inst))))
    return np.clip(los, 1, 45).astype(np.int32)


def admissions(world: World) -> pl.DataFrame:
    """Admissions by age and chronic status, deliveries and newborn jaundice."""
    rng, pop = world.rng, world.pop
    age = pop.age_years
    rate = np.select([age < 15, age < 45, age < 60, age < 70], [0.06, 0.05, 0.12, 0.22], 0.35)
    rate = rate * np.where(pop.chronic > 0, 1.5, 1.0)
    counts = rng.poisson(rate * world.days / 365)
    psn = np.repeat(np.arange(len(age)), counts)
    group = _age_group_choice(world, psn, ADMISSION)
    women = np.flatnonzero((pop.person["gend"].to_numpy() == "2") & (age >= 20) & (age < 40))
    mothers = women[rng.random(len(women)) < 0.05 * world.days / 365]
    babies = np.flatnonzero(pop.birth_day >= 0)
    babies = babies[rng.random(len(babies)) < 0.3]
    psn = np.concatenate([psn, mothers, babies])
    group = np.concatenate([group, np.full(len(mothers), "DELIV"), np.full(len(babies), "NEONATE")])
    day = rng.choice(world.days, len(psn), p=day_weights(world))
    baby = np.arange(len(psn)) >= len(psn) - len(babies)
    day = np.where(baby, pop.birth_day[psn] + rng.integers(2, 10, len(psn)), day)
    inst = _ip_institution(world, psn, group)
    los = length_of_stay(world, inst, group)
    med_type = np.select([group == "DELIV", group == "FRACT"], ["52", "22"], "21")
    day_surgery = (group == "CATAR") & (rng.random(len(psn)) < 0.3)
    med_type = np.where(day_surgery, "28", med_type)
    los = np.where(day_surgery, 1, los)
    keep = _alive(world, psn, day) & _alive(world, psn, day + los)
    return _encounters(
        world, psn[keep], day[keep], inst[keep], group[keep], "ip", med_type[keep], los=los[keep]
    )


def chemotherapy(world: World) -> pl.DataFrame:
    """Cancer patients readmitted for chemotherapy every 14 or 21 days: the legitimate
    look-alike of split admissions."""
    rng, pop = world.rng, world.pop
    people = np.flatnonzero(((pop.chronic & CHRONIC_BITS["CANCER"]) > 0) & (pop.age_years >= 30))
    people = people[rng.random(len(people)) < 0.5]
    cycle = np.where(rng.random(len(people)) < 0.5, 14, 21)
    cycles = world.days // 14 + 1
    p = np.repeat(people, cycles)
    k = np.tile(np.arange(cycles), len(people))
    first = np.repeat(rng.integers(0, 21, len(people)), cycles)
    day = first + k * np.repeat(cycle, cycles)
    los = rng.integers(2, 5, len(p)).astype(np.int32)
    keep = _alive(world, p, day) & _alive(world, p, day + los)
    p, day, los = p[keep], day[keep], los[keep]
    inst = np.full(len(p), world.insts("A1")[0])
    return _encounters(
        world,
        p,
        day,
        inst,
        np.full(len(p), "CHEMO"),
        "ip",
        np.full(len(p), "21"),
        los=los,
        tag="chemotherapy_cycle",
        kind="lookalike",
    )


def dialysis(world: World) -> pl.DataFrame:
    """Haemodialysis three times a week as chronic-disease outpatient care: the legitimate
    look-alike of frequent visits."""
    pop = world.pop
    people = np.flatnonzero((pop.chronic & CHRONIC_BITS["CKD5"]) > 0)
    start_weekday = (np.datetime64(world.start, "D").astype(int) + 3) % 7
    day = np.arange(world.days)
    weekday = (start_weekday + day) % 7
    schedule_a = day[np.isin(weekday, [0, 2, 4])]
    schedule_b = day[np.isin(weekday, [1, 3, 5])]
    parts_p, parts_d = [], []
    for i, person in enumerate(people):
        sched = schedule_a if i % 2 == 0 else schedule_b
        parts_p.append(np.full(len(sched), person))
        parts_d.append(sched)
    p = np.concatenate(parts_p) if parts_p else np.zeros(0, dtype=np.int64)
    d = np.concatenate(parts_d) if parts_d else np.zeros(0, dtype=np.int64)
    keep = _alive(world, p, d)
    p, d = p[keep], d[keep]
    inst = np.full(len(p), world.insts("A1")[0])
    return _encounters(
        world,
        p,
        d,
        inst,
        np.full(len(p), "DIALYSIS"),
        "op",
        np.full(len(p), "14"),
        tag="dialysis_schedule",
        kind="lookalike",
    )


def proxy_collection(world: World, refills: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """代取药: a relative buys their own drugs and collects an elderly patient's refill at the
    same counter seconds apart — two cards, one household.

    Returns (refills with the collected ones re-tagged, the relatives' purchases)."""
    rng, pop = world.rng, world.pop
    refills = refills.with_row_index("_r")
    old = refills.filter(pl.col("psn").is_in(np.flatnonzero(pop.age_years >= 75).tolist()))
    pick = old.filter(pl.Series(rng.random(old.height) < 0.15))
    hh = pop.household
    order = np.argsort(hh, kind="stable")
    patient = pick["psn"].to_numpy()
    pos = np.searchsorted(hh[order], hh[patient])
    # The relative is the next person of the household, or a neighbour when alone.
    relative = order[np.clip(pos + 1, 0, len(order) - 1)]
    relative = np.where(relative == patient, order[np.clip(pos - 1, 0, len(order) - 1)], relative)
    keep = _alive(world, relative, pick["day"].to_numpy()) & (relative != patient)
    pick, relative = pick.filter(pl.Series(keep)), relative[keep]
    rel = _encounters(
        world,
        relative,
        pick["day"].to_numpy(),
        pick["inst"].to_numpy(),
        np.full(len(relative), "URTI"),  # a short course of their own: no supply to overlap
        "ph",
        np.full(len(relative), "41"),
        tag="proxy_collection",
        kind="lookalike",
    )
    gap = pl.Series(rng.integers(5, 40, pick.height), dtype=pl.Int32)
    rel = rel.with_columns(sec=pick["sec"] + gap, dr=pick["dr"])
    refills = refills.with_columns(
        tag=pl.when(pl.col("_r").is_in(pick["_r"].implode()))
        .then(pl.lit("proxy_collection"))
        .otherwise(pl.col("tag"))
    ).drop("_r")
    return refills, rel


def drop_overlaps(enc: pl.DataFrame) -> pl.DataFrame:
    """A person is in one bed at a time and makes no outpatient or pharmacy claim while
    admitted: drop ordinary encounters that collide, so only injected schemes do. A
    transfer (转诊) is the one admission that begins on the day the last one ended."""
    ip = enc.filter(pl.col("setting") == "ip").sort("psn", "day")
    ip = ip.with_columns(
        prev_end=(pl.col("day") + pl.col("los")).shift(1).over("psn"),
        prev_tag=pl.col("tag").shift(1).over("psn"),
    )
    transfer = (
        (pl.col("tag") == TRANSFER_TAG)
        & (pl.col("prev_tag") == TRANSFER_TAG)
        & (pl.col("day") == pl.col("prev_end"))
    )
    ip = ip.filter(
        pl.col("prev_end").is_null() | (pl.col("day") > pl.col("prev_end")) | transfer
    ).drop("prev_tag")
    stays = ip.select("psn", start="day", end=pl.col("day") + pl.col("los"))
    other = enc.filter(pl.col("setting") != "ip").with_row_index("_r")
    hit = (
        other.select("_r", "psn", "day")
        .join(stays, on="psn")
        .filter((pl.col("day") >= pl.col("start")) & (pl.col("day") <= pl.col("end")))
        .select("_r")
        .unique()
    )
    other = other.join(hit, on="_r", how="anti").drop("_r")
    return pl.concat([ip.drop("prev_end"), other])


def diagnoses(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """A diagnosis code of the encounter's group that fits the person's sex and age."""
    dx = world.kb.diagnosis.with_row_index("dise")
    psn = enc["psn"].to_numpy()
    gend = world.pop.person["gend"].to_numpy()[psn]
    age_days = world.pop.age_years[psn] * 365.25 + enc["day"].to_numpy()
    groups = enc["group"].to_numpy()
    out = np.full(enc.height, -1, dtype=np.int64)
    for (g,), rows in dx.group_by(["dise_group"], maintain_order=True):
        sex_ok_m = rows["lmt_gend"].is_null() | (rows["lmt_gend"] == "1")
        sex_ok_f = rows["lmt_gend"].is_null() | (rows["lmt_gend"] == "2")
        lo = rows["lmt_age_min_days"].fill_null(-1).to_numpy()
        hi = rows["lmt_age_max_days"].fill_null(10**7).to_numpy()
        idx = np.flatnonzero(groups == g)
        if not len(idx):
            continue
        a = age_days[idx][:, None]
        sex_ok = np.where(
            (gend[idx] == "1")[:, None], sex_ok_m.to_numpy()[None, :], sex_ok_f.to_numpy()[None, :]
        )
        ok = (a >= lo[None, :]) & (a <= hi[None, :]) & sex_ok
        # Random among the fitting codes; the group's first code when none fits.
        pick = (world.rng.random(ok.shape) * ok).argmax(axis=1)
        out[idx] = rows["dise"].to_numpy()[pick]
    return enc.with_columns(dise=pl.Series(out, dtype=pl.Int64))
