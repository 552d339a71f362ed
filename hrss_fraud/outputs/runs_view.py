"""The scoring run the dashboard shows: the latest complete one, opened once and kept while
the nightly batch writes the next, replaced as soon as a newer run is published.

A run folder appears only by the atomic rename in :func:`hrss_fraud.engine.runs.publish`, and
the ``LATEST`` pointer moves after it; so a folder with a manifest whose name does not
start with a dot is complete, and a half-written one (``.<run_id>.tmp``) is never read.

A run's dashboard marts (:mod:`hrss_fraud.outputs.marts`) live beside it in
``<run_id>.marts/``, which appears by the same kind of rename, complete with its
``marts.json``; :meth:`RunView.mart` names a mart only then, so every reader falls back to
computing on the fly while they are missing or being built.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hrss_fraud.engine.catalogue import Catalogue
from hrss_fraud.engine.runs import (
    CASES,
    FINDINGS,
    LINES,
    QUALITY_FINDINGS,
    QUALITY_LINES,
    Run,
    RunError,
    latest_run,
    open_run,
    previous_run,
    runs_dir,
)
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.lake import Lake
from hrss_fraud.lake.fsutil import fsync_dir, replace_dir, write_bytes_atomic, write_parquet_atomic
from hrss_fraud.outputs.labels import _pick

RUN_MODES: dict[str, tuple[str, str]] = {
    "full": ("全量评分", "full scoring"),
    "incremental": ("增量评分", "incremental scoring"),
}
"""A run's ``mode`` (its manifest) → label."""

REASONS: dict[str, re.Pattern[str]] = {
    "full_requested": re.compile(r"full run requested"),
    "no_model": re.compile(r"no saved model (?P<models>.+): full run, training it first"),
    "no_previous": re.compile(r"no previous run: full run"),
    "policy_changed": re.compile(
        r"rules, parameters or knowledge changed since the last run: full run"
    ),
    "incremental_on": re.compile(r"incremental on run (?P<run>\S+)"),
    "monthly_not_scored": re.compile(
        r"the monthly rules were not scored by it: all rules, whole lake"
    ),
    "monthly_stand": re.compile(r"monthly rules stand as of (?P<month>\S+)"),
    "monthly_no_claims": re.compile(
        r"monthly rules re-scored: the lake had no claims when they ran"
    ),
    "monthly_closed": re.compile(
        r"monthly rules re-scored: month (?P<month>\S+) closed since they ran"
    ),
    "monthly_late": re.compile(
        r"monthly rules re-scored: new claims dated (?P<date>\S+) fall in a closed month"
    ),
}
"""The reasons scoring writes in a manifest's ``why`` (``hrss_fraud.scoring.score``: a
reason for the mode, then ``; `` and what became of the monthly rules), by the key the
screens word them under."""


@dataclass(frozen=True)
class Reason:
    """One part of why a run was scored as it was: ``key`` of :data:`REASONS` with the
    ``fields`` it names, or ``None`` for a reason this version does not know (``text``
    is the part as written)."""

    key: str | None
    fields: dict[str, str]
    text: str


def run_reasons(why: str | None) -> list[Reason]:
    """The parts of a manifest's ``why``, each matched to a known reason."""
    out = []
    for part in (p.strip() for p in (why or "").split(";")):
        if not part:
            continue
        found = ((k, m) for k, r in REASONS.items() if (m := r.fullmatch(part)))
        key, match = next(found, (None, None))
        out.append(Reason(key, match.groupdict() if match else {}, part))
    return out


def run_mode_label(mode: str | None, lang: str = "zh") -> str:
    """The run's mode as the screens name it (an unknown mode as written)."""
    return _pick(RUN_MODES.get(str(mode), (str(mode or "—"),) * 2), lang)


@dataclass
class RunView:
    """One complete run with what every page needs beside its Parquet: the institutions'
    names and zones, the rule catalogue, and results worth computing once per run."""

    workspace: Path
    run: Run
    institutions: pl.DataFrame
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    use_marts: bool = True
    """False to compute everything on the fly (what :func:`build_marts` itself does)."""
    _marts: dict[str, str] | None = field(default=None, repr=False)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def manifest(self) -> dict[str, Any]:
        return self.run.manifest

    def _file(self, name: str) -> Path:
        """The run's file ``name``; for a run published before its data-quality findings
        were kept apart and its leads grouped, the file :func:`split_files` wrote; for the
        lines of a run that keeps them per rule, the glob of its files (DuckDB and Polars
        read it as one table)."""
        if self.run.grouped:
            return self.run.file(name)
        return self.memo("split_files", lambda: split_files(self.workspace, self.run_id)) / name

    @property
    def files_run(self) -> Run:
        """The run as read from the files this view reads: the run itself, or for an old
        run the :func:`split_files` folder (so ``findings()`` and the like read its split
        files instead of splitting and grouping in memory again)."""
        if self.run.grouped:
            return self.run
        return self.memo("files_run", lambda: Run(self.findings_path.parent, self.manifest))

    @property
    def findings_path(self) -> Path:
        """The run's leads (no data-quality finding), each with its case."""
        return self._file(FINDINGS)

    @property
    def lines_path(self) -> Path:
        return self._file(LINES)

    @property
    def cases_path(self) -> Path:
        """The run's cases, one row per case in rank order (``Run.cases``)."""
        return self._file(CASES)

    @property
    def quality_findings_path(self) -> Path:
        """The run's data-quality findings: a report of their own, never leads."""
        return self._file(QUALITY_FINDINGS)

    @property
    def quality_lines_path(self) -> Path:
        return self._file(QUALITY_LINES)

    @property
    def lake(self) -> Lake:
        return Workspace.of(self.workspace).lake

    @property
    def catalogue(self) -> Catalogue:
        """The rule catalogue the run was scored with (loaded on first use: it imports the
        numba kernels, which the lead queue never needs)."""
        return self.memo("catalogue", self.run.catalogue)

    def rule_families(self) -> dict[str, str]:
        return {r.id: r.family for r in self.catalogue.rules.values()}

    def mart(self, name: str) -> Path | None:
        """The Parquet file of mart ``name`` if the run's marts are complete, else None
        (one ``stat`` per call until they appear, so a build finishing while the
        dashboard runs is picked up)."""
        if not self.use_marts:
            return None
        if self._marts is None:
            self._marts = read_marts_manifest(self.workspace, self.run_id)
            if self._marts is None:
                return None
        file = self._marts.get(name)
        return marts_dir(self.workspace, self.run_id) / file if file else None

    def from_mart(self, name: str, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """Mart ``name`` if the run's marts are built, else ``compute()`` (the same frame)."""
        path = self.mart(name)
        return pl.read_parquet(path) if path is not None else compute()

    def mart_rows(
        self, name: str, compute: Callable[[], pl.DataFrame], **equal: str
    ) -> pl.DataFrame:
        """The rows of mart ``name`` whose columns equal ``equal``, without those columns,
        if the run's marts are built, else ``compute()`` (the same frame). The profile marts
        are sorted by their keys, so a scan reads only the row groups that hold one key."""
        path = self.mart(name)
        if path is None:
            return compute()
        keep = [pl.col(column) == value for column, value in equal.items()]
        return pl.scan_parquet(path).filter(*keep).drop(*equal).collect()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for one request (close it after), to an in-memory
        database kept with the run, so the Parquet footers read once (a big mart's is
        megabytes) serve every later request: DuckDB's cursors share the database's
        metadata cache, and each thread still gets its own connection."""

        def database() -> duckdb.DuckDBPyConnection:
            con = duckdb.connect()
            con.execute("SET parquet_metadata_cache = true")
            return con

        return self.memo("duckdb", database).cursor()

    def lake_cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for one request (close it after) to one lake connection
        kept with the run: the lake's views, and the check of its superseded-rows index,
        are set up once per run instead of once per query (~0.1 s each). Its batches are
        those committed when the run was first read, as the run's own findings are."""
        return self.memo("lake", self.lake.connect).cursor()

    def memo(self, key: str, compute: Any) -> Any:
        """``compute()`` once per run (e.g. the risk ranking), shared by every request."""
        with self._lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]


MARTS_VERSION = 5
"""Bumped whenever a mart's content or layout changes: older marts are then ignored (and
rebuilt by ``hrss-fraud marts build`` or ``serve``)."""

MARTS_MANIFEST = "marts.json"


def marts_dir(workspace: Path, run_id: str) -> Path:
    """Where a run's marts live (:attr:`Run.marts_dir`), for a run not opened yet."""
    return runs_dir(workspace) / f"{run_id}.marts"


def read_marts_manifest(workspace: Path, run_id: str) -> dict[str, str] | None:
    """Mart name → file name of the run's complete marts of this :data:`MARTS_VERSION`;
    None when they are missing, incomplete or of another version."""
    path = marts_dir(workspace, run_id) / MARTS_MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("version") != MARTS_VERSION or manifest.get("run_id") != run_id:
        return None
    return dict(manifest.get("files", {}))


SPLIT_MANIFEST = "split.json"


def split_dir(workspace: Path, run_id: str) -> Path:
    """Where an old-format run's leads, cases and data-quality findings are written apart:
    beside the run folder, never inside it."""
    return runs_dir(workspace) / f"{run_id}.split"


def split_files(workspace: Path, run_id: str) -> Path:
    """The folder of ``run_id``'s files as a run published now holds them (leads with
    their cases, cases, data-quality findings apart), written once for a run published
    before issue 16 from what :class:`Run` splits and groups in memory: every reader of
    a file path then sees leads only. Written under a dot-name and renamed into place
    with its ``split.json`` last, as the marts are."""
    final = split_dir(workspace, run_id)
    try:
        done = json.loads((final / SPLIT_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        done = {}
    if done.get("run_id") == run_id:
        return final
    run = open_run(workspace, run_id)  # its own copy: the split frames go when it does
    tmp = runs_dir(workspace) / f".{run_id}.split.{os.getpid()}.{threading.get_ident()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, frame in (
            (FINDINGS, run.findings),
            (LINES, run.lines),
            (CASES, run.cases),
            (QUALITY_FINDINGS, run.quality_findings),
            (QUALITY_LINES, run.quality_lines),
        ):
            write_parquet_atomic(tmp / name, frame(), label=name)
        data = json.dumps({"run_id": run_id}).encode("utf-8")
        write_bytes_atomic(tmp / SPLIT_MANIFEST, data, label="split manifest")
        fsync_dir(tmp)
        replace_dir(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def load_institutions(lake: Lake) -> pl.DataFrame:
    """Code, name and zone (``admdvs``) of every institution in the lake."""
    con = lake.connect()
    try:
        return con.sql(
            """SELECT fixmedins_code, max(fixmedins_name) AS fixmedins_name,
                      max(admdvs) AS zone, max(admdvs_name) AS zone_name
               FROM institution GROUP BY fixmedins_code ORDER BY fixmedins_code"""
        ).pl()
    finally:
        con.close()


def open_view(workspace: Path, run_id: str | None = None) -> RunView:
    """Open ``run_id`` (default: the latest complete run) with its institutions and
    catalogue; :class:`RunError` if there is none."""
    workspace = Path(workspace)
    run_id = run_id or latest_run(workspace)
    run = open_run(workspace, run_id)
    institutions = load_institutions(Workspace.of(workspace).lake)
    return RunView(workspace, run, institutions)


class RunCache:
    """Opened runs by id, shared by the web process's threads: a request costs one small
    file read (the pointer) until a new run is published, and the previous run stays
    open for the run-to-run comparison."""

    def __init__(self, workspace: Path, *, keep: int = 3) -> None:
        self.workspace = Path(workspace)
        self.keep = keep
        self._views: OrderedDict[str, RunView] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str) -> RunView:
        with self._lock:
            if run_id in self._views:
                self._views.move_to_end(run_id)
                return self._views[run_id]
        view = open_view(self.workspace, run_id)  # outside the lock: the lake read is slow
        with self._lock:
            self._views.setdefault(run_id, view)
            self._views.move_to_end(run_id)
            while len(self._views) > self.keep:
                self._views.popitem(last=False)
            return self._views[run_id]

    def latest(self) -> RunView:
        """The latest complete run; :class:`RunError` if the workspace has none yet."""
        run_id = latest_run(self.workspace)
        if run_id is None:
            msg = f"no complete scoring run in {runs_dir(self.workspace)}; run `hrss-fraud score`"
            raise RunError(msg)
        return self.get(run_id)

    def previous(self, view: RunView) -> RunView | None:
        run_id = previous_run(self.workspace, view.run_id)
        return self.get(run_id) if run_id else None
