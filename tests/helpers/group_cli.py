"""Run one ``hrss-fraud`` command group on a workspace, as the group tests do: ``ok`` for a
command that must succeed (its standard output), ``refused`` for one that must fail with
the one-line reason (that line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from click.testing import CliRunner, Result


def group_calls(group: click.Group) -> tuple[Callable[..., str], Callable[..., str]]:
    """``ok(ws, *args)`` and ``refused(ws, *args)`` for ``group``."""

    def run(ws: Path, *args: str) -> Result:
        return CliRunner().invoke(group, list(args), obj={"workspace": str(ws)})

    def ok(ws: Path, *args: str) -> str:
        r = run(ws, *args)
        assert r.exit_code == 0, r.output + str(r.exception)
        return r.stdout

    def refused(ws: Path, *args: str) -> str:
        r = run(ws, *args)
        assert r.exit_code == 1 and r.stdout == "", r.output
        (line,) = r.stderr.splitlines()
        assert line.startswith("hrss-fraud: error: ")
        return line

    return ok, refused
