"""Detection on more than the one county every other test scores: small counties of other
seeds, and one of another shape (twice the fraud, a period across a year end), each
generated, ingested and scored here and judged through :mod:`hrss_fraud.evaluation.judge`
for per-scheme recall, lead precision and the precision of the top of the case list and
of the inspection list.

Small enough for a minute on one core: 600 persons, 2 months, and only the rules each of
the checked schemes is injected for (the whole catalogue would take minutes per county)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.engine.runs import Run
from hrss_fraud.evaluation.judge import Truth, evaluate, ranking_metrics
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.generate import generate

# scheme -> the rule meant to find it
SCHEME_RULES = {
    "price_over_cap": "price_over_cap",
    "drug_price_over_cap": "drug_price_over_cap",
    "duplicate_line": "duplicate_line",
    "overlapping_supply": "overlapping_supply",
    "too_many_drugs": "drug_too_many",
    "claim_during_stay": "claim_during_stay",
    "low_threshold_admission": "low_threshold_admission",
    "herb_incompatibility": "pair_herb",
    "restriction_sex": "item_sex",
    "card_swiping": "card_swiping",
}
pytestmark = pytest.mark.slow  # three counties generated, ingested and scored

RULES = sorted(set(SCHEME_RULES.values()))
RECALL_FLOOR = 0.8
PRECISION_FLOOR = 0.9
MIN_SCHEMES = 4
"""A county must have at least this many of the checked schemes injected, or its floors
rest on too little."""


@dataclass(frozen=True)
class Shape:
    seed: int
    fraud_rate: float = 0.10
    start: date = date(2025, 1, 1)


SHAPES = {
    "seed-23": Shape(23),
    "seed-37": Shape(37),
    "seed-41-more-fraud-across-a-year-end": Shape(41, fraud_rate=0.2, start=date(2024, 12, 1)),
}


@dataclass(frozen=True)
class Scored:
    shape: Shape
    county: Path
    ws: Path
    run: Run
    truth: Truth


@pytest.fixture(scope="module", params=list(SHAPES), ids=list(SHAPES))
def scored(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Scored:
    shape = SHAPES[request.param]
    root = tmp_path_factory.mktemp(request.param)
    county = root / "county"
    cfg = SynthConfig.preset(
        "tiny",
        out=county,
        seed=shape.seed,
        persons=600,
        months=2,
        fraud_rate=shape.fraud_rate,
        start=shape.start,
    )
    generate(cfg)
    ws = root / "ws"
    ingest(Lake(ws / "lake"), [county / "reference", *sorted((county / "uploads").iterdir())])
    run = score(ws, rule_ids=RULES)
    return Scored(shape, county, ws, run, Truth.read(county / "truth"))


def test_schemes_are_found_by_their_rules_and_the_top_of_the_lists_is_true(
    scored: Scored,
) -> None:
    run, truth = scored.run, scored.truth
    result = evaluate(run, truth, RULES)
    per_scheme = pl.DataFrame(result["per_scheme"]).filter(
        pl.col("scheme").is_in(list(SCHEME_RULES))
    )
    assert per_scheme.height >= MIN_SCHEMES, per_scheme
    assert (per_scheme["injected"] > 0).all()
    for row in per_scheme.iter_rows(named=True):
        # the floor holds for each scheme, and its own rule is among those that found it
        assert row["recall"] >= RECALL_FLOOR, row
        assert SCHEME_RULES[row["scheme"]] in row["rules"].split(","), row
    # the leads of these rules, and the top of the case list, are (nearly) all true
    assert result["findings"] > 0
    assert result["precision"] >= PRECISION_FLOOR, result["per_rule"]
    assert result["cases"] and result["precision_top_50_cases"] >= PRECISION_FLOOR
    # the inspection list: at least half its top tenth (28 institutions: k = 3) is
    # fraudulent, against 4 or 6 of 28 by chance, and the risk score ranks a fraudulent
    # institution above a clean one three times in four (0.5 by chance)
    ranking = ranking_metrics(run, Lake(scored.ws / "lake"), truth)
    assert ranking["fraudulent_institutions"] > 0
    assert ranking["precision_at_k"] >= 0.5, ranking
    assert ranking["roc_auc"] >= 0.75, ranking


def test_each_county_is_scored_over_its_own_two_months(scored: Scored) -> None:
    start = scored.shape.start
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)  # second month
    expected = [f"{start:%Y%m}", f"{end:%Y%m}"]
    assert sorted(p.name for p in (scored.county / "uploads").iterdir()) == expected
    # findings in both months: for the year-end county, on both sides of the new year
    f = scored.run.findings()
    months = set(f["period_start"].dt.strftime("%Y%m"))
    assert months == set(expected), months
