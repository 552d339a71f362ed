"""Crash drills: a nightly process killed with SIGKILL at stage boundaries and in the
middle of each stage, then run again, leaves exactly what an uninterrupted run leaves.

To keep the number of processes small, the drills run as one chain on one workspace:
each process is killed at a later point than the one before (so each resumes the work
of the killed one), and the last runs to the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.shared import copy_workspace

from hrss_fraud.engine.runs import latest_run
from hrss_fraud.lake.fsutil import FAULT_ENV
from hrss_fraud.nightly.exports import exports_fresh
from hrss_fraud.nightly.journal import LOG, last_runs, read_lines
from hrss_fraud.nightly.runner import KILL_ENV

from .conftest import cases_dump, fill_inbox, findings_fingerprint, lake_fingerprint, months

pytestmark = pytest.mark.slow

#: (env var, value) of each killed process, in order. ``before_manifest`` is the lake's own
#: checkpoint: a batch's files written, the manifest not yet (the middle of a commit).
CHAIN = [
    (KILL_ENV, "ingest:before"),
    (FAULT_ENV, "before_manifest"),
    (KILL_ENV, "ingest:middle"),  # committed, files still in the inbox
    (KILL_ENV, "ingest:after"),
    (KILL_ENV, "score:middle"),  # findings written in the unpublished run folder
    (KILL_ENV, "score:after"),
    (KILL_ENV, "marts:middle"),
    (KILL_ENV, "marts:after"),
    (KILL_ENV, "exports:middle"),
    (KILL_ENV, "exports:after"),  # all done but the run record
]


def _nightly(
    ws: Path, inbox: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in (KILL_ENV, FAULT_ENV)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "hrss_fraud",
            "--workspace",
            str(ws),
            "nightly",
            "--inbox",
            str(inbox),
            "--min-free-gb",
            "0",
        ],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def reference(small_county_night: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted nightly over the whole small county (this module's copy)."""
    return copy_workspace(small_county_night, tmp_path_factory.mktemp("uninterrupted") / "ws")


def test_killed_at_every_stage_then_resumed_matches_uninterrupted(
    small_county: Path, reference: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    inbox = fill_inbox(small_county, tmp_path / "inbox", months(small_county), reference=True)
    for name, point in CHAIN:
        killed = _nightly(ws, inbox, {name: point})
        assert killed.returncode == -9, (point, killed.returncode, killed.stderr[-2000:])
    done = _nightly(ws, inbox)
    assert done.returncode == 0, done.stderr
    assert lake_fingerprint(ws) == lake_fingerprint(reference)
    assert findings_fingerprint(ws).equals(findings_fingerprint(reference))
    assert cases_dump(ws) == cases_dump(reference)
    assert not [p for p in inbox.iterdir() if p.is_file()]
    assert exports_fresh(ws, latest_run(ws))
    takeovers = [e for e in read_lines(ws / LOG) if e["stage"] == "lock"]
    assert len(takeovers) == len(CHAIN)  # every killed process left its lock behind
    record = last_runs(ws, 1)[0]
    assert record["status"] == "ok" and record["resumed"]
    again = _nightly(ws, inbox)
    assert again.returncode == 0 and "run unchanged" in again.stdout
    assert last_runs(ws, 1)[0]["run"] == record["run"]


def test_second_uninterrupted_run_is_a_no_op(reference: Path, tmp_path: Path) -> None:
    before = latest_run(reference), len(last_runs(reference, 100))
    again = _nightly(reference, tmp_path / "empty_inbox")
    assert again.returncode == 0, again.stderr
    assert (latest_run(reference), len(last_runs(reference, 100))) == before
