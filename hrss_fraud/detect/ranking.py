"""One risk ranking of institutions from a run's findings, for choosing whom an inspection
round visits (``hrss-fraud export inspection-list``).

An institution's risk score is the share of its in-scope spending (``inscp_amt`` of its
valid settlements in the lake) that its findings put at risk, each finding weighted by its
severity (definite 1, high 0.7, suspicious 0.4) and each claim line counted once however
many findings flag it: a small clinic billing ¥50,000 of
suspect lines out of ¥100,000 ranks above a county hospital with ¥200,000 out of ¥20
million. Rule hits and detector leads count alike, since both are findings with lines.
The reasons are the rules and detectors that weigh most, with their counts and amounts;
every figure is a sum over findings, and so over the claim lines behind them.
"""

from __future__ import annotations

import polars as pl

from hrss_fraud.lake import Lake
from hrss_fraud.rules.runs import Run

SEVERITY_WEIGHT = {"definite": 1.0, "high": 0.7, "suspicious": 0.4}
COLUMNS = (
    "rank",
    "fixmedins_code",
    "fixmedins_name",
    "risk_score",
    "amount_at_risk",
    "n_findings",
    "reasons",
)
"""DESIGN.md's inspection-list interface, in its order."""


def _spending(lake: Lake) -> pl.DataFrame:
    con = lake.connect()
    return con.sql("""
        SELECT s.fixmedins_code, max(i.fixmedins_name) AS fixmedins_name,
               sum(CAST(s.inscp_amt AS DOUBLE)) AS inscp, count(*) AS n_settlements
        FROM settlement s LEFT JOIN institution i USING (fixmedins_code)
        WHERE coalesce(s.vali_flag, '1') = '1' AND coalesce(s.refd_setl_flag, '0') = '0'
        GROUP BY s.fixmedins_code
    """).pl()


def _line_amounts(run: Run, findings: pl.DataFrame) -> pl.DataFrame:
    """Per institution, the amount at risk with each claim line counted once: a line that
    several findings flag counts at its largest (severity-weighted) amount."""
    weight = pl.col("severity").replace_strict(
        SEVERITY_WEIGHT, default=0.4, return_dtype=pl.Float64
    )
    lines = run.lines().join(
        findings.select("finding_id", "severity"), on="finding_id", how="inner"
    )
    # group keys with nulls group together (a settlement-level line has no feedetl_sn)
    per_line = lines.group_by("fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn").agg(
        amount=pl.col("amount_at_risk").max(),
        weighted=(pl.col("amount_at_risk") * weight).max(),
    )
    return per_line.group_by("fixmedins_code").agg(
        amount_at_risk=pl.col("amount").sum().round(2),
        weighted_at_risk=pl.col("weighted").sum(),
    )


def institution_ranking(run: Run, lake: Lake, lang: str = "zh") -> pl.DataFrame:
    """Every institution with claims in the lake, riskiest first, in :data:`COLUMNS` (plus
    ``inscp``, ``weighted_at_risk`` and ``n_settlements`` that the score is made of)."""
    name = "rule_name_en" if lang == "en" else "rule_name"
    f = run.findings().filter(pl.col("fixmedins_code").is_not_null())
    weight = pl.col("severity").replace_strict(
        SEVERITY_WEIGHT, default=0.4, return_dtype=pl.Float64
    )
    per_rule = (
        f.group_by("fixmedins_code", "rule_id", pl.col(name).alias("name"))
        .agg(
            n=pl.len(),
            amount=pl.col("amount_at_risk").sum(),
            weighted=(pl.col("amount_at_risk") * weight).sum(),
        )
        .sort(["weighted", "n", "rule_id"], descending=[True, True, False])
    )
    money = pl.col("amount").map_elements(lambda x: f"¥{x:,.2f}", return_dtype=pl.String)
    if lang == "en":
        reason = pl.format("{} ({} findings, {})", "name", "n", money)
        sep = "; "
    else:
        reason = pl.format("{}（{}条，{}）", "name", "n", money)
        sep = "；"
    per_inst = per_rule.group_by("fixmedins_code", maintain_order=True).agg(
        n_findings=pl.col("n").sum(), reasons=reason.head(3).str.join(sep)
    )
    per_inst = per_inst.join(_line_amounts(run, f), on="fixmedins_code", how="left")
    ranked = (
        _spending(lake)
        .join(per_inst, on="fixmedins_code", how="left")
        .with_columns(
            pl.col("n_findings").fill_null(0),
            pl.col("amount_at_risk").fill_null(0.0),
            pl.col("weighted_at_risk").fill_null(0.0),
            pl.col("reasons").fill_null("无疑点" if lang != "en" else "no findings"),
        )
        .with_columns(
            risk_score=pl.when(pl.col("inscp") > 0)
            .then(pl.col("weighted_at_risk") / pl.col("inscp"))
            .otherwise(0.0)
            .round(4)
        )
        .sort(["risk_score", "amount_at_risk", "fixmedins_code"], descending=[True, True, False])
        .with_row_index("rank", offset=1)
    )
    return ranked.select(*COLUMNS, "inscp", "weighted_at_risk", "n_settlements")
