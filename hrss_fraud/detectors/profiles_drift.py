"""Kernel ``profile_drift``: an institution's per-visit indicator rising suddenly against
its own earlier months (机构指标突变).

Every month after the first ``min_before`` is tried as a change point: the visits from it
on are compared with the visits before it by a two-sample z-test on their means, after
taking out the rise the peers (same setting and level, as in
:mod:`hrss_fraud.detectors.profiles`) saw over the same split — a county-wide season or a
price change is no drift. The change point kept is the month with the largest z; a lead
needs z ≥ ``z`` and a rise beyond the peers' of at least ``min_rise``. The lines behind
the excess are the indicator's lines from the change point on, sharing the in-scope amount
above the expected level (the earlier mean × the peers' rise).
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from hrss_fraud.detectors.profiles_indicators import INDICATORS, base_table, indicator_sql
from hrss_fraud.detectors.profiles_place import (
    SETTING_EN,
    SETTING_ZH,
    UNIT_KEYS,
    hit_rows,
    load_units,
)
from hrss_fraud.engine.hits import empty_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.model.numbers import money_expr

SUMS = ("n_visits", "num", "num_sq", "basis")


def splits(series: pl.DataFrame, min_before: int) -> pl.DataFrame:
    """Each unit-setting with each candidate change month: the visits' count, sum, sum of
    squares and basis before it and from it on."""
    s = series.sort("unit", "setting", "month").with_columns(
        k=pl.int_range(pl.len()).over("unit", "setting")
    )
    before = [pl.col(c).cum_sum().shift(1, fill_value=0).over("unit", "setting") for c in SUMS]
    total = [pl.col(c).sum().over("unit", "setting") for c in SUMS]
    s = s.with_columns(
        *[b.alias(f"{c}_b") for c, b in zip(SUMS, before, strict=True)],
        *[(t - b).alias(f"{c}_a") for c, t, b in zip(SUMS, total, before, strict=True)],
    )
    return s.filter(pl.col("k") >= min_before).with_columns(
        mean_b=pl.col("num_b") / pl.col("n_visits_b"),
        mean_a=pl.col("num_a") / pl.col("n_visits_a"),
    )


def score_splits(s: pl.DataFrame, min_peers: int) -> pl.DataFrame:
    """The peers' median rise over the same split and each split's z against it."""
    s = s.with_columns(rise=pl.col("mean_a") / pl.col("mean_b") - 1)
    peer = pl.col("rise").median().over("month", "setting", "hosp_lv")
    n = pl.len().over("month", "setting", "hosp_lv")
    s = s.with_columns(peer_rise=pl.when(n >= min_peers).then(peer).otherwise(0.0))
    var_b = pl.col("num_sq_b") / pl.col("n_visits_b") - pl.col("mean_b").pow(2)
    var_a = pl.col("num_sq_a") / pl.col("n_visits_a") - pl.col("mean_a").pow(2)
    se = (var_b.clip(0) / pl.col("n_visits_b") + var_a.clip(0) / pl.col("n_visits_a")).sqrt()
    expected = pl.col("mean_b") * (1 + pl.col("peer_rise"))
    return s.with_columns(expected=expected).with_columns(
        z=pl.when(se > 0)
        .then((pl.col("mean_a") - pl.col("expected")) / se)
        .when(pl.col("mean_a") > pl.col("expected"))
        .then(float("inf"))
    )


def flag_drift(tested: pl.DataFrame, z: float, min_rise: float) -> pl.DataFrame:
    """The best split of each unit-setting, where it passes both thresholds."""
    best = tested.sort("z", descending=True, nulls_last=True).unique(
        ["unit", "setting"], keep="first"
    )
    return best.filter(
        (pl.col("z") >= z) & (pl.col("rise") - pl.col("peer_rise") >= min_rise)
    ).with_columns(
        excess=pl.col("basis_a") * (1 - pl.col("expected") / pl.col("mean_a")),
        change=pl.col("month"),
    )


@kernel("profile_drift")
def profile_drift(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    ind = INDICATORS[str(args["indicator"])]
    if not ind.per_visit:
        msg = f"profile_drift needs a per-visit indicator; {ind.name} is not one"
        raise ValueError(msg)
    visits_sql, lines_sql = indicator_sql(ind.name, args, base_table(con))
    series = load_units(con, params, visits_sql)
    flagged = flag_drift(
        score_splits(splits(series, int(params.get("min_before", 1))), 4),
        float(params["z"]),
        float(params["min_rise"]),
    )
    if flagged.is_empty():
        return empty_hits()
    c = pl.col("change").dt.strftime("%Y-%m")
    flagged = flagged.with_columns(
        hit_key=pl.format("pd|{}|{}|{}|{}", pl.lit(ind.name), "unit", "setting", c),
        evidence=pl.format(
            "{}{}自{}起由此前的{}{}升至{}{}（升{}%），同类机构同期变化{}%，变点检验Z值{}"
            "（阈值Z≥{}、扣除同类变化后至少升{}%）；变点后高出预期部分的医保范围内金额{}。",
            pl.col("setting").replace_strict(SETTING_ZH, default=pl.col("setting")),
            pl.lit(ind.zh),
            c,
            pl.col("mean_b").round(2),
            pl.lit(ind.unit_zh),
            pl.col("mean_a").round(2),
            pl.lit(ind.unit_zh),
            (pl.col("rise") * 100).round(1),
            (pl.col("peer_rise") * 100).round(1),
            pl.col("z").round(1),
            pl.lit(f"{float(params['z']):g}"),
            pl.lit(f"{100 * float(params['min_rise']):g}"),
            money_expr("excess"),
        ),
        evidence_en=pl.format(
            "{} {} rose from {} before {} to {} since (+{}%), peers {}% over the same months, "
            "change-point z {} (thresholds z >= {}, at least {}% above the peers' change); "
            "in-scope amount above the expected level since the change: {}.",
            pl.col("setting").replace_strict(SETTING_EN, default=pl.col("setting")),
            pl.lit(ind.en),
            pl.col("mean_b").round(2),
            c,
            pl.col("mean_a").round(2),
            (pl.col("rise") * 100).round(1),
            (pl.col("peer_rise") * 100).round(1),
            pl.col("z").round(1),
            pl.lit(f"{float(params['z']):g}"),
            pl.lit(f"{100 * float(params['min_rise']):g}"),
            money_expr("excess"),
        ),
        robust_z=pl.col("z"),
    )
    # every month from the change point on, with the expected level as its benchmark
    months = series.select(UNIT_KEYS).join(
        flagged.select("unit", "setting", "change", "expected", "excess", "hit_key"),
        on=["unit", "setting"],
    )
    months = months.filter(pl.col("month") >= pl.col("change")).with_columns(
        peer_median=pl.col("expected")
    )
    return hit_rows(con, lines_sql, months, flagged, ind)
