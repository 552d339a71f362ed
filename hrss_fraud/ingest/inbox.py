"""Inbox mode: take every file dropped in a folder, ingest it, then move it to
``archive/DATE/`` (committed or duplicate) or ``rejected/`` with a reason file beside it.

Files move only after their batch is committed, so a crash leaves them in the inbox and
the next run finds them again (committed ones then count as duplicates and are archived).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from hrss_fraud.ingest.errors import PATH_ESCAPES_INBOX
from hrss_fraud.ingest.pipeline import FileResult, IngestResult

ARCHIVE, REJECTED = "archive", "rejected"


def inbox_files(inbox: Path) -> tuple[list[Path], list[FileResult]]:
    """Files waiting in the inbox, and those refused because they resolve outside it."""
    root = inbox.resolve()
    ok: list[Path] = []
    refused: list[FileResult] = []
    for p in sorted(inbox.iterdir()):
        if p.name in (ARCHIVE, REJECTED) or p.name.startswith(".") or p.is_dir():
            continue
        if p.name.endswith(".reason.txt"):
            continue
        target = p.resolve()
        if not target.is_relative_to(root):
            refused.append(
                FileResult(
                    path=str(p),
                    status="rejected",
                    reason=str(PATH_ESCAPES_INBOX),
                    error=f"{p}: resolves to {target}, outside the inbox {root} "
                    f"({PATH_ESCAPES_INBOX})",
                )
            )
        else:
            ok.append(p)
    return ok, refused


def _free(dest: Path) -> Path:
    """A name not yet taken in dest's folder: name, name.1, name.2 …"""
    n, candidate = 0, dest
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = dest.with_name(f"{dest.name}.{n}")
    return candidate


def file_away(inbox: Path, result: IngestResult, today: date | None = None) -> None:
    """Move each processed file out of the inbox; write a reason file for each rejection."""
    today = today or date.today()
    for f in result.files:
        src = Path(f.path)
        if not (src.exists() or src.is_symlink()) or src.parent.resolve() != inbox.resolve():
            continue
        if f.status == "rejected":
            dest = _free(inbox / REJECTED / src.name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), dest)
            dest.with_name(dest.name + ".reason.txt").write_text(
                f"{f.reason}\n{f.error}\n", encoding="utf-8"
            )
        elif f.status in ("committed", "duplicate"):
            dest = _free(inbox / ARCHIVE / today.isoformat() / src.name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), dest)
