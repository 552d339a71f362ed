"""``hrss-fraud backup`` and ``restore``: the command line of :mod:`hrss_fraud.nightly.backup`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from hrss_fraud.cases.busy import busy_message, is_busy
from hrss_fraud.cli.common import Fail, current_workspace
from hrss_fraud.nightly.backup import BackupError, backup, restore


def _one_line(e: BaseException) -> str:
    """The failure as the command line says it; a locked case store in its own words."""
    return busy_message() if is_busy(e) else str(e)


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="备份目录 A new (or empty) folder for the backup.",
)
@click.pass_context
def backup_command(ctx: click.Context, out: Path) -> None:
    """备份。Back up the lake, the case store, runs and policy files (consistent snapshot)."""
    try:
        m = backup(current_workspace(ctx), out)
    except (BackupError, OSError, sqlite3.Error) as e:
        raise Fail(_one_line(e)) from None
    click.echo(
        f"backup {out}: {m['lake']['batches']} lake batches, {len(m['cases'])} case-store "
        f"tables, {len(m['runs'])} runs, {len(m['files'])} files"
    )


@click.command("restore")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="备份目录 Backup folder.",
)
@click.option("--force", is_flag=True, help="Replace the data of a non-empty workspace.")
@click.option(
    "--by",
    "by",
    show_default="login name",
    help="操作人 Who restores: an enabled account that may manage users.",
)
@click.pass_context
def restore_command(ctx: click.Context, source: Path, force: bool, by: str | None) -> None:
    """恢复。Restore a backup into the workspace (refuses a non-empty one unless --force);
    the restored case store records who did it and what it replaced."""
    ws = current_workspace(ctx)
    try:
        m = restore(source, ws, force=force, by=by)
    except (BackupError, OSError, sqlite3.Error) as e:
        raise Fail(_one_line(e)) from None
    click.echo(f"restored {source} (made {m['created']}) into {ws}")
