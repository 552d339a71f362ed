"""The claims lake as Spark temporary views: the same Parquet files, chosen by the same
manifest, read through Spark's own file systems (a local folder, ``hdfs://``, ``s3a://``).

Per table, ``<table>_all`` holds every stored row of the committed batches (canonical
columns first, cast to the schema's types; columns a file lacks are null, as DuckDB's
``union_by_name``) and ``<table>`` its latest version per natural key: the stored rows
minus those the superseded-rows index lists (:mod:`hrss_fraud.lake.superseded`) when the
index of exactly these batches exists, else ranked by key as
:func:`hrss_fraud.lake.latest.latest_sql` writes it. Both give the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
from pyspark.sql import functions as F

from hrss_fraud.lake.latest import latest_sql
from hrss_fraud.lake.manifest import MANIFEST, VERSION, BatchInfo
from hrss_fraud.lake.superseded import FOLDER, fingerprint
from hrss_fraud.lake.views import LINEAGE, duckdb_type, table_of
from hrss_fraud.model.schema import TABLES, Table
from hrss_fraud.spark.dialect import to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class SparkLakeError(ValueError):
    pass


def spark_of_duckdb(duck: str) -> str:
    """The Spark SQL type of a DuckDB one (naive timestamps stay naive)."""
    duck = duck.upper()
    if duck.endswith("[]"):
        return f"ARRAY<{spark_of_duckdb(duck[:-2])}>"
    simple = {
        "VARCHAR": "STRING",
        "INTEGER": "INT",
        "TIMESTAMP": "TIMESTAMP_NTZ",
        "TIMESTAMPTZ": "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    }
    if duck in simple:
        return simple[duck]
    if duck.startswith(("DECIMAL", "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "FLOAT", "SMALLINT")):
        return duck
    msg = f"no Spark type for DuckDB type {duck}; add it to spark.lake.spark_of_duckdb"
    raise TypeError(msg)


def spark_type(dtype: pl.DataType) -> str:
    """The Spark SQL type of a lake column: DuckDB's (:func:`~hrss_fraud.lake.views.duckdb_type`)
    in Spark's words."""
    return spark_of_duckdb(duckdb_type(dtype))


def _join(root: str, rel: str) -> str:
    return root.rstrip("/") + "/" + rel


def _hadoop_path(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def exists(spark: SparkSession, uri: str) -> bool:
    """Whether ``uri`` exists on its file system (local, HDFS, S3A)."""
    path, fs = _hadoop_path(spark, uri)
    return bool(fs.exists(path))


def read_manifest(spark: SparkSession, root: str) -> list[BatchInfo]:
    """The committed batches of the lake at ``root``, read through Spark's file system."""
    uri = _join(root, MANIFEST)
    if not exists(spark, uri):
        return []
    text = spark.read.text(uri, wholetext=True).first()[0]
    doc = json.loads(text)
    if doc.get("version") != VERSION:
        msg = f"{uri}: manifest version {doc.get('version')!r} is not {VERSION}; upgrade the code"
        raise SparkLakeError(msg)
    return sorted((BatchInfo.from_dict(b) for b in doc["batches"]), key=lambda b: b.seq)


@dataclass(frozen=True)
class SparkLake:
    """A lake's root (a local path or a URI Spark reads) and the batches a run reads."""

    root: str
    batches: list[BatchInfo]

    @classmethod
    def open(cls, spark: SparkSession, root: str) -> SparkLake:
        batches = read_manifest(spark, root)
        if not batches:
            msg = f"the lake {root} has no committed batch; ingest uploads first"
            raise SparkLakeError(msg)
        return cls(root, batches)

    def files(self, table: str) -> list[str]:
        return [
            _join(self.root, rel) for b in self.batches for rel in b.files if table_of(rel) == table
        ]

    @property
    def index(self) -> str:
        """Where the superseded-rows index of exactly these batches is (if it was written)."""
        last = self.batches[-1].seq
        return _join(self.root, f"{FOLDER}/{last}-{fingerprint(self.batches)}.parquet")


def _all(spark: SparkSession, table: Table, files: list[str]) -> DataFrame:
    typed = [(f.name, spark_type(f.dtype)) for f in table.fields]
    if not files:
        cols = ", ".join(f"CAST(NULL AS {t}) AS `{n}`" for n, t in typed)
        lineage = ", ".join(f"CAST(NULL AS BIGINT) AS {c}" for c in LINEAGE)
        return spark.sql(f"SELECT {cols}, {lineage} WHERE false")
    raw = spark.read.option("mergeSchema", "true").parquet(*files)
    have = set(raw.columns)
    canonical = [(F.col(f"`{n}`") if n in have else F.lit(None)).cast(t).alias(n) for n, t in typed]
    extras = [F.col(f"`{c}`") for c in raw.columns if c not in table and c not in LINEAGE]
    lineage = [F.col(c).cast("BIGINT").alias(c) for c in LINEAGE]
    return raw.select(*canonical, *extras, *lineage)


def register(spark: SparkSession, lake: SparkLake) -> dict[str, str]:
    """Create ``<table>_all`` and ``<table>`` temporary views for every lake table; return
    how each latest view was made (``index`` or ``ranked``)."""
    use_index = exists(spark, lake.index)
    how = {}
    for name, table in TABLES.items():
        _all(spark, table, lake.files(name)).createOrReplaceTempView(f"{name}_all")
        if use_index:
            gone = (
                spark.read.parquet(lake.index)
                .where(F.col("table") == name)
                .select(*(F.col(c).cast("BIGINT").alias(c) for c in LINEAGE))
            )
            stored = spark.table(f"{name}_all")
            latest = stored.join(gone, list(LINEAGE), "left_anti").select(*stored.columns)
        else:
            latest = spark.sql(to_spark(latest_sql(table), where=f"latest {name}"))
        latest.createOrReplaceTempView(name)
        how[name] = "index" if use_index else "ranked"
    return how
