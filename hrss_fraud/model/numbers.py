"""Money as every screen, list, export and evidence text prints it: one way, here.

``money(1234.5)`` is ``¥1,234.50`` and ``yuan(1234.5)`` is ``1,234.50`` (for a column or
a sentence that already says 元/yuan). Amounts are rounded to the fen half up, on the
number as written (``2.675`` → ``2.68``, which ``f"{2.675:.2f}"`` prints as ``2.67``); a
minus sign goes before the ¥ (``-¥3.00``), an amount that rounds to zero has none, and a
missing one (``None``, NaN) prints as ``—``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

MISSING = "—"
_FEN = Decimal("0.01")


def _fen(amount: float | int | Decimal | None) -> Decimal | None:
    if amount is None or (isinstance(amount, float) and not math.isfinite(amount)):
        return None
    exact = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    rounded = exact.quantize(_FEN, rounding=ROUND_HALF_UP)
    return rounded if rounded else Decimal("0.00")  # no "-0.00"


def yuan(amount: float | int | Decimal | None, missing: str = MISSING) -> str:
    """``amount`` in yuan as ``12,345.60``: rounded to the fen, thousands separated."""
    fen = _fen(amount)
    return missing if fen is None else f"{fen:,.2f}"


def money(
    amount: float | int | Decimal | None, missing: str = MISSING, *, signed: bool = False
) -> str:
    """``amount`` in yuan as ``¥12,345.60`` (``-¥12,345.60`` when negative); ``signed``, a
    change: ``+¥12,345.60`` when positive."""
    fen = _fen(amount)
    if fen is None:
        return missing
    sign = "-" if fen < 0 else "+" if signed and fen > 0 else ""
    return f"{sign}¥{abs(fen):,.2f}"


def _each_distinct(fmt: Callable[[Any], str]) -> Callable[[pl.Series], pl.Series]:
    """``fmt`` over a column, computed once per distinct amount (prices and totals repeat
    a lot across a run's millions of hit lines); a null stays null."""

    def apply(values: pl.Series) -> pl.Series:
        distinct = values.drop_nulls().unique().to_list()
        texts = {v: fmt(v) for v in distinct}
        return values.replace_strict(texts, default=None, return_dtype=pl.String)

    return apply


def money_expr(column: str | pl.Expr) -> pl.Expr:
    """:func:`money` over a column of yuan (a null stays null)."""
    e = pl.col(column) if isinstance(column, str) else column
    return e.map_batches(_each_distinct(money), return_dtype=pl.String)


def yuan_expr(column: str | pl.Expr) -> pl.Expr:
    """:func:`yuan` over a column of yuan (a null stays null)."""
    e = pl.col(column) if isinstance(column, str) else column
    return e.map_batches(_each_distinct(yuan), return_dtype=pl.String)
