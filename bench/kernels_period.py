"""A plain pandas reference of the ``period_count`` kernel's sliding window
(:func:`hrss_fraud.engine.kernels.period_count.period_excess`), for tests and a later
benchmark: the same excess per row, computed straightforwardly.

Rows: ``psn_no``, ``med_list_codg``, ``day`` (integer day number), ``cnt``,
``max_cnt_period``, ``period_days``. For each person, item and day, the window is the
``period_days − grace_days`` days ending that day; the day's excess is the window's units
over the cap, at most the day's own units, shared by the day's rows in proportion to cnt.
"""

from __future__ import annotations

import pandas as pd


def pandas_period_count(df: pd.DataFrame, grace_days: int = 0) -> pd.Series:
    """Excess units of each row of ``df`` (same index)."""
    out = pd.Series(0.0, index=df.index, name="excess")
    for _, g in df.groupby(["psn_no", "med_list_codg"], sort=False):
        days = g.groupby("day", sort=True)["cnt"].sum()
        for day, day_units in days.items():
            rows = g[g["day"] == day]
            window = max(int(rows["period_days"].iloc[0]) - grace_days, 1)
            cap = float(rows["max_cnt_period"].iloc[0])
            in_window = days[(days.index > day - window) & (days.index <= day)].sum()
            over = min(day_units, in_window - cap)
            if over > 1e-9 and day_units > 0:
                out.loc[rows.index] = over * rows["cnt"] / day_units
    return out
