"""Straightforward pandas versions of the behaviour kernels (``windows``, ``supply``,
``bursts``): the same input frame in, the same flags out. They are the yardstick of the
benchmark "numba kernel ≥ 10× faster than pandas", and ``tests/rules/test_kernels.py``
checks on random data that both give identical hits.

    python -m bench.kernels_reference [--rows 200000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def windows_reference(ev: pd.DataFrame, count: int, days: int) -> pd.DataFrame:
    """``ev`` (group, day) sorted by group and day → viol, episode, in_window as
    :func:`hrss_fraud.rules.kernels.windows.window_flags` computes them."""
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
    :func:`hrss_fraud.rules.kernels.supply.carry_over` computes them."""
    out = ev.copy()
    remaining = []
    for _, g in ev.groupby("group", sort=False):
        end = None
        for day, sup in zip(g["day"], g["supply"], strict=True):
            left = 0.0 if end is None else max(0.0, end - day)
            remaining.append(left)
            end = day + left + sup
    out["remaining"] = remaining
    out["early"] = out["remaining"] > tolerance
    return out


def bursts_reference(s: pd.DataFrame, min_persons: int, window: int) -> pd.DataFrame:
    """``s`` (group, sec, person) sorted by group and sec → burst as
    :func:`hrss_fraud.rules.kernels.bursts.burst_flags` computes it."""
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


def main(argv: list[str] | None = None) -> int:
    from hrss_fraud.rules.kernels.bursts import burst_flags
    from hrss_fraud.rules.kernels.supply import carry_over
    from hrss_fraud.rules.kernels.windows import window_flags

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    a = ap.parse_args(argv)
    ev = random_events(a.rows, a.rows // 40, 365)
    g, d = ev["group"].to_numpy(), ev["day"].to_numpy()
    cases = {
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
    }
    for name, (fast, slow) in cases.items():
        fast()  # compile
        t0 = time.perf_counter()
        fast()
        t1 = time.perf_counter()
        slow()
        t2 = time.perf_counter()
        fast_s, slow_s = t1 - t0, t2 - t1
        print(f"{name:<8} numba {fast_s:8.4f} s  pandas {slow_s:8.3f} s  ×{slow_s / fast_s:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
