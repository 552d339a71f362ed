"""Crash safety: a writer SIGKILLed anywhere leaves the lake as it was, or fully committed.

A child process commits a batch and kills itself at a named checkpoint (the n-th time it
is reached); the parent then checks what readers see and that the next writer recovers.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from helpers.lake_frames import fee_line, frame

from hrss_fraud.lake import Lake
from hrss_fraud.lake.superseded import FOLDER

REPO = Path(__file__).resolve().parents[2]
CHILD = """
import os, signal, sys
from pathlib import Path
import polars as pl
from hrss_fraud.lake import Lake, fsutil

root, point, nth, data = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
reached = 0

def checkpoint(name):
    global reached
    if name == point:
        reached += 1
        if reached == nth:
            os.kill(os.getpid(), signal.SIGKILL)

fsutil.checkpoint = checkpoint
with Lake(root).writer() as w:
    w.commit(
        sources=[{"path": "up/b.csv", "sha256": "sha-b", "size": 1}],
        tables={"fee_detail": pl.read_parquet(data / "fee.parquet")},
        quarantine=pl.read_parquet(data / "q.parquet"),
        report={"batch": "b"},
    )
"""


def second_batch(tmp_path: Path) -> Path:
    """Fee lines over two months (two data files) plus a quarantined row, saved for the child."""
    data = tmp_path / "batch_b"
    data.mkdir()
    rows = [
        fee_line("2", datetime(2025, 2, 1), "7.00"),
        fee_line("3", datetime(2025, 3, 1), "8.00"),
    ]
    frame("fee_detail", rows).write_parquet(data / "fee.parquet")
    pl.DataFrame({"reason": ["bad_amount"]}).write_parquet(data / "q.parquet")
    return data


def run_child(lake: Lake, data: Path, point: str, nth: int = 1) -> int:
    cmd = [sys.executable, "-c", CHILD, str(lake.root), point, str(nth), str(data)]
    return subprocess.run(cmd, cwd=REPO, timeout=60, check=False).returncode


def state(lake: Lake) -> dict[str, object]:
    con = lake.connect()
    try:
        return {
            v: con.execute(f"SELECT * FROM {v} ORDER BY ALL").fetchall()
            for v in ("fee_detail", "fee_detail_all", "quarantine", "batches")
        }
    finally:
        con.close()


def files_on_disk(lake: Lake) -> set[str]:
    """The lake's files but its lock and the superseded-rows index (derived from the
    committed batches, rebuilt by any reader: lake.superseded)."""
    return {
        p.relative_to(lake.root).as_posix()
        for p in lake.root.rglob("*")
        if p.is_file() and p.name != "writer.lock" and p.parent.name != FOLDER
    }


def committed_files(lake: Lake) -> set[str]:
    out = {"manifest.json"}
    for b in lake.batches():
        out |= set(b.files) | {b.report_path}
    return out


@pytest.fixture
def first(lake: Lake, fee: pl.DataFrame) -> Lake:
    with lake.writer() as w:
        w.commit(
            sources=[{"path": "up/a.csv", "sha256": "sha-a", "size": 1}],
            tables={"fee_detail": fee},
            quarantine=None,
            report={},
        )
    return lake


@pytest.mark.parametrize(
    ("point", "nth"),
    [
        ("data_file_written", 1),  # one of the two fee files written
        ("data.tmp_written", 2),  # second fee file still under its temporary name
        ("data_file_written", 3),  # all data files, no report yet
        ("before_manifest", 1),  # everything but the manifest
        ("manifest.tmp_partial", 1),  # half the new manifest in its temporary file
        ("manifest.tmp_written", 1),  # new manifest complete but not yet renamed
    ],
)
def test_crash_before_commit_leaves_the_lake_unchanged(
    first: Lake, tmp_path: Path, point: str, nth: int
) -> None:
    lake = first
    manifest_before = (lake.root / "manifest.json").read_bytes()
    before = state(lake)
    data = second_batch(tmp_path)

    assert run_child(lake, data, point, nth) == -signal.SIGKILL
    assert (lake.root / "manifest.json").read_bytes() == manifest_before
    assert state(lake) == before
    assert "sha-b" not in lake.known_sha256()
    orphans = files_on_disk(lake) - committed_files(lake)
    assert orphans, "the crash should have left uncommitted files behind"

    with lake.writer() as w:  # the dead child's lock is stale; recovery runs first
        assert files_on_disk(lake) == committed_files(lake)
        w.commit(
            sources=[{"path": "up/b.csv", "sha256": "sha-b", "size": 1}],
            tables={"fee_detail": pl.read_parquet(data / "fee.parquet")},
            quarantine=pl.read_parquet(data / "q.parquet"),
            report={"batch": "b"},
        )
    batches = lake.batches()
    assert [b.seq for b in batches] == [1, 2]
    assert [s["sha256"] for b in batches for s in b.sources] == ["sha-a", "sha-b"]
    after = state(lake)
    assert len(after["fee_detail_all"]) == 4  # type: ignore[arg-type]
    assert len(after["fee_detail"]) == 3  # type: ignore[arg-type]
    assert len(after["quarantine"]) == 1  # type: ignore[arg-type]
    assert files_on_disk(lake) == committed_files(lake)


def test_crash_right_after_the_manifest_replace_keeps_the_whole_batch(
    first: Lake, tmp_path: Path
) -> None:
    lake = first
    data = second_batch(tmp_path)
    assert run_child(lake, data, "manifest.replaced") == -signal.SIGKILL
    assert [b.seq for b in lake.batches()] == [1, 2]
    assert "sha-b" in lake.known_sha256()
    assert len(state(lake)["fee_detail_all"]) == 4  # type: ignore[arg-type]
    with lake.writer():
        assert files_on_disk(lake) == committed_files(lake)
    assert len(state(lake)["fee_detail_all"]) == 4  # type: ignore[arg-type]
