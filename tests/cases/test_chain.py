"""The case store's hash chain: the column lists the verification recomputes equal the
migration's triggers and cover every column, and a store written through every chained
table verifies (the tampering probes are in tests/security/test_case_store_probes.py)."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from hrss_fraud.cases import open_store, store_path
from hrss_fraud.cases.chain import CHAINED, NOT_CHAINED, link_hash, verify
from hrss_fraud.cases.migrate import available
from hrss_fraud.cli.cases import cases
from hrss_fraud.notices import Handling, Item, NoticeContent
from hrss_fraud.notices import store as notices

MIGRATION = next(m for m in available() if m.version == 7).sql
RECOVER = Handling("recover", 1234.5)


def _trigger(table: str) -> str:
    m = re.search(rf"CREATE TRIGGER {table}_chain .*?\nEND;", MIGRATION, re.S)
    assert m, f"no {table}_chain trigger in 0007"
    return m[0]


def _seed_select(table: str) -> str:
    seed = MIGRATION[MIGRATION.index("INSERT INTO chain_seed") : MIGRATION.index("DROP TABLE")]
    parts = [p for p in seed.split("UNION ALL") if re.search(rf"FROM {table}\b", p)]
    assert len(parts) == 1, table
    return parts[0]


@pytest.mark.parametrize("table", list(CHAINED))
def test_the_column_lists_are_the_triggers_and_the_seeds(table: str) -> None:
    spec = CHAINED[table]
    trigger = _trigger(table)
    pairs = re.findall(r"'(\w+)', NEW\.(\w+)", trigger)
    assert all(a == b for a, b in pairs)
    assert tuple(a for a, _ in pairs) == spec.columns
    assert f"CAST(NEW.{spec.key} AS TEXT)" in trigger
    seeded = re.findall(r"'(\w+)',\s*(\w+)", _seed_select(table).split("json_object(", 1)[1])
    assert tuple(a for a, b in seeded if a == b) == spec.columns
    if spec.linked_when:  # a notice joins when it leaves draft, in the trigger and the seed
        assert f"NEW.{spec.linked_when}" in trigger
        assert f"WHERE {spec.linked_when}" in _seed_select(table)


@pytest.mark.parametrize("table", list(CHAINED))
@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_every_column_is_chained_or_left_out_for_a_reason(tmp_path: Path, table: str) -> None:
    with open_store(tmp_path) as store:
        columns = [r[1] for r in store.query(f"PRAGMA table_info({table})")]
    left_out = NOT_CHAINED.get(table, {})
    assert set(columns) == set(CHAINED[table].columns) | set(left_out)
    assert not set(CHAINED[table].columns) & set(left_out)
    assert all(why.strip() for why in left_out.values())


def _content(**changes: object) -> NoticeContent:
    fields: dict[str, object] = {
        "fixmedins_code": "H13012300004",
        "fixmedins_name": "城关镇卫生院",
        "agreement_no": "XY-2026-017",
        "inspection_date": "2026-03-02",
        "inspectors": ("李明", "王芳"),
        "onsite_facts": "抽查住院病历30份，5份无对应检查报告。",
        "items": (
            Item("重复收费", "同时收取输液费与注射费", "条例第三十八条", 1234.5, (RECOVER,)),
        ),
        "requirements": "立即停止违规收费",
        "rectify_days": 30,
        "issuing_unit": "某县医疗保障中心",
    }
    return NoticeContent(**(fields | changes))  # type: ignore[arg-type]


def fill(ws: Path) -> None:
    """A store written through every chained table: decisions (one with an amount, one
    without), a batch, an issued notice with events and a review decision, a draft."""
    from hrss_fraud.cases import Decision

    with open_store(ws) as store:
        store.record_decision(
            "F1",
            step="first_review",
            decision="confirmed",
            reason="病历无记录",
            by="li",
            lead={"amount_at_risk": 1234.5, "rule_id": "dup", "fixmedins_code": "H1"},
        )
        batch = [
            Decision("F2", "初审", "排除疑点", "合理\n用药", "wang"),
            Decision("F3", "复审", "待定", "“引号” and \\ backslash", "wang"),
        ]
        store.record_decisions(batch)
        issued = notices.create(store, _content(), by="zhao", require_confirmed=False)
        draft = _content(fixmedins_code="H13012300009")
        notices.create(store, draft, by="zhao", require_confirmed=False)
        notices.issue(
            store, issued, ws, by="zhao", on=date(2026, 3, 5), render=lambda c: (b"d", b"p")
        )
        number = notices.get(store, issued).number
        notices.acknowledge(store, number, by="zhao", person="张院长", on=date(2026, 3, 6))
        notices.statement(
            store, number, by="zhao", text="申请复核", review=True, on=date(2026, 3, 8)
        )
        notices.decide_review(store, number, by="zhao", outcome="upheld", text="维持")


def test_a_store_written_through_every_chained_table_verifies(tmp_path: Path) -> None:
    fill(tmp_path)
    with open_store(tmp_path) as store:
        report = verify(store)
        links = store.query("SELECT prev_hash, table_name, row_id, row_json, hash FROM chain_link")
    assert report.ok, [p.line() for p in report.problems]
    assert {t: c["links"] for t, c in report.tables.items()} == {
        "review_decision": 3,
        "audit_log": report.tables["audit_log"]["rows"],
        "notice_event": 3,
        "notice_review_decision": 1,
        "notice": 1,  # the draft is not chained
    }
    assert report.tables["notice"]["rows"] == 2
    assert report.links == len(links) and report.head == links[-1][4]
    assert all(link_hash(*row[:4]) == row[4] for row in links)


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_verify_on_a_raw_connection_without_the_hash_function(tmp_path: Path) -> None:
    fill(tmp_path)
    con = sqlite3.connect(store_path(tmp_path))
    try:
        assert verify(con).ok
        assert not con.in_transaction  # the snapshot it opened is closed again
    finally:
        con.close()


def test_an_anchor_must_be_a_link_of_the_chain(tmp_path: Path) -> None:
    fill(tmp_path)
    with open_store(tmp_path) as store:
        head = verify(store).head
        store.record_decision("F9", step="初审", decision="待定", reason="x", by="li")
        assert verify(store, anchor=head).ok  # yesterday's head is still a link
        report = verify(store, anchor="0" * 64)
    assert [p.kind for p in report.problems] == ["anchor"]


@pytest.mark.sqlite_only  # a store on PostgreSQL always exists; test_postgres.py runs verify
def test_the_verify_command(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cases, ["verify"], obj={"workspace": tmp_path})
    assert r.exit_code == 1 and "no case store" in r.output
    fill(tmp_path)
    r = runner.invoke(cases, ["verify"], obj={"workspace": tmp_path})
    assert r.exit_code == 0, r.output
    with open_store(tmp_path) as store:
        head = verify(store).head
    assert f"chain intact: head {head}" in r.output and "review_decision 3" in r.output
    r = runner.invoke(cases, ["verify", "--json"], obj={"workspace": tmp_path})
    assert r.exit_code == 0 and '"ok": true' in r.output and head in r.output
