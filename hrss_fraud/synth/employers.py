"""The sample county's employers: their staff's monthly contribution filings, enrolment
filings, annual statements, the average wage, retirees' pensions and deaths, with injected
irregularities and legitimate look-alikes; the truth goes to ``truth/enrolment.parquet``.

Drawn from a random stream of its own after the claims are made, so adding these files
changes none of the claims a seed generates. The staff include the claims' employees
(insurance type 310, in service), so a claim can fall into an interruption of enrolment.
Files go to ``enrolment/`` beside ``reference/`` and ``uploads/``.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from hrss_fraud.synth import names
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.employer_files import (
    FLOOR_SHARE,
    Calendar,
    contributions,
    statements,
    write_files,
)
from hrss_fraud.synth.persons import EMPLOYERS

STREAM = 7000
#: A fall of the base the bureau calls sharp: an injected base below the floor that falls
#: this far from the month before is also a sharp drop, and its truth says so.
SHARP_DROP = 0.3
#: Person-level injections per staff member, employer-level per employer (each at least
#: the minimum, so a tiny county has enough of each to measure).
PERSON_RATE, PERSON_MIN = 0.004, 8
EMPLOYER_RATE, EMPLOYER_MIN = 0.01, 4
INDUSTRIES = ("建材", "食品", "物流", "商贸", "机械", "纺织", "建筑", "餐饮", "农业", "化工")
FIRM_WORDS = ("永兴", "鑫源", "华通", "恒达", "宏盛", "瑞丰", "金泰", "利民", "顺发", "德昌")
SUFFIXES = ("有限公司", "有限责任公司", "厂", "合作社", "商行")
FULL_DOCS = {"11": "01;02;03", "21": "04", "31": "05", "41": "06", "51": "07;08"}


class _Pool:
    """Staff or employers drawn without replacement: one injection each."""

    def __init__(self, rng: np.random.Generator, ids: np.ndarray) -> None:
        self.ids = list(rng.permutation(ids))

    def take(self, n: int, ok: np.ndarray | None = None) -> np.ndarray:
        got = [i for i in self.ids if ok is None or ok[i]][:n]
        taken = set(got)
        self.ids = [i for i in self.ids if i not in taken]
        return np.array(got, dtype=np.int64)


def _employers(
    rng: np.random.Generator, n: int, towns: np.ndarray, county: str = names.COUNTY_ADMDVS
) -> pl.DataFrame:
    """The named employers of the claims' person register first, then generated ones."""
    k = np.arange(n)
    named = k < len(EMPLOYERS)
    made = np.char.add(
        np.char.add(
            np.array(FIRM_WORDS)[rng.integers(0, len(FIRM_WORDS), n)],
            np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)],
        ),
        np.array(SUFFIXES)[rng.integers(0, len(SUFFIXES), n)],
    )
    made = np.char.add(np.char.add(made, "（"), np.char.add(k.astype("U6"), "）"))
    emp_name = np.where(named, np.array(EMPLOYERS + [""] * n)[:n], made)
    emp_no = np.where(
        named,
        np.char.add(f"E{county}", np.char.zfill(k.astype("U3"), 3)),
        np.char.add(f"E{county}9", np.char.zfill(k.astype("U6"), 6)),
    )
    return pl.DataFrame(
        {
            "emp_no": emp_no,
            "emp_name": emp_name,
            "emp_type": np.where(named, "50", rng.choice(["10", "10", "10", "60", "70"], n)),
            "admdvs": towns[rng.integers(0, len(towns), n)],
            "indu_type": np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)],
        }
    )


def _staff(
    rng: np.random.Generator,
    cfg: SynthConfig,
    in_service: pl.DataFrame,
    employers: pl.DataFrame,
    n_staff: int,
) -> pl.DataFrame:
    """The claims' employees at their register's employer, then people only these files
    know, spread over the employers (a few large, most small)."""
    n_emp = employers.height
    emp_index = {c: i for i, c in enumerate(employers["emp_no"])}
    n_extra = n_staff - in_service.height
    seq = np.arange(1, n_extra + 1)
    gend = rng.choice(np.array(["1", "2"]), n_extra)
    brdy = np.datetime64(cfg.start, "D") - rng.integers(20 * 365, 58 * 365, n_extra).astype(
        "timedelta64[D]"
    )
    weights = rng.pareto(1.2, n_emp) + 1
    extra_emp = rng.choice(n_emp, n_extra, p=weights / weights.sum())
    staff = pl.concat(
        [
            in_service.with_columns(
                emp=pl.col("emp_no").replace_strict(emp_index, default=0, return_dtype=pl.Int64),
                claim=pl.lit(True),
            ).drop("emp_no"),
            pl.DataFrame(
                {
                    "psn_no": np.char.add(
                        f"{cfg.county_admdvs}9", np.char.zfill(seq.astype("U11"), 11)
                    ),
                    "psn_name": names.person_names(rng, gend),
                    "certno": names.certnos(np.full(n_extra, cfg.county_admdvs), brdy, gend, seq),
                    "die_date": pl.Series([None] * n_extra, dtype=pl.Date),
                    "emp": extra_emp.astype(np.int64),
                    "claim": np.zeros(n_extra, dtype=bool),
                }
            ),
        ]
    )
    return staff


def write_all(cfg: SynthConfig, out: Path, person: pl.DataFrame, claims: pl.DataFrame) -> None:
    """Write the employer files under ``out/enrolment`` and their truth under
    ``out/truth``; ``claims`` holds the employees' paid settlements (``psn_no``,
    ``setl_id``, ``setl_time``)."""
    rng = np.random.default_rng([cfg.seed, STREAM])
    cal = Calendar.of(cfg)
    n_months = len(cal.months)
    floor, ceiling = cal.floor(), cal.ceiling()
    base_floor = float(floor[0])

    # -- staff: the claims' employees in service, then people only these files know ------
    in_service = person.filter(
        (pl.col("insutype") == "310") & (pl.col("psn_type") == "1101")
    ).select("psn_no", "psn_name", "certno", "emp_no", "die_date")
    n_emp = max(40, cfg.persons // 50)
    n_staff = max(in_service.height + 50, cfg.persons * 3 // 8)
    employers = _employers(
        rng,
        n_emp,
        person["insu_admdvs"].drop_nulls().unique().sort().to_numpy(),
        cfg.county_admdvs,
    )
    staff = _staff(rng, cfg, in_service, employers, n_staff)
    n = staff.height
    emp = staff["emp"].to_numpy().copy()
    claim = staff["claim"].to_numpy()
    mean_wage = base_floor / FLOOR_SHARE * np.exp(rng.normal(-0.05, 0.3, n_emp))
    wage = mean_wage[emp] * np.exp(rng.normal(0, 0.25, n))
    start_m = np.zeros(n, dtype=np.int64)
    end_m = np.full(n, n_months - 1, dtype=np.int64)
    hidden = np.zeros(n, dtype=bool)
    # per staff member: a factor applied to the base from a month on (below / drop)
    mode = np.zeros(n, dtype=np.int64)  # 1: below the floor, 2: a drop
    factor = np.ones(n)
    factor_from = np.full(n, n_months, dtype=np.int64)
    all_floor = np.zeros(n, dtype=bool)
    deaths: list[tuple[str, date]] = []
    events: list[dict] = []
    extra_rows: list[dict] = []
    truth: list[tuple[str, str, str]] = []
    psn = staff["psn_no"].to_numpy()
    emp_no = employers["emp_no"].to_numpy()

    def event(i: int, kind: str, day: date, at: int | None = None, **kw: str) -> None:
        events.append(
            {
                "emp_no": emp_no[emp[i] if at is None else at],
                "psn_no": psn[i],
                "insutype": "310",
                "evt_type": kind,
                "evt_date": day,
                "docs": FULL_DOCS[kind],
                **kw,
            }
        )

    # natural deaths of the claims' employees: contributions stop, the employer cancels
    die = staff["die_date"].to_numpy()
    for i in np.flatnonzero(~pl.Series(die).is_null().to_numpy()):
        d = die[i].astype("datetime64[D]").astype(object)
        m = (d.year - cal.months[0].year) * 12 + d.month - cal.months[0].month
        if 0 <= m < n_months:
            end_m[i] = m
            deaths.append((psn[i], d))
            event(i, "31", d, evt_rea="死亡")

    # -- employer-level injections ---------------------------------------------------------
    size = np.bincount(emp, minlength=n_emp)
    extras = np.bincount(emp[~claim], minlength=n_emp)
    k_emp = max(EMPLOYER_MIN, round(n_emp * EMPLOYER_RATE))
    pool_emp = _Pool(rng, np.arange(len(EMPLOYERS), n_emp))
    ordinary_emp = np.ones(n_emp, dtype=bool)
    for kind in ("irregular", "lookalike"):
        for e in pool_emp.take(k_emp, size >= 4):
            mine = emp == e
            if kind == "irregular":  # paid well, declared at the floor
                wage[mine] = base_floor * rng.uniform(1.8, 3.0, mine.sum())
                all_floor[mine] = True
            else:  # genuinely low pay: at the floor by right
                wage[mine] = base_floor * rng.uniform(0.55, 1.0, mine.sum())
            truth.append(("enrol_all_at_floor", kind, emp_no[e]))
            ordinary_emp[e] = False
    headcount_plus = np.zeros(n_emp, dtype=np.int64)
    for e in pool_emp.take(k_emp, (size >= 8) & (extras >= np.ceil(0.3 * size))):
        mine = np.flatnonzero((emp == e) & ~claim)
        hidden[rng.choice(mine, max(2, math.ceil(0.3 * size[e])), replace=False)] = True
        truth.append(("enrol_headcount_short", "irregular", emp_no[e]))
        ordinary_emp[e] = False
    for e in pool_emp.take(k_emp, size >= 10):
        headcount_plus[e] = 1  # one leaver still in the year's average headcount
        truth.append(("enrol_headcount_short", "lookalike", emp_no[e]))
        ordinary_emp[e] = False

    # -- person-level injections, at ordinary employers ------------------------------------
    k = max(PERSON_MIN, round(n * PERSON_RATE))
    pool = _Pool(rng, np.arange(n))
    plain = ordinary_emp[emp] & ~claim
    months_left = n_months > 1

    for i in pool.take(k, plain):  # below the floor from some month on
        factor[i], factor_from[i], mode[i] = rng.uniform(0.5, 0.9), rng.integers(0, n_months), 1
        wage[i] = max(wage[i], base_floor * 1.05)
        key = f"{emp_no[emp[i]]}|{psn[i]}"
        truth.append(("enrol_base_below_floor", "irregular", key))
        m = int(factor_from[i])
        if m >= 1 and floor[m] * factor[i] < (1 - SHARP_DROP) * min(wage[i], ceiling[m - 1]):
            truth.append(("enrol_base_drop", "irregular", key))  # the same, as a sharp fall
    for i in pool.take(k, plain):  # part-timers paid under the floor, declared at it
        wage[i] = base_floor * rng.uniform(0.4, 0.8)
        truth.append(("enrol_base_below_floor", "lookalike", f"{emp_no[emp[i]]}|{psn[i]}"))
    if months_left:
        high = plain & (wage >= 2.5 * base_floor)
        for kind in ("irregular", "lookalike"):
            for i in pool.take(k, high):
                factor[i], factor_from[i] = rng.uniform(0.45, 0.6), rng.integers(1, n_months)
                mode[i] = 2
                if kind == "lookalike":  # a new post at lower pay, filed as a change
                    day = cal.day(int(factor_from[i]), rng.integers(1, 28))
                    event(i, "51", day, evt_rea="岗位调整")
                truth.append(("enrol_base_drop", kind, f"{emp_no[emp[i]]}|{psn[i]}"))
        for i in pool.take(k, plain):  # declared by a second employer too
            other = (emp[i] + 1 + rng.integers(0, n_emp - 1)) % n_emp
            for m in range(int(rng.integers(0, n_months)), n_months):
                extra_rows.append(
                    {"i": i, "emp": other, "m": m, "base": float(floor[m]) * rng.uniform(1, 1.5)}
                )
            truth.append(("enrol_two_employers", "irregular", psn[i]))
        for i in pool.take(k, plain):  # changed employer mid-month: a handover month
            t, d = int(rng.integers(1, n_months)), int(rng.integers(5, 25))
            new = (emp[i] + 1 + rng.integers(0, n_emp - 1)) % n_emp
            event(i, "21", cal.day(t, d), evt_rea="离职")
            event(i, "11", cal.day(t, d + 1), at=new)
            for m in range(t, n_months):
                extra_rows.append({"i": i, "emp": new, "m": m, "base": None})
            end_m[i] = t
            truth.append(("enrol_two_employers", "lookalike", psn[i]))
        for kind in ("irregular", "lookalike"):
            for i in pool.take(k, plain):  # died; contributions go on, or stop as due
                u = int(rng.integers(0, n_months - 1))
                if kind == "irregular":
                    deaths.append((psn[i], cal.day(u, rng.integers(1, 28))))
                else:
                    deaths.append((psn[i], cal.last_day(u)))
                    end_m[i] = u
                    event(i, "31", cal.last_day(u), evt_rea="死亡")
                truth.append(("enrol_deceased_enrolled", kind, f"{emp_no[emp[i]]}|{psn[i]}"))
        _interruptions(
            rng,
            cal,
            claims,
            staff,
            pool,
            ordinary_emp[emp] & claim,
            k,
            end_m,
            event,
            extra_rows,
            emp,
            n_emp,
            truth,
        )

    # -- filings: every staff member's enrolment, some short of a document --------------------
    for i in np.flatnonzero(~hidden):
        hired = cal.months[0] - timedelta(days=int(rng.integers(30, 3650)))
        event(i, "11", hired)
    ev = _filings(rng, events, k, cal.months[0], truth)

    contrib = contributions(
        cal,
        staff,
        emp,
        wage,
        floor,
        ceiling,
        start_m,
        end_m,
        hidden,
        mode,
        factor,
        factor_from,
        all_floor,
        extra_rows,
        employers,
    )
    stmt = statements(cal, emp, wage, start_m, end_m, headcount_plus, employers)
    write_files(out, cal, employers, contrib, ev, stmt, deaths, staff, person, truth, rng)


def _filings(
    rng: np.random.Generator,
    events: list[dict],
    k: int,
    first: date,
    truth: list[tuple[str, str, str]],
) -> pl.DataFrame:
    """The filings with their serials: ``k`` enrolments of the two years before ``first``
    short of one document, ``k`` complete but listed another way (other separators, an
    extra form)."""
    recent = date(first.year - 2, first.month, 1)  # inside the check's 36-month look-back
    ordinary = [
        j for j, e in enumerate(events) if e["evt_type"] == "11" and recent <= e["evt_date"] < first
    ]
    chosen = rng.permutation(ordinary)[: 2 * k]
    for j in chosen[:k]:
        docs = events[j]["docs"].split(";")
        docs.pop(int(rng.integers(0, len(docs))))
        events[j]["docs"] = ";".join(docs)
    for n_look, j in enumerate(chosen[k:]):
        sep = ("、", "，", " ", ",", "；")[n_look % 5]
        docs = list(reversed(events[j]["docs"].split(";"))) + (["07"] if n_look % 2 else [])
        events[j]["docs"] = sep.join(docs)
    ev = pl.DataFrame(events).with_row_index("n", offset=1)
    ev = ev.with_columns(evt_sn=pl.format("V{}", pl.col("n").cast(pl.String).str.zfill(8)))
    for kind, part in (("irregular", chosen[:k]), ("lookalike", chosen[k:])):
        for j in part:
            key = f"{ev['emp_no'][int(j)]}|{ev['evt_sn'][int(j)]}"
            truth.append(("enrol_filing_documents", kind, key))
    return ev.drop("n")


def _month_of(cal: Calendar, t: pl.Expr) -> pl.Expr:
    first = cal.months[0]
    return (t.dt.year() - first.year) * 12 + t.dt.month() - first.month


def _interruptions(
    rng: np.random.Generator,
    cal: Calendar,
    claims: pl.DataFrame,
    staff: pl.DataFrame,
    pool: _Pool,
    ok: np.ndarray,
    k: int,
    end_m: np.ndarray,
    event,
    extra_rows: list[dict],
    emp: np.ndarray,
    n_emp: int,
    truth: list[tuple[str, str, str]],
) -> None:
    """Claims' employees whose enrolment is interrupted: before a paid claim (irregular),
    in the month of their last claim, or before it but enrolled again elsewhere."""
    n_months = len(cal.months)
    index = staff.select("psn_no").with_row_index("i")
    last = (
        claims.select("psn_no", m=_month_of(cal, pl.col("setl_time")))
        .group_by("psn_no")
        .agg(last=pl.col("m").max())
        .join(index, on="psn_no")
    )
    last_month = np.full(staff.height, -1, dtype=np.int64)
    last_month[last["i"].to_numpy()] = last["last"].to_numpy()
    psn = staff["psn_no"].to_numpy()
    for i in pool.take(k, ok & (last_month >= 1)):
        u = int(rng.integers(0, last_month[i]))
        event(i, "21", cal.day(u, rng.integers(1, 28)), evt_rea="离职")
        end_m[i] = u
        truth.append(("enrol_claim_interrupted", "irregular", psn[i]))
    for i in pool.take(k, ok & (last_month >= 0)):
        t = int(last_month[i])
        event(i, "21", cal.day(t, rng.integers(1, 28)), evt_rea="离职")
        end_m[i] = t
        truth.append(("enrol_claim_interrupted", "lookalike", psn[i]))
    for i in pool.take(k, ok & (last_month >= 1)):
        u, d = int(rng.integers(0, last_month[i])), int(rng.integers(1, 26))
        new = (emp[i] + 1 + rng.integers(0, n_emp - 1)) % n_emp
        event(i, "21", cal.day(u, d), evt_rea="离职")
        event(i, "11", cal.day(u, d + 1), at=new)
        end_m[i] = u
        for m in range(u, n_months):
            extra_rows.append({"i": i, "emp": new, "m": m, "base": None})
        truth.append(("enrol_claim_interrupted", "lookalike", psn[i]))
