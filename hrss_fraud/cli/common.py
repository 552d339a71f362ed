"""What every command group shares, at the bottom of the ``hrss_fraud.cli`` package: the
one-line failure, the workspace a command runs in, the operator who acts (``--by``),
lists typed on the command line, and a run's findings as the groups that record decisions
on them read them. Group modules import from here, never from each other's privates nor
from the package itself, so the package can load each group on its own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NoReturn

import click
import polars as pl

from hrss_fraud.cases.operators import OperatorError, resolve_operator
from hrss_fraud.cases.store import SNAPSHOT, CaseStore
from hrss_fraud.engine.runs import RunError
from hrss_fraud.engine.workspace import Workspace


class Fail(click.ClickException):
    """A one-line reason on standard error, exit status 1."""

    def show(self, file: object = None) -> None:
        click.echo(f"hrss-fraud: error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    """End the command with ``message`` as its one-line reason."""
    raise Fail(message)


def current_workspace(ctx: click.Context) -> Workspace:
    """The workspace the root command resolved (``--workspace``, ``HRSS_FRAUD_HOME`` or
    ``./workspace``); resolved here when a group runs on its own, as tests run them."""
    obj = ctx.find_root().obj or {}
    return Workspace.of(obj.get("workspace") or Workspace.at())


def operator(store: CaseStore, by: str | None, permission: str | None = None) -> str:
    """The stored name of the operator ``by`` (an enabled account holding ``permission``),
    for the groups that record who acts; the one-line failure otherwise."""
    try:
        return resolve_operator(store, by, permission=permission).username
    except OperatorError as e:
        fail(str(e))


def split_list(text: str | None) -> list[str]:
    """The non-empty, stripped items of ``a,b,c`` (none for ``None`` or blank), with the
    Chinese comma and enumeration comma accepted too (``李明，王芳``, ``李明、王芳``), as
    users type them."""
    if not text:
        return []
    return [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()]


def day(value: datetime | None) -> date | None:
    """The date of a ``click.DateTime`` option, or ``None``."""
    return None if value is None else value.date()


def run_findings(ws: Workspace, run_id: str | None) -> tuple[str, pl.DataFrame]:
    """The run's id and the snapshot columns of its findings (default: the latest run)."""
    try:
        run = ws.open_run(run_id)
    except RunError as e:
        fail(str(e))
    cols = ["finding_id", *(c for c in SNAPSHOT if c != "run_id")]
    return run.run_id, run.findings().select(cols).with_columns(run_id=pl.lit(run.run_id))


def unknown_findings(ids: list[str], findings: pl.DataFrame, run_id: str) -> str | None:
    """Why ``ids`` cannot be recorded against ``run_id`` (some are not its findings), or
    ``None`` when all are."""
    known = set(findings["finding_id"].to_list())
    missing = [i for i in ids if i not in known]
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" … ({len(missing)} in all)" if len(missing) > 5 else "")
    return (
        f"not a finding of run {run_id}: {shown}; check the ids, or name the run that holds "
        "them with --run"
    )


on_option = click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="日期 Date it happened, YYYY-MM-DD (default: today).",
)
"""``--on``: the day a recorded event happened, for every group that records events."""
