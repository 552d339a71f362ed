"""The check service's messages: the platform's 3101/3102/3103 and the plain form read with
every province's field-name variant, malformed ones refused field by field, and a
checker's hit answered with only what the caller sent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from hrss_fraud.precheck.mapping import (
    VisitCall,
    analysis_visits,
    plain_hit,
    plain_visits,
    result_item,
)
from hrss_fraud.precheck.messages import (
    AnalysisInput,
    Envelope,
    FeedbackInput,
    MessageError,
    PlainCheck,
    PlainFeedback,
    parse_time,
    read,
)
from hrss_fraud.precheck.visit import CheckHit

ORDER = {
    "rx_id": "7",
    "hilist_code": "XA02BCA001",
    "hilist_name": "奥美拉唑肠溶胶囊",
    "hilist_type": "101",
    "chrg_type": "09",
    "cnt": "2",
    "pric": "6.39",
    "sumamt": "12.78",
    "drord_begn_date": "2026-03-01 09:15:00",
    "drord_dept_codg": "A03",
    "drord_dr_codg": "D001",
}
ENCOUNTER = {
    "mdtrt_id": "MD1",
    "medins_id": "H001",
    "adm_date": "2026-03-01 09:00:00",
    "med_type": "11",
    "fsi_diagnose_dtos": [
        {"dise_codg": "K29.7", "maindise_flag": "0", "dias_srt_no": 2},
        {"dise_codg": "K21.0", "maindise_flag": "1", "dias_srt_no": 1},
    ],
    "fsi_order_dtos": [ORDER],
}
DATA = {
    "trig_scen": "5",
    "patient_dtos": [
        {"patn_id": "P1", "gend": "1", "brdy": "1970-05-06", "fsi_encounter_dtos": [ENCOUNTER]}
    ],
}


def problems(model: type, data: object, prefix: tuple = ()) -> dict[str, str]:
    with pytest.raises(MessageError) as caught:
        read(model, data, prefix)
    return {p.path: f"{p.reason_zh} | {p.reason_en}" for p in caught.value.problems}


def test_platform_message_maps_orders_to_upload_fields() -> None:
    [call] = analysis_visits(read(AnalysisInput, DATA), "H001")
    visit = call.visit
    assert visit is not None
    assert (visit.fixmedins_code, visit.psn_no, visit.mdtrt_id) == ("H001", "P1", "MD1")
    assert visit.dise_codg == "K21.0"  # the diagnosis flagged main, none named at discharge
    assert visit.diagnoses == ("K21.0", "K29.7")  # by dias_srt_no
    assert visit.brdy == date(1970, 5, 6)
    line = visit.lines.row(0, named=True)
    assert line["feedetl_sn"] == "7"
    assert line["med_list_codg"] == "XA02BCA001"
    assert line["medins_list_name"] == "奥美拉唑肠溶胶囊"
    assert (line["list_type"], line["med_chrgitm_type"]) == ("101", "09")
    assert line["det_item_fee_sumamt"] == Decimal("12.78")
    assert line["fee_ocur_time"] == datetime(2026, 3, 1, 9, 15)
    assert (line["bilg_dept_codg"], line["bilg_dr_codg"]) == ("A03", "D001")


def test_province_variants_read_as_the_platform_names() -> None:
    """Hainan's names without fsi_, camelCase (Java beans), single objects for lists,
    "" for what is not sent, numbers for ids, epoch milliseconds and compact dates."""
    variant = {
        "trigScen": 5,
        "ruleIds": "",
        "patientDtos": {
            "patnId": "P1",
            "gend": "1",
            "brdy": "19700506",
            "poolarea_no": "130123",
            "encounterDtos": {
                "mdtrtId": "MD1",
                "fixmedins_code": "H001",
                "admDate": 1772326800000,  # 2026-03-01 01:00 UTC, 09:00 in China
                "medType": "11",
                "dscgMainDiseCodg": "K21.0",
                "fsi_operation_dtos": "",
                "diagnoseDtos": [{"dise_codg": "K21.0"}, {"dise_codg": "K29.7"}],
                "orderDtos": {
                    **{k: v for k, v in ORDER.items() if k not in ("rx_id", "sumamt")},
                    "rxId": 7,
                    "det_item_fee_sumamt": 12.78,
                },
            },
        },
    }
    [call] = analysis_visits(read(AnalysisInput, variant), "H001")
    [plain] = analysis_visits(read(AnalysisInput, DATA), "H001")
    assert call.visit is not None and plain.visit is not None
    assert call.visit.lines.equals(plain.visit.lines)
    assert call.visit.dise_codg == "K21.0"
    assert call.patn_id == "P1" and call.fixmedins_code == "H001"


def test_times_in_every_format_systems_send() -> None:
    want = datetime(2026, 3, 1, 9, 15)
    for sent in (
        "2026-03-01 09:15:00",
        "2026-03-01T09:15:00",
        "20260301091500",
        "2026/03/01 09:15:00",
        "2026-03-01T01:15:00Z",
        "2026-03-01T09:15:00+08:00",
        1772327700000,  # epoch milliseconds: 01:15 UTC
    ):
        assert parse_time(sent) == want, sent
    assert parse_time("2026-03-01") == datetime(2026, 3, 1)


def test_missing_and_mistyped_fields_are_named_by_path() -> None:
    bad_order = {**ORDER, "cnt": "two"}
    del bad_order["hilist_code"]
    data = {
        "patient_dtos": [
            {
                "patn_id": "P1",
                "fsi_encounter_dtos": [
                    {**ENCOUNTER, "adm_date": "soon", "fsi_order_dtos": [bad_order]}
                ],
            }
        ]
    }
    found = problems(AnalysisInput, data, ("input", "data"))
    at = "input.data.patient_dtos[0].fsi_encounter_dtos[0]"
    assert found == {
        "input.data.trig_scen": "缺少必填字段 | required field missing",
        f"{at}.adm_date": "时间格式无法识别 | unreadable time (e.g. 2026-03-01 08:30:00)",
        f"{at}.fsi_order_dtos[0].hilist_code": "缺少必填字段 | required field missing",
        f"{at}.fsi_order_dtos[0].cnt": "应为数字 | should be a number",
    }


def test_wrong_types_and_empty_lists() -> None:
    assert problems(Envelope, {"infno": "3101", "fixmedins_code": "H001", "input": []}) == {
        "input": "应为对象 | should be an object"
    }
    assert problems(AnalysisInput, {"trig_scen": "1", "patient_dtos": []}) == {
        "patient_dtos": "不能为空 | must not be empty"
    }
    assert problems(AnalysisInput, "text", ("input", "data")) == {
        "input.data": "应为对象 | should be an object"
    }


def test_feedback_needs_a_reason_to_continue() -> None:
    ok = read(FeedbackInput, {"warn_type": "1", "warns": {"jr_id": "a", "dspo_way": "2"}})
    assert ok.warns[0].warn_rslt_id == "a"
    found = problems(
        FeedbackInput,
        {"warns": [{"warn_rslt_id": "a", "dspo_way": "1"}, {"warn_rslt_id": "b", "dspo_way": 3}]},
    )
    assert found["warns[0]"].startswith("继续执行须说明原因")
    assert found["warns[1].dspo_way"].startswith("取值不在允许范围内")
    plain = problems(PlainFeedback, {"fixmedins_code": "H001", "warns": [
        {"warn_rslt_id": "a", "dspo_way": "continued"},
        {"warn_rslt_id": "b", "dspo_way": "continued", "reason": "病情需要"},
    ]})  # fmt: skip
    assert list(plain) == ["warns[0]"] and plain["warns[0]"].startswith("继续执行须说明原因")


def test_plain_form_in_upload_names() -> None:
    data = read(
        PlainCheck,
        {
            "fixmedins_code": "H001",
            "scene": "settlement",
            "visit": {
                "psn_no": "P1",
                "mdtrt_id": "MD1",
                "med_type": "11",
                "begntime": "2026-03-01 09:00:00",
                "diagnoses": "K21.0,K29.7",
                "lines": [
                    {
                        "feedetl_sn": "7",
                        "med_list_codg": "XA02BCA001",
                        "cnt": 2,
                        "pric": 6.39,
                        "fee_ocur_time": "2026-03-01 09:15:00",
                    }
                ],
            },
        },
    )
    [call] = plain_visits(data)
    assert call.visit is not None
    assert call.visit.diagnoses == ("K21.0", "K29.7")
    assert call.visit.lines["det_item_fee_sumamt"].to_list() == [Decimal("12.78")]  # cnt × pric


def _hit(violating: tuple[str, ...], involved: tuple[str, ...], amount: float) -> CheckHit:
    return CheckHit(
        rule_id="r1",
        rule_name="规则",
        rule_name_en="rule",
        framework="",
        severity="high",
        severity_zh="高度可疑",
        behaviour="超标准收费",
        content="…",
        amount=amount,
        violating=violating,
        involved=involved,
    )


def test_answer_lists_only_the_callers_lines() -> None:
    call = VisitCall(
        None, "H001", "P1", "MD1", {"1": Decimal("10.00"), "2": Decimal("20.00"), "3": Decimal(5)}
    )
    hit = _hit(
        ("1", "2"),
        ("H001|MD1|3", "H001|MD0|9", "H002|MD7|3", "H001|MD0"),  # history: another visit
        10.0,
    )
    item = result_item(hit, call, "w1", "t1")
    details = [
        (d["rx_id"], d["vola_item_type"], d["vola_amt"]) for d in item["judge_result_detail_dtos"]
    ]
    assert details == [("1", "1", 3.33), ("2", "1", 6.67), ("3", "2", 0.0)]
    assert item["sev_deg"] == "2" and item["vola_amt"] == 10.0
    assert (item["patn_id"], item["mdtrt_id"], item["jr_id"]) == ("P1", "MD1", "w1")


def test_content_resting_on_other_visits_is_not_passed_on() -> None:
    """A during-stay hit's content names the other hospital and the stay's dates."""
    call = VisitCall(None, "H001", "P1", "MD1", {"1": Decimal("10.00")})
    stay = CheckHit(**{**_hit(("1",), ("H002|MD7",), 10.0).__dict__, "content": "正在H002住院"})
    own = CheckHit(**{**stay.__dict__, "involved": ("H001|MD1|1", "1")})
    assert result_item(stay, call, "w", "t")["vola_cont"].startswith(
        "规则：本次就诊与该参保人其他就诊"
    )
    assert "H002" not in plain_hit(stay, call, "w")["content"]
    assert result_item(stay, call, "w", "t", history=True)["vola_cont"] == "正在H002住院"
    assert result_item(own, call, "w", "t")["vola_cont"] == "正在H002住院"


def test_a_visit_without_lines_is_not_checked() -> None:
    """3101 at registration (trig_scen 1) comes before any order."""
    data = {**DATA, "patient_dtos": [{**DATA["patient_dtos"][0]}]}
    data["patient_dtos"][0]["fsi_encounter_dtos"] = [{**ENCOUNTER, "fsi_order_dtos": []}]
    [call] = analysis_visits(read(AnalysisInput, data), "H001")
    assert call.visit is None and call.n_lines == 0


def test_only_the_current_visit_is_checked_when_named() -> None:
    earlier = {**ENCOUNTER, "mdtrt_id": "MD0"}
    patient = {**DATA["patient_dtos"][0], "curr_mdtrt_id": "MD1"}
    patient["fsi_encounter_dtos"] = [earlier, ENCOUNTER]
    calls = analysis_visits(read(AnalysisInput, {**DATA, "patient_dtos": [patient]}), "H001")
    assert [c.mdtrt_id for c in calls] == ["MD1"]
    del patient["curr_mdtrt_id"]
    calls = analysis_visits(read(AnalysisInput, {**DATA, "patient_dtos": [patient]}), "H001")
    assert [c.mdtrt_id for c in calls] == ["MD0", "MD1"]


def test_a_bad_visit_is_a_message_error_at_its_path() -> None:
    """The checker's own checks (a non-positive quantity) come back at the visit's path."""
    data = {**DATA, "patient_dtos": [{**DATA["patient_dtos"][0]}]}
    data["patient_dtos"][0]["fsi_encounter_dtos"] = [
        {**ENCOUNTER, "fsi_order_dtos": [{**ORDER, "cnt": "0"}]}
    ]
    with pytest.raises(MessageError) as caught:
        analysis_visits(read(AnalysisInput, data), "H001")
    [p] = caught.value.problems
    assert p.path == "input.data.patient_dtos[0].fsi_encounter_dtos[0]"
    assert p.reason_zh == "就诊信息无效" and "cnt must be above 0" in p.reason_en
