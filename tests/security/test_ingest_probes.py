"""Probes from the ingest review (issue 15): impossible amounts, truncated and ragged rows,
NUL bytes and megabyte fields, inbox sub-folders. Each builds a tiny county by hand in the
platform format, ingests it the way an operator would, and says where every line went."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.ingest.inbox import file_away, inbox_files
from hrss_fraud.ingest.pipeline import IngestResult, ingest
from hrss_fraud.lake import Lake

SETL = {
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "med_type": "21",
    "insutype": "390",
    "begntime": "2025-05-01 08:00:00",
    "endtime": "2025-05-03 08:00:00",
    "setl_time": "2025-05-03 09:00:00",
    "ipt_days": "2",
    "medfee_sumamt": "140",
    "fulamt_ownpay_amt": "0",
    "overlmt_selfpay": "0",
    "preselfpay_amt": "0",
    "inscp_amt": "140",
    "fund_pay_sumamt": "100",
    "hifp_pay": "100",
    "acct_pay": "0",
    "psn_cash_pay": "40",
    "refd_setl_flag": "0",
    "vali_flag": "1",
}
LINE = {
    "feedetl_sn": "1",
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "fee_ocur_time": "2025-05-01 09:00:00",
    "med_list_codg": "X1",
    "medins_list_name": "头孢曲松钠注射液",
    "cnt": "1",
    "pric": "140",
    "det_item_fee_sumamt": "140",
    "inscp_amt": "140",
    "init_feedetl_sn": "",
    "vali_flag": "1",
    "crte_time": "2025-05-03 15:00:00",
}


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def csv_text(rows: list[dict[str, str]]) -> str:
    """The rows as CSV text, header first, ``\\n`` line ends."""
    return "\n".join([",".join(rows[0]), *(",".join(r.values()) for r in rows)]) + "\n"


@pytest.fixture
def county(tmp_path: Path) -> tuple[Lake, Path]:
    """A lake holding one institution and one person; uploads go in the folder returned."""
    d = tmp_path / "uploads"
    d.mkdir()
    inst = {"fixmedins_code": "H1", "fixmedins_name": "城关卫生院", "fixmedins_type": "1"}
    write_rows(d / "institution.csv", [{**inst, "admdvs": "130123101"}])
    write_rows(
        d / "person.csv", [{"psn_no": "P1", "gend": "1", "brdy": "1980-01-01", "insutype": "390"}]
    )
    lake = Lake(tmp_path / "lake")
    result = ingest(lake, [d / "institution.csv", d / "person.csv"])
    assert not result.rejected
    (d / "institution.csv").unlink()
    (d / "person.csv").unlink()
    return lake, d


def quarantine(lake: Lake) -> pl.DataFrame:
    q = lake.connect().sql("SELECT * FROM quarantine").pl()
    return q if q.height else pl.DataFrame(schema={"_line": pl.Int64, "reason": pl.String})


def only_file(result: IngestResult) -> tuple[int, int, dict[str, int]]:
    """(accepted, quarantined, reasons) of the run's single file; it must be committed."""
    (f,) = result.files
    assert f.status == "committed", f.error
    return f.accepted, f.quarantined, f.reasons


# --------------------------------------------------------------------------- amounts

#: Each change makes one settlement amount negative, the others compensating so that
#: total = fund + account + cash still holds: before the fix all ten were accepted.
NEGATIVE = {
    "medfee_sumamt": {"medfee_sumamt": "-10", "inscp_amt": "0", "fund_pay_sumamt": "-10",
                      "hifp_pay": "0", "psn_cash_pay": "0"},
    "fulamt_ownpay_amt": {"fulamt_ownpay_amt": "-5"},
    "overlmt_selfpay": {"overlmt_selfpay": "-5"},
    "preselfpay_amt": {"preselfpay_amt": "-5"},
    "inscp_amt": {"inscp_amt": "-5"},
    "fund_pay_sumamt": {"fund_pay_sumamt": "-10", "hifp_pay": "0", "psn_cash_pay": "150"},
    "hifp_pay": {"hifp_pay": "-5"},
    "acct_pay": {"acct_pay": "-10", "psn_cash_pay": "50"},
    "psn_cash_pay": {"psn_cash_pay": "-10", "fund_pay_sumamt": "150", "hifp_pay": "150"},
    "ipt_days": {"ipt_days": "-2"},
}  # fmt: skip


@pytest.mark.parametrize("field", list(NEGATIVE))
def test_negative_settlement_amount_that_is_not_a_refund(
    county: tuple[Lake, Path], field: str
) -> None:
    lake, d = county
    accepted, quarantined, reasons = only_file(
        ingest(lake, [write_rows(d / "setl.csv", [{**SETL, **NEGATIVE[field]}])])
    )
    assert (accepted, quarantined, reasons) == (0, 1, {"bad_sign": 1})
    detail = quarantine(lake)["detail"][0]
    assert f"bad_sign:{field}=-" in detail and "ordinary settlement" in detail


def test_refund_settlement_may_be_negative(county: tuple[Lake, Path]) -> None:
    lake, d = county
    amounts = [k for k in SETL if k.endswith(("amt", "_pay", "selfpay"))]
    refund = {**SETL, **{k: f"-{SETL[k]}" for k in amounts}, "refd_setl_flag": "1"}
    assert only_file(ingest(lake, [write_rows(d / "setl.csv", [refund])]))[:2] == (1, 0)


def test_refund_of_100_units_against_a_1_unit_line(county: tuple[Lake, Path]) -> None:
    lake, d = county
    back = {
        **LINE,
        "feedetl_sn": "2",
        "init_feedetl_sn": "1",
        "cnt": "-100",
        "det_item_fee_sumamt": "-14000",
        "inscp_amt": "-14000",
    }
    write_rows(d / "setl.csv", [SETL])
    write_rows(d / "fee.csv", [LINE, back])
    result = ingest(lake, [d / "setl.csv", d / "fee.csv"])
    assert result.files[1].reasons == {"refund_exceeds_original": 1}
    q = quarantine(lake)
    assert json.loads(q["raw"][0])["cnt"] == "-100.0000"  # the row kept as it was read
    assert "cnt 100.0" in q["detail"][0] and "the line itself has cnt 1.0" in q["detail"][0]


@pytest.mark.parametrize(
    ("inscp", "reason"), [("-5000", "bad_sign"), ("5000", "amount_exceeds_total")]
)
def test_in_scope_amount_beyond_a_140_line(
    county: tuple[Lake, Path], inscp: str, reason: str
) -> None:
    lake, d = county
    write_rows(d / "setl.csv", [SETL])
    write_rows(d / "fee.csv", [{**LINE, "inscp_amt": inscp}])
    result = ingest(lake, [d / "setl.csv", d / "fee.csv"])
    assert result.files[1].reasons == {reason: 1}
    assert "inscp_amt=" in quarantine(lake)["detail"][0]


# --------------------------------------------------------------------------- truncated rows


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        ("2025-05-03 15:", "bad_value"),
        ("2025-05-03 15:3", "bad_value"),  # read as 15:03 before the fix
        ("2025-05-03 1", "bad_value"),
    ],
)
def test_upload_cut_inside_its_last_column(
    county: tuple[Lake, Path], cut: str, reason: str
) -> None:
    """The file ends in the middle of the last row's last value, without a newline."""
    lake, d = county
    write_rows(d / "setl.csv", [SETL])
    text = csv_text([LINE, {**LINE, "feedetl_sn": "2"}])
    (d / "fee.csv").write_text(text.removesuffix("2025-05-03 15:00:00\n") + cut, "utf-8")
    result = ingest(lake, [d / "setl.csv", d / "fee.csv"])
    assert (result.files[1].accepted, result.files[1].reasons) == (1, {reason: 1})
    assert quarantine(lake)["_line"].to_list() == [3]


def test_date_cut_inside_its_time(county: tuple[Lake, Path]) -> None:
    """A date written with its time, cut after the hour: read as that date before the fix."""
    lake, d = county
    person = {"psn_no": "P2", "gend": "2", "insutype": "390", "brdy": "1980-01-01 15:"}
    assert only_file(ingest(lake, [write_rows(d / "person.csv", [person])]))[1:] == (
        1,
        {"bad_value": 1},
    )


def test_upload_cut_before_its_last_fields(county: tuple[Lake, Path]) -> None:
    """The last row lost its last fields (and their commas): padded and accepted before."""
    lake, d = county
    write_rows(d / "setl.csv", [SETL])
    text = csv_text([LINE, {**LINE, "feedetl_sn": "2"}])
    (d / "fee.csv").write_text(text[: text.rindex(",1,")], "utf-8")
    result = ingest(lake, [d / "setl.csv", d / "fee.csv"])
    assert (result.files[1].accepted, result.files[1].reasons) == (1, {"ragged_row": 1})
    q = quarantine(lake)
    assert q["_line"].to_list() == [3]
    assert q["detail"][0].startswith(f"ragged_row:row has 13 fields but the header has {len(LINE)}")
    raw = json.loads(q["raw"][0])
    assert raw["feedetl_sn"] == "2" and raw["vali_flag"] is None  # nothing invented


def test_short_row_in_the_middle_is_quarantined_not_padded(county: tuple[Lake, Path]) -> None:
    lake, d = county
    write_rows(d / "setl.csv", [SETL])
    rows = [LINE, {**LINE, "feedetl_sn": "2"}, {**LINE, "feedetl_sn": "3"}]
    lines = csv_text(rows).splitlines(keepends=True)
    lines[2] = ",".join(lines[2].split(",")[:5]) + "\n"
    (d / "fee.csv").write_text("".join(lines), "utf-8")
    result = ingest(lake, [d / "setl.csv", d / "fee.csv"])
    assert (result.files[1].accepted, result.files[1].reasons) == (2, {"ragged_row": 1})
    assert quarantine(lake)["_line"].to_list() == [3]


# --------------------------------------------------------------------------- NUL, huge fields


@pytest.mark.parametrize(
    ("field", "value"),
    [("medins_list_name", "头孢\x00曲松"), ("med_list_codg", "X\x001"), ("feedetl_sn", "1\x00")],
)
def test_nul_byte_in_a_field(county: tuple[Lake, Path], field: str, value: str) -> None:
    lake, d = county
    write_rows(d / "setl.csv", [SETL])
    write_rows(d / "fee.csv", [{**LINE, field: value}])
    result = ingest(lake, [d / "setl.csv", d / "fee.csv"])
    assert result.files[1].reasons == {"control_char": 1}
    q = quarantine(lake)
    assert q["detail"][0] == f"control_char:{field} holds control character 0x00"
    assert json.loads(q["raw"][0])[field] == value  # kept as it arrived


def test_megabyte_field(county: tuple[Lake, Path]) -> None:
    lake, d = county
    huge = "头孢" * (1 << 19)
    write_rows(d / "setl.csv", [SETL])
    write_rows(d / "fee.csv", [{**LINE, "medins_list_name": huge}])
    result = ingest(lake, [d / "setl.csv", d / "fee.csv"])
    assert result.files[1].reasons == {"too_long": 1}
    q = quarantine(lake)
    assert q["detail"][0].startswith("too_long:medins_list_name has 1048576 characters")
    assert json.loads(q["raw"][0])["medins_list_name"] == huge


# --------------------------------------------------------------------------- inbox


def test_files_in_inbox_sub_folders_are_ingested_not_ignored(county: tuple[Lake, Path]) -> None:
    lake, d = county
    inbox = d.parent / "inbox"
    (inbox / "H1" / "202505").mkdir(parents=True)
    write_rows(inbox / "H1" / "202505" / "setl.csv", [SETL])
    write_rows(inbox / "H1" / "fee.csv", [LINE])
    waiting, refused = inbox_files(inbox)
    assert refused == [] and len(waiting) == 2
    result = ingest(lake, waiting)
    assert [f.status for f in result.files] == ["committed", "committed"]
    assert result.summary()["accepted"] == 2
    file_away(inbox, result)
    assert [p for p in inbox.rglob("*") if p.is_file() and "archive" not in p.parts] == []
    assert sorted(p.name for p in (inbox / "archive").rglob("*.csv")) == ["fee.csv", "setl.csv"]
