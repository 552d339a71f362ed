"""Kernel ``visit_frequency``: a person visiting far more often than people like them
(就诊次数异常).

Per person, setting (outpatient, or pharmacy purchases) and calendar month, the number of
visits is set against the number the visit-frequency model
(:mod:`hrss_fraud.detectors.frequency_model`) expects for their age band, sex and chronic
conditions. The month is a lead when the Poisson probability of that many visits or more is
below ``alpha`` and there are at least ``min_visits``. The visits beyond the Poisson
(1 − alpha) quantile, in time order, are violating and their in-scope amount is at risk;
the month's earlier visits are involved. The evidence names how many institutions the
visits were spread over: doctor shopping stays below every single institution's limit.

Planned treatment sessions keep a schedule no model of ordinary visits expects (dialysis
three times a week, a rehabilitation or acupuncture course daily, dressing changes every
other day): encounters of a treatment class in ``exclude_classes``
(:mod:`hrss_fraud.knowledge.treatment`) are left to the frequent-visit rule, which counts
each class against its own schedule (four dialysis sessions a week are still a lead there).

The model comes from the scoring database's ``model_visit_frequency`` table
(coefficients per setting, loaded by the run from the saved model file).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl
from scipy.stats import poisson

from hrss_fraud.detectors.frequency_model import FEATURES, FrequencyModel, person_month_features
from hrss_fraud.engine.hits import empty_hits, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.knowledge.treatment import outside
from hrss_fraud.model.numbers import money_expr

MODEL_TABLE = "model_visit_frequency"
SETTING_ZH = {"op": "门诊就诊", "ph": "药店购药"}
SETTING_EN = {"op": "outpatient visits", "ph": "pharmacy purchases"}


def load_into(con: duckdb.DuckDBPyConnection, model: FrequencyModel) -> None:
    """Put the model's coefficients where the kernel reads them."""
    rows = [
        {"setting": s, "term": t, "value": v}
        for s, coef in model.coefficients.items()
        for t, v in coef.items()
    ]
    frame = pl.DataFrame(rows)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f"CREATE OR REPLACE TABLE {MODEL_TABLE} AS SELECT * FROM frame")


def _model(con: duckdb.DuckDBPyConnection) -> FrequencyModel:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if MODEL_TABLE not in tables:
        msg = "no visit-frequency model loaded; train one with `hrss-fraud models train`"
        raise RuntimeError(msg)
    df = con.sql(f"SELECT setting, term, value FROM {MODEL_TABLE}").pl()
    coef = {
        s: dict(zip(g["term"].to_list(), g["value"].to_list(), strict=True))
        for (s,), g in df.group_by("setting")
    }
    return FrequencyModel(coef, {}, {})


def visits(
    con: duckdb.DuckDBPyConnection, settings: list[str], exclude: list[str] | None = None
) -> pl.DataFrame:
    """One row per encounter in these settings, with its month and in-scope amount; an
    encounter of a treatment class in ``exclude`` is left out."""
    wanted = ", ".join("'" + s.replace("'", "''") + "'" for s in settings)
    return con.sql(f"""
        SELECT psn_no, setting, fixmedins_code, mdtrt_id, min(setl_id) AS setl_id,
               min(begntime) AS t, date_trunc('month', min(begntime)) AS month,
               sum(CAST(inscp_amt AS DOUBLE)) AS inscp
        FROM visit WHERE setting IN ({wanted}) AND {outside(exclude or [])}
        GROUP BY psn_no, setting, fixmedins_code, mdtrt_id
    """).pl()


def flag(
    enc: pl.DataFrame, features: pl.DataFrame, model: FrequencyModel, alpha: float, min_visits: int
) -> pl.DataFrame:
    """Person-months over the threshold: n, mu, p, quantile q and n_inst."""
    months = enc.group_by("psn_no", "setting", "month").agg(
        n=pl.len(), n_inst=pl.col("fixmedins_code").n_unique()
    )
    parts = []
    for (setting,), g in months.group_by("setting"):
        if setting not in model.coefficients:
            continue
        f = g.join(features, on=["psn_no", "month"], how="left").with_columns(
            pl.col(c).fill_null(0) for c in FEATURES
        )
        parts.append(f.with_columns(mu=model.expected(f, str(setting))))
    if not parts:
        return months.head(0).with_columns(mu=pl.lit(0.0), p=pl.lit(1.0), q=pl.lit(0, pl.Int64))
    m = pl.concat(parts)
    n, mu = m["n"].to_numpy(), m["mu"].to_numpy()
    return m.with_columns(
        p=pl.Series(poisson.sf(n - 1, mu)),
        q=pl.Series(poisson.ppf(1 - alpha, mu).astype(np.int64)),
    ).filter((pl.col("p") < alpha) & (pl.col("n") >= min_visits))


@kernel("visit_frequency")
def visit_frequency(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    alpha, min_visits = float(params["alpha"]), int(params["min_visits"])
    enc = visits(
        con, list(args.get("settings", ["op", "ph"])), list(args.get("exclude_classes", []))
    )
    if enc.is_empty():
        return empty_hits()
    months = flag(enc, person_month_features(con), _model(con), alpha, min_visits)
    if months.is_empty():
        return empty_hits()
    ev = (
        enc.join(months, on=["psn_no", "setting", "month"])
        .sort("psn_no", "setting", "t", "fixmedins_code", "mdtrt_id")
        .with_columns(
            k=pl.int_range(1, pl.len() + 1).over("psn_no", "setting", "month"),
        )
        .with_columns(viol=pl.col("k") > pl.col("q"))
    )
    amt = (
        ev.group_by("psn_no", "setting", "month")
        .agg(risk=pl.col("inscp").filter("viol").sum())
        .with_columns(risk_txt=money_expr("risk"))
    )
    ev = ev.join(amt, on=["psn_no", "setting", "month"])
    month = pl.col("month").dt.strftime("%Y-%m")
    p_txt = pl.col("p").map_elements(lambda x: f"{x:.1e}", return_dtype=pl.String)
    mu_txt = pl.col("mu").map_elements(lambda x: f"{x:.2f}", return_dtype=pl.String)
    ev = ev.with_columns(
        evidence=pl.format(
            "参保人{}在{}{}{}次（{}家机构），按其年龄段、性别和慢病情况预期每月{}次，"
            "出现这么多次的泊松概率{}，低于{}；超出预期上限（{}次）的{}次医保范围内金额{}。",
            "psn_no",
            month,
            pl.col("setting").replace_strict(SETTING_ZH, default=pl.col("setting")),
            "n",
            "n_inst",
            mu_txt,
            p_txt,
            pl.lit(f"{alpha:g}"),
            "q",
            pl.col("n") - pl.col("q"),
            "risk_txt",
        ),
        evidence_en=pl.format(
            "Person {} made {} {} in {} at {} institution(s); people of the same age band, sex "
            "and chronic conditions make {} a month; the Poisson probability of as many is {}, "
            "below {}; the {} beyond the expected maximum ({}) carry an in-scope {}.",
            "psn_no",
            "n",
            pl.col("setting").replace_strict(SETTING_EN, default=pl.col("setting")),
            month,
            "n_inst",
            mu_txt,
            p_txt,
            pl.lit(f"{alpha:g}"),
            pl.col("n") - pl.col("q"),
            "q",
            "risk_txt",
        ),
    )
    return project_hits(
        ev,
        hit_key=pl.format("vf|{}|{}|{}", "setting", "psn_no", month),
        entity_type="person",
        entity_id="psn_no",
        violating=pl.col("viol"),
        amount=pl.col("inscp"),
        line_time="t",
        score=-pl.col("p").log10(),
        feedetl_sn=None,
    )
