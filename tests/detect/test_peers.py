"""Robust peer statistics: the finest group with enough members, pooled upwards."""

from __future__ import annotations

import polars as pl
import pytest

from hrss_fraud.detectors.peers import MAD_TO_SD, peer_stats


def test_a_small_group_is_compared_with_its_parent_and_says_so() -> None:
    big = [("x", "p", float(v)) for v in range(1, 12)]  # 11 peers: median 6, MAD 3
    small = [("x", "q", 100.0), ("x", "q", 101.0)]  # too few of its own
    df = pl.DataFrame(big + small, schema=["a", "b", "v"], orient="row")
    out = peer_stats(df, "v", [["a", "b"], ["a"]], min_peers=5)
    row = out.filter(pl.col("b") == "p").row(0, named=True)
    assert (row["peer_level"], row["peer_n"], row["peer_median"]) == (0, 11, 6.0)
    assert row["peer_sd"] == pytest.approx(3 * MAD_TO_SD)
    assert row["robust_z"] == pytest.approx((1 - 6) / (3 * MAD_TO_SD))
    pooled = out.filter(pl.col("b") == "q")
    assert pooled["peer_level"].to_list() == [1, 1] and pooled["peer_n"].to_list() == [13, 13]
    assert out.height == df.height and out["v"].to_list() == df["v"].to_list()  # order kept


def test_one_extreme_member_barely_moves_its_peers() -> None:
    df = pl.DataFrame({"g": ["a"] * 21, "v": [10.0] * 10 + [11.0] * 10 + [10_000.0]})
    out = peer_stats(df, "v", [["g"]], min_peers=5)
    assert out["peer_median"][0] == 11.0 or out["peer_median"][0] == 10.0
    assert out["robust_z"][-1] > 1000


def test_a_spread_floor_keeps_identical_peers_from_dividing_by_zero() -> None:
    df = pl.DataFrame({"g": ["a"] * 6, "v": [5.0] * 5 + [6.0]})
    out = peer_stats(df, "v", [["g"]], min_peers=2, min_spread=0.5)
    assert out["peer_sd"].to_list() == [0.5] * 6 and out["robust_z"][-1] == 2.0
    with pytest.raises(ValueError, match="at least one level"):
        peer_stats(df, "v", [])
