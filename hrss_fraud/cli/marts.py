"""``hrss-fraud marts build``: the dashboard marts of a run (see
:mod:`hrss_fraud.outputs.marts`), what the nightly batch does after scoring.
"""

from __future__ import annotations

import time

import click

from hrss_fraud.cli.common import current_workspace, fail
from hrss_fraud.engine.runs import RunError
from hrss_fraud.outputs.marts import build_marts


@click.group("marts")
def marts() -> None:
    """看板数据集市。Dashboard marts: precomputed per-run tables the dashboard reads."""


@marts.command("build")
@click.option("--run", "run_id", help="运行编号 Run id (default: the latest complete run).")
@click.option("--force", is_flag=True, help="重建 Rebuild even if the marts are complete.")
@click.pass_context
def build(ctx: click.Context, run_id: str | None, force: bool) -> None:
    """生成看板数据集市。Build the run's marts beside it (atomic; kept if complete)."""
    ws = current_workspace(ctx)
    start = time.perf_counter()
    try:
        folder = build_marts(ws, run_id, force=force)
    except (RunError, OSError) as e:
        fail(str(e))
    click.echo(f"marts: {folder} ({time.perf_counter() - start:.1f} s)")
