"""A rule's hit lines on Spark, in the place of :func:`hrss_fraud.engine.execute.hit_lines`.

- A SQL rule: its template filled as DuckDB fills it, transpiled, run by Spark SQL over the
  prepared tables (:mod:`hrss_fraud.spark.prepare`).
- A kernel whose hits depend on one person's or one institution's rows only
  (:data:`GROUPED`): the prepared ``visit`` and ``line`` rows are split into groups by that
  key (hashed into buckets), and each group runs the very kernel function in a Python
  worker (``cogroup().applyInArrow``) over an in-memory DuckDB holding just that group's
  rows, the knowledge tables and the macros. The kernel's SQL and numba code is unchanged;
  its hit keys are natural keys, so they do not depend on how the rows were split.
- Any other kernel (the statistical detectors: peers, models fitted on everything) runs on
  the driver as in a DuckDB run, over the driver's DuckDB views of the tables Spark
  prepared; their features are not yet computed by Spark (docs/province.md).

The hits then go through the same shape check, white lists and findings on the driver
(:func:`hrss_fraud.engine.execute.run_rules`), so finding ids are the same.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import pyarrow as pa

from hrss_fraud.engine import hits as H
from hrss_fraud.engine import kernels
from hrss_fraud.engine.catalogue import Catalogue, Rule
from hrss_fraud.engine.prepare import add_macros, load_knowledge_tables
from hrss_fraud.engine.render import render
from hrss_fraud.knowledge import Knowledge
from hrss_fraud.spark.dialect import to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Kernels whose hits for a person (or an institution) depend on that key's rows alone,
#: and that key: they run per group on the executors.
GROUPED = {
    "windows": "psn_no",
    "supply": "psn_no",
    "period_count": "psn_no",
    "bursts": "fixmedins_code",
}

_ARROW_HITS = pa.schema(
    [
        (c, pa.timestamp("us") if c == "line_time" else pa.float64())
        if c in ("line_time", "amount", "score")
        else (c, pa.string())
        for c in H.HIT_COLUMNS
    ]
)
_SPARK_HITS = ", ".join(
    f"{c} {'timestamp_ntz' if c == 'line_time' else 'double' if c in ('amount', 'score') else 'string'}"  # noqa: E501
    for c in H.HIT_COLUMNS
)
_BUCKET = "_group_bucket"


def _to_polars(table: pa.Table) -> pl.DataFrame:
    return pl.from_arrow(table)  # type: ignore[return-value]


def _group_hits(
    name: str, rule_id: str, kb: Knowledge, params: dict[str, float], args: dict[str, Any]
):
    def run(_key: tuple[Any, ...], visit: pa.Table, line: pa.Table) -> pa.Table:
        con = duckdb.connect()
        try:
            add_macros(con)
            load_knowledge_tables(con, kb)
            v, ln = visit.drop_columns([_BUCKET]), line.drop_columns([_BUCKET])  # noqa: F841
            con.execute("CREATE TABLE visit AS SELECT * FROM v")
            con.execute("CREATE TABLE line AS SELECT * FROM ln")
            found = H.conform(kernels.get(name)(con, params, args), rule_id)
        finally:
            con.close()
        return found.to_arrow().cast(_ARROW_HITS)

    return run


class SparkHits:
    """``hits`` for :func:`~hrss_fraud.engine.execute.run_rules` on Spark; ``con`` is the
    driver's DuckDB (used by the rules that run on the driver only)."""

    def __init__(self, spark: SparkSession, kb: Knowledge, *, group_rows: int = 50_000) -> None:
        self.spark, self.kb, self.group_rows = spark, kb, group_rows
        self._buckets: int | None = None
        self.where: dict[str, str] = {}
        """Where each rule ran: ``spark-sql``, ``spark-groups`` or ``driver``."""

    @property
    def buckets(self) -> int:
        """Groups of persons (institutions) per kernel run: about ``group_rows`` visits
        each, and at least as many as Spark runs tasks at once."""
        if self._buckets is None:
            visits = self.spark.table("visit").count()
            parallel = self.spark.sparkContext.defaultParallelism
            self._buckets = max(parallel, math.ceil(visits / self.group_rows))
        return self._buckets

    def __call__(
        self,
        con: duckdb.DuckDBPyConnection,
        catalogue: Catalogue,
        rule: Rule,
        params: dict[str, float],
    ) -> pl.DataFrame:
        if rule.kernel and rule.kernel in GROUPED:
            self.where[rule.id] = "spark-groups"
            df = self._grouped(rule, params)
        elif rule.kernel:
            self.where[rule.id] = "driver"
            df = kernels.get(rule.kernel)(con, params, rule.args)
        else:
            self.where[rule.id] = "spark-sql"
            values = {**rule.args, **params}
            where = f"rule {rule.id} ({rule.sql})"
            sql = to_spark(
                render(catalogue.sql_text(rule), values, where=where),
                where=where,
                columns_of=self._columns,
            )
            df = _to_polars(self.spark.sql(sql).toArrow())
        return H.conform(df, rule.id)

    def _columns(self, table: str) -> list[str] | None:
        if not self.spark.catalog.tableExists(table):
            return None
        return self.spark.table(table).columns

    def _grouped(self, rule: Rule, params: dict[str, float]) -> pl.DataFrame:
        # optional: pyspark is the spark extra's, imported only when Spark runs
        from pyspark.sql import functions as F

        key = GROUPED[str(rule.kernel)]
        bucket = F.pmod(F.xxhash64(F.col(key)), F.lit(self.buckets)).alias(_BUCKET)
        visit = self.spark.table("visit").select("*", bucket)
        line = self.spark.table("line").select("*", bucket)
        fn = _group_hits(str(rule.kernel), rule.id, self.kb, dict(params), dict(rule.args))
        out = (
            visit.groupBy(_BUCKET)
            .cogroup(line.groupBy(_BUCKET))
            .applyInArrow(fn, schema=_SPARK_HITS)
        )
        return _to_polars(out.toArrow())
