"""Price, surgery discount, quantity, frequency, course and total caps
(analytics/rules/catalogue/price_quantity.toml)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

from hrss_fraud.engine.kernels.period_count import period_excess

LAP_CHOLE = "003310050080001"  # 腹腔镜下胆囊切除术, second_50, cap lv1/2/3 2000/2200/2400
APPENDIX = "003310030040000"  # 阑尾切除术, second_50, cap 900/1000/1100
NIFEDIPINE = "XC08CAA002A008010110074"  # 7 days a pack, 30 days max, 5 a line
AMOXICILLIN = "XJ01CAA001A009010111739"  # 4 days a pack, 7 days max
INSULIN = "XA10ABA001B002010110999"  # 20 days a vial, 30 days max, 1 a day; no price cap
AMLODIPINE = "XC08CAA001A001010110037"  # 集采: capped at ¥22.50 a pack at every level
STRIPS = "C0203009181000001"  # 血糖试纸, 100 a line
DRAIN = "C0204011182060001"  # 负压引流器, 3 a visit
CANNULA = "C0201001176760001"  # 静脉留置针, 2 a day
BED = "001109000010001"  # 普通病房床位费(三人间), 1 a day
HEAD_CT = "002103000010001"  # 头颅CT平扫, 3 a visit
DIALYSIS = "003110000080000"  # 血液透析, 1 a day, 3 in 7 days
HBA1C = "002503020030000"  # 糖化血红蛋白, 1 in 90 days
EDARAVONE = "XN07XXA001B002010115439"  # 依达拉奉, course 14 days
EXERCISE = "003402000010000"  # 运动疗法, course 90 days
LENS = "C0301018185770001"  # 人工晶体, 2000 a year
LITHOTRIPSY = "003110000140000"  # 体外冲击波碎石, 1500 a year, 1 a day
PLATE = "C0302020186830001"  # 锁定加压接骨板, 8000 a year, 2 a visit
INST2 = "H13012300002"
DAY0 = datetime(2025, 3, 1, 9)


def at(days: float, hours: float = 0) -> datetime:
    return DAY0 + timedelta(days=days, hours=hours)


def ip_visit(md: str, days: int = 10, **kw: object) -> dict[str, object]:
    return visit(md, med_type="21", begntime=DAY0, endtime=at(days), **kw)


def amounts(f) -> list[float]:
    return sorted(f["amount_at_risk"].to_list())


# -- price_over_cap -------------------------------------------------------------------


def test_price_above_the_level_cap_is_a_hit_for_the_excess() -> None:
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, LAP_CHOLE, pric=2500.0)])
    f, lines = run_rule(con, "price_over_cap")
    assert f.height == 1 and f["amount_at_risk"][0] == 300.0
    assert "2级" in f["evidence"][0] and "¥2,200.00" in f["evidence"][0]
    assert lines["role"].to_list() == ["violating"]


def test_price_at_the_cap_or_within_tolerance_is_no_hit() -> None:
    con = scoring_db(
        [ip_visit("MD1")],
        [fee("MD1", 1, LAP_CHOLE, pric=2200.0), fee("MD1", 2, APPENDIX, pric=1000.01)],
    )
    assert run_rule(con, "price_over_cap")[0].height == 0
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, LAP_CHOLE, pric=2200.05)])
    f, _ = run_rule(con, "price_over_cap")
    assert amounts(f) == [0.05]
    assert run_rule(con, "price_over_cap", tolerance=0.1)[0].height == 0


def test_price_cap_follows_the_institution_level_and_self_paid_excess() -> None:
    lv1 = [{"hosp_lv": "1"}]
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, LAP_CHOLE, pric=2100.0)], institutions=lv1)
    assert amounts(run_rule(con, "price_over_cap")[0]) == [100.0]
    # an institution without a level is held to the level-1 cap
    con = scoring_db(
        [ip_visit("MD1")], [fee("MD1", 1, LAP_CHOLE, pric=2100.0)], institutions=[{"hosp_lv": "9"}]
    )
    assert amounts(run_rule(con, "price_over_cap")[0]) == [100.0]
    # the excess already recorded as over-limit self-pay is not at risk
    line = fee("MD1", 1, LAP_CHOLE, pric=2500.0, overlmt_selfpay=300.0, inscp_amt=2200.0)
    con = scoring_db([ip_visit("MD1")], [line])
    assert run_rule(con, "price_over_cap")[0].height == 0


# -- drug_price_over_cap --------------------------------------------------------------


def test_drug_above_its_payment_standard_is_a_hit_for_the_excess() -> None:
    con = scoring_db([visit("MD1")], [fee("MD1", 1, AMLODIPINE, cnt=2, pric=30.0)])
    f, lines = run_rule(con, "drug_price_over_cap")
    assert f.height == 1 and f["amount_at_risk"][0] == 15.0  # (30 − 22.50) × 2
    assert f["evidence"][0].startswith("药品「苯磺酸氨氯地平片") and "¥22.50" in f["evidence"][0]
    assert f["evidence_en"][0].startswith('Drug "') and lines["role"].to_list() == ["violating"]
    # the services' rule leaves drug lines alone
    assert run_rule(con, "price_over_cap")[0].height == 0


@pytest.mark.parametrize(("pric", "expected"), [(22.5, []), (22.51, []), (22.52, [0.02])])
def test_drug_price_around_the_cap_and_tolerance(pric: float, expected: list) -> None:
    con = scoring_db([visit("MD1")], [fee("MD1", 1, AMLODIPINE, pric=pric)])
    assert amounts(run_rule(con, "drug_price_over_cap")[0]) == expected


def test_drug_cap_is_the_same_at_every_level_and_self_paid_excess_is_not_at_risk() -> None:
    for lv in ("1", "3", "9"):
        con = scoring_db(
            [visit("MD1")],
            [fee("MD1", 1, AMLODIPINE, pric=25.0)],
            institutions=[{"hosp_lv": lv}],
        )
        assert amounts(run_rule(con, "drug_price_over_cap")[0]) == [2.5]
    # the pharmacy recorded the excess as over-limit self-pay: nothing claimed above the cap
    line = fee("MD1", 1, AMLODIPINE, pric=25.0, overlmt_selfpay=2.5, inscp_amt=22.5)
    assert run_rule(scoring_db([visit("MD1")], [line]), "drug_price_over_cap")[0].height == 0


def test_a_drug_without_a_cap_or_a_capped_service_is_not_the_drug_rules() -> None:
    con = scoring_db(
        [ip_visit("MD1")],
        [fee("MD1", 1, INSULIN, pric=500.0), fee("MD1", 2, LAP_CHOLE, pric=2500.0)],
    )
    assert run_rule(con, "drug_price_over_cap")[0].height == 0
    assert amounts(run_rule(con, "price_over_cap")[0]) == [300.0]


# -- surgery_discount -----------------------------------------------------------------


def test_second_surgery_at_full_price_is_a_hit_for_half() -> None:
    t = at(1)
    con = scoring_db(
        [ip_visit("MD1")],
        [
            fee("MD1", 1, LAP_CHOLE, pric=2200.0, fee_ocur_time=t),
            fee("MD1", 2, APPENDIX, pric=1000.0, fee_ocur_time=t),
        ],
    )
    f, lines = run_rule(con, "surgery_discount")
    assert f.height == 1 and f["feedetl_sn"][0] == "2" and f["amount_at_risk"][0] == 500.0
    assert sorted(zip(lines["feedetl_sn"], lines["role"], strict=True)) == [
        ("1", "involved"),
        ("2", "violating"),
    ]
    assert "应按50%收费" in f["evidence"][0]


@pytest.mark.parametrize(("pric", "expected"), [(500.0, []), (550.0, []), (551.0, [51.0])])
def test_discounted_second_surgery_around_the_tolerance(pric: float, expected: list) -> None:
    t = at(1)
    con = scoring_db(
        [ip_visit("MD1")],
        [
            fee("MD1", 1, LAP_CHOLE, pric=2200.0, fee_ocur_time=t),
            fee("MD1", 2, APPENDIX, pric=pric, fee_ocur_time=t),
        ],
    )
    assert amounts(run_rule(con, "surgery_discount")[0]) == expected


def test_surgeries_on_different_days_or_alone_are_no_hit() -> None:
    con = scoring_db(
        [ip_visit("MD1")],
        [
            fee("MD1", 1, LAP_CHOLE, pric=2200.0, fee_ocur_time=at(1)),
            fee("MD1", 2, APPENDIX, pric=1000.0, fee_ocur_time=at(3)),
        ],
    )
    assert run_rule(con, "surgery_discount")[0].height == 0


# -- drug_supply_cap / drug_daily_cap -------------------------------------------------


def test_drug_over_its_line_cap_is_a_hit_on_the_excess() -> None:
    con = scoring_db([visit("MD1")], [fee("MD1", 1, NIFEDIPINE, cnt=6)])  # ¥144, 42 days
    f, _ = run_rule(con, "drug_supply_cap")
    # 30 days = 4.2857 packs: (6 − 30/7) / 6 of ¥144
    assert amounts(f) == [41.14]
    assert run_rule(con, "drug_supply_cap", tolerance=1)[0].height == 1  # 6 > 5.29
    assert run_rule(con, "drug_supply_cap", tolerance=2)[0].height == 0  # 6 ≤ 6.29


@pytest.mark.parametrize(("cnt", "expected"), [(5, []), (6, [34.0])])
def test_days_supplied_around_the_long_prescription_factor(cnt: int, expected: list) -> None:
    # amoxicillin: 4 days a pack, 7 days at most, ×3 tolerated = 21 days = 5.25 packs
    con = scoring_db([visit("MD1")], [fee("MD1", 1, AMOXICILLIN, cnt=cnt, pric=8.0)])
    assert amounts(run_rule(con, "drug_supply_cap", supply_factor=3)[0]) == expected


@pytest.mark.parametrize(
    ("med_type", "packs", "expected"),
    [("14", 12, []), ("14", 13, [24.0]), ("11", 12, [185.14])],
)
def test_a_long_prescription_for_chronic_disease_may_supply_twelve_weeks(
    med_type: str, packs: int, expected: list
) -> None:
    """Nifedipine, 7 days a pack, 30 days and 5 packs a line at most: under 门诊慢特病
    (med_type 14) a stable patient may take 84 days (12 packs); a 13th pack is over even the
    long prescription (¥312 × 1/13), and an ordinary visit keeps the 30 days (¥288 × (12 −
    30/7)/12)."""
    con = scoring_db([visit("MD1", med_type=med_type)], [fee("MD1", 1, NIFEDIPINE, cnt=packs)])
    assert amounts(run_rule(con, "drug_supply_cap")[0]) == expected


def test_days_supplied_strictly_and_only_outside_hospital() -> None:
    con = scoring_db([visit("MD1")], [fee("MD1", 1, NIFEDIPINE, cnt=5)])  # 35 days
    f, _ = run_rule(con, "drug_supply_cap")  # strict by default: 1 × 30 days
    assert amounts(f) == [17.14]  # ¥120 × (5 − 30/7) / 5
    assert run_rule(con, "drug_supply_cap", supply_factor=2)[0].height == 0
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, NIFEDIPINE, cnt=5)])
    assert run_rule(con, "drug_supply_cap")[0].height == 0


def test_drug_over_its_daily_cap_across_institutions() -> None:
    con = scoring_db(
        [visit("MD1"), visit("MD2", fixmedins_code=INST2)],
        [fee("MD1", 1, INSULIN, cnt=1), fee("MD2", 1, INSULIN, cnt=1, fixmedins_code=INST2)],
        institutions=[{}, {"fixmedins_code": INST2}],
    )
    f, lines = run_rule(con, "drug_daily_cap")
    assert f.height == 1 and amounts(f) == [26.0]  # ¥52 × (2 − 1) / 2
    assert lines["role"].to_list() == ["violating", "violating"]
    con = scoring_db([visit("MD1")], [fee("MD1", 1, INSULIN, cnt=1)])
    assert run_rule(con, "drug_daily_cap")[0].height == 0


def test_line_and_daily_caps_do_not_claim_the_same_excess() -> None:
    # 3 vials = 60 days > 30: the line claims 3 − 1.5 = 1.5 vials, the day (1 a day) the
    # remaining 2 − 1.5 = 0.5
    con = scoring_db([visit("MD1")], [fee("MD1", 1, INSULIN, cnt=3)])
    assert amounts(run_rule(con, "drug_supply_cap")[0]) == [39.0]  # ¥78 × 1.5 / 3
    assert amounts(run_rule(con, "drug_daily_cap")[0]) == [13.0]  # ¥78 × 0.5 / 3
    # 5 vials = 100 days: the line claims 5 − 1.5 = 3.5, the day the remaining 0.5
    con = scoring_db([visit("MD1")], [fee("MD1", 1, INSULIN, cnt=5)])
    assert amounts(run_rule(con, "drug_supply_cap")[0]) == [91.0]  # ¥130 × 3.5 / 5
    assert amounts(run_rule(con, "drug_daily_cap")[0]) == [13.0]  # ¥130 × 0.5 / 5


# -- consumable_quantity_cap ----------------------------------------------------------


@pytest.mark.parametrize(("cnt", "expected"), [(100, []), (101, [2.5])])
def test_consumable_line_cap(cnt: int, expected: list) -> None:
    con = scoring_db([visit("MD1")], [fee("MD1", 1, STRIPS, cnt=cnt, pric=2.5)])
    assert amounts(run_rule(con, "consumable_quantity_cap")[0]) == expected


def test_consumable_visit_and_day_caps() -> None:
    con = scoring_db(
        [ip_visit("MD1")],
        [
            fee("MD1", 1, DRAIN, cnt=2, pric=40.0, fee_ocur_time=at(1)),
            fee("MD1", 2, DRAIN, cnt=2, pric=40.0, fee_ocur_time=at(2)),
        ],
    )
    f, lines = run_rule(con, "consumable_quantity_cap")
    assert amounts(f) == [40.0] and f["entity_type"][0] == "settlement"
    assert lines.height == 2
    con = scoring_db(
        [ip_visit("MD1")],
        [fee("MD1", 1, DRAIN, cnt=3, pric=40.0), fee("MD1", 2, CANNULA, cnt=2, pric=12.0)],
    )
    assert run_rule(con, "consumable_quantity_cap")[0].height == 0
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, CANNULA, cnt=3, pric=12.0)])
    assert amounts(run_rule(con, "consumable_quantity_cap")[0]) == [12.0]


# -- service_frequency (day, visit, period) -------------------------------------------


def test_service_day_cap_holds_within_one_stay() -> None:
    con = scoring_db(
        [ip_visit("MD1")],
        [
            fee("MD1", 1, BED, pric=25.0, fee_ocur_time=at(1)),
            fee("MD1", 2, BED, pric=25.0, fee_ocur_time=at(1, 2)),
            fee("MD1", 3, BED, pric=25.0, fee_ocur_time=at(2)),
        ],
    )
    f, lines = run_rule(con, "service_frequency")
    assert amounts(f) == [25.0] and lines.height == 2
    # two stays (a discharge and a readmission) on one day each bill their own bed day
    con = scoring_db(
        [ip_visit("MD1"), ip_visit("MD2")],
        [fee("MD1", 1, BED, fee_ocur_time=at(1)), fee("MD2", 1, BED, fee_ocur_time=at(1))],
    )
    assert run_rule(con, "service_frequency")[0].height == 0


def test_service_visit_cap() -> None:
    lines = [fee("MD1", i, HEAD_CT, pric=150.0, fee_ocur_time=at(i)) for i in range(1, 5)]
    con = scoring_db([ip_visit("MD1")], lines)
    assert amounts(run_rule(con, "service_frequency")[0]) == [150.0]
    con = scoring_db([ip_visit("MD1")], lines[:3])
    assert run_rule(con, "service_frequency")[0].height == 0


def dialysis(days: list[int]) -> tuple[list[dict], list[dict]]:
    visits = [
        visit(f"MD{i}", med_type="14", begntime=at(d), endtime=at(d, 4), dise_codg="N18.5")
        for i, d in enumerate(days)
    ]
    lines = [
        fee(f"MD{i}", 1, DIALYSIS, pric=400.0, fee_ocur_time=at(d, 1)) for i, d in enumerate(days)
    ]
    return visits, lines


def test_dialysis_three_times_a_week_is_no_hit() -> None:
    con = scoring_db(*dialysis([0, 2, 4, 7, 9, 11, 14, 16, 18]))
    assert run_rule(con, "service_frequency")[0].height == 0
    con = scoring_db(*dialysis([0, 2, 4, 7]))  # day 7: window days 1–7 holds 2, 4, 7
    assert run_rule(con, "service_frequency")[0].height == 0


def test_a_fourth_dialysis_within_seven_days_is_a_hit() -> None:
    con = scoring_db(*dialysis([0, 2, 4, 6]))
    f, lines = run_rule(con, "service_frequency")
    assert f.height == 1 and amounts(f) == [400.0] and f["mdtrt_id"][0] == "MD3"
    assert sorted(lines["role"].to_list()) == ["involved"] * 3 + ["violating"]
    assert "限7天内最多3次" in f["evidence"][0]


def test_day_cap_claims_before_the_period_cap() -> None:
    visits, lines = dialysis([0, 2, 4])
    lines.append(fee("MD0", 2, DIALYSIS, pric=400.0, fee_ocur_time=at(0, 2)))
    f, _ = run_rule(scoring_db(visits, lines), "service_frequency")
    # four sessions in 7 days are one over: the day cap (two on day 0) claims it, the
    # period cap does not claim it again
    assert f.height == 1 and amounts(f) == [400.0]
    assert "每日限1" in f["evidence"][0]


@pytest.mark.parametrize(("second", "grace", "hits"), [(89, 0, 1), (90, 0, 0), (89, 2, 0)])
def test_period_window_edges_and_grace_days(second: int, grace: int, hits: int) -> None:
    visits = [visit(f"MD{i}", begntime=at(d)) for i, d in enumerate([0, second])]
    lines = [
        fee(f"MD{i}", 1, HBA1C, pric=50.0, fee_ocur_time=at(d, 1))
        for i, d in enumerate([0, second])
    ]
    f, _ = run_rule(scoring_db(visits, lines), "service_frequency", grace_days=grace)
    assert f.height == hits
    if hits:
        assert amounts(f) == [50.0]


# -- drug_course_cap / service_course_cap ---------------------------------------------


def course(days: list[int]) -> tuple[list[dict], list[dict]]:
    v = [ip_visit("MD1", days=max(days) + 1, dise_codg="I63.9")]
    lines = [
        fee("MD1", i + 1, EDARAVONE, pric=28.0, fee_ocur_time=at(d)) for i, d in enumerate(days)
    ]
    return v, lines


@pytest.mark.parametrize(("n", "expected"), [(14, []), (15, [28.0]), (16, [56.0])])
def test_drug_course_over_its_payable_days(n: int, expected: list) -> None:
    f, lines = run_rule(scoring_db(*course(list(range(n)))), "drug_course_cap")
    assert amounts(f) == expected
    if expected:
        assert (lines["role"] == "violating").sum() == n - 14
        assert "限支付疗程14天" in f["evidence"][0]


def test_a_break_longer_than_gap_days_starts_a_new_course() -> None:
    days = list(range(7)) + list(range(17, 25))  # 7 days, 10 days off, 8 days
    con = scoring_db(*course(days))
    assert run_rule(con, "drug_course_cap")[0].height == 0
    f, _ = run_rule(con, "drug_course_cap", gap_days=10)
    # one course from day 0: days 14.. are beyond (the 8 uses on days 17–24)
    assert amounts(f) == [224.0]


@pytest.mark.parametrize(("last", "expected"), [(87, []), (90, [30.0])])
def test_service_course_over_its_payable_days(last: int, expected: list) -> None:
    # 运动疗法 every third day: course 90 days, day 91 (index 90) is beyond
    days = list(range(0, last + 1, 3))
    lines = [
        fee("MD1", i + 1, EXERCISE, pric=30.0, fee_ocur_time=at(d)) for i, d in enumerate(days)
    ]
    con = scoring_db([ip_visit("MD1", days=last + 1, adm_dept_codg="A21")], lines)
    f, fl = run_rule(con, "service_course_cap")
    assert amounts(f) == expected
    if expected:
        assert (fl["role"] == "violating").sum() == 1 and fl.height == len(days)


# -- service_amount_total / consumable_amount_total -----------------------------------


def test_consumable_total_over_the_yearly_cap() -> None:
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, LENS, cnt=2, pric=1300.0)])
    f, _ = run_rule(con, "consumable_amount_total")
    assert amounts(f) == [600.0]
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, LENS, cnt=1, pric=1300.0)])
    assert run_rule(con, "consumable_amount_total")[0].height == 0


def test_total_accumulates_over_stays_of_one_year_only() -> None:
    stays = [
        visit("MD1", med_type="21", begntime=datetime(2025, 2, 1), endtime=datetime(2025, 2, 3)),
        visit("MD2", med_type="21", begntime=datetime(2025, 6, 1), endtime=datetime(2025, 6, 3)),
    ]
    lines = [
        fee("MD1", 1, LENS, pric=1300.0, fee_ocur_time=datetime(2025, 2, 2)),
        fee("MD2", 1, LENS, pric=1300.0, fee_ocur_time=datetime(2025, 6, 2)),
    ]
    f, fl = run_rule(scoring_db(stays, lines), "consumable_amount_total")
    assert amounts(f) == [600.0]
    assert sorted(zip(fl["mdtrt_id"], fl["role"], strict=True)) == [
        ("MD1", "involved"),
        ("MD2", "violating"),
    ]
    stays[1] = visit(
        "MD2", med_type="21", begntime=datetime(2026, 1, 5), endtime=datetime(2026, 1, 7)
    )
    lines[1] = fee("MD2", 1, LENS, pric=1300.0, fee_ocur_time=datetime(2026, 1, 6))
    assert run_rule(scoring_db(stays, lines), "consumable_amount_total")[0].height == 0


@pytest.mark.parametrize(("days", "expected"), [([0], []), ([0, 5], [900.0])])
def test_service_total_over_the_yearly_cap(days: list[int], expected: list) -> None:
    lines = [
        fee("MD1", i + 1, LITHOTRIPSY, pric=1200.0, fee_ocur_time=at(d)) for i, d in enumerate(days)
    ]
    con = scoring_db([ip_visit("MD1", dise_codg="N20.0")], lines)
    assert amounts(run_rule(con, "service_amount_total")[0]) == expected
    assert run_rule(con, "service_amount_total", tolerance=1000)[0].height == 0


def test_quantity_caps_claim_before_the_total() -> None:
    # two sessions on one day: the daily cap (1) claims the second, the total sees ¥1200
    con = scoring_db(
        [ip_visit("MD1", dise_codg="N20.0")],
        [fee("MD1", 1, LITHOTRIPSY, cnt=2, pric=1200.0)],
    )
    assert run_rule(con, "service_amount_total")[0].height == 0
    assert amounts(run_rule(con, "service_frequency")[0]) == [1200.0]
    # three plates in one stay (2 a visit): ¥3300 is the quantity rule's, ¥6600 ≤ ¥8000
    con = scoring_db([ip_visit("MD1")], [fee("MD1", 1, PLATE, cnt=3, pric=3300.0)])
    assert run_rule(con, "consumable_amount_total")[0].height == 0
    assert amounts(run_rule(con, "consumable_quantity_cap")[0]) == [3300.0]
    # a second stay with one more plate takes the year to ¥9900: ¥1900 over the total
    stays = [ip_visit("MD1"), visit("MD2", med_type="21", begntime=at(40), endtime=at(45))]
    lines = [
        fee("MD1", 1, PLATE, cnt=2, pric=3300.0),
        fee("MD2", 1, PLATE, cnt=1, pric=3300.0, fee_ocur_time=at(41)),
    ]
    f, _ = run_rule(scoring_db(stays, lines), "consumable_amount_total")
    assert amounts(f) == [1900.0] and f["mdtrt_id"][0] == "MD2"


# -- the numba kernel against its pandas reference ------------------------------------


def random_uses(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    psn = rng.integers(0, 8, n)
    item = rng.integers(0, 3, n)
    caps = np.array([1.0, 3.0, 2.0])
    periods = np.array([90, 7, 30])
    day = rng.integers(0, 120, n)
    cnt = rng.integers(1, 3, n).astype(float)
    order = np.lexsort((day, item, psn))
    return psn[order], item[order], day[order], cnt[order], caps[item[order]], periods[item[order]]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("grace", [0, 2])
def test_kernel_agrees_with_the_pandas_reference(seed: int, grace: int) -> None:
    pd = pytest.importorskip("pandas")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.kernels_period import pandas_period_count

    psn, item, day, cnt, cap, period = random_uses(seed)
    group = psn * 10 + item
    excess, _, _ = period_excess(group, day, cnt, cap, period, grace)
    py_excess, _, _ = period_excess.py_func(group, day, cnt, cap, period, grace)
    df = pd.DataFrame(
        {
            "psn_no": psn,
            "med_list_codg": item,
            "day": day,
            "cnt": cnt,
            "max_cnt_period": cap,
            "period_days": period,
        }
    )
    ref = pandas_period_count(df, grace_days=grace).to_numpy()
    assert excess.sum() > 0
    np.testing.assert_allclose(excess, ref, atol=1e-9)
    np.testing.assert_allclose(py_excess, ref, atol=1e-9)


def test_kernel_window_first_row_and_total() -> None:
    group = np.zeros(4, dtype=np.int64)
    day = np.array([0, 2, 4, 6], dtype=np.int64)
    cnt = np.ones(4)
    excess, first, total = period_excess.py_func(
        group, day, cnt, np.full(4, 3.0), np.full(4, 7, dtype=np.int64), 0
    )
    assert excess.tolist() == [0, 0, 0, 1] and first.tolist() == [0, 0, 0, 0]
    assert total.tolist() == [1, 2, 3, 4]
