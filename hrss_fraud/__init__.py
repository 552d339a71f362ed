"""hrss_fraud: supervision of medical-insurance claims for a county insurance centre."""

from __future__ import annotations

import os
from pathlib import Path

__version__ = "0.1.0"


def _numba_cache_dir() -> str:
    """A writable per-user cache, so compiled kernels survive between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "hrss_fraud" / "numba")


os.environ.setdefault("NUMBA_CACHE_DIR", _numba_cache_dir())
