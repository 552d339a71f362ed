"""The enrolment checks on the tiny county's employer files: they find the injected
irregularities (recall ≥ 0.95 per check), flag no legitimate look-alike, and every hit
explains itself with the contribution at stake."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from helpers.shared import built_once

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.runs import open_run
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score

ENROLMENT = sorted(r.id for r in load_catalogue().rules.values() if r.family == "enrolment")


@pytest.fixture(scope="module")
def scored(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """The enrolment checks' findings over the tiny county's registers, settlements and
    employer files, each with the key its truth is written under."""

    def build(ws: Path) -> None:
        settlements = sorted((tiny_county / "uploads").glob("*/*_settlement.*"))
        files = [tiny_county / "reference", *settlements, tiny_county / "enrolment"]
        result = ingest(Lake(ws / "lake"), files)
        assert not result.rejected, [f.error for f in result.rejected]
        score(ws, rule_ids=ENROLMENT)

    ws = built_once(tmp_path_factory, "enrolment_county", build)
    findings = open_run(ws).findings()
    by_person = ("enrol_claim_interrupted", "enrol_two_employers")
    key = pl.when(pl.col("rule_id").is_in(by_person)).then("psn_no")
    return findings.with_columns(key=key.otherwise("entity_id"))


@pytest.fixture(scope="module")
def truth(tiny_county: Path) -> pl.DataFrame:
    return pl.read_parquet(tiny_county / "truth" / "enrolment.parquet")


@pytest.mark.parametrize("rule_id", ENROLMENT)
def test_each_check_finds_its_injected_irregularities(
    rule_id: str, scored: pl.DataFrame, truth: pl.DataFrame
) -> None:
    wanted = truth.filter((pl.col("check") == rule_id) & (pl.col("kind") == "irregular"))
    found = wanted.join(scored.filter(pl.col("rule_id") == rule_id), on="key", how="semi")
    assert wanted.height >= 4
    assert found.height / wanted.height >= 0.95, wanted.join(found, on="key", how="anti")


@pytest.mark.parametrize("rule_id", ENROLMENT)
def test_no_legitimate_look_alike_is_flagged(
    rule_id: str, scored: pl.DataFrame, truth: pl.DataFrame
) -> None:
    alike = truth.filter((pl.col("check") == rule_id) & (pl.col("kind") == "lookalike"))
    assert alike.height >= 4
    flagged = scored.filter(pl.col("rule_id") == rule_id).join(alike, on="key", how="semi")
    assert flagged.is_empty(), flagged.select("key", "evidence")


def test_findings_are_the_injected_ones(scored: pl.DataFrame, truth: pl.DataFrame) -> None:
    """Precision on the generated county: a hit on filings nobody tampered with is a false
    alarm (a claim after death that the claims' own scheme put after a cancellation is not:
    it is the claims' irregularity seen from the enrolment side)."""
    injected = truth.filter(pl.col("kind") == "irregular").rename({"check": "rule_id"})
    true = scored.join(injected, on=["rule_id", "key"], how="semi")
    assert true.height / scored.height >= 0.9


def test_every_hit_says_what_is_at_stake(scored: pl.DataFrame) -> None:
    docs = pl.col("rule_id") == "enrol_filing_documents"
    money, filings = scored.filter(~docs), scored.filter(docs)
    assert money.height > 0 and filings.height > 0
    assert money["evidence"].str.contains("¥").all() and (money["amount_at_risk"] > 0).all()
    assert filings["evidence"].str.contains("，缺少.+，应补正。$").all()


def test_a_county_without_employer_files_scores_and_says_so(scored_tiny_county: Path) -> None:
    """The shared tiny county is scored from its claims alone: the checks run, find
    nothing, and the run's manifest records that it prepared no contribution rows."""
    manifest = open_run(scored_tiny_county).manifest
    assert manifest["scored"]["contrib"] == 0 and manifest["scored"]["insu_event"] == 0
    outcomes = {o["rule_id"]: o for o in manifest["rules"]}
    assert all(outcomes[r]["status"] == "ok" for r in ENROLMENT)
    assert sum(outcomes[r]["n_findings"] for r in ENROLMENT) == 0
