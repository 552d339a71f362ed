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
from typing import Any

import duckdb

from hrss_fraud.detect import frequency, frequency_model, outliers
from hrss_fraud.detect.frequency_model import ModelError

VISIT_FREQUENCY = "visit_frequency"
OUTLIERS = ("outlier_institution", "outlier_doctor", "outlier_person")
KERNEL_MODELS = {"visit_frequency": VISIT_FREQUENCY, **{k: k for k in OUTLIERS}}
"""Which saved model each kernel reads (``outliers`` is still being imported when the
kernels import this module, so its names are written out here)."""


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
        path = model_path(workspace, name)
        if name in outliers.MODELS:
            outliers.load_into(con, outliers.load(path, outliers.MODELS[name]))
        else:
            frequency.load_into(con, frequency_model.load(path))


def train_into(
    con: duckdb.DuckDBPyConnection, workspace: Path, names: Iterable[str]
) -> dict[str, Any]:
    """Train each model on what ``con``'s ``visit`` table holds (the whole lake), save it,
    and load it into ``con``."""
    trained = {}
    for name in sorted(names):
        _check(name)
        if name in outliers.MODELS:
            model = outliers.train(con, outliers.MODELS[name])
            outliers.save(model, model_path(workspace, name))
            outliers.load_into(con, model)
        else:
            model = frequency_model.train(con)
            frequency_model.save(model, model_path(workspace, name))
            frequency.load_into(con, model)
        trained[name] = model
    return trained


def _check(name: str) -> None:
    if name not in KERNEL_MODELS.values():
        msg = f"unknown model {name!r}; known: {', '.join(sorted(KERNEL_MODELS.values()))}"
        raise ModelError(msg)


def train(workspace: Path, memory_limit: str = "6GB") -> dict[str, Any]:
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
