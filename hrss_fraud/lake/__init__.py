"""The claims lake: append-only Parquet batches behind an atomically replaced manifest."""

from __future__ import annotations

from hrss_fraud.lake.lock import LakeLockedError
from hrss_fraud.lake.manifest import BatchInfo
from hrss_fraud.lake.store import Lake, LakeWriter, connect

__all__ = ["BatchInfo", "Lake", "LakeLockedError", "LakeWriter", "connect"]
