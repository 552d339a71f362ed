"""Kernel ``windows``: too many visits, purchases or admissions by one person in a sliding
window (频繁门诊 / 频繁购药 / 频繁住院).

An *event* is one encounter (``mdtrt_id``; a long stay that settles in parts is one event)
in the rule's settings, dated by its start. Planned treatment sessions — main diagnosis
starting with one of ``exclude_dise_prefixes`` (dialysis Z49/Z99.2, chemotherapy Z51) or an
encounter holding an item of ``exclude_item_groups`` — are not counted. An event is
*violating* when the ``days`` calendar days ending on it hold more than ``count`` events of
the person: it is the repeated charge, its settlements' ``inscp_amt`` is at risk. The other
events of those windows are *involved*. Overlapping windows form one hit per person and
episode, keyed by the person and the episode's first day.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl
from numba import njit

from hrss_fraud.rules.hits import empty_hits, settlement_hits
from hrss_fraud.rules.kernels import kernel
from hrss_fraud.rules.sqltext import no_prefix, sql_array


@njit(cache=True)
def window_flags(
    group: np.ndarray, day: np.ndarray, count: int, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For events sorted by (group, day): whether each is violating (more than ``count``
    events of its group in the ``days`` days ending on it), its episode (-1 when in no
    violating window) and the window's count."""
    n = len(day)
    viol = np.zeros(n, np.bool_)
    in_window = np.zeros(n, np.int64)
    cover = np.zeros(n + 1, np.int64)
    lo = 0
    for i in range(n):
        if i == 0 or group[i] != group[i - 1]:
            lo = i
        while day[lo] <= day[i] - days:
            lo += 1
        in_window[i] = i - lo + 1
        if i - lo + 1 > count:
            viol[i] = True
            cover[lo] += 1
            cover[i + 1] -= 1
    episode = np.full(n, -1, np.int64)
    run = 0
    ep = -1
    for i in range(n):
        run += cover[i]
        if run > 0:
            if i == 0 or episode[i - 1] < 0 or group[i] != group[i - 1]:
                ep += 1
            episode[i] = ep
    return viol, episode, in_window


def events(con: duckdb.DuckDBPyConnection, args: dict[str, Any]) -> pl.DataFrame:
    """One row per counted encounter: psn_no, fixmedins_code, mdtrt_id, t, amt."""
    settings = sql_array(args["settings"])
    no_excepted = no_prefix("v.dise_codg", args.get("exclude_dise_prefixes", []))
    groups = sql_array(args.get("exclude_item_groups", []))
    return con.sql(f"""
        WITH planned AS (
            SELECT DISTINCT fixmedins_code, mdtrt_id FROM line
            WHERE setting IN {settings} AND item_group IN {groups}
        )
        SELECT psn_no, fixmedins_code, mdtrt_id, min(begntime) AS t, sum(inscp_amt) AS amt
        FROM visit v
        WHERE setting IN {settings}
          AND {no_excepted}
          AND NOT EXISTS (SELECT 1 FROM planned p
                          WHERE p.fixmedins_code = v.fixmedins_code AND p.mdtrt_id = v.mdtrt_id)
        GROUP BY psn_no, fixmedins_code, mdtrt_id
        ORDER BY psn_no, t, fixmedins_code, mdtrt_id
    """).pl()


def flag_events(ev: pl.DataFrame, count: int, days: int) -> pl.DataFrame:
    """``ev`` sorted by person and time, with ``viol``, ``episode`` and ``in_window``."""
    group = ev["psn_no"].rank("dense").cast(pl.Int64).to_numpy()
    day = ev["t"].dt.date().cast(pl.Int32).cast(pl.Int64).to_numpy()
    viol, episode, in_window = window_flags(group, day, int(count), int(days))
    return ev.with_columns(
        viol=pl.Series(viol), episode=pl.Series(episode), in_window=pl.Series(in_window)
    )


def settlements_of(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame) -> pl.DataFrame:
    """The settlements (setl_id, begntime, inscp_amt) of these encounters."""
    con.register("_windows_keys", keys)
    try:
        return con.sql("""
            SELECT v.fixmedins_code, v.mdtrt_id, v.setl_id, v.begntime, v.inscp_amt
            FROM visit v JOIN _windows_keys k USING (fixmedins_code, mdtrt_id)
        """).pl()
    finally:
        con.unregister("_windows_keys")


@kernel("windows")
def windows(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    count, days = int(params["count"]), int(params["days"])
    ev = flag_events(events(con, args), count, days).filter(pl.col("episode") >= 0)
    if ev.is_empty():
        return empty_hits()
    kind_zh, kind_en = args["kind_zh"], args["kind_en"]
    ep = ev.group_by("episode").agg(
        first=pl.col("t").min(),
        last=pl.col("t").max(),
        n=pl.len(),
        peak=pl.col("in_window").max(),
        n_viol=pl.col("viol").sum(),
        viol_amt=pl.col("amt").filter(pl.col("viol")).sum(),
        n_inst=pl.col("fixmedins_code").n_unique(),
    )
    ev = ev.join(ep, on="episode")
    first = pl.col("first").dt.date().cast(pl.String)
    last = pl.col("last").dt.date().cast(pl.String)
    # the episode's excess encounters, not this row's own amount
    amt = pl.col("viol_amt").map_elements(lambda x: f"¥{x:.2f}", return_dtype=pl.String)
    ev = ev.with_columns(
        hit_key=pl.format("{}|{}", "psn_no", first),
        evidence=pl.format(
            "参保人{}在{}至{}期间于{}家机构{}{}次，任意{}天内最多{}次，超过{}次的限定；"
            "超出的{}次医保范围内金额{}。",
            "psn_no",
            first,
            last,
            "n_inst",
            pl.lit(kind_zh),
            "n",
            pl.lit(days),
            "peak",
            pl.lit(count),
            "n_viol",
            amt,
        ),
        evidence_en=pl.format(
            "Person {} had {} {} at {} institution(s) from {} to {}, up to {} within {} days, "
            "over the limit of {}; the {} in excess carry an in-scope {}.",
            "psn_no",
            "n",
            pl.lit(kind_en),
            "n_inst",
            first,
            last,
            "peak",
            pl.lit(days),
            pl.lit(count),
            "n_viol",
            amt,
        ),
    )
    setl = settlements_of(con, ev.select("fixmedins_code", "mdtrt_id").unique())
    rows = ev.select(
        "hit_key",
        "psn_no",
        "fixmedins_code",
        "mdtrt_id",
        "viol",
        "evidence",
        "evidence_en",
        score=pl.col("peak").cast(pl.Float64),
    ).join(setl, on=["fixmedins_code", "mdtrt_id"])
    return settlement_hits(
        rows,
        hit_key=pl.col("hit_key"),
        entity_type="person",
        entity_id="psn_no",
        violating=pl.col("viol"),
        amount=pl.col("inscp_amt"),
        score=pl.col("score"),
    )
