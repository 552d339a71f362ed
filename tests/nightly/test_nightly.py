"""The nightly batch in-process: two nights on the tiny county, a no-op third night, a
failed stage, the lock and the disk check."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import polars as pl
import psutil
import pytest
from click.testing import CliRunner

from hrss_fraud.cli import main
from hrss_fraud.engine.runs import latest_run, runs_dir
from hrss_fraud.nightly.exports import FILES, exports_dir, exports_fresh
from hrss_fraud.nightly.journal import LOG, last_runs, read_lines
from hrss_fraud.nightly.runner import LOCK, run_nightly, sweep_leftovers

from .conftest import fill_inbox, months


@pytest.fixture(scope="module")
def two_nights(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Night 1: the reference tables and the first month; night 2: the next month."""
    ws = tmp_path_factory.mktemp("nightly") / "ws"
    inbox = ws / "inbox"
    ms = months(tiny_county)
    fill_inbox(tiny_county, inbox, ms[:1], reference=True)
    for bad in (tiny_county / "malformed").iterdir():
        if bad.suffix not in (".md", ".json"):
            shutil.copy2(bad, inbox / f"bad_{bad.name}")
    first = run_nightly(ws, min_free_gb=0)
    run1 = latest_run(ws)
    summary1 = (exports_dir(ws, run1) / "summary.html").read_text(encoding="utf-8")
    fill_inbox(tiny_county, inbox, ms[1:2], reference=False)
    second = run_nightly(ws, min_free_gb=0)
    return {"ws": ws, "first": first, "second": second, "run1": run1, "summary1": summary1}


def _snapshot(ws: Path) -> dict[str, object]:
    files = sorted(p for p in (ws / "exports").rglob("*") if p.is_file())
    return {
        "runs": sorted(p.name for p in runs_dir(ws).iterdir()),
        "latest": latest_run(ws),
        "records": (ws / "nightly" / "runs.jsonl").read_bytes(),
        "exports": {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in files},
    }


def test_two_nights_ingest_score_and_export(two_nights: dict) -> None:
    ws, first, second = two_nights["ws"], two_nights["first"], two_nights["second"]
    assert (first.code, second.code) == (0, 0), (first.line, second.line)
    assert first.record["stages"]["score"]["counts"]["mode"] == "full"
    assert second.record["stages"]["score"]["counts"]["mode"] == "incremental"
    assert second.record["stages"]["ingest"]["counts"]["committed"] > 0
    run2 = latest_run(ws)
    assert run2 != two_nights["run1"]
    assert exports_fresh(ws, run2)
    folder = exports_dir(ws, run2)
    assert sorted(p.name for p in folder.iterdir() if p.name in FILES) == sorted(FILES)
    inspection = pl.read_parquet(folder / "inspection_list.parquet")
    assert inspection.columns[:3] == ["rank", "fixmedins_code", "fixmedins_name"]
    html = (folder / "summary.html").read_text(encoding="utf-8")
    assert run2 in html and "新增疑点" in html and "拒收文件" in html
    assert not [p for p in (ws / "inbox").iterdir() if p.is_file()]  # all filed away


def test_rejections_and_quarantine_reach_the_summary_as_warnings(two_nights: dict) -> None:
    first = two_nights["first"]
    assert first.code == 0
    ingest = first.record["stages"]["ingest"]["counts"]
    assert ingest["rejected"] > 0 and ingest["quarantined"] > 0
    assert any("bad_empty.csv" in w for w in first.record["warnings"])
    assert "bad_empty.csv" in two_nights["summary1"]
    assert "隔离行" in two_nights["summary1"]
    rejected = two_nights["ws"] / "inbox" / "rejected"
    assert (rejected / "bad_empty.csv.reason.txt").is_file()


def test_logs_are_json_lines_with_stage_and_counts(two_nights: dict) -> None:
    events = read_lines(two_nights["ws"] / LOG)
    assert events and all(
        {"ts", "level", "stage", "run", "message", "counts"} <= e.keys() for e in events
    )
    done = [e for e in events if e["stage"] == "score" and e["message"] == "done"]
    assert done[-1]["counts"]["findings"] > 0 and "seconds" in done[-1]["counts"]


def test_last_runs_newest_first(two_nights: dict) -> None:
    runs = last_runs(two_nights["ws"], 5)
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[0]["run"] == two_nights["second"].record["run"]
    assert set(runs[0]["stages"]) == {"ingest", "score", "marts", "exports"}
    assert last_runs(two_nights["ws"], 1) == runs[:1]


def test_second_run_with_nothing_new_changes_nothing(two_nights: dict) -> None:
    ws = two_nights["ws"]
    before = _snapshot(ws)
    again = run_nightly(ws, min_free_gb=0)
    assert again.code == 0, again.line
    assert "run unchanged" in again.line and "exports up to date" in again.line
    assert _snapshot(ws) == before


def test_failed_stage_keeps_yesterdays_results(
    two_nights: dict, tiny_county: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hrss_fraud.engine import runs
    from hrss_fraud.scoring import score

    ws = two_nights["ws"]
    latest = latest_run(ws)

    def broken(*args: object, **kwargs: object) -> None:
        msg = "catalogue unreadable"
        raise runs.RunError(msg)

    monkeypatch.setattr(score, "score", broken)
    result = CliRunner().invoke(main, ["--workspace", str(ws), "nightly", "--min-free-gb", "0"])
    assert result.exit_code == 1
    assert result.output.startswith("hrss-fraud: error: nightly failed")
    assert result.output.count("\n") == 1
    assert "stage score failed: catalogue unreadable" in result.output
    assert latest_run(ws) == latest and exports_fresh(ws, latest)
    assert last_runs(ws, 1)[0]["status"] == "failed"


def _lock_payload(pid: int) -> dict[str, object]:
    return {
        "pid": pid,
        "host": socket.gethostname(),
        "started": "2026-01-01T02:00:00+00:00",
        "create_time": psutil.Process(pid).create_time() if psutil.pid_exists(pid) else 0.0,
        "token": "x",
    }


def test_live_lock_is_refused_with_exit_3(tmp_path: Path) -> None:
    (tmp_path / LOCK).parent.mkdir(parents=True)
    (tmp_path / LOCK).write_text(json.dumps(_lock_payload(os.getpid())), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--workspace", str(tmp_path), "nightly", "--min-free-gb", "0"]
    )
    assert result.exit_code == 3
    assert f"another instance is running (pid {os.getpid()}" in result.output
    assert (tmp_path / LOCK).exists()


def test_stale_lock_is_taken_over_and_logged(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (tmp_path / LOCK).parent.mkdir(parents=True)
    (tmp_path / LOCK).write_text(json.dumps(_lock_payload(child.pid)), encoding="utf-8")
    outcome = run_nightly(tmp_path, min_free_gb=0)
    assert outcome.code == 0, outcome.line
    warnings = [e for e in read_lines(tmp_path / LOG) if e["stage"] == "lock"]
    assert f"stale lock of pid {child.pid}" in warnings[0]["message"]
    assert not (tmp_path / LOCK).exists()


def test_low_disk_is_refused_with_exit_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRSS_NIGHTLY_MIN_FREE_GB", "1e9")
    result = CliRunner().invoke(main, ["--workspace", str(tmp_path), "nightly"])
    assert result.exit_code == 4
    assert "below the minimum 1e+09 GB" in result.output
    assert not (tmp_path / "lake").exists()


def test_sweep_removes_only_old_leftovers_of_killed_scoring_runs(tmp_path: Path) -> None:
    runs = runs_dir(tmp_path)
    old, young, published = runs / ".20260101T000000000Z.work", runs / ".x.tmp", runs / "r1"
    for p in (old, young, published):
        p.mkdir(parents=True)
    os.utime(old, (0, 0))
    os.utime(published, (0, 0))
    assert sweep_leftovers(tmp_path) == [old.name]
    assert sorted(p.name for p in runs.iterdir()) == [young.name, published.name]


def test_the_second_nights_marts_carry_the_first_nights_and_equal_a_full_build(
    two_nights: dict, tmp_path: Path
) -> None:
    from polars.testing import assert_frame_equal

    from hrss_fraud.outputs.marts import build_marts
    from hrss_fraud.outputs.runs_view import MARTS_MANIFEST, marts_dir

    ws, run1 = two_nights["ws"], two_nights["run1"]
    run2 = latest_run(ws)
    carried = json.loads((marts_dir(ws, run2) / MARTS_MANIFEST).read_text(encoding="utf-8"))
    assert carried["carried_from"] == run1
    assert (
        0 < carried["fresh_leads"] < len(pl.read_parquet(runs_dir(ws) / run2 / "findings.parquet"))
    )
    timeline = pl.read_parquet(marts_dir(ws, run2) / carried["files"]["person_timeline"])
    assert 0 < carried["fresh_persons"] < timeline["psn_no"].n_unique()
    full_ws = tmp_path / "ws"
    for part in ("lake", "runs"):
        shutil.copytree(ws / part, full_ws / part)
    shutil.rmtree(marts_dir(full_ws, run1))  # nothing to carry: a full build
    build_marts(full_ws, run2, force=True)
    full = json.loads((marts_dir(full_ws, run2) / MARTS_MANIFEST).read_text(encoding="utf-8"))
    assert full["carried_from"] is None and full["fresh_persons"] is None
    assert full["files"] == carried["files"]
    for file in full["files"].values():
        carried_mart = pl.read_parquet(marts_dir(ws, run2) / file)
        assert_frame_equal(carried_mart, pl.read_parquet(marts_dir(full_ws, run2) / file))
    # previous marts without their lead hashes (built by older code): hashed again, same
    older_ws = tmp_path / "older"
    for part in ("lake", "runs"):
        shutil.copytree(ws / part, older_ws / part)
    manifest_path = marts_dir(older_ws, run1) / MARTS_MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    (marts_dir(older_ws, run1) / manifest["files"].pop("lead_hashes")).unlink()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    build_marts(older_ws, run2, force=True)
    older = json.loads((marts_dir(older_ws, run2) / MARTS_MANIFEST).read_text(encoding="utf-8"))
    assert older["carried_from"] == run1 and older["fresh_leads"] == carried["fresh_leads"]
    for file in older["files"].values():
        rebuilt = pl.read_parquet(marts_dir(older_ws, run2) / file)
        assert_frame_equal(rebuilt, pl.read_parquet(marts_dir(full_ws, run2) / file))


def test_the_inspection_list_is_the_run_s_institution_ranking(two_nights: dict) -> None:
    """Without a review model the exports take the ranking the marts computed: it must be
    the one the ranking function gives."""
    from polars.testing import assert_frame_equal

    from hrss_fraud.engine.runs import open_run
    from hrss_fraud.lake import Lake
    from hrss_fraud.outputs.ranking import COLUMNS, institution_ranking

    ws = two_nights["ws"]
    run = open_run(ws, latest_run(ws))
    expected = institution_ranking(run, Lake(ws / "lake"), "zh").select(COLUMNS)
    listed = pl.read_parquet(exports_dir(ws, run.run_id) / "inspection_list.parquet")
    assert_frame_equal(listed, expected)


def test_each_night_records_the_case_store_chain_head_for_verify(
    two_nights: dict, tmp_path: Path
) -> None:
    from hrss_fraud.cases import chain, open_store
    from hrss_fraud.cases.users import add_user
    from hrss_fraud.nightly.journal import Journal
    from hrss_fraud.nightly.runner import _case_store_head

    assert "case_store_head" in two_nights["second"].record
    log = Journal(tmp_path, "test")
    assert _case_store_head(tmp_path, log) is None  # no store yet: nothing to record
    with open_store(tmp_path) as store:
        assert _case_store_head(tmp_path, log) is None  # a store with nothing chained
        add_user(store, "boss", role="admin", password="Head-pass-2026", by="setup")
        head = _case_store_head(tmp_path, log)
        assert head == chain.head(store) and len(head) == 64
        assert chain.verify(store, anchor=head).ok
        assert not chain.verify(store, anchor="0" * 64).ok
