"""The case store: migrations, validation, append-only history, audit log, concurrency."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases import (
    DECISIONS,
    STEPS,
    Decision,
    DecisionError,
    SchemaError,
    busy,
    open_store,
    store_path,
)
from hrss_fraud.cases import migrate as mig


def _decide(store, finding_id: str = "F1", **kw: str) -> int:
    args = {"step": "first_review", "decision": "confirmed", "reason": "查实", "by": "li"} | kw
    return store.record_decision(finding_id, **args)


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_a_new_store_is_migrated_once(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert store.path == tmp_path / "cases.sqlite"
        assert store.schema_version() == mig.latest_version()
    con = sqlite3.connect(store_path(tmp_path), isolation_level=None)
    rows = con.execute("SELECT version, name FROM schema_version").fetchall()
    assert rows == [(m.version, m.name) for m in mig.available()]
    assert mig.migrate(con) == []  # nothing pending: nothing applied, nothing written
    con.close()
    with open_store(tmp_path) as store:
        _decide(store)
    with open_store(tmp_path) as store:
        assert store.history().height == 1


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_a_store_migrated_by_newer_code_is_refused(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    con = sqlite3.connect(store_path(tmp_path))
    con.execute("INSERT INTO schema_version VALUES (99, 'future', 'x', '2099-01-01')")
    con.commit()
    con.close()
    newer = rf"schema version 99, newer than this code's {mig.latest_version()}"
    with pytest.raises(SchemaError, match=newer):
        open_store(tmp_path)


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_an_edited_migration_is_refused(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    con = sqlite3.connect(store_path(tmp_path))
    con.execute("UPDATE schema_version SET sha256 = 'edited' WHERE version = 1")
    con.commit()
    con.close()
    with pytest.raises(SchemaError, match="applied from a different file"):
        open_store(tmp_path)


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(tmp_path).close()
    shipped = mig.available()
    broken = mig.Migration(
        len(shipped) + 1, "broken", "CREATE TABLE half_done (x);\nSELECT * FROM no_such;"
    )
    monkeypatch.setattr(mig, "available", lambda: [*shipped, broken])
    with pytest.raises(sqlite3.OperationalError, match="no_such"):
        open_store(tmp_path)
    con = sqlite3.connect(store_path(tmp_path))
    assert con.execute("SELECT max(version) FROM schema_version").fetchone() == (len(shipped),)
    assert not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone()
    con.close()


def test_statements_keep_trigger_bodies_and_commented_semicolons_whole() -> None:
    sql = (
        "-- a comment; with a semicolon\nCREATE TABLE t (x TEXT DEFAULT ';');\n"
        "CREATE TRIGGER g BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'no'); END;\n"
    )
    out = mig.statements(sql)
    assert len(out) == 2
    assert out[1].startswith("CREATE TRIGGER") and out[1].endswith("END;")
    with pytest.raises(SchemaError, match="incomplete"):
        mig.statements("INSERT INTO t VALUES ('unterminated)")


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_the_seeded_vocabulary_equals_the_code(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    con = sqlite3.connect(store_path(tmp_path))
    steps = con.execute("SELECT step, label_zh, label_en FROM review_step ORDER BY seq").fetchall()
    outcomes = con.execute("SELECT decision, label_zh, label_en, label FROM review_outcome")
    outcomes = outcomes.fetchall()
    con.close()
    assert steps == [(k, *v) for k, v in STEPS.items()]
    assert sorted(outcomes) == sorted((k, *v) for k, v in DECISIONS.items())


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_wal_by_default(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    con = sqlite3.connect(store_path(tmp_path))
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    con.close()
    other = tmp_path / "plain"
    open_store(other, wal=False).close()
    con = sqlite3.connect(store_path(other))
    assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    con.close()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"finding_id": " "}, "finding_id is empty"),
        ({"step": "final_review"}, r"step 'final_review' is not one of: first_review \(初审\)"),
        ({"decision": "guilty"}, r"decision 'guilty' is not one of: confirmed \(确认违规\)"),
        ({"reason": ""}, "reason is empty"),
        ({"reason": "   "}, "reason is empty"),
        ({"by": ""}, "by is empty"),
    ],
)
def test_a_bad_decision_says_what_is_wrong_and_writes_nothing(
    tmp_path: Path, kw: dict[str, str], message: str
) -> None:
    kw = dict(kw)  # the parameter is shared by the runs on both backends
    finding_id = kw.pop("finding_id", "F1")
    with open_store(tmp_path) as store:
        with pytest.raises(DecisionError, match=message):
            _decide(store, finding_id, **kw)
        assert store.history().is_empty()
        assert store.audit_log().is_empty()


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    with open_store(tmp_path) as store, pytest.raises(DecisionError) as err:
        _decide(store, step="x", decision="y", reason="")
    assert all(s in str(err.value) for s in ("step 'x'", "decision 'y'", "reason is empty"))


def test_a_bad_amount_is_refused(tmp_path: Path) -> None:
    with open_store(tmp_path) as store, pytest.raises(DecisionError, match="amount_at_risk nan"):
        _decide(store, lead={"amount_at_risk": float("nan")})


def test_chinese_labels_are_accepted_and_stored_as_codes(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        _decide(store, step="复审", decision="排除疑点")
        row = store.current_decisions().row(0, named=True)
    assert (row["step"], row["decision"], row["step_zh"], row["label"]) == (
        "second_review",
        "dismissed",
        "复审",
        0,
    )


def test_a_bad_decision_in_a_batch_writes_none_of_it(tmp_path: Path) -> None:
    good = Decision("F1", "first_review", "confirmed", "查实", "li")
    bad = Decision("F2", "first_review", "confirmed", "", "li")
    with open_store(tmp_path) as store:
        with pytest.raises(DecisionError, match=r"1 of 3 decisions are invalid.*#2 \(F2\)"):
            store.record_decisions([good, bad, good])
        assert store.history().is_empty() and store.audit_log().is_empty()


def test_a_batch_of_several_reviewers_needs_an_actor(tmp_path: Path) -> None:
    a = Decision("F1", "first_review", "confirmed", "查实", "li")
    b = Decision("F2", "first_review", "dismissed", "合理", "wang")
    with open_store(tmp_path) as store:
        with pytest.raises(DecisionError, match="several reviewers"):
            store.record_decisions([a, b])
        ids = store.record_decisions([a, b], actor="admin", source="round1.csv")
        assert len(ids) == 2
        audit = store.audit_log()
    batch = audit.filter(pl.col("action") == "decision.import").row(0, named=True)
    assert batch["actor"] == "admin" and '"source": "round1.csv"' in batch["detail"]
    assert audit.filter(pl.col("action") == "decision.record")["actor"].to_list() == ["li", "wang"]


def test_the_latest_decision_wins_and_history_is_kept(tmp_path: Path) -> None:
    lead = {"rule_id": "price_over_cap", "fixmedins_code": "H1", "amount_at_risk": 12.5}
    with open_store(tmp_path) as store:
        _decide(store, "F1", decision="confirmed", lead=lead)
        _decide(store, "F2", decision="pending")
        _decide(store, "F1", step="appeal", decision="dismissed", reason="申诉成立", by="wang")
        current = store.current_decisions()
        history = store.history("F1")
        labels = store.labels()
    assert current.height == 2
    f1 = current.filter(pl.col("finding_id") == "F1").row(0, named=True)
    assert (f1["step"], f1["decision"], f1["decided_by"]) == ("appeal", "dismissed", "wang")
    assert history["decision"].to_list() == ["confirmed", "dismissed"]
    assert history["rule_id"].to_list() == ["price_over_cap", None]
    assert history["amount_at_risk"].to_list() == [12.5, None]
    assert labels.to_dicts() == [{"finding_id": "F1", "label": 0}]  # F2 is pending: no label


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_decisions_and_the_audit_log_are_append_only(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        _decide(store)
    con = sqlite3.connect(store_path(tmp_path))
    for sql in (
        "UPDATE review_decision SET decision = 'dismissed'",
        "DELETE FROM review_decision",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(sql)
    con.close()


def test_each_decision_writes_an_audit_row(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        did = _decide(store, "F9", by="zhao")
        audit = store.audit_log("F9")
    row = audit.row(0, named=True)
    assert audit.height == 1
    assert (row["actor"], row["action"], row["object_type"]) == (
        "zhao",
        "decision.record",
        "finding",
    )
    assert f'"decision_id": {did}' in row["detail"]
    assert row["at"].tzinfo is not None


def test_an_empty_store_gives_typed_empty_frames(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        current = store.current_decisions()
    assert current.is_empty()
    assert current.schema["decided_at"] == pl.Datetime("us", "UTC")
    assert current.schema["label"] == pl.Int8


_WRITER = """
import sys, time
from pathlib import Path
from hrss_fraud.cases import open_store
ws, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with open_store(ws) as store:
    (ws / f"ready-{tag}").touch()
    while not (ws / "go").exists():
        time.sleep(0.005)
    for i in range(n):
        store.record_decision(f"{tag}-{i}", step="first_review", decision="confirmed",
                              reason="concurrent", by=tag)
"""


def test_two_processes_record_at_once(tmp_path: Path) -> None:
    # started together, so that each commits while the other holds the lock: without the
    # busy timeout one of them fails with "database is locked"
    n = 400
    open_store(tmp_path).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), tag, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for tag in ("p1", "p2")
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{t}").exists() for t in ("p1", "p2")):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.01)
    (tmp_path / "go").touch()
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with open_store(tmp_path) as store:
        assert store.history().height == 2 * n
        assert store.audit_log()["actor"].value_counts().sort("actor")["count"].to_list() == [n, n]


def test_threads_with_their_own_connections_record_at_once(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    failures: list[BaseException] = []

    def write(tag: str) -> None:
        try:
            with open_store(tmp_path) as store:
                for i in range(40):
                    batch = [
                        Decision(f"{tag}-{i}-{k}", "first_review", "dismissed", "ok", tag)
                        for k in range(3)
                    ]
                    store.record_decisions(batch)
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=write, args=(f"t{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with open_store(tmp_path) as store:
        assert store.current_decisions().height == 4 * 40 * 3
        assert store.audit_log().filter(pl.col("action") == "decision.import").height == 4 * 40


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_a_new_store_is_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        with open_store(tmp_path / "ws") as store:
            _decide(store)
            parts = [store_path(tmp_path / "ws"), *(tmp_path / "ws").glob("cases.sqlite-*")]
            modes = {stat.S_IMODE(p.stat().st_mode) for p in parts}
        assert len(parts) == 3 and modes == {0o600}  # the database, its -wal and -shm
        assert stat.S_IMODE((tmp_path / "ws").stat().st_mode) == 0o700
    finally:
        os.umask(previous)


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_a_store_readable_by_others_is_made_private_when_opened(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    os.chmod(store_path(tmp_path), 0o644)
    open_store(tmp_path).close()
    assert stat.S_IMODE(store_path(tmp_path).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 30.0), ("2.5", 2.5), ("0", 30.0), ("soon", 30.0)]
)
def test_the_busy_timeout_is_bounded_and_set_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None, seconds: float
) -> None:
    if value is None:
        monkeypatch.delenv(busy.BUSY_TIMEOUT_ENV, raising=False)
    else:
        monkeypatch.setenv(busy.BUSY_TIMEOUT_ENV, value)
    assert busy.busy_timeout() == seconds


@pytest.mark.sqlite_only  # opens the SQLite file itself; test_postgres.py covers PostgreSQL
def test_a_write_behind_another_gives_up_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(busy.BUSY_TIMEOUT_ENV, "0.2")
    open_store(tmp_path).close()
    holder = sqlite3.connect(store_path(tmp_path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with open_store(tmp_path) as store, pytest.raises(sqlite3.OperationalError) as err:
            _decide(store)
        assert time.monotonic() - started < 5
        assert busy.is_busy(err.value)
        assert not busy.is_busy(sqlite3.OperationalError("no such table: x"))
        assert "0.2 s" in busy.busy_message() and "案件库正忙" in busy.busy_message()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
