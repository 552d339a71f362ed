"""Behaviour kernels: frequent visits, purchases and admissions (``windows``), overlapping
drug supply (``supply``) and card-swiping bursts (``bursts``); and each numba function
against its plain pandas version (bench/kernels_reference.py) on random data."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from helpers.rule_frames import PERSON, fee, run_rule, scoring_db, visit

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.kernels.bursts import burst_flags
from hrss_fraud.engine.kernels.supply import carry_over
from hrss_fraud.engine.kernels.windows import window_flags, windows

LAB = "002501010010000"  # 白细胞计数 ¥2
BED = "001109000010001"  # 普通病房床位费(三人间) ¥20
AMLODIPINE = "XC08CAA001A001010110037"  # 苯磺酸氨氯地平片(5mg×28片) ¥22.5, CCB, 28 days
NIFEDIPINE = "XC08CAA002A008010110074"  # 硝苯地平控释片(30mg×7片) ¥24, CCB, 7 days
METFORMIN = "XA10BAA001A001010110629"  # 盐酸二甲双胍片 ¥3.9, biguanide
SHOP = "P13012300029"
T0 = datetime(2025, 3, 1, 9)


def _visits(days: list[int], *, med_type: str = "11", dise: str = "K29.7", inst: str = "") -> tuple:
    code = inst or "H13012300001"
    setl = [
        visit(
            f"MD{i}",
            med_type=med_type,
            dise_codg=dise,
            fixmedins_code=code,
            begntime=T0 + timedelta(days=d),
            endtime=T0 + timedelta(days=d, hours=1),
            inscp_amt=10.0,
        )
        for i, d in enumerate(days)
    ]
    lines = [
        fee(f"MD{i}", 1, LAB, cnt=5, fixmedins_code=code, fee_ocur_time=T0 + timedelta(days=d))
        for i, d in enumerate(days)
    ]
    return setl, lines


INSTS = [{}, {"fixmedins_code": SHOP, "fixmedins_type": "2", "medins_type": "D1"}]


# --- windows --------------------------------------------------------------------------


def test_more_visits_than_count_within_days_is_a_hit_on_the_excess() -> None:
    con = scoring_db(*_visits([0, 2, 4, 6]))
    f, lines = run_rule(con, "frequent_outpatient", count=3, days=7)
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["entity_id"] == PERSON and row["amount_at_risk"] == 10.0
    assert "4次" in row["evidence"] and "最多4次" in row["evidence"]
    assert sorted(lines["role"].to_list()) == ["involved"] * 3 + ["violating"]
    assert lines.filter(lines["role"] == "violating")["mdtrt_id"].to_list() == ["MD3"]


def test_the_evidence_names_the_excess_visits_amount_whichever_line_it_is_read_from() -> None:
    setl, lines = _visits([0, 2, 4, 6])
    for i, v in enumerate(setl):
        v["inscp_amt"] = 10.0 * (i + 1)
    rule = load_catalogue().rules["frequent_outpatient"]
    out = windows(scoring_db(setl, lines), {"count": 3, "days": 7}, rule.args)
    assert out["evidence"].n_unique() == 1  # the same text on every line of the hit
    assert "超出的1次医保范围内金额¥40.00" in out["evidence"][0]
    assert "carry an in-scope ¥40.00" in out["evidence_en"][0]


def test_visits_spread_beyond_the_window_or_at_the_count_are_no_hit() -> None:
    con = scoring_db(*_visits([0, 2, 4, 7]))  # day 7 is outside days 1..7
    assert run_rule(con, "frequent_outpatient", count=3, days=7)[0].height == 0
    assert run_rule(con, "frequent_outpatient", count=3, days=8)[0].height == 1
    con = scoring_db(*_visits([0, 2, 4, 6]))
    assert run_rule(con, "frequent_outpatient", count=4, days=7)[0].height == 0


def _weekly(weekdays: list[int], weeks: int = 8) -> list[int]:
    return [7 * w + d for w in range(weeks) for d in weekdays]


def test_dialysis_three_times_a_week_is_its_schedule_not_frequent_visits() -> None:
    """Dialysis is counted apart, against its own schedule (13 sessions in 28 days), not
    against the limit for ordinary visits."""
    con = scoring_db(*_visits(_weekly([0, 2, 4]), med_type="14", dise="Z49.1"))
    assert run_rule(con, "frequent_outpatient", count=3, days=7)[0].height == 0


def test_dialysis_four_times_a_week_is_still_a_hit() -> None:
    con = scoring_db(*_visits(_weekly([0, 2, 4, 5]), med_type="14", dise="Z49.1"))
    f, lines = run_rule(con, "frequent_outpatient")
    assert f.height == 1
    assert "门诊就诊（透析）" in f["evidence"][0] and "超过13次" in f["evidence"][0]
    assert "outpatient visits (dialysis)" in f["evidence_en"][0]
    # the 14th session within 28 days is the first over the schedule
    first = lines.filter(lines["role"] == "violating").sort("mdtrt_id")
    assert "MD13" in first["mdtrt_id"].to_list()


@pytest.mark.parametrize(("sessions", "hits"), [(13, 0), (14, 1)])
def test_dialysis_schedule_boundary(sessions: int, hits: int) -> None:
    days = [2 * i for i in range(sessions)]  # every other day, within 28 days
    con = scoring_db(*_visits(days, med_type="14", dise="Z49.1"))
    assert run_rule(con, "frequent_outpatient")[0].height == hits


def test_ordinary_visits_are_counted_apart_from_the_dialysis_schedule() -> None:
    """A dialysis patient's own ordinary visits face the ordinary limit."""
    setl, lines = _visits(_weekly([0, 2, 4], weeks=2), med_type="14", dise="Z49.1")
    extra, extra_lines = _visits([1, 3, 5, 6])
    for v, ln in zip(extra, extra_lines, strict=True):
        v["mdtrt_id"] = ln["mdtrt_id"] = "MX" + v["mdtrt_id"][2:]
        v["setl_id"] = ln["setl_id"] = "SX" + v["setl_id"][2:]
    f, lines = run_rule(
        scoring_db(setl + extra, lines + extra_lines), "frequent_outpatient", count=3, days=7
    )
    assert f.height == 1
    assert set(lines["mdtrt_id"].to_list()) == {"MX0", "MX1", "MX2", "MX3"}


def test_frequent_purchases_and_admissions() -> None:
    con = scoring_db(*_visits([0, 1, 2], med_type="41", inst=SHOP), institutions=INSTS)
    assert run_rule(con, "frequent_purchase", count=2, days=30)[0].height == 1
    assert run_rule(con, "frequent_purchase", count=3, days=30)[0].height == 0
    setl = [
        visit(
            f"MD{i}",
            med_type="21",
            begntime=T0 + timedelta(days=d),
            endtime=T0 + timedelta(days=d + 3),
            inscp_amt=500.0,
        )
        for i, d in enumerate([0, 25, 50])
    ]
    lines = [
        fee(f"MD{i}", 1, BED, fee_ocur_time=T0 + timedelta(days=d))
        for i, d in enumerate([0, 25, 50])
    ]
    f, _ = run_rule(scoring_db(setl, lines), "frequent_admission")
    assert f.height == 1 and f["amount_at_risk"][0] == 500.0
    assert run_rule(scoring_db(setl, lines), "frequent_admission", days=50)[0].height == 0


# --- supply ---------------------------------------------------------------------------


def _purchases(days: list[int], items: list[str], cnts: list[float] | None = None) -> object:
    cnts = cnts or [1.0] * len(days)
    setl = [
        visit(
            f"MD{i}",
            med_type="41",
            fixmedins_code=SHOP,
            begntime=T0 + timedelta(days=d),
            endtime=T0 + timedelta(days=d),
        )
        for i, d in enumerate(days)
    ]
    lines = [
        fee(
            f"MD{i}",
            1,
            item,
            cnt=c,
            fixmedins_code=SHOP,
            fee_ocur_time=T0 + timedelta(days=d),
            prd_days=None,
        )
        for i, (d, item, c) in enumerate(zip(days, items, cnts, strict=True))
    ]
    return scoring_db(setl, lines, institutions=INSTS)


def test_refill_with_supply_left_puts_the_overlapping_share_at_risk() -> None:
    f, lines = run_rule(_purchases([0, 20], [AMLODIPINE, NIFEDIPINE]), "overlapping_supply")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["mdtrt_id"] == "MD1"
    assert row["amount_at_risk"] == pytest.approx(24.0 * 7 / 7)  # 8 days left ≥ 7-day supply
    assert "尚余8天" in row["evidence"] or "尚余8.0天" in row["evidence"]
    assert sorted(lines["role"].to_list()) == ["involved", "violating"]


def test_refill_within_tolerance_or_of_another_class_is_no_hit() -> None:
    assert (
        run_rule(_purchases([0, 21], [AMLODIPINE, AMLODIPINE]), "overlapping_supply")[0].height == 0
    )  # 7 days left: allowed
    f, _ = run_rule(_purchases([0, 20], [AMLODIPINE, AMLODIPINE]), "overlapping_supply")
    assert f.height == 1 and f["amount_at_risk"][0] == round(22.5 * 8 / 28, 2)
    assert (
        run_rule(_purchases([0, 5], [AMLODIPINE, METFORMIN]), "overlapping_supply")[0].height == 0
    )


def test_chronic_refills_every_30_to_33_days_never_overlap_but_carry_over_adds_up() -> None:
    assert (
        run_rule(_purchases([0, 30, 63, 93], [AMLODIPINE] * 4), "overlapping_supply")[0].height == 0
    )
    # Two packs (56 days) every 25 days: the left-over grows 31, 62, …
    f, _ = run_rule(_purchases([0, 25, 50], [AMLODIPINE] * 3, [2, 2, 2]), "overlapping_supply")
    assert f.height == 2


def test_one_early_purchase_is_claimed_once_not_at_every_refill_after_it() -> None:
    # 28-day packs: an extra pack on day 11 (17 days left), then on time every 30-31 days
    f, _ = run_rule(_purchases([0, 11, 41, 72, 103], [AMLODIPINE] * 5), "overlapping_supply")
    assert f.height == 1 and f["period_end"].to_list() == [date(2025, 3, 12)]


# --- bursts ---------------------------------------------------------------------------


def _swipes(secs: list[int], persons: list[int], cash: float = 0.0) -> object:
    ids = [f"{PERSON[:-3]}{p:03d}" for p in persons]
    setl = [
        visit(
            f"MD{i}",
            med_type="41",
            fixmedins_code=SHOP,
            psn_no=psn,
            begntime=T0 + timedelta(seconds=s),
            endtime=T0 + timedelta(seconds=s),
            inscp_amt=50.0,
            acct_pay=50.0 - cash,
            psn_cash_pay=cash,
            medfee_sumamt=50.0,
        )
        for i, (s, psn) in enumerate(zip(secs, ids, strict=True))
    ]
    lines = [
        fee(f"MD{i}", 1, AMLODIPINE, fixmedins_code=SHOP, psn_no=psn) for i, psn in enumerate(ids)
    ]
    persons = [{"psn_no": p} for p in sorted(set(ids))]
    return scoring_db(setl, lines, persons=persons, institutions=INSTS)


def test_three_cards_within_a_minute_are_a_burst() -> None:
    f, lines = run_rule(_swipes([0, 20, 59], [1, 2, 3]), "card_swiping")
    assert f.height == 1 and f["amount_at_risk"][0] == 150.0
    assert lines.height == 3 and set(lines["role"]) == {"violating"}


def test_family_proxy_collection_slow_or_cash_purchases_are_no_burst() -> None:
    assert run_rule(_swipes([0, 20], [1, 2]), "card_swiping")[0].height == 0  # 代取药
    assert run_rule(_swipes([0, 20, 40], [1, 2, 1]), "card_swiping")[0].height == 0
    assert run_rule(_swipes([0, 20, 60], [1, 2, 3]), "card_swiping")[0].height == 0
    assert (
        run_rule(_swipes([0, 20, 60], [1, 2, 3]), "card_swiping", window_seconds=61)[0].height == 1
    )
    assert run_rule(_swipes([0, 20, 40], [1, 2, 3], cash=5.0), "card_swiping")[0].height == 0


# --- numba against pandas -------------------------------------------------------------


@pytest.fixture(scope="module")
def reference():
    pytest.importorskip("pandas")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench import kernels_reference

    return kernels_reference


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernels_match_their_pandas_versions(reference, seed: int) -> None:
    ev = reference.random_events(1500, 60, 120, seed)
    g, d = ev["group"].to_numpy(), ev["day"].to_numpy()
    for fn in (window_flags, window_flags.py_func):
        viol, episode, in_window = fn(g, d, 3, 10)
        ref = reference.windows_reference(ev, 3, 10)
        assert (viol == ref["viol"].to_numpy()).all()
        assert (episode == ref["episode"].to_numpy()).all()
        assert (in_window == ref["in_window"].to_numpy()).all()
    for fn in (carry_over, carry_over.py_func):
        remaining, early = fn(g, d.astype(np.float64), ev["supply"].to_numpy(), 7.0)
        ref = reference.supply_reference(ev, 7.0)
        assert np.allclose(remaining, ref["remaining"].to_numpy())
        assert (early == ref["early"].to_numpy()).all()
    sec, person = ev["sec"].to_numpy(), ev["person"].to_numpy()
    for fn in (burst_flags, burst_flags.py_func):
        burst = fn(g, sec, person, 3, 60)
        ref = reference.bursts_reference(ev, 3, 60)
        assert (burst == ref["burst"].to_numpy()).all()
    assert (ref["burst"] >= 0).any() and (reference.windows_reference(ev, 3, 10)["viol"]).any()


PACLITAXEL = "XL01CDA001B002010114292"  # 紫杉醇注射液: antineoplastic (XL01)


def _admissions(days: list[int], item: str, dise: str) -> tuple:
    setl = [
        visit(
            f"MD{i}",
            med_type="21",
            dise_codg=dise,
            begntime=T0 + timedelta(days=d),
            endtime=T0 + timedelta(days=d + 2),
            inscp_amt=500.0,
        )
        for i, d in enumerate(days)
    ]
    lines = [
        fee(f"MD{i}", 1, item, fee_ocur_time=T0 + timedelta(days=d)) for i, d in enumerate(days)
    ]
    return setl, lines


def test_chemotherapy_cycles_are_no_frequent_admissions_but_a_bare_code_is() -> None:
    """Admissions every 14 days with paclitaxel are a chemotherapy regimen; coded Z51.1 but
    billing beds only they are seven admissions in 90 days."""
    cycles = list(range(0, 90, 14))
    con = scoring_db(*_admissions(cycles, PACLITAXEL, "Z51.1"))
    assert run_rule(con, "frequent_admission")[0].height == 0
    con = scoring_db(*_admissions(cycles, BED, "Z51.1"))
    assert run_rule(con, "frequent_admission")[0].height == 1
    weekly_plus = list(range(0, 90, 6))  # 15 cycles in 90 days: more than weekly
    con = scoring_db(*_admissions(weekly_plus, PACLITAXEL, "Z51.1"))
    f, _ = run_rule(con, "frequent_admission")
    assert f.height == 1 and "住院（放化疗）" in f["evidence"][0]


TOWNSHIP, COUNTY, OTHER_COUNTY = "H13012300006", "H13012300001", "H13012300003"
LEVELS = {TOWNSHIP: "1", COUNTY: "2", OTHER_COUNTY: "2"}


def _stays(moves: list[tuple[str, int, int]]) -> object:
    """Stays (institution, admitted on day, discharged on day), admitted at 16:00 and
    discharged at 10:00, at a township centre (level 1) or county hospitals (level 2)."""
    setl = [
        visit(
            f"MD{i}",
            fixmedins_code=inst,
            med_type="21",
            begntime=T0 + timedelta(days=a, hours=7),
            endtime=T0 + timedelta(days=d, hours=1),
            inscp_amt=500.0,
        )
        for i, (inst, a, d) in enumerate(moves)
    ]
    lines = [
        fee(f"MD{i}", 1, BED, fixmedins_code=inst, fee_ocur_time=T0 + timedelta(days=a, hours=8))
        for i, (inst, a, d) in enumerate(moves)
    ]
    insts = [{"fixmedins_code": c, "hosp_lv": lv, "medins_type": "A1"} for c, lv in LEVELS.items()]
    return scoring_db(setl, lines, institutions=insts)


@pytest.mark.parametrize(
    ("second", "admitted", "hits"),
    [
        (COUNTY, 12, 0),  # referred up the day of discharge: one episode of care
        (COUNTY, 13, 1),  # a day later: a new admission
        (OTHER_COUNTY, 12, 1),  # from a county hospital to another of its level
    ],
)
def test_a_referral_up_is_no_new_admission(second: str, admitted: int, hits: int) -> None:
    """A stay for angina, then pneumonia at the township centre and the county hospital:
    three admissions in 90 days (the limit is two) unless the last is the centre's patient
    referred up (转诊) the day it discharged them."""
    first = TOWNSHIP if second == COUNTY else COUNTY
    con = _stays([(COUNTY, 0, 6), (first, 10, 12), (second, admitted, admitted + 6)])
    assert run_rule(con, "frequent_admission")[0].height == hits
