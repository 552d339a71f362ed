"""``hrss-fraud score``: run the rule catalogue over the lake."""

from __future__ import annotations

import sys

import click

from hrss_fraud.cli.common import Fail, current_workspace, split_list
from hrss_fraud.engine.catalogue import CatalogueError
from hrss_fraud.engine.kernels import KERNELS
from hrss_fraud.engine.runs import Run, RunError
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.model.numbers import money
from hrss_fraud.scoring.score import score as run_score  # imports the detectors' kernels
from hrss_fraud.spark.score import score as spark_score
from hrss_fraud.spark.session import fixed, local_session


@click.command()
@click.option("--rules", "rule_ids", help="Comma-separated rule ids (default: every rule).")
@click.option(
    "--family",
    "families",
    help="Comma-separated rule families, e.g. statistical (the detectors); with --rules, both.",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Re-score only what batches since the latest run can change (full if the rules, "
    "parameters or knowledge changed).",
)
@click.option("--memory-limit", default="6GB", show_default=True, help="DuckDB memory limit.")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Where the tables are prepared and the rules run: DuckDB on this machine, or Apache "
    "Spark (a local session here, the cluster's under spark-submit; docs/province.md).",
)
@click.option(
    "--lake-uri",
    help="With --engine spark: where Spark reads the lake (hdfs://…, s3a://…); default the "
    "workspace's lake.",
)
@click.option("--quiet", is_flag=True, help="No per-rule progress.")
@click.pass_context
def score(
    ctx: click.Context,
    rule_ids: str | None,
    families: str | None,
    incremental: bool,
    memory_limit: str,
    engine: str,
    lake_uri: str | None,
    quiet: bool,
) -> None:
    """Run the rule catalogue over the lake and publish the findings as the latest run."""
    ids = split_list(rule_ids) or None
    try:
        if families:
            wanted = set(split_list(families))
            rules = current_workspace(ctx).catalogue(KERNELS).rules.values()
            known = {r.family for r in rules}
            if wanted - known:
                msg = (
                    f"unknown rule family: {', '.join(sorted(wanted - known))}; "
                    f"known: {', '.join(sorted(known))}"
                )
                raise CatalogueError(msg)
            ids = list(dict.fromkeys([*(ids or []), *(r.id for r in rules if r.family in wanted)]))
        workspace = current_workspace(ctx)
        if engine == "spark":
            run = _score_on_spark(workspace, ids, incremental, not quiet, lake_uri)
        else:
            run = run_score(
                workspace,
                rule_ids=ids,
                incremental=incremental,
                progress=not quiet,
                memory_limit=memory_limit,
            )
    except (CatalogueError, RunError, ValueError) as e:
        raise Fail(str(e)) from None
    m = run.manifest
    inactive = m.get("inactive_rules", [])
    click.echo(
        f"run {run.run_id}: {m['findings']:,} findings in {m.get('cases', 0):,} cases, amount at "
        f"risk {money(m['amount_at_risk'])}; {m.get('quality_findings', 0):,} data-quality "
        f"findings ({len(m['rules'])} rules, {len(m['failed_rules'])} failed, "
        f"{len(inactive)} inactive)"
    )
    for r in m["rules"]:
        if r["status"] == "inactive":
            click.echo(f"  rule {r['rule_id']} {r['reason']}")
    if m["failed_rules"]:
        for r in m["rules"]:
            if r["status"] == "failed":
                click.echo(f"  rule {r['rule_id']} failed: {r['error']}", err=True)
        sys.exit(1)


def _score_on_spark(
    workspace: Workspace,
    ids: list[str] | None,
    incremental: bool,
    progress: bool,
    lake_uri: str | None,
) -> Run:
    """The run on Spark: the session spark-submit made, else a local one (scratch under
    the workspace)."""
    # optional and start-up cost: pyspark (the spark extra) and its JVM bridge load only
    # for --engine spark
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    spark = fixed(active) if active is not None else local_session(workspace / "tmp" / "spark")
    return spark_score(
        workspace.root,
        spark,
        rule_ids=ids,
        incremental=incremental,
        progress=progress,
        lake_uri=lake_uri,
    )
