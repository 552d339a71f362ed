"""Rules of analytics/rules/catalogue/diagnosis.toml: items against the main diagnosis
(indications, contraindications, disease catalogue) and diagnoses against the patient."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import polars as pl
from helpers.rule_frames import fee, run_rule, scoring_db, visit

from hrss_fraud.knowledge import load_knowledge

OSELTAMIVIR = "XJ05AHA001A009010112701"  # 奥司他韦, indications J09;J10;J11, ¥38.00
IBUPROFEN = "XM01AEA001A009010113885"  # 布洛芬缓释胶囊, contraindications …;N18.5
LINAGLIPTIN = "XA10BHA002A001010110851"  # 利格列汀, only in 门诊慢特病
HBA1C = "002503020030000"  # 糖化血红蛋白测定 (lab), indications E10;E11;E13;E14;O24;R73
LITHOTRIPSY = "003110000140000"  # 体外冲击波碎石 (treatment), indications N20;N21
DIALYSIS = "003110000080000"  # 血液透析 (dialysis), indications N18;N17;Z49;Z99.2

SERVICE_RULES = (
    "dx_service_indication",
    "dx_exam_without_indication",
    "dx_treatment_without_indication",
)


def test_drug_outside_its_indications_is_one_hit_per_item_with_all_its_lines() -> None:
    con = scoring_db(
        [visit("MD1", dise_codg="J06.9")],
        [
            fee("MD1", 1, OSELTAMIVIR, cnt=1, pric=38.0),
            fee("MD1", 2, OSELTAMIVIR, cnt=2, pric=38.0),
            fee("MD1", 3, IBUPROFEN, pric=20.0),
        ],
    )
    f, lines = run_rule(con, "dx_drug_indication")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 114.0 and row["n_violating"] == 2
    assert "奥司他韦" in row["evidence"] and "J09、J10、J11" in row["evidence"]
    assert "J06.9 急性上呼吸道感染" in row["evidence"] and "¥114.00" in row["evidence"]
    assert "J09, J10, J11" in row["evidence_en"]
    assert sorted(lines["feedetl_sn"].to_list()) == ["1", "2"]


def test_drug_within_its_indications_is_no_hit() -> None:
    con = scoring_db([visit("MD1", dise_codg="J11.1")], [fee("MD1", 1, OSELTAMIVIR)])
    assert run_rule(con, "dx_drug_indication")[0].height == 0


def test_prefix_boundary_j10_matches_but_j12_does_not() -> None:
    con = scoring_db(
        [visit("MD1", dise_codg="J10.0"), visit("MD2", dise_codg="J12.9")],
        [fee("MD1", 1, OSELTAMIVIR, pric=38.0), fee("MD2", 1, OSELTAMIVIR, pric=38.0)],
    )
    f, _ = run_rule(con, "dx_drug_indication")
    assert f["mdtrt_id"].to_list() == ["MD2"]


def test_no_main_diagnosis_gives_no_indication_hit_but_a_settlement_list_hit() -> None:
    con = scoring_db(
        [visit("MD1", dise_codg=None, dise_name=None)],
        [fee("MD1", 1, OSELTAMIVIR), fee("MD1", 2, HBA1C), fee("MD1", 3, LINAGLIPTIN)],
    )
    for rule in ("dx_drug_indication", *SERVICE_RULES, "dx_drug_disease_catalogue"):
        assert run_rule(con, rule)[0].height == 0, rule
    f, _ = run_rule(con, "dq_settlement_list")
    assert f.height == 1 and "主诊断编码缺失" in f["evidence"][0]


def test_service_rules_split_by_item_group_and_never_share_a_line() -> None:
    con = scoring_db(
        [visit("MD1", dise_codg="J06.9")],
        [
            fee("MD1", 1, HBA1C, pric=50.0),
            fee("MD1", 2, LITHOTRIPSY, pric=900.0),
            fee("MD1", 3, DIALYSIS, pric=400.0),
        ],
    )
    got = {}
    for rule in SERVICE_RULES:
        f, lines = run_rule(con, rule)
        got[rule] = (lines["feedetl_sn"].to_list(), f["amount_at_risk"].to_list())
    assert got == {
        "dx_service_indication": (["3"], [400.0]),
        "dx_exam_without_indication": (["1"], [50.0]),
        "dx_treatment_without_indication": (["2"], [900.0]),
    }


def test_services_within_indications_are_no_hits() -> None:
    con = scoring_db(
        [
            visit("MD1", dise_codg="E11.9"),
            visit("MD2", dise_codg="N20.0"),
            visit("MD3", dise_codg="Z49.1"),
        ],
        [fee("MD1", 1, HBA1C), fee("MD2", 1, LITHOTRIPSY), fee("MD3", 1, DIALYSIS)],
    )
    for rule in SERVICE_RULES:
        assert run_rule(con, rule)[0].height == 0, rule


def test_drug_against_a_contraindication_is_a_hit() -> None:
    con = scoring_db(
        [visit("MD1", dise_codg="N18.5", dise_name="慢性肾脏病5期")],
        [fee("MD1", 1, IBUPROFEN, cnt=2, pric=15.5)],
    )
    f, _ = run_rule(con, "dx_drug_contraindication")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["amount_at_risk"] == 31.0
    assert "禁用于" in row["evidence"] and "属禁忌 N18.5" in row["evidence"]


def test_drug_without_contraindicated_diagnosis_is_no_hit() -> None:
    con = scoring_db([visit("MD1", dise_codg="N18.3")], [fee("MD1", 1, IBUPROFEN)])
    assert run_rule(con, "dx_drug_contraindication")[0].height == 0


def test_service_contraindication_uses_the_service_kinds_only() -> None:
    kb = load_knowledge()
    cat = kb.catalogue.with_columns(
        contraindications=pl.when(pl.col("med_list_codg") == LITHOTRIPSY)
        .then(pl.lit("O"))
        .otherwise(pl.col("contraindications"))
    )
    kb = replace(kb, catalogue=cat)
    con = scoring_db(
        [visit("MD1", dise_codg="O80.0"), visit("MD2", dise_codg="N20.0")],
        [
            fee("MD1", 1, LITHOTRIPSY, pric=900.0, kb=kb),
            fee("MD2", 1, LITHOTRIPSY, pric=900.0, kb=kb),
            fee("MD2", 2, IBUPROFEN, kb=kb),
        ],
        persons=[{"gend": "2"}],
        kb=kb,
    )
    f, _ = run_rule(con, "dx_service_contraindication")
    assert f["mdtrt_id"].to_list() == ["MD1"] and f["amount_at_risk"].to_list() == [900.0]


def test_drug_outside_its_disease_catalogue_is_a_hit() -> None:
    con = scoring_db(
        [visit("MD1", dise_codg="J06.9"), visit("MD2", dise_codg="E11.9")],
        [fee("MD1", 1, LINAGLIPTIN, pric=40.0), fee("MD2", 1, LINAGLIPTIN, pric=40.0)],
    )
    f, _ = run_rule(con, "dx_drug_disease_catalogue")
    assert f["mdtrt_id"].to_list() == ["MD1"] and f["amount_at_risk"].to_list() == [40.0]
    assert "限门诊慢特病病种使用" in f["evidence"][0] and "不属任何病种目录" in f["evidence"][0]


def test_diagnosis_for_the_other_sex_is_a_settlement_hit_with_its_amount() -> None:
    con = scoring_db(
        [visit("MD1", dise_codg="O80.0", inscp_amt=1234.5), visit("MD2", dise_codg="J06.9")],
        [],
        persons=[{"gend": "1"}],
    )
    f, lines = run_rule(con, "dx_diagnosis_sex")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["mdtrt_id"] == "MD1" and row["amount_at_risk"] == 1234.5
    assert "限女性" in row["evidence"] and "患者性别为男" in row["evidence"]
    assert lines["feedetl_sn"].to_list() == [None]


def test_diagnosis_for_the_right_or_unknown_sex_is_no_hit() -> None:
    for gend in ("2", "9"):
        con = scoring_db([visit("MD1", dise_codg="O80.0")], [], persons=[{"gend": gend}])
        assert run_rule(con, "dx_diagnosis_sex")[0].height == 0


def _newborn(age_days: int) -> dict[str, object]:
    born = date.fromordinal(date(2025, 3, 1).toordinal() - age_days)
    return {"brdy": born}


def test_neonatal_diagnosis_age_band_and_its_grace() -> None:
    v = [visit("MD1", dise_codg="P59.9", begntime=datetime(2025, 3, 1, 9), inscp_amt=300.0)]
    con = scoring_db(v, [], persons=[_newborn(29)])
    f, _ = run_rule(con, "dx_diagnosis_age")
    assert f.height == 1 and f["amount_at_risk"][0] == 300.0
    assert "≤28天" in f["evidence"][0] and "（29天）" in f["evidence"][0]
    assert run_rule(con, "dx_diagnosis_age", grace_days=1)[0].height == 0
    con = scoring_db(v, [], persons=[_newborn(28)])
    assert run_rule(con, "dx_diagnosis_age")[0].height == 0


def test_minimum_age_diagnosis_below_its_band_is_a_hit() -> None:
    con = scoring_db([visit("MD1", dise_codg="R54")], [], persons=[{"brdy": date(1990, 1, 1)}])
    f, _ = run_rule(con, "dx_diagnosis_age")
    assert f.height == 1 and "≥" in f["evidence"][0]
    con = scoring_db([visit("MD1", dise_codg="R54")], [], persons=[{"brdy": date(1940, 1, 1)}])
    assert run_rule(con, "dx_diagnosis_age")[0].height == 0
