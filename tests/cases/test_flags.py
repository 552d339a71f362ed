"""Leads flagged for review (提请审核): stored with their audit row in one transaction,
the note required and limited, an unknown lead refused, the flags listed, none editable."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hrss_fraud.cases.flags import MAX_NOTE, FlagError, flag, flagged, flags
from hrss_fraud.cases.store import CaseStore, open_store

KNOWN = frozenset({"F-1", "F-2", "F-3"})


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    with open_store(tmp_path) as s:
        yield s


def test_a_flag_is_stored_with_its_audit_row(store: CaseStore) -> None:
    at = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    flag_id = flag(
        store, " F-2 ", "  同一患者一天三次检验，请核实  ", by="aud", known=KNOWN, now=at
    )
    rows = flags(store).to_dicts()
    assert rows == [
        {
            "flag_id": flag_id,
            "finding_id": "F-2",
            "note": "同一患者一天三次检验，请核实",
            "flagged_by": "aud",
            "flagged_at": at,
        }
    ]
    log = store.audit_log("F-2").filter(action="lead.flag").to_dicts()
    assert [(r["actor"], r["object_type"]) for r in log] == [("aud", "finding")]
    assert f'"flag_id": {flag_id}' in log[0]["detail"] and "请核实" in log[0]["detail"]


def test_a_flag_does_not_move_the_lead(store: CaseStore) -> None:
    flag(store, "F-1", "请看", by="aud", known=KNOWN)
    assert store.history("F-1").height == 0


def test_the_flag_and_its_audit_row_are_one_transaction(store: CaseStore) -> None:
    with store.transaction() as con:  # an audit row that cannot be written
        con.execute(
            "CREATE TRIGGER no_flag_audit BEFORE INSERT ON audit_log "
            "WHEN NEW.action = 'lead.flag' BEGIN SELECT RAISE(ABORT, 'audit down'); END"
        )
    with pytest.raises(sqlite3.IntegrityError, match="audit down"):
        flag(store, "F-1", "请看", by="aud", known=KNOWN)
    assert flags(store).height == 0


@pytest.mark.parametrize(
    ("finding_id", "note", "reason", "says"),
    [
        ("F-1", "   ", "note_empty", "须填写提请说明"),
        ("F-1", None, "note_empty", "须填写提请说明"),
        ("F-1", "长" * (MAX_NOTE + 1), "note_too_long", f"最多 {MAX_NOTE} 字"),
        ("F-9", "请看", "unknown_lead", "疑点 F-9 不在本批次中"),
        ("", "请看", "unknown_lead", "不在本批次中"),
    ],
)
def test_a_bad_flag_is_refused_and_nothing_written(
    store: CaseStore, finding_id: str, note: str | None, reason: str, says: str
) -> None:
    with pytest.raises(FlagError, match=says) as e:
        flag(store, finding_id, note, by="aud", known=KNOWN)
    assert e.value.reason == reason
    assert flags(store).height == 0
    assert store.audit_log().filter(action="lead.flag").height == 0


def test_a_note_of_the_longest_length_is_taken(store: CaseStore) -> None:
    flag(store, "F-1", " " + "长" * MAX_NOTE + " ", by="aud", known=KNOWN)
    assert flags(store)["note"].str.len_chars().to_list() == [MAX_NOTE]


def test_flags_are_listed_by_lead_and_oldest_first(store: CaseStore) -> None:
    flag(store, "F-2", "一", by="aud", known=KNOWN)
    flag(store, "F-1", "二", by="rev", known=KNOWN)
    flag(store, "F-2", "三", by="rev", known=KNOWN)
    assert flags(store, ["F-2"])["note"].to_list() == ["一", "三"]
    assert flags(store, [])["note"].to_list() == []
    assert flags(store)["note"].to_list() == ["一", "二", "三"]
    assert flagged(store) == ("F-1", "F-2")


def test_a_flag_cannot_be_edited_or_deleted(store: CaseStore) -> None:
    flag(store, "F-1", "请看", by="aud", known=KNOWN)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.query("UPDATE review_flag SET note = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.query("DELETE FROM review_flag")
