"""Parity: on the tiny county, every rule gives the same findings on Spark as on DuckDB.

Both engines run the catalogue over the same lake with the same saved models; each rule's
finding ids, lines (keys, roles, times, amounts) and amounts must be identical. Where the
Spark text of an evidence sentence cannot be the same, or a template does not yet run on
Spark, the rule is listed below with why, and the test checks exactly that (so a fix shows
up as a failure asking for the list to be updated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hrss_fraud.scoring.score import Policy

pytestmark = pytest.mark.slow

#: Same findings, lines and amounts; the evidence text differs, for the reason given.
EVIDENCE_TEXT: dict[str, str] = {
    "item_hosp_level": "a value in the sentence is printed otherwise (not yet examined)",
}

_SHARE = "same findings; a line's amount at risk differs (not yet examined)"
#: Not yet the same on Spark, and what differs (measured on the tiny county).
NOT_YET: dict[str, str] = {
    "drug_course_cap": "date − date is an INTERVAL on Spark, a number of days on DuckDB",
    "service_course_cap": "date − date is an INTERVAL on Spark, a number of days on DuckDB",
    "bed_days_over_los": "no findings on Spark (not yet examined)",
    "duplicate_line": "no findings on Spark (not yet examined)",
    "price_over_cap": "same findings and lines; the score differs (not yet examined)",
    "drug_price_over_cap": "same findings and lines; the score differs (not yet examined)",
    "doctor_volume": _SHARE,
    "zb_consumable_share": _SHARE,
    "zb_ct_share": _SHARE,
    "zb_lab_exam_share": _SHARE,
    "zb_mri_share": _SHARE,
    "zb_treatment_share": _SHARE,
}


def _rule_ids() -> list[str]:
    from hrss_fraud.engine.catalogue import load_catalogue
    from hrss_fraud.engine.kernels import KERNELS

    return sorted(load_catalogue(workspace=None, kernels=KERNELS).rules)


@pytest.fixture(scope="module")
def engines(scored_tiny_county: Path, spark: Any, tmp_path_factory: pytest.TempPathFactory):
    """Both engines' findings and lines on the tiny county, and where Spark ran each."""
    from hrss_fraud.spark.score import run_on_duckdb, run_on_spark

    rules = Policy.load(scored_tiny_county, None).rules
    scratch = tmp_path_factory.mktemp("parity")
    on_spark = run_on_spark(scored_tiny_county, spark, rules, scratch, group_rows=2000)
    on_duckdb, counts = run_on_duckdb(scored_tiny_county, rules)
    return on_spark, on_duckdb, counts


def test_prepared_tables_have_the_same_rows(engines) -> None:
    on_spark, _, counts = engines
    assert on_spark.counts == counts


def _of(result, rule_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    findings = result.findings.filter(pl.col("rule_id") == rule_id).sort("finding_id")
    lines = result.lines.filter(pl.col("finding_id").is_in(findings["finding_id"].implode()))
    return findings, lines


@pytest.mark.parametrize("rule_id", _rule_ids())
def test_rule_gives_the_same_findings(engines, rule_id: str) -> None:
    on_spark, on_duckdb, _ = engines
    ran = {o.rule_id: o for o in on_duckdb.outcomes}
    if rule_id not in ran:
        pytest.skip(f"{rule_id} is inactive on the tiny county's knowledge")
    failed = {o.rule_id: o.error for o in on_spark.result.failed}
    spark_f, spark_l = _of(on_spark.result, rule_id)
    duck_f, duck_l = _of(on_duckdb, rule_id)
    if rule_id in NOT_YET:
        same = rule_id not in failed and spark_f.equals(duck_f) and spark_l.equals(duck_l)
        assert not same, f"{rule_id} now matches on Spark: take it off NOT_YET"
        return
    assert rule_id not in failed, failed.get(rule_id)
    assert duck_f.height > 0 or spark_f.height == 0
    assert spark_f["finding_id"].to_list() == duck_f["finding_id"].to_list()
    assert spark_l.equals(duck_l)
    text = ["evidence", "evidence_en"]
    assert spark_f.drop(text).equals(duck_f.drop(text))
    if rule_id in EVIDENCE_TEXT:
        assert not spark_f.select(text).equals(duck_f.select(text)), (
            f"{rule_id}'s evidence is now the same on Spark: take it off EVIDENCE_TEXT"
        )
    else:
        assert spark_f.select(text).equals(duck_f.select(text))
