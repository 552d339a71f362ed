"""Committing batches and reading them back through the DuckDB views."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from helpers.lake_frames import fee_line, frame
from polars.testing import assert_frame_equal

from hrss_fraud.lake import BatchInfo, Lake, connect
from hrss_fraud.model.schema import TABLES

LINEAGE = {"_batch_seq": pl.Int64, "_row": pl.Int64}


def read(lake: Lake, view: str, order: str = "_batch_seq, _row") -> pl.DataFrame:
    con = lake.connect()
    try:
        return con.sql(f'SELECT * FROM "{view}" ORDER BY {order}').pl()
    finally:
        con.close()


def commit(lake: Lake, tables: dict[str, pl.DataFrame], **kw: object) -> BatchInfo:
    with lake.writer() as w:
        return w.commit(
            sources=kw.get("sources", []),  # type: ignore[arg-type]
            tables=tables,
            quarantine=kw.get("quarantine"),  # type: ignore[arg-type]
            report=kw.get("report", {}),  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("name", list(TABLES))
def test_views_before_any_commit_are_empty_with_canonical_dtypes(lake: Lake, name: str) -> None:
    expected = dict(TABLES[name].polars_schema()) | LINEAGE
    for view in (name, f"{name}_all"):
        df = read(lake, view)
        assert df.height == 0
        assert dict(df.schema) == expected
    assert not lake.root.exists() or not any(lake.root.iterdir())


def test_empty_lake_has_empty_quarantine_and_batches(lake: Lake) -> None:
    assert read(lake, "quarantine").height == 0
    assert read(lake, "batches", "seq").height == 0
    assert lake.batches() == []
    assert lake.known_sha256() == set()


def test_commit_reads_back_exact_rows_and_dtypes(
    lake: Lake, fee: pl.DataFrame, setl: pl.DataFrame, source
) -> None:
    info = commit(
        lake,
        {"fee_detail": fee, "settlement": setl},
        sources=[source("a.csv")],
        report={"rows_read": 3},
    )
    assert (info.seq, info.tables) == (1, {"fee_detail": 2, "settlement": 1, "quarantine": 0})
    assert info.sources == [
        {"path": "uploads/a.csv", "sha256": "sha-a.csv", "size": 10, "layout": "std", "table": None}
    ]
    lineage = [pl.lit(1, pl.Int64).alias("_batch_seq"), pl.int_range(0, pl.len(), dtype=pl.Int64)]
    expected_fee = fee.with_columns(*lineage[:1], lineage[1].alias("_row"))
    assert_frame_equal(read(lake, "fee_detail"), expected_fee)
    assert_frame_equal(read(lake, "fee_detail_all"), expected_fee)
    expected_setl = setl.with_columns(*lineage[:1], lineage[1].alias("_row"))
    assert_frame_equal(read(lake, "settlement"), expected_setl)
    assert read(lake, "person").height == 0
    assert lake.batches() == [info]
    assert (lake.root / info.report_path).exists()


def test_missing_optional_columns_are_stored_as_typed_nulls(lake: Lake) -> None:
    minimal = frame("fee_detail", [fee_line("1", datetime(2025, 1, 1), "1.00")]).select(
        TABLES["fee_detail"].required
    )
    commit(lake, {"fee_detail": minimal})
    got = read(lake, "fee_detail")
    assert dict(got.schema) == dict(TABLES["fee_detail"].polars_schema()) | LINEAGE
    assert got["inscp_amt"].to_list() == [None]


def test_later_batch_supersedes_same_natural_key(lake: Lake, fee: pl.DataFrame) -> None:
    commit(lake, {"fee_detail": fee})
    changed = frame("fee_detail", [fee_line("2", datetime(2025, 2, 1, 8, 0), "9.99")])
    commit(lake, {"fee_detail": changed})

    latest = read(lake, "fee_detail", "feedetl_sn")
    assert latest["feedetl_sn"].to_list() == ["1", "2"]
    assert [str(x) for x in latest["det_item_fee_sumamt"]] == ["12.50", "9.99"]
    assert latest["_batch_seq"].to_list() == [1, 2]
    everything = read(lake, "fee_detail_all")
    assert everything.select("feedetl_sn", "_batch_seq", "_row").rows() == [
        ("1", 1, 0),
        ("2", 1, 1),
        ("2", 2, 0),
    ]
    assert lake.snapshot_totals()["fee_detail"] == 2


def test_duplicate_key_within_a_batch_keeps_the_last_row(lake: Lake) -> None:
    rows = [
        fee_line("1", datetime(2025, 1, 1), "1.00"),
        fee_line("1", datetime(2025, 1, 1), "2.00"),
    ]
    commit(lake, {"fee_detail": frame("fee_detail", rows)})
    latest = read(lake, "fee_detail")
    assert [(str(a), r) for a, r in latest.select("det_item_fee_sumamt", "_row").rows()] == [
        ("2.00", 1)
    ]


def test_same_serial_in_another_visit_is_another_key(lake: Lake) -> None:
    rows = [fee_line("1", datetime(2025, 1, 1), "1.00"), fee_line("1", None, "2.00", mdtrt_id="M2")]
    commit(lake, {"fee_detail": frame("fee_detail", rows)})
    assert read(lake, "fee_detail").height == 2


def test_claim_tables_are_partitioned_by_month_including_null_dates(
    lake: Lake, fee: pl.DataFrame, setl: pl.DataFrame
) -> None:
    undated = frame("fee_detail", [fee_line("3", None, "1.00")], _source_file=["b.csv"], _line=[9])
    info = commit(lake, {"fee_detail": pl.concat([fee, undated]), "settlement": setl})
    b = info.batch_id
    assert sorted(info.files) == sorted(
        [
            f"tables/fee_detail/month=202501/{b}.parquet",
            f"tables/fee_detail/month=202502/{b}.parquet",
            f"tables/fee_detail/month=unknown/{b}.parquet",
            f"tables/settlement/month=202502/{b}.parquet",
        ]
    )
    by_file = {
        f: pl.read_parquet(lake.root / f)["feedetl_sn"].to_list()
        for f in info.files
        if "fee_detail" in f
    }
    assert by_file == {
        f"tables/fee_detail/month=202501/{b}.parquet": ["1"],
        f"tables/fee_detail/month=202502/{b}.parquet": ["2"],
        f"tables/fee_detail/month=unknown/{b}.parquet": ["3"],
    }
    assert read(lake, "fee_detail")["_row"].to_list() == [0, 1, 2]
    assert "month" not in read(lake, "fee_detail").columns


def test_reference_tables_are_not_partitioned(lake: Lake) -> None:
    person = frame(
        "person",
        [{"psn_no": "P1", "gend": "1", "brdy": datetime(1950, 3, 1).date(), "insutype": "390"}],
    )
    info = commit(lake, {"person": person})
    assert info.files == [f"tables/person/{info.batch_id}.parquet"]
    assert read(lake, "person")["psn_no"].to_list() == ["P1"]


def test_quarantine_only_batch_is_committed(lake: Lake, source) -> None:
    rejects = pl.DataFrame({"reason": ["bad_date", "missing_key"], "_line": [4, 5]})
    info = commit(
        lake, {"fee_detail": frame("fee_detail", [])}, quarantine=rejects, sources=[source("q")]
    )
    assert info.tables == {"fee_detail": 0, "quarantine": 2}
    assert info.files == [f"quarantine/{info.batch_id}.parquet"]
    q = read(lake, "quarantine")
    assert q.rows() == [("bad_date", 4, 1, 0), ("missing_key", 5, 1, 1)]
    assert read(lake, "fee_detail").height == 0
    assert "sha-q" in lake.known_sha256()


def test_known_sha256_and_batches_view(lake: Lake, fee: pl.DataFrame, source) -> None:
    first = commit(lake, {"fee_detail": fee}, sources=[source("a"), source("b")])
    second = commit(lake, {}, sources=[source("c")])
    assert lake.known_sha256() == {"sha-a", "sha-b", "sha-c"}
    assert [b.seq for b in lake.batches()] == [1, 2]
    assert first.batch_id < second.batch_id
    view = read(lake, "batches", "seq")
    assert view.select("batch_id", "seq", "n_sources", "rows_fee_detail").rows() == [
        (first.batch_id, 1, 2, 2),
        (second.batch_id, 2, 1, 0),
    ]


def test_report_is_stored_beside_and_in_the_manifest(lake: Lake, fee: pl.DataFrame) -> None:
    report = {"rows_read": 3, "quarantined": {"bad_date": 1}}
    info = commit(lake, {"fee_detail": fee}, report=report)
    assert info.report == report
    assert Lake(lake.root).batches()[0].report == report
    assert (lake.root / "reports" / f"{info.batch_id}.json").is_file()


def test_streaming_commit_writes_parts_with_continuous_rows(lake: Lake, fee: pl.DataFrame) -> None:
    report: dict[str, object] = {}

    def chunks():
        yield "fee_detail", fee.head(1)
        yield "fee_detail", fee.tail(1)
        yield "quarantine", pl.DataFrame({"reason": ["x"]})
        report["chunks"] = 3

    with lake.writer() as w:
        info = w.commit_streaming(sources=[], chunks=chunks(), report=report)
    b = info.batch_id
    assert info.files == [
        f"tables/fee_detail/month=202501/{b}-1.parquet",
        f"tables/fee_detail/month=202502/{b}-2.parquet",
        f"quarantine/{b}-3.parquet",
    ]
    assert info.tables == {"fee_detail": 2, "quarantine": 1}
    assert info.report == {"chunks": 3}
    assert read(lake, "fee_detail")["_row"].to_list() == [0, 1]


def test_reader_works_while_a_writer_holds_the_lock(lake: Lake, fee: pl.DataFrame) -> None:
    commit(lake, {"fee_detail": fee})
    with lake.writer() as w:
        con = connect(lake.root)
        w.commit(sources=[], tables={"fee_detail": fee}, quarantine=None, report={})
        assert con.execute("SELECT count(*) FROM fee_detail_all").fetchone() == (2,)
        assert lake.connect().execute("SELECT count(*) FROM fee_detail_all").fetchone() == (4,)


def test_connect_adds_views_to_a_given_connection(lake: Lake, fee: pl.DataFrame) -> None:
    import duckdb

    commit(lake, {"fee_detail": fee})
    con = duckdb.connect()
    assert lake.connect(con) is con
    assert con.execute('SELECT count(*) FROM "procedure"').fetchone() == (0,)


def test_stray_files_are_invisible_and_recovery_deletes_them(lake: Lake, fee: pl.DataFrame) -> None:
    info = commit(lake, {"fee_detail": fee})
    folder = lake.root / "tables" / "fee_detail" / "month=202501"
    stray = folder / "20990101T000000Z-deadbeef.parquet"
    pl.read_parquet(lake.root / info.files[0]).write_parquet(stray)
    tmp = lake.root / ".manifest.json.1234abcd.tmp"
    tmp.write_text("{", encoding="utf-8")
    assert read(lake, "fee_detail_all").height == 2

    with lake.writer():
        pass
    assert not stray.exists()
    assert not tmp.exists()
    assert all((lake.root / f).exists() for f in info.files)
    assert read(lake, "fee_detail_all").height == 2


def test_recovery_keeps_committed_and_unrelated_root_files(lake: Lake, fee: pl.DataFrame) -> None:
    commit(lake, {"fee_detail": fee})
    notes = lake.root / "README.txt"
    notes.write_text("operator notes", encoding="utf-8")
    with lake.writer():
        pass
    assert notes.exists()
    assert (lake.root / "manifest.json").exists()


def test_frame_that_cannot_be_cast_is_rejected_before_anything_is_written(lake: Lake) -> None:
    bad = pl.DataFrame({"feedetl_sn": ["1"], "cnt": ["one"]})
    with lake.writer() as w, pytest.raises(ValueError, match="fee_detail: cannot cast"):
        w.commit(sources=[], tables={"fee_detail": bad}, quarantine=None, report={})
    assert lake.batches() == []


def test_unknown_table_is_rejected(lake: Lake, fee: pl.DataFrame) -> None:
    with lake.writer() as w, pytest.raises(KeyError, match="unknown table 'claims'"):
        w.commit(sources=[], tables={"claims": fee}, quarantine=None, report={})


def test_lineage_columns_in_input_are_rejected(lake: Lake, fee: pl.DataFrame) -> None:
    with lake.writer() as w, pytest.raises(ValueError, match="set by the lake"):
        w.commit(
            sources=[], tables={"fee_detail": fee.with_columns(_row=0)}, quarantine=None, report={}
        )


def test_writer_cannot_commit_after_its_lock_is_released(lake: Lake, fee: pl.DataFrame) -> None:
    with lake.writer() as w:
        pass
    with pytest.raises(RuntimeError, match="lock was released"):
        w.commit(sources=[], tables={"fee_detail": fee}, quarantine=None, report={})


def test_paths_with_quotes_are_escaped(tmp_path: Path, fee: pl.DataFrame) -> None:
    lake = Lake(tmp_path / "o'brien lake")
    commit(lake, {"fee_detail": fee})
    assert read(lake, "fee_detail").height == 2


def test_failed_commit_removes_its_files_at_once(lake: Lake, fee: pl.DataFrame) -> None:
    bad = pl.DataFrame({"psn_no": ["P1"], "brdy": ["not a date"]})
    with lake.writer() as w:
        with pytest.raises(ValueError, match="cannot cast"):
            w.commit(
                sources=[], tables={"fee_detail": fee, "person": bad}, quarantine=None, report={}
            )
        assert not [p for p in lake.root.rglob("*.parquet")]
        info = w.commit(sources=[], tables={"fee_detail": fee}, quarantine=None, report={})
    assert info.seq == 1


def test_source_without_checksum_is_rejected(lake: Lake, fee: pl.DataFrame) -> None:
    with lake.writer() as w, pytest.raises(ValueError, match="needs path, sha256 and size"):
        w.commit(
            sources=[{"path": "a.csv"}], tables={"fee_detail": fee}, quarantine=None, report={}
        )


def test_streaming_commit_that_fails_midway_leaves_nothing(lake: Lake, fee: pl.DataFrame) -> None:
    """Chunks are written in the background: a failure in the producer or in a write still
    waits for the write in flight, then removes every file of the batch."""

    def producer_fails():
        yield "fee_detail", fee
        yield "quarantine", pl.DataFrame({"reason": ["x"]})
        raise RuntimeError("producer broke")

    def write_fails():
        yield "fee_detail", fee
        yield "fee_detail", pl.DataFrame({"feedetl_sn": ["1"], "cnt": ["one"]})
        yield "fee_detail", fee

    with lake.writer() as w:
        with pytest.raises(RuntimeError, match="producer broke"):
            w.commit_streaming(sources=[], chunks=producer_fails())
        assert not list(lake.root.rglob("*.parquet"))
        with pytest.raises(ValueError, match="cannot cast"):
            w.commit_streaming(sources=[], chunks=write_fails())
        assert not list(lake.root.rglob("*.parquet"))
        info = w.commit_streaming(sources=[], chunks=iter([("fee_detail", fee)]))
    assert info.seq == 1
    assert read(lake, "fee_detail")["_row"].to_list() == [0, 1]
