"""One seed end to end — generate a county, ingest its uploads, score, judge the run — so the
evaluation measures exactly what the nightly job would publish.

The truth stays apart from the detectors (DOMAIN.md §7): only ``reference/`` and
``uploads/`` are ingested, the run is scored from the lake alone, and ``truth/`` is read
afterwards, by the judge only.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.engine.runs import Run, open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.evaluation.judge import Truth, evaluate, ranking_metrics
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.outputs.ranking import institution_ranking
from hrss_fraud.scoring.score import score
from hrss_fraud.synth.config import PRESETS, SynthConfig
from hrss_fraud.synth.generate import generate

Progress = Callable[[str], None]
LOOKALIKE_SCHEMA = {
    "lookalike": pl.String,
    "encounters": pl.Int64,
    "flagged": pl.Int64,
    "rate": pl.Float64,
    "rules": pl.String,
}


@dataclass(frozen=True)
class SeedResult:
    """One judged run: what the report needs of it, nothing read from the truth later.

    ``per_scheme`` and ``per_rule`` are :func:`~hrss_fraud.evaluation.judge.evaluate`'s tables
    (``per_scheme`` with the scheme's Chinese name in ``scheme_zh``); ``summary`` its scalars
    with :func:`~hrss_fraud.evaluation.judge.ranking_metrics`'s; ``ranking`` the institution
    ranking in its order, each institution marked ``fraudulent`` or not; ``lookalikes`` the
    false-alarm rate per kind of legitimate look-alike
    (:func:`~hrss_fraud.evaluation.judge.lookalike_rates`).
    """

    seed: int | None
    run_id: str
    per_scheme: pl.DataFrame
    per_rule: pl.DataFrame
    summary: dict[str, Any]
    ranking: pl.DataFrame
    lookalikes: pl.DataFrame


def parse_seeds(text: str) -> list[int]:
    """``"1,2,3"`` → ``[1, 2, 3]``; the CLI and the notebook take seeds this way."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        msg = f"seeds {text!r}: expected whole numbers separated by commas, e.g. 1,2,3"
        raise ValueError(msg) from None
    if not seeds:
        msg = "seeds: give at least one, e.g. 1,2,3"
        raise ValueError(msg)
    if len(set(seeds)) != len(seeds):
        msg = f"seeds {text!r}: a seed is repeated"
        raise ValueError(msg)
    return seeds


def judge_run(run: Run, lake: Lake, truth: Truth, *, seed: int | None = None) -> SeedResult:
    """Judge a published run against a county's truth."""
    result = evaluate(run, truth)
    metrics = ranking_metrics(run, lake, truth)
    monitoring = result["monitoring"]
    lookalikes = pl.DataFrame(result["lookalikes"], schema=LOOKALIKE_SCHEMA)
    summary = {
        "findings": result["findings"],
        "precision": result["precision"],
        "precision_fraud_rules": result["precision_fraud_rules"],
        "lookalike_hits": result["lookalike_hits"],
        "lookalike_rate_max": lookalikes["rate"].max() if lookalikes.height else None,
        "recall_rule_scheme_min": result["recall_rule_scheme_min"],
        "cases": result["cases"],
        "precision_top_50_cases": result["precision_top_50_cases"],
        "precision_top_200_cases": result["precision_top_200_cases"],
        "injected_share_top_200_cases": result["injected_share_top_200_cases"],
        "dq_in_queue": result["dq_in_queue"],
        "quality_findings": result["quality_findings"],
        "quality_precision": result["quality_precision"],
        "recall_rule_schemes": result["recall_rule_schemes"],
        "monitoring_flags": monitoring["flags"],
        "monitoring_fraud_institutions": monitoring["fraud_institutions_flagged"],
        # a rule that failed leaves the run incomplete: the report says so beside the figures
        "failed_rules": ",".join(run.manifest.get("failed_rules", [])) or None,
        # a rule the knowledge base cannot drive found nothing, and is named as such
        "inactive_rules": ",".join(run.manifest.get("inactive_rules", [])) or None,
        **metrics,
    }
    names = truth.schemes.select("scheme", scheme_zh="zh")
    per_scheme = pl.DataFrame(result["per_scheme"]).join(names, on="scheme", how="left")
    fraud = truth.fraud_institutions["fixmedins_code"].implode()
    ranking = institution_ranking(run, lake).select(
        "rank",
        "fixmedins_code",
        "risk_score",
        fraudulent=pl.col("fixmedins_code").is_in(fraud),
    )
    return SeedResult(
        seed=seed,
        run_id=run.run_id,
        per_scheme=per_scheme,
        per_rule=pl.DataFrame(result["per_rule"]),
        summary=summary,
        ranking=ranking,
        lookalikes=lookalikes,
    )


def judge_workspace(
    workspace: Path, truth_dir: Path, *, run_id: str | None = None, seed: int | None = None
) -> SeedResult:
    """Judge a workspace's run (the latest by default) against a truth folder."""
    run = open_run(Path(workspace), run_id)
    return judge_run(run, Workspace.of(workspace).lake, Truth.read(Path(truth_dir)), seed=seed)


def run_seed(
    seed: int,
    work: Path,
    *,
    preset: str = "tiny",
    memory_limit: str = "6GB",
    progress: Progress | None = None,
) -> SeedResult:
    """Generate, ingest, score and judge one county in ``work/seed-<seed>/``.

    The seed's workspace is made afresh: a lake ingested twice would hold duplicates, and
    a model saved by an earlier county would be scored on this one.
    """
    if preset not in PRESETS:
        msg = f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}"
        raise ValueError(msg)
    say = progress or (lambda _m: None)
    folder = Path(work) / f"seed-{seed}"
    county, workspace = folder / "county", folder / "workspace"
    say(f"seed {seed}: generating the {preset} county")
    generate(SynthConfig.preset(preset, out=county, seed=seed))
    shutil.rmtree(workspace, ignore_errors=True)
    say(f"seed {seed}: ingesting its uploads")
    ingest(Workspace.of(workspace).lake, [county / "reference", county / "uploads"])
    say(f"seed {seed}: scoring")
    run = score(workspace, memory_limit=memory_limit)
    say(f"seed {seed}: judging run {run.run_id}")
    return judge_run(run, Workspace.of(workspace).lake, Truth.read(county / "truth"), seed=seed)


def run_seeds(
    seeds: Iterable[int],
    work: Path,
    *,
    preset: str = "tiny",
    memory_limit: str = "6GB",
    progress: Progress | None = None,
) -> list[SeedResult]:
    """:func:`run_seed` for each seed, one after the other (each uses the machine fully)."""
    return [
        run_seed(s, work, preset=preset, memory_limit=memory_limit, progress=progress)
        for s in seeds
    ]
