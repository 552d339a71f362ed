"""The overview's nightly-batch section (夜间批处理): the last runs as a table, a one-line
headline for the latest, whether it needs attention, and the upload files it rejected.

Everything comes from the small JSON-lines files :mod:`hrss_fraud.nightly.journal` keeps
(the run records, the rejections and the tail of the event log), never from the lake, so
the section costs the overview's first load a few milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.dashboard import i18n
from hrss_fraud.model.times import minute
from hrss_fraud.nightly import journal
from hrss_fraud.outputs.labels import _pick

STALE_AFTER = timedelta(hours=36)
"""A nightly batch runs every night: nothing for this long means last night's did not run."""

LOG_TAIL_BYTES = 64 * 1024
"""How much of the end of the event log is read for the last run that found nothing new
(one run writes a few KB; the log is only rotated weekly, if at all)."""

STAGES = ("ingest", "score", "marts", "exports")

STATUSES: dict[str, tuple[str, str]] = {"ok": ("成功", "ok"), "failed": ("失败", "failed")}

COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "run": ("批处理编号", "nightly run"),
    "started": ("开始时间", "started"),
    "finished": ("结束时间", "finished"),
    "seconds": ("用时(秒)", "took (s)"),
    "status_label": ("状态", "status"),
    "score_run": ("评分批次", "scoring run"),
    **{
        f"{s}_seconds": (f"{zh}(秒)", f"{s} (s)")
        for s, zh in zip(STAGES, ("导入", "评分", "看板数据", "导出"), strict=True)
    },
    "n_warnings": ("警告数", "warnings"),
    "error": ("错误", "error"),
    "resumed": ("接续中断的批处理", "resumed from"),
    "time": ("时间", "time"),
    "file": ("文件", "file"),
    "reason": ("原因", "reason"),
}
"""Headers of :func:`runs_frame` and :func:`rejections_frame` columns, for ``pc.table``."""

RUN_SCHEMA: dict[str, Any] = {
    "run": pl.String,
    "started": pl.String,
    "finished": pl.String,
    "seconds": pl.Float64,
    "status": pl.String,
    "status_label": pl.String,
    "score_run": pl.String,
    **{f"{s}_seconds": pl.Float64 for s in STAGES},
    "n_warnings": pl.Int64,
    "error": pl.String,
    "resumed": pl.String,
}

REJECTION_SCHEMA: dict[str, Any] = {
    "time": pl.String,
    "file": pl.String,
    "reason": pl.String,
    "error": pl.String,
    "run": pl.String,
}


def _when(stamp: Any) -> datetime | None:
    """A record's ISO time in UTC; ``None`` for a missing or unreadable one (a record
    written by hand or by an older version must not break the page)."""
    try:
        at = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def _shown(stamp: Any) -> str | None:
    """A record's time as the page shows it: local, to the minute."""
    at = _when(stamp)
    return minute(at) if at else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def runs_frame(workspace: Path, n: int = 10, *, lang: str = "zh") -> pl.DataFrame:
    """The ``n`` latest nightly runs, newest first, one row per run with the columns of
    :data:`RUN_SCHEMA`: times in local time to the minute, the status and its label, the scoring
    run it produced, each stage's seconds (null: the stage did not run or failed), the
    number of warnings, the one-line error and the killed run it completed."""
    rows = []
    for r in journal.last_runs(workspace, n):
        stages = r.get("stages") or {}
        status = str(r.get("status") or "")
        rows.append(
            {
                "run": r.get("run"),
                "started": _shown(r.get("started")),
                "finished": _shown(r.get("finished")),
                "seconds": _number(r.get("seconds")),
                "status": status,
                "status_label": _pick(STATUSES.get(status, (status, status)), lang),
                "score_run": r.get("score_run"),
                **{f"{s}_seconds": _number((stages.get(s) or {}).get("seconds")) for s in STAGES},
                "n_warnings": len(r.get("warnings") or []),
                "error": r.get("error"),
                "resumed": r.get("resumed"),
            }
        )
    return pl.DataFrame(rows, schema=RUN_SCHEMA, orient="row")


def rejections_frame(workspace: Path, n: int = 10) -> pl.DataFrame:
    """The ``n`` latest upload files the nightly ingest rejected, newest first: when (UTC),
    the file's name, the reason, the error and the nightly run."""
    lines = journal.read_lines(Path(workspace) / journal.REJECTIONS)[::-1][: max(n, 0)]
    rows = [
        {
            "time": _shown(r.get("ts")),
            "file": r.get("file"),
            "reason": r.get("reason"),
            "error": r.get("error"),
            "run": r.get("run"),
        }
        for r in lines
    ]
    return pl.DataFrame(rows, schema=REJECTION_SCHEMA, orient="row")


def last_checked(workspace: Path) -> datetime | None:
    """When the batch last got to its ``record`` stage, recorded or not: a night without
    new uploads writes no run record, only ``nothing new`` to the event log, and must not
    count as a night the batch did not run. Only the log's tail is read."""
    path = Path(workspace) / journal.LOG
    try:
        with path.open("rb") as f:
            f.seek(max(f.seek(0, 2) - LOG_TAIL_BYTES, 0))
            tail = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    latest = None
    for line in tail.splitlines():
        try:
            event = json.loads(line)
        except ValueError:  # the first line cut by the seek, or a torn last one
            continue
        if isinstance(event, dict) and event.get("stage") == "record":
            at = _when(event.get("ts"))
            if at and (latest is None or at > latest):
                latest = at
    return latest


@dataclass(frozen=True)
class NightlyStatus:
    """What the section's headline says about the latest run, and whether it is a warning."""

    headline: str
    failed: bool
    """The latest recorded run failed: the data the dashboard shows may be a night old."""
    stale: bool
    """Nothing ran for :data:`STALE_AFTER`: last night's batch did not run."""

    @property
    def alert(self) -> bool:
        return self.failed or self.stale


def nightly_status(
    workspace: Path, *, lang: str = "zh", now: datetime | None = None
) -> NightlyStatus:
    """The latest nightly run in one line (status, start, duration, error), failed or stale
    (``now`` is for tests). No record yet is not a warning: a workspace scored by hand has
    none."""
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    latest = next(iter(journal.last_runs(workspace, 1)), None)
    checked = last_checked(workspace)
    ran = (_when(latest.get("finished")) or _when(latest.get("started"))) if latest else None
    last = max((t for t in (ran, checked) if t), default=None)
    stale = last is not None and now - last > STALE_AFTER
    if latest is None:
        parts = [i18n.text("nightly_view.no_run_yet", lang, workspace)]
    else:
        status = str(latest.get("status") or "")
        seconds = _number(latest.get("seconds")) or 0
        started = _shown(latest.get("started")) or "?"
        label = _pick(STATUSES.get(status, (status, status)), lang)
        parts = [
            i18n.text(
                "nightly_view.last_batch",
                lang,
                workspace,
                label=label,
                started=started,
                seconds=seconds,
            )
        ]
        if latest.get("error"):
            parts.append(f" — {latest['error']}")
    if checked and (ran is None or checked > ran):
        at = minute(checked)
        parts.append(i18n.text("nightly_view.last_check_nothing_new", lang, workspace, at=at))
    if stale:
        hours = int(STALE_AFTER.total_seconds() // 3600)
        parts.append(i18n.text("nightly_view.stale", lang, workspace, hours=hours))
    return NightlyStatus(
        headline="".join(parts),
        failed=latest is not None and latest.get("status") == "failed",
        stale=stale,
    )
