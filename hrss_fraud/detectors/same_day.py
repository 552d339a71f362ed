"""Kernel ``same_day_visits``: one person settled several times on one day at one
institution (同日重复就诊, 分解就诊).

A consultation split into several settlements bills its registration and diagnosis fees
again and slips under per-visit caps; below every frequent-visit threshold, it shows only
as repeats on the same day. Per person, institution and calendar day, the outpatient (or
pharmacy) settlements are counted; at least ``min_visits`` is a lead. The first visit of
the day is involved; the later ones are the repeated charge and their in-scope amount is
at risk (DOMAIN.md §3: a repeat within a window). Planned treatment sessions (treatment
classes in ``exclude_classes``: dialysis, chemotherapy …, :mod:`hrss_fraud.knowledge.treatment`)
are left out: a session beside a consultation on the same day is two services.
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

SETTING_ZH = {"op": "门诊", "ph": "药店购药"}
SETTING_EN = {"op": "outpatient", "ph": "pharmacy"}


def repeated_days(
    con: duckdb.DuckDBPyConnection,
    settings: list[str],
    exclude: list[str],
    min_visits: int,
    apart: list[str] | None = None,
) -> pl.DataFrame:
    """Every settlement of a person-institution-day with at least ``min_visits`` for the
    same problem, in time order within the day (``nth`` 1 is the first). An outpatient
    problem is the diagnosis (two problems seen on one day are two honest visits; a visit
    without one cannot be matched); pharmacy purchases carry none and all count. A visit of
    a ``med_type`` in ``apart`` (emergency, 13) is its own problem: coming back to the
    emergency room the day of a consultation is a worsening, not the consultation billed
    twice; two emergency visits for one problem are still a repeat."""
    apart = apart or []
    return con.sql(f"""
        WITH v AS (
            SELECT psn_no, fixmedins_code, fixmedins_name, setl_id, mdtrt_id, begntime,
                   setting, dise_codg, dise_name, CAST(begntime AS DATE) AS day,
                   CAST(inscp_amt AS DOUBLE) AS inscp,
                   CASE WHEN setting = 'ph' THEN '' ELSE dise_codg END
                   || CASE WHEN list_contains({sql_array(apart)}, med_type)
                           THEN '|' || med_type ELSE '' END AS problem
            FROM visit
            WHERE setting IN {sql_array(settings)} AND psn_no IS NOT NULL
              AND (setting = 'ph' OR dise_codg IS NOT NULL) AND {outside(exclude)}
        ), d AS (
            SELECT *, count(*) OVER w AS n,
                   row_number() OVER (w ORDER BY begntime, setl_id) AS nth
            FROM v WINDOW w AS (PARTITION BY psn_no, fixmedins_code, setting, day, problem)
        )
        SELECT * FROM d WHERE n >= {int(min_visits)}
        ORDER BY psn_no, fixmedins_code, setting, day, problem, nth
    """).pl()


@kernel("same_day_visits")
def same_day_visits(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    settings = list(args.get("settings", ["op"]))
    exclude = list(args.get("exclude_classes", []))
    apart = list(args.get("apart_med_types", []))
    rows = repeated_days(con, settings, exclude, int(params["min_visits"]), apart)
    if rows.is_empty():
        return empty_hits()
    key = pl.format("{}|{}|{}|{}|{}", "psn_no", "fixmedins_code", "setting", "day", "problem")
    repeat = pl.col("nth") > 1
    rows = rows.with_columns(
        key=key,
        risk=pl.col("inscp").filter(repeat).sum().over(key),
        times=pl.col("begntime").dt.strftime("%H:%M").str.join("、").over(key),
        diagnoses=pl.col("dise_name").drop_nulls().unique().sort().str.join("、").over(key),
    )
    money = money_expr("risk")
    setting_zh = pl.col("setting").replace_strict(SETTING_ZH, default="门诊")
    setting_en = pl.col("setting").replace_strict(SETTING_EN, default="outpatient")
    rows = rows.with_columns(
        evidence=pl.format(
            "参保人{}于{}在{}（{}）{}结算{}次（{}），诊断：{}；同日重复结算{}次，"
            "医保范围内金额{}为重复收费。",
            "psn_no",
            "day",
            "fixmedins_name",
            "fixmedins_code",
            setting_zh,
            "n",
            "times",
            pl.col("diagnoses").fill_null("无"),
            pl.col("n") - 1,
            money,
        ),
        evidence_en=pl.format(
            "Person {} settled {} {} times at {} ({}) on {} ({}), diagnoses: {}; the {} "
            "repeat(s) of the day bill {} in scope again.",
            "psn_no",
            setting_en,
            "n",
            "fixmedins_name",
            "fixmedins_code",
            "day",
            "times",
            pl.col("diagnoses").fill_null("none"),
            pl.col("n") - 1,
            money,
        ),
    )
    return project_hits(
        rows,
        hit_key=pl.format("same_day|{}", "key"),
        entity_type="person",
        entity_id="psn_no",
        violating=repeat,
        amount=pl.col("inscp"),
        score=pl.col("n").cast(pl.Float64),
        line_time="begntime",
        feedetl_sn=None,
    )
