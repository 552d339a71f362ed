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


def check(rows: list[dict[str, str]], layout: str | None = None) -> tuple[pl.DataFrame, ...]:
    raw = pl.DataFrame(rows).with_row_index("_line", offset=2)
    det = detect(Path("t.csv"), [c for c in raw.columns if c != "_line"], LAYOUTS, layout=layout)
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
        ({"chrgitm_lv": "09"}, "bad_code"),
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


def test_unknown_columns_name_the_nearest_known() -> None:
    with pytest.raises(UploadError, match="nearest: det_item_fee_sumamt") as err:
        check([{**FEE, "det_item_fee_sumam": "1"}])
    assert err.value.reason == "unknown_layout"


def test_missing_required_column_names_it() -> None:
    row = {k: v for k, v in FEE.items() if k != "psn_no"}
    with pytest.raises(UploadError, match="psn_no"):
        check([row])
