"""限定频次: an item used more often than its cap per calendar day, per visit, or within a
period (``max_cnt_period`` uses in any ``period_days`` days, per person and item).

The day and visit caps are the set-based quantity template (``pq_quantity_cap.sql``); the
period cap is a sliding window per person and item, which SQL expresses badly, so it is a
numba loop. Precedence: the narrowest cap claims first (day > visit > period); the period
window counts only the units the day and visit caps have not already put at risk, so no
unit is at risk twice.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numba
import numpy as np
import polars as pl

from hrss_fraud.engine.catalogue import rules_dir
from hrss_fraud.engine.hits import HIT_COLUMNS, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.engine.render import render
from hrss_fraud.model.numbers import money

QUANTITY_SQL = "pq_quantity_cap.sql"


@numba.njit(cache=True)
def period_excess(
    group: np.ndarray,
    day: np.ndarray,
    cnt: np.ndarray,
    cap: np.ndarray,
    period: np.ndarray,
    grace_days: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by (group, day): each row's units over its cap in the window of the
    ``period − grace_days`` days ending on its day (the group's rows with
    ``day_i − window < day ≤ day_i``), the window's first row and its total.

    The day is the unit: the excess of a day (window total − cap, at most that day's
    units) is shared by that day's rows in proportion to their units. Thresholds (``cap``
    and ``period`` per row, ``grace_days``) are arguments: numba freezes globals at compile
    time."""
    n = len(day)
    excess = np.zeros(n, dtype=np.float64)
    first = np.zeros(n, dtype=np.int64)
    total = np.zeros(n, dtype=np.float64)
    lo = 0  # first row of the current window
    running = 0.0  # units of rows lo..i
    i = 0
    while i < n:
        if i == 0 or group[i] != group[i - 1]:
            lo = i
            running = 0.0
        # the rows of this group and day: i..j-1
        j = i
        day_units = 0.0
        while j < n and group[j] == group[i] and day[j] == day[i]:
            day_units += cnt[j]
            j += 1
        running += day_units
        window = period[i] - grace_days
        if window < 1:
            window = 1
        while day[lo] <= day[i] - window:
            running -= cnt[lo]
            lo += 1
        over = min(day_units, running - cap[i])
        for k in range(i, j):
            first[k] = lo
            total[k] = running
            if over > 1e-9 and day_units > 0:
                excess[k] = over * cnt[k] / day_units
        i = j
    return excess, first, total


def _g(x: float) -> str:
    return f"{x:g}"


def quantity_hits(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    """Day and visit caps through the shared quantity template (with its ``units``)."""
    sql = (rules_dir() / "sql" / QUANTITY_SQL).read_text(encoding="utf-8")
    values = {
        "list_types": args["list_types"],
        "levels": args.get("levels", ["day", "visit"]),
        "report": args.get("report", ["day", "visit"]),
        "kind_zh": args["kind_zh"],
        "kind_en": args["kind_en"],
        "tolerance": params.get("tolerance", 0.0),
        "supply_factor": params.get("supply_factor", 1.0),
        "day_by_visit": args.get("day_by_visit", []),
        "day_by_visit_types": args.get("day_by_visit_types", []),
        # services have no days' supply: no long prescription applies
        "long_rx_med_types": args.get("long_rx_med_types", []),
        "long_rx_days": args.get("long_rx_days", 0),
    }
    return con.sql(render(sql, values, where=f"kernel period_count ({QUANTITY_SQL})")).pl()


def period_lines(con: duckdb.DuckDBPyConnection, list_types: list[str]) -> pl.DataFrame:
    """Lines of items with a period cap, sorted by person, item and time."""
    types = ", ".join("'" + t.replace("'", "''") + "'" for t in list_types)
    return con.sql(f"""
        SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
               fee_ocur_time, med_list_codg, med_list_name, CAST(cnt AS DOUBLE) AS cnt,
               CAST(inscp_amt AS DOUBLE) AS inscp_amt,
               CAST(max_cnt_period AS DOUBLE) AS cap, CAST(period_days AS BIGINT) AS period,
               date_diff('day', DATE '2000-01-01', CAST(fee_ocur_time AS DATE)) AS day
        FROM line
        WHERE list_type IN ({types}) AND max_cnt_period IS NOT NULL AND period_days > 0
          AND cnt > 0
        ORDER BY psn_no, med_list_codg, fee_ocur_time, line_key
    """).pl()


def period_hits(lines: pl.DataFrame, claimed: pl.DataFrame, grace_days: int) -> pl.DataFrame:
    """Hit lines of the period cap: one hit per person, item and day that takes its window
    over the cap; that day's lines are violating, the window's earlier lines involved."""
    empty = pl.DataFrame(schema={**HIT_COLUMNS, "units": pl.Float64})
    if lines.height == 0:
        return empty
    lines = lines.join(claimed, on="line_key", how="left", maintain_order="left").with_columns(
        cnt_eff=(pl.col("cnt") - pl.col("claimed").fill_null(0)).clip(lower_bound=0)
    )
    group = lines.select(pl.struct("psn_no", "med_list_codg").rank("dense").cast(pl.Int64))
    excess, first, total = period_excess(
        group.to_series().to_numpy(),
        lines["day"].to_numpy().astype(np.int64),
        lines["cnt_eff"].to_numpy().astype(np.float64),
        lines["cap"].to_numpy().astype(np.float64),
        lines["period"].to_numpy().astype(np.int64),
        int(grace_days),
    )
    t = lines.with_row_index("r").with_columns(
        g=group.to_series(),
        excess=pl.Series(excess),
        w_first=pl.Series(first, dtype=pl.UInt32),
        w_total=pl.Series(total),
    )
    blocks = (
        t.group_by("g", "day")
        .agg(
            b_first=pl.col("r").min(),
            b_last=pl.col("r").max(),
            b_excess=pl.col("excess").sum(),
            b_risk=(pl.col("inscp_amt") * pl.col("excess") / pl.col("cnt")).sum(),
            b_inscp=pl.col("inscp_amt").sum(),
            w_first=pl.col("w_first").first(),
            w_total=pl.col("w_total").first(),
            psn_no=pl.col("psn_no").first(),
            med_list_codg=pl.col("med_list_codg").first(),
            med_list_name=pl.col("med_list_name").first(),
            cap=pl.col("cap").first(),
            period=pl.col("period").first(),
            d=pl.col("fee_ocur_time").first().dt.date(),
        )
        .filter(pl.col("b_excess") > 1e-9)
        .sort("b_first")
    )
    if blocks.height == 0:
        return empty
    w_start = t["fee_ocur_time"].gather(blocks["w_first"]).dt.date()
    blocks = blocks.with_columns(
        w_start=w_start,
        w_lines=(pl.col("b_last") - pl.col("w_first") + 1).cast(pl.Int64),
        window=(pl.col("period") - grace_days).clip(lower_bound=1),
    )
    zh, en = [], []
    for h in blocks.iter_rows(named=True):
        s, e = h["w_start"], h["d"]
        zh.append(
            f"项目「{h['med_list_name']}」({h['med_list_codg']}) 限{h['window']}天内最多"
            f"{_g(h['cap'])}次；患者{s}至{e}共{_g(h['w_total'])}次（{h['w_lines']}条明细），"
            f"{e}当日超出{_g(h['b_excess'])}次；当日医保范围内金额{money(h['b_inscp'])}，"
            f"疑点金额{money(h['b_risk'])}。"
        )
        en.append(
            f'Item "{h["med_list_name"]}" ({h["med_list_codg"]}) is capped at '
            f"{_g(h['cap'])} in any {h['window']} days; from {s} to {e} the patient had "
            f"{_g(h['w_total'])} ({h['w_lines']} lines), {_g(h['b_excess'])} over on {e}; "
            f"in-scope that day {money(h['b_inscp'])}, at risk {money(h['b_risk'])}."
        )
    blocks = blocks.with_columns(
        evidence=pl.Series(zh),
        evidence_en=pl.Series(en),
        hit_key=pl.format("period|{}|{}|{}", "psn_no", "med_list_codg", "d"),
        score=pl.col("w_total") / pl.col("cap"),
    )
    sizes = (blocks["b_last"] - blocks["w_first"] + 1).to_numpy().astype(np.int64)
    starts = blocks["w_first"].to_numpy().astype(np.int64)
    hb = np.repeat(np.arange(blocks.height), sizes)
    rows = starts[hb] + (np.arange(len(hb)) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    out = (
        pl.DataFrame({"hb": hb.astype(np.uint32), "r": rows.astype(np.uint32)})
        .join(
            blocks.with_row_index("hb").select(
                "hb", "hit_key", "psn_no", "b_first", "evidence", "evidence_en", "score"
            ),
            on="hb",
            how="left",
        )
        .join(t.drop("psn_no"), on="r", how="left")
    )
    viol = (pl.col("r") >= pl.col("b_first")) & (pl.col("excess") > 1e-9)
    return project_hits(
        out,
        hit_key="hit_key",
        entity_type="person",
        entity_id="psn_no",
        violating=viol,
        line_time="fee_ocur_time",
        amount=(pl.col("inscp_amt") * pl.col("excess") / pl.col("cnt")).round(4),
        score="score",
        units=pl.when(viol).then(pl.col("excess")).otherwise(0.0),
    )


@kernel("period_count")
def period_count(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    """Day and visit caps (SQL template), then the period cap on what they left over."""
    q = quantity_hits(con, params, args)
    claimed = (
        q.filter(pl.col("role") == "violating")
        .with_columns(
            line_key=pl.concat_str("fixmedins_code", "mdtrt_id", "feedetl_sn", separator="|")
        )
        .group_by("line_key")
        .agg(claimed=pl.col("units").sum())
    )
    p = period_hits(
        period_lines(con, list(args["list_types"])), claimed, int(params.get("grace_days", 0))
    )
    cols = [*HIT_COLUMNS, "units"]
    q = q.with_columns(score=pl.lit(None, pl.Float64)) if "score" not in q.columns else q
    return pl.concat(
        [
            q.select(pl.col(c).cast(t) for c, t in {**HIT_COLUMNS, "units": pl.Float64}.items()),
            p.select(cols).cast({c: t for c, t in {**HIT_COLUMNS, "units": pl.Float64}.items()}),
        ],
        how="vertical",
    )
