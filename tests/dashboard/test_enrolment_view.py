"""The 参保稽核 data views on the tiny county's employer files: employers ranked by the
contribution at stake, every hit attributed to its employer once, each hit's amount the
sum of the rows shown behind it, labels instead of codes, and names masked for a role
that may not see identities."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers.enrolment_county import enrolment_county

from hrss_fraud.engine.runs import Run, open_run
from hrss_fraud.lake import Lake
from hrss_fraud.model.codes import DOC_TYPE, EMP_TYPE, EVT_TYPE
from hrss_fraud.outputs import enrolment_view as ev


@pytest.fixture(scope="module")
def ws(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return enrolment_county(tiny_county, tmp_path_factory)


@pytest.fixture(scope="module")
def run(ws: Path) -> Run:
    return open_run(ws)


@pytest.fixture(scope="module")
def view(ws: Path, run: Run) -> Iterator[ev.EnrolmentView]:
    with ev.EnrolmentView(ws, run) as v:
        yield v


@pytest.fixture(scope="module")
def ranking(view: ev.EnrolmentView) -> pl.DataFrame:
    return view.ranking()


def _contrib(ws: Path) -> pl.DataFrame:
    return Lake(ws / "lake").connect().sql("SELECT * FROM emp_contribution").pl()


def test_employers_ranked_by_contribution_at_stake_account_for_every_hit(
    run: Run, ranking: pl.DataFrame
) -> None:
    assert ranking.height >= 10 and ranking.columns == list(ev.RANKING_COLUMNS)
    amounts = ranking["amount_at_risk"].to_list()
    assert amounts == sorted(amounts, reverse=True)
    findings = ev.enrolment_findings(run)
    assert findings["rule_id"].n_unique() == 8
    assert ranking["amount_at_risk"].sum() == pytest.approx(findings["amount_at_risk"].sum())
    assert ranking["n_hits"].sum() >= findings.height


def test_kinds_and_zones_are_labels_not_codes(ranking: pl.DataFrame) -> None:
    assert set(ranking["emp_type"]) <= {c.zh for c in EMP_TYPE.codes}
    assert ranking["zone_name"].str.contains(r"[镇乡]$").all()
    assert not ranking["rules"].str.contains("enrol_").any()


def test_each_hit_is_the_sum_of_the_rows_shown_behind_it(view: ev.EnrolmentView) -> None:
    """A person at two employers is one hit of both, each its own months' share."""
    hits = view.hits()
    rows = view.rows(role="supervisor")
    violating = (
        rows.filter((pl.col("role") == "违规明细") & (pl.col("emp_no") == pl.col("hit_emp_no")))
        .group_by("hit_emp_no", "finding_id")
        .agg(pl.col("amount_at_risk").sum().alias("rows_total"))
    )
    joined = hits.join(
        violating, left_on=["emp_no", "finding_id"], right_on=["hit_emp_no", "finding_id"]
    )
    assert joined.height == hits.height
    assert (joined["amount_at_risk"] - joined["rows_total"]).abs().max() < 0.01


def test_a_contribution_hit_shows_the_filing_rows_it_was_computed_from(
    ws: Path, view: ev.EnrolmentView
) -> None:
    contrib = _contrib(ws)
    hits = view.hits()
    floor = hits.filter(pl.col("rule_id") == "enrol_base_below_floor").row(0, named=True)
    rows = view.hit_rows(floor["finding_id"], floor["emp_no"], role="supervisor")
    for r in rows.iter_rows(named=True):
        filed = contrib.filter(
            (pl.col("emp_no") == floor["emp_no"])
            & (pl.col("psn_no") == r["psn_no"])
            & (pl.col("cashym") == r["cashym"])
        )
        assert filed.height == 1 and float(filed["psn_clctstd"][0]) == r["psn_clctstd"]
        assert filed["psn_name"][0] == r["psn_name"]


def test_two_employers_hit_belongs_to_the_second_employer_with_both_rows_shown(
    run: Run, view: ev.EnrolmentView
) -> None:
    hits = view.hits()
    twice = hits.filter(pl.col("rule_id") == "enrol_two_employers").row(0, named=True)
    rows = view.hit_rows(twice["finding_id"], twice["emp_no"], role="supervisor")
    assert set(rows["role"]) == {"违规明细", "相关明细"}
    violating = rows.filter(pl.col("role") == "违规明细")
    assert twice["emp_no"] in set(violating["emp_no"])
    for month in rows.group_by("cashym").agg("role", "emp_no", "psn_clctstd").iter_rows():
        by_role = dict(zip(month[1], month[3], strict=True))
        assert by_role["相关明细"] >= by_role["违规明细"]  # the higher base is kept
    finding = ev.enrolment_findings(run).filter(pl.col("finding_id") == twice["finding_id"])
    rate = json.loads(finding["params"][0])["contribution_rate"]
    assert (violating["psn_clctstd"] * rate - violating["amount_at_risk"]).abs().max() < 0.005


def test_a_claim_during_an_interruption_belongs_to_the_employer_that_filed_it(
    view: ev.EnrolmentView,
) -> None:
    hits = view.hits()
    claim = hits.filter(pl.col("rule_id") == "enrol_claim_interrupted").row(0, named=True)
    assert f"（{claim['emp_no']}）" in claim["evidence"]
    rows = view.hit_rows(claim["finding_id"], claim["emp_no"])
    assert rows["setl_id"].is_not_null().all()


def test_evidence_names_no_person_and_rows_are_masked_for_an_auditor(
    view: ev.EnrolmentView,
) -> None:
    """The evidence reaches every role (the lead queue shows it to auditors): it names a
    person by number only; the names are in the rows, masked for an auditor."""
    deceased = view.hits().filter(pl.col("rule_id") == "enrol_deceased_enrolled").row(0, named=True)
    seen = view.hit_rows(deceased["finding_id"], deceased["emp_no"], role="supervisor")
    names = [n for n in seen["psn_name"].drop_nulls().unique() if n]
    assert names and not any(n in deceased["evidence"] for n in names)
    rows = view.hit_rows(deceased["finding_id"], deceased["emp_no"], role="auditor")
    assert rows["psn_name"].str.contains(r"\*").all()


def test_filings_show_their_kind_and_documents_by_name(view: ev.EnrolmentView) -> None:
    hits = view.hits()
    docs = hits.filter(pl.col("rule_id") == "enrol_filing_documents").row(0, named=True)
    filings = view.filings(docs["emp_no"])
    assert filings.height > 0
    assert set(filings["evt_type"]) <= {c.zh for c in EVT_TYPE.codes}
    names = {c.zh for c in DOC_TYPE.codes}
    for text in filings["docs"].drop_nulls():
        assert set(text.split("、")) <= names
    rows = view.hit_rows(docs["finding_id"], docs["emp_no"])
    assert rows["evt_sn"][0] in set(filings["evt_sn"])


def test_contribution_months_sum_the_employers_rows(
    ws: Path, view: ev.EnrolmentView, ranking: pl.DataFrame
) -> None:
    emp_no = ranking["emp_no"][0]
    months = view.months(emp_no)
    mine = _contrib(ws).filter(pl.col("emp_no") == emp_no)
    assert months["n_people"].sum() == mine.height
    assert months["base_total"].sum() == pytest.approx(float(mine["psn_clctstd"].cast(float).sum()))


def test_equal_bases_at_three_employers_pair_each_line_with_its_own_row() -> None:
    """Regression: matching a line to a row by its amount charged both employers of an
    equal base, counting the contribution twice. The rule keeps the lowest employer number
    of a tie, so E1 is involved and E2, E3 each carry one line."""
    con = duckdb.connect()
    contribution = pl.DataFrame(
        {
            "emp_no": ["E3", "E1", "E2"],
            "psn_no": ["P"] * 3,
            "psn_name": ["甲"] * 3,
            "cashym": ["202501"] * 3,
            "psn_clctstd": [5000.0] * 3,
        }
    )
    month = datetime(2025, 1, 1)
    lines = pl.DataFrame(
        {
            "finding_id": ["F"] * 3,
            "rule_id": [ev.TWO_EMPLOYERS] * 3,
            "psn_no": ["P"] * 3,
            "line_time": [month] * 3,
            "role": ["violating", "involved", "violating"],
            "amount_at_risk": [400.0, 0.0, 400.0],
        }
    )
    con.register("emp_contribution", contribution)
    con.register("enrol_lines", lines)
    con.execute(ev._PAIRS_SQL)
    pairs = con.sql("SELECT role, emp_no FROM enrol_pairs ORDER BY emp_no").fetchall()
    assert pairs == [("involved", "E1"), ("violating", "E2"), ("violating", "E3")]
