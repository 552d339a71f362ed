"""Items restricted by patient attribute, institution, department or care setting, and
never-payable herbal pieces (analytics/rules/catalogue/restrictions.toml)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

VISIT_DAY = date(2025, 3, 1)  # the default visit's begntime

MONTELUKAST = "XR03DCA002A004010113737"  # 孟鲁司特钠咀嚼片, children (≤ 6570 days)
NEWBORN_NURSING = "001201000110000"  # 新生儿护理, newborns (≤ 28 days)
GERIATRIC_ASSESSMENT = "003115030010000"  # 老年综合评估, aged ≥ 21900 days
CORD_CLAMP = "C0305027190540001"  # 新生儿脐带夹, newborns (≤ 28 days)
LEVOFLOXACIN = "XJ01MAA001A001010112294"  # forbidden ≤ 6570 days; pregnancy caution
DOXYCYCLINE = "XJ01AAA001A001010112442"  # forbidden ≤ 2920 days
DIAZEPAM = "XN05BAA001A001010114181"  # caution in the elderly
WARFARIN = "XB01AAA001A001010111369"  # caution in pregnancy
TETRANDRINE = "XR07AXA001A001010115032"  # 汉防己甲素片, work injury (610)
ANTENATAL_CARE = "003115030100000"  # 产前检查, maternity (510)
MRI_HEAD = "002104000010001"  # level 2 or higher
IMRT = "002403000050000"  # level 3
DIALYSIS = "003110000080000"  # 血液透析, dept A52, level 2
DIALYSER = "C0304024188950001"  # 一次性使用透析器, dept A52
MEROPENEM = "XJ01DHA001B005010112553"  # inpatient only, level 2
EMERGENCY_CONSULT = "001102000030000"  # 急诊诊察费, med_type 13 only
CORDYCEPS = "T007071497"  # 冬虫夏草, herb_nopay all
JUJUBE = "T008077539"  # 大枣, herb_nopay single
GOJI = "T008078546"  # 枸杞子, herb_nopay single
LICORICE = "T001001007"  # 甘草, payable


def aged(days: int, **kw: Any) -> dict[str, Any]:
    """A person ``days`` old at the default visit."""
    return {"brdy": VISIT_DAY - timedelta(days=days), **kw}


def hits(rule: str, lines: list[dict], person: dict | None = None, **kw: Any) -> pl.DataFrame:
    settlements = kw.pop("settlements", [visit("MD1")])
    params = kw.pop("params", {})
    con = scoring_db(settlements, lines, persons=[person or {}], **kw)
    return run_rule(con, rule, **params)[0].sort("feedetl_sn")


# -- item_age_band ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "limit"),
    [(MONTELUKAST, 6570), (NEWBORN_NURSING, 28), (CORD_CLAMP, 28)],
)
def test_age_band_upper_limit_is_inclusive(item: str, limit: int) -> None:
    assert hits("item_age_band", [fee("MD1", 1, item)], aged(limit)).height == 0
    f = hits("item_age_band", [fee("MD1", 1, item, cnt=2, pric=7.5)], aged(limit + 1))
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 15.0
    assert row["framework_codes"].count("GZ") == 8
    assert f"({limit + 1}天)" in row["evidence"] and "¥15.00" in row["evidence"]


def test_age_band_lower_limit_and_evidence() -> None:
    assert hits("item_age_band", [fee("MD1", 1, GERIATRIC_ASSESSMENT)], aged(21900)).height == 0
    f = hits("item_age_band", [fee("MD1", 1, GERIATRIC_ASSESSMENT, pric=40.0)], aged(21899))
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 40.0
    assert "诊疗项目「老年综合评估」(003115030010000) 限60岁及以上患者使用" in row["evidence"]
    assert "restricted to patients aged 60 years or older" in row["evidence_en"]


def test_age_band_counts_each_line_and_skips_self_paid_or_unknown_age() -> None:
    lines = [
        fee("MD1", 1, MONTELUKAST, pric=20.0),
        fee("MD1", 2, CORD_CLAMP, pric=3.0),
        fee("MD1", 3, MONTELUKAST, pric=20.0, inscp_amt=0.0),  # already self-paid
        fee("MD1", 4, LICORICE),  # unrestricted
    ]
    f = hits("item_age_band", lines, aged(40 * 365))
    assert f["feedetl_sn"].to_list() == ["1", "2"]
    assert f["amount_at_risk"].to_list() == [20.0, 3.0]
    assert "药品「孟鲁司特钠咀嚼片" in f["evidence"][0] and "限18岁及以下" in f["evidence"][0]
    assert "医用耗材「新生儿脐带夹" in f["evidence"][1] and "限28天及以下" in f["evidence"][1]
    assert hits("item_age_band", lines, {"brdy": None}).height == 0


def test_age_band_uses_age_at_admission_for_a_newborn_stay() -> None:
    stay = visit("MD1", med_type="21", endtime=VISIT_DAY + timedelta(days=10))
    late = fee("MD1", 1, NEWBORN_NURSING, fee_ocur_time=VISIT_DAY + timedelta(days=9))
    assert hits("item_age_band", [late], aged(25), settlements=[stay]).height == 0


# -- item_age_forbidden -----------------------------------------------------------------


@pytest.mark.parametrize(("item", "limit"), [(LEVOFLOXACIN, 6570), (DOXYCYCLINE, 2920)])
def test_forbidden_age_is_a_hit_at_the_limit_and_not_above(item: str, limit: int) -> None:
    f = hits("item_age_forbidden", [fee("MD1", 1, item, cnt=2, pric=6.0)], aged(limit))
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 12.0
    assert "禁用于" in row["evidence"] and "及以下患者" in row["evidence"]
    assert "forbidden for patients aged" in row["evidence_en"]
    assert hits("item_age_forbidden", [fee("MD1", 1, item)], aged(limit + 1)).height == 0


def test_forbidden_age_ignores_band_items() -> None:
    assert hits("item_age_forbidden", [fee("MD1", 1, MONTELUKAST)], aged(40 * 365)).height == 0


# -- item_elderly -----------------------------------------------------------------------


def test_elderly_caution_from_the_65th_birthday() -> None:
    birthday_65 = {"brdy": date(1960, 3, 1)}  # 65 on the visit day
    day_before = {"brdy": date(1960, 3, 2)}  # 64 years and 364 days
    f = hits("item_elderly", [fee("MD1", 1, DIAZEPAM, cnt=3, pric=1.5)], birthday_65)
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 4.5
    assert "老年人慎用药品(≥65岁)，患者就诊时65岁" in row["evidence"]
    assert hits("item_elderly", [fee("MD1", 1, DIAZEPAM)], day_before).height == 0


def test_elderly_threshold_is_a_parameter_and_other_drugs_pass() -> None:
    person = {"brdy": date(1955, 1, 1)}  # 70
    assert hits("item_elderly", [fee("MD1", 1, DIAZEPAM)], person).height == 1
    assert (
        hits("item_elderly", [fee("MD1", 1, DIAZEPAM)], person, params={"elderly_age": 71}).height
        == 0
    )
    assert (
        hits("item_elderly", [fee("MD1", 1, DIAZEPAM)], person, params={"elderly_age": 70}).height
        == 1
    )
    assert hits("item_elderly", [fee("MD1", 1, WARFARIN)], person).height == 0


# -- item_pregnancy ---------------------------------------------------------------------

WOMAN = {"gend": "2", "brdy": date(1995, 5, 1)}


def test_pregnancy_diagnosis_makes_a_caution_drug_a_hit() -> None:
    s = [visit("MD1", dise_codg="O34.2", dise_name="瘢痕子宫妊娠")]
    f = hits("item_pregnancy", [fee("MD1", 1, WARFARIN, pric=8.0)], WOMAN, settlements=s)
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 8.0
    assert "妊娠期及哺乳期禁用或慎用" in row["evidence"] and "O34.2 瘢痕子宫妊娠" in row["evidence"]


def test_maternity_care_makes_a_caution_drug_a_hit() -> None:
    s = [visit("MD1", med_type="51")]
    f = hits("item_pregnancy", [fee("MD1", 1, LEVOFLOXACIN, pric=9.0)], WOMAN, settlements=s)
    assert f.height == 1 and "生育医疗(医疗类别51)" in f["evidence"][0]


def test_pregnancy_rule_needs_pregnancy_and_a_caution_drug() -> None:
    assert hits("item_pregnancy", [fee("MD1", 1, WARFARIN)], WOMAN).height == 0
    s = [visit("MD1", dise_codg="O80.0")]
    assert hits("item_pregnancy", [fee("MD1", 1, DIAZEPAM)], WOMAN, settlements=s).height == 0


# -- item_insutype ----------------------------------------------------------------------


def test_work_injury_drug_under_basic_insurance_is_a_hit() -> None:
    s = [visit("MD1", insutype="310")]
    f = hits("item_insutype", [fee("MD1", 1, TETRANDRINE, cnt=2, pric=30.0)], settlements=s)
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 60.0
    assert "限险种：工伤保险(610)；本次险种为职工基本医疗保险(310)" in row["evidence"]
    s = [visit("MD1", insutype="610")]
    assert hits("item_insutype", [fee("MD1", 1, TETRANDRINE)], settlements=s).height == 0


def test_maternity_service_outside_maternity_insurance_is_a_hit() -> None:
    s = [visit("MD1", insutype="390", med_type="51")]
    f = hits("item_insutype", [fee("MD1", 1, ANTENATAL_CARE, pric=50.0)], WOMAN, settlements=s)
    assert f.height == 1 and f["amount_at_risk"][0] == 50.0
    s = [visit("MD1", insutype="510", med_type="51")]
    assert hits("item_insutype", [fee("MD1", 1, ANTENATAL_CARE)], WOMAN, settlements=s).height == 0


# -- item_hosp_level --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "level", "hit"),
    [
        (MRI_HEAD, "1", True),
        (MRI_HEAD, "2", False),
        (MRI_HEAD, "9", True),
        (IMRT, "2", True),
        (IMRT, "3", False),
    ],
)
def test_hosp_level_on_each_side_of_the_minimum(item: str, level: str, hit: bool) -> None:
    f = hits(
        "item_hosp_level", [fee("MD1", 1, item, pric=100.0)], institutions=[{"hosp_lv": level}]
    )
    assert f.height == int(hit)
    if hit:
        assert f["amount_at_risk"][0] == 100.0
        assert "级及以上医疗机构使用，测试县人民医院(H13012300001)为" in f["evidence"][0]


def test_hosp_level_unrated_evidence_and_unknown_level_or_pharmacy_not_judged() -> None:
    f = hits("item_hosp_level", [fee("MD1", 1, MRI_HEAD)], institutions=[{"hosp_lv": "9"}])
    assert "为未定级机构" in f["evidence"][0] and "is unrated" in f["evidence_en"][0]
    assert (
        hits("item_hosp_level", [fee("MD1", 1, MRI_HEAD)], institutions=[{"hosp_lv": None}]).height
        == 0
    )
    s = [visit("MD1", med_type="41")]
    assert (
        hits(
            "item_hosp_level",
            [fee("MD1", 1, MEROPENEM)],
            settlements=s,
            institutions=[{"hosp_lv": None}],
        ).height
        == 0
    )


# -- item_dept --------------------------------------------------------------------------


def test_dialysis_billed_by_another_department_is_a_hit() -> None:
    lines = [
        fee("MD1", 1, DIALYSIS, pric=400.0, bilg_dept_codg="A03"),
        fee("MD1", 2, DIALYSER, pric=150.0, bilg_dept_codg="A03"),
        fee("MD1", 3, DIALYSIS, pric=400.0, bilg_dept_codg="A52"),
    ]
    f = hits("item_dept", lines)
    assert f["feedetl_sn"].to_list() == ["1", "2"]
    assert f["amount_at_risk"].to_list() == [400.0, 150.0]
    assert "限开单科室：肾内科(血液透析)(A52)；本次开单科室为内科(A03)" in f["evidence"][0]
    assert f["evidence"][1].startswith("医用耗材「一次性使用透析器」")


def test_a_sub_specialty_is_within_its_department_and_no_further() -> None:
    lines = [
        fee("MD1", 1, DIALYSIS, pric=400.0, bilg_dept_codg="A52.01"),  # 肾内科's sub-specialty
        fee("MD1", 2, DIALYSIS, pric=400.0, bilg_dept_codg="A03.05"),  # 内科's: a hit
        fee("MD1", 3, DIALYSIS, pric=400.0, bilg_dept_codg="A520"),  # not a sub-code of A52
    ]
    f = hits("item_dept", lines)
    assert f["feedetl_sn"].to_list() == ["2", "3"]


# -- item_med_type ----------------------------------------------------------------------


def test_inpatient_only_drug_in_outpatient_care_is_a_hit() -> None:
    f = hits("item_med_type", [fee("MD1", 1, MEROPENEM, cnt=2, pric=50.0)])
    assert f.height == 1 and f["amount_at_risk"][0] == 100.0
    assert "本次医疗类别为普通门诊(11)" in f["evidence"][0]
    assert "普通住院(21)" in f["evidence"][0]
    s = [visit("MD1", med_type="21")]
    assert hits("item_med_type", [fee("MD1", 1, MEROPENEM)], settlements=s).height == 0


def test_emergency_consultation_outside_emergency_care() -> None:
    assert hits("item_med_type", [fee("MD1", 1, EMERGENCY_CONSULT)]).height == 1
    s = [visit("MD1", med_type="13")]
    assert hits("item_med_type", [fee("MD1", 1, EMERGENCY_CONSULT)], settlements=s).height == 0


# -- herb_nopay_all / herb_nopay_single -------------------------------------------------


def test_never_payable_herb_is_a_hit_alone_or_in_a_compound() -> None:
    lines = [
        fee("MD1", 1, CORDYCEPS, cnt=5, pric=30.0, rxno="RX1"),
        fee("MD1", 2, LICORICE, cnt=10, rxno="RX1"),
        fee("MD1", 3, CORDYCEPS, cnt=5, pric=30.0, rxno="RX2", inscp_amt=0.0),  # self-paid
    ]
    f = hits("herb_nopay_all", lines)
    assert f["feedetl_sn"].to_list() == ["1"] and f["amount_at_risk"][0] == 150.0
    assert "单味或复方均不予支付" in f["evidence"][0] and "共2味饮片" in f["evidence"][0]
    assert hits("herb_nopay_single", lines).height == 0


def test_single_use_herb_alone_on_its_prescription_is_a_hit() -> None:
    lines = [
        fee("MD1", 1, JUJUBE, cnt=10, pric=0.5, rxno="RX1"),
        fee("MD1", 2, LICORICE, cnt=10, rxno="RX2"),
    ]
    f = hits("herb_nopay_single", lines)
    assert f.height == 1 and f["amount_at_risk"][0] == 5.0
    assert "单味使用不予支付，处方RX1中仅此一味饮片" in f["evidence"][0]


def test_single_use_herb_in_a_compound_is_no_hit() -> None:
    with_licorice = [fee("MD1", 1, JUJUBE, rxno="RX1"), fee("MD1", 2, LICORICE, rxno="RX1")]
    assert hits("herb_nopay_single", with_licorice).height == 0
    two_single = [fee("MD1", 1, JUJUBE, rxno="RX1"), fee("MD1", 2, GOJI, rxno="RX1")]
    assert hits("herb_nopay_single", two_single).height == 0
    assert hits("herb_nopay_all", two_single).height == 0


def test_single_use_herb_without_prescription_number_is_judged_per_visit() -> None:
    assert hits("herb_nopay_single", [fee("MD1", 1, JUJUBE)]).height == 1
    both = [fee("MD1", 1, JUJUBE), fee("MD1", 2, LICORICE)]
    assert hits("herb_nopay_single", both).height == 0
    f = hits("herb_nopay_single", [fee("MD1", 1, GOJI, pric=2.0, cnt=3)])
    assert "本次就诊中仅此一味饮片" in f["evidence"][0] and f["amount_at_risk"][0] == 6.0
