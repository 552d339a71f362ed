"""``hrss-fraud rules``: the rule catalogue and its parameters."""

from __future__ import annotations

import json

import click

import hrss_fraud.detectors  # noqa: F401 - registers the detectors' kernels in KERNELS
from hrss_fraud.cases import audit, open_store
from hrss_fraud.cli.common import Fail, current_workspace, operator
from hrss_fraud.detectors import models
from hrss_fraud.engine import whatif
from hrss_fraud.engine.catalogue import CatalogueError
from hrss_fraud.engine.kernels import KERNELS
from hrss_fraud.engine.listing import catalogue_rows, listing_lines
from hrss_fraud.engine.params import changes, effective, set_param
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.model.numbers import yuan


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


@rules.command("try")
@click.argument("rule_id")
@click.option(
    "--param",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value to try (repeatable); the other parameters as in force.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--memory-limit", default="6GB", show_default=True, help="DuckDB memory limit.")
@click.pass_context
def rules_try(
    ctx: click.Context,
    rule_id: str,
    pairs: tuple[str, ...],
    as_json: bool,
    lang: str,
    memory_limit: str,
) -> None:
    """What-if (试算): the findings and amount at risk the rule would give on the whole lake
    with these values, beside the latest run's, before anything is saved. Only counts and
    amounts are shown, never a person."""
    ws = current_workspace(ctx)
    try:
        catalogue = ws.catalogue(KERNELS)
        values = whatif.parse_pairs(whatif.rule_of(catalogue, rule_id), pairs)
        out = whatif.try_rule(
            ws.root,
            rule_id,
            values,
            models=models,
            catalogue=catalogue,
            memory_limit=memory_limit,
            progress=lambda m: click.echo(m, err=True),
        )
    except (whatif.WhatIfError, CatalogueError) as e:
        raise Fail(str(e)) from None
    if as_json:
        click.echo(json.dumps(out.to_dict(), ensure_ascii=False, indent=1))
        return
    for line in _try_lines(out, lang):
        click.echo(line)


_TRY_TEXT = {
    "head": ("试算 {rule}（未保存）", "what-if for {rule} (nothing saved)"),
    "params": ("参数", "parameters"),
    "columns": (("", "最新批次", "试算", "差额"), ("", "latest run", "what-if", "difference")),
    "rows": (("疑点数", "金额", "涉及机构"), ("findings", "amount at risk", "institutions")),
    "new": ("新增疑点 {n}（{amount}）", "new leads {n} ({amount})"),
    "dropped": ("不再命中 {n}（{amount}）", "leads that drop out {n} ({amount})"),
    "no_run": ("最新批次未评此规则，无可比较", "the latest run did not score this rule"),
    "not_ok": (
        "注意：此规则在最新批次中未能运行（出错或未启用），最新批次一栏不是它的结果",
        "note: the rule did not run in the latest run (failed or inactive); "
        "its column is no result of it",
    ),
    "behind": (
        "注意：数据湖已有最新批次之后的数据，差额也含这些新数据",
        "note: the lake holds claims newer than the latest run; the difference counts them too",
    ),
    "took": ("用时 {s:.1f} 秒", "took {s:.1f} s"),
}


def _try_lines(out: whatif.Outcome, lang: str) -> list[str]:
    """The what-if as text: the parameters (in force → tried), then the figures of the
    latest run, the try and the difference side by side."""
    t = {k: v[1 if lang == "en" else 0] for k, v in _TRY_TEXT.items()}
    changed = [
        f"{k} {out.in_force[k]:g} → {v:g}" if v != out.in_force[k] else f"{k} {v:g}"
        for k, v in out.params.items()
    ]
    lines = [str(t["head"]).format(rule=out.rule_id), f"{t['params']}: {', '.join(changed)}"]
    if out.current is None or out.difference is None:
        lines += [f"{a}: {b}" for a, b in zip(t["rows"], _figures(out.tried), strict=True)]
        lines.append(str(t["no_run"]))
    else:
        now, then = _figures(out.tried), _figures(out.current)
        diff = [
            f"{out.tried.findings - out.current.findings:+,}",
            f"{'+' if out.difference.amount_change >= 0 else '-'}"
            f"{yuan(abs(out.difference.amount_change))}",
            f"{out.tried.institutions - out.current.institutions:+,}",
        ]
        cols = t["columns"]
        lines.append(f"{cols[0]:<14}{cols[1]:>18}{cols[2]:>18}{cols[3]:>18}")
        for row in zip(t["rows"], then, now, diff, strict=True):
            lines.append(f"{row[0]:<14}{row[1]:>18}{row[2]:>18}{row[3]:>18}")
        d = out.difference
        lines.append(str(t["new"]).format(n=f"{d.new_leads:,}", amount=yuan(d.new_amount)))
        lines.append(
            str(t["dropped"]).format(n=f"{d.dropped_leads:,}", amount=yuan(d.dropped_amount))
        )
        if out.run_status != "ok":
            lines.append(str(t["not_ok"]))
        if out.run_behind_lake:
            lines.append(str(t["behind"]))
    lines.append(str(t["took"]).format(s=out.seconds))
    return lines


def _figures(f: whatif.Figures) -> tuple[str, str, str]:
    return f"{f.findings:,}", yuan(f.amount_at_risk), f"{f.institutions:,}"
