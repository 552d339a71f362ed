"""One local SparkSession for the Spark tests (Spark allows one per process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """Local Spark on two cores, bound to 127.0.0.1, its scratch in the test's tmp."""
    from hrss_fraud.spark.session import local_session

    session = local_session(tmp_path_factory.mktemp("spark"), shuffle_partitions=2)
    yield session
    session.stop()
