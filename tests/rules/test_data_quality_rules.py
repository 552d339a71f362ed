"""Rules of analytics/rules/catalogue/data_quality.toml: settlement-list fields, fee lines,
diagnosis and procedure codes, late uploads, fees dated outside the stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from helpers.rule_frames import fee, run_rule, scoring_db, visit

CBC = "002501010150000"  # 血细胞分析(血常规)
OSELTAMIVIR = "XJ05AHA001A009010112701"
PACLITAXEL = "XL01CDA001B002010114292"  # 紫杉醇注射液, indications C;Z51
ADM = datetime(2025, 3, 1, 9)
DIS = datetime(2025, 3, 5, 10)


def _ok(mdtrt_id: str, **kw: object) -> dict[str, object]:
    """A settlement whose totals add up for one ¥10.00 line."""
    base = {"medfee_sumamt": 10.0, "inscp_amt": 10.0, "fund_pay_sumamt": 6.0, "psn_cash_pay": 4.0}
    return visit(mdtrt_id, **{**base, **kw})


def _ip(mdtrt_id: str, **kw: object) -> dict[str, object]:
    return visit(
        mdtrt_id,
        med_type="21",
        begntime=ADM,
        endtime=DIS,
        setl_time=DIS + timedelta(minutes=5),
        **kw,
    )


# -- 医保结算清单信息异常 ------------------------------------------------------------------


def test_clean_settlement_with_empty_ipt_days_is_no_hit() -> None:
    con = scoring_db([_ok("MD1", ipt_days=None)], [fee("MD1", 1, CBC, pric=10.0)])
    assert run_rule(con, "dq_settlement_list")[0].height == 0


def test_settlement_list_problems_are_listed_in_one_hit() -> None:
    con = scoring_db(
        [
            _ok(
                "MD1",
                dise_codg=None,
                dise_name=None,
                med_type="21",
                begntime=datetime(2025, 3, 2, 9),
                endtime=datetime(2025, 3, 1, 9),
                setl_time=datetime(2025, 3, 2, 10),
                adm_dept_codg=None,
            )
        ],
        [fee("MD1", 1, CBC, pric=10.0)],
    )
    f, lines = run_rule(con, "dq_settlement_list")
    assert f.height == 1 and f["amount_at_risk"][0] == 0.0
    ev = f["evidence"][0]
    assert "主诊断编码缺失" in ev and "晚于结束时间" in ev and "住院结算缺少入院科室" in ev
    assert "main diagnosis code missing" in f["evidence_en"][0]
    assert lines["feedetl_sn"].to_list() == [None]


def test_payments_not_adding_up_on_each_side_of_the_tolerance() -> None:
    con = scoring_db(
        [_ok("MD1", psn_cash_pay=4.9), _ok("MD2", psn_cash_pay=5.1)],
        [fee("MD1", 1, CBC, pric=10.0), fee("MD2", 1, CBC, pric=10.0)],
    )
    f, _ = run_rule(con, "dq_settlement_list")
    assert f["mdtrt_id"].to_list() == ["MD2"] and "≠医疗费总额¥10.00" in f["evidence"][0]
    assert run_rule(con, "dq_settlement_list", tolerance=2)[0].height == 0


def test_pharmacy_purchase_without_diagnosis_is_no_hit() -> None:
    """A retail pharmacy purchase records no diagnosis by nature (issue 16); an outpatient
    visit without one, and a pharmacy purchase with another problem, still are hits."""
    con = scoring_db(
        [
            _ok("MD1", med_type="41", dise_codg=None, dise_name=None, chfpdr_code=None),
            _ok("MD2", dise_codg=None, dise_name=None),
            _ok("MD3", med_type="41", dise_codg=None, dise_name=None, psn_cash_pay=9.0),
        ],
        [fee(m, 1, OSELTAMIVIR, pric=10.0) for m in ("MD1", "MD2", "MD3")],
    )
    f, _ = run_rule(con, "dq_settlement_list")
    assert f.sort("mdtrt_id")["mdtrt_id"].to_list() == ["MD2", "MD3"]
    md3 = f.filter(f["mdtrt_id"] == "MD3")["evidence"][0]
    assert "主诊断编码缺失" not in md3 and "≠医疗费总额" in md3


# -- 结算明细信息异常 ------------------------------------------------------------------------


def test_lines_not_adding_up_to_the_total_on_each_side_of_the_tolerance() -> None:
    con = scoring_db(
        [_ok("MD1"), _ok("MD2", medfee_sumamt=10.9), _ok("MD3", medfee_sumamt=11.5)],
        [
            fee("MD1", 1, CBC, pric=10.0),
            fee("MD2", 1, CBC, pric=10.0),
            fee("MD3", 1, CBC, pric=10.0),
        ],
    )
    f, lines = run_rule(con, "dq_fee_detail")
    assert f["mdtrt_id"].to_list() == ["MD3"] and f["amount_at_risk"].to_list() == [0.0]
    assert "明细合计¥10.00（1条）与结算医疗费总额¥11.50相差¥1.50" in f["evidence"][0]
    assert lines["feedetl_sn"].to_list() == [None]
    assert run_rule(con, "dq_fee_detail", tolerance=2)[0].height == 0


def test_in_scope_above_the_line_amount_is_at_risk() -> None:
    con = scoring_db(
        [_ok("MD1", medfee_sumamt=30.0)],
        [
            fee("MD1", 1, CBC, pric=10.0, inscp_amt=12.5),
            fee("MD1", 2, CBC, cnt=2, pric=10.0),
        ],
    )
    f, lines = run_rule(con, "dq_fee_detail")
    assert f.height == 1 and f["amount_at_risk"][0] == 2.5
    assert lines["feedetl_sn"].to_list() == ["1"]
    assert "医保范围内金额¥12.50大于明细金额¥10.00" in f["evidence"][0]


def test_quantity_times_price_not_the_amount() -> None:
    con = scoring_db(
        [_ok("MD1", medfee_sumamt=25.0)],
        [fee("MD1", 1, CBC, cnt=2, pric=10.0, det_item_fee_sumamt=25.0, inscp_amt=25.0)],
    )
    f, _ = run_rule(con, "dq_fee_detail")
    assert f.height == 1 and "≠明细金额¥25.00" in f["evidence"][0]


# -- 疾病诊断编码异常 ------------------------------------------------------------------------


def test_unknown_diagnosis_code_is_a_hit_and_known_or_missing_is_not() -> None:
    con = scoring_db(
        [
            visit("MD1", dise_codg="JO6.9", dise_name="某病"),
            visit("MD2", dise_codg="J06.9"),
            visit("MD3", dise_codg=None, dise_name=None),
        ],
        [],
    )
    f, _ = run_rule(con, "dq_diagnosis_code")
    assert f["mdtrt_id"].to_list() == ["MD1"]
    assert "「JO6.9」(某病)不在疾病诊断知识库中" in f["evidence"][0]
    assert "不符合ICD-10编码格式" in f["evidence"][0]


def test_session_diagnosis_without_an_indicated_item_only_when_switched_on() -> None:
    chemo = {"med_type": "21", "dise_codg": "Z51.1", "dise_name": "为肿瘤化学治疗疗程"}
    con = scoring_db(
        [visit("MD1", **chemo), visit("MD2", **chemo)],
        [fee("MD1", 1, CBC), fee("MD2", 1, CBC), fee("MD2", 2, PACLITAXEL)],
    )
    assert run_rule(con, "dq_diagnosis_code")[0].height == 0
    f, _ = run_rule(con, "dq_diagnosis_code", session_check=1)
    assert f["mdtrt_id"].to_list() == ["MD1"] and "治疗疗程诊断" in f["evidence"][0]


# -- 手术操作编码 ----------------------------------------------------------------------------


def test_procedure_code_not_in_the_table() -> None:
    con = scoring_db(
        [
            _ip("MD1", dise_codg="K35.8", oprn_oprt_code="47.99"),
            _ip("MD2", dise_codg="K35.8", oprn_oprt_code="47.09"),
        ],
        [],
    )
    f, _ = run_rule(con, "dq_procedure_code")
    assert f["mdtrt_id"].to_list() == ["MD1"] and "「47.99」" in f["evidence"][0]


def test_procedure_for_the_other_sex() -> None:
    v = [_ip("MD1", dise_codg="O82.9", oprn_oprt_code="74.1")]
    con = scoring_db(v, [], persons=[{"gend": "1"}])
    f, _ = run_rule(con, "dq_procedure_sex")
    assert f.height == 1 and "限女性，患者性别为男" in f["evidence"][0]
    con = scoring_db(v, [], persons=[{"gend": "2"}])
    assert run_rule(con, "dq_procedure_sex")[0].height == 0


def test_procedure_inconsistent_with_the_main_diagnosis() -> None:
    con = scoring_db(
        [
            _ip("MD1", dise_codg="J18.9", oprn_oprt_code="47.09"),
            _ip("MD2", dise_codg="K35.8", oprn_oprt_code="47.09"),
            _ip("MD3", dise_codg=None, dise_name=None, oprn_oprt_code="47.09"),
        ],
        [],
    )
    f, _ = run_rule(con, "dq_procedure_diagnosis")
    assert f["mdtrt_id"].to_list() == ["MD1"]
    assert "K35、K36、K37、K38" in f["evidence"][0] and "本次主诊断为 J18.9" in f["evidence"][0]


# -- 就诊数据非实时上传 ----------------------------------------------------------------------


def test_fee_line_uploaded_late_on_each_side_of_the_days() -> None:
    t = datetime(2025, 3, 1, 9, 30)
    con = scoring_db(
        [visit("MD1"), visit("MD2")],
        [
            fee("MD1", 1, CBC, fee_ocur_time=t, crte_time=t + timedelta(days=8)),
            fee("MD2", 1, CBC, fee_ocur_time=t, crte_time=t + timedelta(hours=5)),
        ],
    )
    f, lines = run_rule(con, "dq_late_upload")
    assert f["mdtrt_id"].to_list() == ["MD1"] and f["amount_at_risk"].to_list() == [0.0]
    assert "1/1条费用明细在发生后超过7天才上传，最迟8.0天" in f["evidence"][0]
    assert lines["feedetl_sn"].to_list() == [None]
    assert run_rule(con, "dq_late_upload", days=9)[0].height == 0


def test_settlement_uploaded_late_after_the_stay_but_not_a_mid_stay_settlement() -> None:
    end = datetime(2025, 3, 20, 10)
    mid = {"mdtrt_id": "MD1", "med_type": "21", "begntime": ADM}
    con = scoring_db(
        [
            {
                **mid,
                "setl_id": "ST11",
                "endtime": datetime(2025, 3, 16, 10),
                "setl_time": datetime(2025, 3, 16, 10),
                "crte_time": end + timedelta(hours=2),
            },
            {
                **mid,
                "setl_id": "ST12",
                "endtime": end,
                "setl_time": end,
                "crte_time": end + timedelta(hours=2),
            },
            _ip("MD2", crte_time=DIS + timedelta(days=10)),
        ],
        [],
    )
    f, _ = run_rule(con, "dq_late_upload")
    assert f["mdtrt_id"].to_list() == ["MD2"] and "迟10.0天" in f["evidence"][0]


# -- 计费日期与住院时间不符 ------------------------------------------------------------------


def test_fee_after_discharge_day_is_a_hit_and_on_discharge_day_is_not() -> None:
    con = scoring_db(
        [_ip("MD1")],
        [
            fee("MD1", 1, CBC, pric=20.0, fee_ocur_time=datetime(2025, 3, 5, 15)),
            fee("MD1", 2, CBC, pric=20.0, fee_ocur_time=datetime(2025, 3, 6, 8)),
            fee("MD1", 3, OSELTAMIVIR, pric=38.0, fee_ocur_time=datetime(2025, 2, 28, 8)),
        ],
    )
    f, lines = run_rule(con, "dq_fee_outside_stay")
    assert f.height == 1 and f["amount_at_risk"][0] == 58.0
    assert sorted(lines["feedetl_sn"].to_list()) == ["2", "3"]
    assert "住院2025-03-01至2025-03-05" in f["evidence"][0] and "2条" in f["evidence"][0]
    assert run_rule(con, "dq_fee_outside_stay", grace_days=1)[0].height == 0


def test_outpatient_and_mid_stay_settlements_are_not_cut_short() -> None:
    mid = {"mdtrt_id": "MD1", "med_type": "21", "begntime": ADM}
    con = scoring_db(
        [
            {**mid, "setl_id": "ST11", "endtime": datetime(2025, 3, 3, 10)},
            {**mid, "setl_id": "ST12", "endtime": DIS},
            visit("MD2"),
        ],
        [
            fee("MD1", 1, CBC, setl_id="ST11", fee_ocur_time=datetime(2025, 3, 4, 8)),
            fee("MD2", 1, CBC, fee_ocur_time=datetime(2025, 3, 9, 8)),
        ],
    )
    assert run_rule(con, "dq_fee_outside_stay")[0].height == 0
