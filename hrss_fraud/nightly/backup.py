"""``hrss-fraud backup --out DIR`` and ``hrss-fraud restore --from DIR``: a consistent
snapshot of what a deployment cannot regenerate — the claims lake, the case store — plus
what is costly or policy (published runs, rule parameter changes and white lists, saved
models, the nightly run record).

Consistency: the lake's committed files never change, so copying the manifest and the
files it lists while holding the lake's writer lock (no commit, no crash recovery in
between) is a snapshot; the case store is copied with SQLite's online backup API, which
gives a consistent copy while the dashboard keeps writing. The backup is built beside
``DIR`` and renamed into place, with ``backup.json`` listing every file's SHA-256, which
restore checks before touching the workspace.

Both hold personal data: the backup is written 0700/0600 whatever the modes of what it
copies (a copy keeps its source's mode), and so is what a restore puts in the workspace.
A restore is done by an operator (``--by``, an account that may manage users in the
store it replaces — or, without one, in the backup's) and leaves a ``store.restore``
audit row in the restored store naming them, the backup, and the SHA-256 and chain head
of the case store it replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hrss_fraud.cases.chain import verify
from hrss_fraud.cases.operators import OperatorError, operator_or_bootstrap
from hrss_fraud.cases.pg import redacted
from hrss_fraud.cases.store import open_store, store_path, store_url, timestamp, write_audit
from hrss_fraud.lake import fsutil
from hrss_fraud.lake.lock import LakeLockedError, writer_lock
from hrss_fraud.lake.manifest import MANIFEST, read_manifest, report_path
from hrss_fraud.lake.store import LOCK as LAKE_LOCK
from hrss_fraud.nightly.journal import LOCK as NIGHTLY_LOCK

BACKUP_MANIFEST = "backup.json"
LAKE, CASES, RUNS = "lake", "cases.sqlite", "runs"
#: Workspace folders copied as they are (small, written by people or rarely).
PLAIN = ("rules", "models", "nightly")
FORMAT = 1


class BackupError(RuntimeError):
    """The backup or restore cannot proceed; the message says why and what to do."""


def _refuse_postgresql(what: str) -> None:
    """Backup and restore copy the SQLite file; a case store on PostgreSQL is PostgreSQL's
    to back up (pg_dump / pg_restore), so they refuse rather than leave it out."""
    url = store_url()
    if url is not None:
        msg = (
            f"案件库在 PostgreSQL 上 ({redacted(url)})，{what} 只处理工作区的 SQLite 案件库：请用 "
            f"pg_dump -Fc 备份、pg_restore 恢复案件库 (the case store is on PostgreSQL; {what} "
            "copies the workspace's SQLite case store only: back the case store up with "
            "pg_dump -Fc and restore it with pg_restore, see docs/province.md)"
        )
        raise BackupError(msg)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy(src: Path, dest: Path) -> None:
    fsutil.private_dirs(dest.parent)
    shutil.copy2(src, dest)


def _copy_lake(lake: Path, dest: Path) -> dict[str, Any]:
    """The committed batches only: the manifest and the files it lists, under the lock."""
    if not (lake / MANIFEST).is_file():
        return {"batches": 0, "last_seq": 0}
    with writer_lock(lake / LAKE_LOCK):
        batches = read_manifest(lake)
        for b in batches:
            for rel in [*b.files, report_path(b.batch_id)]:
                if (lake / rel).is_file():
                    _copy(lake / rel, dest / rel)
        _copy(lake / MANIFEST, dest / MANIFEST)
    return {"batches": len(batches), "last_seq": max((b.seq for b in batches), default=0)}


def _copy_cases(src: Path, dest: Path) -> dict[str, int]:
    """SQLite's online backup: consistent even while another process writes."""
    if not src.is_file():
        return {}
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    fsutil.create_private(dest)  # SQLite would create it 0644
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
        tables = [
            r[0] for r in target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        counts = {t: target.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        target.close()
        source.close()
    return counts


def _copy_runs(src: Path, dest: Path) -> list[str]:
    """Published run folders (and their marts) and ``LATEST``; temporary ones are skipped."""
    if not src.is_dir():
        return []
    published = []
    for p in sorted(src.iterdir()):
        if p.name.startswith(".") or not p.is_dir():
            continue
        shutil.copytree(p, dest / p.name)
        published.append(p.name)
    if (src / "LATEST").is_file():
        _copy(src / "LATEST", dest / "LATEST")
    return published


def _listing(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): _sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != BACKUP_MANIFEST
    }


def backup(workspace: Path, out: Path) -> dict[str, Any]:
    """Write a backup of ``workspace`` to the new folder ``out``; return its manifest."""
    _refuse_postgresql("backup")
    workspace, out = Path(workspace), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        msg = f"{out} exists and is not empty; choose a new folder for the backup"
        raise BackupError(msg)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    fsutil.private_dirs(tmp)
    try:
        try:
            lake = _copy_lake(workspace / LAKE, tmp / LAKE)
        except LakeLockedError as e:
            msg = f"{e}; retry when the writer has finished"
            raise BackupError(msg) from None
        cases = _copy_cases(store_path(workspace), tmp / CASES)
        runs = _copy_runs(workspace / RUNS, tmp / RUNS)
        for name in PLAIN:
            if (workspace / name).is_dir():
                shutil.copytree(
                    workspace / name,
                    tmp / name,
                    ignore=shutil.ignore_patterns("*.lock", "current.json"),
                )
        manifest = {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "workspace": str(workspace),
            "lake": lake,
            "cases": cases,
            "runs": runs,
            "files": _listing(tmp),
        }
        (tmp / BACKUP_MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        fsutil.make_private(tmp)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _verify(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / BACKUP_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        msg = f"{source} is not a backup (no readable {BACKUP_MANIFEST})"
        raise BackupError(msg) from None
    if manifest.get("format") != FORMAT:
        msg = f"{source}: backup format {manifest.get('format')} is not {FORMAT}"
        raise BackupError(msg)
    found = _listing(source)
    bad = sorted(k for k, v in manifest["files"].items() if found.get(k) != v)
    if bad:
        msg = f"{source}: {len(bad)} file(s) missing or changed since the backup, e.g. {bad[0]}"
        raise BackupError(msg)
    return manifest


def _occupied(workspace: Path) -> list[str]:
    names = [LAKE, CASES, RUNS, *PLAIN]
    return [
        n
        for n in names
        if (workspace / n).is_file()
        or ((workspace / n).is_dir() and any((workspace / n).iterdir()))
    ]


def restore(
    source: Path, workspace: Path, *, force: bool = False, by: str | None = None
) -> dict[str, Any]:
    """Restore the backup ``source`` into ``workspace``. Refuses a workspace that already
    holds data unless ``force`` (then that data is replaced). Holds the nightly lock so no
    nightly run writes meanwhile.

    ``by`` (default: the shell login) must be an enabled account that may manage users in
    the case store being replaced, or in the backup's when the workspace has none; while
    neither holds such an account and ``by`` is not given, the shell login acts (see
    :func:`hrss_fraud.cases.operators.operator_or_bootstrap`). The restored store gets the
    ``store.restore`` audit row."""
    _refuse_postgresql("restore")
    source, workspace = Path(source), Path(workspace)
    manifest = _verify(source)
    present = _occupied(workspace)
    if present and not force:
        msg = (
            f"{workspace} is not empty ({', '.join(present)}); restore into an empty workspace "
            "or pass --force to replace its data"
        )
        raise BackupError(msg)
    fsutil.private_dirs((workspace / NIGHTLY_LOCK).parent)
    try:
        with writer_lock(workspace / NIGHTLY_LOCK):
            staging = _stage(source, workspace)
            try:
                replaced = _replaced(workspace, staging)
                actor = _restorer(workspace if replaced else staging, by)
                _swap_in(staging, workspace)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            _audit_restore(workspace, actor, source, manifest, replaced, force)
    except LakeLockedError as e:
        msg = f"a nightly run holds the workspace ({e}); retry when it has finished"
        raise BackupError(msg) from None
    return manifest


def _stage(source: Path, workspace: Path) -> Path:
    """The backup copied beside the workspace's data (same file system: renames swap it
    in), private whatever the backup's modes."""
    staging = workspace / f".restore.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    fsutil.private_dirs(staging)
    try:
        for name in [LAKE, CASES, RUNS, *PLAIN]:
            src = source / name
            if src.is_dir():
                shutil.copytree(src, staging / name)
            elif src.is_file():
                _copy(src, staging / name)
        fsutil.make_private(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _replaced(workspace: Path, staging: Path) -> dict[str, object] | None:
    """The SHA-256 of a consistent copy of the case store about to be replaced, and its
    chain head (None when the workspace has no case store)."""
    current = store_path(workspace)
    if not current.is_file():
        return None
    copy = staging / ".replaced.sqlite"
    _copy_cases(current, copy)
    con = sqlite3.connect(copy)
    try:
        report = verify(con)
    finally:
        con.close()
    digest = _sha256(copy)
    copy.unlink()
    return {"sha256": digest, "chain_head": report.head, "chain_intact": report.ok}


def _restorer(where: Path, by: str | None) -> str:
    """The restore's operator, checked in the case store under ``where`` (a workspace or
    the staged backup); BackupError naming the refusal."""
    try:
        with open_store(where) as store:
            return operator_or_bootstrap(store, by, permission="manage_users")
    except OperatorError as e:
        raise BackupError(f"restore refused: {e}") from None


def _audit_restore(
    workspace: Path,
    actor: str,
    source: Path,
    manifest: dict[str, Any],
    replaced: dict[str, object] | None,
    force: bool,
) -> None:
    """The ``store.restore`` row, in the restored store (a new one if the backup had none)."""
    detail = {
        "backup": str(source.resolve()),
        "backup_created": manifest.get("created"),
        "backup_manifest_sha256": _sha256(source / BACKUP_MANIFEST),
        "force": force,
        "replaced": replaced,
    }
    with open_store(workspace) as store, store.transaction() as con:
        write_audit(con, timestamp(), actor, "store.restore", "store", CASES, detail)


def _swap_in(staging: Path, workspace: Path) -> None:
    """Swap each staged part in for the workspace's by rename; the old parts are removed."""
    old = workspace / f".restore-old.{os.getpid()}"
    try:
        fsutil.private_dirs(old)
        for name in [LAKE, CASES, RUNS, *PLAIN]:
            target = workspace / name
            if name == "nightly" and target.is_dir():
                continue  # holds the lock we are under; merged below
            if target.exists():
                os.replace(target, old / name)
            if name == CASES:
                for suffix in ("-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
            if (staging / name).exists():
                os.replace(staging / name, target)
        if (staging / "nightly").is_dir():
            for p in (staging / "nightly").iterdir():
                os.replace(p, workspace / "nightly" / p.name)
    finally:
        shutil.rmtree(old, ignore_errors=True)
