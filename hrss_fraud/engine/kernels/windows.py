"""Kernel ``windows``: too many visits, purchases or admissions by one person in a sliding
window (频繁门诊 / 频繁购药 / 频繁住院).

An *event* is one encounter (``mdtrt_id``; a long stay that settles in parts is one event)
in the rule's settings, dated by its start. An event is *violating* when the ``days``
calendar days ending on it hold more than ``count`` events of the person: it is the
repeated charge, its settlements' ``inscp_amt`` is at risk. The other events of those
windows are *involved*. Overlapping windows form one hit per person and episode, keyed by
the person and the episode's first day.

Planned treatment keeps a schedule of its own, which no limit for ordinary visits fits:
dialysis three times a week, chemotherapy every one to three weeks. An encounter of a
treatment class (``visit.treatment_class``: :mod:`hrss_fraud.knowledge.treatment`) named in
``class_limits`` (class → [count, days]) is counted apart, against its class's schedule, so
that dialysis billed four times a week is still a hit while three times is not; a class in
``exclude_classes`` is not counted at all.

With ``transfers_up`` a referral up (转诊) is no new event: a stay at a higher-level
institution admitted on the day the person's previous stay elsewhere ended (macro
``transfer_up``, as the readmission indicator tells it) continues that episode of care. A
move to the same level or down, or a day later, still counts.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl
from numba import njit

from hrss_fraud.engine.hits import empty_hits, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.knowledge.treatment import class_names, outside
from hrss_fraud.lake.sqltext import sql_array
from hrss_fraud.model.numbers import money_expr


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
    """One row per counted encounter: psn_no, fixmedins_code, mdtrt_id, t, amt and
    ``stream``: the treatment class it is counted with (see the module), '' for the rest."""
    settings = sql_array(args["settings"])
    limited = sql_array(args.get("class_limits", {}))
    excluded = outside(list(args.get("exclude_classes", [])), "cls")
    transfer = (
        "transfer_up(lag(fixmedins_code) OVER w, lag(lv) OVER w, lag(t_end) OVER w, "
        "fixmedins_code, lv, t)"
        if args.get("transfers_up")
        else "false"
    )
    return con.sql(f"""
        WITH enc AS (
            SELECT psn_no, fixmedins_code, mdtrt_id, min(begntime) AS t,
                   max(endtime) AS t_end, any_value(hosp_lv) AS lv,
                   sum(inscp_amt) AS amt, min(treatment_class) AS cls
            FROM visit
            WHERE setting IN {settings}
            GROUP BY psn_no, fixmedins_code, mdtrt_id
        ), seq AS (
            SELECT *, coalesce({transfer}, false) AS transfer
            FROM enc
            WINDOW w AS (PARTITION BY psn_no ORDER BY t, fixmedins_code, mdtrt_id)
        )
        SELECT psn_no, fixmedins_code, mdtrt_id, t, amt,
               CASE WHEN list_contains({limited}, cls) THEN cls ELSE '' END AS stream
        FROM seq
        WHERE {excluded} AND NOT transfer
        ORDER BY psn_no, stream, t, fixmedins_code, mdtrt_id
    """).pl()


def flag_events(ev: pl.DataFrame, count: int, days: int) -> pl.DataFrame:
    """``ev`` sorted by person and time, with ``viol``, ``episode`` and ``in_window``."""
    group = ev["psn_no"].rank("dense").cast(pl.Int64).to_numpy()
    day = ev["t"].dt.date().cast(pl.Int32).cast(pl.Int64).to_numpy()
    viol, episode, in_window = window_flags(group, day, int(count), int(days))
    return ev.with_columns(
        viol=pl.Series(viol), episode=pl.Series(episode), in_window=pl.Series(in_window)
    )


def flag_streams(
    ev: pl.DataFrame, count: int, days: int, class_limits: dict[str, list[int]]
) -> pl.DataFrame:
    """:func:`flag_events` per stream, each against its limit (the rule's own for ''), with
    ``limit`` and ``window`` per row and episodes numbered across the streams."""
    parts, offset = [], 0
    for (stream,), g in ev.group_by("stream", maintain_order=True):
        n, d = (count, days) if stream == "" else (int(x) for x in class_limits[str(stream)])
        f = flag_events(g, n, d)
        top = int(f["episode"].max() or -1) + 1 if f.height else 0
        parts.append(
            f.with_columns(
                episode=pl.when(pl.col("episode") >= 0).then(pl.col("episode") + offset),
                limit=pl.lit(n),
                window=pl.lit(d),
            )
        )
        offset += top
    return pl.concat(parts)


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
    limits = dict(args.get("class_limits", {}))
    ev = events(con, args)
    if ev.is_empty():
        return empty_hits()
    ev = flag_streams(ev, count, days, limits).filter(pl.col("episode") >= 0)
    if ev.is_empty():
        return empty_hits()
    stream = pl.col("stream")
    general = stream == ""
    zh = stream.replace_strict(class_names(con, "zh"), default=stream)
    en = stream.replace_strict(class_names(con, "en"), default=stream)
    kind_zh = pl.when(general).then(pl.lit(args["kind_zh"]))
    kind_zh = kind_zh.otherwise(pl.format("{}（{}）", pl.lit(args["kind_zh"]), zh))
    kind_en = pl.when(general).then(pl.lit(args["kind_en"]))
    kind_en = kind_en.otherwise(pl.format("{} ({})", pl.lit(args["kind_en"]), en))
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
    amt = money_expr("viol_amt")
    ev = ev.with_columns(
        hit_key=pl.when(general)
        .then(pl.format("{}|{}", "psn_no", first))
        .otherwise(pl.format("{}|{}|{}", "psn_no", "stream", first)),
        evidence=pl.format(
            "参保人{}在{}至{}期间于{}家机构{}{}次，任意{}天内最多{}次，超过{}次的限定；"
            "超出的{}次医保范围内金额{}。",
            "psn_no",
            first,
            last,
            "n_inst",
            kind_zh,
            "n",
            "window",
            "peak",
            "limit",
            "n_viol",
            amt,
        ),
        evidence_en=pl.format(
            "Person {} had {} {} at {} institution(s) from {} to {}, up to {} within {} days, "
            "over the limit of {}; the {} in excess carry an in-scope {}.",
            "psn_no",
            "n",
            kind_en,
            "n_inst",
            first,
            last,
            "peak",
            "window",
            "limit",
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
    return project_hits(
        rows,
        hit_key=pl.col("hit_key"),
        entity_type="person",
        entity_id="psn_no",
        violating=pl.col("viol"),
        amount=pl.col("inscp_amt"),
        score=pl.col("score"),
        line_time="begntime",
        feedetl_sn=None,
    )
