"""The high-outpatient-cost detector on hand-made settlements with exact figures."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from helpers.rule_frames import fee, scoring_db, visit

from hrss_fraud.detectors.high_cost import high_cost
from hrss_fraud.engine.hits import conform

LAB = "002501010010000"  # 白细胞计数
T0 = datetime(2025, 3, 1, 9)
PARAMS = {"z": 3.5, "min_amount": 200.0, "min_peers": 30}


def _county(costs: list[float], dialysis: int = 0) -> object:
    """One outpatient visit per cost, each with one fee line of that cost; the last
    ``dialysis`` of them are dialysis sessions (Z49.1, 门诊慢特病)."""
    setl, lines = [], []
    for i, c in enumerate(costs):
        t = T0 + timedelta(hours=i)
        kw = {"dise_codg": "I10"}
        if i >= len(costs) - dialysis:
            kw = {"dise_codg": "Z49.1", "med_type": "14"}
        setl.append(visit(f"MD{i}", begntime=t, endtime=t, medfee_sumamt=c, inscp_amt=c, **kw))
        lines.append(
            fee(f"MD{i}", 1, LAB, pric=c, det_item_fee_sumamt=c, inscp_amt=c, fee_ocur_time=t)
        )
    return scoring_db(setl, lines)


def _peers() -> list[float]:
    # 40 visits around ¥100: log costs spread so that MAD × 1.4826 ≈ 0.1
    return [100.0 * math.exp(0.1 * (k % 5 - 2) / 1.4826) for k in range(40)]


def test_a_visit_far_above_its_peers_is_a_lead_on_its_excess() -> None:
    con = _county([*_peers(), 2000.0])
    out = conform(high_cost(con, PARAMS, {"settings": ["op"]}), "high_cost")
    assert out["setl_id"].unique().to_list() == ["ST400"]
    row = out.row(0, named=True)
    assert row["entity_type"] == "settlement" and row["role"] == "violating"
    median, sd = 100.0, 0.1  # the peers' log spread (MAD × 1.4826)
    threshold = median * math.exp(3.5 * sd)
    assert row["amount"] == pytest.approx(2000.0 - threshold, rel=1e-4)  # costs kept in fen
    assert "中位数¥100.00的20.0倍" in row["evidence"] and "白细胞计数" in row["evidence"]
    assert "20.0× the median ¥100.00" in row["evidence_en"]


@pytest.mark.parametrize(("cost", "hit"), [(140.0, False), (150.0, True)])
def test_either_side_of_the_threshold(cost: float, hit: bool) -> None:
    # threshold: ¥100 × e^(3.5 × 0.1) = ¥141.91; min_amount lowered to let it count
    con = _county([*_peers(), cost])
    out = high_cost(con, {**PARAMS, "min_amount": 0.0}, {"settings": ["op"]})
    assert (out.height > 0) == hit


def test_dialysis_sessions_are_compared_with_dialysis_sessions() -> None:
    """¥500 sessions are no lead among ¥100 visits of other kinds: with too few sessions in
    the month to form a peer group of their own (treatment class dialysis), they are not
    pooled with the colds. Among 40 sessions a ¥2,000 one still is a lead."""
    con = _county([*_peers(), *[500.0] * 10], dialysis=10)
    assert high_cost(con, PARAMS, {"settings": ["op"]}).height == 0
    sessions = [5 * c for c in _peers()]
    con = _county([*_peers(), *sessions, 2000.0 * 5], dialysis=41)
    out = high_cost(con, PARAMS, {"settings": ["op"]})
    assert out["setl_id"].unique().to_list() == ["ST800"]
    assert "门诊（透析）" in out["evidence"][0] and "outpatient (dialysis)" in out["evidence_en"][0]


def test_a_dear_visit_below_the_minimum_amount_is_no_lead() -> None:
    con = _county([*_peers(), 190.0])
    assert high_cost(con, PARAMS, {"settings": ["op"]}).height == 0
    assert high_cost(con, {**PARAMS, "min_amount": 150.0}, {"settings": ["op"]}).height == 1


NIFEDIPINE = "XC08CAA002A008010110074"  # 硝苯地平控释片, a chronic drug
HEMIPLEGIA_TRAINING = "003402000080000"  # 偏瘫肢体综合训练: rehabilitation therapy


def _chronic(costs: list[float], days: list[int]) -> object:
    """One hypertension visit (门诊慢特病) per cost, a drug line of that cost supplying
    ``days`` days."""
    setl, lines = [], []
    for i, (c, d) in enumerate(zip(costs, days, strict=True)):
        t = T0 + timedelta(hours=i)
        setl.append(
            visit(
                f"MD{i}",
                begntime=t,
                endtime=t,
                medfee_sumamt=c,
                inscp_amt=c,
                dise_codg="I10",
                med_type="14",
            )
        )
        lines.append(
            fee(
                f"MD{i}",
                1,
                NIFEDIPINE,
                pric=c,
                det_item_fee_sumamt=c,
                inscp_amt=c,
                fee_ocur_time=t,
                prd_days=d,
            )
        )
    return scoring_db(setl, lines)


@pytest.mark.parametrize(
    ("cost", "days", "hit"),
    [
        (300.0, 84, False),  # twelve weeks at the peers' monthly cost: a long prescription
        (300.0, 30, True),  # the same bill for one month is three times as dear
        (3000.0, 84, True),  # twelve weeks of a drug ten times dearer per month
    ],
)
def test_a_long_prescription_is_priced_per_month_of_supply(
    cost: float, days: int, hit: bool
) -> None:
    con = _chronic([*_peers(), cost], [30] * 40 + [days])
    out = high_cost(con, PARAMS, {"settings": ["op"]})
    assert (out.height > 0) == hit
    if hit and days > 30:
        per_month = cost * 30 / days
        threshold = 100.0 * math.exp(3.5 * 0.1)
        assert out["amount"].sum() == pytest.approx(cost * (1 - threshold / per_month), rel=1e-3)
        assert "长处方药品按每30天用量折算" in out["evidence"][0]


def _rehab(extra: list[tuple[float, float]]) -> object:
    """40 rehabilitation sessions (stroke sequelae) around ¥100, 40 chronic consultations
    for the same diagnosis around ¥300 of drugs, then one visit per (therapy, drugs) cost of
    ``extra`` with both kinds of line."""
    setl, lines = [], []
    rows = [(c, 0.0) for c in _peers()] + [(0.0, 3 * c) for c in _peers()] + list(extra)
    for i, (therapy, drugs) in enumerate(rows):
        t = T0 + timedelta(hours=i)
        total = therapy + drugs
        setl.append(
            visit(
                f"MD{i}",
                begntime=t,
                endtime=t,
                medfee_sumamt=total,
                inscp_amt=total,
                dise_codg="I69.3",
            )
        )
        if therapy:
            lines.append(
                fee(
                    f"MD{i}",
                    1,
                    HEMIPLEGIA_TRAINING,
                    pric=therapy,
                    det_item_fee_sumamt=therapy,
                    inscp_amt=therapy,
                    fee_ocur_time=t,
                )
            )
        if drugs:
            lines.append(
                fee(
                    f"MD{i}",
                    2,
                    NIFEDIPINE,
                    pric=drugs,
                    det_item_fee_sumamt=drugs,
                    inscp_amt=drugs,
                    fee_ocur_time=t,
                    prd_days=30,
                )
            )
    return scoring_db(setl, lines)


def test_a_course_session_with_a_consultation_is_priced_part_by_part() -> None:
    """A course's first session also prescribes (¥100 of therapy, ¥300 of drugs): ¥400 is
    four times a session but each part costs what its kind costs: no lead."""
    con = _rehab([(100.0, 300.0)])
    assert high_cost(con, PARAMS, {"settings": ["op"]}).height == 0


def test_drugs_padded_onto_a_session_are_a_lead_on_the_drugs() -> None:
    con = _rehab([(100.0, 3000.0)])
    out = conform(high_cost(con, PARAMS, {"settings": ["op"]}), "high_cost")
    assert out["setl_id"].unique().to_list() == ["ST800"]
    assert out["feedetl_sn"].to_list() == ["2"]  # the drugs, not the therapy
    assert not out["hit_key"][0].endswith("|session")
    assert "疗程项目以外的" in out["evidence"][0]


def test_a_session_billed_far_above_sessions_is_a_lead_on_the_session() -> None:
    con = _rehab([(2000.0, 300.0)])
    out = conform(high_cost(con, PARAMS, {"settings": ["op"]}), "high_cost")
    assert out["feedetl_sn"].to_list() == ["1"]
    assert out["hit_key"][0].endswith("|session")
    assert "session lines" in out["evidence_en"][0]
