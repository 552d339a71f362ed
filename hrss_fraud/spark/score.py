"""``score --engine spark``: the same run as :func:`hrss_fraud.scoring.score.score`, with the
scoring tables prepared and the rules run on Spark.

The run is planned, grouped into cases and published by the DuckDB run's own code (full or
incremental alike): only its ``prepare`` step (:class:`hrss_fraud.spark.prepare.SparkBuild`)
and its rules' hit lines (:class:`hrss_fraud.spark.rules.SparkHits`) are Spark's. White
lists, findings ids, saved models and the detectors that fit on everything run on the
driver over the tables Spark prepared, so a run's findings are those of a DuckDB run.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from hrss_fraud.detectors import models
from hrss_fraud.engine import runs
from hrss_fraud.engine.catalogue import Rule
from hrss_fraud.engine.execute import EngineResult, run_rules
from hrss_fraud.engine.needs import inactive_rules
from hrss_fraud.engine.params import changes
from hrss_fraud.engine.prepare import build
from hrss_fraud.engine.whitelist import load_whitelist
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.knowledge import Knowledge, load_knowledge
from hrss_fraud.scoring.score import Policy
from hrss_fraud.scoring.score import score as score_run
from hrss_fraud.spark.prepare import SparkBuild
from hrss_fraud.spark.rules import SparkHits

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def score(
    workspace: Path,
    spark: SparkSession,
    *,
    rule_ids: list[str] | None = None,
    incremental: bool = False,
    progress: bool = False,
    lake_uri: str | None = None,
    scratch: Path | None = None,
) -> runs.Run:
    """Score the lake on Spark and publish the run as the latest. ``lake_uri`` is where
    Spark reads the lake (``hdfs://…``, ``s3a://…``; default: the workspace's lake);
    ``scratch`` holds the prepared tables while the run lasts (default: a folder beside
    the runs; on a cluster, a path every executor and the driver reach)."""
    root = Path(tempfile.mkdtemp(prefix=".spark-", dir=_scratch_parent(workspace, scratch)))
    try:
        kb = load_knowledge(Policy.load(workspace, rule_ids).knowledge_dir)
        return score_run(
            workspace,
            rule_ids=rule_ids,
            incremental=incremental,
            progress=progress,
            prepare=SparkBuild(spark, root / "prepared", lake_uri),
            hits=SparkHits(spark, kb),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _scratch_parent(workspace: Path, scratch: Path | None) -> Path:
    parent = Path(scratch) if scratch is not None else runs.runs_dir(workspace)
    parent.mkdir(parents=True, exist_ok=True)
    return parent


@dataclass
class RulesOnSpark:
    """The rules' results on Spark (before cases), and where each rule ran."""

    result: EngineResult
    where: dict[str, str]
    counts: dict[str, int]
    prepare_seconds: dict[str, float]


def _inputs(workspace: Path, rules: list[Rule]) -> tuple[Policy, Knowledge, list[Rule]]:
    policy = Policy.load(workspace, [r.id for r in rules])
    kb = load_knowledge(policy.knowledge_dir)
    inactive = inactive_rules(rules, kb)
    return policy, kb, [r for r in rules if r.id not in inactive]


def _run(
    con: duckdb.DuckDBPyConnection,
    workspace: Path,
    policy: Policy,
    rules: list[Rule],
    run_id: str,
    hits: SparkHits | None = None,
) -> EngineResult:
    models.load_into(con, workspace, models.needed(r.kernel for r in rules))
    result = run_rules(
        con,
        policy.catalogue,
        rules,
        changes(policy.catalogue, workspace),
        load_whitelist(policy.catalogue, workspace),
        run_id,
        hits=hits,
    )
    _ = result.findings, result.lines  # read while the prepared tables exist
    return result


def run_on_duckdb(
    workspace: Path, rules: list[Rule], *, run_id: str = "spark"
) -> tuple[EngineResult, dict[str, int]]:
    """The same as :func:`run_on_spark` on DuckDB in memory: what it is compared with."""
    policy, kb, active = _inputs(workspace, rules)
    con = duckdb.connect()
    try:
        counts = build(con, Workspace.of(workspace).lake, kb)
        return _run(con, workspace, policy, active, run_id), counts
    finally:
        con.close()


def run_on_spark(
    workspace: Path,
    spark: SparkSession,
    rules: list[Rule],
    scratch: Path,
    *,
    run_id: str = "spark",
    group_rows: int = 50_000,
) -> RulesOnSpark:
    """Prepare on Spark and run ``rules`` (with the workspace's saved models), without
    publishing: what the parity test and the benchmark compare with DuckDB's
    :func:`~hrss_fraud.engine.execute.run_rules`."""
    policy, kb, active = _inputs(workspace, rules)
    spark_build = SparkBuild(spark, Path(scratch) / "prepared")
    hits = SparkHits(spark, kb, group_rows=group_rows)
    con = duckdb.connect()
    try:
        counts = spark_build(con, Workspace.of(workspace).lake, kb)
        result = _run(con, workspace, policy, active, run_id, hits)
    finally:
        con.close()
    seconds = spark_build.prepared.seconds if spark_build.prepared is not None else {}
    return RulesOnSpark(result, hits.where, counts, seconds)
