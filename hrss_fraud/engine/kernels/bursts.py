"""Kernel ``bursts``: card-swiping bursts at a pharmacy (药店刷卡套现/聚集性刷卡) — several
purchases by different insured persons at one institution within seconds of each other.

Settlements in the rule's settings are taken per institution in time order (``begntime``).
With ``card_paid_only`` only purchases paid wholly by card (personal account, no cash)
count. A window of ``window_seconds`` holding purchases of at least ``min_persons`` different
persons is a burst; overlapping windows join into one hit, keyed by the institution and its
first settlement. Every settlement of the burst is violating with its ``inscp_amt``. Two
members of a family collecting drugs together (代取药) are two persons: below the default
of three.
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
def burst_flags(
    group: np.ndarray, sec: np.ndarray, person: np.ndarray, min_persons: int, window: int
) -> np.ndarray:
    """For settlements sorted by (group, sec): the burst each belongs to (-1 for none). A
    window (sec - window, sec] holding at least ``min_persons`` distinct persons marks
    all its settlements."""
    n = len(sec)
    cover = np.zeros(n + 1, np.int64)
    lo = 0
    for i in range(n):
        if i == 0 or group[i] != group[i - 1]:
            lo = i
        while sec[lo] <= sec[i] - window:
            lo += 1
        distinct = 0
        for j in range(lo, i + 1):
            seen = False
            for k in range(lo, j):
                if person[k] == person[j]:
                    seen = True
                    break
            if not seen:
                distinct += 1
        if distinct >= min_persons:
            cover[lo] += 1
            cover[i + 1] -= 1
    burst = np.full(n, -1, np.int64)
    run = 0
    b = -1
    for i in range(n):
        run += cover[i]
        if run > 0:
            if i == 0 or burst[i - 1] < 0 or group[i] != group[i - 1]:
                b += 1
            burst[i] = b
    return burst


def settlements(con: duckdb.DuckDBPyConnection, args: dict[str, Any]) -> pl.DataFrame:
    """The settlements to scan; with ``card_paid_only`` only those paid wholly by card (some
    personal account, no cash): what a swiped card buys, unlike a cash purchase."""
    card = "AND acct_pay > 0 AND psn_cash_pay <= 0.005" if args.get("card_paid_only") else ""
    return con.sql(f"""
        SELECT fixmedins_code, fixmedins_name, setl_id, mdtrt_id, psn_no, begntime,
               inscp_amt, acct_pay, medfee_sumamt
        FROM visit
        WHERE setting IN {sql_array(args["settings"])} {card}
        ORDER BY fixmedins_code, begntime, setl_id
    """).pl()


def flag(s: pl.DataFrame, min_persons: int, window: int) -> pl.DataFrame:
    group = s["fixmedins_code"].rank("dense").cast(pl.Int64).to_numpy()
    sec = s["begntime"].dt.epoch("s").to_numpy().astype(np.int64)
    person = s["psn_no"].rank("dense").cast(pl.Int64).to_numpy()
    return s.with_columns(burst=pl.Series(burst_flags(group, sec, person, min_persons, window)))


@kernel("bursts")
def bursts(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    min_persons, window = int(params["min_persons"]), int(params["window_seconds"])
    s = flag(settlements(con, args), min_persons, window).filter(pl.col("burst") >= 0)
    if s.is_empty():
        return empty_hits()
    b = s.group_by("burst").agg(
        first=pl.col("begntime").min(),
        last=pl.col("begntime").max(),
        first_setl=pl.col("setl_id").sort_by("begntime", "setl_id").first(),
        n=pl.len(),
        n_psn=pl.col("psn_no").n_unique(),
        amt=pl.col("inscp_amt").sum(),
        acct=pl.col("acct_pay").sum(),
        medfee=pl.col("medfee_sumamt").sum(),
    )
    s = s.join(b, on="burst").with_columns(
        span=(pl.col("last") - pl.col("first")).dt.total_seconds(),
        hit_key=pl.format("{}|{}", "fixmedins_code", "first_setl"),
    )
    s = s.with_columns(
        evidence=pl.format(
            "{}（{}）于{}至{}的{}秒内连续为{}名不同参保人结算{}笔购药，超过{}秒内{}人的限定，疑似"
            "聚集性刷卡（均刷卡支付、无现金）；医保范围内金额合计{}，其中个人账户支付{}。",
            "fixmedins_name",
            "fixmedins_code",
            pl.col("first").cast(pl.String),
            pl.col("last").dt.time().cast(pl.String),
            "span",
            "n_psn",
            "n",
            pl.lit(window),
            pl.lit(min_persons),
            money_expr(pl.col("amt")),
            money_expr(pl.col("acct")),
        ),
        evidence_en=pl.format(
            "{} ({}) settled {} purchases of {} different persons within {} seconds, {} to {}: "
            "at least {} persons within {} seconds, a suspected card-swiping burst; in-scope {}, "
            "{} of it from personal accounts.",
            "fixmedins_name",
            "fixmedins_code",
            "n",
            "n_psn",
            "span",
            pl.col("first").cast(pl.String),
            pl.col("last").dt.time().cast(pl.String),
            pl.lit(min_persons),
            pl.lit(window),
            money_expr(pl.col("amt")),
            money_expr(pl.col("acct")),
        ),
    )
    return project_hits(
        s,
        hit_key=pl.col("hit_key"),
        entity_type="settlement",
        entity_id="hit_key",
        violating=True,
        amount=pl.col("inscp_amt"),
        score=pl.col("n_psn").cast(pl.Float64),
        line_time="begntime",
        feedetl_sn=None,
    )
