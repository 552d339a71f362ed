"""Statistical and learned detection: what fixed rules miss (DOMAIN.md §3).

Detectors read the scoring database the rules read (``visit``, ``line``) and return hit
lines in the rules' shape, so their leads get stable ids, evidence and lines like any
rule's. Importing this package registers its kernels.
"""
