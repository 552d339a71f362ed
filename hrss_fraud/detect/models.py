"""Saved models of a workspace: where they live, which rules need them, and getting them
into a run's scoring database.

A model is trained on the whole lake (``hrss-fraud models train``, or by the first full
``score`` that needs one and finds none) and saved under ``WORKSPACE/models/``. Runs apply
the saved model rather than refitting on what they happen to load, so an incremental run
gives the same leads as a full one; the model files' fingerprint is part of the run's
policy, so a retrained model makes the next incremental run a full one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb

from hrss_fraud.detect import frequency, frequency_model
from hrss_fraud.detect.frequency_model import FrequencyModel, ModelError

VISIT_FREQUENCY = "visit_frequency"
KERNEL_MODELS = {"visit_frequency": VISIT_FREQUENCY}
"""Which saved model each kernel reads."""


def models_dir(workspace: Path) -> Path:
    return Path(workspace) / "models"


def model_path(workspace: Path, name: str) -> Path:
    return models_dir(workspace) / f"{name}.json"


def needed(kernels: Iterable[str | None]) -> set[str]:
    """The models the given rules' kernels read."""
    return {KERNEL_MODELS[k] for k in kernels if k in KERNEL_MODELS}


def missing(workspace: Path, names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if not model_path(workspace, n).is_file())


def load_into(con: duckdb.DuckDBPyConnection, workspace: Path, names: Iterable[str]) -> None:
    """Put each saved model into ``con``; :class:`ModelError` names one that is missing or
    made by other code."""
    for name in sorted(names):
        _check(name)
        frequency.load_into(con, frequency_model.load(model_path(workspace, name)))


def train_into(
    con: duckdb.DuckDBPyConnection, workspace: Path, names: Iterable[str]
) -> dict[str, FrequencyModel]:
    """Train each model on what ``con``'s ``visit`` table holds (the whole lake), save it,
    and load it into ``con``."""
    trained = {}
    for name in sorted(names):
        _check(name)
        model = frequency_model.train(con)
        frequency_model.save(model, model_path(workspace, name))
        frequency.load_into(con, model)
        trained[name] = model
    return trained


def _check(name: str) -> None:
    if name != VISIT_FREQUENCY:
        msg = f"unknown model {name!r}; known: {VISIT_FREQUENCY}"
        raise ModelError(msg)


def train(workspace: Path, memory_limit: str = "6GB") -> dict[str, FrequencyModel]:
    """``hrss-fraud models train``: every model, on the whole lake."""
    from hrss_fraud.knowledge import load_knowledge
    from hrss_fraud.lake import Lake
    from hrss_fraud.rules.prepare import build, open_scoring_db
    from hrss_fraud.rules.runs import RunError
    from hrss_fraud.rules.score import Policy

    lake = Lake(Path(workspace) / "lake")
    if not lake.batches():
        msg = f"the lake {lake.root} is empty; ingest uploads first (`hrss-fraud ingest`)"
        raise RunError(msg)
    policy = Policy.load(workspace, None)
    work = models_dir(workspace) / ".train.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        con = open_scoring_db(work / "train.duckdb", memory_limit)
        build(con, lake, load_knowledge(policy.knowledge_dir))
        trained = train_into(con, workspace, KERNEL_MODELS.values())
        con.close()
        return trained
    finally:
        shutil.rmtree(work, ignore_errors=True)
