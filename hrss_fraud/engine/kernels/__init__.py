"""Named kernels: rules whose sequential logic SQL expresses badly (drug-supply carry-over,
sliding windows per person, bursts), and the registry every kernel is found through.

A kernel is ``fn(con, params, args) -> polars.DataFrame`` returning hit lines in the shape
:data:`hrss_fraud.engine.hits.HIT_COLUMNS` describes, registered with :func:`kernel` by the
module that defines it. The registry is explicit: the engine's own kernels are imported by
name at the bottom of this file; the statistical detectors (:mod:`hrss_fraud.detectors`, a
layer above) register theirs when that package is imported, which the scoring layer does.
The engine never imports upward, so a catalogue naming a kernel nobody registered is
refused where rules are run (:func:`check`), not guessed at. Numba functions take their
thresholds as arguments (globals freeze at compile time) and live in the module that calls
them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import polars as pl

Kernel = Callable[[duckdb.DuckDBPyConnection, dict[str, float], dict[str, Any]], pl.DataFrame]
KERNELS: dict[str, Kernel] = {}


class UnknownKernelError(LookupError):
    pass


def kernel(name: str) -> Callable[[Kernel], Kernel]:
    def register(fn: Kernel) -> Kernel:
        if name in KERNELS:
            msg = f"kernel {name!r} registered twice"
            raise ValueError(msg)
        KERNELS[name] = fn
        return fn

    return register


def get(name: str) -> Kernel:
    """The kernel registered as ``name``, or an error naming the registered ones."""
    try:
        return KERNELS[name]
    except KeyError:
        known = ", ".join(sorted(KERNELS))
        msg = f"unknown kernel {name!r}; registered: {known}"
        raise UnknownKernelError(msg) from None


# The engine's own kernels, imported by name so that adding one is a line here.
from hrss_fraud.engine.kernels import bursts, period_count, supply, windows  # noqa: E402, F401
