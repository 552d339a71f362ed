"""The nightly batch: ingest the inbox, score incrementally, build the dashboard marts and
refresh the standing exports, one instance at a time, resumable after a crash."""

from hrss_fraud.nightly.journal import last_runs
from hrss_fraud.nightly.runner import Outcome, run_nightly

__all__ = ["Outcome", "last_runs", "run_nightly"]
