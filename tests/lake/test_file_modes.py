"""The lake's files hold claims and identities: created 0600 in 0700 folders whatever the
process umask (the command line also sets umask 077; these are the library calls)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.lake import Lake, fsutil


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default: new files readable by everybody
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_are_private_and_so_are_the_folders_they_make(tmp_path: Path) -> None:
    fsutil.write_bytes_atomic(tmp_path / "a" / "b" / "report.json", b"{}")
    fsutil.write_parquet_atomic(tmp_path / "a" / "c" / "t.parquet", pl.DataFrame({"x": [1]}))
    assert _mode(tmp_path / "a" / "b" / "report.json") == 0o600
    assert _mode(tmp_path / "a" / "c" / "t.parquet") == 0o600
    assert [_mode(tmp_path / p) for p in ("a", "a/b", "a/c")] == [0o700] * 3
    (tmp_path / "old.csv").write_text("x")
    os.chmod(tmp_path / "old.csv", 0o644)
    fsutil.write_bytes_atomic(tmp_path / "old.csv", b"y")  # replacing keeps nothing of it
    assert _mode(tmp_path / "old.csv") == 0o600


def test_make_private_takes_group_and_others_off_a_tree(tmp_path: Path) -> None:
    (tmp_path / "t" / "d").mkdir(parents=True)
    (tmp_path / "t" / "d" / "f").write_text("x")
    os.chmod(tmp_path / "t" / "d" / "f", 0o664)
    fsutil.make_private(tmp_path / "t")
    assert [_mode(tmp_path / p) for p in ("t", "t/d", "t/d/f")] == [0o700, 0o700, 0o600]


def test_a_committed_batch_and_its_quarantine_are_private(
    tmp_path: Path, fee: pl.DataFrame, source
) -> None:
    lake = Lake(tmp_path / "lake")
    rejects = pl.DataFrame({"_source_file": ["a.csv"], "_line": [9], "reason": ["bad date"]})
    with lake.writer() as w:
        w.commit(
            sources=[source("a.csv")], tables={"fee_detail": fee}, quarantine=rejects, report={}
        )
    lake.connect().close()  # reading builds the superseded-rows index: private too
    entries = [lake.root, *lake.root.rglob("*")]
    assert any("quarantine" in p.parts for p in entries if p.suffix == ".parquet")
    assert {_mode(p) for p in entries if p.is_dir()} == {0o700}
    assert {_mode(p) for p in entries if p.is_file()} == {0o600}
