"""Atomic, durable file writes: temporary name, fsync, rename, fsync the folder.

A rename within one folder is atomic, so a reader (or a crash) sees either the old file or
the complete new one, never a torn one. Temporary files end in ``.tmp`` so recovery can
recognise and delete them.

Private by default: what these writers store (claims, findings, exports) is personal data,
so files are created 0600 and folders 0700 (:data:`FILE_MODE`, :data:`DIR_MODE`) whatever
the process umask. The command line also sets umask 077 once at its entry, which covers
files that other libraries create (DuckDB, openpyxl); the explicit modes here keep the
library calls private when they run outside the command line (tests, notebooks, the
dashboard's own process).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
from pathlib import Path

import polars as pl

TMP_SUFFIX = ".tmp"
FILE_MODE = 0o600
"""Files: read and written by the account that runs the service, nobody else."""
DIR_MODE = 0o700
PRIVATE_UMASK = 0o077
"""The umask that gives :data:`FILE_MODE` and :data:`DIR_MODE` to whatever a process creates."""


#: Fault injection for crash drills: ``HRSS_FRAUD_FAULT_AT=before_manifest`` makes the process
#: kill itself (SIGKILL, like a power cut) when it reaches that checkpoint.
FAULT_ENV = "HRSS_FRAUD_FAULT_AT"


def checkpoint(name: str) -> None:
    """Mark a point where a crash matters; crash tests and drills kill the process here."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def private_dirs(path: Path) -> None:
    """Create ``path`` and any missing parents as :data:`DIR_MODE` folders (``mkdir -p``
    would give the parents the umask's mode); folders that exist keep theirs."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)


def make_private(path: Path) -> None:
    """Take group and other permissions off ``path`` and, for a folder, everything under
    it (a copy keeps its source's mode: backups and restores run this). An entry owned by
    another account is left as it is."""
    path = Path(path)
    entries = [path, *path.rglob("*")] if path.is_dir() else [path]
    for p in entries:
        if p.is_symlink():
            continue
        mode = DIR_MODE if p.is_dir() else FILE_MODE
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if p.stat().st_mode & 0o777 != mode:
                os.chmod(p, mode)


def create_private(path: Path) -> None:
    """Create the empty file ``path`` as :data:`FILE_MODE` if it does not exist, so that
    a program which then opens it (SQLite: 0644 otherwise) keeps that mode."""
    private_dirs(Path(path).parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


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
    private_dirs(path.parent)
    tmp = tmp_path_for(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
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
    private_dirs(path.parent)
    tmp = tmp_path_for(path)
    try:
        create_private(tmp)  # polars writes into it and keeps the mode
        # snappy: fast to write, and every Parquet reader (DuckDB, Spark) knows it.
        df.write_parquet(tmp, compression="snappy", statistics=True)
        os.chmod(tmp, FILE_MODE)
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
