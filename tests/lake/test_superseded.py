"""The superseded-rows index: the latest views read through it give exactly the rows the
version-ranking views give, across corrections, repeats within a batch and new batches."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from helpers.lake_frames import fee_line, frame

from hrss_fraud.lake import Lake
from hrss_fraud.lake.superseded import FOLDER, index_path
from hrss_fraud.lake.views import latest_sql
from hrss_fraud.model.schema import TABLES

T = datetime(2025, 3, 1, 9)


def _commit(lake: Lake, name: str, rows: list[dict]) -> None:
    with lake.writer() as w:
        w.commit(
            sources=[{"path": f"up/{name}.csv", "sha256": f"sha-{name}", "size": 1}],
            tables={"fee_detail": frame("fee_detail", rows)},
            quarantine=None,
            report={},
        )


def _both(lake: Lake) -> tuple[list[tuple], list[tuple]]:
    """The fee lines through the index and through ranking, on one connection."""
    con = lake.connect()
    cols = "feedetl_sn, mdtrt_id, det_item_fee_sumamt, _batch_seq, _row"
    through_index = con.execute(f"SELECT {cols} FROM fee_detail ORDER BY ALL").fetchall()
    ranked = con.execute(f"{latest_sql(TABLES['fee_detail'], cols)} ORDER BY ALL").fetchall()
    return through_index, ranked


def test_the_index_gives_the_ranked_rows_through_corrections(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    _commit(lake, "a", [fee_line("1", T, "10"), fee_line("2", T, "20"), fee_line("2", T, "21")])
    first, ranked = _both(lake)
    assert first == ranked
    assert [r[:3] for r in first] == [("1", "M1", 10), ("2", "M1", 21)]  # last row of a batch
    _commit(lake, "b", [fee_line("1", T, "12"), fee_line("3", T, "30", mdtrt_id="M2")])
    second, ranked = _both(lake)
    assert second == ranked
    assert [r[:3] for r in second] == [("1", "M1", 12), ("2", "M1", 21), ("3", "M2", 30)]
    assert index_path(lake.root, lake.batches()).is_file()
    assert len(list((lake.root / FOLDER).glob("*.parquet"))) == 2  # the older one kept a day
    # built on the second one: a third batch correcting a line the first batch repeated
    _commit(lake, "c", [fee_line("2", T, "22"), fee_line("4", T, "40")])
    third, ranked = _both(lake)
    assert third == ranked
    assert [r[:3] for r in third] == [
        ("1", "M1", 12),
        ("2", "M1", 22),
        ("3", "M2", 30),
        ("4", "M1", 40),
    ]
    gone = lake.connect().execute(
        f"SELECT count(*) FROM read_parquet('{index_path(lake.root, lake.batches())}')"
    )
    assert gone.fetchall() == [(3,)]  # 1 of batch a, both 2s of batch a


def test_without_a_writable_index_folder_the_views_rank_versions(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    _commit(lake, "a", [fee_line("1", T, "10"), fee_line("1", T, "11")])
    (lake.root / FOLDER).write_text("not a folder")  # the index cannot be written
    through, ranked = _both(lake)
    assert through == ranked == [("1", "M1", 11, 1, 1)]
    assert "ANTI JOIN" not in _view_sql(lake)


def _view_sql(lake: Lake) -> str:
    con = lake.connect()
    sql = "SELECT sql FROM duckdb_views() WHERE view_name = 'fee_detail'"
    return con.execute(sql).fetchall()[0][0]
