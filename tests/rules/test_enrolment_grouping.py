"""Grouping the enrolment checks' leads into cases: an employer's leads by employer and
month, named by the employer; a person's by person, apart from their claims' case; each
case summing its distinct months' contribution at stake; the claims' cases unchanged."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import polars as pl
import pytest

from hrss_fraud.engine.catalogue import Rule, load_catalogue
from hrss_fraud.engine.grouping import CASE_SCHEMA, group


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    return load_catalogue().rules


INSTITUTIONS = pl.DataFrame({"fixmedins_code": ["H1"], "fixmedins_name": ["城关卫生院"]})
EMPLOYERS = pl.DataFrame({"emp_no": ["E1", "E2"], "emp_name": ["永宁化工有限公司", "县供电公司"]})

# finding_id, rule_id, severity, entity_type, entity_id, fixmedins_code, psn_no, period_start
CLAIMS = [
    ("C1", "drug_too_many", "high", "fee_line", "H1|M1|1", "H1", "P1", date(2025, 1, 5)),
    ("C2", "claim_after_death", "definite", "settlement", "H1|S2", "H1", "P1", date(2025, 2, 3)),
]
ENROLMENT = [
    (
        "E_floor",
        "enrol_base_below_floor",
        "definite",
        "person",
        "E1|P1",
        None,
        "P1",
        date(2025, 1, 1),
    ),
    ("E_drop", "enrol_base_drop", "suspicious", "person", "E1|P1", None, "P1", date(2025, 1, 1)),
    ("E_twice", "enrol_two_employers", "definite", "person", "E2|P3", None, "P3", date(2025, 3, 1)),
    ("E_head", "enrol_headcount_short", "high", "employer", "E1", None, None, date(2025, 1, 1)),
    (
        "E_docs",
        "enrol_filing_documents",
        "high",
        "employer",
        "E1|V9",
        None,
        "P4",
        date(2025, 1, 20),
    ),
    ("E_late", "enrol_filing_documents", "high", "employer", "E1|V8", None, "P5", date(2025, 2, 2)),
    ("E_far", "enrol_all_at_floor", "high", "employer", "E7", None, "P6", date(2025, 1, 1)),
]


def _t(month: int, day: int = 1) -> datetime:
    return datetime(2025, month, day)


# finding_id, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, line_time, amount
LINES = [
    ("C1", "H1", "P1", "S1", "M1", "1", _t(1, 5), 100.0),
    ("C2", "H1", "P1", "S2", "M2", None, _t(2, 3), 40.0),
    # below the floor in January to March; the drop in February and March, larger
    ("E_floor", None, "P1", None, None, None, _t(1), 10.0),
    ("E_floor", None, "P1", None, None, None, _t(2), 10.0),
    ("E_floor", None, "P1", None, None, None, _t(3), 10.0),
    ("E_drop", None, "P1", None, None, None, _t(1), 0.0),
    ("E_drop", None, "P1", None, None, None, _t(2), 30.0),
    ("E_drop", None, "P1", None, None, None, _t(3), 30.0),
    ("E_twice", None, "P3", None, None, None, _t(3), 0.0),
    ("E_twice", None, "P3", None, None, None, _t(3), 25.0),
    # the headcount short in each month (no person), a filing without its documents
    ("E_head", None, None, None, None, None, _t(1), 200.0),
    ("E_head", None, None, None, None, None, _t(2), 200.0),
    ("E_head", None, None, None, None, None, _t(3), 180.0),
    ("E_docs", None, "P4", None, None, None, _t(1, 20), 0.0),
    ("E_late", None, "P5", None, None, None, _t(2, 2), 0.0),
    ("E_far", None, "P6", None, None, None, _t(1), 12.0),
    ("E_far", None, "P7", None, None, None, _t(1), 12.0),
]


def _lines(ids: set[str] | None = None) -> pl.DataFrame:
    schema = ["finding_id", "fixmedins_code", "psn_no", "setl_id", "mdtrt_id", "feedetl_sn"]
    df = pl.DataFrame(LINES, schema=[*schema, "line_time", "amount_at_risk"], orient="row")
    return df if ids is None else df.filter(pl.col("finding_id").is_in(list(ids)))


def _findings(rows: list[tuple], rules: dict[str, Rule]) -> pl.DataFrame:
    columns = ["finding_id", "rule_id", "severity", "entity_type", "entity_id"]
    f = pl.DataFrame(
        rows,
        schema=[*columns, "fixmedins_code", "psn_no", "period_start"],
        schema_overrides={"fixmedins_code": pl.String, "psn_no": pl.String},
        orient="row",
    )
    amounts = _lines().group_by("finding_id").agg(amount_at_risk=pl.col("amount_at_risk").sum())
    return f.with_columns(
        rule_name=pl.col("rule_id").replace_strict({k: r.name_zh for k, r in rules.items()}),
        rule_name_en=pl.col("rule_id").replace_strict({k: r.name_en for k, r in rules.items()}),
        period_end=pl.col("period_start"),
    ).join(amounts, on="finding_id", how="left", maintain_order="left")


def _case_id(key: str) -> str:
    return "C" + hashlib.sha1(key.encode()).hexdigest()[:16]


def _grouped(rules: dict[str, Rule], rows: list[tuple]) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids = {r[0] for r in rows}
    return group(
        _findings(rows, rules), _lines(ids), rules, names=INSTITUTIONS, employers=EMPLOYERS
    )


def _case_of(leads: pl.DataFrame, cases: pl.DataFrame, finding: str) -> dict:
    case_id = leads.filter(pl.col("finding_id") == finding)["case_id"][0]
    return cases.filter(pl.col("case_id") == case_id).row(0, named=True)


def test_an_employers_leads_are_its_case_by_month_named_by_the_employer(
    rules: dict[str, Rule],
) -> None:
    leads, cases = _grouped(rules, CLAIMS + ENROLMENT)
    january = _case_of(leads, cases, "E_head")
    assert january["case_id"] == _case_id("employer_month|E1|enrolment|2025-01")
    assert january["case_kind"] == "employer_month" and january["fixmedins_code"] is None
    assert january["fixmedins_name"] == "永宁化工有限公司"
    assert january["title_zh"] == "永宁化工有限公司 · 参保缴费稽核 · 2025-01"
    assert sorted(january["rule_ids"]) == ["enrol_filing_documents", "enrol_headcount_short"]
    # the headcount's three months and the filing: ¥580 at stake, none counted twice
    assert (january["n_lines"], january["amount_at_risk"]) == (4, 580.0)
    assert _case_of(leads, cases, "E_late")["month"] == "2025-02"  # a later filing: its month
    assert _case_of(leads, cases, "E_late")["case_id"] != january["case_id"]
    # an employer the register does not hold is named by its number: never an empty name
    assert _case_of(leads, cases, "E_far")["fixmedins_name"] == "E7"
    assert cases["fixmedins_name"].is_not_null().all()
    assert cases.schema == pl.Schema(CASE_SCHEMA)


def test_a_person_case_sums_its_distinct_months(rules: dict[str, Rule]) -> None:
    leads, cases = _grouped(rules, CLAIMS + ENROLMENT)
    person = _case_of(leads, cases, "E_floor")
    assert person["case_id"] == _case_id("person|P1|enrolment")
    assert _case_of(leads, cases, "E_drop")["case_id"] == person["case_id"]
    # January 10 (floor); February and March each at the larger of floor 10 and drop 30
    assert (person["n_lines"], person["amount_at_risk"]) == (3, 70.0)
    assert person["expected_recovery"] == pytest.approx(10 * 1.0 + 2 * max(10 * 1.0, 30 * 0.4))
    assert person["family"] == "enrolment" and person["fixmedins_name"] == "永宁化工有限公司"
    assert person["title_zh"] == "参保人 P1 的参保缴费"
    # at two employers: the case of the second one, by name
    assert _case_of(leads, cases, "E_twice")["fixmedins_name"] == "县供电公司"
    assert _case_of(leads, cases, "E_twice")["amount_at_risk"] == 25.0


def test_the_claims_cases_keep_their_ids_and_amounts(rules: dict[str, Rule]) -> None:
    claims_leads, claims_cases = _grouped(rules, CLAIMS)
    leads, cases = _grouped(rules, CLAIMS + ENROLMENT)
    claims_ids = set(claims_leads["case_id"])
    assert set(leads.filter(pl.col("finding_id").is_in(["C1", "C2"]))["case_id"]) == claims_ids
    kept = cases.filter(pl.col("case_id").is_in(claims_ids)).drop("case_rank")
    assert kept.sort("case_id").equals(claims_cases.drop("case_rank").sort("case_id"))
    assert _case_of(leads, cases, "C2")["case_id"] == _case_id("person|P1")
    assert _case_of(leads, cases, "C2")["amount_at_risk"] == 40.0
