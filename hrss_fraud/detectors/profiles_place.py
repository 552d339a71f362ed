"""Placing units (institutions or doctors, per care setting and month) among their peers,
and turning flagged units into hit lines; shared by the peer-profile kernels
(:mod:`hrss_fraud.detectors.profiles`, :mod:`hrss_fraud.detectors.profiles_drift`)."""

from __future__ import annotations

import duckdb
import polars as pl

from hrss_fraud.detectors.peers import MAD_TO_SD, peer_stats
from hrss_fraud.detectors.profiles_indicators import Indicator
from hrss_fraud.engine.hits import project_hits
from hrss_fraud.model.codes import HOSP_LV, MEDINS_TYPE
from hrss_fraud.model.numbers import money_expr

PEER_LEVELS = (
    ("month", "setting", "medins_type", "hosp_lv"),
    ("month", "setting", "hosp_lv"),
)
SETTING_ZH = {"op": "门诊", "ip": "住院", "ph": "药店购药"}
SETTING_EN = {"op": "outpatient", "ip": "inpatient", "ph": "pharmacy"}
UNIT_KEYS = ["unit", "setting", "month"]


def units(
    con: duckdb.DuckDBPyConnection, visits_sql: str, min_visits: int, min_stays: int
) -> pl.DataFrame:
    """One row per unit, setting and month with enough visits (``min_stays`` for inpatient
    stays, far fewer a month at a township centre): the indicator's value, its in-scope
    basis, and the visits' count, sum and sum of squares (for the drift test)."""
    return (
        con.sql(f"""
        SELECT unit, any_value(fixmedins_code) AS fixmedins_code, setting, month,
               any_value(medins_type) AS medins_type, any_value(hosp_lv) AS hosp_lv,
               count(*) AS n_visits, CAST(sum(v_num) AS DOUBLE) AS num,
               CAST(sum(v_den) AS DOUBLE) AS den, CAST(sum(v_basis) AS DOUBLE) AS basis,
               CAST(sum(v_num * v_num) AS DOUBLE) AS num_sq,
               CAST(sum(v_num * v_den) AS DOUBLE) AS num_den,
               CAST(sum(v_den * v_den) AS DOUBLE) AS den_sq
        FROM ({visits_sql})
        GROUP BY unit, setting, month
        HAVING count(*) >= CASE setting WHEN 'ip' THEN {int(min_stays)} ELSE {int(min_visits)} END
           AND sum(v_den) > 0
    """)
        .pl()
        .with_columns(value=pl.col("num") / pl.col("den"))
        .with_columns(se=_ratio_se())
    )


def _ratio_se() -> pl.Expr:
    """Sampling error of the unit's value as a ratio of sums over its visits (the
    linearised variance of a ratio estimator): what chance alone moves it by."""
    r = pl.col("value")
    ss = pl.col("num_sq") - 2 * r * pl.col("num_den") + r * r * pl.col("den_sq")
    return ss.clip(lower_bound=0).sqrt() / pl.col("den")


def place(
    df: pl.DataFrame, min_peers: int, rel_spread: float, spread_peers: int = 5
) -> pl.DataFrame:
    """``df`` with its peers' figures: the level of the hierarchy it is compared at (the
    finest with at least ``min_peers`` units, itself included, as
    :func:`hrss_fraud.detectors.peers.peer_stats` pools), and over the *other* units of that
    group (a county has few hospitals of a kind, and a unit among two would otherwise make
    half its own benchmark): ``peer_n``, ``peer_median``, ``percentile`` (the share below
    it) and ``robust_z``. The spread is their MAD × 1.4826 when there are at least
    ``spread_peers`` of them (fewer say nothing of spread), floored at ``rel_spread`` ×
    the median, and combined with the unit's own sampling error, so that a small unit's
    chance excess is no lead. Units whose groups stay too small are left out."""
    levels = [list(cols) for cols in PEER_LEVELS]
    chosen = peer_stats(df, "value", PEER_LEVELS, min_peers=min_peers)
    chosen = chosen.filter(pl.col("peer_n") >= min_peers)
    chosen = chosen.drop("peer_n", "peer_median", "peer_sd", "robust_z").with_row_index("_r")
    group = [
        pl.concat_str([pl.col(c).cast(pl.String) for c in cols], separator="|") for cols in levels
    ]
    members = pl.concat(
        [
            df.select(_g=group[i], _lvl=pl.lit(i, pl.Int32), _o="unit", other="value")
            for i in range(len(levels))
        ]
    )
    mine = chosen.select(
        "_r",
        "unit",
        "value",
        _lvl=pl.col("peer_level").cast(pl.Int32),
        _g=pl.coalesce(
            [pl.when(pl.col("peer_level") == i).then(group[i]) for i in range(len(levels))]
        ),
    )
    pairs = mine.join(members, on=["_g", "_lvl"]).filter(pl.col("_o") != pl.col("unit"))
    stats = pairs.group_by("_r").agg(
        peer_n=pl.len(),
        peer_median=pl.col("other").median(),
        percentile=(pl.col("other") < pl.col("value")).mean(),
    )
    mad = (
        pairs.join(stats, on="_r")
        .group_by("_r")
        .agg(peer_mad=(pl.col("other") - pl.col("peer_median")).abs().median())
    )
    spread = pl.when(pl.col("peer_n") >= spread_peers).then(MAD_TO_SD * pl.col("peer_mad"))
    floor = pl.max_horizontal(spread.fill_null(0.0), rel_spread * pl.col("peer_median").abs())
    return (
        chosen.join(stats, on="_r")
        .join(mad, on="_r")
        .with_columns(peer_sd=(floor.pow(2) + pl.col("se").pow(2)).sqrt())
        .with_columns(
            # no spread at all (identical peers, a unit without sampling error): any
            # excess is beyond every multiple of it
            robust_z=pl.when(pl.col("peer_sd") > 0)
            .then((pl.col("value") - pl.col("peer_median")) / pl.col("peer_sd"))
            .when(pl.col("value") > pl.col("peer_median"))
            .then(float("inf"))
        )
        .sort("_r")
        .drop("_r", "peer_mad")
    )


def flag(placed: pl.DataFrame, params: dict[str, float]) -> pl.DataFrame:
    """The units beyond every threshold, with the in-scope excess over the peers' median."""
    over = pl.col("value") - pl.col("peer_median")
    return placed.filter(
        (pl.col("percentile") >= float(params["percentile"]))
        & (pl.col("robust_z") >= float(params["z"]))
        & (over > 0)
        & (pl.col("value") >= (1 + float(params["min_excess"])) * pl.col("peer_median"))
    ).with_columns(excess=pl.col("basis") * over / pl.col("value"))


def hit_rows(
    con: duckdb.DuckDBPyConnection,
    lines_sql: str,
    months: pl.DataFrame,
    hits: pl.DataFrame,
    ind: Indicator,
) -> pl.DataFrame:
    """The lines behind each hit in the rules' shape
    (:data:`hrss_fraud.engine.hits.HIT_COLUMNS`). ``months`` names each hit's unit-months
    with the benchmark its lines are held against (``peer_median``); ``hits`` gives each
    hit's ``excess``, evidence and ``robust_z``. The excess is shared over the lines in
    proportion to their own excess (``weight``), and is at most their sum."""
    con.register("_pp_flag", months.select(*UNIT_KEYS, "peer_median"))
    try:
        lines = con.sql(lines_sql).pl().filter(pl.col("weight") > 0)
    finally:
        con.unregister("_pp_flag")
    # in a total order, and the shares rounded far below a fen: DuckDB's parallel sums and
    # a query's row order otherwise move the last bits from one run to the next
    lines = lines.join(months.select(*UNIT_KEYS, "hit_key"), on=UNIT_KEYS).sort(
        "hit_key", "fixmedins_code", "mdtrt_id", "feedetl_sn", "setl_id", nulls_last=True
    )
    total = pl.col("weight").sum().over("hit_key")
    lines = lines.join(
        hits.select("hit_key", "excess", "evidence", "evidence_en", "robust_z"), on="hit_key"
    )
    # a unit whose basis is 0 (visit counts) claims its lines' own excess
    claim = pl.when(pl.col("excess") > 0).then(pl.min_horizontal("excess", total)).otherwise(total)
    return project_hits(
        lines,
        hit_key="hit_key",
        entity_type=ind.entity,
        entity_id="unit",
        line_time="line_time",
        amount=(claim * pl.col("weight") / total).round(6),
        # DuckDB's parallel sums move a z-score's last bits between runs; a finding must
        # not change when its claims did not
        score=pl.col("robust_z").round(6),
    )


def number(x: pl.Expr, ind: Indicator) -> pl.Expr:
    if ind.percent:
        return (x * 100).round(1).cast(pl.String) + "%"
    return x.round(2).cast(pl.String)


def peer_names(lang: str) -> pl.Expr:
    kinds = MEDINS_TYPE.zh_names() if lang == "zh" else MEDINS_TYPE.en_names()
    lvls = HOSP_LV.zh_names() if lang == "zh" else HOSP_LV.en_names()
    kind = pl.col("medins_type").replace_strict(kinds, default=pl.col("medins_type"))
    lv = pl.col("hosp_lv").replace_strict(
        lvls, default=pl.lit("无等级" if lang == "zh" else "no level")
    )
    whole = pl.format("同级（{}）各类机构" if lang == "zh" else "all {} institutions", lv)
    own = pl.format("{}{}" if lang == "zh" else "{} {}", lv, kind)
    return pl.when(pl.col("peer_level") == 0).then(own).otherwise(whole)


def money(col: str | pl.Expr) -> pl.Expr:
    """A column of yuan as evidence prints it (:func:`hrss_fraud.model.numbers.money_expr`)."""
    return money_expr(col)


def load_units(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], visits_sql: str
) -> pl.DataFrame:
    return units(
        con, visits_sql, int(params.get("min_visits", 30)), int(params.get("min_stays", 10))
    )
