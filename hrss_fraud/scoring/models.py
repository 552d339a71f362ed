"""``hrss-fraud models train``: the detectors' saved models, trained on the whole lake.

Training prepares a scoring database as a run would (the policy's knowledge base), so it
lives with scoring; the models themselves are the detectors' (:mod:`hrss_fraud.detectors.models`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hrss_fraud.detectors.models import KERNEL_MODELS, models_dir, train_into
from hrss_fraud.engine.prepare import build, open_scoring_db
from hrss_fraud.engine.runs import RunError
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.scoring.score import Policy


def train(workspace: Path, memory_limit: str = "6GB") -> dict[str, Any]:
    """``hrss-fraud models train``: every model, on the whole lake."""
    lake = Workspace.of(workspace).lake
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
