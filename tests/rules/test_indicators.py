"""ZB statistical indicators: cost shares and the 31-day unplanned readmission rate, each
per institution and month against a robust tail of its peers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

FILLER = "001102000010000"  # 普通门诊诊察费: in no numerator
DRUG = "XC08CAA001A001010110037"  # 苯磺酸氨氯地平片
LAB = "002501010150000"  # 血细胞分析
CONSUMABLE = "C0201001176760001"  # 一次性使用静脉留置针
TREATMENT = "001204000010000"  # 肌肉注射 (charge class 05)
CT = "002103000010001"  # 头颅CT平扫
MRI = "002104000010001"  # 头颅磁共振平扫
CHEMO = "003114000400000"  # 静脉注射化疗

SHARE_RULES = [
    ("zb_drug_share", DRUG),
    ("zb_lab_exam_share", LAB),
    ("zb_consumable_share", CONSUMABLE),
    ("zb_treatment_share", TREATMENT),
    ("zb_ct_share", CT),
    ("zb_mri_share", MRI),
]
# small groups in tests: every institution-month counts, four peers suffice
SMALL = {"min_settlements": 1, "min_peers": 4}


def inst(code: str, kind: str = "B1", lv: str | None = "1") -> dict[str, Any]:
    return {
        "fixmedins_code": code,
        "fixmedins_name": f"测试{code[-2:]}",
        "medins_type": kind,
        "hosp_lv": lv,
    }


def code(i: int) -> str:
    return f"H130123000{i:02d}"


def share_db(
    shares: list[float],
    item: str,
    *,
    n_setl: list[int] | None = None,
    kinds: list[tuple[str, str]] | None = None,
    month: int = 3,
    med_type: str = "11",
) -> Any:
    """Institution i has n_setl[i] settlements in ``month``, each ¥100 in scope of which
    ``shares[i]`` on ``item`` and the rest on a filler service."""
    settlements, lines, insts = [], [], []
    for i, share in enumerate(shares, start=1):
        kind, lv = (kinds or [])[i - 1] if kinds else ("B1", "1")
        insts.append(inst(code(i), kind, lv))
        for j in range(1, (n_setl[i - 1] if n_setl else 1) + 1):
            md = f"MD{i:02d}{month:02d}{j:03d}"
            when = datetime(2025, month, j, 9)
            settlements.append(
                visit(md, fixmedins_code=code(i), med_type=med_type, begntime=when, endtime=when)
            )
            part = round(100 * share, 2)
            extra = {"fixmedins_code": code(i), "fee_ocur_time": when}
            if part:
                lines.append(fee(md, 1, item, cnt=1, pric=part, **extra))
            if 100 - part:
                lines.append(fee(md, 2, FILLER, cnt=1, pric=round(100 - part, 2), **extra))
    return scoring_db(settlements, lines, institutions=insts)


@pytest.mark.parametrize(("rule", "item"), SHARE_RULES)
def test_share_far_above_identical_peers_is_one_institution_month_hit(rule: str, item: str) -> None:
    con = share_db([0.5, 0.5, 0.5, 0.5, 0.9], item, n_setl=[1, 1, 1, 1, 2])
    f, lines = run_rule(con, rule, **SMALL)
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["entity_type"] == "institution" and row["entity_id"] == code(5)
    assert row["fixmedins_code"] == code(5)
    # (0.9 − peer median 0.5) × ¥200 in scope
    assert row["amount_at_risk"] == 80.0
    assert row["score"] == pytest.approx(0.9)
    assert row["n_violating"] == 1 and row["n_lines"] == 3
    v = lines.filter(lines["role"] == "violating")
    assert v["setl_id"].to_list() == [None] and v["amount_at_risk"].to_list() == [80.0]
    inv = lines.filter(lines["role"] == "involved")
    assert sorted(inv["setl_id"].to_list()) == ["ST05030010", "ST05030020"]
    assert inv["amount_at_risk"].to_list() == [0.0, 0.0]
    assert "2025-03 门诊" in row["evidence"] and "90.0%" in row["evidence"]
    assert "中位数 50.0%" in row["evidence"] and "一级乡镇卫生院，4家" in row["evidence"]
    assert "peer" in row["evidence_en"] and "median 50.0%" in row["evidence_en"]


@pytest.mark.parametrize(("rule", "item"), SHARE_RULES)
def test_share_like_the_peers_is_no_hit(rule: str, item: str) -> None:
    con = share_db([0.5, 0.5, 0.5, 0.5, 0.5], item)
    assert run_rule(con, rule, **SMALL)[0].height == 0


def test_hit_key_is_institution_and_month() -> None:
    con = share_db([0.5, 0.5, 0.5, 0.5, 0.9], DRUG)
    from hrss_fraud.engine.catalogue import load_catalogue
    from hrss_fraud.engine.execute import hit_lines

    cat = load_catalogue()
    rule = cat.rules["zb_drug_share"]
    raw = hit_lines(con, cat, rule, {**rule.defaults(), **SMALL})
    assert set(raw["hit_key"].to_list()) == {f"{code(5)}|2025-03"}


@pytest.mark.parametrize(("share", "hits"), [(0.59, 0), (0.61, 1)])
def test_absolute_floor_above_the_peer_median(share: float, hits: int) -> None:
    # identical peers: MAD 0, so the floor min_excess (0.10) decides: threshold 60 %
    con = share_db([0.5, 0.5, 0.5, 0.5, share], DRUG)
    assert run_rule(con, "zb_drug_share", **SMALL)[0].height == hits


@pytest.mark.parametrize(("share", "hits"), [(0.71, 0), (0.73, 1)])
def test_robust_tail_k_mad_above_the_peer_median(share: float, hits: int) -> None:
    # peers 40/50/50/60 %: median 50 %, MAD 5 points, 3 × 1.4826 × 5 = 22.2 points
    con = share_db([0.4, 0.5, 0.5, 0.6, share], DRUG)
    f = run_rule(con, "zb_drug_share", **SMALL)[0]
    assert f.height == hits
    if hits:
        assert "阈值 72.2%" in f["evidence"][0]


@pytest.mark.parametrize(("min_settlements", "hits"), [(2, 1), (3, 0)])
def test_minimum_settlements(min_settlements: int, hits: int) -> None:
    con = share_db([0.5, 0.5, 0.5, 0.5, 0.9], DRUG, n_setl=[3, 3, 3, 3, 2])
    params = {**SMALL, "min_settlements": min_settlements}
    assert run_rule(con, "zb_drug_share", **params)[0].height == hits


@pytest.mark.parametrize(("min_peers", "hits"), [(4, 1), (5, 0)])
def test_minimum_peers(min_peers: int, hits: int) -> None:
    con = share_db([0.5, 0.5, 0.5, 0.5, 0.9], DRUG)
    params = {**SMALL, "min_peers": min_peers}
    assert run_rule(con, "zb_drug_share", **params)[0].height == hits


def test_too_few_of_its_kind_pools_the_same_level_but_not_other_levels() -> None:
    kinds = [("C1", "9"), ("C1", "9"), ("C2", "9"), ("C2", "9"), ("C2", "9"), ("B1", "1")]
    con = share_db([0.5, 0.5, 0.5, 0.5, 0.9, 0.5], DRUG, kinds=kinds)
    f = run_rule(con, "zb_drug_share", **SMALL)[0]
    assert f["entity_id"].to_list() == [code(5)]
    assert "同级（未定级）各类机构，4家" in f["evidence"][0]
    assert "all unrated institutions" in f["evidence_en"][0]


def test_settings_merge_into_one_hit_and_months_stay_apart() -> None:
    settlements, lines = [], []
    for i, share in enumerate([0.5, 0.5, 0.5, 0.5, 0.9], start=1):
        for med_type, day in (("11", 1), ("21", 2)):
            md = f"MD{i:02d}{day:03d}"
            when = datetime(2025, 3, day, 9)
            settlements.append(
                visit(md, fixmedins_code=code(i), med_type=med_type, begntime=when, endtime=when)
            )
            extra = {"fixmedins_code": code(i), "fee_ocur_time": when}
            lines.append(fee(md, 1, CT, pric=100 * share, **extra))
            lines.append(fee(md, 2, FILLER, pric=round(100 - 100 * share, 2), **extra))
    con = scoring_db(settlements, lines, institutions=[inst(code(i)) for i in range(1, 6)])
    f, out = run_rule(con, "zb_ct_share", **SMALL)
    assert f.height == 1
    assert f["amount_at_risk"][0] == 80.0  # ¥40 outpatient + ¥40 inpatient
    assert "门诊" in f["evidence"][0] and "住院" in f["evidence"][0]
    assert out.filter(out["role"] == "involved").height == 2


def test_peers_of_another_month_are_no_peers() -> None:
    settlements, lines = [], []
    for i, share in enumerate([0.5, 0.5, 0.5, 0.5, 0.9], start=1):
        md, when = f"MD{i:02d}001", datetime(2025, 3 if i == 5 else 4, 1, 9)
        settlements.append(visit(md, fixmedins_code=code(i), begntime=when, endtime=when))
        extra = {"fixmedins_code": code(i), "fee_ocur_time": when}
        lines.append(fee(md, 1, CT, pric=100 * share, **extra))
        lines.append(fee(md, 2, FILLER, pric=round(100 - 100 * share, 2), **extra))
    con = scoring_db(settlements, lines, institutions=[inst(code(i)) for i in range(1, 6)])
    assert run_rule(con, "zb_ct_share", **SMALL)[0].height == 0


# --- 31-day unplanned readmission -------------------------------------------------------


def stay(
    md: str, inst_code: str, psn: str, adm: datetime, dis: datetime, **kw: Any
) -> dict[str, Any]:
    return visit(
        md,
        fixmedins_code=inst_code,
        psn_no=psn,
        med_type="21",
        begntime=adm,
        endtime=dis,
        setl_time=dis,
        inscp_amt=kw.pop("inscp_amt", 1000.0),
        **kw,
    )


def readmission_db(
    gap_days: int = 10,
    *,
    n_readmitted: int = 2,
    readmit_kw: dict[str, Any] | None = None,
    readmit_lines: bool = False,
    readmit_lv: str | None = None,
    index_kw: dict[str, Any] | None = None,
) -> Any:
    """Five township centres with four March discharges each; at the fifth, ``n_readmitted``
    patients come back (to the first centre, or to a sixth institution of level
    ``readmit_lv``) ``gap_days`` after discharge. ``index_kw`` and ``readmit_kw`` change
    the fifth centre's stays and the readmissions (by default both for J06.9)."""
    where = code(6) if readmit_lv else code(1)
    settlements, lines = [], []
    for i in range(1, 6):
        for j in range(1, 5):
            md = f"MD{i:02d}{j:03d}"
            dis = datetime(2025, 3, 10 + j, 10)
            kw = (index_kw or {}) if i == 5 else {}
            settlements.append(
                stay(md, code(i), f"P{i:02d}{j:02d}", datetime(2025, 3, 5 + j, 9), dis, **kw)
            )
    for j in range(1, n_readmitted + 1):
        md = f"MD99{j:03d}"
        adm = datetime(2025, 3, 10 + j, 10).replace(hour=11)
        adm = adm.fromordinal(adm.toordinal() + gap_days).replace(hour=11)
        out = adm.fromordinal(adm.toordinal() + 3).replace(hour=10)
        kw = {"inscp_amt": 3000.0 if j == 1 else 1000.0, **(readmit_kw or {})}
        settlements.append(stay(md, where, f"P05{j:02d}", adm, out, **kw))
        if readmit_lines:
            lines.append(
                fee(md, 1, CHEMO, fixmedins_code=where, psn_no=f"P05{j:02d}", fee_ocur_time=adm)
            )
    insts = [inst(code(i)) for i in range(1, 6)]
    if readmit_lv:
        insts.append(inst(code(6), "A1", readmit_lv))
    return scoring_db(settlements, lines, institutions=insts)


READMIT = {"min_discharges": 3, "min_peers": 4}


def test_high_readmission_rate_is_a_hit_valued_at_the_readmissions() -> None:
    con = readmission_db()
    f, lines = run_rule(con, "zb_readmission", **READMIT)
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["entity_id"] == code(5) and row["entity_type"] == "institution"
    # rate 2/4 against a peer median of 0: 2 excess readmissions × mean ¥2000
    assert row["score"] == 0.5
    assert row["amount_at_risk"] == 4000.0
    inv = lines.filter(lines["role"] == "involved")
    assert sorted(inv["mdtrt_id"].to_list()) == ["MD05001", "MD05002", "MD99001", "MD99002"]
    assert set(inv["amount_at_risk"].to_list()) == {0.0}
    assert "非计划再入院率 50.0%" in row["evidence"] and "中位数 0.0%" in row["evidence"]
    assert "rate 50.0%" in row["evidence_en"]


def test_no_readmission_is_no_hit() -> None:
    con = readmission_db(n_readmitted=0)
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == 0


@pytest.mark.parametrize(("gap", "hits"), [(31, 1), (32, 0)])
def test_readmission_window(gap: int, hits: int) -> None:
    con = readmission_db(gap)
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == hits


@pytest.mark.parametrize(("min_excess", "hits"), [(0.49, 1), (0.51, 0)])
def test_readmission_absolute_floor(min_excess: float, hits: int) -> None:
    con = readmission_db()
    params = {**READMIT, "min_excess": min_excess}
    assert run_rule(con, "zb_readmission", **params)[0].height == hits


@pytest.mark.parametrize(("min_discharges", "hits"), [(4, 1), (5, 0)])
def test_readmission_minimum_discharges(min_discharges: int, hits: int) -> None:
    con = readmission_db()
    params = {**READMIT, "min_discharges": min_discharges}
    assert run_rule(con, "zb_readmission", **params)[0].height == hits


@pytest.mark.parametrize(("min_peers", "hits"), [(4, 1), (5, 0)])
def test_readmission_minimum_peers(min_peers: int, hits: int) -> None:
    con = readmission_db()
    params = {**READMIT, "min_peers": min_peers}
    assert run_rule(con, "zb_readmission", **params)[0].height == hits


CHEMO_DX = {"dise_codg": "Z51.1", "dise_name": "肿瘤化学治疗疗程"}


def test_planned_chemotherapy_or_dialysis_stays_are_not_readmissions() -> None:
    con = readmission_db(readmit_kw=CHEMO_DX, readmit_lines=True)
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == 0
    con = readmission_db(readmit_kw={"dise_codg": "Z49.1", "dise_name": "体外透析"})
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == 0


def test_a_chemotherapy_code_or_service_alone_is_no_planned_cycle() -> None:
    """Z51.1 with nothing of chemotherapy on the bill, or a chemotherapy service billed to a
    patient with a cold, is no booked cycle: the readmission still counts."""
    con = readmission_db(readmit_kw=CHEMO_DX, index_kw=CHEMO_DX)
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == 1
    con = readmission_db(readmit_lines=True)
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == 1


@pytest.mark.parametrize(
    ("index_dx", "readmit_dx", "hits"),
    [
        ("I15.9", "J44.1", 0),  # COPD after a stay for hypertension: another condition
        ("J44.9", "J44.1", 1),  # the same ICD-10 category
        ("I10", "I11.9", 1),  # the same diagnosis group (HTN)
        ("I15.9", None, 1),  # a readmission without a diagnosis cannot show it differs
    ],
)
def test_a_readmission_is_for_the_same_or_a_related_condition(
    index_dx: str, readmit_dx: str | None, hits: int
) -> None:
    """The national indicator counts readmission for the same or a related condition
    (因相同或相关疾病), as 分解住院 does: the same ICD-10 category or diagnosis group."""
    con = readmission_db(index_kw={"dise_codg": index_dx}, readmit_kw={"dise_codg": readmit_dx})
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == hits


@pytest.mark.parametrize(("gap", "lv", "hits"), [(0, "2", 0), (0, "1", 1), (1, "2", 1)])
def test_a_same_day_transfer_up_is_no_readmission(gap: int, lv: str, hits: int) -> None:
    """Discharged and admitted on the same day at a hospital of a higher level is a referral
    (转诊); to the same level, or a day later, it is a readmission."""
    con = readmission_db(gap, readmit_lv=lv)
    assert run_rule(con, "zb_readmission", **READMIT)[0].height == hits
