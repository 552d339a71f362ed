"""Correction requests to employers (要求整改) on the tiny county's enrolment hits: stored
with their deadline and the amount at stake, audited in the same transaction, overdue
computed from the dates, corrected once; every refusal says why and writes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from helpers.accounts import add_accounts
from helpers.enrolment_county import enrolment_county

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.engine.runs import Run, open_run
from hrss_fraud.outputs.enrolment_view import EnrolmentView
from hrss_fraud.registers import enrolment_corrections as ec

ON = date(2025, 4, 1)


@pytest.fixture(scope="module")
def county(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return enrolment_county(tiny_county, tmp_path_factory)


@pytest.fixture(scope="module")
def run(county: Path) -> Run:
    return open_run(county)


@pytest.fixture(scope="module")
def hits(county: Path, run: Run) -> pl.DataFrame:
    with EnrolmentView(county, run) as view:
        return view.hits()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    """A case store of its own (the county is read only), with one account per role."""
    add_accounts(tmp_path, {"rev": "reviewer", "sup": "supervisor", "aud": "auditor"})
    with open_store(tmp_path) as s:
        yield s


def _employer_with_two_hits(hits: pl.DataFrame) -> tuple[str, list[str], float]:
    emp = hits.group_by("emp_no").len().filter(pl.col("len") >= 2)["emp_no"].sort()[0]
    mine = hits.filter(pl.col("emp_no") == emp).head(2)
    return emp, mine["finding_id"].to_list(), float(mine["amount_at_risk"].sum())


def _audit(store: CaseStore) -> list[tuple]:
    return store.query(
        "SELECT actor, action, object_type, object_id FROM audit_log "
        "WHERE action LIKE 'enrolment.%' ORDER BY audit_id"
    )


def test_a_request_is_stored_with_its_deadline_amount_and_audit_row(
    store: CaseStore, county: Path, run: Run, hits: pl.DataFrame
) -> None:
    emp, ids, amount = _employer_with_two_hits(hits)
    cid = ec.request_correction(
        store, county, run, emp, ids, note="补报基数差额", by="rev", days=20, on=ON
    )
    (row,) = ec.corrections(store, emp, today=ON).iter_rows(named=True)
    assert (row["correction_id"], row["due_on"], row["days"]) == (cid, "2025-04-21", 20)
    assert row["amount_fen"] == round(amount * 100)
    assert (row["status"], row["status_label"], row["days_left"]) == ("open", "整改中", 20)
    assert row["requested_by"] == "rev" and row["run_id"] == run.run_id
    assert _audit(store) == [("rev", "enrolment.request", "enrolment_correction", str(cid))]


def test_the_default_deadline_is_fifteen_days(
    store: CaseStore, county: Path, run: Run, hits: pl.DataFrame
) -> None:
    emp, ids, _ = _employer_with_two_hits(hits)
    ec.request_correction(store, county, run, emp, ids[:1], note="补正材料", by="sup", on=ON)
    assert ec.corrections(store)["due_on"].to_list() == [str(ON + timedelta(days=15))]


def test_overdue_shows_the_day_after_the_deadline_until_corrected(
    store: CaseStore, county: Path, run: Run, hits: pl.DataFrame
) -> None:
    emp, ids, _ = _employer_with_two_hits(hits)
    cid = ec.request_correction(store, county, run, emp, ids, note="补缴", by="sup", days=5, on=ON)
    due = ON + timedelta(days=5)
    on_due = ec.corrections(store, today=due).row(0, named=True)
    assert (on_due["status"], on_due["days_left"]) == ("open", 0)
    late = ec.corrections(store, today=due + timedelta(days=1), lang="en").row(0, named=True)
    assert (late["status"], late["status_label"], late["days_left"]) == ("overdue", "overdue", -1)

    ec.mark_corrected(store, cid, note="已补缴", by="rev", on=due + timedelta(days=3))
    done = ec.corrections(store, today=due + timedelta(days=30)).row(0, named=True)
    assert (done["status"], done["status_label"], done["days_left"]) == (
        "corrected",
        "整改完成",
        None,
    )
    assert done["corrected_on"] == "2025-04-09" and done["corrected_by"] == "rev"
    assert [a[1] for a in _audit(store)] == ["enrolment.request", "enrolment.corrected"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"by": "aud"}, "无权要求整改"),
        ({"by": "nobody"}, "无此启用的用户"),
        ({"note": "  "}, "须填写整改要求"),
        ({"days": "十五"}, "整改期限 '十五' 应为 1 至 180 天的整数"),
        ({"days": 0}, "应为 1 至 180 天"),
        ({"days": 181}, "应为 1 至 180 天"),
        ({"finding_ids": []}, "请至少选择一条疑点"),
        ({"finding_ids": ["not-a-hit"]}, "not-a-hit 不是"),
        ({"emp_no": "E-NONE"}, "无此参保单位 'E-NONE'"),
    ],
)
def test_a_refused_request_says_why_and_writes_nothing(
    store: CaseStore,
    county: Path,
    run: Run,
    hits: pl.DataFrame,
    change: dict,
    reason: str,
) -> None:
    emp, ids, _ = _employer_with_two_hits(hits)
    args = {"emp_no": emp, "finding_ids": ids, "note": "补正", "by": "sup", "days": 15} | change
    with pytest.raises(ec.CorrectionError, match=reason):
        ec.request_correction(
            store, county, run, args["emp_no"], args["finding_ids"], note=args["note"],
            by=args["by"], days=args["days"], on=ON,
        )  # fmt: skip
    assert ec.corrections(store).is_empty() and _audit(store) == []


def test_another_employers_hit_is_refused(
    store: CaseStore, county: Path, run: Run, hits: pl.DataFrame
) -> None:
    emp, _, _ = _employer_with_two_hits(hits)
    other = hits.filter(pl.col("emp_no") != emp)["finding_id"][0]
    with pytest.raises(ec.CorrectionError, match=f"{other} 不是.+本批次的参保稽核疑点"):
        ec.request_correction(store, county, run, emp, [other], note="补正", by="sup", on=ON)


def test_a_correction_is_recorded_once_and_not_before_its_request(
    store: CaseStore, county: Path, run: Run, hits: pl.DataFrame
) -> None:
    emp, ids, _ = _employer_with_two_hits(hits)
    cid = ec.request_correction(store, county, run, emp, ids, note="补正", by="sup", on=ON)
    with pytest.raises(ec.CorrectionError, match="不能早于要求日期 2025-04-01"):
        ec.mark_corrected(store, cid, note="已补", by="sup", on=ON - timedelta(days=1))
    with pytest.raises(ec.CorrectionError, match="无权要求整改"):
        ec.mark_corrected(store, cid, note="已补", by="aud", on=ON)
    with pytest.raises(ec.CorrectionError, match="须填写整改情况"):
        ec.mark_corrected(store, cid, note="", by="sup", on=ON)
    with pytest.raises(ec.CorrectionError, match="无此整改要求 999"):
        ec.mark_corrected(store, 999, note="已补", by="sup", on=ON)
    ec.mark_corrected(store, cid, note="已补", by="sup", on=ON)
    with pytest.raises(ec.CorrectionError, match="已于 2025-04-01 整改完成"):
        ec.mark_corrected(store, cid, note="再补", by="sup", on=ON)
    assert [a[1] for a in _audit(store)] == ["enrolment.request", "enrolment.corrected"]


def test_what_was_requested_cannot_be_edited_or_deleted(
    store: CaseStore, county: Path, run: Run, hits: pl.DataFrame
) -> None:
    emp, ids, _ = _employer_with_two_hits(hits)
    cid = ec.request_correction(store, county, run, emp, ids, note="补正", by="sup", on=ON)
    for sql in (
        "UPDATE enrolment_correction SET due_on = '2030-01-01' WHERE correction_id = ?",
        "DELETE FROM enrolment_correction WHERE correction_id = ?",
    ):
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as con:
            con.execute(sql, (cid,))
