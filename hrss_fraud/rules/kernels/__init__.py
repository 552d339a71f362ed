"""Named kernels: rules whose sequential logic SQL expresses badly (drug-supply carry-over,
sliding windows per person, bursts). Each module here registers its kernels with
:func:`kernel`; every module of this package is imported, so adding one needs no edit here.

A kernel is ``fn(con, params, args) -> polars.DataFrame`` returning hit lines in the shape
:data:`hrss_fraud.rules.hits.HIT_COLUMNS` describes. Numba functions take their thresholds
as arguments (globals freeze at compile time) and live in the module that calls them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import duckdb
import polars as pl

Kernel = Callable[[duckdb.DuckDBPyConnection, dict[str, float], dict[str, Any]], pl.DataFrame]
KERNELS: dict[str, Kernel] = {}


def kernel(name: str) -> Callable[[Kernel], Kernel]:
    def register(fn: Kernel) -> Kernel:
        if name in KERNELS:
            msg = f"kernel {name!r} registered twice"
            raise ValueError(msg)
        KERNELS[name] = fn
        return fn

    return register


for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")

# The statistical detectors' kernels live with the rest of detection (hrss_fraud.detect);
# every module there is imported too, so a new detector needs no edit here.
_detect = importlib.import_module("hrss_fraud.detect")
for _m in pkgutil.iter_modules(_detect.__path__):
    importlib.import_module(f"hrss_fraud.detect.{_m.name}")
