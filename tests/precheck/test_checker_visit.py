"""A visit to check is refused at construction with the field (and fee line) named."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from hrss_fraud.precheck.visit import LINE_COLUMNS, Visit, VisitError


def _lines(**overrides: list[Any]) -> pl.DataFrame:
    data: dict[str, list[Any]] = {
        "feedetl_sn": ["1", "2"],
        "med_list_codg": ["XA01", "XB02"],
        "cnt": [1, 2],
        "pric": [10.0, 5.5],
        "det_item_fee_sumamt": [10.0, 11.0],
    }
    data.update(overrides)
    return pl.DataFrame(data)


def _visit(**overrides: Any) -> Visit:
    fields: dict[str, Any] = {
        "fixmedins_code": "H0001",
        "psn_no": "P0001",
        "mdtrt_id": "M0001",
        "med_type": "11",
        "begntime": datetime(2025, 3, 1, 9, 30),
        "endtime": datetime(2025, 3, 1, 10, 0),
        "insutype": "390",
        "dise_codg": "J06.9",
        "diagnoses": ("J06.9",),
        "oprn_oprt_code": (),
        "gend": None,
        "brdy": None,
        "adm_dept_codg": None,
        "lines": _lines(),
    }
    fields.update(overrides)
    return Visit(**fields)


def test_a_good_visit_gets_every_line_column_typed_and_the_defaults_before_settlement() -> None:
    v = _visit()
    assert v.lines.columns == list(LINE_COLUMNS)
    assert v.lines.schema == pl.Schema(LINE_COLUMNS)
    # before settlement the in-scope amount is the line's whole amount, the time the start
    assert v.lines["inscp_amt"].cast(pl.Float64).to_list() == [10.0, 11.0]
    assert v.lines["fee_ocur_time"].to_list() == [v.begntime, v.begntime]
    assert v.lines["rxno"].null_count() == 2
    assert v.settlement == "M0001"
    assert _visit(setl_id="S9").settlement == "S9"


def test_given_in_scope_amounts_are_kept() -> None:
    v = _visit(lines=_lines(inscp_amt=[4.0, None]))
    assert v.lines["inscp_amt"].cast(pl.Float64).to_list() == [4.0, None]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fixmedins_code": ""}, "visit.fixmedins_code: must be a non-empty string"),
        ({"psn_no": None}, "visit.psn_no: must be a non-empty string"),
        ({"med_type": 11}, "visit.med_type: must be a non-empty string"),
        ({"insutype": " "}, "visit.insutype: must be a non-empty string or None"),
        ({"diagnoses": ["J06.9"]}, "visit.diagnoses: must be a tuple"),
        ({"oprn_oprt_code": ("",)}, "visit.oprn_oprt_code: must be a tuple"),
        ({"begntime": date(2025, 3, 1)}, "visit.begntime: must be a datetime"),
        ({"endtime": datetime(2025, 2, 28)}, "visit.endtime: 2025-02-28 00:00:00 is before"),
        ({"brdy": datetime(1960, 1, 1)}, "visit.brdy: must be a date or None"),
        ({"brdy": date(2026, 1, 1)}, "visit.brdy: 2026-01-01 is after the visit's start"),
        ({"lines": [{"feedetl_sn": "1"}]}, "visit.lines: must be a polars DataFrame, got list"),
        ({"lines": _lines().head(0)}, "visit.lines: a visit needs at least one"),
    ],
)
def test_bad_visit_fields_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(VisitError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        _visit(**overrides)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (_lines().drop("pric"), "visit.lines: missing required column(s) pric"),
        (_lines(psn_no=["x", "y"]), "visit.lines: unknown column(s) psn_no"),
        (_lines(cnt=[1, 0]), "visit.lines row 1 (feedetl_sn=2): cnt must be above 0"),
        (_lines(feedetl_sn=["7", "7"]), "visit.lines row 1 (feedetl_sn=7): feedetl_sn appears"),
        (_lines(med_list_codg=["XA01", None]), "visit.lines row 1 (feedetl_sn=2): med_list_codg"),
        (_lines(pric=["10", "ten"]), "visit.lines row 1 (feedetl_sn=2): pric='ten' is not a"),
        (
            _lines(fee_ocur_time=[datetime(2025, 3, 1), None]),
            "visit.lines row 1 (feedetl_sn=2): fee_ocur_time is empty",
        ),
    ],
)
def test_bad_lines_are_named_with_their_row_and_serial(lines: pl.DataFrame, message: str) -> None:
    with pytest.raises(VisitError) as err:
        _visit(lines=lines)
    assert str(err.value).startswith(message)
