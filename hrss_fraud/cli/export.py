"""``hrss-fraud export``: ranked lists for inspection rounds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import polars as pl

from hrss_fraud.cli.common import Fail, current_workspace
from hrss_fraud.engine.runs import Run, RunError
from hrss_fraud.lake import Lake
from hrss_fraud.lake.fsutil import write_bytes_atomic
from hrss_fraud.outputs.enrolment_excel import visit_list_bytes
from hrss_fraud.outputs.export import write_export
from hrss_fraud.outputs.ranking import COLUMNS, institution_ranking, review_weights, risk_ranking
from hrss_fraud.outputs.shares import rule_shares

Ranker = Callable[[Run, Lake, pl.DataFrame | None], pl.DataFrame]

_out = click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="FILE.csv, .parquet or .xlsx"
)
_run = click.option("--run", "run_id", help="A run id (default: the latest run).")
_lang = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)


def _write_ranking(
    ctx: click.Context,
    out: str,
    run_id: str | None,
    lang: str,
    top: int | None,
    label: str,
    rank: Ranker,
) -> int:
    """Rank a run's entities weighed by the review model (its state said on standard error),
    keep the ``top`` first and write them to ``out``; how many rows were written."""
    ws = current_workspace(ctx)
    try:
        run = ws.open_run(run_id)
        weights, status = review_weights(run, ws)
        click.echo(status.message(lang), err=True)
        ranking = rank(run, ws.lake, weights)
        if top:
            ranking = ranking.head(top)
        write_export(ranking, Path(out), label=label)
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    return ranking.height


@click.group("export")
def export_group() -> None:
    """Lists for inspection rounds (检查名单)."""


@export_group.command("inspection-list")
@_out
@click.option("--top", "top", type=click.IntRange(min=1), help="Only the K riskiest institutions.")
@_run
@_lang
@click.pass_context
def export_inspection_list(
    ctx: click.Context, out: str, top: int | None, run_id: str | None, lang: str
) -> None:
    """Institutions ranked by the share of their in-scope spending at risk, with reasons."""

    def rank(run: Run, lake: Lake, weights: pl.DataFrame | None) -> pl.DataFrame:
        return institution_ranking(run, lake, lang, weights).select(COLUMNS)

    n = _write_ranking(ctx, out, run_id, lang, top, "inspection list", rank)
    click.echo(f"{n} institutions → {out}")


@export_group.command("risk-ranking")
@_out
@click.option(
    "--level",
    type=click.Choice(["institution", "doctor", "person"]),
    default="institution",
    show_default=True,
    help="Rank institutions (机构), doctors (医师) or insured persons (参保人).",
)
@click.option("--top", "top", type=click.IntRange(min=1), help="Only the K riskiest.")
@_run
@_lang
@click.pass_context
def export_risk_ranking(
    ctx: click.Context, out: str, level: str, top: int | None, run_id: str | None, lang: str
) -> None:
    """Institutions, doctors or persons ranked by the share of their spending at risk
    (风险排名)."""

    def rank(run: Run, lake: Lake, weights: pl.DataFrame | None) -> pl.DataFrame:
        return risk_ranking(run, lake, level, lang, weights)

    n = _write_ranking(ctx, out, run_id, lang, top, f"{level} risk ranking", rank)
    click.echo(f"{n} {level} rows → {out}")


@export_group.command("rule-shares")
@_out
@click.option("--rule", "rule_id", required=True, help="A rule id, e.g. high_cost_outpatient.")
@click.option(
    "--by",
    type=click.Choice(["institution", "person"]),
    default="institution",
    show_default=True,
    help="Per institution (机构) or insured person (参保人).",
)
@_run
@click.pass_context
def export_rule_shares(
    ctx: click.Context, out: str, rule_id: str, by: str, run_id: str | None
) -> None:
    """The share and amount of each institution's or person's claims a rule flags
    (疑点占比), e.g. high-cost visits, patients with abnormal visit frequency."""
    ws = current_workspace(ctx)
    try:
        shares = rule_shares(ws.open_run(run_id), ws.lake, rule_id, by)
        write_export(shares, Path(out), label=f"{rule_id} shares")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"{shares.height} {by} rows → {out}")


@export_group.command("enrolment-visits")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.xlsx")
@_run
@_lang
@click.pass_context
def export_enrolment_visits(ctx: click.Context, out: str, run_id: str | None, lang: str) -> None:
    """Employers to visit for the enrolment audit (参保稽核走访清单): ranked by the
    contribution at stake, their hits and the rows behind each; persons' names masked."""
    if not out.lower().endswith(".xlsx"):
        raise Fail(f"--out {out}: the visit list is an Excel file; name it FILE.xlsx")
    ws = current_workspace(ctx)
    try:
        run = ws.open_run(run_id)
        data = visit_list_bytes(ws, run, lang=lang)
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    write_bytes_atomic(Path(out), data, label="enrolment visit list")
    click.echo(f"enrolment visit list of run {run.run_id} → {out}")
