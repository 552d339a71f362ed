"""Where a deployment keeps its data: ``--workspace DIR``, ``HRSS_FRAUD_HOME``, or
``./workspace``."""

from __future__ import annotations

import os
from pathlib import Path

ENV = "HRSS_FRAUD_HOME"


def resolve(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser().resolve()
    return (Path.cwd() / "workspace").resolve()
