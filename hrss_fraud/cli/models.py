"""``hrss-fraud models``: the saved detection models."""

from __future__ import annotations

import click

from hrss_fraud.cases.reviews import train_review_model
from hrss_fraud.cli.common import Fail, current_workspace
from hrss_fraud.detectors.frequency_model import ModelError
from hrss_fraud.detectors.models import model_path
from hrss_fraud.engine.runs import RunError
from hrss_fraud.scoring.models import train as train_models


@click.group()
def models() -> None:
    """Saved detection models (检测模型) the runs apply."""


@models.command("train")
@click.option("--memory-limit", default="6GB", show_default=True, help="DuckDB memory limit.")
@click.pass_context
def models_train(ctx: click.Context, memory_limit: str) -> None:
    """Retrain every model on the whole lake; the next score is then a full run."""
    ws = current_workspace(ctx)
    try:
        trained = train_models(ws, memory_limit)
    except (ModelError, RunError, ValueError) as e:
        raise Fail(str(e)) from None
    for name, model in trained.items():
        t = model.training
        click.echo(
            f"{name}: {t['persons']:,} persons, {t['person_months']:,} person-months, "
            f"{t['visits']:,} visits ({t['first_month']} to {t['last_month']}) "
            f"→ {model_path(ws, name)}"
        )
    # the review model learns from the latest run's decided leads (off below its minimum)

    try:
        click.echo(train_review_model(ws).message("zh"))
    except RunError:
        click.echo("审核学习模型：尚无评分结果，跳过 (review model: no run yet, skipped)")
