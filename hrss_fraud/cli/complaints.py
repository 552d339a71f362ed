"""``hrss-fraud complaints``: register complaints and tips, link their targets, run the
targeted data check, close them with an outcome, and list them with their deadlines.

Whoever acts (``--by``, default the login name) must be an enabled account with the
permission the dashboard asks for the same step: any user who may view leads registers,
links, assigns and checks; closing needs ``decide_first_review``; ``show --reveal``
needs ``view_identity``. Codes are checked against the lake when it holds the
institution or person table (:mod:`hrss_fraud.complaints.fields`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
import polars as pl

from hrss_fraud.cases import SchemaError, open_store
from hrss_fraud.cases.operators import login_name
from hrss_fraud.cases.vocab import help_list
from hrss_fraud.cli.common import current_workspace, fail, operator, run_findings, unknown_findings
from hrss_fraud.complaints import fields
from hrss_fraud.complaints.check import checks, linked_leads, run_check
from hrss_fraud.complaints.register import (
    DEADLINE_DAYS,
    OUTCOMES,
    SOURCES,
    ComplaintError,
    assign,
    get,
    link,
    record_outcome,
    register,
    reveal_complainant,
)
from hrss_fraud.complaints.register import complaints as listing
from hrss_fraud.engine.runs import RunError
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.lake.fsutil import write_bytes_atomic
from hrss_fraud.model.numbers import money

VIEW, CLOSE, IDENTITY = "view_leads", "decide_first_review", "view_identity"
"""The permissions of the dashboard's complaint steps, which these commands mirror."""

LIST_COLUMNS = (
    "number",
    "received_on",
    "due_on",
    "days_left",
    "overdue",
    "source_zh",
    "status_zh",
    "outcome_zh",
    "handler",
    "institutions",
    "persons",
    "n_leads",
)

_by = click.option(
    "--by",
    "by",
    default=login_name,
    show_default="login name",
    help="操作人 Who does it: an enabled account.",
)
_inst = click.option(
    "--institution",
    "institutions",
    multiple=True,
    help="机构编号 fixmedins_code (repeatable).",
)
_psn = click.option("--person", "persons", multiple=True, help="人员编号 psn_no (repeatable).")


def _date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{what} {value!r} is not a date: write YYYY-MM-DD")


def _in_lake(ws: Workspace, institutions: tuple[str, ...], persons: tuple[str, ...]) -> None:
    """Refuse codes of the right form that the workspace's lake does not know."""
    for kind, codes in (
        ("institution", fields.institution_codes(institutions)),
        ("person", fields.person_codes(persons)),
    ):
        if unknown := fields.lake_unknown(ws, kind, codes):
            fail(f"{kind} {', '.join(unknown)}: not in the lake's {kind} table (数据湖中无此编号)")


@click.group("complaints")
def complaints() -> None:
    """举报投诉：登记、核查、办结（30日内）。Complaints and tips: register, check, close."""


@complaints.command("add")
@click.option("--received", required=True, help="收到日期 Date received, YYYY-MM-DD.")
@click.option("--source", required=True, help=f"来源 Source: {help_list(SOURCES)}.")
@click.option("--content", required=True, help="举报内容 What the complaint says.")
@click.option("--complainant", help="举报人 Name (omit if anonymous); masked in lists.")
@click.option("--contact", help="联系电话 Phone of the complainant; masked in lists.")
@_inst
@_psn
@_by
@click.pass_context
def add(
    ctx: click.Context,
    received: str,
    source: str,
    content: str,
    complainant: str | None,
    contact: str | None,
    institutions: tuple[str, ...],
    persons: tuple[str, ...],
    by: str,
) -> None:
    """登记一件举报投诉。Register a complaint; prints its number (year-serial)."""
    received_on = _date(received, "--received")
    ws = current_workspace(ctx)
    try:
        _in_lake(ws, institutions, persons)
        with open_store(ws) as store:
            number = register(
                store,
                received_on=received_on,  # type: ignore[arg-type]
                source=source,
                content=content,
                by=operator(store, by, VIEW),
                complainant=complainant,
                contact=contact,
                institutions=institutions,
                persons=persons,
            )
            due = get(store, number).due_on
    except (ComplaintError, SchemaError) as e:
        fail(str(e))
    click.echo(f"complaint {number} registered; due {due} ({DEADLINE_DAYS} days from receipt)")


@complaints.command("link")
@click.argument("number")
@_inst
@_psn
@click.option("--finding", "findings", multiple=True, help="疑点编号 finding_id (repeatable).")
@click.option("--run", "run_id", help="疑点所在批次 Run holding the leads (default: latest).")
@_by
@click.pass_context
def link_cmd(
    ctx: click.Context,
    number: str,
    institutions: tuple[str, ...],
    persons: tuple[str, ...],
    findings: tuple[str, ...],
    run_id: str | None,
    by: str,
) -> None:
    """关联机构、参保人或疑点。Link institutions, persons or leads to a complaint."""
    ws = current_workspace(ctx)
    leads = None
    if findings:
        run, snap = run_findings(ws, run_id)
        if problem := unknown_findings(list(findings), snap, run):
            fail(problem)
        leads = snap.filter(pl.col("finding_id").is_in(list(findings)))
        psn = _psn_of(ws, run, list(findings))
        leads = leads.join(psn, on="finding_id", how="left")
    try:
        _in_lake(ws, institutions, persons)
        with open_store(ws) as store:
            actor = operator(store, by, VIEW)
            added = link(
                store, number, by=actor, institutions=institutions, persons=persons, leads=leads
            )
    except (ComplaintError, SchemaError) as e:
        fail(str(e))
    counts = ", ".join(f"{len(v)} {k}" for k, v in added.items())
    click.echo(f"complaint {number}: linked {counts} (already linked ones unchanged)")


def _psn_of(ws: Workspace, run_id: str, ids: list[str]) -> pl.DataFrame:
    """The leads' ``psn_no``, which the case store's lead snapshot does not carry."""
    f = ws.open_run(run_id).findings()
    return f.filter(pl.col("finding_id").is_in(ids)).select("finding_id", "psn_no")


@complaints.command("assign")
@click.argument("number")
@click.option("--handler", required=True, help="承办人 Who handles it.")
@_by
@click.pass_context
def assign_cmd(ctx: click.Context, number: str, handler: str, by: str) -> None:
    """指定承办人（开始核查）。Give a complaint its handler; it moves to checking."""
    try:
        with open_store(current_workspace(ctx)) as store:
            assign(store, number, handler, by=operator(store, by, VIEW))
    except (ComplaintError, SchemaError) as e:
        fail(str(e))
    click.echo(f"complaint {number}: handler {handler}, checking")


@complaints.command("check")
@click.argument("number")
@click.option(
    "--from",
    "date_from",
    help="核查起始日 Start date (default: the first day of the lake's data on the targets).",
)
@click.option(
    "--to",
    "date_to",
    help="核查截止日 End date (default: the last day of the lake's data on the targets).",
)
@click.option("--run", "run_id", help="评分批次 Run to read leads from (default: latest).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@_by
@click.pass_context
def check_cmd(
    ctx: click.Context,
    number: str,
    date_from: str | None,
    date_to: str | None,
    run_id: str | None,
    lang: str,
    by: str,
) -> None:
    """针对性数据核查。Check the lake and the run for a complaint's targets; store the result."""
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    ws = current_workspace(ctx)
    try:
        with open_store(ws) as store:
            result = run_check(
                store,
                ws,
                number,
                by=operator(store, by, VIEW),
                date_from=start,
                date_to=end,
                run_id=run_id,
            )
    except (ComplaintError, SchemaError, RunError) as e:
        fail(str(e))
    click.echo(result.summary_zh if lang == "zh" else result.summary_en)
    for r in result.by_rule.iter_rows(named=True):
        amount = money(r["amount_at_risk"])
        click.echo(f"  {r['rule_id']} {r['rule_name']}: {r['n_findings']:,}, {amount}")
    click.echo(f"check {result.check_id}, fingerprint {result.fingerprint[:16]}")


@complaints.command("close")
@click.argument("number")
@click.option("--outcome", required=True, help=f"办理结果 Outcome: {help_list(OUTCOMES)}.")
@click.option("--text", required=True, help="办理情况 What was found and done.")
@click.option("--on", "handled_on", help="办结日期 Date handled, YYYY-MM-DD (default: today).")
@_by
@click.pass_context
def close_cmd(
    ctx: click.Context, number: str, outcome: str, text: str, handled_on: str | None, by: str
) -> None:
    """办结。Close a complaint with its outcome; final."""
    on = _date(handled_on, "--on")
    try:
        with open_store(current_workspace(ctx)) as store:
            actor = operator(store, by, CLOSE)
            c = record_outcome(store, number, outcome=outcome, text=text, by=actor, handled_on=on)
    except (ComplaintError, SchemaError) as e:
        fail(str(e))
    late = f" (late: due {c.due_on})" if c.handled_on and c.handled_on > c.due_on else ""
    label = OUTCOMES[c.outcome or ""][0]
    click.echo(f"complaint {number} handled on {c.handled_on}: {label}{late}")


@complaints.command("list")
@click.option("--overdue", is_flag=True, help="只列逾期 Only open complaints past their deadline.")
@click.option("--status", help="状态 registered 已登记, checking 核查中, handled 已办结.")
@click.option("--out", type=click.Path(dir_okay=False), help="写入 CSV Write a CSV instead.")
@click.pass_context
def list_cmd(ctx: click.Context, overdue: bool, status: str | None, out: str | None) -> None:
    """列出举报投诉（举报人已脱敏）。List complaints, newest first, complainants masked."""
    try:
        with open_store(current_workspace(ctx)) as store:
            df = listing(store, overdue_only=overdue, status=status)
    except (ComplaintError, SchemaError) as e:
        fail(str(e))
    df = df.select(*LIST_COLUMNS, "complainant", "content")
    if out:
        write_bytes_atomic(Path(out), df.write_csv().encode("utf-8-sig"), label="complaints")
        click.echo(f"{df.height} complaints → {out}")
        return
    if df.is_empty():
        click.echo("no complaints" + (" overdue" if overdue else ""))
        return
    for r in df.iter_rows(named=True):
        mark = " 逾期 OVERDUE" if r["overdue"] else ""
        left = "" if r["days_left"] is None else f", {r['days_left']} days left"
        click.echo(
            f"{r['number']} {r['received_on']} {r['source_zh']} {r['status_zh']}"
            f"{' ' + r['outcome_zh'] if r['outcome_zh'] else ''} due {r['due_on']}{left}{mark}"
            f" | {r['institutions'] or '-'} | {r['n_leads']} leads | {r['content'][:40]}"
        )


@complaints.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option(
    "--reveal", is_flag=True, help="显示举报人（记入审计日志） Unmask the complainant; audited."
)
@_by
@click.pass_context
def show_cmd(ctx: click.Context, number: str, as_json: bool, reveal: bool, by: str) -> None:
    """查看一件举报投诉、核查与关联疑点。Show a complaint, its checks and linked leads."""
    try:
        with open_store(current_workspace(ctx)) as store:
            get(store, number)  # refuses an unknown number
            row = listing(store).filter(pl.col("number") == number.strip())
            done = checks(store, number)
            leads = linked_leads(store, number)
            c = row.row(0, named=True)
            if reveal:
                actor = operator(store, by, IDENTITY)
                c["complainant"], c["contact"] = reveal_complainant(store, number, by=actor)
    except (ComplaintError, SchemaError) as e:
        fail(str(e))
    if as_json:
        doc = {
            "complaint": c,
            "checks": done.drop("detail").to_dicts(),
            "leads": leads.to_dicts(),
        }
        click.echo(json.dumps(doc, ensure_ascii=False, default=str, indent=1))
        return
    mark = " 逾期 OVERDUE" if c["overdue"] else (" 超期办结 late" if c["late"] else "")
    click.echo(
        f"{c['number']} [{c['status_zh']}] received {c['received_on']}, due {c['due_on']}{mark}"
    )
    who = f"{c['complainant'] or '匿名'} {c['contact'] or ''}".strip()
    click.echo(f"  来源 {c['source_zh']}; 举报人 {who}; 承办人 {c['handler'] or '-'}")
    click.echo(f"  机构 {c['institutions'] or '-'}; 参保人 {c['persons'] or '-'}")
    click.echo(f"  内容 {c['content']}")
    if c["outcome"]:
        click.echo(f"  结果 {c['outcome_zh']} ({c['handled_on']}): {c['outcome_text']}")
    for k in done.iter_rows(named=True):
        click.echo(
            f"  核查 {k['check_id']} {k['checked_at'][:10]} by {k['checked_by']}: {k['summary_zh']}"
        )
    if leads.height:
        total = float(leads["amount_at_risk"].sum() or 0.0)
        click.echo(f"  关联疑点 {leads.height:,} 条, {money(total)}")
