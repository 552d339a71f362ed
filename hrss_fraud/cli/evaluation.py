"""``hrss-fraud evaluate``: judge detection against a generated county's truth (评估) —
``run`` generates, ingests, scores and judges counties for several seeds; ``judge`` judges
an existing workspace's run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from hrss_fraud.cli.common import Fail, current_workspace
from hrss_fraud.engine.catalogue import CatalogueError
from hrss_fraud.engine.runs import RunError
from hrss_fraud.evaluation.labels import LANGS, Lang, localize, to_markdown
from hrss_fraud.evaluation.outputs import write_evaluation
from hrss_fraud.evaluation.pipeline import judge_workspace, parse_seeds, run_seeds
from hrss_fraud.evaluation.report import Evaluation, build, verdict
from hrss_fraud.synth.config import PRESETS


def _show(evaluation: Evaluation, lang: Lang) -> None:
    click.echo(to_markdown(localize(evaluation.summary, lang)))
    click.echo(verdict(evaluation, lang))


@click.group("evaluate", context_settings={"help_option_names": ["-h", "--help"]})
def evaluate_group() -> None:
    """Judge detection against a generated county's truth (评估): recall per scheme,
    precision of the inspection list, ROC-AUC, false-positive rates."""


@evaluate_group.command("run")
@click.option("--preset", type=click.Choice(list(PRESETS)), default="tiny", show_default=True)
@click.option("--seeds", default="1,2,3", show_default=True, help="Comma-separated seeds.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for evaluation.md, evaluation.json, *.parquet and plots/.",
)
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep each seed's county and workspace here (default: a temporary folder, removed).",
)
@click.option("--lang", type=click.Choice(LANGS), default="zh", show_default=True)
@click.option("--memory-limit", default="6GB", show_default=True, help="DuckDB memory limit.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def evaluate_run(
    preset: str,
    seeds: str,
    out: Path,
    work: Path | None,
    lang: Lang,
    memory_limit: str,
    quiet: bool,
) -> None:
    """Generate a county per seed, ingest, score and judge it; write and print the report."""
    try:
        seed_list = parse_seeds(seeds)
    except ValueError as e:
        raise Fail(str(e)) from None
    say = (lambda _m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        with tempfile.TemporaryDirectory(prefix="hrss-eval-") as tmp:
            folder = work if work is not None else Path(tmp)
            results = run_seeds(
                seed_list, folder, preset=preset, memory_limit=memory_limit, progress=say
            )
        evaluation = build(results)
        write_evaluation(evaluation, out, lang=lang, source=f"{preset} preset")
    except (CatalogueError, RunError, ValueError, OSError) as e:
        raise Fail(str(e)) from None
    _show(evaluation, lang)
    click.echo(f"wrote {out / 'evaluation.md'}")


@evaluate_group.command("judge")
@click.option(
    "--workspace",
    "workspace_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace of the run (default: the main --workspace, $HRSS_FRAUD_HOME or ./workspace).",
)
@click.option(
    "--truth",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The generated county's truth/ folder.",
)
@click.option("--run", "run_id", help="Run id (default: the latest complete run).")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Also write the report here."
)
@click.option("--lang", type=click.Choice(LANGS), default="zh", show_default=True)
@click.pass_context
def evaluate_judge(
    ctx: click.Context,
    workspace_dir: Path | None,
    truth: Path,
    run_id: str | None,
    out: Path | None,
    lang: Lang,
) -> None:
    """Judge an existing run against a truth folder and print the summary."""
    ws = workspace_dir or current_workspace(ctx)
    try:
        result = judge_workspace(ws, truth, run_id=run_id)
        evaluation = build([result])
        if out is not None:
            write_evaluation(evaluation, out, lang=lang, source=f"run {result.run_id}")
    except (RunError, ValueError, OSError) as e:
        raise Fail(str(e)) from None
    _show(evaluation, lang)
    if out is not None:
        click.echo(f"wrote {out / 'evaluation.md'}")
