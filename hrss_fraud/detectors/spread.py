"""Kernel ``institution_spread``: one person's outpatient visits in a month spread over
many institutions (多处就医, doctor shopping).

A person collecting drugs or sick notes from clinic after clinic stays below every single
institution's frequent-visit limit, and may stay below the visit-count model too; what
gives them away is the number of different places. Per person and calendar month, the
distinct institutions of their outpatient visits are counted; at least
``min_institutions`` is a lead — when one problem was taken to several of them. 多处就医
is the same condition carried from place to place; an elderly patient with four chronic
and acute problems, each seen where it is treated (COPD at the township centre, a flu at
the village clinic, the knee at the county hospital), spreads over as many places without
shopping for anything. So one condition (the same diagnosis group where the knowledge
has one, else the same ICD-10 category) must have been seen at ``repeat_places`` of the
places or more in the month. A chronic-disease programme visit (med_type in
``programme_med_types``, 门诊慢特病: settled only at the person's designated institutions)
is where its condition is meant to be managed, so it shows no condition taken elsewhere;
the same condition taken to two ordinary places still does, and a visit without a
diagnosis shows none. The programme visits still count as places.

Institutions are taken in the order first visited: the visits at the ``min_institutions``-th
institution and later ones are violating, their in-scope amount at risk (what the first
few places would not explain); the visits at the earlier places are involved. Standing
exceptions (dialysis, chemotherapy, radiotherapy) are left out by ``args``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from hrss_fraud.engine.hits import empty_hits, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.knowledge.treatment import outside
from hrss_fraud.lake.sqltext import sql_array
from hrss_fraud.model.numbers import money_expr


def spread_months(
    con: duckdb.DuckDBPyConnection,
    settings: list[str],
    exclude: list[str],
    least: int,
    repeat: int = 1,
    programme: list[str] | None = None,
) -> pl.DataFrame:
    """Every visit of a person-month with at least ``least`` distinct institutions, one
    condition of which was seen at ``repeat`` of them or more outside the chronic-disease
    programme (med_type in ``programme``), with ``place`` = the rank of its institution by
    first visit in the month, ``condition`` and ``condition_places`` (the most-travelled
    condition and its number of places)."""
    return con.sql(f"""
        WITH v AS (
            SELECT psn_no, fixmedins_code, fixmedins_name, setl_id, mdtrt_id, begntime,
                   strftime(begntime, '%Y-%m') AS month, CAST(inscp_amt AS DOUBLE) AS inscp,
                   CASE WHEN nullif(dise_codg, '') IS NOT NULL
                             AND NOT list_contains({sql_array(programme or [])}, med_type)
                        THEN coalesce(dise_group, left(dise_codg, 3)) END AS condition,
                   dise_codg, dise_name
            FROM visit
            WHERE setting IN {sql_array(settings)} AND psn_no IS NOT NULL
              AND {outside(exclude)}
        ), m AS (
            SELECT psn_no, month FROM v GROUP BY ALL
            HAVING count(DISTINCT fixmedins_code) >= {int(least)}
        ), cond AS (
            SELECT psn_no, month, condition,
                   count(DISTINCT fixmedins_code) AS condition_places,
                   first(dise_codg || ' ' || coalesce(dise_name, '') ORDER BY begntime, setl_id)
                       AS shown
            FROM v SEMI JOIN m USING (psn_no, month)
            WHERE condition IS NOT NULL
            GROUP BY ALL
        ), travelled AS (
            -- ties broken by name, so two runs name the same condition
            SELECT psn_no, month, first(shown ORDER BY condition_places DESC, shown) AS condition,
                   max(condition_places) AS condition_places
            FROM cond GROUP BY ALL
            HAVING max(condition_places) >= {int(repeat)}
        ), first AS (
            SELECT psn_no, month, fixmedins_code,
                   min((begntime, setl_id)) AS first_visit
            FROM v SEMI JOIN travelled USING (psn_no, month) GROUP BY ALL
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY psn_no, month ORDER BY first_visit)
                      AS place,
                      count(*) OVER (PARTITION BY psn_no, month) AS places
            FROM first
        )
        SELECT v.* EXCLUDE (condition, dise_codg, dise_name), r.place, r.places,
               t.condition, t.condition_places
        FROM v JOIN ranked r USING (psn_no, month, fixmedins_code)
        JOIN travelled t USING (psn_no, month)
        ORDER BY psn_no, month, begntime, setl_id
    """).pl()


@kernel("institution_spread")
def institution_spread(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    least = int(params["min_institutions"])
    rows = spread_months(
        con,
        list(args.get("settings", ["op"])),
        list(args.get("exclude_classes", [])),
        least,
        int(params.get("repeat_places", 1)),
        list(args.get("programme_med_types", [])),
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
    money = money_expr("risk")
    rows = rows.with_columns(
        evidence=pl.format(
            "参保人{}在{}门诊就诊{}次，分布于{}家机构（{}），达到{}家的提示标准，"
            "其中同一疾病（{}）在{}家机构就诊；第{}家及以后机构的就诊医保范围内金额{}。",
            "psn_no",
            "month",
            "visits",
            "places",
            "names",
            pl.lit(least),
            "condition",
            "condition_places",
            pl.lit(least),
            money,
        ),
        evidence_en=pl.format(
            "Person {} made {} outpatient visits in {} at {} different institutions ({}), "
            "at or above the {} that make a lead, one condition ({}) at {} of them; "
            "in-scope amount of the visits at the {}th institution and later: {}.",
            "psn_no",
            "visits",
            "month",
            "places",
            "names",
            pl.lit(least),
            "condition",
            "condition_places",
            pl.lit(least),
            money,
        ),
    )
    return project_hits(
        rows,
        hit_key=pl.format("spread|{}", key),
        entity_type="person",
        entity_id="psn_no",
        violating=late,
        amount=pl.col("inscp"),
        score=pl.col("places").cast(pl.Float64),
        line_time="begntime",
        feedetl_sn=None,
    )
