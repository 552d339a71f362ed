"""Scoring runs: each writes its findings into its own folder, then the ``LATEST`` pointer is
swapped atomically, so readers (the dashboard, exports) only ever see complete runs.

``WORKSPACE/runs/<run_id>/`` holds ``findings.parquet``, ``finding_lines.parquet`` and
``manifest.json`` (scope, lake batches, knowledge fingerprint, every rule's version,
parameters, status, counts and time).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.lake.fsutil import fsync_dir, write_bytes_atomic, write_parquet_atomic

LATEST = "LATEST"


class RunError(RuntimeError):
    pass


def runs_dir(workspace: Path) -> Path:
    return Path(workspace) / "runs"


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def latest_run(workspace: Path) -> str | None:
    p = runs_dir(workspace) / LATEST
    return p.read_text(encoding="utf-8").strip() if p.exists() else None


@dataclass(frozen=True)
class Run:
    root: Path
    manifest: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])

    def findings(self) -> pl.DataFrame:
        return pl.read_parquet(self.root / "findings.parquet")

    def lines(self) -> pl.DataFrame:
        return pl.read_parquet(self.root / "finding_lines.parquet")


def open_run(workspace: Path, run_id: str | None = None) -> Run:
    run_id = run_id or latest_run(workspace)
    if not run_id:
        msg = f"no complete scoring run in {runs_dir(workspace)}; run `hrss-fraud score` first"
        raise RunError(msg)
    root = runs_dir(workspace) / run_id
    if not (root / "manifest.json").exists():
        msg = f"run {run_id} does not exist or is incomplete ({root})"
        raise RunError(msg)
    return Run(root, json.loads((root / "manifest.json").read_text(encoding="utf-8")))


def publish(
    workspace: Path,
    run_id: str,
    findings: pl.DataFrame,
    lines: pl.DataFrame,
    manifest: dict[str, Any],
) -> Run:
    """Write the run under a temporary name, rename it into place, then move ``LATEST``."""
    base = runs_dir(workspace)
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".{run_id}.tmp"
    final = base / run_id
    if final.exists():
        msg = f"run {run_id} already exists"
        raise RunError(msg)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    write_parquet_atomic(tmp / "findings.parquet", findings, label="findings")
    write_parquet_atomic(tmp / "finding_lines.parquet", lines, label="finding_lines")
    data = json.dumps(manifest, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    write_bytes_atomic(tmp / "manifest.json", data, label="run manifest")
    os.replace(tmp, final)
    fsync_dir(base)
    write_bytes_atomic(base / LATEST, run_id.encode(), label="latest run")
    return Run(final, manifest)


def fingerprint(paths: list[Path]) -> str:
    """A digest of the files' names and contents (knowledge base, catalogue)."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]
