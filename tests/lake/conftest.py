"""Fixtures for the lake tests: a fresh lake, two fee lines and one settlement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers.lake_frames import fee_line, frame

from hrss_fraud.lake import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def fee() -> pl.DataFrame:
    """Two fee lines of one visit: one in January, one in February."""
    rows = [
        fee_line("1", datetime(2025, 1, 31, 23, 59, 59), "12.50"),
        fee_line("2", datetime(2025, 2, 1, 8, 0), "3.05"),
    ]
    return frame("fee_detail", rows, _source_file=["a.csv", "a.csv"], _line=[2, 3])


@pytest.fixture
def setl() -> pl.DataFrame:
    row = {
        "setl_id": "S1",
        "mdtrt_id": "M1",
        "psn_no": "P1",
        "fixmedins_code": "H001",
        "med_type": "11",
        "insutype": "390",
        "begntime": datetime(2025, 1, 31, 9, 0),
        "setl_time": datetime(2025, 2, 1, 9, 30),
        "ipt_days": 1,
        "medfee_sumamt": Decimal("15.55"),
        "inscp_amt": Decimal("15.55"),
        "fund_pay_sumamt": Decimal("9.33"),
        "refd_setl_flag": "0",
        "vali_flag": "1",
    }
    return frame("settlement", [row])


@pytest.fixture
def source() -> Callable[[str], dict[str, Any]]:
    def make(name: str) -> dict[str, Any]:
        return {"path": f"uploads/{name}", "sha256": f"sha-{name}", "size": 10, "layout": "std"}

    return make
