"""The scoring database read through the lake's superseded-rows index holds exactly the
rows that ranking every stored version gives, corrections and repeats included."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from helpers.lake_frames import fee_line, frame

from hrss_fraud.engine.prepare import build, build_from_views
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.lake import Lake
from hrss_fraud.lake.superseded import index_path
from hrss_fraud.lake.views import create_views

T = datetime(2025, 3, 1, 9)


def _settlement(total: str) -> dict:
    return {
        "setl_id": "S1",
        "mdtrt_id": "M1",
        "psn_no": "P1",
        "fixmedins_code": "H001",
        "med_type": "11",
        "begntime": T,
        "endtime": T,
        "setl_time": T,
        "medfee_sumamt": Decimal(total),
        "vali_flag": "1",
    }


def _commit(lake: Lake, name: str, setl: list[dict], fee: list[dict]) -> None:
    with lake.writer() as w:
        w.commit(
            sources=[{"path": f"up/{name}.csv", "sha256": f"sha-{name}", "size": 1}],
            tables={
                "settlement": frame("settlement", setl),
                "fee_detail": frame("fee_detail", fee),
            },
            quarantine=None,
            report={},
        )


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_prepared_through_the_index_as_through_ranking(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    _commit(
        lake,
        "a",
        [_settlement("30")],
        [fee_line("1", T, "10"), fee_line("2", T, "20"), fee_line("2", T, "21")],
    )
    _commit(
        lake,
        "b",
        [_settlement("43")],
        [fee_line("1", T, "12"), fee_line("3", T, "10"), fee_line("4", T, "5", cnt=Decimal("0"))],
    )
    kb = load_knowledge()
    indexed = duckdb.connect()
    build(indexed, lake, kb)
    assert index_path(lake.root.resolve(), lake.batches()).is_file()
    ranked = duckdb.connect()
    create_views(ranked, lake.root, lake.batches(), index=False)
    build_from_views(ranked, kb)
    for table in ("visit", "line_base"):
        assert _rows(indexed, table) == _rows(ranked, table), table
    lines = indexed.execute(
        "SELECT feedetl_sn, CAST(det_item_fee_sumamt AS DOUBLE) FROM line ORDER BY 1"
    ).fetchall()
    assert lines == [("1", 12.0), ("2", 21.0), ("3", 10.0)]  # the latest of each; 4 billed 0
    total = indexed.execute("SELECT CAST(medfee_sumamt AS DOUBLE) FROM visit").fetchall()
    assert total == [(43.0,)]
