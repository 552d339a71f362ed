"""The canonical data model and code lists that every stage imports."""

from hrss_fraud.model import codes
from hrss_fraud.model.schema import TABLES, Field, Table, table

__all__ = ["TABLES", "Field", "Table", "codes", "table"]
