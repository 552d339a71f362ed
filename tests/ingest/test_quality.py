"""Data-quality views: completeness, quarantine by reason, late uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.ingest.quality import add_quality_views
from hrss_fraud.lake import Lake


@pytest.fixture(scope="module")
def lake(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("dq") / "lake")
    month = sorted((tiny_county / "uploads").iterdir())[0]
    ingest(lake, [tiny_county / "reference", month])
    ingest(lake, [tiny_county / "malformed" / "all_invalid.csv"])
    return lake


def test_quality_views_report_completeness_and_quarantine(lake: Lake, tiny_county: Path) -> None:
    bad_rows = len((tiny_county / "malformed" / "all_invalid.csv").read_text().splitlines()) - 1
    con = lake.connect()
    add_quality_views(con)
    rows = con.execute(
        "SELECT fixmedins_code, settlements, missing_dise_codg, quarantined, "
        "quarantined_by_reason FROM dq_institution ORDER BY quarantined DESC"
    ).fetchall()
    assert all(0 <= (r[2] or 0) <= 1 for r in rows)
    worst = rows[0]
    assert worst[3] == bad_rows and f"future_date:{bad_rows}" in worst[4]
    batches = con.execute(
        'SELECT _batch_seq, "table", accepted, quarantined FROM dq_batch ORDER BY _batch_seq'
    ).fetchall()
    assert batches[-1][2:] == (0, bad_rows)
    assert (
        sum(b[2] for b in batches if b[1] == "fee_detail")
        == con.execute("SELECT count(*) FROM fee_detail").fetchone()[0]
    )


def test_quality_views_work_before_any_quarantine(tmp_path: Path, tiny_county: Path) -> None:
    lake = Lake(tmp_path / "lake")
    ingest(lake, [tiny_county / "reference"])
    con = lake.connect()
    add_quality_views(con)
    assert con.execute("SELECT count(*) FROM dq_institution").fetchone()[0] > 0
    missing_share = con.execute("SELECT max(missing_dise_codg) FROM dq_institution").fetchone()[0]
    assert missing_share is None
