"""Which run the dashboard serves: only complete ones, the newest as soon as it appears."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.small_run import publish_small, small_findings

from hrss_fraud.engine.runs import (
    LATEST,
    RunError,
    complete_runs,
    latest_run,
    previous_run,
    runs_dir,
)
from hrss_fraud.outputs.runs_view import RunCache

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
