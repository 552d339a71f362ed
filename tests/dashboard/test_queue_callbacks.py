"""The lead queue page's logic without a browser: rows for the grid, due marks, opening a
lead (audited, masked by role), decisions (reason required, permissions, workflow) and
the audited export. Decisions go to a fresh case store per test, never the county's."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from helpers.accounts import user

from hrss_fraud.cases.store import CaseStore, DecisionError
from hrss_fraud.dashboard import queue_callbacks as qc
from hrss_fraud.outputs.leads import FILTER_OPTIONS, count
from hrss_fraud.outputs.runs_view import RunView


@pytest.fixture(scope="module")
def person_lead(county_view: RunView) -> dict:
    """The riskiest lead that names a person."""
    lead = (
        pl.scan_parquet(county_view.findings_path)
        .filter(pl.col("psn_no").is_not_null())
        .sort("amount_at_risk", "finding_id", descending=[True, False])
        .head(1)
        .collect()
    )
    return lead.row(0, named=True)


def _audit(store: CaseStore, action: str) -> list[tuple]:
    return store.query(
        "SELECT actor, object_id, detail FROM audit_log WHERE action = ? ORDER BY audit_id",
        (action,),
    )


def test_column_filters_only_where_the_queue_applies_them() -> None:
    defs = {d["field"]: d for d in qc.column_defs("en")}
    assert list(defs) == list(qc.GRID_COLUMNS)
    for field, d in defs.items():
        if field in FILTER_OPTIONS:
            assert d["filterParams"]["filterOptions"] == list(FILTER_OPTIONS[field])
        else:
            assert "filter" not in d
    assert defs["amount_at_risk"]["filter"] == "agNumberColumnFilter"
    assert defs["rule_name"]["headerName"] == "rule"
    assert qc.column_defs("zh")[1]["headerName"] == "规则名称"


def test_rules_are_named_not_shown_by_id() -> None:
    """The rule's id stays in the grid (its filter) but hidden, on hover over the name."""
    for lang in ("zh", "en"):
        shown = {d["field"]: d for d in qc.column_defs(lang) if not d.get("hide")}
        assert "rule_id" not in shown and "rule_name" in shown
        assert shown["rule_name"]["tooltipField"] == "rule_id"
    hidden = {d["field"]: d for d in qc.column_defs("zh") if d.get("hide")}
    assert set(hidden) == {"rule_id"} and hidden["rule_id"]["filter"] == "agTextColumnFilter"


def test_rows_answer_the_infinite_model_with_due_marks(
    county_view: RunView, store: CaseStore
) -> None:
    answer, message = qc.rows(county_view, {"startRow": 0, "endRow": 20}, store)
    assert message == ""
    assert answer["rowCount"] == count(county_view)
    assert len(answer["rowData"]) == 20
    first = answer["rowData"][0]
    due = (qc.run_time(county_view) + timedelta(days=15)).strftime("%Y-%m-%d")
    assert (first["due_at"], first["waiting"]) == (due, "first_review")
    amounts = [r["amount_at_risk"] for r in answer["rowData"]]
    assert amounts == sorted(amounts, reverse=True)  # risk first by default


def test_rows_apply_the_grid_filter(county_view: RunView, store: CaseStore, person_lead) -> None:
    rule = person_lead["rule_id"]
    request = {
        "startRow": 0,
        "endRow": 500,
        "filterModel": {"rule_id": {"filterType": "text", "type": "equals", "filter": rule}},
    }
    answer, _ = qc.rows(county_view, request, store)
    assert answer["rowCount"] > 0
    assert {r["rule_id"] for r in answer["rowData"]} == {rule}


def test_rows_say_why_a_filter_cannot_apply(county_view: RunView, store: CaseStore) -> None:
    bad = {"filterModel": {"rule_name": {"filterType": "text", "type": "equals", "filter": "x"}}}
    answer, message = qc.rows(county_view, bad, store)
    assert answer == {"rowData": [], "rowCount": 0}
    assert "rule_name" in message


def test_overdue_after_the_first_review_deadline(
    county_view: RunView, store: CaseStore, person_lead
) -> None:
    fid = person_lead["finding_id"]
    start = qc.run_time(county_view)
    assert not qc.due_marks(store, county_view, [fid], now=start + timedelta(days=14))[fid][
        "overdue"
    ]
    assert qc.due_marks(store, county_view, [fid], now=start + timedelta(days=16))[fid]["overdue"]


@pytest.mark.parametrize(
    ("role", "masked"), [("auditor", True), ("reviewer", False), ("admin", True)]
)
def test_opening_a_lead_is_audited_and_masked_by_role(
    county_view: RunView, store: CaseStore, person_lead, role: str, masked: bool
) -> None:
    panel = qc.open_lead(county_view, person_lead["finding_id"], store, user(role))
    assert panel.detail.lead["finding_id"] == person_lead["finding_id"]
    certno = panel.identity["certno"]
    assert ("*" in certno) is masked
    assert [r[:2] for r in _audit(store, "finding.view")] == [(role, person_lead["finding_id"])]
    (actor, psn_no, detail), *_ = _audit(store, "person.view")
    assert (actor, psn_no) == (role, person_lead["psn_no"])
    assert f'"masked": {str(masked).lower()}' in detail


def test_steps_a_role_may_decide_now() -> None:
    assert qc.decidable_steps(user("reviewer"), None) == ["first_review"]
    assert qc.decidable_steps(user("reviewer"), "second_review") == []
    assert qc.decidable_steps(user("supervisor"), "second_review") == ["second_review"]
    assert qc.decidable_steps(user("auditor"), "first_review") == []
    assert qc.decidable_steps(user("supervisor"), "closed") == []


def test_a_decision_needs_a_reason(county_view: RunView, store: CaseStore, person_lead) -> None:
    with pytest.raises(DecisionError, match="须填写理由"):
        qc.record(
            county_view,
            store,
            user("reviewer"),
            [person_lead["finding_id"]],
            step="first_review",
            decision="confirmed",
            reason="  ",
        )
    assert store.current_decisions().height == 0


def test_an_auditor_may_not_decide(county_view: RunView, store: CaseStore, person_lead) -> None:
    with pytest.raises(DecisionError, match="稽核员无权作出“初审”决定"):
        qc.record(
            county_view,
            store,
            user("auditor"),
            [person_lead["finding_id"]],
            step="first_review",
            decision="confirmed",
            reason="looks wrong",
        )


def test_a_decision_is_recorded_with_the_lead_as_seen(
    county_view: RunView, store: CaseStore, person_lead
) -> None:
    fid = person_lead["finding_id"]
    message = qc.record(
        county_view,
        store,
        user("reviewer", "li"),
        [fid],
        step="first_review",
        decision="confirmed",
        reason="重复收费，核实病历",
    )
    assert "1" in message
    row = store.current_decisions().row(0, named=True)
    assert (row["finding_id"], row["decision"], row["decided_by"]) == (fid, "confirmed", "li")
    assert (row["rule_id"], row["run_id"]) == (person_lead["rule_id"], county_view.run_id)
    assert row["entity_type"] == person_lead["entity_type"]
    assert [r[:2] for r in _audit(store, "decision.record")] == [("li", fid)]
    marks = qc.due_marks(store, county_view, [fid])[fid]
    assert marks["waiting"] == "second_review"
    with pytest.raises(DecisionError, match="复审须由他人进行"):
        qc.record(
            county_view,
            store,
            user("supervisor", "li"),
            [fid],
            step="second_review",
            decision="confirmed",
            reason="同意",
        )


def test_bulk_decision_is_all_or_none(county_view: RunView, store: CaseStore) -> None:
    ids = [r["finding_id"] for r in qc.rows(county_view, {"endRow": 3}, store)[0]["rowData"]]
    qc.record(
        county_view,
        store,
        user("reviewer"),
        ids,
        step="first_review",
        decision="dismissed",
        reason="合理用药",
    )
    batch = store.current_decisions()
    assert sorted(batch["finding_id"]) == sorted(ids)
    assert batch["batch_id"].n_unique() == 1
    fresh = qc.rows(county_view, {"startRow": 3, "endRow": 4}, store)[0]["rowData"][0]
    with pytest.raises(DecisionError, match="当前待初审，不能记录“复审”"):  # a new lead
        qc.record(
            county_view,
            store,
            user("supervisor"),
            [ids[0], fresh["finding_id"]],
            step="second_review",
            decision="confirmed",
            reason="复核",
        )
    assert store.history().height == 3


def test_export_is_a_workbook_and_audited(county_view: RunView, store: CaseStore) -> None:
    request = {
        "filterModel": {"severity": {"filterType": "text", "type": "equals", "filter": "high"}}
    }
    data = qc.export(county_view, request, store, user("auditor"), lang="zh")
    assert data[:2] == b"PK"
    (actor, run_id, detail), *_ = _audit(store, "export.download")
    assert (actor, run_id) == ("auditor", county_view.run_id)
    assert "high" in detail


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        ({"startRow": 0, "endRow": 10**9}, "at most 500 rows"),
        ({"startRow": "0", "endRow": 100}, "startRow must be a whole number"),
        ({"startRow": 0, "endRow": 1.5}, "endRow must be a whole number"),
        ({"startRow": 50, "endRow": 10}, "need 0 <= startRow <= endRow"),
        ({"sortModel": [{"colId": "certno", "sort": "asc"}]}, "cannot sort the queue by 'certno'"),
        ({"sortModel": [{"colId": "rule_name", "sort": "sideways"}]}, "sort direction"),
        ({"sortModel": "amount_at_risk"}, "sortModel is not a list"),
        ({"filterModel": ["x"]}, "filterModel is not an object"),
        (
            {
                "filterModel": {
                    "amount_at_risk": {
                        "filterType": "number",
                        "type": "greaterThan",
                        "filter": "lots",
                    }
                }
            },
            "a filter value the queue cannot read",
        ),
    ],
)
def test_a_bad_grid_request_gets_a_message_and_no_rows(
    county_view: RunView, store: CaseStore, request_: dict, says: str
) -> None:
    answer, message = qc.rows(county_view, request_, store)
    assert answer == {"rowData": [], "rowCount": 0}
    assert says in message


def test_the_page_cap_is_a_setting(county_view: RunView, store: CaseStore) -> None:
    answer, message = qc.rows(county_view, {"startRow": 0, "endRow": 20}, store, cap=10)
    assert answer["rowData"] == [] and "at most 10 rows" in message
    answer, message = qc.rows(county_view, {"startRow": 0, "endRow": 10}, store, cap=10)
    assert message == "" and len(answer["rowData"]) == 10
