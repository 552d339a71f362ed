"""Saved models of a workspace: where they live, which rules need them, and getting them
into a run's scoring database.

A model is trained on the whole lake (``hrss-fraud models train``, or by the first full
``score`` that needs one and finds none) and saved under ``WORKSPACE/models/``. Runs apply
the saved model rather than refitting on what they happen to load, so an incremental run
gives the same leads as a full one; the model files' fingerprint is part of the run's
policy, so a retrained model makes the next incremental run a full one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from hrss_fraud.detectors import frequency, frequency_model, outliers
from hrss_fraud.detectors.frequency_model import ModelError

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
