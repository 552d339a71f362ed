"""``hrss-fraud nightly``: the nightly batch (see :mod:`hrss_fraud.nightly.runner`).

Exit codes: 0 ok, 1 a stage failed, 2 usage, 3 another live instance holds the lock,
4 too little free disk. ``backup`` and ``restore`` (:mod:`hrss_fraud.nightly.backup`) come
along.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hrss_fraud.cli.common import current_workspace
from hrss_fraud.nightly.runner import DEFAULT_MIN_FREE_GB, OK, run_nightly

MIN_FREE_ENV = "HRSS_NIGHTLY_MIN_FREE_GB"


@click.command("nightly")
@click.option(
    "--inbox",
    type=click.Path(file_okay=False, path_type=Path),
    help="上传收件箱 Upload inbox (default: WORKSPACE/inbox).",
)
@click.option(
    "--min-free-gb",
    type=click.FloatRange(min=0),
    default=lambda: float(os.environ.get(MIN_FREE_ENV, DEFAULT_MIN_FREE_GB)),
    show_default=f"${MIN_FREE_ENV} or {DEFAULT_MIN_FREE_GB:g}",
    help="Refuse to start with less free disk than this (GB).",
)
@click.pass_context
def nightly(ctx: click.Context, inbox: Path | None, min_free_gb: float) -> None:
    """夜间批处理。Ingest the inbox, score incrementally, build marts and exports.

    Exit codes: 0 ok, 1 failed stage, 2 usage, 3 locked by a live instance, 4 low disk.
    """
    outcome = run_nightly(current_workspace(ctx), inbox=inbox, min_free_gb=min_free_gb)
    if outcome.code == OK:
        click.echo(outcome.line)
    else:
        click.echo(f"hrss-fraud: error: {outcome.line}", err=True)
    sys.exit(outcome.code)
