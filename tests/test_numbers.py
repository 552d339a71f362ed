"""The one money formatter (hrss_fraud.model.numbers), against figures worked by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import polars as pl
import pytest

from hrss_fraud.model.numbers import money, money_expr, yuan, yuan_expr


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "¥0.00"),
        (0.0, "¥0.00"),
        (-0.0, "¥0.00"),
        (-0.004, "¥0.00"),  # rounds to zero: no minus sign
        (0.005, "¥0.01"),  # half a fen rounds up
        (0.004999, "¥0.00"),
        (2.675, "¥2.68"),  # as written, not as the float 2.67499999…
        (1.005, "¥1.01"),
        (-2.675, "-¥2.68"),  # half away from zero
        (999.995, "¥1,000.00"),  # the rounding carries into a new thousands group
        (1234.5, "¥1,234.50"),
        (-1234.5, "-¥1,234.50"),
        (12, "¥12.00"),
        (1_000_000, "¥1,000,000.00"),
        (123_456_789.126, "¥123,456,789.13"),
        (1e12, "¥1,000,000,000,000.00"),
        (Decimal("7.125"), "¥7.13"),
    ],
)
def test_money(amount: float, shown: str) -> None:
    assert money(amount) == shown
    assert yuan(amount) == shown.replace("¥", "")


def test_a_change_is_signed() -> None:
    assert money(1234.5, signed=True) == "+¥1,234.50"
    assert money(-0.015, signed=True) == "-¥0.02"
    assert money(0.001, signed=True) == "¥0.00"  # no change: no sign


def test_missing_amounts() -> None:
    assert money(None) == "—"
    assert yuan(None) == "—"
    assert money(math.nan) == "—"
    assert money(math.inf) == "—"
    assert money(None, missing="") == ""


def test_over_a_column() -> None:
    df = pl.DataFrame({"a": [1234.5, None, -0.5]})
    out = df.select(m=money_expr("a"), y=yuan_expr(pl.col("a")))
    assert out["m"].to_list() == ["¥1,234.50", None, "-¥0.50"]
    assert out["y"].to_list() == ["1,234.50", None, "-0.50"]
