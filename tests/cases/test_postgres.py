"""The case store on PostgreSQL where it differs from SQLite: what the suite's other tests
check through the SQLite file (append-only, migrations refused or rolled back, a busy
store), the chain giving the same bytes and hashes on both, and the translation's
stand-ins for SQLite's functions agreeing with SQLite value by value.

The rest of tests/cases runs on both backends (conftest.py)."""

from __future__ import annotations

import math
import random
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from helpers import case_backends, pgserver

from hrss_fraud.cases import busy, chain, dialect
from hrss_fraud.cases import migrate as mig
from hrss_fraud.cases import store as case_store
from hrss_fraud.cases.chain import verify
from hrss_fraud.cases.store import CASE_STORE_ENV, Decision, open_store, write_audit
from hrss_fraud.cli import main
from hrss_fraud.cli.cases import cases
from hrss_fraud.nightly.backup import BackupError, backup


@pytest.fixture
def pg_url(postgres_server: pgserver.Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``$HRSS_FRAUD_CASE_STORE`` set to a fresh migrated database."""
    url = postgres_server.fresh_database()
    monkeypatch.setenv(CASE_STORE_ENV, url)
    yield url
    postgres_server.drop(url)


def _raw(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


AT = "2026-03-01T08:15:00.123456Z"
AWKWARD = [
    0.1 + 0.2,
    1e15,
    1234567890123456.0,
    1.5e-7,
    1e-5,
    1 / 3,
    100.0,
    -3.75,
    5e-324,
    1e100,
    *[random.Random(7).uniform(-1e6, 1e6) for _ in range(20)],
]
TEXTS = ["普通", 'q"uote\\back', "tab\tnl\ncr\r\x01\x1f", "é ü ✓ 𝄞", "", "%s %(x)s ?"]


def _write(ws: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The same decisions and audit rows, at the same times; the chain they make."""
    monkeypatch.setattr(case_store, "timestamp", lambda at=None: AT)
    monkeypatch.setattr(case_store.uuid, "uuid4", lambda: uuid.UUID(int=7))  # the batch_id
    with open_store(ws) as store:
        batch = [
            Decision(f"F{i}", "first_review", "confirmed", f"理由 {t}", "li", amount_at_risk=a)
            for i, (a, t) in enumerate(zip(AWKWARD, TEXTS * 5, strict=False))
        ]
        store.record_decisions(batch, source="test")
        store.record_decision(
            "F0", step="second_review", decision="dismissed", reason="r", by="wang"
        )
        with store.transaction() as con:
            for t in TEXTS:
                write_audit(con, AT, "li", "test.text", "text", t or "empty", {"t": t, "n": 1.5})
        return store.query("SELECT * FROM chain_link ORDER BY link_id")


def test_the_chain_is_the_same_bytes_and_hashes_on_both(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_pg = _write(tmp_path / "pg", monkeypatch)
    monkeypatch.delenv(CASE_STORE_ENV)
    on_sqlite = _write(tmp_path / "sqlite", monkeypatch)
    assert len(on_pg) == 2 * (len(AWKWARD) + 1) + 1 + len(TEXTS)
    assert on_pg == on_sqlite
    monkeypatch.setenv(CASE_STORE_ENV, pg_url)
    with open_store(tmp_path) as store:
        report = verify(store)
    assert report.ok, [p.line() for p in report.problems]
    assert report.head == on_sqlite[-1][-1]


def test_sqlite_functions_agree_value_by_value(pg_url: str) -> None:
    """json_object over reals, texts, integers and NULL (typed as a column of the store
    would be: a bare parameter takes its type from where it stands on PostgreSQL), and
    date() with modifiers."""
    days = ["2024-02-29", "2024-02-30", "2023-12-31", "2026-01-31", "2026-1-5", "junk", None]
    days += ["2026-03-01T08:15:00.123456Z", "2026-03-01 08:15", "now"]
    mods = [(), ("+15 days",), ("-1 days",), ("+1 months",), ("+1 years", "-3 days"), ("+x",)]
    lite = sqlite3.connect(":memory:")
    with open_store(Path("/nonexistent")) as store:
        con = store._con
        typed = [(v, "REAL") for v in [*AWKWARD, math.pi, None]]
        typed += [(v, "INTEGER") for v in (0, -7, 2**62, None)] + [(t, "TEXT") for t in TEXTS]
        for v, kind in typed:
            sql = f"SELECT json_object('v', CAST(? AS {kind}))"
            assert con.execute(sql, (v,)).fetchone() == lite.execute(sql, (v,)).fetchone(), v
        for d in days:
            for m in mods:
                sql = f"SELECT date({', '.join(['?'] * (1 + len(m)))})"
                got, want = (
                    con.execute(sql, (d, *m)).fetchone(),
                    lite.execute(sql, (d, *m)).fetchone(),
                )
                assert got == want, (d, m)


def test_decisions_and_the_audit_log_are_append_only(pg_url: str) -> None:
    with open_store(Path("/nonexistent")) as store:
        store.record_decision("F1", step="first_review", decision="confirmed", reason="r", by="li")
    with _raw(pg_url) as con:
        for sql in (
            "UPDATE review_decision SET decision = 'dismissed'",
            "DELETE FROM review_decision",
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
            "DELETE FROM chain_link",
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
                con.execute(sql)


def test_an_edit_around_the_triggers_shows(pg_url: str) -> None:
    with open_store(Path("/nonexistent")) as store:
        for i in range(3):
            store.record_decision(
                f"F{i}", step="first_review", decision="pending", reason="r", by="li"
            )
        assert verify(store).ok
    with _raw(pg_url) as con:
        con.execute("ALTER TABLE review_decision DISABLE TRIGGER review_decision_no_update")
        con.execute("UPDATE review_decision SET reason = 'later' WHERE decision_id = 2")
        con.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain")
    with open_store(Path("/nonexistent")) as store:
        problems = {(p.table, p.row_id, p.kind) for p in verify(store).problems}
    assert ("review_decision", "2", "edited") in problems
    assert ("audit_log", None, "trigger") in problems  # the chain trigger switched off


def test_a_refused_insert_hands_its_number_back(pg_url: str) -> None:
    """AUTOINCREMENT as SQLite's: no gap after a rolled-back insert, so verify stays quiet."""
    with open_store(Path("/nonexistent")) as store:
        store.record_decision("F1", step="first_review", decision="pending", reason="r", by="li")
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as con:
            con.execute(
                "INSERT INTO review_decision (finding_id, step, decision, reason, decided_by, "
                "decided_at) VALUES ('F2', 'no_such_step', 'pending', 'r', 'li', ?)",
                (AT,),
            )
        second = store.record_decision(
            "F2", step="first_review", decision="pending", reason="r", by="li"
        )
        report = verify(store)
    assert second == 2
    assert report.ok, [p.line() for p in report.problems]


def test_a_write_behind_another_gives_up_after_the_timeout(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(busy.BUSY_TIMEOUT_ENV, "0.2")
    ws = Path("/nonexistent")
    with open_store(ws) as holder, holder.transaction(), open_store(ws) as store:
        with pytest.raises(sqlite3.OperationalError) as err:
            store.record_decision(
                "F1", step="first_review", decision="pending", reason="r", by="li"
            )
        assert busy.is_busy(err.value)
        assert store.current_decisions().height == 0  # reads do not wait for the writer


def test_a_failing_migration_leaves_the_database_as_it_was(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = mig.available()
    broken = mig.Migration(
        len(shipped) + 1, "broken", "CREATE TABLE half_done (x TEXT);\nSELECT * FROM no_such;"
    )
    monkeypatch.setattr(mig, "available", lambda: [*shipped, broken])
    with pytest.raises(sqlite3.OperationalError, match="no_such"):
        open_store(Path("/nonexistent"))
    with _raw(pg_url) as con:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone() == (len(shipped),)
        assert con.execute("SELECT to_regclass('half_done')").fetchone() == (None,)


def test_newer_or_edited_migrations_are_refused(pg_url: str) -> None:
    with _raw(pg_url) as con:
        con.execute("UPDATE schema_version SET sha256 = 'x' WHERE version = 1")
    with pytest.raises(mig.SchemaError, match="different file"):
        open_store(Path("/nonexistent"))
    with _raw(pg_url) as con:
        con.execute("INSERT INTO schema_version VALUES (999, 'future', 'y', '2030-01-01')")
    with pytest.raises(mig.SchemaError, match="newer than this code"):
        open_store(Path("/nonexistent"))


def test_the_verify_command(tmp_path: Path, pg_url: str) -> None:
    with open_store(tmp_path) as store:
        store.record_decision("F1", step="first_review", decision="pending", reason="r", by="li")
        head = chain.head(store)
    r = CliRunner().invoke(cases, ["verify", "--anchor", head], obj={"workspace": tmp_path})
    assert r.exit_code == 0 and f"chain intact: head {head}" in r.output, r.output
    assert not (tmp_path / "cases.sqlite").exists()


def test_backup_refuses_and_names_pg_dump(tmp_path: Path, pg_url: str) -> None:
    with pytest.raises(BackupError, match="pg_dump") as err:
        backup(tmp_path, tmp_path / "out")
    assert "案件库在 PostgreSQL 上" in str(err.value) and not (tmp_path / "out").exists()


def test_a_bad_setting_or_an_unreachable_server_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CASE_STORE_ENV, "mysql://x@y/z")
    with pytest.raises(ValueError, match=CASE_STORE_ENV):
        open_store(tmp_path)
    verify_cmd = ["--workspace", str(tmp_path), "cases", "verify"]
    r = CliRunner().invoke(main, verify_cmd)
    assert r.exit_code == 1 and CASE_STORE_ENV in r.output, r.output
    monkeypatch.setenv(CASE_STORE_ENV, "postgresql://u:secret@127.0.0.1:1/none")
    monkeypatch.setenv(busy.BUSY_TIMEOUT_ENV, "1")
    with pytest.raises(sqlite3.OperationalError, match="PostgreSQL case store") as err:
        open_store(tmp_path)
    assert "secret" not in str(err.value)
    r = CliRunner().invoke(main, verify_cmd)
    assert r.exit_code == 1 and "cannot connect" in r.output and "secret" not in r.output


def test_every_migration_translates() -> None:
    """Each statement of each migration, as PostgreSQL gets it (the session's template
    database is built from them; this names the statement that would not translate)."""
    for m in mig.available():
        for stmt in mig.statements(m.sql):
            out = dialect.translate(stmt)
            assert out.statements and all(s.strip() for s in out.statements), (m.name, stmt)


def test_the_tests_set_the_variable_the_store_reads() -> None:
    assert case_backends.CASE_STORE_ENV == CASE_STORE_ENV
