"""``hrss-fraud rules``: the rule catalogue and its parameters."""

from __future__ import annotations

import json

import click

import hrss_fraud.detectors  # noqa: F401 - registers the detectors' kernels in KERNELS
from hrss_fraud.cases import audit, open_store
from hrss_fraud.cli.common import Fail, current_workspace, operator
from hrss_fraud.engine.catalogue import CatalogueError
from hrss_fraud.engine.kernels import KERNELS
from hrss_fraud.engine.listing import catalogue_rows, listing_lines
from hrss_fraud.engine.params import changes, effective, set_param
from hrss_fraud.knowledge import load_knowledge


@click.group()
def rules() -> None:
    """The rule catalogue (规则库): list rules, change and review parameters."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def rules_list(ctx: click.Context, as_json: bool, lang: str) -> None:
    """Every rule with its framework codes, template, severity and parameters."""
    ws = current_workspace(ctx)
    try:
        kb = load_knowledge(ws.policy_path("analytics", "knowledge"))
    except ValueError as e:
        kb = None
        click.echo(f"knowledge base not readable, rule status unknown: {e}", err=True)
    try:
        rows, coverage = catalogue_rows(ws.catalogue(KERNELS), ws, kb)
    except CatalogueError as e:
        raise Fail(str(e)) from None
    if as_json:
        click.echo(json.dumps({"rules": rows, "coverage": coverage}, ensure_ascii=False, indent=1))
        return
    for line in listing_lines(rows, coverage, lang):
        click.echo(line)


@rules.command("set")
@click.argument("rule_id")
@click.argument("param")
@click.argument("value", type=float)
@click.option(
    "--by",
    "changed_by",
    required=True,
    help="Who makes the change: an enabled account that may change parameters.",
)
@click.option("--reason", required=True, help="Why (kept in the parameter log).")
@click.pass_context
def rules_set(
    ctx: click.Context, rule_id: str, param: str, value: float, changed_by: str, reason: str
) -> None:
    """Change a rule parameter within its bounds; the change is logged with who and why, and
    audited (parameter.change) as the dashboard does."""
    ws = current_workspace(ctx)
    try:
        cat = ws.catalogue()
        with open_store(ws) as store:
            actor = operator(store, changed_by, "change_parameters")
            rule = cat.rules.get(rule_id)
            old = effective(rule, changes(cat, ws)).values.get(param) if rule else None
            change = set_param(cat, ws, rule_id, param, value, actor, reason)
            eff = effective(cat.rules[rule_id], changes(cat, ws))
            detail = {"param": param, "old": old, "new": value, "reason": change.reason}
            detail |= {"version": eff.version, "changed_at": change.changed_at}
            audit.record(store, actor, "parameter.change", "rule", rule_id, detail)
    except CatalogueError as e:
        raise Fail(str(e)) from None
    click.echo(f"{rule_id}.{param} = {value:g} (rule version {eff.version})")


@rules.command("history")
@click.argument("rule_id", required=False)
@click.pass_context
def rules_history(ctx: click.Context, rule_id: str | None) -> None:
    """Every parameter change (who, when, why), optionally for one rule."""
    ws = current_workspace(ctx)
    try:
        log = changes(ws.catalogue(), ws)
    except CatalogueError as e:
        raise Fail(str(e)) from None
    for c in log:
        if rule_id is None or c.rule_id == rule_id:
            click.echo(
                f"{c.changed_at}  {c.rule_id}.{c.param} = {c.value:g}  "
                f"by {c.changed_by}: {c.reason}"
            )
