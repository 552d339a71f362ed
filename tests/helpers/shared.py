"""Built once per test run, whatever the number of xdist workers: the first worker to ask
builds under a file lock in the folder the workers share; the others wait for the lock,
then reuse the result. What is built this way is read-only to the tests: a test or a
fixture that writes works on a copy (``copy_workspace``)."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's own temporary folder: under xdist, the parent of every worker's
    ``popen-gwN`` (pytest-xdist's documented pattern); without it, the session's."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """``<shared root>/<name>``, made by ``build(folder)`` if no worker made it yet.

    ``build`` writes in place (what it makes may record its own path); ``<name>.done``
    marks it finished, so a build that failed is not taken for one: the next caller
    starts it again."""
    root = shared_root(tmp_path_factory)
    folder, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits while another worker builds
        try:
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                build(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


def copy_workspace(source: Path, dest: Path, parts: tuple[str, ...] | None = None) -> Path:
    """A copy of ``source`` (or of its ``parts`` only) at ``dest``, for tests that write."""
    if parts is None:
        shutil.copytree(source, dest, symlinks=True)
    else:
        for part in parts:
            shutil.copytree(source / part, dest / part, symlinks=True)
    return dest
