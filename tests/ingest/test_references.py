"""Reference checks on a hand-made county: a refund never takes back more than its original
line, summed over every refund of it (earlier runs, earlier batches and chunks of this run,
the same file), each refund counted in its latest version only."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.ingest import pipeline
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake

SETL = {
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "med_type": "11",
    "insutype": "390",
    "begntime": "2025-05-02 08:00:00",
    "setl_time": "2025-05-02 09:00:00",
    "medfee_sumamt": "30",
    "inscp_amt": "30",
    "fund_pay_sumamt": "20",
    "acct_pay": "0",
    "psn_cash_pay": "10",
    "refd_setl_flag": "0",
    "vali_flag": "1",
}
LINE = {
    "feedetl_sn": "1",
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "fee_ocur_time": "2025-05-02 08:10:00",
    "med_list_codg": "X1",
    "cnt": "3",
    "pric": "10",
    "det_item_fee_sumamt": "30",
    "inscp_amt": "30",
    "init_feedetl_sn": "",
    "vali_flag": "1",
}


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def refund(sn: str, cnt: int, pric: int = 10, **kw: str) -> dict[str, str]:
    """A refund row of line 1: ``cnt`` units (negative) at ``pric``."""
    return {
        **LINE,
        "feedetl_sn": sn,
        "init_feedetl_sn": "1",
        "cnt": str(cnt),
        "pric": str(pric),
        "det_item_fee_sumamt": str(cnt * pric),
        "inscp_amt": str(cnt * pric),
        **kw,
    }


@pytest.fixture
def county(tmp_path: Path) -> tuple[Lake, Path]:
    """A lake holding one institution, one person and one settlement."""
    d = tmp_path / "up"
    d.mkdir()
    write(
        d / "institution.csv",
        [
            {
                "fixmedins_code": "H1",
                "fixmedins_name": "卫生院",
                "fixmedins_type": "1",
                "admdvs": "1",
            }
        ],
    )
    write(
        d / "person.csv",
        [{"psn_no": "P1", "gend": "1", "brdy": "1980-01-01", "insutype": "390"}],
    )
    write(d / "settlement.csv", [SETL])
    lake = Lake(tmp_path / "lake")
    result = ingest(lake, [d / "institution.csv", d / "person.csv", d / "settlement.csv"])
    assert not result.rejected and result.files[-1].accepted == 1
    return lake, d


def quarantined(lake: Lake) -> dict[str, tuple[str, str]]:
    """feedetl_sn → (reason, detail) of every quarantined fee line."""
    q = lake.connect().sql("SELECT * FROM quarantine").pl()
    if q.height == 0:
        return {}
    q = q.filter(pl.col("table") == "fee_detail").with_columns(
        sn=pl.col("raw").str.json_path_match("$.feedetl_sn")
    )
    return {
        sn: (reason, detail) for sn, reason, detail in q.select("sn", "reason", "detail").rows()
    }


def accepted(lake: Lake) -> list[str]:
    return sorted(r[0] for r in lake.connect().sql("SELECT feedetl_sn FROM fee_detail").fetchall())


def test_refund_of_more_units_than_the_line_had(county: tuple[Lake, Path]) -> None:
    lake, d = county
    one = {**LINE, "cnt": "1", "det_item_fee_sumamt": "10", "inscp_amt": "10"}
    ingest(lake, [write(d / "fee.csv", [one, refund("2", -100)])])
    reason, detail = quarantined(lake)["2"]
    assert reason == "refund_exceeds_original"
    assert "cnt 100.0" in detail and "cnt 1.0" in detail and "amount 1000.0" in detail
    assert accepted(lake) == ["1"]


def test_refunds_in_one_file_add_up(county: tuple[Lake, Path]) -> None:
    lake, d = county
    rows = [LINE, refund("2", -1), refund("3", -1), refund("4", -1), refund("5", -1)]
    ingest(lake, [write(d / "fee.csv", rows)])
    assert set(quarantined(lake)) == {"5"}
    assert accepted(lake) == ["1", "2", "3", "4"]


def test_refunds_add_up_across_runs(county: tuple[Lake, Path]) -> None:
    lake, d = county
    ingest(lake, [write(d / "a.csv", [LINE, refund("2", -2)])])
    ingest(lake, [write(d / "b.csv", [refund("3", -2)])])
    assert quarantined(lake)["3"][0] == "refund_exceeds_original"
    assert "refunded before: cnt 2.0" in quarantined(lake)["3"][1]
    ingest(lake, [write(d / "c.csv", [refund("4", -1)])])
    assert accepted(lake) == ["1", "2", "4"]


def test_refund_exceeding_in_amount_only(county: tuple[Lake, Path]) -> None:
    lake, d = county
    ingest(lake, [write(d / "fee.csv", [LINE, refund("2", -1, pric=40)])])
    assert quarantined(lake)["2"][0] == "refund_exceeds_original"


def test_a_corrected_refund_counts_once(county: tuple[Lake, Path]) -> None:
    """The same refund uploaded again (same key, corrected) replaces its first version."""
    lake, d = county
    ingest(lake, [write(d / "a.csv", [LINE, refund("2", -2)])])
    ingest(lake, [write(d / "b.csv", [refund("2", -3)])])
    assert quarantined(lake) == {}
    ingest(lake, [write(d / "c.csv", [refund("2", -3), refund("2", -3, vali_flag="1")])])
    assert quarantined(lake) == {}


def test_invalid_refunds_do_not_count(county: tuple[Lake, Path]) -> None:
    lake, d = county
    rows = [LINE, refund("2", -3, vali_flag="0"), refund("3", -3)]
    ingest(lake, [write(d / "fee.csv", rows)])
    assert quarantined(lake) == {}


@pytest.mark.parametrize("split", ["chunks", "batches"])
def test_refunds_add_up_across_chunks_and_batches_of_one_run(
    county: tuple[Lake, Path], monkeypatch: pytest.MonkeyPatch, split: str
) -> None:
    """Each file its own chunk (the original's amounts kept in memory until the batch is
    committed) or its own batch (then read back from the lake)."""
    lake, d = county
    monkeypatch.setattr(pipeline, "FILES_PER_SCAN", 1)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 1)
    if split == "batches":
        monkeypatch.setattr(pipeline, "BATCH_BYTES", 1)
    files = [
        write(d / "a.csv", [LINE]),
        write(d / "b.csv", [refund("2", -2)]),
        write(d / "c.csv", [refund("3", -1)]),
        write(d / "d.csv", [refund("4", -1)]),
    ]
    result = ingest(lake, files)
    assert len(result.batches) == (4 if split == "batches" else 1)
    assert set(quarantined(lake)) == {"4"}
    assert "refunded before: cnt 3.0" in quarantined(lake)["4"][1]
