"""Validation rules on tiny hand-made rows: each check's positive and negative case."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.ingest.errors import UploadError
from hrss_fraud.ingest.layouts import detect, load_layouts
from hrss_fraud.ingest.validate import validate

NOW = datetime(2025, 6, 1)
LAYOUTS = load_layouts()

FEE = {
    "feedetl_sn": "1",
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "fee_ocur_time": "2025-05-01 08:00:00",
    "med_list_codg": "X1",
    "cnt": "2",
    "pric": "3.50",
    "det_item_fee_sumamt": "7.00",
    "inscp_amt": "7.00",
    "chrgitm_lv": "01",
    "vali_flag": "1",
    "init_feedetl_sn": "",
}


def check(
    rows: list[dict[str, str]], layout: str | None = None, *, strict: bool = False
) -> tuple[pl.DataFrame, ...]:
    raw = pl.DataFrame(rows).with_row_index("_line", offset=2)
    header = [c for c in raw.columns if c != "_line"]
    det = detect(Path("t.csv"), header, LAYOUTS, layout=layout, strict=strict)
    out = validate(raw, det, "t.csv", now=NOW)
    return out.accepted, out.quarantined


def test_clean_line_is_accepted_with_types() -> None:
    ok, bad = check([FEE])
    assert bad.height == 0 and ok.height == 1
    assert ok["det_item_fee_sumamt"].dtype == pl.Decimal(16, 2)
    assert ok["fee_ocur_time"][0] == datetime(2025, 5, 1, 8)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"det_item_fee_sumamt": "7.02"}, "amount_mismatch"),
        ({"fee_ocur_time": "2025-07-01 08:00:00"}, "future_date"),
        ({"psn_no": ""}, "missing_required"),
        ({"cnt": "two"}, "bad_value"),
        ({"vali_flag": "7"}, "bad_code"),  # strict: whether the row counts at all
        ({"det_item_fee_sumamt": "-7.00", "cnt": "-2"}, "refund_without_original"),
        ({"psn_no": "1.30123E+17"}, "bad_id"),
        ({"fee_ocur_time": "2025-13-45"}, "bad_value"),
    ],
)
def test_each_check_quarantines_with_its_reason(change: dict[str, str], reason: str) -> None:
    ok, bad = check([{**FEE, **change}])
    assert ok.height == 0 and bad.height == 1
    assert bad["reason"][0] == reason
    assert bad["_line"][0] == 2 and bad["_source_file"][0] == "t.csv"
    assert '"feedetl_sn":"1"' in bad["raw"][0]


def test_amount_tolerance_boundary() -> None:
    inside = {**FEE, "det_item_fee_sumamt": "7.01"}  # one fen off: within tolerance
    outside = {**FEE, "det_item_fee_sumamt": "7.03"}
    assert check([inside])[1].height == 0
    assert check([outside])[1].height == 1


def test_codes_are_mapped_and_excel_tails_repaired() -> None:
    ok, bad = check([{**FEE, "chrgitm_lv": "乙", "psn_no": "130123000000000276.0"}])
    assert bad.height == 0
    assert ok["chrgitm_lv"][0] == "02" and ok["psn_no"][0] == "130123000000000276"


def test_chinese_headers_and_slash_dates() -> None:
    from hrss_fraud.model.schema import FEE_DETAIL

    row = {FEE_DETAIL[k].zh: v for k, v in FEE.items()}
    row[FEE_DETAIL["fee_ocur_time"].zh] = "2025/05/01 08:00:00"
    ok, bad = check([row])
    assert bad.height == 0 and ok["fee_ocur_time"][0] == datetime(2025, 5, 1, 8)


def test_all_failures_are_listed_in_detail() -> None:
    _, bad = check([{**FEE, "det_item_fee_sumamt": "9", "fee_ocur_time": "2030-01-01"}])
    assert "amount_mismatch" in bad["detail"][0] and "future_date" in bad["detail"][0]


PERSON = {
    "psn_no": "P1",
    "gend": "男",
    "brdy": "1985-09-19",
    "insutype": "390",
    "certno": "13012319850919003X",
}


def test_identity_number_check_digit() -> None:
    import numpy as np

    from hrss_fraud.synth.names import certnos

    good = str(
        certnos(
            np.array(["130123"]),
            np.array(["1985-09-19"], dtype="datetime64[D]"),
            np.array(["1"]),
            np.array([17]),
        )[0]
    )
    ok, bad = check([{**PERSON, "certno": good}])
    assert bad.height == 0 and ok["gend"][0] == "1"
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    _, bad = check([{**PERSON, "certno": wrong}])
    assert bad["reason"][0] == "bad_id"


def test_settlement_end_before_begin_and_payment_sum() -> None:
    setl = {
        "setl_id": "S1",
        "mdtrt_id": "M1",
        "psn_no": "P1",
        "fixmedins_code": "H1",
        "med_type": "2101",
        "insutype": "390",
        "begntime": "2025-05-02 08:00:00",
        "endtime": "2025-05-01 08:00:00",
        "setl_time": "2025-05-02 09:00:00",
        "medfee_sumamt": "100",
        "inscp_amt": "90",
        "fund_pay_sumamt": "60",
        "acct_pay": "0",
        "psn_cash_pay": "40",
        "refd_setl_flag": "0",
        "vali_flag": "1",
    }
    _, bad = check([setl])
    assert bad["reason"][0] == "end_before_begin"
    ok, bad = check([{**setl, "endtime": "2025-05-05 08:00:00"}])
    assert bad.height == 0 and ok["med_type"][0] == "21"  # 2101 mapped by the code list
    _, bad = check([{**setl, "endtime": "2025-05-05 08:00:00", "psn_cash_pay": "30"}])
    assert bad["reason"][0] == "amount_mismatch"


def test_unknown_columns_name_the_nearest_known_when_strict() -> None:
    with pytest.raises(UploadError, match="nearest: det_item_fee_sumamt") as err:
        check([{**FEE, "det_item_fee_sumam": "1"}], strict=True)
    assert err.value.reason == "unknown_layout"


def test_unknown_columns_are_set_aside_and_kept_with_the_row() -> None:
    ok, bad = check([{**FEE, "det_item_fee_sumam": "1"}])
    assert bad.height == 0 and ok.height == 1
    assert ok["_set_aside"][0] == '{"det_item_fee_sumam":"1"}'


def test_missing_required_column_names_it() -> None:
    row = {k: v for k, v in FEE.items() if k != "psn_no"}
    with pytest.raises(UploadError, match="psn_no"):
        check([row])


# --------------------------------------------------------------------------- amounts, signs

SETL = {
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "med_type": "11",
    "insutype": "390",
    "begntime": "2025-05-02 08:00:00",
    "endtime": "2025-05-02 09:00:00",
    "setl_time": "2025-05-02 09:00:00",
    "ipt_days": "0",
    "medfee_sumamt": "100",
    "fulamt_ownpay_amt": "5",
    "overlmt_selfpay": "5",
    "preselfpay_amt": "2",
    "inscp_amt": "88",
    "fund_pay_sumamt": "60",
    "hifp_pay": "55",
    "acct_pay": "10",
    "psn_cash_pay": "30",
    "refd_setl_flag": "0",
    "vali_flag": "1",
}


def test_clean_settlement_is_accepted() -> None:
    ok, bad = check([SETL])
    assert bad.height == 0 and ok.height == 1


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"cnt": "-2", "pric": "-3.50"}, "bad_sign", "cnt"),
        ({"inscp_amt": "-5000"}, "bad_sign", "inscp_amt"),
        ({"fulamt_ownpay_amt": "-1"}, "bad_sign", "fulamt_ownpay_amt"),
        ({"prd_days": "-3"}, "bad_sign", "prd_days"),
        ({"inscp_amt": "5000"}, "amount_exceeds_total", "inscp_amt"),
        ({"overlmt_selfpay": "7.10"}, "amount_exceeds_total", "overlmt_selfpay"),
        # a refund is negative: a positive line pointing to an original is not one
        ({"init_feedetl_sn": "9"}, "bad_sign", "det_item_fee_sumamt"),
        (
            {"init_feedetl_sn": "9", "cnt": "-2", "det_item_fee_sumamt": "-7", "inscp_amt": "7"},
            "bad_sign",
            "inscp_amt",
        ),
        (
            {"init_feedetl_sn": "9", "cnt": "-2", "det_item_fee_sumamt": "-7", "inscp_amt": "-9"},
            "amount_exceeds_total",
            "inscp_amt",
        ),
    ],
)
def test_fee_line_signs_and_parts(change: dict[str, str], reason: str, field: str) -> None:
    ok, bad = check([{**FEE, **change}])
    assert ok.height == 0 and bad["reason"][0] == reason
    assert f"{reason}:{field}=" in bad["detail"][0]


def test_refund_line_within_its_own_amount_is_accepted() -> None:
    refund = {**FEE, "init_feedetl_sn": "9", "cnt": "-2", "det_item_fee_sumamt": "-7.00"}
    ok, bad = check([{**refund, "inscp_amt": "-7.00"}])
    assert bad.height == 0 and ok.height == 1


@pytest.mark.parametrize(
    "field",
    [
        "medfee_sumamt",
        "fulamt_ownpay_amt",
        "overlmt_selfpay",
        "preselfpay_amt",
        "inscp_amt",
        "fund_pay_sumamt",
        "hifp_pay",
        "acct_pay",
        "psn_cash_pay",
        "ipt_days",
    ],
)
def test_negative_amount_on_an_ordinary_settlement(field: str) -> None:
    ok, bad = check([{**SETL, field: "-1"}])
    assert ok.height == 0
    assert f"bad_sign:{field}=-1" in bad["detail"][0]
    assert "ordinary settlement" in bad["detail"][0]


def test_refund_settlement_is_negative_throughout() -> None:
    amounts = [k for k in SETL if k.endswith(("amt", "_pay", "selfpay"))]
    negative = {**SETL, **{k: f"-{SETL[k]}" for k in amounts}}
    refund = {**negative, "refd_setl_flag": "1"}
    ok, bad = check([refund])
    assert bad.height == 0 and ok["medfee_sumamt"][0] < 0
    _, bad = check([{**refund, "acct_pay": "10", "psn_cash_pay": "-50"}])
    assert bad["reason"][0] == "bad_sign" and "bad_sign:acct_pay=10" in bad["detail"][0]


def test_cash_may_be_a_fen_below_zero_from_rounding() -> None:
    row = {**SETL, "fund_pay_sumamt": "90.01", "hifp_pay": "90.01", "acct_pay": "10"}
    ok, bad = check([{**row, "psn_cash_pay": "-0.01"}])
    assert bad.height == 0 and ok.height == 1


@pytest.mark.parametrize(
    ("change", "field", "whole"),
    [
        ({"inscp_amt": "100.50"}, "inscp_amt", "medfee_sumamt"),
        ({"preselfpay_amt": "120"}, "preselfpay_amt", "medfee_sumamt"),
        ({"hifp_pay": "61"}, "hifp_pay", "fund_pay_sumamt"),
    ],
)
def test_settlement_part_larger_than_its_whole(
    change: dict[str, str], field: str, whole: str
) -> None:
    _, bad = check([{**SETL, **change}])
    assert bad["reason"][0] == "amount_exceeds_total"
    assert (
        f"amount_exceeds_total:{field}=" in bad["detail"][0] and f"> {whole}=" in bad["detail"][0]
    )


def test_payment_mismatch_says_the_sums() -> None:
    _, bad = check([{**SETL, "psn_cash_pay": "20"}])
    assert bad["detail"][0].startswith("amount_mismatch:medfee_sumamt=100.00 but")
    assert "= 90.0" in bad["detail"][0]


# --------------------------------------------------------------------------- text, times, rows


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"medins_list_name": "阿莫西林" + "\x00" + "胶囊"}, "control_char"),
        ({"medins_list_name": "a\x1bb"}, "control_char"),
        ({"med_list_codg": "X\t1"}, "control_char"),
        ({"psn_no": "P\n1"}, "control_char"),
        ({"medins_list_name": "名" * 513}, "too_long"),
        ({"medins_list_name": "x" * (1 << 20)}, "too_long"),
        ({"feedetl_sn": "1" * 129}, "too_long"),
        ({"pric": "3" * 65}, "too_long"),
    ],
)
def test_controls_and_length_caps(change: dict[str, str], reason: str) -> None:
    ok, bad = check([{**FEE, **change}])
    assert ok.height == 0 and bad["reason"][0] == reason
    field = next(iter(change))
    assert bad["detail"][0].startswith(f"{reason}:{field} ")
    assert len(bad["detail"][0]) < 500  # the detail names the value, never repeats it


def test_text_allows_tabs_and_line_breaks_and_values_up_to_the_cap() -> None:
    ok, bad = check([{**FEE, "medins_list_name": "阿莫西林\t胶囊\n0.25g" + "名" * 490}])
    assert bad.height == 0 and ok.height == 1
    person = {k: v for k, v in PERSON.items() if k != "certno"}
    ok, bad = check([{**person, "addr": "永宁县\r\n城关镇" + "x" * 3900}])
    assert bad.height == 0


@pytest.mark.parametrize(
    "value",
    ["2025-05-01 15:", "2025-05-01 15:3", "2025-05-01 15:30:0", "2025-05-1", "2025-05-01 1"],
)
def test_cut_times_are_bad_values_not_completed(value: str) -> None:
    ok, bad = check([{**FEE, "crte_time": value}])
    assert ok.height == 0 and bad["reason"][0] == "bad_value"
    assert "bad_value:crte_time" in bad["detail"][0]


@pytest.mark.parametrize("value", ["2025-05-01 15:30", "2025-05-01", "2025-05-01T15:30:00"])
def test_complete_times_still_parse(value: str) -> None:
    ok, bad = check([{**FEE, "crte_time": value}])
    assert bad.height == 0 and ok["crte_time"][0] is not None


def test_cut_compact_time_and_cut_date() -> None:
    _, bad = check([{**FEE, "crte_time": "2025050115300"}])
    assert "bad_value:crte_time is incomplete" in bad["detail"][0]
    _, bad = check([{**PERSON, "brdy": "1985-09-19 00:"}])
    assert bad["reason"][0] == "bad_value"


def test_short_row_marked_by_the_reader_is_ragged() -> None:
    raw = pl.DataFrame([FEE, FEE]).with_row_index("_line", offset=2)
    raw = raw.with_columns(_fields=pl.Series([None, 5], dtype=pl.Int32))
    det = detect(Path("t.csv"), list(FEE), LAYOUTS)
    out = validate(raw, det, "t.csv", now=NOW)
    assert out.accepted.height == 1
    bad = out.quarantined
    assert bad["reason"].to_list() == ["ragged_row"] and bad["_line"].to_list() == [3]
    assert bad["detail"][0].startswith(f"ragged_row:row has 5 fields but the header has {len(FEE)}")
