"""Kernel ``supply``: a drug refilled before the previous supply has run out (重复开药,
药量重叠).

Each purchase of a drug (``list_types``: western and patent drugs, not herbal pieces) in
the rule's settings supplies ``prd_days`` days (or ``cnt`` ×
the catalogue's ``days_per_unit``). Purchases are followed per person and drug class (the
drug itself when it has no class), in time order, carrying the remaining days of earlier
supplies over: a purchase made while more than ``tolerance_days`` of supply remain is an
early refill. Its amount at risk is the overlapping share of its ``inscp_amt``:
``inscp_amt × min(remaining, supply) / supply``; those overlapping days are then dropped
from the carry-over, so one early purchase is claimed once, not again at every on-time
refill after it. One hit per early-refill settlement; its drug lines of that class are
violating, the previous purchase's lines involved. A chronic patient collecting a 30-day
supply every 30–33 days never has supply left.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl
from numba import njit

from hrss_fraud.engine.hits import empty_hits, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.lake.sqltext import sql_array
from hrss_fraud.model.numbers import money_expr


@njit(cache=True)
def carry_over(
    group: np.ndarray, day: np.ndarray, supply: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """For purchases sorted by (group, day): the supply days still remaining when each was
    made (carrying over earlier ones), and whether that is more than ``tolerance``."""
    n = len(day)
    remaining = np.zeros(n, np.float64)
    early = np.zeros(n, np.bool_)
    end = 0.0
    for i in range(n):
        if i == 0 or group[i] != group[i - 1]:
            end = day[i]
        left = end - day[i]
        if left < 0.0:
            left = 0.0
        remaining[i] = left
        early[i] = left > tolerance
        end = day[i] + left + supply[i]
        if early[i]:
            # the overlap put at risk here is not carried forward to be claimed again
            end -= min(left, supply[i])
    return remaining, early


def purchases(con: duckdb.DuckDBPyConnection, args: dict[str, Any]) -> pl.DataFrame:
    """Drug lines with a known supply: one row per line, with its purchase key."""
    return con.sql(f"""
        SELECT psn_no, coalesce(drug_class, med_list_codg) AS drug_key,
               fixmedins_code, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time, inscp_amt,
               med_list_name, med_list_codg,
               CAST(coalesce(prd_days, cnt * days_per_unit) AS DOUBLE) AS supply
        FROM line
        WHERE setting IN {sql_array(args["settings"])}
          AND list_type IN {sql_array(args.get("list_types", ["101", "103", "104"]))}
          AND coalesce(prd_days, cnt * days_per_unit) > 0
          AND coalesce(rx_circ_flag, '0') <> '1'
    """).pl()


_PURCHASE = ["psn_no", "drug_key", "fixmedins_code", "setl_id"]


def events(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per purchase of a drug class in a settlement, sorted for the kernel."""
    name = pl.format("{}({})", "med_list_name", "med_list_codg")
    ev = lines.group_by(_PURCHASE).agg(
        t=pl.col("fee_ocur_time").min(),
        supply=pl.col("supply").sum(),
        amt=pl.col("inscp_amt").sum(),
        n=pl.len(),
        names=name.first(),
    )
    # A purchase of one line is named by it; the names of the others (few) are listed.
    several = ev.filter((pl.col("n") > 1) | pl.col("names").is_null()).select(_PURCHASE)
    if several.height:
        listed = (
            lines.join(several, on=_PURCHASE, nulls_equal=True)
            .group_by(_PURCHASE)
            .agg(listed=name.unique().sort().str.join("、"))
        )
        ev = ev.join(listed, on=_PURCHASE, how="left", nulls_equal=True).with_columns(
            names=pl.coalesce("listed", "names")
        )
    return ev.select(*_PURCHASE, "t", "supply", "amt", "names").sort(
        "psn_no", "drug_key", "t", "fixmedins_code", "setl_id"
    )


def flag(ev: pl.DataFrame, tolerance: float) -> pl.DataFrame:
    # ev is sorted by person and class: a group starts where the key changes (each row
    # without a key is a group of its own)
    key = ev.select(pl.concat_str("psn_no", "drug_key", separator="|"))[:, 0]
    starts = key.is_null() | key.shift(1).is_null() | (key != key.shift(1))
    g = starts.fill_null(True).cum_sum().cast(pl.Int64).to_numpy()
    day = (ev["t"].dt.epoch("s").to_numpy() / 86400.0).astype(np.float64)
    remaining, early = carry_over(g, day, ev["supply"].to_numpy().astype(np.float64), tolerance)
    # the previous purchase of the same person and class: the row before, within the group
    first = (pl.int_range(pl.len()) == 0) | ~(
        pl.col("psn_no").eq_missing(pl.col("psn_no").shift(1))
        & pl.col("drug_key").eq_missing(pl.col("drug_key").shift(1))
    )
    prev = pl.when(~first).then(pl.int_range(pl.len()) - 1)
    return ev.with_columns(
        remaining=pl.Series(remaining),
        early=pl.Series(early),
        prev_setl=pl.col("setl_id").gather(prev),
        prev_code=pl.col("fixmedins_code").gather(prev),
        prev_t=pl.col("t").gather(prev),
        prev_names=pl.col("names").gather(prev),
    )


@kernel("supply")
def supply(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    lines = purchases(con, args)
    ev = flag(events(lines), float(params["tolerance_days"])).filter(pl.col("early"))
    if ev.is_empty():
        return empty_hits()
    ev = ev.with_columns(
        share=pl.min_horizontal(pl.col("remaining"), pl.col("supply")) / pl.col("supply"),
        hit_key=pl.format("{}|{}", "fixmedins_code", "setl_id"),
    ).with_columns(risk=pl.col("amt") * pl.col("share"))
    ev = ev.with_columns(
        evidence=pl.format(
            "参保人{}于{}在{}购买{}（{}天用量，医保范围内金额{}）时，{}于{}（{}）购得的同类药品{}"
            "尚余{}天用量未用完（超过允许提前的{}天），属药量重叠；重叠部分{}。",
            "psn_no",
            pl.col("t").dt.date(),
            "fixmedins_code",
            "names",
            pl.col("supply").round(0),
            money_expr("amt"),
            pl.lit("此前"),
            pl.col("prev_t").dt.date(),
            "prev_code",
            "prev_names",
            pl.col("remaining").round(1),
            pl.lit(params["tolerance_days"]),
            money_expr("risk"),
        ),
        evidence_en=pl.format(
            "Person {} bought {} ({} days' supply, in-scope {}) at {} on {} while {} days of the "
            "same class bought on {} at {} ({}) were still left (more than the {} days allowed "
            "early): overlapping supply; the overlapping share is {}.",
            "psn_no",
            "names",
            pl.col("supply").round(0),
            money_expr("amt"),
            "fixmedins_code",
            pl.col("t").dt.date(),
            pl.col("remaining").round(1),
            pl.col("prev_t").dt.date(),
            "prev_code",
            "prev_names",
            pl.lit(params["tolerance_days"]),
            money_expr("risk"),
        ),
    )
    # Several classes refilled early in one settlement are one hit: join their texts.
    per_hit = ev.group_by("hit_key").agg(
        evidence=pl.col("evidence").sort().str.join(""),
        evidence_en=pl.col("evidence_en").sort().str.join(" "),
        score=pl.col("remaining").max(),
    )
    keys = ["psn_no", "drug_key", "fixmedins_code", "setl_id"]
    viol = lines.join(ev.select(*keys, "hit_key", "share", "amt"), on=keys).select(
        "hit_key",
        "fixmedins_code",
        "psn_no",
        "setl_id",
        "mdtrt_id",
        "feedetl_sn",
        "fee_ocur_time",
        role=pl.lit("violating"),
        amount=pl.col("inscp_amt") * pl.col("share"),
    )
    prev = ev.select(
        "psn_no", "drug_key", "hit_key", fixmedins_code="prev_code", setl_id="prev_setl"
    ).filter(pl.col("setl_id").is_not_null())
    inv = lines.join(prev, on=keys).select(
        "hit_key",
        "fixmedins_code",
        "psn_no",
        "setl_id",
        "mdtrt_id",
        "feedetl_sn",
        "fee_ocur_time",
        role=pl.lit("involved"),
        amount=pl.lit(0.0),
    )
    rows = pl.concat([viol, inv]).unique(["hit_key", "fixmedins_code", "mdtrt_id", "feedetl_sn"])
    return project_hits(
        rows.join(per_hit, on="hit_key"),
        hit_key="hit_key",
        entity_type="settlement",
        entity_id="hit_key",
        violating=pl.col("role") == "violating",
        line_time="fee_ocur_time",
        amount="amount",
        score="score",
    )
