"""Straightforward pandas versions of the behaviour kernels (``windows``, ``supply``,
``bursts``): the same input frame in, the same flags out. They are the yardstick of the
benchmark "numba kernel ≥ 10× faster than pandas", and ``tests/rules/test_kernels.py``
checks on random data that both give identical hits.

    python -m bench.kernels_reference [--rows 20000] [--kernel windows] [--repeat 5]

prints, per kernel, the median seconds of both implementations run side by side
(interleaved) in one process, numba compiled beforehand; ``--json FILE`` records them.
In-process, because the pandas versions of the light kernels run in less time than a
Python process takes to start.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.runner import machine_info

KERNELS = ("windows", "supply", "bursts", "period_count")


def windows_reference(ev: pd.DataFrame, count: int, days: int) -> pd.DataFrame:
    """``ev`` (group, day) sorted by group and day → viol, episode, in_window as
    :func:`hrss_fraud.engine.kernels.windows.window_flags` computes them."""
    out = ev.copy()
    out["in_window"] = 0
    out["viol"] = False
    out["covered"] = 0
    for _, g in ev.groupby("group", sort=False):
        idx = g.index.to_numpy()
        day = g["day"].to_numpy()
        lo = np.searchsorted(day, day - days, side="right")
        n = np.arange(len(day)) - lo + 1
        out.loc[idx, "in_window"] = n
        out.loc[idx, "viol"] = n > count
        for i in np.flatnonzero(n > count):
            out.loc[idx[lo[i] : i + 1], "covered"] += 1
    return _episodes(out, "covered", "episode").drop(columns="covered")


def _episodes(df: pd.DataFrame, covered: str, name: str) -> pd.DataFrame:
    """Number contiguous runs of covered rows within a group, -1 elsewhere."""
    cov = df[covered] > 0
    start = cov & (~cov.shift(1, fill_value=False) | (df["group"] != df["group"].shift(1)))
    run = start.cumsum() - 1
    df[name] = np.where(cov, run, -1)
    return df


def supply_reference(ev: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """``ev`` (group, day, supply) sorted by group and day → remaining, early as
    :func:`hrss_fraud.engine.kernels.supply.carry_over` computes them."""
    out = ev.copy()
    remaining = []
    for _, g in ev.groupby("group", sort=False):
        end = None
        for day, sup in zip(g["day"], g["supply"], strict=True):
            left = 0.0 if end is None else max(0.0, end - day)
            remaining.append(left)
            claimed = min(left, sup) if left > tolerance else 0.0
            end = day + left + sup - claimed
    out["remaining"] = remaining
    out["early"] = out["remaining"] > tolerance
    return out


def bursts_reference(s: pd.DataFrame, min_persons: int, window: int) -> pd.DataFrame:
    """``s`` (group, sec, person) sorted by group and sec → burst as
    :func:`hrss_fraud.engine.kernels.bursts.burst_flags` computes it."""
    out = s.copy()
    out["covered"] = 0
    for _, g in s.groupby("group", sort=False):
        idx = g.index.to_numpy()
        sec = g["sec"].to_numpy()
        person = g["person"].to_numpy()
        lo = np.searchsorted(sec, sec - window, side="right")
        for i in range(len(sec)):
            if len(set(person[lo[i] : i + 1])) >= min_persons:
                out.loc[idx[lo[i] : i + 1], "covered"] += 1
    return _episodes(out, "covered", "burst").drop(columns="covered")


def random_events(n: int, groups: int, span: int, seed: int = 0) -> pd.DataFrame:
    """Random (group, day, supply, sec, person) rows sorted by group and day."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "group": rng.integers(0, groups, n),
            "day": rng.integers(0, span, n),
            "supply": rng.choice([7.0, 14.0, 28.0, 30.0], n),
            "person": rng.integers(0, max(2, groups // 2), n),
        }
    )
    df["sec"] = df["day"] * 37
    return df.sort_values(["group", "day"], kind="stable").reset_index(drop=True)


def _cases(rows: int) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """Each kernel as (numba, pandas) closures over the same random input."""
    from bench.kernels_period import pandas_period_count
    from hrss_fraud.engine.kernels.bursts import burst_flags
    from hrss_fraud.engine.kernels.period_count import period_excess
    from hrss_fraud.engine.kernels.supply import carry_over
    from hrss_fraud.engine.kernels.windows import window_flags

    ev = random_events(rows, max(rows // 40, 1), 365)
    g, d = ev["group"].to_numpy(), ev["day"].to_numpy()
    item = (ev["person"].to_numpy() % 3).astype(np.int64)
    order = np.lexsort((d, item, g))
    uses = pd.DataFrame(
        {
            "psn_no": g[order],
            "med_list_codg": item[order],
            "day": d[order],
            "cnt": ((ev["supply"].to_numpy() // 7) % 3 + 1)[order],
            "max_cnt_period": np.array([1.0, 3.0, 2.0])[item[order]],
            "period_days": np.array([90, 7, 30])[item[order]],
        }
    )
    ug = uses["psn_no"].to_numpy() * 10 + uses["med_list_codg"].to_numpy()
    u = {c: uses[c].to_numpy() for c in uses.columns}
    return {
        "windows": (
            lambda: window_flags(g, d, 3, 30),
            lambda: windows_reference(ev, 3, 30),
        ),
        "supply": (
            lambda: carry_over(g, d.astype(float), ev["supply"].to_numpy(), 7.0),
            lambda: supply_reference(ev, 7.0),
        ),
        "bursts": (
            lambda: burst_flags(g, ev["sec"].to_numpy(), ev["person"].to_numpy(), 3, 60),
            lambda: bursts_reference(ev, 3, 60),
        ),
        "period_count": (
            lambda: period_excess(ug, u["day"], u["cnt"], u["max_cnt_period"], u["period_days"], 0),
            lambda: pandas_period_count(uses),
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--kernel", choices=KERNELS, action="append", help="default: all")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions of each, interleaved")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    cases = _cases(a.rows)
    report: dict[str, dict[str, float]] = {}
    for name in a.kernel or KERNELS:
        fast, slow = cases[name]
        fast()  # compile (or load numba's cache): not timed
        fast_s, slow_s = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            fast()
            t1 = time.perf_counter()
            slow()
            t2 = time.perf_counter()
            fast_s.append(t1 - t0)
            slow_s.append(t2 - t1)
        f, s = statistics.median(fast_s), statistics.median(slow_s)
        report[name] = {"numba_s": f, "pandas_s": s, "ratio": s / f}
        print(f"{name:<13} numba {f:9.5f} s  pandas {s:9.3f} s  ×{s / f:,.0f}", flush=True)
    if a.json:
        meta = {
            "rows": a.rows,
            "repeat": a.repeat,
            "statistic": "median",
            "machine": machine_info(),
        }
        a.json.write_text(json.dumps({**meta, "kernels": report}, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
