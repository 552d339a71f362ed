"""The data-quality report of a run (``hrss-fraud findings quality-export``): its
data-quality findings, and per institution and rule how many settlements they touch and
what share of the institution's settlements that is.

Data-quality findings (a settlement list missing, a late upload, a code outside its list)
say how an institution fills in its claims, not that it claimed what it should not, so
they are kept apart from the leads (:mod:`hrss_fraud.engine.grouping`): they carry no
amount at risk into the lead queue or a ranking, and are reported here instead, for the
centre to take up with the institution's data clerk.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from hrss_fraud.engine.runs import Run
from hrss_fraud.lake import Lake
from hrss_fraud.outputs.export import EXPORT_COLUMNS, EXTRA_COLUMNS, kept_findings

SUMMARY_COLUMNS = (
    "fixmedins_code",
    "fixmedins_name",
    "rule_id",
    "rule_name",
    "n_findings",
    "n_settlements",
    "institution_settlements",
    "share_of_settlements",
)
"""One row per institution and data-quality rule, the institution's worst share first."""

_SETTLEMENTS = """
    SELECT s.fixmedins_code, max(i.fixmedins_name) AS fixmedins_name,
           count(DISTINCT s.setl_id) AS institution_settlements
    FROM settlement s LEFT JOIN institution i USING (fixmedins_code)
    WHERE coalesce(s.vali_flag, '1') = '1' AND coalesce(s.refd_setl_flag, '0') = '0'
    GROUP BY s.fixmedins_code
"""
"""Each institution's valid settlements in the lake (what a share is of) and its name."""


def quality_frame(run: Run, lang: str = "zh", **keep: Any) -> pl.DataFrame:
    """The run's data-quality findings in the findings export's columns (no case: they are
    no leads), by institution, rule and time; ``keep`` as
    :func:`hrss_fraud.outputs.export.kept_findings` takes it."""
    f = kept_findings(run.quality_findings(), lang, **keep)
    return f.select(*EXPORT_COLUMNS, *EXTRA_COLUMNS).sort(
        "fixmedins_code", "rule_id", "period_start", "finding_id", nulls_last=True
    )


def _institution_settlements(lake: Lake) -> pl.DataFrame:
    con = lake.connect()
    try:
        return con.sql(_SETTLEMENTS).pl()
    finally:
        con.close()


def quality_summary(
    run: Run, lake: Lake, lang: str = "zh", findings: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per institution and data-quality rule: ``n_findings``, ``n_settlements`` (distinct
    settlements among their lines) and ``share_of_settlements`` of the institution's valid
    settlements in the lake (:data:`SUMMARY_COLUMNS`), largest share first. ``findings``:
    the data-quality findings to summarise (:func:`quality_frame`'s, already kept to
    some institutions or rules), else all the run's."""
    f = run.quality_findings() if findings is None else findings
    name = "rule_name_en" if lang == "en" and "rule_name_en" in f.columns else "rule_name"
    f = f.select("finding_id", "fixmedins_code", "rule_id", pl.col(name).alias("rule_name"))
    settlements = (
        run.quality_lines()
        .select("finding_id", "setl_id")
        .join(f.select("finding_id", "fixmedins_code", "rule_id"), on="finding_id")
        .filter(pl.col("setl_id").is_not_null())
        .group_by("fixmedins_code", "rule_id")
        .agg(n_settlements=pl.col("setl_id").n_unique().cast(pl.Int64))
    )
    per_rule = (
        f.group_by("fixmedins_code", "rule_id")
        .agg(pl.col("rule_name").first(), n_findings=pl.len().cast(pl.Int64))
        .join(settlements, on=["fixmedins_code", "rule_id"], how="left")
        .join(_institution_settlements(lake), on="fixmedins_code", how="left")
    )
    share = pl.col("n_settlements") / pl.col("institution_settlements")
    return (
        per_rule.with_columns(
            pl.col("n_settlements").fill_null(0),
            pl.col("institution_settlements").fill_null(0).cast(pl.Int64),
        )
        .with_columns(
            share_of_settlements=pl.when(pl.col("institution_settlements") > 0).then(share).round(4)
        )
        .sort(
            ["share_of_settlements", "n_findings", "fixmedins_code", "rule_id"],
            descending=[True, True, False, False],
            nulls_last=True,
        )
        .select(SUMMARY_COLUMNS)
    )
