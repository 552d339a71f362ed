"""The case store: people's decisions on leads and the audit log, in a transactional
database beside the lake (DESIGN.md, Storage)."""

from hrss_fraud.cases.migrate import SchemaError
from hrss_fraud.cases.store import CaseStore, Decision, DecisionError, open_store, store_path
from hrss_fraud.cases.vocab import DECISIONS, STEPS

__all__ = [
    "DECISIONS",
    "STEPS",
    "CaseStore",
    "Decision",
    "DecisionError",
    "SchemaError",
    "open_store",
    "store_path",
]
