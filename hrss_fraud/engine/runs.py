"""Scoring runs: each writes its findings into its own folder, then the ``LATEST`` pointer is
swapped atomically, so readers (the dashboard, exports) only ever see complete runs.

``WORKSPACE/runs/<run_id>/`` holds

- ``findings.parquet`` and ``finding_lines.parquet``: the *leads* (every finding of a rule
  outside the ``data_quality`` family), each with its ``case_id`` and ``case_rank``;
- ``quality_findings.parquet`` and ``quality_lines.parquet``: the data-quality findings, a
  report of their own that never enters the lead queue, the amount at risk or a ranking;
- ``cases.parquet``: the leads grouped into cases, in rank order
  (:mod:`hrss_fraud.engine.grouping`);
- ``manifest.json``: scope, lake batches, knowledge fingerprint, every rule's version,
  parameters, status, counts (``findings`` and ``amount_at_risk`` count leads only;
  ``quality_findings`` and ``cases`` beside them) and time.

Since issue 23 the lines are kept one file per rule (:mod:`hrss_fraud.engine.line_parts`:
``lead_lines/`` and ``quality_lines/`` instead of the two line files), so that a night
rewrites only the rules whose lines it changed; :meth:`Run.file` names either layout.

A run published before findings were split and grouped (no ``quality_findings.parquet``)
still opens: :class:`Run` splits its findings by the workspace's catalogue and groups the
leads into cases on first use, with the severity weights (the review model's weights are
applied when a run is scored, not when an old one is read) and the lake's institution
names.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.engine import grouping, line_parts
from hrss_fraud.engine.catalogue import Catalogue, load_catalogue
from hrss_fraud.lake import Lake
from hrss_fraud.lake.fsutil import fsync_dir, write_bytes_atomic, write_parquet_atomic

LATEST = "LATEST"
FINDINGS, LINES = "findings.parquet", "finding_lines.parquet"
QUALITY_FINDINGS, QUALITY_LINES = "quality_findings.parquet", "quality_lines.parquet"
CASES = "cases.parquet"
_PART_KIND = {LINES: line_parts.LEAD, QUALITY_LINES: line_parts.QUALITY}


class RunError(RuntimeError):
    pass


def institution_names(lake: Lake) -> pl.DataFrame | None:
    """``fixmedins_code, fixmedins_name`` of the lake's institution register (None when it
    holds no register yet): what a case is titled with."""
    con = lake.connect()
    try:
        columns = {r[0] for r in con.execute("DESCRIBE institution").fetchall()}
        if "fixmedins_name" not in columns:
            return None
        sql = "SELECT fixmedins_code, max(fixmedins_name) AS fixmedins_name FROM institution"
        return con.sql(sql + " GROUP BY 1").pl()
    finally:
        con.close()


def employer_names(lake: Lake) -> pl.DataFrame:
    """``emp_no, emp_name`` of the lake's employer register (empty when it holds none):
    what an enrolment case without an institution is named by."""
    con = lake.connect()
    try:
        return con.sql("SELECT emp_no, max(emp_name) AS emp_name FROM employer GROUP BY 1").pl()
    finally:
        con.close()


def runs_dir(workspace: Path) -> Path:
    return Path(workspace) / "runs"


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def complete_runs(workspace: Path) -> list[str]:
    """The ids of the complete runs, oldest first (run ids sort by time)."""
    base = runs_dir(workspace)
    if not base.is_dir():
        return []
    return sorted(
        p.name
        for p in base.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").is_file()
    )


def latest_run(workspace: Path) -> str | None:
    """The latest complete run — the one definition every reader uses: the run ``LATEST``
    names; the newest complete folder if the pointer is missing or names a run that is
    gone (e.g. deleted by hand)."""
    pointer = runs_dir(workspace) / LATEST
    if pointer.is_file():
        run_id = pointer.read_text(encoding="utf-8").strip()
        if run_id and (runs_dir(workspace) / run_id / "manifest.json").is_file():
            return run_id
    runs = complete_runs(workspace)
    return runs[-1] if runs else None


def previous_run(workspace: Path, run_id: str) -> str | None:
    """The complete run before ``run_id``: what "changed since the previous run" compares."""
    earlier = [r for r in complete_runs(workspace) if r < run_id]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class Run:
    root: Path
    manifest: dict[str, Any]
    _legacy: dict[str, pl.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """An old-format run's split and grouping, computed once on first use."""
    _read_once: dict[str, Catalogue] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])

    @property
    def workspace(self) -> Path:
        return self.root.parent.parent

    @property
    def partitioned(self) -> bool:
        """Whether the run keeps its lines one file per rule (published since issue 23)."""
        return line_parts.is_partitioned(self.root)

    def file(self, name: str) -> Path:
        """The path readers pass to DuckDB or Polars for the run's file ``name``: for the
        line files of a partitioned run, the glob of its per-rule files."""
        if self.partitioned and name in _PART_KIND:
            return line_parts.parts_glob(self.root, _PART_KIND[name])
        return self.root / name

    @property
    def grouped(self) -> bool:
        """Whether the run was published with its data-quality findings kept apart (and
        its leads grouped): False for a run scored before issue 16."""
        return (self.root / QUALITY_FINDINGS).exists()

    def findings(self) -> pl.DataFrame:
        """The leads, each with ``case_id`` and ``case_rank``."""
        return self._read(FINDINGS, "findings")

    def lines(self) -> pl.DataFrame:
        """The leads' claim lines."""
        return self._read(LINES, "lines")

    def quality_findings(self) -> pl.DataFrame:
        """The data-quality findings (no case columns: they are no leads)."""
        return self._read(QUALITY_FINDINGS, "quality")

    def quality_lines(self) -> pl.DataFrame:
        """The data-quality findings' lines."""
        return self._read(QUALITY_LINES, "quality_lines")

    def catalogue(self) -> Catalogue:
        """The catalogue the run was scored with, if its folder is still there; else the
        workspace's. Read once per opened run (rankings and judges ask for it often)."""
        if "catalogue" not in self._read_once:
            recorded = self.manifest.get("catalogue_dir")
            if recorded and (Path(recorded) / "catalogue").is_dir():
                self._read_once["catalogue"] = load_catalogue(Path(recorded))
            else:
                self._read_once["catalogue"] = load_catalogue(workspace=self.workspace)
        return self._read_once["catalogue"]

    @property
    def marts_dir(self) -> Path:
        """Where the run's marts live: beside the run folder, never inside it."""
        return self.root.parent / f"{self.run_id}.marts"

    def _read(self, file: str, part: str) -> pl.DataFrame:
        if self.partitioned and file in _PART_KIND:
            return line_parts.read_lines(self.root, _PART_KIND[file])
        if self.grouped:
            return pl.read_parquet(self.root / file)
        return self._old_format()[part]

    def cases(self) -> pl.DataFrame:
        """The leads grouped into cases (:data:`grouping.CASE_SCHEMA`), in rank order."""
        if (self.root / CASES).exists():
            return pl.read_parquet(self.root / CASES)
        return self._old_format()["cases"]

    def _old_format(self) -> dict[str, pl.DataFrame]:
        """An old run's files split by the workspace's catalogue, its leads grouped."""
        if not self._legacy:
            # an empty file written from an untyped frame reads back with a null-typed id
            findings = pl.read_parquet(self.root / FINDINGS).with_columns(
                pl.col("finding_id").cast(pl.String)
            )
            lines = pl.read_parquet(self.root / LINES).with_columns(
                pl.col("finding_id").cast(pl.String)
            )
            rules = load_catalogue(workspace=self.workspace).rules
            parts = grouping.split(findings, lines, rules)
            del findings, lines
            groupable = set(grouping.FINDING_INPUT) <= set(parts.leads.columns) and set(
                grouping.LINE_INPUT
            ) <= set(parts.lead_lines.columns)
            if groupable:
                lake = Lake(self.workspace / "lake")
                leads, cases = grouping.group(
                    parts.leads,
                    parts.lead_lines,
                    rules,
                    names=institution_names(lake),
                    employers=employer_names(lake),
                )
            else:  # a hand-made run without the columns a case is built from
                leads, cases = parts.leads, grouping.empty_cases()
            self._legacy.update(
                findings=leads,
                lines=parts.lead_lines,
                quality=parts.quality,
                quality_lines=parts.quality_lines,
                cases=cases,
            )
        return self._legacy


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


def staging_dir(workspace: Path, run_id: str) -> Path:
    """The folder a run is written in before it is published (no reader looks at it)."""
    return runs_dir(workspace) / f".{run_id}.tmp"


def begin(workspace: Path, run_id: str) -> Path:
    """A fresh :func:`staging_dir` for ``run_id`` (its line files are written there before
    the findings are grouped, :func:`publish` then completes it)."""
    base = runs_dir(workspace)
    base.mkdir(parents=True, exist_ok=True)
    if (base / run_id).exists():
        msg = f"run {run_id} already exists"
        raise RunError(msg)
    tmp = staging_dir(workspace, run_id)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def publish(
    workspace: Path,
    run_id: str,
    findings: pl.DataFrame,
    lines: pl.DataFrame | None,
    manifest: dict[str, Any],
    *,
    quality: tuple[pl.DataFrame, pl.DataFrame | None] | None = None,
    cases: pl.DataFrame | None = None,
) -> Run:
    """Write the run under a temporary name, rename it into place, then move ``LATEST``.

    ``findings`` and ``lines`` are the leads (with their case columns) when ``quality``
    (the data-quality findings and their lines) and ``cases`` are given, as
    :func:`hrss_fraud.scoring.score.score` publishes; without them the run is written in the
    old format, its findings split and grouped when read (tests that craft a run). Lines
    given as None (and ``quality``'s lines None) are already in the :func:`begin` folder,
    one file per rule."""
    base = runs_dir(workspace)
    final = base / run_id
    tmp = staging_dir(workspace, run_id) if lines is None else begin(workspace, run_id)
    if final.exists():
        msg = f"run {run_id} already exists"
        raise RunError(msg)
    write_parquet_atomic(tmp / FINDINGS, findings, label="findings")
    if lines is not None:
        write_parquet_atomic(tmp / LINES, lines, label="finding_lines")
    if cases is not None:
        write_parquet_atomic(tmp / CASES, cases, label="cases")
    if quality is not None:  # written last: its presence marks a split run
        if quality[1] is not None:
            write_parquet_atomic(tmp / QUALITY_LINES, quality[1], label="quality_lines")
        write_parquet_atomic(tmp / QUALITY_FINDINGS, quality[0], label="quality_findings")
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
