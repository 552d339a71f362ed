"""The SparkSession a province run uses: local by default, a cluster's when submitted.

Locally (``local[2]``, tests and one machine) the session binds to 127.0.0.1, has no UI,
few shuffle partitions and its warehouse and Derby folders under a scratch folder, so a run
needs no network and leaves nothing in the working directory. Under ``spark-submit`` the
cluster's settings (master, memory, executors) win: only what the results depend on is
forced here.

The lake's timestamps are naive local times (polars writes them without a time zone, so
Parquet marks them not adjusted to UTC): Spark reads them as ``TIMESTAMP_NTZ`` and the
session time zone is fixed to UTC so that no cast or date function shifts them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

#: Settings every session gets, local or submitted: results must not depend on them.
FIXED = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
}


def local_session(
    scratch: Path,
    *,
    cores: int = 2,
    driver_memory: str = "2g",
    shuffle_partitions: int = 4,
    app_name: str = "hrss-fraud",
) -> SparkSession:
    """A local SparkSession on ``cores`` cores, bound to 127.0.0.1, its scratch files
    (warehouse, Derby, spill) under ``scratch``. Reuses a session already running in this
    process (Spark allows one), with the fixed settings applied to it."""
    scratch = Path(scratch).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # the kernels run in Spark's Python workers: this interpreter, with this package's deps
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(f"local[{int(cores)}]")
        .appName(app_name)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", driver_memory)
        .config("spark.pyspark.python", sys.executable)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
        .config("spark.default.parallelism", str(int(cores)))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.local.dir", str(scratch / "local"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch / 'derby'}")
        .config("spark.sql.catalogImplementation", "in-memory")
    )
    for key, value in FIXED.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return fixed(spark)


def fixed(spark: SparkSession) -> SparkSession:
    """``spark`` with the settings results depend on (a submitted job's session too)."""
    for key, value in FIXED.items():
        spark.conf.set(key, value)
    return spark
