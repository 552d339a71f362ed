"""The overview's nightly-batch section without a browser: run records written with the
batch's own ``journal.record_run``, read back as a table, a headline and its warning flags."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hrss_fraud.dashboard import nightly_view as nv
from hrss_fraud.nightly import journal

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _record(run: str, started: str, *, seconds: float = 95.2, **extra: Any) -> dict[str, Any]:
    stage = {"status": "ok", "seconds": 10.5, "counts": {}}
    return {
        "run": run,
        "status": "ok",
        "started": started,
        "finished": started.replace(":00:00", ":01:35"),
        "seconds": seconds,
        "score_run": f"s-{run}",
        "stages": {"ingest": stage, "score": stage, "marts": stage, "exports": stage},
        "warnings": [],
        "error": None,
        "resumed": None,
        **extra,
    }


@pytest.fixture(autouse=True)
def office_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The office's clock is UTC+8: the records' UTC times are shown eight hours on."""
    monkeypatch.setenv("TZ", "CST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


FAILED = "stage score failed: RunError: rule R07 crashed"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """Three nights: ok, failed at the score stage, then ok again completing a killed run."""
    journal.record_run(tmp_path, _record("n1", "2026-11-30T02:00:00.000+00:00"))
    failed = _record(
        "n2",
        "2026-12-01T02:00:00.000+00:00",
        status="failed",
        error=FAILED,
        score_run=None,
        warnings=["ingest: rejected a.csv", "ingest: rejected b.csv"],
    )
    failed["stages"] = {
        "ingest": {"status": "ok", "seconds": 3.0, "counts": {}},
        "score": {"status": "failed", "seconds": None, "counts": {}, "error": "R07"},
    }
    journal.record_run(tmp_path, failed)
    journal.record_run(tmp_path, _record("n3", "2026-12-02T02:00:00.000+00:00", resumed="n2"))
    return tmp_path


def test_runs_frame_newest_first_with_stage_seconds(ws: Path) -> None:
    runs = nv.runs_frame(ws, 10)
    assert runs.columns == list(nv.RUN_SCHEMA)
    assert runs["run"].to_list() == ["n3", "n2", "n1"]
    assert runs.row(0, named=True) == {
        "run": "n3",
        "started": "2026-12-02 10:00",
        "finished": "2026-12-02 10:01",
        "seconds": 95.2,
        "status": "ok",
        "status_label": "成功",
        "score_run": "s-n3",
        "ingest_seconds": 10.5,
        "score_seconds": 10.5,
        "marts_seconds": 10.5,
        "exports_seconds": 10.5,
        "n_warnings": 0,
        "error": None,
        "resumed": "n2",
    }
    failed = runs.row(1, named=True)
    assert (failed["status_label"], failed["error"], failed["n_warnings"]) == ("失败", FAILED, 2)
    assert (failed["ingest_seconds"], failed["score_seconds"], failed["exports_seconds"]) == (
        3.0,
        None,
        None,
    )


def test_runs_frame_keeps_the_last_n_and_labels_in_english(ws: Path) -> None:
    runs = nv.runs_frame(ws, 2, lang="en")
    assert runs["run"].to_list() == ["n3", "n2"]
    assert runs["status_label"].to_list() == ["ok", "failed"]


def test_headline_of_a_fresh_ok_run_in_both_languages(ws: Path) -> None:
    zh = nv.nightly_status(ws, now=NOW)
    assert zh.headline == "最近一次夜间批处理：成功，2026-12-02 10:00 开始，用时 95 秒"
    assert (zh.failed, zh.stale, zh.alert) == (False, False, False)
    en = nv.nightly_status(ws, lang="en", now=NOW).headline
    assert en == "Last nightly batch: ok, started 2026-12-02 10:00, took 95 s"


def test_a_failed_latest_run_is_an_alert_with_its_error(tmp_path: Path) -> None:
    journal.record_run(
        tmp_path,
        _record("n9", "2026-12-02T02:00:00.000+00:00", status="failed", error=FAILED),
    )
    status = nv.nightly_status(tmp_path, now=NOW)
    assert (status.failed, status.stale, status.alert) == (True, False, True)
    assert status.headline.startswith("最近一次夜间批处理：失败，")
    assert status.headline.endswith(FAILED)


def test_no_run_for_36_hours_is_stale(ws: Path) -> None:
    status = nv.nightly_status(ws, lang="en", now=datetime(2026, 12, 3, 15, 0, tzinfo=UTC))
    assert (status.failed, status.stale, status.alert) == (False, True, True)
    assert "last night's batch did not run" in status.headline
    zh = nv.nightly_status(ws, now=datetime(2026, 12, 3, 15, 0, tzinfo=UTC)).headline
    assert "已超过 36 小时未运行" in zh


def test_a_night_with_nothing_new_is_not_stale(ws: Path) -> None:
    """Such a night writes no run record, only its events to the log."""
    event = {"ts": "2026-12-04T02:00:01.000+00:00", "stage": "record", "run": "n5"}
    journal.append_line(ws / journal.LOG, {**event, "message": "nothing new: no run recorded"})
    later = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert nv.last_checked(ws) == datetime(2026, 12, 4, 2, 0, 1, tzinfo=UTC)
    status = nv.nightly_status(ws, lang="en", now=later)
    assert not status.stale
    assert status.headline.endswith("; last check 2026-12-04 10:00 found nothing new")
    assert nv.nightly_status(ws, now=later.replace(day=6)).stale


def test_the_log_tail_cut_mid_line_still_gives_the_last_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in range(1, 10):
        event = {"ts": f"2026-11-0{day}T02:00:00+00:00", "stage": "record", "message": "x" * 90}
        journal.append_line(tmp_path / journal.LOG, event)
    monkeypatch.setattr(nv, "LOG_TAIL_BYTES", 300)  # two events and a cut one
    assert nv.last_checked(tmp_path) == datetime(2026, 11, 9, 2, 0, tzinfo=UTC)


def test_no_nightly_folder_yet(tmp_path: Path) -> None:
    assert nv.runs_frame(tmp_path).columns == list(nv.RUN_SCHEMA)
    assert nv.runs_frame(tmp_path).height == 0
    assert nv.rejections_frame(tmp_path).height == 0
    assert nv.last_checked(tmp_path) is None
    zh, en = nv.nightly_status(tmp_path, now=NOW), nv.nightly_status(tmp_path, lang="en")
    assert (zh.headline, en.headline) == ("尚无夜间批处理记录", "No nightly run recorded yet")
    assert not zh.alert  # a workspace scored by hand has no nightly runs


def test_a_torn_last_line_is_skipped(ws: Path) -> None:
    with (ws / journal.RUNS).open("a", encoding="utf-8") as f:
        f.write('{"run": "n4", "status": "ok", "started": "2026-12-0')
    assert nv.runs_frame(ws)["run"].to_list() == ["n3", "n2", "n1"]
    assert "2026-12-02 10:00" in nv.nightly_status(ws, now=NOW).headline


def test_rejected_files_newest_first(tmp_path: Path) -> None:
    for i, name in enumerate(["a.csv", "b.xlsx", "c.csv"]):
        journal.append_line(
            tmp_path / journal.REJECTIONS,
            {
                "ts": f"2026-12-0{i + 1}T02:00:05.000+00:00",
                "file": name,
                "reason": "unknown_layout",
                "error": f"{name}: 无法识别的文件格式",
                "run": f"n{i + 1}",
            },
        )
    rejected = nv.rejections_frame(tmp_path, 2)
    assert rejected.columns == list(nv.REJECTION_SCHEMA)
    assert rejected["file"].to_list() == ["c.csv", "b.xlsx"]
    assert rejected.row(0, named=True)["time"] == "2026-12-03 10:00"
