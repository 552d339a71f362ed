"""docs/coverage.md is the catalogue's coverage, and every rule has a test."""

from __future__ import annotations

from pathlib import Path

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.coverage import markdown, rule_test_files

DOC = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"


def test_the_committed_coverage_table_is_current() -> None:
    expected = markdown(load_catalogue())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/coverage.md is stale: run `python -m hrss_fraud.engine.coverage > docs/coverage.md`"
    )


def test_every_claim_supported_class_is_covered_and_every_rule_tested() -> None:
    cat = load_catalogue()
    text = markdown(cat)
    assert "**not covered**" not in text
    assert "**76 of the 76 classes" in text
    untested = [r for r, files in rule_test_files(cat).items() if not files]
    assert untested == []


def test_each_official_code_is_implemented_by_exactly_one_rule() -> None:
    by_code = load_catalogue().framework_coverage()
    assert {c: r for c, r in by_code.items() if len(r) > 1} == {}
