"""Grouping a run's findings: data-quality findings split off, leads grouped into cases
whose amounts count each claim line once, ranked by expected recovery, with stable ids."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

import polars as pl
import pytest

from hrss_fraud.engine.catalogue import Rule, load_catalogue
from hrss_fraud.engine.grouping import CASE_SCHEMA, group, money, split


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    """Rules of the families and tags grouping looks at, made from a catalogue rule."""
    template = next(iter(load_catalogue().rules.values()))
    made = {
        "fee_a": ("price_quantity", ()),
        "fee_b": ("price_quantity", ()),
        "pair_c": ("pairs", ()),
        "conduct": ("behaviour", ("person_conduct",)),
        "person_rule": ("behaviour", ()),
        "doc": ("statistical", ()),
        "dq": ("data_quality", ()),
    }
    return {
        rid: replace(template, id=rid, family=family, tags=tags)
        for rid, (family, tags) in made.items()
    }


# finding_id, rule_id, severity, entity_type, entity_id, fixmedins_code, psn_no, period_start
FINDINGS = [
    ("F1", "fee_a", "definite", "fee_line", "x1", "H1", "P1", date(2025, 1, 5)),
    ("F2", "fee_b", "high", "fee_line", "x2", "H1", "P1", date(2025, 1, 20)),
    ("F3", "pair_c", "high", "settlement", "x3", "H1", "P3", date(2025, 1, 9)),
    ("F4", "fee_a", "suspicious", "fee_line", "x4", "H1", "P1", date(2025, 2, 1)),
    ("F5", "conduct", "definite", "settlement", "x5", "H2", "P2", date(2025, 1, 3)),
    ("F6", "person_rule", "suspicious", "person", "P2", "H1", "P2", date(2025, 3, 3)),
    ("F7", "doc", "suspicious", "doctor", "H1|D9", "H1", None, date(2025, 1, 1)),
    ("F8", "dq", "suspicious", "settlement", "x8", "H1", "P1", date(2025, 1, 5)),
]
# finding_id, fixmedins_code, setl_id, mdtrt_id, feedetl_sn, amount_at_risk
LINES = [
    ("F1", "H1", "S1", "M1", "1", 100.0),
    ("F1", "H1", "S1", "M1", "2", 50.0),
    ("F2", "H1", "S1", "M1", "1", 80.0),  # F1's first line again: counted once, at 100
    ("F2", "H1", "S2", "M2", "1", 30.0),
    ("F3", "H1", "S7", "M3", None, 40.0),
    ("F4", "H1", "S4", "M4", "1", 10.0),
    ("F5", "H2", "S5", "M5", None, 200.0),
    ("F6", "H1", "S6", "M6", None, 60.0),
    ("F7", "H1", "S8", "M7", None, 500.0),
    ("F8", "H1", "S9", "M8", None, 0.0),
]


def _findings(rows: list[tuple] = FINDINGS) -> pl.DataFrame:
    f = pl.DataFrame(
        rows,
        schema=[
            "finding_id",
            "rule_id",
            "severity",
            "entity_type",
            "entity_id",
            "fixmedins_code",
            "psn_no",
            "period_start",
        ],
        orient="row",
    )
    amounts = _lines().group_by("finding_id").agg(amount_at_risk=pl.col("amount_at_risk").sum())
    return f.with_columns(
        rule_name=pl.format("规则{}", "rule_id"),
        rule_name_en=pl.format("rule {}", "rule_id"),
        period_end=pl.col("period_start"),
    ).join(amounts, on="finding_id", how="left", maintain_order="left")


def _lines() -> pl.DataFrame:
    schema = ["finding_id", "fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn"]
    return pl.DataFrame(LINES, schema=[*schema, "amount_at_risk"], orient="row")


def _case_id(key: str) -> str:
    return "C" + hashlib.sha1(key.encode()).hexdigest()[:16]


def _grouped(rules: dict[str, Rule], **options: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    parts = split(_findings(), _lines(), rules)
    return group(parts.leads, parts.lead_lines, rules, **options)  # type: ignore[arg-type]


def test_data_quality_findings_and_their_lines_are_split_off(rules: dict[str, Rule]) -> None:
    parts = split(_findings(), _lines(), rules)
    assert parts.quality["finding_id"].to_list() == ["F8"]
    assert parts.quality_lines["finding_id"].to_list() == ["F8"]
    assert "F8" not in parts.leads["finding_id"].to_list()
    assert "F8" not in parts.lead_lines["finding_id"].to_list()
    assert parts.leads.height + parts.quality.height == len(FINDINGS)
    assert parts.lead_lines.height + parts.quality_lines.height == len(LINES)


def test_cases_count_each_line_once_and_rank_by_expected_recovery(rules: dict[str, Rule]) -> None:
    _leads, cases = _grouped(rules)
    got = cases.select(
        "case_rank", "case_kind", "fixmedins_code", "amount_at_risk", "expected_recovery"
    ).rows()
    assert got == [
        (1, "person", "H2", 260.0, 224.0),  # F5 200 × 1.0 + F6 60 × 0.4, filed at its largest
        (2, "doctor", "H1", 500.0, 200.0),
        (3, "institution_month", "H1", 180.0, 171.0),  # 100 + 50 + 30; 100 + 50 + 21
        (4, "institution_month", "H1", 40.0, 28.0),
        (5, "institution_month", "H1", 10.0, 4.0),
    ]
    by_rank = {r["case_rank"]: r for r in cases.iter_rows(named=True)}
    assert by_rank[1]["psn_no"] == "P2" and by_rank[1]["rule_ids"] == ["conduct", "person_rule"]
    assert by_rank[1]["severity"] == "definite" and by_rank[1]["n_findings"] == 2
    assert by_rank[2]["doctor"] == "D9" and by_rank[2]["psn_no"] is None
    month = by_rank[3]
    assert (month["family"], month["month"], month["n_lines"]) == ("price_quantity", "2025-01", 3)
    assert month["rule_ids"] == ["fee_a", "fee_b"] and month["severity"] == "definite"
    assert (by_rank[4]["family"], by_rank[5]["month"]) == ("pairs", "2025-02")
    assert cases.schema == pl.Schema(CASE_SCHEMA)


def test_every_lead_carries_its_case_and_rank(rules: dict[str, Rule]) -> None:
    leads, cases = _grouped(rules)
    assert leads["finding_id"].to_list() == [f[0] for f in FINDINGS if f[0] != "F8"]
    rank = dict(zip(leads["finding_id"], leads["case_rank"], strict=True))
    assert rank == {"F1": 3, "F2": 3, "F3": 4, "F4": 5, "F5": 1, "F6": 1, "F7": 2}
    ids = dict(zip(leads["finding_id"], leads["case_id"], strict=True))
    assert ids["F5"] == _case_id("person|P2")
    assert ids["F7"] == _case_id("doctor|H1|D9")
    assert ids["F1"] == _case_id("institution_month|H1|price_quantity|2025-01")
    assert set(ids.values()) == set(cases["case_id"])


def test_case_ids_stay_when_the_other_findings_change(rules: dict[str, Rule]) -> None:
    _l, all_cases = _grouped(rules)
    fewer = [f for f in FINDINGS if f[0] in ("F1", "F7")]
    some = _findings(fewer)
    lines = _lines().join(some.select("finding_id"), on="finding_id", how="semi")
    leads, cases = group(some, lines, rules)
    assert set(cases["case_id"]) < set(all_cases["case_id"])
    assert cases["case_rank"].to_list() == [1, 2]  # ranks are the run's own
    again, _c = group(leads, lines, rules)  # a grouped frame groups again the same
    assert again.equals(leads)


def test_the_review_models_weights_replace_the_severity_weights(rules: dict[str, Rule]) -> None:
    weights = pl.DataFrame({"finding_id": ["F7"], "p_confirmed": [0.9]})
    _leads, cases = _grouped(rules, weights=weights)
    top = cases.row(0, named=True)
    assert (top["case_kind"], top["expected_recovery"]) == ("doctor", 450.0)


def test_titles_and_evidence_name_the_institution_rules_and_amounts(
    rules: dict[str, Rule],
) -> None:
    names = pl.DataFrame({"fixmedins_code": ["H1"], "fixmedins_name": ["城关卫生院"]})
    _leads, cases = _grouped(rules, names=names)
    month = cases.filter(pl.col("case_rank") == 3).row(0, named=True)
    assert month["fixmedins_name"] == "城关卫生院"
    assert month["title_zh"] == "城关卫生院 · 价格与数量 · 2025-01"
    assert month["evidence_zh"] == (
        "2条疑点、3条明细，疑点金额¥180.00，预计追回¥171.00："
        "规则fee_a（1条，¥150.00）；规则fee_b（1条，¥110.00）"
    )
    assert month["evidence_en"].startswith("2 findings on 3 lines, ¥180.00 at risk")
    assert cases.filter(pl.col("case_kind") == "person")["fixmedins_name"].to_list() == [None]


def test_no_findings_make_no_cases(rules: dict[str, Rule]) -> None:
    leads, cases = group(_findings().clear(), _lines().clear(), rules)
    assert leads.is_empty() and cases.is_empty()
    assert cases.schema == pl.Schema(CASE_SCHEMA)


def test_money_rounds_to_the_fen_and_separates_thousands() -> None:
    df = pl.DataFrame({"x": [0.0, 5.006, 999.999, 1234.5, 1234567.891, None]})
    assert df.select(money("x"))["x"].to_list() == [
        "¥0.00",
        "¥5.01",
        "¥1,000.00",
        "¥1,234.50",
        "¥1,234,567.89",
        "¥0.00",
    ]
