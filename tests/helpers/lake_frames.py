"""Tiny hand-made claim rows and frames in the canonical dtypes (shared by the lake tests)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from hrss_fraud.model.schema import TABLES


def frame(table: str, rows: list[dict[str, Any]], **extra: list[Any]) -> pl.DataFrame:
    """A frame with every canonical column of ``table`` (unset ones null) plus ``extra``."""
    df = pl.DataFrame(rows, schema=TABLES[table].polars_schema())
    return df.with_columns(pl.Series(k, v) for k, v in extra.items())


def fee_line(sn: str, when: datetime | None, amount: str, **kw: Any) -> dict[str, Any]:
    row = {
        "feedetl_sn": sn,
        "setl_id": "S1",
        "mdtrt_id": "M1",
        "psn_no": "P1",
        "fixmedins_code": "H001",
        "fee_ocur_time": when,
        "med_list_codg": "XA01",
        "cnt": Decimal("1.0000"),
        "pric": Decimal(amount).quantize(Decimal("0.0001")),
        "det_item_fee_sumamt": Decimal(amount),
        "vali_flag": "1",
    }
    return row | kw
