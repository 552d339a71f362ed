"""The case store probed as someone with the database file would (issue 15): rows rewritten
with ``INSERT OR REPLACE``, and — with the triggers dropped through a raw ``sqlite3``
connection, as any tool can — decisions and audit rows edited, deleted from the middle
and the end, smuggled in around the chain, and the chain itself edited. Each must show in
``chain.verify`` and in ``hrss-fraud cases verify``, naming the table and the row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from hrss_fraud.cases import Decision, chain, open_store, store_path
from hrss_fraud.cases.chain import verify
from hrss_fraud.cli import main


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """Four decisions of two reviewers (each with its audit row) and a batch."""
    with open_store(tmp_path) as store:
        for n, by in ((1, "li"), (2, "wang"), (3, "li")):
            store.record_decision(
                f"F{n}",
                step="first_review",
                decision="confirmed",
                reason="查实",
                by=by,
                lead={"amount_at_risk": 100.0 * n, "fixmedins_code": "H13012300001"},
            )
        store.record_decisions([Decision("F4", "初审", "排除疑点", "合理", "wang")])
    return tmp_path


@contextmanager
def tamper(ws: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection with every trigger dropped, put back as they were afterwards (what
    an intruder who wants the next verification to pass would do)."""
    con = sqlite3.connect(store_path(ws), isolation_level=None)
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    saved = triggers.fetchall()
    for name, _ in saved:
        con.execute(f'DROP TRIGGER "{name}"')
    try:
        yield con
    finally:
        for _, sql in saved:
            con.execute(sql)
        con.close()


def _problems(ws: Path) -> list[tuple[str, str | None, str]]:
    with open_store(ws) as store:
        return [(p.table, p.row_id, p.kind) for p in verify(store).problems]


def _cli_verify(ws: Path) -> tuple[int, list[str]]:
    r = CliRunner().invoke(main, ["--workspace", str(ws), "cases", "verify"])
    return r.exit_code, r.stdout.splitlines()


def test_an_untouched_store_verifies(ws: Path) -> None:
    assert _problems(ws) == []
    code, lines = _cli_verify(ws)
    assert code == 0 and "chain intact" in lines[0]


def test_insert_or_replace_cannot_rewrite_an_audit_actor_or_flip_a_decision(ws: Path) -> None:
    con = sqlite3.connect(store_path(ws), isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: hrss_chain_hash"):
            con.execute("INSERT INTO audit_log (at, actor, action, object_type, object_id) "
                        "VALUES ('x', 'x', 'x', 'x', 'x')")  # fmt: skip
        chain.register(con)  # with the project's code at hand, the chain triggers run too
        with pytest.raises(sqlite3.IntegrityError, match="never replaced"):
            con.execute(
                "INSERT OR REPLACE INTO audit_log (audit_id, at, actor, action, object_type, "
                "object_id) VALUES (1, 'x', 'someone else', 'decision.record', 'finding', 'F1')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="never replaced"):
            con.execute(
                "INSERT OR REPLACE INTO review_decision (decision_id, finding_id, step, "
                "decision, reason, decided_by, decided_at) "
                "VALUES (1, 'F1', 'first_review', 'dismissed', 'x', 'li', 'x')"
            )
    finally:
        con.close()
    assert _problems(ws) == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "UPDATE review_decision SET decision = 'dismissed' WHERE decision_id = 2",
            [("review_decision", "2", "edited")],
        ),
        (
            "UPDATE audit_log SET actor = 'someone else' WHERE audit_id = 1",
            [("audit_log", "1", "edited")],
        ),
        (
            "DELETE FROM review_decision WHERE decision_id = 2",
            [("review_decision", "2", "deleted")],
        ),
        (
            "DELETE FROM review_decision WHERE decision_id = 4",
            [("review_decision", "4", "deleted"), ("review_decision", "4", "tail")],
        ),
        (
            "INSERT INTO review_decision (finding_id, step, decision, reason, decided_by, "
            "decided_at) VALUES ('F9', 'second_review', 'confirmed', 'x', 'adm', 'x')",
            [("review_decision", "5", "unlinked")],
        ),
        (
            "UPDATE chain_link SET row_json = replace(row_json, 'wang', 'zhao') WHERE link_id = 3",
            [("review_decision", "2", "broken"), ("review_decision", "2", "edited")],
        ),
    ],
    ids=[
        "decision-outcome",
        "audit-actor",
        "middle-row",
        "last-row",
        "smuggled-row",
        "chain-entry",
    ],
)
def test_tampering_shows_naming_table_and_row(
    ws: Path, sql: str, expected: list[tuple[str, str, str]]
) -> None:
    with tamper(ws) as con:
        con.execute(sql)
    assert _problems(ws) == expected
    code, lines = _cli_verify(ws)
    assert code == 1 and len(lines) == len(expected)
    assert all(
        line.startswith(f"{t} {r}: {k}:") for line, (t, r, k) in zip(lines, expected, strict=True)
    )


def test_an_edit_shows_the_field_and_both_values(ws: Path) -> None:
    with tamper(ws) as con:
        con.execute("UPDATE review_decision SET decision = 'dismissed' WHERE decision_id = 2")
    assert _cli_verify(ws)[1] == [
        "review_decision 2: edited: changed since it was chained: decision 'confirmed' → "
        "'dismissed'"
    ]


def test_the_last_rows_removed_with_their_links_show_through_the_counters(ws: Path) -> None:
    """F4's decision, its audit row and the batch's, and their three links, all gone: the
    chain that is left is consistent, but the AUTOINCREMENT counters remember."""
    with tamper(ws) as con:
        con.execute("DELETE FROM review_decision WHERE decision_id = 4")
        con.execute("DELETE FROM audit_log WHERE audit_id >= 4")
        con.execute("DELETE FROM chain_link WHERE link_id >= 7")
    assert sorted(_problems(ws)) == [
        ("audit_log", "5", "tail"),
        ("chain_link", "9", "tail"),
        ("review_decision", "4", "tail"),
    ]


def test_a_middle_row_removed_with_its_link_shows_twice(ws: Path) -> None:
    with tamper(ws) as con:
        con.execute("DELETE FROM audit_log WHERE audit_id = 2")
        con.execute("DELETE FROM chain_link WHERE table_name = 'audit_log' AND row_id = '2'")
    assert sorted(_problems(ws)) == [
        ("audit_log", "2", "deleted"),  # a gap in the keys that no link names
        ("chain_link", "4", "deleted"),  # a gap in the links
        ("review_decision", "3", "broken"),  # the next link no longer follows
    ]


def test_a_rewritten_chain_needs_the_anchor(ws: Path) -> None:
    """Whoever has the code can recompute every hash after an edit; a head recorded
    elsewhere beforehand is then no longer in the chain."""
    from hrss_fraud.cases.chain import link_hash

    with open_store(ws) as store:
        anchor = verify(store).head
    with tamper(ws) as con:
        con.execute("UPDATE audit_log SET actor = 'zhao' WHERE audit_id = 1")
        rows = con.execute("SELECT link_id, table_name, row_id, row_json FROM chain_link")
        prev = ""
        for link_id, table, row_id, row_json in rows.fetchall():
            if (table, row_id) == ("audit_log", "1"):
                row_json = row_json.replace('"li"', '"zhao"')
            new = link_hash(prev, table, row_id, row_json)
            con.execute(
                "UPDATE chain_link SET row_json = ?, prev_hash = ?, hash = ? WHERE link_id = ?",
                (row_json, prev, new, link_id),
            )
            prev = new
    assert _problems(ws) == []  # consistent in itself
    r = CliRunner().invoke(main, ["--workspace", str(ws), "cases", "verify", "--anchor", anchor])
    assert r.exit_code == 1 and "chain_link: anchor:" in r.stdout


def test_dropped_or_changed_chain_triggers_are_named(ws: Path) -> None:
    con = sqlite3.connect(store_path(ws), isolation_level=None)
    try:
        con.execute("DROP TRIGGER audit_log_chain")
        con.execute("DROP TRIGGER review_decision_no_replace")
        con.execute("CREATE TRIGGER review_decision_no_replace BEFORE INSERT ON review_decision "
                    "WHEN 0 BEGIN SELECT 1; END")  # fmt: skip
    finally:
        con.close()
    assert sorted(_problems(ws)) == [
        ("audit_log", None, "trigger"),
        ("review_decision", None, "trigger"),
    ]
