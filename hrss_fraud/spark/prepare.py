"""The scoring tables (``visit``, ``line``, the enrolment tables, ``kb_*``) built on Spark
from the very statements :func:`hrss_fraud.engine.prepare.build_from_views` runs on DuckDB.

No second copy of the prepare SQL: the DuckDB build is run once over an empty stand-in of
the lake (empty relations of the lake's schema) through a connection that records every
statement; each ``CREATE TABLE|VIEW … AS <query>`` it ran is then replayed on Spark with
the query transpiled (:mod:`hrss_fraud.spark.dialect`). Tables are written as Parquet under
a scratch folder and read back (each is read by many rules); views stay views. Knowledge
tables and an incremental run's persons come from the same frames DuckDB reads.

The stand-in has the lake's latest views only (no ``<table>_all``), so the build reads
``settlement``/``fee_detail`` as they are: on Spark those are the latest versions through
the superseded-rows index (:mod:`hrss_fraud.spark.lake`).

The driver keeps a DuckDB connection with the same names over those Parquet files (and the
recorded views replayed as written): white lists, the detectors and the models read the
prepared tables there, as they do in a DuckDB run.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from hrss_fraud.engine.prepare import Scope, add_macros, build_from_views, load_knowledge_tables
from hrss_fraud.knowledge import Knowledge
from hrss_fraud.lake import Lake
from hrss_fraud.lake.sqltext import ident, literal
from hrss_fraud.lake.views import duckdb_type
from hrss_fraud.model.schema import TABLES
from hrss_fraud.spark.dialect import to_spark
from hrss_fraud.spark.lake import SparkLake, register, spark_of_duckdb, spark_type

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_CREATE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(TABLE|VIEW|MACRO)\s+"
    r"(\"?[A-Za-z_][A-Za-z0-9_]*\"?)(?:\s*\([^)]*\))?\s+AS\s+(.*)$",
    re.DOTALL | re.IGNORECASE,
)
KNOWLEDGE = ("catalogue", "knowledge_pair", "diagnosis", "procedure", "treatment_class")
#: Relations made from Python frames (DuckDB's replacement scan), registered on Spark from
#: the same frames instead of replayed.
FROM_FRAMES = {*(f"kb_{k}" for k in KNOWLEDGE), "scope_person"}


@dataclass(frozen=True)
class Statement:
    kind: str  # TABLE or VIEW
    name: str
    query: str  # DuckDB SQL
    columns: tuple[tuple[str, str], ...] = ()
    """The relation's columns and DuckDB types as DuckDB made them: Spark's result is put
    in that order and cast to those types (a USING join's columns come first on Spark, a
    sum of decimals is narrower)."""


class _Recorder:
    """A DuckDB connection that notes every relation created through it, in order."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[Statement] = []

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        out = self._con.execute(sql, *args, **kwargs)
        m = _CREATE.match(sql)
        if m is not None and m.group(1).upper() != "MACRO":
            name = m.group(2).strip('"')
            rel = self._con.sql(f"SELECT * FROM {ident(name)} LIMIT 0")
            columns = tuple(zip(rel.columns, (str(t) for t in rel.types), strict=True))
            self.statements.append(Statement(m.group(1).upper(), name, m.group(3), columns))
        return out

    def sql(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        if _CREATE.match(sql):
            msg = "the prepare build creates relations through execute(), not sql()"
            raise NotImplementedError(msg)
        return self._con.sql(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _empty_lake_sql(name: str) -> str:
    cols = ", ".join(
        f"CAST(NULL AS {duckdb_type(f.dtype)}) AS {ident(f.name)}" for f in TABLES[name].fields
    )
    return (
        f"SELECT {cols}, CAST(NULL AS BIGINT) AS _batch_seq, CAST(NULL AS BIGINT) AS _row "
        "WHERE false"
    )


def record(kb: Knowledge, scope: Scope | None) -> tuple[list[Statement], list[str]]:
    """The tables and views the DuckDB build creates, in order, and the names of its row
    counts."""
    con = duckdb.connect()
    # the build reads its frames by DuckDB's replacement scan, from its own frame, not ours
    con.execute("SET python_scan_all_frames = true")
    for name in TABLES:
        con.execute(f"CREATE VIEW {ident(name)} AS {_empty_lake_sql(name)}")
    rec = _Recorder(con)
    counts = build_from_views(rec, kb, scope)  # type: ignore[arg-type]
    con.close()
    return [s for s in rec.statements if s.name not in FROM_FRAMES], list(counts)


def _as_recorded(df: DataFrame, st: Statement) -> DataFrame:
    # optional: pyspark is the spark extra's, imported only when Spark runs
    from pyspark.sql import functions as F

    return df.select(*(F.col(f"`{c}`").cast(spark_of_duckdb(t)).alias(c) for c, t in st.columns))


def _frame(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    # through Arrow, typed as DuckDB would read the frame (a column of nulls as text)
    frame = frame.with_columns(pl.col(pl.Null).cast(pl.String))
    if frame.is_empty():
        schema = ", ".join(
            f"`{c}` {_spark_of(t)}" for c, t in zip(frame.columns, frame.dtypes, strict=True)
        )
        return spark.createDataFrame([], schema)
    return spark.createDataFrame(frame.to_arrow())


def _spark_of(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return f"ARRAY<{_spark_of(dtype.inner)}>"
    return spark_type(dtype)


@dataclass
class Prepared:
    """What the build made: the Parquet folder of each table, the views, the counts."""

    tables: dict[str, str] = field(default_factory=dict)
    views: list[Statement] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    latest: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def build(
    spark: SparkSession,
    lake: SparkLake,
    kb: Knowledge,
    scratch: Path,
    scope: Scope | None = None,
) -> Prepared:
    """``visit``, ``line``, the enrolment tables and ``kb_*`` as Spark temporary views."""
    out = Prepared(latest=register(spark, lake))
    for name in KNOWLEDGE:
        _frame(spark, getattr(kb, name)).createOrReplaceTempView(f"kb_{name}")
    if scope is not None:
        _frame(spark, scope.persons.select("psn_no").unique()).createOrReplaceTempView(
            "scope_person"
        )
    statements, count_names = record(kb, scope)
    for n, st in enumerate(statements):
        t0 = time.perf_counter()
        df = _as_recorded(spark.sql(to_spark(st.query, where=f"prepare {st.name}")), st)
        if st.kind == "TABLE":
            path = str(scratch / f"{n:02d}-{st.name}")
            df.write.mode("overwrite").parquet(path)
            df = spark.read.parquet(path)
            out.tables[st.name] = path
        else:
            out.views.append(st)
        df.createOrReplaceTempView(st.name)
        out.seconds[f"{n:02d}-{st.name}"] = round(time.perf_counter() - t0, 2)
    out.views = [v for v in out.views if v.name not in out.tables]
    for name in count_names:
        out.counts[name] = spark.table("line_base" if name == "line" else name).count()
    return out


def driver_views(con: duckdb.DuckDBPyConnection, prepared: Prepared, kb: Knowledge) -> None:
    """The prepared tables in the driver's DuckDB ``con``, read from Spark's Parquet, and
    the views over them as the build wrote them."""
    add_macros(con)
    load_knowledge_tables(con, kb)
    for name, path in prepared.tables.items():
        files = literal(f"{path}/*.parquet")
        con.execute(f"CREATE OR REPLACE VIEW {ident(name)} AS SELECT * FROM read_parquet({files})")
    for v in prepared.views:
        con.execute(f"CREATE OR REPLACE VIEW {ident(v.name)} AS {v.query}")


class SparkBuild:
    """:func:`hrss_fraud.engine.prepare.build`'s place in a run on Spark: prepares on Spark
    and leaves the driver's connection as a DuckDB build would (the lake's views, the
    prepared tables by name)."""

    def __init__(self, spark: SparkSession, scratch: Path, lake_uri: str | None = None) -> None:
        self.spark, self.scratch, self.lake_uri = spark, Path(scratch), lake_uri
        self.prepared: Prepared | None = None

    def __call__(
        self, con: duckdb.DuckDBPyConnection, lake: Lake, kb: Knowledge, scope: Scope | None = None
    ) -> dict[str, int]:
        lake.connect(con, index=False)
        root = self.lake_uri or str(lake.root.resolve())
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.prepared = build(self.spark, SparkLake.open(self.spark, root), kb, self.scratch, scope)
        driver_views(con, self.prepared, kb)
        return dict(self.prepared.counts)
