"""The review workflow: migration 0002 on an existing store, deadlines, the queue, the
checks on a dashboard decision and bulk decisions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases import migrate as mig
from hrss_fraud.cases import open_store, store_path
from hrss_fraud.cases import workflow as wf
from hrss_fraud.cases.store import connect

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _decide(store, finding_id: str, step: str, decision: str, by: str = "li") -> None:
    store.record_decision(finding_id, step=step, decision=decision, reason="查实", by=by)


def _at(store, when: dict[int, datetime]) -> None:
    """Back-date decisions (only a test may: it drops the trigger that refuses UPDATE)."""
    con = store._con
    con.execute("DROP TRIGGER review_decision_no_update")
    for decision_id, at in when.items():
        con.execute(
            "UPDATE review_decision SET decided_at = ? WHERE decision_id = ?",
            (at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), decision_id),
        )


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_migration_0002_upgrades_a_version_1_store_and_keeps_its_data(tmp_path: Path) -> None:
    con = connect(store_path(tmp_path))
    first = mig.available()[0]
    con.execute("BEGIN")
    con.execute(mig._VERSION_TABLE)
    for stmt in mig.statements(first.sql):
        con.execute(stmt)
    con.execute(
        "INSERT INTO schema_version VALUES (1, ?, ?, '2025-01-01')", (first.name, first.sha256)
    )
    con.execute(
        "INSERT INTO review_decision (finding_id, step, decision, reason, decided_by, decided_at)"
        " VALUES ('F1', 'first_review', 'confirmed', '查实', 'li', '2025-02-01T00:00:00.000000Z')"
    )
    con.execute("COMMIT")
    con.close()
    with open_store(tmp_path) as store:
        assert store.schema_version() == mig.latest_version() >= 2
        assert store.history()["finding_id"].to_list() == ["F1"]
        assert wf.deadlines(store) == wf.DEFAULT_DEADLINE_DAYS
        assert store.query("SELECT count(*) FROM users") == [(0,)]
        _decide(store, "F1", "second_review", "confirmed", by="wang")
        assert store.current_decisions()["step"].to_list() == ["second_review"]


@pytest.mark.parametrize(
    ("step", "decision", "after"),
    [
        ("first_review", "confirmed", "second_review"),
        ("second_review", "confirmed", "appeal"),
        ("appeal", "confirmed", "investigation"),
        ("investigation", "confirmed", "sanction"),
        ("sanction", "confirmed", wf.CLOSED),
        ("second_review", "dismissed", wf.CLOSED),
        ("appeal", "pending", "appeal"),
        ("first_review", "needs_info", "first_review"),
    ],
)
def test_next_step(step: str, decision: str, after: str) -> None:
    assert wf.next_step(step, decision) == after


def test_set_deadline_is_audited_with_the_old_value(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        wf.set_deadline(store, "申诉", 20, by="zhao", reason="县局决定延长")
        assert wf.deadlines(store)["appeal"] == 20
        row = store.audit_log("appeal").row(0, named=True)
        assert (row["action"], row["actor"]) == ("deadline.change", "zhao")
        assert '"old_days": 10' in row["detail"] and '"new_days": 20' in row["detail"]
        with pytest.raises(ValueError, match="from 1 to 365"):
            wf.set_deadline(store, "appeal", 0, by="zhao", reason="x")
        with pytest.raises(ValueError, match=r"who \(by\) and why"):
            wf.set_deadline(store, "appeal", 5, by="zhao", reason=" ")


def test_the_queue_counts_from_entering_the_step_and_marks_overdue(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        _decide(store, "A", "first_review", "confirmed")  # 1: → second review
        _decide(store, "A", "second_review", "pending", by="wang")  # 2: parked, clock runs
        _decide(store, "B", "first_review", "dismissed")  # 3: closed
        _decide(store, "C", "first_review", "needs_info")  # 4: still first review
        _at(
            store,
            {1: T0, 2: T0 + timedelta(days=10), 3: T0, 4: T0 + timedelta(days=1)},
        )
        new = pl.DataFrame({"finding_id": ["C", "D"], "since": [T0, T0 + timedelta(days=5)]})
        q = wf.queue(store, now=T0 + timedelta(days=16), new_leads=new)
    rows = {r["finding_id"]: r for r in q.iter_rows(named=True)}
    assert list(q.columns) == list(wf.QUEUE_SCHEMA)
    assert rows["A"]["step"] == "second_review" and rows["A"]["step_zh"] == "复审"
    assert rows["A"]["since"] == T0 and rows["A"]["due_at"] == T0 + timedelta(days=15)
    assert rows["A"]["overdue"] and rows["A"]["last_decision"] == "pending"
    assert rows["B"]["step"] == wf.CLOSED and rows["B"]["due_at"] is None
    assert not rows["B"]["overdue"]
    assert rows["C"]["since"] == T0 and rows["C"]["overdue"]  # the lead's time, not the decision
    assert rows["D"]["step"] == "first_review" and rows["D"]["decisions"] is None
    assert rows["D"]["due_at"] == T0 + timedelta(days=20) and not rows["D"]["overdue"]
    assert q["finding_id"].to_list()[:2] == ["A", "C"]  # overdue first, earliest due first


def test_a_decision_must_be_at_the_step_the_lead_waits_at(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        with pytest.raises(wf.WorkflowError, match=r"F1: waits at first_review 初审, not appeal"):
            wf.decide(store, ["F1"], step="appeal", decision="confirmed", reason="r", by="li")
        wf.decide(store, ["F1"], step="初审", decision="确认违规", reason="r", by="li")
        # a correction at the step just decided is allowed; so is the next step
        wf.decide(store, ["F1"], step="first_review", decision="pending", reason="r", by="li")
        assert store.history("F1")["step"].to_list() == ["first_review", "first_review"]


def test_the_second_review_needs_a_second_person(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        wf.decide(store, ["F1"], step="first_review", decision="confirmed", reason="r", by="li")
        with pytest.raises(wf.WorkflowError, match="li recorded its first review"):
            wf.decide(
                store, ["F1"], step="second_review", decision="confirmed", reason="r", by="li"
            )
        wf.decide(store, ["F1"], step="second_review", decision="confirmed", reason="r", by="wang")
        assert store.current_decisions()["decided_by"].to_list() == ["wang"]


def test_a_bulk_decision_is_one_batch_all_or_none(tmp_path: Path) -> None:
    leads = {"F1": {"rule_id": "R1", "amount_at_risk": 12.5, "finding_id": "F1", "other": 1}}
    with open_store(tmp_path) as store:
        wf.decide(store, ["F3"], step="first_review", decision="confirmed", reason="r", by="li")
        wf.decide(store, ["F3"], step="second_review", decision="confirmed", reason="r", by="wang")
        refused = (
            r"1 decision\(s\) refused, none recorded: F3: waits at second_review 复审 / appeal"
        )
        with pytest.raises(wf.WorkflowError, match=refused):
            wf.decide(
                store, ["F1", "F2", "F3"], step="first_review", decision="confirmed",
                reason="r", by="li",
            )  # fmt: skip
        assert store.history()["finding_id"].to_list() == ["F3", "F3"]
        with pytest.raises(wf.DecisionError, match="reason is empty"):
            wf.decide(store, ["F1", "F2"], step="first_review", decision="confirmed", reason="",
                      by="li")  # fmt: skip
        ids = wf.decide(
            store, ["F1", "F2", "F1"], step="first_review", decision="confirmed",
            reason="同一批处方", by="li", leads=leads,
        )  # fmt: skip
        h = store.history().filter(pl.col("decision_id").is_in(ids))
        assert h["finding_id"].to_list() == ["F1", "F2"]
        assert h["batch_id"].n_unique() == 1 and h["batch_id"][0] is not None
        assert h["rule_id"].to_list() == ["R1", None] and h["amount_at_risk"][0] == 12.5
        batch = store.audit_log(h["batch_id"][0]).row(0, named=True)
        assert (batch["action"], batch["actor"]) == ("decision.import", "li")
        assert '"source": "dashboard"' in batch["detail"]
        assert (
            wf.decide(store, [], step="first_review", decision="confirmed", reason="r", by="li")
            == []
        )


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_the_seeded_deadlines_equal_the_code(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    con = sqlite3.connect(store_path(tmp_path))
    assert dict(con.execute("SELECT step, days FROM step_deadline")) == wf.DEFAULT_DEADLINE_DAYS
    con.close()
