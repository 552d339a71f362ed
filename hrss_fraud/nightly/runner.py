"""One nightly run: ingest the inbox → score incrementally → dashboard marts → standing
exports → run record, under a single-instance lock.

Every stage is idempotent and publishes atomically, so a run killed anywhere is completed
by the next one: ingest skips files already committed (SHA-256) and moves inbox files only
after their batch commits; an incremental score does nothing when no batch is new; marts
and exports are rebuilt when missing or not those of the latest run. A failed stage stops
the run and leaves the previous results in place.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hrss_fraud.cases import SchemaError, chain
from hrss_fraud.cases.store import open_store, store_exists
from hrss_fraud.engine import runs
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.ingest.inbox import file_away, inbox_files
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import lock as lake_lock
from hrss_fraud.lake.fsutil import FAULT_ENV
from hrss_fraud.model.numbers import money
from hrss_fraud.nightly import exports, journal
from hrss_fraud.nightly.journal import LOCK
from hrss_fraud.outputs import marts
from hrss_fraud.outputs.runs_view import read_marts_manifest
from hrss_fraud.scoring import score as scoring  # a module: tests replace scoring.score

STAGES = ("ingest", "score", "marts", "exports", "record")
#: Present while a run is in progress: found at start, it names a run that was killed.
CURRENT = Path("nightly") / "current.json"
#: Test and drill hook: ``<stage>:<before|middle|after>`` makes the process SIGKILL itself there.
KILL_ENV = "HRSS_NIGHTLY_KILL_AT"
#: Inside a stage that is one library call, "middle" is one of the lake's own crash
#: checkpoints (:func:`hrss_fraud.lake.fsutil.checkpoint`) reached halfway through it.
_MIDDLE_CHECKPOINT = {
    "score": "findings.replaced",  # findings written in the unpublished run folder
    "marts": "marts manifest.tmp_written",  # every mart written, the folder not yet published
}
DEFAULT_MIN_FREE_GB = 5.0
#: A scoring run's temporary folders (``runs/.<id>.work``, ``.<id>.tmp``) older than this
#: were left by a killed run (no scoring run lasts this long) and are removed.
LEFTOVER_AGE_S = 24 * 3600

OK, FAILED, LOCKED, LOW_DISK = 0, 1, 3, 4


class StageError(RuntimeError):
    """A stage failed; the message is the one-line reason."""


@dataclass
class Outcome:
    """What a run did: its exit code, a one-line summary and the record it wrote."""

    code: int
    line: str
    record: dict[str, Any] = field(default_factory=dict)


def kill_point(stage: str, when: str) -> None:
    if os.environ.get(KILL_ENV) == f"{stage}:{when}":
        os.kill(os.getpid(), signal.SIGKILL)


def _new_run_id() -> str:
    now = datetime.now(UTC)
    return f"n{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{os.getpid()}"


def _free_gb(path: Path) -> float:
    probe = path
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free / 1e9


@dataclass
class _Context:
    workspace: Path
    inbox: Path
    journal: journal.Journal
    did: dict[str, bool] = field(default_factory=dict)
    run_id: str | None = None


Stage = Callable[["_Context"], dict[str, Any]]


def _stage_ingest(ctx: _Context) -> dict[str, Any]:
    ctx.inbox.mkdir(parents=True, exist_ok=True)
    files, refused = inbox_files(ctx.inbox)
    if not files and not refused:
        return {"files": 0}
    result = ingest(Workspace.of(ctx.workspace).lake, files)
    result.files.extend(refused)
    kill_point("ingest", "middle")  # committed, files not yet moved out of the inbox
    file_away(ctx.inbox, result)
    for f in result.rejected:
        ctx.journal.event(f"rejected {f.path}: {f.error}", stage="ingest", level="warning")
        journal.append_line(
            ctx.workspace / journal.REJECTIONS,
            {
                "ts": journal.now_iso(),
                "file": Path(f.path).name,
                "reason": f.reason,
                "error": f.error,
                "run": ctx.journal.run,
            },
        )
    s = result.summary()
    ctx.did["ingest"] = True
    return {
        k: s[k]
        for k in (
            "files",
            "committed",
            "duplicate",
            "rejected",
            "rows_read",
            "accepted",
            "quarantined",
        )
    } | {"batches": len(result.batches)}


def sweep_leftovers(workspace: Path, *, older_than_s: float = LEFTOVER_AGE_S) -> list[str]:
    """Remove the temporary folders killed scoring runs left in ``runs/`` (the scoring
    database of a county can take gigabytes); a folder younger than ``older_than_s`` may
    belong to a ``score`` running now, outside the nightly's lock, and is kept."""
    folder = runs.runs_dir(workspace)
    if not folder.is_dir():
        return []
    cutoff = time.time() - older_than_s
    removed = []
    for p in folder.glob(".*"):
        if p.is_dir() and p.name.endswith((".work", ".tmp")) and p.stat().st_mtime < cutoff:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


def _stage_score(ctx: _Context) -> dict[str, Any]:

    swept = sweep_leftovers(ctx.workspace)
    if swept:
        ctx.journal.event(
            f"removed {len(swept)} folder(s) left by killed scoring runs: {', '.join(swept)}",
            stage="score",
            level="warning",
        )

    if not Workspace.of(ctx.workspace).lake.batches():
        ctx.journal.event("the lake is empty: nothing to score", stage="score", level="warning")
        return {"skipped": "empty lake"}
    before = runs.latest_run(ctx.workspace)
    try:
        run = scoring.score(ctx.workspace, incremental=True)
    except runs.RunError as e:
        raise StageError(str(e)) from None
    ctx.run_id = run.run_id
    new = run.run_id != before
    ctx.did["score"] = new
    return {
        "run_id": run.run_id,
        "new_run": new,
        "mode": run.manifest.get("mode"),
        "findings": run.manifest.get("findings"),
        "amount_at_risk": run.manifest.get("amount_at_risk"),
        "failed_rules": len(run.manifest.get("failed_rules", [])),
    }


def _stage_marts(ctx: _Context) -> dict[str, Any]:
    if ctx.run_id is None:
        return {"skipped": "no run"}

    if read_marts_manifest(ctx.workspace, ctx.run_id) is not None:
        return {"run_id": ctx.run_id, "built": False}
    marts.build_marts(ctx.workspace, ctx.run_id)
    ctx.did["marts"] = True
    return {"run_id": ctx.run_id, "built": True}


def _stage_exports(ctx: _Context) -> dict[str, Any]:
    if ctx.run_id is None:
        return {"skipped": "no run"}
    folder = exports.exports_dir(ctx.workspace, ctx.run_id)
    if exports.exports_fresh(ctx.workspace, ctx.run_id):
        return {"run_id": ctx.run_id, "built": False, "folder": str(folder)}
    exports.build_exports(
        ctx.workspace,
        runs.open_run(ctx.workspace, ctx.run_id),
        between=lambda: kill_point("exports", "middle"),
    )
    ctx.did["exports"] = True
    return {"run_id": ctx.run_id, "built": True, "folder": str(folder)}


_STAGE_FUNCS: dict[str, Stage] = {
    "ingest": _stage_ingest,
    "score": _stage_score,
    "marts": _stage_marts,
    "exports": _stage_exports,
}


def _run_stage(ctx: _Context, name: str, func: Stage) -> dict[str, Any]:
    kill_point(name, "before")
    ctx.journal.event("start", stage=name)
    t0 = time.perf_counter()
    middle = _MIDDLE_CHECKPOINT.get(name) if os.environ.get(KILL_ENV) == f"{name}:middle" else None
    if middle:
        os.environ[FAULT_ENV] = middle
    try:
        counts = func(ctx)
    finally:
        if middle:
            os.environ.pop(FAULT_ENV, None)
    seconds = round(time.perf_counter() - t0, 2)
    ctx.journal.event("done", stage=name, counts={**counts, "seconds": seconds})
    kill_point(name, "after")
    return {"status": "ok", "seconds": seconds, "counts": counts, "peak_mib": _peak_mib()}


def _peak_mib() -> float:
    """The process's peak resident memory so far (MiB): recorded after each stage, so the
    stage that raised it shows in the run record."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _case_store_head(workspace: Path, log: journal.Journal) -> str | None:
    """The case store's chain head now (``cases verify --anchor`` checks it later); ``None``
    if there is no store yet or it cannot be read (told as a warning, never a failure)."""
    if not store_exists(workspace):
        return None
    try:
        with open_store(workspace) as store:
            return chain.head(store) or None
    except (sqlite3.Error, SchemaError) as e:
        log.event(f"case store chain head not read: {e}", stage="record", level="warning")
        return None


def _summary(status: str, stages: dict[str, Any], seconds: float, error: str | None) -> str:
    parts = []
    for name, s in stages.items():
        c = s.get("counts", {})
        if s["status"] != "ok":
            parts.append(f"{name} FAILED")
        elif name == "ingest":
            parts.append(
                f"ingest {c.get('files', 0)} files ({c.get('committed', 0)} committed, "
                f"{c.get('rejected', 0)} rejected)"
            )
        elif name == "score" and "run_id" in c:
            verb = "new run" if c["new_run"] else "run unchanged"
            parts.append(
                f"score {verb} {c['run_id']}: {c['findings'] or 0:,} leads, "
                f"{money(c['amount_at_risk'] or 0)} at risk"
            )
        elif name in ("marts", "exports") and "built" in c:
            parts.append(f"{name} {'built' if c['built'] else 'up to date'}")
    tail = f": {error}" if error else ""
    return f"nightly {status} in {seconds:.1f} s — {' · '.join(parts)}{tail}"


def run_nightly(
    workspace: Path, *, inbox: Path | None = None, min_free_gb: float = DEFAULT_MIN_FREE_GB
) -> Outcome:
    """Run the nightly batch once; see the module docstring. Never raises for a failed
    stage: the outcome carries the exit code (0 ok, 1 failed stage, 3 locked, 4 low disk)."""
    workspace = Path(workspace)
    run = _new_run_id()
    log = journal.Journal(workspace, run)
    lock_path = workspace / LOCK
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    holder = lake_lock._read(lock_path)
    try:
        with lake_lock.writer_lock(lock_path):
            if holder is not None:
                log.event(
                    f"took over the stale lock of pid {holder.get('pid')} on "
                    f"{holder.get('host')} started {holder.get('started')}",
                    stage="lock",
                    level="warning",
                    counts={"stale_pid": holder.get("pid")},
                )
            return _locked_run(workspace, inbox or workspace / "inbox", min_free_gb, log)
    except lake_lock.LakeLockedError:
        holder = lake_lock._read(lock_path) or {}
        line = (
            f"nightly refused: another instance is running (pid {holder.get('pid', '?')} on "
            f"{holder.get('host', socket.gethostname())} since {holder.get('started', '?')})"
        )
        log.event(line, stage="lock", level="error")
        return Outcome(LOCKED, line)


def _locked_run(workspace: Path, inbox: Path, min_free_gb: float, log: journal.Journal) -> Outcome:
    free = _free_gb(workspace)
    if free < min_free_gb:
        line = (
            f"nightly refused: {free:.1f} GB free under {workspace}, below the minimum "
            f"{min_free_gb:g} GB (--min-free-gb)"
        )
        log.event(line, stage="disk", level="error", counts={"free_gb": round(free, 2)})
        return Outcome(LOW_DISK, line)
    started, t0 = journal.now_iso(), time.perf_counter()
    log.event("nightly start", counts={"free_gb": round(free, 2), "inbox": str(inbox)})
    ctx = _Context(workspace, inbox, log)
    interrupted = journal.read_lines(workspace / CURRENT)
    if interrupted:
        ctx.did["resumed"] = True
        log.event(
            f"run {interrupted[0].get('run')} was interrupted: completing its work",
            level="warning",
            counts={"interrupted_run": interrupted[0].get("run")},
        )
    (workspace / CURRENT).unlink(missing_ok=True)
    journal.append_line(workspace / CURRENT, {"run": log.run, "started": started})
    stages: dict[str, Any] = {}
    error = None
    for name, func in _STAGE_FUNCS.items():
        try:
            stages[name] = _run_stage(ctx, name, func)
        except Exception as e:  # any failure stops the run with its one-line reason
            text = str(e) if isinstance(e, StageError) else f"{type(e).__name__}: {e}"
            reason = " ".join(text.split())
            error = f"stage {name} failed: {reason}"
            stages[name] = {"status": "failed", "seconds": None, "counts": {}, "error": reason}
            log.event(error, stage=name, level="error")
            break
    seconds = round(time.perf_counter() - t0, 2)
    status = "failed" if error else "ok"
    head = _case_store_head(workspace, log)
    record = {
        "run": log.run,
        "status": status,
        "started": started,
        "finished": journal.now_iso(),
        "seconds": seconds,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "score_run": ctx.run_id,
        "stages": stages,
        "warnings": log.warnings,
        "error": error,
        "resumed": interrupted[0].get("run") if interrupted else None,
        "case_store_head": head,
    }
    kill_point("record", "before")
    if error or any(ctx.did.values()):
        journal.record_run(workspace, record)
        log.event("run recorded", stage="record")
    else:
        log.event("nothing new: no run recorded", stage="record")
    (workspace / CURRENT).unlink(missing_ok=True)
    kill_point("record", "after")
    line = _summary(status, stages, seconds, error)
    if head:  # printed, so the service's journal keeps it outside the workspace
        line += f"; case store chain head {head}"
    log.event(line, level="error" if error else "info", counts={"seconds": seconds})
    return Outcome(FAILED if error else OK, line, record)
