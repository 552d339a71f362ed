"""The nightly batch: ingest the inbox, score incrementally, build the dashboard marts and
refresh the standing exports, one instance at a time, resumable after a crash.

The package imports nothing itself: backup and restore (:mod:`.backup`) and the dashboard's
journal view (:mod:`.journal`) import without loading scoring; the batch is
:func:`hrss_fraud.nightly.runner.run_nightly`.
"""
