"""Inbox mode: take every file dropped in a folder, ingest it, then move it to
``archive/DATE/`` (committed or duplicate) or ``rejected/`` with a reason file beside it.

Files in sub-folders are taken too (an institution often drops a folder per month, or
uploads into a folder of its own): they are ingested like the others and filed under the
same sub-folder path in ``archive/DATE/`` or ``rejected/``. The sub-folders themselves stay
(an uploader may be set up to write into one). Only ``archive/``, ``rejected/`` and hidden
entries are never read.

Files move only after their batch is committed, so a crash leaves them in the inbox and
the next run finds them again (committed ones then count as duplicates and are archived).
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

from hrss_fraud.ingest.errors import PATH_ESCAPES_INBOX
from hrss_fraud.ingest.pipeline import FileResult, IngestResult

ARCHIVE, REJECTED = "archive", "rejected"


def _waiting(inbox: Path) -> list[Path]:
    """Every entry to take, sub-folders included, in a stable order; folders that are
    symbolic links are not followed but listed (their target is judged like a file's)."""
    out: list[Path] = []
    for root, dirs, names in os.walk(inbox):
        here = Path(root)
        top = here == inbox
        keep = sorted(d for d in dirs if not d.startswith("."))
        if top:
            keep = [d for d in keep if d not in (ARCHIVE, REJECTED)]
        dirs[:] = [d for d in keep if not (here / d).is_symlink()]
        links = [d for d in keep if (here / d).is_symlink()]
        for n in sorted([*names, *links]):
            if not n.startswith(".") and not n.endswith(".reason.txt"):
                out.append(here / n)
    return out


def inbox_files(inbox: Path) -> tuple[list[Path], list[FileResult]]:
    """Files waiting in the inbox (sub-folders included), and those refused because they
    resolve outside it."""
    root = inbox.resolve()
    ok: list[Path] = []
    refused: list[FileResult] = []
    for p in _waiting(inbox):
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


def _in_inbox(inbox: Path, src: Path) -> Path | None:
    """``src``'s path relative to the inbox when it was taken from it (not resolved: a
    symbolic link is filed as itself), else None (a file named on the command line)."""
    absolute, base = Path(os.path.abspath(src)), Path(os.path.abspath(inbox))
    if not absolute.is_relative_to(base) or absolute == base:
        return None
    rel = absolute.relative_to(base)
    return None if rel.parts[0] in (ARCHIVE, REJECTED) else rel


def file_away(inbox: Path, result: IngestResult, today: date | None = None) -> None:
    """Move each processed file out of the inbox, keeping its sub-folder path; write a
    reason file for each rejection."""
    today = today or date.today()
    for f in result.files:
        src = Path(f.path)
        rel = _in_inbox(inbox, src)
        if rel is None or not (src.exists() or src.is_symlink()):
            continue
        if f.status == "rejected":
            dest = _free(inbox / REJECTED / rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), dest)
            dest.with_name(dest.name + ".reason.txt").write_text(
                f"{f.reason}\n{f.error}\n", encoding="utf-8"
            )
        elif f.status in ("committed", "duplicate"):
            dest = _free(inbox / ARCHIVE / today.isoformat() / rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), dest)
