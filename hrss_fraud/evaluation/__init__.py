"""Evaluation of detection against a generated county's truth (issue 5, part 8): run the
whole pipeline per seed, judge it, report tables and plots against the goals."""

from hrss_fraud.evaluation.labels import localize, to_markdown
from hrss_fraud.evaluation.outputs import write_evaluation
from hrss_fraud.evaluation.pipeline import (
    SeedResult,
    judge_run,
    judge_workspace,
    parse_seeds,
    run_seed,
    run_seeds,
)
from hrss_fraud.evaluation.plots import Inline, figures
from hrss_fraud.evaluation.report import GOALS, Evaluation, Goal, build, verdict

__all__ = [
    "GOALS",
    "Evaluation",
    "Goal",
    "Inline",
    "SeedResult",
    "build",
    "figures",
    "judge_run",
    "judge_workspace",
    "localize",
    "parse_seeds",
    "run_seed",
    "run_seeds",
    "to_markdown",
    "verdict",
    "write_evaluation",
]
