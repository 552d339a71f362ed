"""``hrss-fraud ingest``: load uploads into the claims lake."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from hrss_fraud.cli.common import Fail, current_workspace
from hrss_fraud.ingest import inbox as inbox_mod
from hrss_fraud.ingest.layouts import load_layouts
from hrss_fraud.ingest.pipeline import expand
from hrss_fraud.ingest.pipeline import ingest as run_ingest
from hrss_fraud.ingest.summary import text_lines
from hrss_fraud.lake import LakeLockedError
from hrss_fraud.model.schema import TABLES
from hrss_fraud.resources import policy_dir

TABLE_NAMES = set(TABLES)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--inbox",
    type=click.Path(file_okay=False, path_type=Path),
    help="Take every file in this folder; move each to archive/ or rejected/.",
)
@click.option("--layout", help="Force a layout (see ingest/layouts) instead of detecting it.")
@click.option(
    "--table",
    type=click.Choice(sorted(TABLE_NAMES)),
    help="Force the table instead of detecting it from the header.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--strict",
    is_flag=True,
    help="Reject a file with a column the data model does not use (default: set it aside, "
    "keep it with each row and name it in the report).",
)
@click.option(
    "--retry-quarantine",
    is_flag=True,
    help="Re-check the rows held for an unknown institution, person or settlement and "
    "release those now known (done anyway after loading a register); PATH... optional.",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    inbox: Path | None,
    layout: str | None,
    table: str | None,
    as_json: bool,
    quiet: bool,
    strict: bool,
    retry_quarantine: bool,
) -> None:
    """Load uploads (files or folders) into the claims lake; bad rows go to quarantine."""
    if not paths and inbox is None and not retry_quarantine:
        raise Fail("give PATH... to ingest, or --inbox DIR, or --retry-quarantine")
    if inbox is not None and not inbox.is_dir():
        raise Fail(f"--inbox {inbox}: no such folder")
    refused = []
    targets = expand(list(paths))
    if inbox is not None:
        waiting, refused = inbox_mod.inbox_files(inbox)
        targets += waiting
    ws = current_workspace(ctx)
    lake = ws.lake
    bar = None
    if not (quiet or as_json):
        bar = tqdm(total=len(targets), unit="file", desc="ingest", file=sys.stderr)
    try:
        layouts = load_layouts(policy_dir("ingest", ws))
        result = run_ingest(
            lake,
            targets,
            layouts=layouts,
            layout=layout,
            table=table,
            progress=(lambda _r: bar.update(1)) if bar else None,
            strict=strict,
            retry_quarantine=retry_quarantine,
        )
    except LakeLockedError as exc:
        raise Fail(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise Fail(str(exc)) from None
    finally:
        if bar:
            bar.close()
    result.files[:0] = refused
    if inbox is not None:
        inbox_mod.file_away(inbox, result)
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        for w in summary["warnings"]:  # and loudly where a person reads
            click.echo(f"{w['zh']}\n{w['en']}", err=True)
    else:
        for line in text_lines(summary, result.batches):
            click.echo(line)
    for f in result.rejected:
        click.echo(f"hrss-fraud: rejected: {f.error}", err=True)
    if result.rejected:
        sys.exit(1)
