"""``hrss-fraud marts build``: the dashboard marts of a run (see
:mod:`hrss_fraud.outputs.marts`), what the nightly batch does after scoring.

The group attaches itself to the main command when ``hrss_fraud.cli`` imports this module
(its last lines), so the main CLI needs one import line and no other edit.
"""

from __future__ import annotations

import time

import click

from hrss_fraud.cli.cases import _fail, _workspace


@click.group("marts")
def marts() -> None:
    """看板数据集市。Dashboard marts: precomputed per-run tables the dashboard reads."""


@marts.command("build")
@click.option("--run", "run_id", help="运行编号 Run id (default: the latest complete run).")
@click.option("--force", is_flag=True, help="重建 Rebuild even if the marts are complete.")
@click.pass_context
def build(ctx: click.Context, run_id: str | None, force: bool) -> None:
    """生成看板数据集市。Build the run's marts beside it (atomic; kept if complete)."""
    from hrss_fraud.engine.runs import RunError
    from hrss_fraud.outputs.marts import build_marts

    ws = _workspace(ctx)
    start = time.perf_counter()
    try:
        folder = build_marts(ws, run_id, force=force)
    except (RunError, OSError) as e:
        _fail(str(e))
    click.echo(f"marts: {folder} ({time.perf_counter() - start:.1f} s)")
