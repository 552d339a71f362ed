"""``hrss-fraud knowledge``: the knowledge base the rules read."""

from __future__ import annotations

from pathlib import Path

import click

from hrss_fraud.cli.common import Fail, current_workspace
from hrss_fraud.engine.needs import inactive_rules
from hrss_fraud.knowledge.importer import import_knowledge


@click.group()
def knowledge() -> None:
    """The knowledge base (知识库) the rules read."""


@knowledge.command("load")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.pass_context
def knowledge_load(ctx: click.Context, source: str) -> None:
    """Import a knowledge base (CSV or XLSX, Chinese headers accepted) into the workspace."""
    try:
        kb, origin = import_knowledge(Path(source), current_workspace(ctx))
    except ValueError as e:
        raise Fail(str(e)) from None
    for name, where in origin.items():
        click.echo(f"{name}: {getattr(kb, name).height:,} rows from {where}")
        if kb.absent.get(name):
            click.echo(f"  columns left empty (not in the file): {', '.join(kb.absent[name])}")
    # what the rules cannot do with this knowledge base, said now rather than found later
    rules = list(current_workspace(ctx).catalogue().rules.values())
    for off in inactive_rules(rules, kb).values():
        click.echo(f"rule {off.rule_id} {off.reason_zh}")
