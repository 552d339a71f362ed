"""Behaviour rules over time: split admission, low-threshold admission, bed days over the
stay, claims during a stay or after death, doctor daily volume."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import polars as pl
import pytest
from helpers.rule_frames import PERSON, fee, run_rule, scoring_db, visit

from hrss_fraud.knowledge import load_knowledge

BED = "001109000010001"  # 普通病房床位费(三人间) ¥20
NURSING = "001201000030000"  # Ⅱ级护理 ¥12
LAB = "002501010010000"  # 白细胞计数 ¥2
AMLODIPINE = "XC08CAA001A001010110037"  # 苯磺酸氨氯地平片(5mg×28片) ¥22.5, oral
URAPIDIL = "XC02CAA001B002010110555"  # 盐酸乌拉地尔注射液 ¥12.5, injection
CHEMO = "003114000400000"  # 静脉注射化疗 ¥30
PACLITAXEL = "XL01CDA001B002010114292"  # 紫杉醇注射液: antineoplastic (XL01)
CISPLATIN = "XL01XAA001B002010114329"  # 顺铂注射液: antineoplastic (XL01)


def t(d: int, h: int = 9) -> datetime:
    return datetime(2025, 3, 1, h) if d == 0 else datetime(2025, 3, d, h)


def stay(md: str, adm: int, dis: int, inscp: float = 100.0, **kw: object) -> dict:
    fields = {"med_type": "21", "begntime": t(adm), "endtime": t(dis, 10), "inscp_amt": inscp}
    return visit(md, **{**fields, **kw})


def stay_lines(md: str, adm: int, n: int, sn0: int = 1) -> list[dict]:
    return [fee(md, sn0 + i, BED, fee_ocur_time=t(adm + i, 8)) for i in range(n)]


# --- split_admission ------------------------------------------------------------------


def _split_db(
    gap: int, dise: str | None = "K80.2", other_inst: bool = False, first: str | None = "K80.2"
) -> object:
    """A first stay (diagnosis ``first``) and a readmission ``gap`` days after it
    (``dise``), at the same institution unless ``other_inst``."""
    second = 5 + gap
    inst = {"fixmedins_code": "H13012300009"} if other_inst else {}
    return scoring_db(
        [
            stay("MD1", 1, 5, 300.0, dise_codg=first),
            stay("MD2", second, second + 2, 250.0, dise_codg=dise, **inst),
        ],
        [*stay_lines("MD1", 1, 4), *stay_lines("MD2", second, 2)],
        institutions=[{}, {"fixmedins_code": "H13012300009"}],
    )


def test_readmission_within_days_is_a_split_with_the_second_stay_at_risk() -> None:
    f, lines = run_rule(_split_db(15), "split_admission")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["mdtrt_id"] == "MD2" and row["amount_at_risk"] == 250.0
    assert "间隔15天" in row["evidence"] and "¥250.00" in row["evidence"]
    assert sorted(lines["role"].to_list()) == ["involved", "violating"]


def test_readmission_after_the_window_or_elsewhere_is_no_split() -> None:
    assert run_rule(_split_db(16), "split_admission")[0].height == 0
    assert run_rule(_split_db(15), "split_admission", days=14)[0].height == 0
    assert run_rule(_split_db(3, other_inst=True), "split_admission")[0].height == 0


@pytest.mark.parametrize(
    ("first", "second", "split"),
    [
        ("I15.9", "J44.1", False),  # COPD a week after a stay for hypertension: new care
        ("J44.9", "J44.1", True),  # the same ICD-10 category (J44)
        ("I10", "I11.9", True),  # another category of the same diagnosis group (HTN)
        ("K80.2", "K81.0", True),  # gallstones, then cholecystitis: one group (CHOLE)
        ("K80.2", "J18.9", False),  # pneumonia after a gallstone stay: another condition
        ("K80.2", None, True),  # a readmission without a diagnosis cannot show it differs
        (None, "K80.2", True),
    ],
)
def test_a_split_is_a_readmission_for_the_same_or_a_related_condition(
    first: str | None, second: str | None, split: bool
) -> None:
    """分解住院 is readmission for the same or a closely related condition: the same ICD-10
    category, or the same diagnosis group of the knowledge."""
    f, _ = run_rule(_split_db(3, dise=second, first=first), "split_admission")
    assert f["mdtrt_id"].to_list() == (["MD2"] if split else [])


def test_without_diagnosis_groups_the_category_decides() -> None:
    """A centre whose diagnosis catalogue has no groups (a foreign catalogue) still finds
    splits within one ICD-10 category; two categories are two conditions."""
    kb = load_knowledge()
    kb = replace(kb, diagnosis=kb.diagnosis.with_columns(dise_group=pl.lit(None, pl.String)))
    for second, split in (("I10", True), ("I11.9", False)):
        con = scoring_db(
            [stay("MD1", 1, 5, dise_codg="I10"), stay("MD2", 8, 10, dise_codg=second)],
            [*stay_lines("MD1", 1, 4), *stay_lines("MD2", 8, 2)],
            kb=kb,
        )
        assert run_rule(con, "split_admission")[0].height == int(split)


def test_planned_cycles_next_to_a_stay_are_no_split() -> None:
    """A chemotherapy cycle (Z51.1 with chemotherapy billed) before or after a stay, dialysis
    and a delivery are booked care (treatment classes), not split admissions."""
    con = scoring_db(
        [stay("MD1", 1, 3, dise_codg="Z51.1"), stay("MD2", 10, 12, dise_codg="Z51.1")],
        [fee("MD1", 1, CHEMO, fee_ocur_time=t(2)), *stay_lines("MD2", 10, 2)],
    )
    assert run_rule(con, "split_admission")[0].height == 0
    con = scoring_db(
        [stay("MD1", 1, 3, dise_codg="C34.9"), stay("MD2", 10, 12, dise_codg="C34.9")],
        [*stay_lines("MD1", 1, 2), fee("MD2", 1, PACLITAXEL, fee_ocur_time=t(10))],
    )
    assert run_rule(con, "split_admission")[0].height == 0
    for dx in ("Z49.1", "O80.0"):
        assert run_rule(_split_db(3, dise=dx, first=dx), "split_admission")[0].height == 0


def test_a_chemotherapy_code_without_chemotherapy_is_still_a_split() -> None:
    """Z51.1 on a stay that bills nothing of chemotherapy (beds only) is no planned cycle;
    nor is a chemotherapy service billed for a diagnosis no tumour treatment fits."""
    f, _ = run_rule(_split_db(3, dise="Z51.1", first="Z51.1"), "split_admission")
    assert f["mdtrt_id"].to_list() == ["MD2"]
    con = scoring_db(
        [stay("MD1", 1, 3, dise_codg="K80.2"), stay("MD2", 10, 12, dise_codg="K80.2")],
        [*stay_lines("MD1", 1, 2), fee("MD2", 1, CHEMO, fee_ocur_time=t(10))],
    )
    assert run_rule(con, "split_admission")[0]["mdtrt_id"].to_list() == ["MD2"]


@pytest.mark.parametrize(("lines", "split"), [((CISPLATIN, CHEMO), False), ((BED,), True)])
def test_a_cycle_uploaded_without_a_diagnosis_is_told_by_its_treatment(
    lines: tuple[str, ...], split: bool
) -> None:
    """A chemotherapy cycle (Z51.1) whose next cycle was uploaded with no diagnosis: cisplatin
    and its intravenous administration on that bill make it a cycle; a bill of beds only
    does not, and the readmission stays a lead."""
    con = scoring_db(
        [stay("MD1", 1, 3, dise_codg="Z51.1"), stay("MD2", 15, 17, dise_codg=None)],
        [
            *stay_lines("MD1", 1, 2),
            *(fee("MD2", 10 + i, c, fee_ocur_time=t(15)) for i, c in enumerate(lines)),
        ],
    )
    assert run_rule(con, "split_admission")[0]["mdtrt_id"].to_list() == (["MD2"] if split else [])


# --- low_threshold_admission ----------------------------------------------------------


def _low_db(days: int, drug: str = AMLODIPINE, med_type: str = "21") -> object:
    lines = [
        *stay_lines("MD1", 1, days),
        fee("MD1", 20, LAB, fee_ocur_time=t(1, 10)),
        fee("MD1", 21, drug, fee_ocur_time=t(1, 11)),
    ]
    return scoring_db([stay("MD1", 1, 1 + days, 180.0, med_type=med_type)], lines)


def test_short_stay_with_only_oral_drugs_and_tests_is_a_hit() -> None:
    f, _ = run_rule(_low_db(3), "low_threshold_admission")
    assert f.height == 1 and f["amount_at_risk"][0] == 180.0
    assert "口服药品1条" in f["evidence"][0] and "检查检验1条" in f["evidence"][0]


def test_longer_stay_injection_or_day_surgery_is_no_hit() -> None:
    assert run_rule(_low_db(4), "low_threshold_admission")[0].height == 0
    assert run_rule(_low_db(4), "low_threshold_admission", max_days=4)[0].height == 1
    assert run_rule(_low_db(2, drug=URAPIDIL), "low_threshold_admission")[0].height == 0
    assert run_rule(_low_db(1, med_type="28"), "low_threshold_admission")[0].height == 0


# --- bed_days_over_los ----------------------------------------------------------------


def _bed_db(extra: int) -> object:
    lines = [*stay_lines("MD1", 1, 3), fee("MD1", 9, BED, cnt=extra, fee_ocur_time=t(3, 8))]
    lines += [fee("MD1", 10, NURSING, cnt=3, fee_ocur_time=t(2, 8))]
    return scoring_db([stay("MD1", 1, 4)], lines)


def test_bed_days_over_stay_plus_one_put_the_excess_at_risk() -> None:
    f, lines = run_rule(_bed_db(2), "bed_days_over_los")  # 5 bed days for a 3-day stay
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == pytest.approx(100.0 * 1 / 5)  # ¥100 × (5 − 4) / 5
    assert "合计计费5" in row["evidence"] and "多计1天" in row["evidence"]
    assert lines.height == 4 and set(lines["role"]) == {"violating"}


def test_bed_days_within_stay_plus_one_is_no_hit() -> None:
    assert run_rule(_bed_db(1), "bed_days_over_los")[0].height == 0
    assert run_rule(_bed_db(1), "bed_days_over_los", tolerance_days=0)[0].height == 1


# --- claim_during_stay ----------------------------------------------------------------


def _during_db(day: int, rx_circ: str = "0") -> object:
    ph = visit(
        "MD9",
        med_type="41",
        fixmedins_code="P13012300029",
        begntime=t(day, 14),
        endtime=t(day, 14),
        inscp_amt=45.0,
    )
    return scoring_db(
        [stay("MD1", 1, 5), ph],
        [
            *stay_lines("MD1", 1, 4),
            fee(
                "MD9",
                1,
                AMLODIPINE,
                cnt=2,
                fixmedins_code="P13012300029",
                fee_ocur_time=t(day, 14),
                rx_circ_flag=rx_circ,
            ),
        ],
        institutions=[{}, {"fixmedins_code": "P13012300029", "fixmedins_type": "2"}],
    )


def test_pharmacy_claim_inside_a_stay_is_a_hit() -> None:
    f, lines = run_rule(_during_db(3), "claim_during_stay")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["mdtrt_id"] == "MD9" and row["amount_at_risk"] == 45.0
    assert set(lines["mdtrt_id"]) == {"MD9", "MD1"}
    assert lines.filter(lines["mdtrt_id"] == "MD1")["amount_at_risk"].sum() == 0


def test_claims_on_admission_or_discharge_day_or_external_rx_are_no_hit() -> None:
    assert run_rule(_during_db(1), "claim_during_stay")[0].height == 0
    assert run_rule(_during_db(5), "claim_during_stay")[0].height == 0
    assert run_rule(_during_db(3, rx_circ="1"), "claim_during_stay")[0].height == 0


# --- claim_after_death ----------------------------------------------------------------


def _death_db(day: int) -> object:
    return scoring_db(
        [visit("MD1", begntime=t(day), endtime=t(day, 10), inscp_amt=30.0)],
        [fee("MD1", 1, LAB, cnt=5, pric=6.0, fee_ocur_time=t(day))],
        persons=[{"die_date": date(2025, 3, 10)}],
    )


def test_claim_after_death_is_a_hit() -> None:
    f, _ = run_rule(_death_db(11), "claim_after_death")
    assert f.height == 1 and f["amount_at_risk"][0] == 30.0
    assert "已于2025-03-10死亡，1天后" in f["evidence"][0]


def test_claim_on_the_day_of_death_is_no_hit() -> None:
    assert run_rule(_death_db(10), "claim_after_death")[0].height == 0


# --- doctor_volume --------------------------------------------------------------------


def _doctor_db(n: int) -> object:
    persons = [{"psn_no": f"{PERSON[:-3]}{i:03d}"} for i in range(n)]
    setl = [visit(f"MD{i}", psn_no=p["psn_no"], inscp_amt=10.0) for i, p in enumerate(persons)]
    lines = [fee(f"MD{i}", 1, LAB, cnt=5, psn_no=p["psn_no"]) for i, p in enumerate(persons)]
    return scoring_db(setl, lines, persons=persons)


def test_doctor_over_the_daily_cap_is_a_hit_with_the_excess_share() -> None:
    f, lines = run_rule(_doctor_db(11), "doctor_volume", max_patients=10)
    assert f.height == 1 and f["entity_id"][0] == "D001"
    assert f["amount_at_risk"][0] == pytest.approx(110.0 / 11)  # ¥110 × (11 − 10) / 11
    assert lines.height == 11


def test_doctor_at_the_cap_is_no_hit() -> None:
    assert run_rule(_doctor_db(10), "doctor_volume", max_patients=10)[0].height == 0
    assert run_rule(_doctor_db(11), "doctor_volume")[0].height == 0
