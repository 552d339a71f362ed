"""The lake's single-writer lock: a lock file holding the holder's pid, host and start time.

Created with ``O_CREAT | O_EXCL`` so exactly one process wins. A lock whose holder is gone
(no such pid on this host, or the pid now belongs to a younger process) is stale and is
replaced, so a killed nightly job does not block the lake until someone deletes a file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from hrss_fraud.lake.fsutil import FILE_MODE, private_dirs

log = logging.getLogger(__name__)

#: A lock file still empty or unreadable after this long was left by a crash mid-write.
UNREADABLE_GRACE_S = 30.0
#: Slack when comparing a process's create_time with the lock's start time (clock rounding).
CREATE_TIME_SLACK_S = 1.0


class LakeLockedError(RuntimeError):
    """Another live process holds the lake's writer lock."""


def _own_payload() -> dict[str, Any]:
    me = psutil.Process()
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "create_time": me.create_time(),
        "token": secrets.token_hex(8),
    }


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and "pid" in doc else None


def _stale_reason(holder: dict[str, Any]) -> str | None:
    """Why the holder no longer holds the lock, or None when it may still be alive."""
    if holder.get("host") != socket.gethostname():
        return None  # cannot see another host's processes: assume alive
    pid = int(holder["pid"])
    if not psutil.pid_exists(pid):
        return f"pid {pid} is not running"
    try:
        proc = psutil.Process(pid)
        created = proc.create_time()
        if proc.status() == psutil.STATUS_ZOMBIE:
            return f"pid {pid} has exited (zombie)"
    except psutil.NoSuchProcess:
        return f"pid {pid} is not running"
    except psutil.Error:
        return None  # cannot inspect it: assume alive rather than break a live lock
    recorded = holder.get("create_time")
    if recorded is not None and abs(created - float(recorded)) > CREATE_TIME_SLACK_S:
        return f"pid {pid} was reused by a process started at {created:.0f}"
    started = holder.get("started")
    if recorded is None and started:
        since = datetime.fromisoformat(started).timestamp()
        if created > since + CREATE_TIME_SLACK_S:
            return f"pid {pid} was reused by a process started after the lock"
    return None


def _describe(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "a process that is still writing the lock file"
    return f"pid {holder['pid']} on {holder.get('host', '?')} since {holder.get('started', '?')}"


def _try_create(path: Path, payload: dict[str, Any]) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh)
        fh.flush()
        os.fsync(fh.fileno())
    return True


@contextlib.contextmanager
def _breaker(path: Path) -> Iterator[bool]:
    """A short-lived guard so two processes never both break the same stale lock.

    Without it, one could delete the fresh lock the other just created in its place.
    """
    guard = path.with_name(path.name + ".break")
    with contextlib.suppress(FileNotFoundError):
        if time.time() - guard.stat().st_mtime > UNREADABLE_GRACE_S:
            guard.unlink()  # left by a crash while breaking a lock
    try:
        fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        yield False
        return
    os.close(fd)
    try:
        yield True
    finally:
        guard.unlink(missing_ok=True)


def _break_if_stale(path: Path) -> tuple[bool, dict[str, Any] | None]:
    """Remove the lock at ``path`` if its holder is gone: (free now?, holder as read)."""
    with _breaker(path) as mine:
        holder = _read(path)
        if not path.exists():
            return True, None
        if not mine:
            return False, holder
        if holder is None:
            try:
                age = time.time() - path.stat().st_mtime
            except FileNotFoundError:
                return True, None
            if age < UNREADABLE_GRACE_S:
                return False, None
            reason = f"lock file unreadable for {age:.0f} s"
        else:
            reason = _stale_reason(holder)
            if reason is None:
                return False, holder
        log.warning("replacing stale lake writer lock %s (%s): %s", path, _describe(holder), reason)
        path.unlink(missing_ok=True)
        return True, None


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[dict[str, Any]]:
    """Hold the exclusive writer lock at ``path``; LakeLockedError if a live process has it."""
    private_dirs(path.parent)
    payload = _own_payload()
    if not _try_create(path, payload):
        free, holder = _break_if_stale(path)
        if not (free and _try_create(path, payload)):
            holder = holder or _read(path)
            msg = f"the lake at {path.parent} is locked for writing by {_describe(holder)}"
            raise LakeLockedError(msg)
    try:
        yield payload
    finally:
        current = _read(path)
        if current is not None and current.get("token") == payload["token"]:
            path.unlink(missing_ok=True)
