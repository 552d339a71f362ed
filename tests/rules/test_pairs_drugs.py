from __future__ import annotations

from datetime import datetime

from helpers.rule_frames import fee, run_rule, scoring_db, visit

GENERAL_FEE = "001102000060000"  # 一般诊疗费 ⊃ 诊察费 (day)
CONSULT = "001102000010000"  # 普通门诊诊察费
IP_CONSULT = "001102000050000"  # 住院诊查费 ⊃ 门诊诊察费 (day)
CBC = "002501010150000"  # 血常规 ⊃ 白细胞计数 (day)
WBC = "002501010010000"
WARFARIN = "XB01AAA001A001010111369"  # + 阿司匹林 (visit)
ASPIRIN = "XB01ACA001A006010111258"
GANCAO = "T001001007"  # 甘草 反 甘遂 (visit)
GANSUI = "T001002014"
BUDESONIDE = "XR03BAA001C003010113478"  # needs 雾化吸入
NEBULISE = "001204000110000"
CANNULA = "C0201001176760001"  # needs 静脉输液(第一组) or 小儿头皮静脉输液
INFUSION = "001204000060001"
METFORMIN = "XA10BAA001A001010110629"
DAPAGLIFLOZIN = "XA10BKA001A001010110888"  # second line after biguanide
AMLODIPINE = "XC08CAA001A001010110037"  # CCB
NIFEDIPINE = "XC08CAA002A008010110074"  # CCB
DRUGS = [
    "XC08CAA001A001010110037",
    "XC09CAA001A001010110148",
    "XC09AAA001A001010110259",
    "XC07ABA001A007010110333",
    "XC03AAA001A001010110444",
    "XA10BAA001A001010110629",
    "XB01ACA001A006010111258",
]  # seven drugs of seven classes
AZITHRO_IV = "XJ01FAA002B005010112220"  # antibiotic tier 2
MEROPENEM = "XJ01DHA001B005010112553"  # antibiotic tier 3
CEFUROXIME_IV = "XJ01DCA003B005010112035"  # tier 1
TKA = "003315070010000"  # 人工全膝关节置换术, clean

T = datetime(2025, 3, 1, 9, 30)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2025, 3, day, hour, 30)


# --- forbidden pairs ---------------------------------------------------------------------


def test_duplicate_in_one_visit_flags_the_included_item_with_its_amount() -> None:
    con = scoring_db(
        [visit("MD1")],
        [fee("MD1", 1, GENERAL_FEE, pric=10.0), fee("MD1", 2, CONSULT, pric=8.0)],
    )
    f, lines = run_rule(con, "pair_duplicate")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 8.0 and row["n_violating"] == 1 and row["n_lines"] == 2
    assert "一般诊疗费已含诊察费" in row["evidence"] and "¥8.00" in row["evidence"]
    v = lines.filter(lines["role"] == "violating")
    assert v["feedetl_sn"].to_list() == ["2"]


def test_duplicate_on_the_same_day_across_visits_but_not_the_next_day() -> None:
    same = scoring_db(
        [visit("MD1"), visit("MD2", begntime=at(1, 15), endtime=at(1, 16))],
        [
            fee("MD1", 1, GENERAL_FEE, pric=10.0),
            fee("MD2", 1, CONSULT, pric=8.0, fee_ocur_time=at(1, 15)),
        ],
    )
    f, _ = run_rule(same, "pair_duplicate")
    assert f.height == 1 and f["amount_at_risk"][0] == 8.0 and f["mdtrt_id"][0] == "MD2"
    nxt = scoring_db(
        [visit("MD1"), visit("MD2", begntime=at(2), endtime=at(2, 10))],
        [fee("MD1", 1, GENERAL_FEE), fee("MD2", 1, CONSULT, fee_ocur_time=at(2))],
    )
    assert run_rule(nxt, "pair_duplicate")[0].height == 0


def test_outpatient_visit_on_the_admission_day_is_not_a_duplicate_but_mid_stay_is() -> None:
    stay = visit("MD9", med_type="21", begntime=at(1, 11), endtime=at(5, 10))
    lines = [fee("MD9", d, IP_CONSULT, pric=10.0, fee_ocur_time=at(d, 12)) for d in range(1, 6)]
    adm = scoring_db(
        [visit("MD1"), stay], [fee("MD1", 1, CONSULT, pric=8.0, fee_ocur_time=at(1)), *lines]
    )
    assert run_rule(adm, "pair_duplicate")[0].height == 0
    mid = scoring_db(
        [visit("MD1", begntime=at(3), endtime=at(3, 10)), stay],
        [fee("MD1", 1, CONSULT, pric=8.0, fee_ocur_time=at(3)), *lines],
    )
    f, _ = run_rule(mid, "pair_duplicate")
    assert f.height == 1 and f["amount_at_risk"][0] == 8.0


def test_unbundled_parts_of_one_panel_are_one_hit() -> None:
    con = scoring_db(
        [visit("MD1")],
        [
            fee("MD1", 1, CBC, pric=18.0),
            fee("MD1", 2, WBC, pric=2.0),
            fee("MD1", 3, "002501010020000", pric=2.5),
        ],
    )
    f, _ = run_rule(con, "pair_unbundle")
    assert f.height == 1 and f["amount_at_risk"][0] == 4.5 and f["n_violating"][0] == 2
    assert (
        run_rule(scoring_db([visit("MD1")], [fee("MD1", 1, WBC)]), "pair_unbundle")[0].height == 0
    )


def test_interaction_needs_the_same_visit() -> None:
    con = scoring_db(
        [visit("MD1")], [fee("MD1", 1, WARFARIN, pric=14.0), fee("MD1", 2, ASPIRIN, pric=13.5)]
    )
    f, _ = run_rule(con, "pair_interaction")
    assert f.height == 1 and f["amount_at_risk"][0] == 13.5 and "出血风险增加" in f["evidence"][0]
    two = scoring_db(
        [visit("MD1"), visit("MD2", begntime=at(1, 15), endtime=at(1, 16))],
        [fee("MD1", 1, WARFARIN), fee("MD2", 1, ASPIRIN, fee_ocur_time=at(1, 15))],
    )
    assert run_rule(two, "pair_interaction")[0].height == 0


def test_herb_incompatibility_and_refunded_partner() -> None:
    con = scoring_db(
        [visit("MD1")], [fee("MD1", 1, GANCAO, pric=0.3), fee("MD1", 2, GANSUI, pric=1.2)]
    )
    f, _ = run_rule(con, "pair_herb")
    assert f.height == 1 and f["amount_at_risk"][0] == 1.2 and "十八反" in f["evidence"][0]
    refunded = scoring_db(
        [visit("MD1")],
        [
            fee("MD1", 1, GANCAO),
            fee("MD1", 2, GANSUI),
            fee("MD1", 3, GANCAO, cnt=-1, init_feedetl_sn="1"),
        ],
    )
    assert run_rule(refunded, "pair_herb")[0].height == 0


# --- required partners -------------------------------------------------------------------


def test_drug_without_its_administering_service() -> None:
    con = scoring_db([visit("MD1")], [fee("MD1", 1, BUDESONIDE, cnt=2, pric=6.0)])
    f, _ = run_rule(con, "pair_drug_service")
    assert f.height == 1 and f["amount_at_risk"][0] == 12.0 and "雾化吸入" in f["evidence"][0]
    ok = scoring_db([visit("MD1")], [fee("MD1", 1, BUDESONIDE), fee("MD1", 2, NEBULISE)])
    assert run_rule(ok, "pair_drug_service")[0].height == 0


def test_consumable_needs_one_of_its_services_in_the_same_visit() -> None:
    ok = scoring_db([visit("MD1")], [fee("MD1", 1, CANNULA), fee("MD1", 2, INFUSION)])
    assert run_rule(ok, "pair_companion")[0].height == 0
    other_visit = scoring_db(
        [visit("MD1"), visit("MD2")],
        [fee("MD1", 1, CANNULA, pric=15.0), fee("MD2", 1, INFUSION)],
    )
    f, _ = run_rule(other_visit, "pair_companion")
    assert f.height == 1 and f["amount_at_risk"][0] == 15.0 and f["mdtrt_id"][0] == "MD1"


# --- second line -------------------------------------------------------------------------


def _second_line(first_day: int | None) -> object:
    setl = [visit("MD2", begntime=at(28), endtime=at(28, 10))]
    lines = [fee("MD2", 1, DAPAGLIFLOZIN, pric=56.0, fee_ocur_time=at(28))]
    if first_day is not None:
        setl.append(visit("MD1", begntime=at(first_day), endtime=at(first_day, 10)))
        lines.append(fee("MD1", 1, METFORMIN, fee_ocur_time=at(first_day)))
    return scoring_db(setl, lines)


def test_second_line_without_first_line_is_a_hit() -> None:
    f, _ = run_rule(_second_line(None), "drug_second_line")
    assert f.height == 1 and f["amount_at_risk"][0] == 56.0
    assert "盐酸二甲双胍片" in f["evidence"][0]


def test_second_line_around_the_days_threshold() -> None:
    con = _second_line(8)  # 20 days before
    assert run_rule(con, "drug_second_line", days=20)[0].height == 0
    assert run_rule(con, "drug_second_line", days=19)[0].height == 1
    assert run_rule(_second_line(28), "drug_second_line", days=1)[0].height == 0


# --- too many drugs ----------------------------------------------------------------------


def test_too_many_drugs_spreads_the_share_beyond_the_limit() -> None:
    lines = [fee("MD1", i + 1, c, pric=10.0) for i, c in enumerate(DRUGS[:6])]
    f, _ = run_rule(scoring_db([visit("MD1")], lines), "drug_too_many")
    assert f.height == 1 and f["n_violating"][0] == 6
    assert abs(f["amount_at_risk"][0] - 10.0) < 1e-9  # 60 × (6 − 5) / 6
    assert "药品6种" in f["evidence"][0]


def test_too_many_drugs_threshold() -> None:
    five = scoring_db(
        [visit("MD1")], [fee("MD1", i + 1, c, pric=10.0) for i, c in enumerate(DRUGS[:5])]
    )
    assert run_rule(five, "drug_too_many")[0].height == 0
    f, _ = run_rule(five, "drug_too_many", max_drugs=4)
    assert f.height == 1 and abs(f["amount_at_risk"][0] - 10.0) < 1e-9  # 50 × 1 / 5
    ip = scoring_db(
        [visit("MD1", med_type="21")], [fee("MD1", i + 1, c) for i, c in enumerate(DRUGS)]
    )
    assert run_rule(ip, "drug_too_many")[0].height == 0


# --- same class --------------------------------------------------------------------------


def test_two_drugs_of_one_class_in_a_visit() -> None:
    con = scoring_db(
        [visit("MD1")],
        [
            fee("MD1", 1, AMLODIPINE, pric=22.5, fee_ocur_time=at(1, 9)),
            fee("MD1", 2, NIFEDIPINE, pric=24.0, fee_ocur_time=at(1, 10)),
        ],
    )
    f, lines = run_rule(con, "drug_same_class")
    assert f.height == 1 and f["amount_at_risk"][0] == 24.0
    v = lines.filter(lines["role"] == "violating")
    assert v["feedetl_sn"].to_list() == ["2"]
    one = scoring_db([visit("MD1")], [fee("MD1", 1, AMLODIPINE), fee("MD1", 2, DRUGS[1])])
    assert run_rule(one, "drug_same_class")[0].height == 0


# --- antibiotic tiers --------------------------------------------------------------------


def _abx(item: str, level: str, med_type: str) -> object:
    return scoring_db(
        [visit("MD1", med_type=med_type)],
        [fee("MD1", 1, item, pric=24.0)],
        institutions=[{"hosp_lv": level}],
    )


def test_restricted_antibiotic_by_level_and_setting() -> None:
    f, _ = run_rule(_abx(AZITHRO_IV, "9", "21"), "drug_antibiotic_tier")
    assert f.height == 1 and f["amount_at_risk"][0] == 24.0 and "限制使用级" in f["evidence"][0]
    assert run_rule(_abx(AZITHRO_IV, "1", "21"), "drug_antibiotic_tier")[0].height == 0
    assert run_rule(_abx(AZITHRO_IV, "1", "11"), "drug_antibiotic_tier")[0].height == 1
    assert run_rule(_abx(AZITHRO_IV, "2", "11"), "drug_antibiotic_tier")[0].height == 0
    lowered = run_rule(
        _abx(AZITHRO_IV, "1", "11"), "drug_antibiotic_tier", restricted_op_min_level=1
    )
    assert lowered[0].height == 0
    assert run_rule(_abx(CEFUROXIME_IV, "9", "11"), "drug_antibiotic_tier")[0].height == 0


def test_special_antibiotic_only_on_wards_of_level_two() -> None:
    assert run_rule(_abx(MEROPENEM, "2", "21"), "drug_antibiotic_tier")[0].height == 0
    assert run_rule(_abx(MEROPENEM, "1", "21"), "drug_antibiotic_tier")[0].height == 1
    assert run_rule(_abx(MEROPENEM, "3", "11"), "drug_antibiotic_tier")[0].height == 1
    assert (
        run_rule(_abx(MEROPENEM, "2", "21"), "drug_antibiotic_tier", special_min_level=3)[0].height
        == 1
    )


# --- perioperative prophylaxis -----------------------------------------------------------


def _periop(last_abx_day: int) -> object:
    stay = visit("MD1", med_type="21", begntime=at(1), endtime=at(8))
    lines = [fee("MD1", 1, TKA, pric=4000.0, fee_ocur_time=at(2, 10))]
    lines += [
        fee("MD1", 10 + d, CEFUROXIME_IV, cnt=2, pric=4.4, fee_ocur_time=at(d, 8))
        for d in range(2, last_abx_day + 1)
    ]
    return scoring_db([stay], lines)


def test_prophylaxis_beyond_the_window_after_a_clean_operation() -> None:
    f, lines = run_rule(_periop(5), "drug_periop_prophylaxis")
    assert f.height == 1 and f["n_violating"][0] == 2  # days 4 and 5
    assert abs(f["amount_at_risk"][0] - 17.6) < 1e-9
    assert lines.filter(lines["role"] == "involved")["feedetl_sn"].to_list() == ["1"]


def test_prophylaxis_threshold() -> None:
    assert run_rule(_periop(3), "drug_periop_prophylaxis")[0].height == 0
    assert run_rule(_periop(4), "drug_periop_prophylaxis")[0].height == 1
    assert run_rule(_periop(4), "drug_periop_prophylaxis", days=2)[0].height == 0
