"""Five hand-made leads and a data-quality finding with exact expectations, published as a
run in the format of runs scored before issue 16 (one findings file: the dashboard splits
and groups it)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.engine.hits import FINDING_COLUMNS, LINE_COLUMNS
from hrss_fraud.engine.runs import Run, publish

SMALL_RUN = "20250401T000000000Z"

# finding_id, rule_id, severity, institution, psn_no, period, amount, evidence (zh, en)
SMALL = [
    (
        "f1",
        "split_admission",
        "high",
        "H1",
        "P1",
        ("2025-01-03", "2025-01-30"),
        2077.0,
        "分解住院，间隔13天",
        "Split admission, 13 days apart",
    ),
    (
        "f2",
        "drug_supply_cap",
        "definite",
        "H1",
        "P2",
        ("2025-02-01", "2025-02-01"),
        64.0,
        "超量开药6天",
        "Drug supplied 6 days over",
    ),
    (
        "f3",
        "drug_supply_cap",
        "definite",
        "H2",
        "P1",
        ("2025-03-05", "2025-03-05"),
        2077.0,
        "超量开药30天",
        "Drug supplied 30 days over",
    ),
    (
        "f4",
        "outlier_person",
        "suspicious",
        "H3",
        "P3",
        ("2025-01-29", "2025-01-29"),
        0.0,
        "费用远高于同类参保人",
        "Spending far above similar persons",
    ),
    (
        "f5",
        "pair_unbundle",
        "definite",
        "H2",
        None,
        ("2025-02-28", "2025-03-02"),
        100.01,
        "串换收费",
        "Unbundled PANEL billing",
    ),
    (
        "q1",
        "dq_settlement_list",
        "suspicious",
        "H3",
        "P3",
        ("2025-01-29", "2025-01-29"),
        0.0,
        "主诊断编码缺失",
        "Main diagnosis code missing",
    ),
]
"""Five leads (f1-f5) and one data-quality finding (q1), which is no lead: the run keeps
it apart from the leads and the queue never shows it."""
INSTITUTIONS = pl.DataFrame(
    {
        "fixmedins_code": ["H1", "H2", "H3"],
        "fixmedins_name": ["县人民医院", "县中医医院", "城关药店"],
        "zone": ["Z1", "Z2", "Z1"],
        "zone_name": ["城关镇", "东关镇", "城关镇"],
    }
)


def small_findings(run_id: str = SMALL_RUN, rows: list[tuple] | None = None) -> pl.DataFrame:
    """The hand-made leads in the run's full finding shape."""
    records: list[dict[str, Any]] = []
    for fid, rule, sev, inst, psn, (start, end), amount, ev, ev_en in rows or SMALL:
        records.append(
            {
                "finding_id": fid,
                "run_id": run_id,
                "rule_id": rule,
                "rule_name": f"规则{rule}",
                "rule_name_en": f"Rule {rule}",
                "framework_codes": "",
                "severity": sev,
                "severity_zh": sev,
                "behaviour": "",
                "entity_type": "settlement",
                "entity_id": f"{inst}|S{fid}",
                "fixmedins_code": inst,
                "psn_no": psn,
                "setl_id": f"S{fid}",
                "mdtrt_id": f"M{fid}",
                "feedetl_sn": None,
                "period_start": date.fromisoformat(start),
                "period_end": date.fromisoformat(end),
                "amount_at_risk": amount,
                "score": None,
                "evidence": ev,
                "evidence_en": ev_en,
                "n_lines": 1,
                "n_violating": 1,
                "rule_version": 1,
                "params": json.dumps({"days": 15.0}),
            }
        )
    schema = {c: pl.String for c in FINDING_COLUMNS} | {
        "period_start": pl.Date,
        "period_end": pl.Date,
        "amount_at_risk": pl.Float64,
        "score": pl.Float64,
        "n_lines": pl.Int64,
        "n_violating": pl.Int64,
        "rule_version": pl.Int64,
    }
    return pl.DataFrame(records, schema=schema)


def small_lines(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.select(
        "finding_id",
        role=pl.lit("violating"),
        fixmedins_code="fixmedins_code",
        psn_no="psn_no",
        setl_id="setl_id",
        mdtrt_id="mdtrt_id",
        feedetl_sn="feedetl_sn",
        line_time=pl.col("period_start").cast(pl.Datetime("us")),
        amount_at_risk="amount_at_risk",
    ).select(LINE_COLUMNS)


def publish_small(ws: Path, run_id: str, findings: pl.DataFrame) -> Run:
    manifest = {
        "run_id": run_id,
        "mode": "full",
        "started_at": "2025-04-01T00:00:00+00:00",
        "finished_at": "2025-04-01T00:01:30+00:00",
        "findings": findings.height,
        "rules": [],
        "failed_rules": [],
        "created": datetime(2025, 4, 1).isoformat(),
    }
    return publish(ws, run_id, findings, small_lines(findings), manifest)
