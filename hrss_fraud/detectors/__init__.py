"""Statistical and learned detection: what fixed rules miss (DOMAIN.md §3).

Detectors read the scoring database the rules read (``visit``, ``line``) and return hit
lines in the rules' shape, so their leads get stable ids, evidence and lines like any
rule's. Importing this package registers its kernels with the engine's registry
(:mod:`hrss_fraud.engine.kernels`): each plug-in is named below, so adding a detector is a
line here.
"""

from hrss_fraud.detectors import (  # noqa: F401 - imported for their @kernel registration
    frequency,
    high_cost,
    outliers,
    profiles,
    profiles_drift,
    rings,
    same_day,
    spread,
)
