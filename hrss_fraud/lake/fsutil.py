"""Atomic, durable file writes: temporary name, fsync, rename, fsync the folder.

A rename within one folder is atomic, so a reader (or a crash) sees either the old file or
the complete new one, never a torn one. Temporary files end in ``.tmp`` so recovery can
recognise and delete them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
from pathlib import Path

import polars as pl

TMP_SUFFIX = ".tmp"


#: Fault injection for crash drills: ``HRSS_FRAUD_FAULT_AT=before_manifest`` makes the process
#: kill itself (SIGKILL, like a power cut) when it reaches that checkpoint.
FAULT_ENV = "HRSS_FRAUD_FAULT_AT"


def checkpoint(name: str) -> None:
    """Mark a point where a crash matters; crash tests and drills kill the process here."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def tmp_path_for(path: Path) -> Path:
    """A unique temporary name beside ``path`` (same folder, so the rename stays atomic)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in ``path`` durable (the entry lives in the folder's inode)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, path: Path, label: str) -> None:
    checkpoint(f"{label}.tmp_written")
    os.replace(tmp, path)
    fsync_dir(path.parent)
    checkpoint(f"{label}.replaced")


def write_bytes_atomic(path: Path, data: bytes, *, label: str = "file") -> None:
    """Write ``data`` to ``path`` so that it is either absent/unchanged or complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        with open(tmp, "wb") as fh:
            half = len(data) // 2
            fh.write(data[:half])
            fh.flush()
            checkpoint(f"{label}.tmp_partial")
            fh.write(data[half:])
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, path, label)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet_atomic(path: Path, df: pl.DataFrame, *, label: str = "parquet") -> None:
    """Write ``df`` as Parquet to ``path`` atomically and durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        # snappy: fast to write, and every Parquet reader (DuckDB, Spark) knows it.
        df.write_parquet(tmp, compression="snappy", statistics=True)
        _fsync_file(tmp)
        _publish(tmp, path, label)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_dir(tmp: Path, final: Path) -> None:
    """Swap the finished folder ``tmp`` in for ``final``: an existing ``final`` is moved
    aside first and removed after, so a reader sees the old folder or the new, never a
    mix (the old one's name starts with a dot: readers skip it)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.{os.getpid()}.old.tmp")
        os.replace(final, old)
    os.replace(tmp, final)
    fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
