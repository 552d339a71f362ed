"""The expected number of visits a person makes in a month, given who they are.

A Poisson regression (scikit-learn's ``PoissonRegressor``) of monthly outpatient visits and
of monthly pharmacy purchases on age band, sex and chronic conditions (the chronic
diagnosis groups seen on the person's own claims). It is fitted on cells — persons alike
in every feature, their visits summed and their months as exposure — which gives the same
coefficients as person-months at a fraction of the cost.

The model is saved as JSON with the library versions, the feature list and a fingerprint
of the data it was trained on; :func:`load` refuses a file whose features or library
versions differ from this code's, so a score never silently applies a model it did not
train.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import sklearn
from sklearn.linear_model import PoissonRegressor

from hrss_fraud.detectors.diagnosis_groups import group_sql
from hrss_fraud.detectors.modelfile import ModelError, read_checked, write_json

KIND = "visit_frequency"
SETTINGS = ("op", "ph")
AGE_BANDS = (0, 5, 15, 30, 45, 60, 75)
"""Lower bounds, in years, of the age bands."""
CHRONIC_GROUPS = ("HTN", "DM", "CHD", "COPD", "CKD", "CANCER", "STROKE", "DIALYSIS", "CHEMO")
"""Chronic diagnosis groups of the knowledge base (or, for a code it does not group, of the
code's ICD-10 prefix: :mod:`hrss_fraud.detectors.diagnosis_groups`); dialysis and chemotherapy
patients visit several times a month by schedule, which the model must expect rather than
flag."""
FEATURES = (
    *(f"age_{a}" for a in AGE_BANDS[1:]),
    "female",
    *(f"chronic_{g}" for g in CHRONIC_GROUPS),
)
"""The design columns (age band 0–4 and male are the baseline)."""


def _libraries() -> dict[str, str]:
    return {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "polars": pl.__version__}


def person_month_features(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per person and calendar month in which they are *active* (a claim in that
    month or the 11 before it): the design columns of :data:`FEATURES` — age at the start
    of the month, sex, and the chronic diagnosis groups on their claims of those 12 months.

    Only the month and the year before it count, so a month's features are the same
    whether the run sees the whole lake or only the recent history an incremental run
    loads."""
    groups = ", ".join(f"'{g}'" for g in CHRONIC_GROUPS)
    # a code the knowledge base does not group is grouped by its ICD-10 prefix
    group = group_sql("dise_group", "dise_codg")
    bits = " + ".join(
        f"CASE WHEN list_contains(g, '{g}') THEN {1 << i} ELSE 0 END"
        for i, g in enumerate(CHRONIC_GROUPS)
    )
    df = con.sql(f"""
        WITH pm AS (
            SELECT psn_no, date_trunc('month', begntime) AS month,
                   max(gend) AS gend, max(brdy) AS brdy,
                   list_distinct(list({group}) FILTER (
                       WHERE (CAST(chronic AS VARCHAR) IN ('1', 'true') OR dise_group IS NULL)
                         AND {group} IN ({groups}))) AS g
            FROM visit GROUP BY ALL
        ),
        pmb AS (SELECT psn_no, month, gend, brdy, {bits} AS b FROM pm),
        months AS (SELECT DISTINCT month FROM pmb)
        SELECT p.psn_no, m.month, max(p.gend) AS gend, max(p.brdy) AS brdy,
               bit_or(p.b) AS chronic_bits
        FROM pmb p JOIN months m
          ON m.month >= p.month AND m.month < p.month + INTERVAL 12 MONTH
        GROUP BY p.psn_no, m.month
    """).pl()
    age = (pl.col("month").dt.date() - pl.col("brdy")).dt.total_days() // 365
    band = pl.lit(0)
    for lo in AGE_BANDS[1:]:
        band = pl.when(age >= lo).then(pl.lit(lo)).otherwise(band)
    return df.with_columns(age_band=band).select(
        "psn_no",
        "month",
        *((pl.col("age_band") == a).cast(pl.Int8).alias(f"age_{a}") for a in AGE_BANDS[1:]),
        female=(pl.col("gend") == "2").cast(pl.Int8),
        **{
            f"chronic_{g}": ((pl.col("chronic_bits") & (1 << i)) > 0).cast(pl.Int8)
            for i, g in enumerate(CHRONIC_GROUPS)
        },
    )


def monthly_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Visits (distinct encounters) per person, setting and calendar month."""
    settings = ", ".join(f"'{s}'" for s in SETTINGS)
    return con.sql(f"""
        SELECT psn_no, setting, date_trunc('month', begntime) AS month,
               count(DISTINCT fixmedins_code || '|' || mdtrt_id) AS n
        FROM visit WHERE setting IN ({settings})
        GROUP BY ALL
    """).pl()


@dataclass(frozen=True)
class FrequencyModel:
    """Per setting, an intercept and a coefficient per feature (log rate per month); a
    setting without claims to learn from has none."""

    coefficients: dict[str, dict[str, float]]
    training: dict[str, Any]
    libraries: dict[str, str]

    def expected(self, features: pl.DataFrame, setting: str) -> pl.Series:
        """Expected visits per month of each row of ``features``."""
        c = self.coefficients[setting]
        eta = pl.lit(c["intercept"])
        for f in FEATURES:
            eta = eta + pl.col(f).cast(pl.Float64) * c[f]
        return features.select(mu=eta.exp())["mu"]

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": KIND,
                "features": list(FEATURES),
                "libraries": self.libraries,
                "training": self.training,
                "coefficients": self.coefficients,
            },
            ensure_ascii=False,
            indent=1,
        )


def train(con: duckdb.DuckDBPyConnection) -> FrequencyModel:
    """Fit both settings' models on every active person-month ``visit`` holds."""
    feats = person_month_features(con)
    counts = monthly_counts(con)
    if feats.is_empty():
        msg = "no outpatient or pharmacy claims to train the visit-frequency model on"
        raise ModelError(msg)
    coefficients = {}
    for setting in SETTINGS:
        n = counts.filter(pl.col("setting") == setting).select("psn_no", "month", "n")
        if n.is_empty():
            continue  # nothing to learn a rate from: the detector skips this setting
        cells = (
            feats.join(n, on=["psn_no", "month"], how="left")
            .with_columns(pl.col("n").fill_null(0))
            .group_by(FEATURES)
            .agg(visits=pl.col("n").sum(), exposure=pl.len())
        )
        x = cells.select(FEATURES).to_numpy().astype(float)
        w = cells["exposure"].to_numpy().astype(float)
        y = cells["visits"].to_numpy() / w
        reg = PoissonRegressor(alpha=1e-4, max_iter=1000).fit(x, y, sample_weight=w)
        coefficients[setting] = {
            "intercept": float(reg.intercept_),
            **{f: float(c) for f, c in zip(FEATURES, reg.coef_, strict=True)},
        }
    digest = hashlib.sha256(
        counts.sort("psn_no", "setting", "month").write_ipc(None).getvalue()
    ).hexdigest()
    training = {
        "persons": feats["psn_no"].n_unique(),
        "person_months": feats.height,
        "visits": int(counts["n"].sum()),
        "first_month": str(counts["month"].min())[:7],
        "last_month": str(counts["month"].max())[:7],
        "data_sha256": digest,
    }
    return FrequencyModel(coefficients, training, _libraries())


def save(model: FrequencyModel, path: Path) -> None:
    """Write atomically: a reader sees the old model or the new one, never half."""
    write_json(path, model.to_json(), label="visit_frequency_model")


def load(path: Path) -> FrequencyModel:
    """The saved model, or :class:`ModelError` saying why it cannot be used."""
    raw = read_checked(
        path,
        what="visit-frequency model",
        expect={"kind": KIND, "features": list(FEATURES)},
        libraries=_libraries(),
        retrain="hrss-fraud models train",
    )
    return FrequencyModel(raw["coefficients"], raw["training"], raw["libraries"])
