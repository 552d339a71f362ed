"""``hrss-fraud findings``: a run's findings, listed or exported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hrss_fraud.cli.common import Fail, current_workspace, split_list
from hrss_fraud.engine.runs import RunError
from hrss_fraud.model.numbers import money
from hrss_fraud.outputs.export import cases_frame, export_frame, write_export
from hrss_fraud.outputs.quality import quality_frame, quality_summary


@click.group()
def findings() -> None:
    """Findings (疑点) of the scoring runs."""


def _finding_filters(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``findings export`` and ``findings list`` keep findings by."""
    for option in reversed(
        [
            click.option("--run", "run_id", help="Run id (default: the latest complete run)."),
            click.option("--rules", "rule_ids", help="Comma-separated rule ids to keep."),
            click.option(
                "--institution", "institutions", help="机构编号 Comma-separated fixmedins_code."
            ),
            click.option("--person", "persons", help="人员编号 Comma-separated psn_no."),
            click.option(
                "--severity", "severities", help="definite, high, suspicious (comma-separated)."
            ),
            click.option("--min-amount", type=float, help="疑点金额下限 At least this many yuan."),
            click.option(
                "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True
            ),
        ]
    ):
        f = option(f)
    return f


def _kept(filters: dict[str, Any]) -> dict[str, Any]:
    """The options of :func:`_finding_filters` as ``kept_findings`` takes them."""
    return {
        "rule_ids": split_list(filters["rule_ids"]) or None,
        "institutions": split_list(filters["institutions"]) or None,
        "persons": split_list(filters["persons"]) or None,
        "severities": split_list(filters["severities"]) or None,
        "min_amount": filters["min_amount"],
    }


def _findings_frame(ctx: click.Context, run_id: str | None, lang: str, **filters: Any) -> Any:
    try:
        run = current_workspace(ctx).open_run(run_id)
        df = export_frame(run, lang=lang, **_kept(filters))
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    return run, df


_out = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .parquet, .csv or .xlsx.",
)


@findings.command("export")
@_out
@_finding_filters
@click.pass_context
def findings_export(
    ctx: click.Context, out: str, run_id: str | None, lang: str, **filters: Any
) -> None:
    """Write a run's leads with the columns DESIGN.md fixes and each lead's case_id and
    case_rank (Parquet, CSV or Excel by suffix); data-quality findings are in
    `findings quality-export`."""
    run, df = _findings_frame(ctx, run_id, lang, **filters)
    try:
        write_export(df, Path(out))
    except ValueError as e:
        raise Fail(str(e)) from None
    click.echo(f"wrote {df.height:,} findings of run {run.run_id} to {out}")


@findings.command("quality-export")
@_out
@click.option(
    "--summary",
    is_flag=True,
    help="Per institution and rule: findings, settlements and their share (数据质量汇总).",
)
@_finding_filters
@click.pass_context
def findings_quality_export(
    ctx: click.Context, out: str, summary: bool, run_id: str | None, lang: str, **filters: Any
) -> None:
    """数据质量报告：Write a run's data-quality findings (no leads: not in the queue, the amount
    at risk or the rankings), or with --summary each institution's share of settlements
    they touch."""
    ws = current_workspace(ctx)
    try:
        run = ws.open_run(run_id)
        df = quality_frame(run, lang, **_kept(filters))
        what = "data-quality findings"
        if summary:
            df, what = quality_summary(run, ws.lake, lang, df), "institution × rule rows"
        write_export(df, Path(out), label="data-quality export")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"wrote {df.height:,} {what} of run {run.run_id} to {out}")


@findings.command("cases-export")
@_out
@click.option("--top", "top", type=click.IntRange(min=1), help="Only the K first cases.")
@click.option("--run", "run_id", help="Run id (default: the latest complete run).")
@click.option("--institution", "institutions", help="机构编号 Comma-separated fixmedins_code.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def findings_cases_export(
    ctx: click.Context,
    out: str,
    top: int | None,
    run_id: str | None,
    institutions: str | None,
    lang: str,
) -> None:
    """案件清单：Write a run's cases (an institution's rule family in a month, a person's or a
    doctor's pattern), one row each, in the order to open them (case_rank 1 first)."""
    try:
        run = current_workspace(ctx).open_run(run_id)
        df = cases_frame(run, lang, institutions=split_list(institutions) or None, top=top)
        write_export(df, Path(out), label="cases export")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"wrote {df.height:,} cases of run {run.run_id} to {out}")


@findings.command("list")
@_finding_filters
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.pass_context
def findings_list(
    ctx: click.Context, run_id: str | None, lang: str, limit: int, **filters: Any
) -> None:
    """疑点清单：按金额从大到小。A run's findings, largest amount first (ids for `cases`)."""
    run, df = _findings_frame(ctx, run_id, lang, **filters)
    en = lang == "en"
    total = money(df["amount_at_risk"].sum() or 0.0)
    if en:
        click.echo(f"run {run.run_id}: {df.height:,} findings, {total} at risk")
    else:
        click.echo(f"批次 {run.run_id}：疑点 {df.height:,} 条，疑点金额 {total}")
    severity = "severity" if en else "severity_zh"
    for r in df.head(limit).iter_rows(named=True):
        period = f"{r['period_start'] or ''}~{r['period_end'] or ''}"
        click.echo(
            f"{r['finding_id']}\t{r['rule_id']}\t{r[severity]}\t{r['fixmedins_code'] or ''}\t"
            f"{r['psn_no'] or ''}\t{period}\t{money(r['amount_at_risk'] or 0.0)}\t"
            f"{r['rule_name']}"
        )
    if df.height > limit:
        more = df.height - limit
        click.echo(f"… {more:,} more (--limit)" if en else f"… 另有 {more:,} 条（--limit）")
