"""What the nightly batch leaves behind for people: one JSON object per event in
``WORKSPACE/logs/nightly.jsonl`` (for log shippers and grep) and one per run that changed
something in ``WORKSPACE/nightly/runs.jsonl`` (for the dashboard, :func:`last_runs`).

Both are append-only JSON lines: a line is written with one ``write`` call on a file opened
for appending, so a crash leaves at most a torn last line, which readers skip.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOG = Path("logs") / "nightly.jsonl"
RUNS = Path("nightly") / "runs.jsonl"
REJECTIONS = Path("nightly") / "rejections.jsonl"
LOCK = Path("nightly") / "nightly.lock"
"""Held while a nightly batch runs (backup and restore refuse to run beside one)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def append_line(path: Path, obj: dict[str, Any]) -> None:
    """Append one JSON line durably (fsync: the run record must survive a power cut)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(obj, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON object of a JSON-lines file (a torn or foreign line is skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


class Journal:
    """The structured log of one nightly run: every event carries the run id and stage."""

    def __init__(self, workspace: Path, run: str) -> None:
        self.path = Path(workspace) / LOG
        self.run = run
        self.warnings: list[str] = []

    def event(
        self,
        message: str,
        *,
        stage: str | None = None,
        level: str = "info",
        counts: dict[str, Any] | None = None,
    ) -> None:
        if level == "warning":
            self.warnings.append(f"{stage}: {message}" if stage else message)
        append_line(
            self.path,
            {
                "ts": now_iso(),
                "level": level,
                "stage": stage,
                "run": self.run,
                "message": message,
                "counts": counts or {},
            },
        )


def record_run(workspace: Path, record: dict[str, Any]) -> None:
    append_line(Path(workspace) / RUNS, record)


def last_runs(workspace: Path, n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` latest recorded nightly runs, newest first: ``run``, ``status`` (ok |
    failed), ``started``, ``finished``, ``seconds``, ``stages`` (name → status, seconds,
    counts), ``warnings``, ``error`` — what the dashboard shows about the batch."""
    runs = read_lines(Path(workspace) / RUNS)
    return runs[::-1][: max(n, 0)]
