"""Kernels ``peer_profile`` and ``profile_drift``: institutions and doctors placed among
their peers on an indicator per month (PEPPER-style), and sudden rises against their own
earlier months.

``peer_profile`` computes one indicator (:mod:`hrss_fraud.detectors.profiles_indicators`) per
unit (institution or doctor), care setting and month, and places each unit among the units
of the same kind and level (``medins_type`` × ``hosp_lv``; a group with fewer than
``min_peers`` is pooled into the level, and left unassessed if still too small, since a
county hospital compared with village clinics says nothing). PEPPER reports the 80th
percentile and up; a lead needs more, so that clean institutions are not accused: a
percentile of at least ``percentile``, a robust z-score (MAD, with a floor of
``rel_spread`` × the median so that near-identical peers do not make every difference
huge) of at least ``z``, and a value at least ``min_excess`` above the peers' median.

``profile_drift`` tests, for a per-visit indicator, every month as a change point: the
visits from that month on against those before, less the change the peers saw over the
same months (a county-wide season is no drift), by a two-sample z-test on the visits.

A lead's amount at risk is the in-scope amount the indicator stands for, times the share
of the value above the peers' median (or the expected level after the change point),
shared over the lines that make up the excess in proportion to each line's own excess.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from hrss_fraud.detectors.profiles_indicators import (
    INDICATORS,
    Indicator,
    base_table,
    indicator_sql,
)
from hrss_fraud.detectors.profiles_place import (
    SETTING_EN,
    SETTING_ZH,
    flag,
    hit_rows,
    load_units,
    money,
    number,
    peer_names,
    place,
)
from hrss_fraud.engine.hits import empty_hits
from hrss_fraud.engine.kernels import kernel


@kernel("peer_profile")
def peer_profile(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    ind = INDICATORS[str(args["indicator"])]
    visits_sql, lines_sql = indicator_sql(ind.name, args, base_table(con))
    placed = place(
        load_units(con, params, visits_sql),
        int(params.get("min_peers", 2)),
        float(params.get("rel_spread", 0.05)),
    )
    # a unit held against a single other one is held against that one's habits, not a norm
    placed = placed.filter(pl.col("peer_n") >= int(params.get("min_others", 1)))
    flagged = flag(placed, params)
    if flagged.is_empty():
        return empty_hits()
    m = period_label(str(args.get("period", "month")))
    # a lead speaks of its own period only: naming the unit's other flagged periods would
    # make it change with claims outside its reach (an increment reads only its period)
    flagged = flagged.with_columns(
        hit_key=pl.format("pp|{}|{}|{}|{}", pl.lit(ind.name), "unit", "setting", m)
    )
    return hit_rows(con, lines_sql, flagged, _evidence(flagged, ind, params, m), ind)


def period_label(period: str) -> pl.Expr:
    """A unit's period as people read it: ``2025-03``, or ``2025Q1`` for a quarter."""
    if period == "quarter":
        d = pl.col("month").dt
        return pl.format("{}Q{}", d.year(), d.quarter())
    return pl.col("month").dt.strftime("%Y-%m")


def _evidence(
    flagged: pl.DataFrame, ind: Indicator, params: dict[str, float], m: pl.Expr
) -> pl.DataFrame:
    setting_zh = pl.col("setting").replace_strict(SETTING_ZH, default=pl.col("setting"))
    setting_en = pl.col("setting").replace_strict(SETTING_EN, default=pl.col("setting"))
    pct = (pl.col("percentile") * 100).round(0).cast(pl.Int64)
    z = pl.col("robust_z").round(1)
    thresholds = [
        pl.lit(f"{100 * float(params['percentile']):g}"),
        pl.lit(f"{float(params['z']):g}"),
        pl.lit(f"{100 * float(params['min_excess']):g}"),
    ]
    who = "医师" if ind.entity == "doctor" else "机构"
    return flagged.with_columns(
        evidence=pl.format(
            "{} {}{}：{}{}，同类{}（{}，{}个）中位数{}，位于第{}百分位，稳健Z值{}"
            "（阈值：第{}百分位、Z≥{}且高出中位数{}%以上）；"
            "按同类中位数计超出部分的医保范围内金额{}。",
            m,
            setting_zh,
            pl.lit(ind.zh),
            number(pl.col("value"), ind),
            pl.lit(ind.unit_zh),
            pl.lit(who),
            peer_names("zh"),
            "peer_n",
            number(pl.col("peer_median"), ind),
            pct,
            z,
            *thresholds,
            money("excess"),
        ),
        evidence_en=pl.format(
            "{} {} {}: {} {}, peers ({}, {}) median {}, percentile {}, robust z {} "
            "(thresholds: percentile {}, z >= {}, at least {}% above the median); "
            "in-scope amount beyond the peers' median {}.",
            m,
            setting_en,
            pl.lit(ind.en),
            number(pl.col("value"), ind),
            pl.lit(ind.unit_en),
            peer_names("en"),
            "peer_n",
            number(pl.col("peer_median"), ind),
            pct,
            z,
            *thresholds,
            money("excess"),
        ),
    )
