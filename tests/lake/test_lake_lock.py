"""The single-writer lock: exclusive across processes, stale locks replaced, readers free."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from hrss_fraud.lake import Lake, LakeLockedError

REPO = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from pathlib import Path
from hrss_fraud.lake import Lake
with Lake(Path(sys.argv[1])).writer():
    print("locked", flush=True)
    sys.stdin.readline()
"""


def write_lock(lake: Lake, **payload: object) -> Path:
    lake.root.mkdir(parents=True, exist_ok=True)
    path = lake.root / "writer.lock"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_lock_file_names_the_holder_and_is_removed_on_exit(lake: Lake) -> None:
    with lake.writer():
        holder = json.loads((lake.root / "writer.lock").read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid()
        assert holder["host"] == socket.gethostname()
        assert holder["started"]
    assert not (lake.root / "writer.lock").exists()


def test_lock_is_released_when_the_body_raises(lake: Lake) -> None:
    with pytest.raises(ZeroDivisionError), lake.writer():
        1 / 0  # noqa: B018
    with lake.writer():
        pass


def test_second_writer_in_another_process_is_refused_with_its_pid(lake: Lake) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lake.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "locked"
        with (
            pytest.raises(LakeLockedError, match=rf"pid {child.pid} on .* since 20"),
            lake.writer(),
        ):
            pass
        assert lake.connect().execute("SELECT count(*) FROM fee_detail").fetchone() == (0,)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    with lake.writer():
        pass


def test_nested_writer_in_the_same_process_is_refused(lake: Lake) -> None:
    with lake.writer(), pytest.raises(LakeLockedError, match=f"pid {os.getpid()}"), lake.writer():
        pass


def test_stale_lock_of_a_dead_pid_is_replaced_with_a_warning(
    lake: Lake, caplog: pytest.LogCaptureFixture
) -> None:
    pid = dead_pid()
    path = write_lock(lake, pid=pid, host=socket.gethostname(), started="2025-01-01T00:00:00+00:00")
    with caplog.at_level(logging.WARNING), lake.writer():
        assert json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid()
    assert f"pid {pid} is not running" in caplog.text


def test_lock_of_a_reused_pid_is_stale(lake: Lake, caplog: pytest.LogCaptureFixture) -> None:
    created = psutil.Process().create_time()
    write_lock(
        lake, pid=os.getpid(), host=socket.gethostname(), started="2001-01-01T00:00:00+00:00"
    )
    with caplog.at_level(logging.WARNING), lake.writer():
        pass
    assert "reused" in caplog.text
    write_lock(
        lake, pid=os.getpid(), host=socket.gethostname(), started="x", create_time=created - 3600
    )
    with lake.writer():
        pass


def test_lock_held_on_another_host_is_respected(lake: Lake) -> None:
    write_lock(lake, pid=dead_pid(), host="other-host", started="2025-01-01T00:00:00+00:00")
    with pytest.raises(LakeLockedError, match="on other-host"), lake.writer():
        pass


def test_lock_file_being_written_is_respected_until_it_is_old(lake: Lake) -> None:
    lake.root.mkdir(parents=True)
    path = lake.root / "writer.lock"
    path.write_text("", encoding="utf-8")
    with pytest.raises(LakeLockedError, match="still writing the lock file"), lake.writer():
        pass
    old = time.time() - 3600
    os.utime(path, (old, old))
    with lake.writer():
        pass
