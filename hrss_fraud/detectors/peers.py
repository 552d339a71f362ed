"""Robust peer comparison with small groups pooled up a hierarchy.

A value is compared with its peers' median and MAD (median absolute deviation), which a
few extreme members cannot drag along as they would a mean and standard deviation. Peers
are the finest group of the hierarchy with at least ``min_peers`` members: a rare
diagnosis at a township health centre is compared with all of that centre level's visits
for the setting when it has too few of its own. Each row keeps the level it was compared
at, so the evidence can say which peers it was held against.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

MAD_TO_SD = 1.4826
"""Scales a normal sample's MAD to its standard deviation."""


def peer_stats(
    df: pl.DataFrame,
    value: str,
    levels: Sequence[Sequence[str]],
    min_peers: int = 30,
    min_spread: float = 0.0,
    reference: str | None = None,
) -> pl.DataFrame:
    """``df`` with ``peer_level`` (index into ``levels``, finest first), ``peer_n``,
    ``peer_median``, ``peer_sd`` (MAD × 1.4826, at least ``min_spread``) and ``robust_z``.

    ``levels`` lists group-by column sets from finest to coarsest; the last should be
    coarse enough to always reach ``min_peers`` (an empty list means everyone). A row whose
    coarsest group is still too small is compared there anyway (``peer_n`` says so).

    ``reference`` names a boolean column: only its true rows set the peers' figures, every
    row is scored against them (a part of a visit is held against whole visits without
    being one of them).
    """
    if not levels:
        msg = "peer_stats needs at least one level of peer groups"
        raise ValueError(msg)
    out = df.with_row_index("_peer_row")
    ref = out if reference is None else out.filter(pl.col(reference))
    chosen: pl.DataFrame | None = None
    for i, cols in enumerate(levels):
        keys = list(cols)
        stats = _group_stats(ref, value, keys)
        joined = (
            out.join(stats, on=keys, how="left", nulls_equal=True)
            if keys
            else out.join(stats, how="cross")
        ).select("_peer_row", "peer_n", "peer_median", "peer_mad")
        joined = joined.with_columns(peer_level=pl.lit(i, pl.Int32))
        last = i == len(levels) - 1
        if chosen is None:
            take = joined if last else joined.filter(pl.col("peer_n") >= min_peers)
        else:
            pending = joined.join(chosen.select("_peer_row"), on="_peer_row", how="anti")
            take = pending if last else pending.filter(pl.col("peer_n") >= min_peers)
        chosen = take if chosen is None else pl.concat([chosen, take])
    assert chosen is not None
    sd = pl.max_horizontal(pl.col("peer_mad") * MAD_TO_SD, pl.lit(min_spread))
    return (
        out.join(chosen, on="_peer_row", how="left")
        .sort("_peer_row")
        .with_columns(peer_sd=sd)
        .with_columns(
            robust_z=pl.when(pl.col("peer_sd") > 0)
            .then((pl.col(value) - pl.col("peer_median")) / pl.col("peer_sd"))
            .otherwise(None)
        )
        .drop("_peer_row", "peer_mad")
    )


def _group_stats(df: pl.DataFrame, value: str, keys: list[str]) -> pl.DataFrame:
    """Count, median and MAD of ``value`` per group (one pass for the median, one for the
    absolute deviations from it)."""
    agg = [pl.len().alias("peer_n"), pl.col(value).median().alias("peer_median")]
    if keys:
        med = df.group_by(keys).agg(*agg)
        dev = df.join(med, on=keys, how="left", nulls_equal=True)
        mad = dev.group_by(keys).agg(
            peer_mad=(pl.col(value) - pl.col("peer_median")).abs().median()
        )
        return med.join(mad, on=keys, how="left", nulls_equal=True)
    med = df.select(*agg)
    mad = df.select(peer_mad=(pl.col(value) - med["peer_median"][0]).abs().median())
    return pl.concat([med, mad], how="horizontal")
