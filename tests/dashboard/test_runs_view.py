"""Which run the dashboard serves: only complete ones, the newest as soon as it appears."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers.small_run import publish_small, small_findings

from hrss_fraud.dashboard import run_words
from hrss_fraud.engine.runs import (
    LATEST,
    RunError,
    complete_runs,
    latest_run,
    previous_run,
    runs_dir,
)
from hrss_fraud.outputs.runs_view import REASONS, RunCache, run_mode_label, run_reasons
from hrss_fraud.scoring import score

FIRST, SECOND = "20250401T000000000Z", "20250402T000000000Z"


def test_half_written_and_manifestless_folders_are_not_runs(tmp_path: Path) -> None:
    publish_small(tmp_path, FIRST, small_findings(FIRST))
    (runs_dir(tmp_path) / f".{SECOND}.tmp").mkdir()  # publish() still writing
    (runs_dir(tmp_path) / "20250403T000000000Z").mkdir()  # no manifest
    assert complete_runs(tmp_path) == [FIRST]
    assert latest_run(tmp_path) == FIRST


def test_without_a_valid_pointer_the_newest_complete_folder_is_latest(tmp_path: Path) -> None:
    publish_small(tmp_path, FIRST, small_findings(FIRST))
    publish_small(tmp_path, SECOND, small_findings(SECOND))
    (runs_dir(tmp_path) / LATEST).write_text("20250409T000000000Z")  # a run deleted by hand
    assert latest_run(tmp_path) == SECOND
    (runs_dir(tmp_path) / LATEST).unlink()
    assert latest_run(tmp_path) == SECOND
    assert previous_run(tmp_path, SECOND) == FIRST
    assert previous_run(tmp_path, FIRST) is None


def test_the_cache_serves_one_view_until_a_newer_run_is_published(tmp_path: Path) -> None:
    cache = RunCache(tmp_path)
    with pytest.raises(RunError, match="no complete scoring run"):
        cache.latest()
    publish_small(tmp_path, FIRST, small_findings(FIRST))
    first = cache.latest()
    assert first.run_id == FIRST and cache.latest() is first
    publish_small(tmp_path, SECOND, small_findings(SECOND))
    second = cache.latest()
    assert second.run_id == SECOND and second is not first
    assert cache.previous(second) is first  # still open for the comparison
    assert first.institutions.columns == ["fixmedins_code", "fixmedins_name", "zone", "zone_name"]


def _scoring_reasons() -> list[str]:
    """Every ``why`` part scoring writes, from its own functions (so a reworded reason
    fails here, not on the overview)."""
    monthly = [
        score._monthly_due({}, date(2025, 3, 2), "2025-03"),
        score._monthly_due({"monthly_as_of": "2025-02"}, date(2025, 3, 2), "2025-03"),
        score._monthly_due({"monthly_as_of": "2025-03"}, date(2025, 2, 2), "2025-03"),
    ]
    plan = [score._plan(Path("/nowhere"), None, incremental=False)[1]]  # type: ignore[arg-type]
    return plan + [f"monthly rules re-scored: {due}" for due in monthly if due]


def test_every_reason_scoring_writes_has_its_words() -> None:
    whys = _scoring_reasons()
    assert len(whys) == 4
    assert all(r.key for why in whys for r in run_reasons(why))
    assert set(run_words.WHY) == set(REASONS)


def test_a_run_is_told_in_words_not_in_the_words_scoring_logged() -> None:
    why = "incremental on run 20250402T000000000Z; monthly rules stand as of 2025-03"
    reasons = run_reasons(why)
    assert [(r.key, r.fields) for r in reasons] == [
        ("incremental_on", {"run": "20250402T000000000Z"}),
        ("monthly_stand", {"month": "2025-03"}),
    ]
    assert run_reasons("a reason from a newer version")[0].key is None
    assert run_reasons(None) == []
    zh = run_words.mode_and_why("incremental", why)
    assert zh.startswith("增量评分：在批次 20250402T000000000Z 的基础上只评新数据；")
    assert zh.endswith("；月度规则沿用截至 2025-03 的结果")
    assert run_words.mode_and_why("full", "a reason from a newer version", "zh") == "全量评分"
    assert run_words.mode_and_why("full", "full run requested", "en") == (
        "full scoring: all data scored, as requested"
    )
    assert (run_mode_label("full"), run_mode_label("incremental", "en")) == (
        "全量评分",
        "incremental scoring",
    )
