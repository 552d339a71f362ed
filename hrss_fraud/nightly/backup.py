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

import click

from hrss_fraud.cases.store import store_path
from hrss_fraud.lake.lock import LakeLockedError, writer_lock
from hrss_fraud.lake.manifest import MANIFEST, read_manifest, report_path
from hrss_fraud.lake.store import LOCK as LAKE_LOCK
from hrss_fraud.nightly.runner import LOCK as NIGHTLY_LOCK

BACKUP_MANIFEST = "backup.json"
LAKE, CASES, RUNS = "lake", "cases.sqlite", "runs"
#: Workspace folders copied as they are (small, written by people or rarely).
PLAIN = ("rules", "models", "nightly")
FORMAT = 1


class BackupError(RuntimeError):
    """The backup or restore cannot proceed; the message says why and what to do."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
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
    workspace, out = Path(workspace), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        msg = f"{out} exists and is not empty; choose a new folder for the backup"
        raise BackupError(msg)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
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


def restore(source: Path, workspace: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore the backup ``source`` into ``workspace``. Refuses a workspace that already
    holds data unless ``force`` (then that data is replaced). Holds the nightly lock so no
    nightly run writes meanwhile."""
    source, workspace = Path(source), Path(workspace)
    manifest = _verify(source)
    present = _occupied(workspace)
    if present and not force:
        msg = (
            f"{workspace} is not empty ({', '.join(present)}); restore into an empty workspace "
            "or pass --force to replace its data"
        )
        raise BackupError(msg)
    (workspace / NIGHTLY_LOCK).parent.mkdir(parents=True, exist_ok=True)
    try:
        with writer_lock(workspace / NIGHTLY_LOCK):
            _swap_in(source, workspace)
    except LakeLockedError as e:
        msg = f"a nightly run holds the workspace ({e}); retry when it has finished"
        raise BackupError(msg) from None
    return manifest


def _swap_in(source: Path, workspace: Path) -> None:
    """Copy the backup beside the workspace's data, then swap each part in by rename."""
    staging = workspace / f".restore.{os.getpid()}"
    old = workspace / f".restore-old.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name in [LAKE, CASES, RUNS, *PLAIN]:
            src = source / name
            if src.is_dir():
                shutil.copytree(src, staging / name)
            elif src.is_file():
                _copy(src, staging / name)
        old.mkdir(exist_ok=True)
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
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="备份目录 A new (or empty) folder for the backup.",
)
@click.pass_context
def backup_command(ctx: click.Context, out: Path) -> None:
    """备份。Back up the lake, the case store, runs and policy files (consistent snapshot)."""
    from hrss_fraud.cli import Fail

    try:
        m = backup(ctx.obj["workspace"], out)
    except (BackupError, OSError, sqlite3.Error) as e:
        raise Fail(str(e)) from None
    click.echo(
        f"backup {out}: {m['lake']['batches']} lake batches, {len(m['cases'])} case-store "
        f"tables, {len(m['runs'])} runs, {len(m['files'])} files"
    )


@click.command("restore")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="备份目录 Backup folder.",
)
@click.option("--force", is_flag=True, help="Replace the data of a non-empty workspace.")
@click.pass_context
def restore_command(ctx: click.Context, source: Path, force: bool) -> None:
    """恢复。Restore a backup into the workspace (refuses a non-empty one unless --force)."""
    from hrss_fraud.cli import Fail

    try:
        m = restore(source, ctx.obj["workspace"], force=force)
    except (BackupError, OSError, sqlite3.Error) as e:
        raise Fail(str(e)) from None
    click.echo(f"restored {source} (made {m['created']}) into {ctx.obj['workspace']}")
