"""Kernel ``institution_spread``: one person's outpatient visits in a month spread over
many institutions (多处就医, doctor shopping).

A person collecting drugs or sick notes from clinic after clinic stays below every single
institution's frequent-visit limit, and may stay below the visit-count model too; what
gives them away is the number of different places. Per person and calendar month, the
distinct institutions of their outpatient visits are counted; at least
``min_institutions`` is a lead. Institutions are taken in the order first visited: the
visits at the ``min_institutions``-th institution and later ones are violating, their
in-scope amount at risk (what the first few places would not explain); the visits at the
earlier places are involved. Standing exceptions (dialysis, chemotherapy, radiotherapy)
are left out by ``args``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from hrss_fraud.knowledge.treatment import outside
from hrss_fraud.rules.hits import empty_hits, settlement_hits
from hrss_fraud.rules.kernels import kernel
from hrss_fraud.rules.sqltext import sql_array


def spread_months(
    con: duckdb.DuckDBPyConnection, settings: list[str], exclude: list[str], least: int
) -> pl.DataFrame:
    """Every visit of a person-month with at least ``least`` distinct institutions, with
    ``place`` = the rank of its institution by first visit in the month."""
    return con.sql(f"""
        WITH v AS (
            SELECT psn_no, fixmedins_code, fixmedins_name, setl_id, mdtrt_id, begntime,
                   strftime(begntime, '%Y-%m') AS month, CAST(inscp_amt AS DOUBLE) AS inscp
            FROM visit
            WHERE setting IN {sql_array(settings)} AND psn_no IS NOT NULL
              AND {outside(exclude)}
        ), m AS (
            SELECT psn_no, month FROM v GROUP BY ALL
            HAVING count(DISTINCT fixmedins_code) >= {int(least)}
        ), first AS (
            SELECT psn_no, month, fixmedins_code,
                   min((begntime, setl_id)) AS first_visit
            FROM v SEMI JOIN m USING (psn_no, month) GROUP BY ALL
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY psn_no, month ORDER BY first_visit)
                      AS place,
                      count(*) OVER (PARTITION BY psn_no, month) AS places
            FROM first
        )
        SELECT v.*, r.place, r.places
        FROM v JOIN ranked r USING (psn_no, month, fixmedins_code)
        ORDER BY psn_no, month, begntime, setl_id
    """).pl()


@kernel("institution_spread")
def institution_spread(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    least = int(params["min_institutions"])
    rows = spread_months(
        con, list(args.get("settings", ["op"])), list(args.get("exclude_classes", [])), least
    )
    if rows.is_empty():
        return empty_hits()
    key = pl.format("{}|{}", "psn_no", "month")
    late = pl.col("place") >= least
    rows = rows.with_columns(
        visits=pl.len().over(key),
        risk=pl.col("inscp").filter(late).sum().over(key),
        names=pl.col("fixmedins_name")
        .fill_null(pl.col("fixmedins_code"))
        .unique(maintain_order=True)
        .str.join("、")
        .over(key),
    )
    money = pl.col("risk").map_elements(lambda x: f"¥{x:,.2f}", return_dtype=pl.String)
    rows = rows.with_columns(
        evidence=pl.format(
            "参保人{}在{}门诊就诊{}次，分布于{}家机构（{}），达到{}家的提示标准；"
            "第{}家及以后机构的就诊医保范围内金额{}。",
            "psn_no",
            "month",
            "visits",
            "places",
            "names",
            pl.lit(least),
            pl.lit(least),
            money,
        ),
        evidence_en=pl.format(
            "Person {} made {} outpatient visits in {} at {} different institutions ({}), "
            "at or above the {} that make a lead; in-scope amount of the visits at the "
            "{}th institution and later: {}.",
            "psn_no",
            "visits",
            "month",
            "places",
            "names",
            pl.lit(least),
            pl.lit(least),
            money,
        ),
    )
    return settlement_hits(
        rows,
        hit_key=pl.format("spread|{}", key),
        entity_type="person",
        entity_id="psn_no",
        violating=late,
        amount=pl.col("inscp"),
        score=pl.col("places").cast(pl.Float64),
    )
