"""The ingest run end to end: a generated county in, totals to the fen out; duplicates,
re-uploads, malformed files, the inbox, and a crash mid-batch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.ingest.inbox import file_away, inbox_files
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake


def _totals(lake: Lake) -> dict[str, object]:
    con = lake.connect()
    return {
        "fee": con.execute("SELECT sum(det_item_fee_sumamt), count(*) FROM fee_detail").fetchone(),
        "setl": con.execute("SELECT sum(medfee_sumamt), count(*) FROM settlement").fetchone(),
    }


@pytest.fixture(scope="module")
def loaded(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("ws") / "lake")
    result = ingest(lake, [tiny_county / "reference", tiny_county / "uploads"])
    assert not result.rejected, [f.error for f in result.rejected]
    return lake


def test_every_generated_file_loads_to_the_fen(tiny_county: Path, loaded: Lake) -> None:
    manifest = json.loads((tiny_county / "manifest.json").read_text())
    fen = manifest["totals_fen"]
    rows = {
        t: sum(f["rows"] for f in manifest["files"] if f["table"] == t)
        for t in ("fee_detail", "settlement")
    }
    totals = _totals(loaded)
    assert int(totals["fee"][0] * 100) == sum(fen["fee_detail"].values())
    assert int(totals["setl"][0] * 100) == sum(fen["settlement"].values())
    assert totals["fee"][1] == rows["fee_detail"]
    assert totals["setl"][1] == rows["settlement"]
    con = loaded.connect()
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    formats = {f["format"] for f in manifest["files"]}
    assert {"gbk_zh", "xlsx", "utf8_pipe", "utf8_bom_tab"} <= formats


def test_same_files_again_are_a_no_op(tiny_county: Path, loaded: Lake) -> None:
    before, batches = _totals(loaded), len(loaded.batches())
    result = ingest(loaded, [tiny_county / "uploads"])
    assert {f.status for f in result.files} == {"duplicate"}
    assert _totals(loaded) == before and len(loaded.batches()) == batches


def _first_upload(folder: Path, table: str) -> Path:
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = next(f for f in manifest["files"] if f["table"] == table and f["format"] == "utf8")
    return folder / entry["path"]


def test_corrected_rows_supersede_and_both_versions_stay(tiny_county: Path, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    ingest(lake, [tiny_county / "reference"])
    setl = _first_upload(tiny_county, "settlement")
    ingest(lake, [setl])
    df = pl.read_csv(setl, infer_schema=False)
    first = df.row(0, named=True)
    fixed = df.head(1).with_columns(
        psn_cash_pay=(pl.col("psn_cash_pay").cast(pl.Float64) + 1).cast(pl.String),
        medfee_sumamt=(pl.col("medfee_sumamt").cast(pl.Float64) + 1).cast(pl.String),
    )
    corrected = tmp_path / "corrected.csv"
    fixed.write_csv(corrected)
    ingest(lake, [corrected])
    con = lake.connect()
    latest = con.execute(
        "SELECT medfee_sumamt FROM settlement WHERE setl_id = ?", [first["setl_id"]]
    ).fetchall()
    versions = con.execute(
        "SELECT count(*) FROM settlement_all WHERE setl_id = ?", [first["setl_id"]]
    ).fetchone()[0]
    assert float(latest[0][0]) == pytest.approx(float(first["medfee_sumamt"]) + 1)
    assert versions == 2
    assert con.execute("SELECT count(*) FROM settlement").fetchone()[0] == df.height


def test_malformed_files_get_their_documented_outcome(tiny_county: Path, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    ingest(lake, [tiny_county / "reference", tiny_county / "uploads"])
    folder = tiny_county / "malformed"
    expected = json.loads((folder / "expected.json").read_text())
    files = [folder / name for name in expected]
    result = ingest(lake, files)
    by_name = {Path(f.path).name: f for f in result.files}
    for name, want in expected.items():
        got = by_name[name]
        if want["outcome"] == "reject":
            assert got.status == "rejected" and got.reason == want["reason"], (name, got)
        elif want["outcome"] == "no_op":
            assert got.status == "duplicate", (name, got)
        elif want["outcome"] == "quarantine_all":
            assert got.status == "committed" and got.accepted == 0
            assert got.quarantined == got.rows_read > 0
        else:  # quarantine_rows
            assert got.status == "committed" and got.quarantined > 0, (name, got)
            assert want["reason"] in got.reasons


def test_rejected_messages_say_what_and_where(tiny_county: Path, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    result = ingest(
        lake,
        [
            tiny_county / "malformed" / "ragged_row.csv",
            tiny_county / "malformed" / "unknown_layout.csv",
        ],
    )
    ragged, unknown = result.files
    assert "line 4" in ragged.error and "ragged_row" in ragged.error
    assert "col_a" in unknown.error and "\n" not in unknown.error
    assert lake.batches() == []


def test_inbox_moves_files_and_refuses_escapes(tiny_county: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = _first_upload(tiny_county, "settlement")
    shutil.copy(good, inbox / good.name)
    shutil.copy(tiny_county / "malformed" / "empty.csv", inbox / "empty.csv")
    outside = tmp_path / "outside.csv"
    shutil.copy(good, outside)
    (inbox / "sneaky.csv").symlink_to(Path("..") / "outside.csv")
    lake = Lake(tmp_path / "lake")
    ingest(lake, [tiny_county / "reference"])
    waiting, refused = inbox_files(inbox)
    assert {Path(r.path).name for r in refused} == {"sneaky.csv"}
    result = ingest(lake, waiting)
    result.files[:0] = refused
    file_away(inbox, result)
    left = sorted(p.name for p in inbox.iterdir())
    assert left == ["archive", "rejected"]
    rejected = sorted(p.name for p in (inbox / "rejected").iterdir())
    assert rejected == ["empty.csv", "empty.csv.reason.txt", "sneaky.csv", "sneaky.csv.reason.txt"]
    assert "path_escapes_inbox" in (inbox / "rejected" / "sneaky.csv.reason.txt").read_text()
    assert outside.exists()
    archived = list((inbox / "archive").rglob("*.csv"))
    assert [p.name for p in archived] == [good.name]


def test_inbox_takes_files_in_sub_folders_and_files_them_by_their_path(
    tiny_county: Path, tmp_path: Path
) -> None:
    """A folder dropped in the inbox (one per month, per institution) is ingested, not
    skipped unseen: its files are committed and filed under the same sub-folder path; the
    folders stay (an uploader may write into them); archive/ and rejected/ are never read."""
    inbox = tmp_path / "inbox"
    good = _first_upload(tiny_county, "settlement")
    (inbox / "202501" / "H1").mkdir(parents=True)
    shutil.copy(good, inbox / "202501" / "H1" / good.name)
    shutil.copy(tiny_county / "malformed" / "empty.csv", inbox / "202501" / "empty.csv")
    (inbox / "archive" / "old").mkdir(parents=True)
    shutil.copy(good, inbox / "archive" / "old" / "kept.csv")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (inbox / "linked").symlink_to(outside, target_is_directory=True)
    lake = Lake(tmp_path / "lake")
    ingest(lake, [tiny_county / "reference"])
    waiting, refused = inbox_files(inbox)
    assert [p.relative_to(inbox).as_posix() for p in waiting] == [
        "202501/empty.csv",
        f"202501/H1/{good.name}",
    ]
    assert [(Path(r.path).name, r.reason) for r in refused] == [("linked", "path_escapes_inbox")]
    result = ingest(lake, waiting)
    by_name = {Path(f.path).name: f for f in result.files}
    assert by_name[good.name].status == "committed" and by_name[good.name].accepted > 0
    assert by_name["empty.csv"].status == "rejected"
    result.files[:0] = refused
    file_away(inbox, result, today=date(2025, 3, 1))
    assert sorted(p.name for p in inbox.iterdir()) == ["202501", "archive", "rejected"]
    assert [p for p in (inbox / "202501").rglob("*") if not p.is_dir()] == []
    assert (inbox / "archive" / "2025-03-01" / "202501" / "H1" / good.name).is_file()
    assert (
        (inbox / "rejected" / "202501" / "empty.csv.reason.txt")
        .read_text()
        .startswith("empty_file")
    )
    assert (inbox / "rejected" / "linked").is_symlink() and outside.is_dir()
    assert (inbox / "archive" / "old" / "kept.csv").is_file()


@pytest.mark.parametrize("fault", ["data_file_written", "before_manifest"])
def test_kill_9_mid_batch_leaves_the_lake_as_before(
    tiny_county: Path, tmp_path: Path, fault: str
) -> None:
    ws = tmp_path / "ws"
    lake = Lake(ws / "lake")
    ingest(lake, [tiny_county / "reference"])
    before = (lake.root / "manifest.json").read_bytes()
    month = sorted((tiny_county / "uploads").iterdir())[0]
    cmd = [
        sys.executable,
        "-m",
        "hrss_fraud",
        "--workspace",
        str(ws),
        "ingest",
        "--quiet",
        str(month),
    ]
    crashed = subprocess.run(
        cmd, env={**os.environ, "HRSS_FRAUD_FAULT_AT": fault}, capture_output=True, check=False
    )
    assert crashed.returncode == -9
    assert (lake.root / "manifest.json").read_bytes() == before
    again = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    rows = sum(1 for _ in month.iterdir())
    assert f"{rows} committed" in again.stdout
    con = lake.connect()
    n_fee = con.execute("SELECT count(*) FROM fee_detail_all").fetchone()[0]
    n_latest = con.execute("SELECT count(*) FROM fee_detail").fetchone()[0]
    assert n_fee == n_latest > 0


def test_read_ahead_keeps_order_passes_errors_and_stops_early() -> None:
    import threading

    from hrss_fraud.ingest.pipeline import _read_ahead

    assert list(_read_ahead(iter(range(50)))) == list(range(50))

    def broken():
        yield 1
        yield 2
        raise ValueError("unreadable")

    got = []
    with pytest.raises(ValueError, match="unreadable"):
        for x in _read_ahead(broken()):
            got.append(x)
    assert got == [1, 2]

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for x in _read_ahead(endless(), depth=2):
        if x == 3:
            break
    assert len(produced) <= 6  # stopped: at most depth ahead of the consumer
    assert not [t for t in threading.enumerate() if t.name == "ingest-read"]
