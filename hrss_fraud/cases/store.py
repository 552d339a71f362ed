"""The case store: reviewers' decisions on leads, and the audit log (``WORKSPACE/cases.sqlite``).

SQLite in WAL mode, so the dashboard and exports read while a reviewer or an import
writes; every write takes the write lock up front (``BEGIN IMMEDIATE``) and waits up to
``busy_timeout`` seconds (:mod:`hrss_fraud.cases.busy`) for another writer before
failing. Decisions are keyed by the lead's stable ``finding_id`` so they survive re-runs,
are append-only (the database itself refuses an UPDATE or DELETE), and each one writes its
audit-log row in the same transaction. A connection belongs to one thread: open one store
per thread or process.

A province keeps its case store on PostgreSQL instead: ``$HRSS_FRAUD_CASE_STORE`` set to a
``postgresql://`` URL opens that database (:mod:`hrss_fraud.cases.pg`) with the same
migrations and queries, translated at the connection (:mod:`hrss_fraud.cases.dialect`).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import polars as pl

from hrss_fraud.cases import busy, chain, pg
from hrss_fraud.cases.migrate import migrate
from hrss_fraud.cases.vocab import DECISIONS, STEPS, normalise
from hrss_fraud.lake import fsutil

DB_NAME = "cases.sqlite"
CASE_STORE_ENV = "HRSS_FRAUD_CASE_STORE"
"""Where the case store lives when not in the workspace's SQLite file: a PostgreSQL URL,
e.g. ``postgresql://hrss@db.example:5432/cases`` (password from ``~/.pgpass`` or
``$PGPASSWORD``, not the URL)."""
SNAPSHOT = ("rule_id", "fixmedins_code", "entity_type", "amount_at_risk", "run_id")
"""The lead's columns copied onto each decision as the reviewer saw them."""

DECISION_SCHEMA: dict[str, pl.DataType] = {
    "decision_id": pl.Int64(),
    "finding_id": pl.String(),
    "step": pl.String(),
    "decision": pl.String(),
    "reason": pl.String(),
    "decided_by": pl.String(),
    "decided_at": pl.String(),
    "batch_id": pl.String(),
    "rule_id": pl.String(),
    "fixmedins_code": pl.String(),
    "entity_type": pl.String(),
    "amount_at_risk": pl.Float64(),
    "run_id": pl.String(),
}
AUDIT_SCHEMA: dict[str, pl.DataType] = {
    "audit_id": pl.Int64(),
    "at": pl.String(),
    "actor": pl.String(),
    "action": pl.String(),
    "object_type": pl.String(),
    "object_id": pl.String(),
    "detail": pl.String(),
}
_MAX_ERRORS_SHOWN = 10


class StoreSettingError(ValueError):
    """``$HRSS_FRAUD_CASE_STORE`` holds something that names no case store."""


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says every field that is wrong."""


@dataclass(frozen=True)
class Decision:
    """One decision to record: on which lead, at which step, what, why and by whom, with
    the lead's snapshot (optional: a decision on a lead no run holds any more is allowed)."""

    finding_id: str
    step: str
    decision: str
    reason: str
    by: str
    rule_id: str | None = None
    fixmedins_code: str | None = None
    entity_type: str | None = None
    amount_at_risk: float | None = None
    run_id: str | None = None

    def validated(self) -> Decision:
        """This decision with its step and outcome as codes (Chinese labels accepted), or
        :class:`DecisionError` naming everything that is wrong."""
        problems = []
        step, decision = self.step, self.decision
        if not _text(self.finding_id):
            problems.append("finding_id is empty")
        try:
            step = normalise(str(self.step or ""), STEPS, "step")
        except ValueError as e:
            problems.append(str(e))
        try:
            decision = normalise(str(self.decision or ""), DECISIONS, "decision")
        except ValueError as e:
            problems.append(str(e))
        if not _text(self.reason):
            problems.append("reason is empty: every decision needs one (决定须说明理由)")
        if not _text(self.by):
            problems.append("by is empty: say who decides")
        amount = self.amount_at_risk
        if amount is not None and not (isinstance(amount, int | float) and math.isfinite(amount)):
            problems.append(f"amount_at_risk {amount!r} is not a finite number")
        if problems:
            raise DecisionError("; ".join(problems))
        return replace(
            self,
            finding_id=self.finding_id.strip(),
            step=step,
            decision=decision,
            reason=self.reason.strip(),
            by=self.by.strip(),
        )


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def timestamp(at: datetime | None = None) -> str:
    """``at`` (default: now) as the store writes times: ISO-8601 UTC to the microsecond, so
    text order is time order."""
    at = datetime.now(UTC) if at is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def store_path(workspace: Path) -> Path:
    return Path(workspace) / DB_NAME


def store_url() -> str | None:
    """The PostgreSQL case store's URL from ``$HRSS_FRAUD_CASE_STORE``, or None for the
    workspace's SQLite file (the county default); :class:`StoreSettingError` naming the
    variable if it holds anything else."""
    url = os.environ.get(CASE_STORE_ENV, "").strip()
    if not url or url.lower() == "sqlite":
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        msg = (
            f"${CASE_STORE_ENV} = {url!r}: expected a postgresql://user@host:port/db URL, "
            "or unset (or 'sqlite') for the workspace's cases.sqlite"
        )
        raise StoreSettingError(msg)
    return url


def store_exists(workspace: Path) -> bool:
    """Whether there is a case store to read: the SQLite file exists, or one is on
    PostgreSQL (created there on first open)."""
    return store_url() is not None or store_path(workspace).exists()


def connect(
    path: Path, *, busy_timeout: float | None = None, wal: bool = True
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with foreign keys on
    and WAL journaling unless ``wal=False`` (e.g. a network file system without shared
    memory). A write waits ``busy_timeout`` seconds (default: :func:`busy.busy_timeout`)
    for another writer, then fails with "database is locked".

    The store holds personal data: a new one is created 0600 in a 0700 folder (SQLite
    would make it 0644), and an existing one readable by others is made 0600; SQLite
    gives its -wal and -shm files the database's mode."""
    timeout = busy.busy_timeout() if busy_timeout is None else busy_timeout
    fsutil.create_private(path)
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if part.exists():
            fsutil.make_private(part)
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA recursive_triggers = ON")  # a REPLACE's delete fires delete triggers
    chain.register(con)
    if wal:
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe in WAL
    return con


class CaseStore:
    """One connection to a migrated case store: ``path`` is the SQLite file, or the
    workspace's would-be file when ``url`` names the PostgreSQL store in use."""

    def __init__(
        self, con: sqlite3.Connection | pg.Connection, path: Path, url: str | None = None
    ) -> None:
        self._con = con
        self.path = path
        self.url = url

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return "sqlite" if self.url is None else "postgresql"

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def schema_version(self) -> int:
        return int(self._con.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, for the modules that keep their own tables here (users,
        workflow): commits on success, rolls back on any error."""
        self._con.execute("BEGIN IMMEDIATE")  # wait for the lock now, not at the first write
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query inside sees the same committed state (WAL
        keeps it while writers go on), for a check that reads many tables and must not
        see a write land between two of its queries (:func:`hrss_fraud.cases.chain.verify`)."""
        self._con.execute("BEGIN")
        try:
            yield self._con
        finally:
            self._con.execute("ROLLBACK")

    def record_decision(
        self,
        finding_id: str,
        *,
        step: str,
        decision: str,
        reason: str,
        by: str,
        lead: Mapping[str, object] | None = None,
    ) -> int:
        """Record one decision and its audit row; return its ``decision_id``. ``lead``
        gives the snapshot columns (:data:`SNAPSHOT`), e.g. the finding's row."""
        snapshot = {k: (lead or {}).get(k) for k in SNAPSHOT}
        d = Decision(finding_id, step, decision, reason, by, **snapshot).validated()  # type: ignore[arg-type]
        with self.transaction() as con:
            return self._insert(con, d, timestamp(), None)

    def record_decisions(
        self, decisions: Iterable[Decision], *, actor: str | None = None, source: str | None = None
    ) -> list[int]:
        """Record many decisions in one transaction, all or none, under one ``batch_id``.

        Every decision is checked before anything is written; the error lists each bad one
        by its position. ``actor`` (who ran the bulk action) defaults to the reviewers'
        name when they are all the same person."""
        items = list(decisions)
        if not items:
            return []
        checked, problems = [], []
        for i, d in enumerate(items, start=1):
            try:
                checked.append(d.validated())
            except DecisionError as e:
                problems.append(f"#{i} ({d.finding_id or 'no finding_id'}): {e}")
        if problems:
            shown = problems[:_MAX_ERRORS_SHOWN]
            more = len(problems) - len(shown)
            msg = (
                f"{len(problems)} of {len(items)} decisions are invalid, none recorded: "
                + " | ".join(shown)
                + (f" | … and {more} more" if more else "")
            )
            raise DecisionError(msg)
        reviewers = {d.by for d in checked}
        actor = (actor or "").strip() or (reviewers.pop() if len(reviewers) == 1 else "")
        if not actor:
            msg = "decisions by several reviewers in one batch: say who records them (actor)"
            raise DecisionError(msg)
        batch_id, at = uuid.uuid4().hex, timestamp()
        with self.transaction() as con:
            ids = [self._insert(con, d, at, batch_id) for d in checked]
            detail = {"decisions": len(ids), "source": source}
            write_audit(con, at, actor, "decision.import", "batch", batch_id, detail)
        return ids

    def _insert(self, con: sqlite3.Connection, d: Decision, at: str, batch_id: str | None) -> int:
        cur = con.execute(
            """INSERT INTO review_decision (finding_id, step, decision, reason, decided_by,
                   decided_at, batch_id, rule_id, fixmedins_code, entity_type,
                   amount_at_risk, run_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                d.finding_id,
                d.step,
                d.decision,
                d.reason,
                d.by,
                at,
                batch_id,
                d.rule_id,
                d.fixmedins_code,
                d.entity_type,
                None if d.amount_at_risk is None else float(d.amount_at_risk),
                d.run_id,
            ),
        )
        decision_id = int(cur.lastrowid or 0)
        detail = {
            "decision_id": decision_id,
            "step": d.step,
            "decision": d.decision,
            "batch_id": batch_id,
        }
        write_audit(con, at, d.by, "decision.record", "finding", d.finding_id, detail)
        return decision_id

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """The rows of one read-only statement."""
        return self._con.execute(sql, params).fetchall()

    def frame(self, sql: str, params: tuple, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """The rows of one read-only statement as a frame of ``schema``, its time column
        (``decided_at`` or ``at``) as UTC datetimes."""
        rows = self.query(sql, params)
        df = pl.DataFrame(rows, schema=schema, orient="row")
        time_col = "decided_at" if "decided_at" in schema else "at"
        return df.with_columns(
            pl.col(time_col)
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us")
            .dt.replace_time_zone("UTC")
        )

    def current_decisions(self) -> pl.DataFrame:
        """One row per decided lead: its latest decision, with the step's and outcome's
        Chinese labels and the lead's ``label`` (1 confirmed, 0 dismissed, null otherwise)."""
        cols = ", ".join(f"d.{c}" for c in DECISION_SCHEMA)
        df = self.frame(
            f"SELECT {cols} FROM current_decision d ORDER BY d.finding_id", (), DECISION_SCHEMA
        )
        return _with_labels(df)

    def history(self, finding_id: str | None = None) -> pl.DataFrame:
        """Every decision (of one lead, if given), oldest first, labelled as in
        :meth:`current_decisions`."""
        where, params = ("WHERE finding_id = ?", (finding_id,)) if finding_id else ("", ())
        cols = ", ".join(DECISION_SCHEMA)
        sql = f"SELECT {cols} FROM review_decision {where} ORDER BY decision_id"
        return _with_labels(self.frame(sql, params, DECISION_SCHEMA))

    def labels(self) -> pl.DataFrame:
        """``finding_id, label`` of every lead whose latest decision is final (confirmed 1,
        dismissed 0); pending and similar decisions give no label."""
        return (
            self.current_decisions()
            .filter(pl.col("label").is_not_null())
            .select("finding_id", "label")
        )

    def audit_log(self, object_id: str | None = None) -> pl.DataFrame:
        """The audit log (rows about one object, if given), oldest first."""
        where, params = ("WHERE object_id = ?", (object_id,)) if object_id else ("", ())
        cols = ", ".join(AUDIT_SCHEMA)
        return self.frame(
            f"SELECT {cols} FROM audit_log {where} ORDER BY audit_id", params, AUDIT_SCHEMA
        )


def _with_labels(decisions: pl.DataFrame) -> pl.DataFrame:
    """The step's and outcome's Chinese labels, and the lead's learning ``label``."""
    return decisions.with_columns(
        step_zh=pl.col("step").replace_strict({k: v[0] for k, v in STEPS.items()}),
        decision_zh=pl.col("decision").replace_strict({k: v[0] for k, v in DECISIONS.items()}),
        label=pl.col("decision").replace_strict(
            {k: v[2] for k, v in DECISIONS.items()}, return_dtype=pl.Int8
        ),
    )


def write_audit(
    con: sqlite3.Connection,
    at: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: Mapping[str, object] | None,
) -> int:
    """Append one audit-log row inside the caller's transaction; return its ``audit_id``."""
    text = None if detail is None else json.dumps(dict(detail), ensure_ascii=False, default=str)
    cur = con.execute(
        "INSERT INTO audit_log (at, actor, action, object_type, object_id, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (at, actor, action, object_type, object_id, text),
    )
    return int(cur.lastrowid or 0)


def open_store(
    workspace: Path, *, busy_timeout: float | None = None, wal: bool = True
) -> CaseStore:
    """The workspace's case store, created and migrated to this code's schema if needed;
    :class:`~hrss_fraud.cases.migrate.SchemaError` if it was made by newer code."""
    path, url = store_path(workspace), store_url()
    if url is None:
        con: sqlite3.Connection | pg.Connection = connect(path, busy_timeout=busy_timeout, wal=wal)
    else:
        timeout = busy.busy_timeout() if busy_timeout is None else busy_timeout
        con = pg.connect(url, busy_timeout=timeout)
    try:
        migrate(con, str(path) if url is None else pg.redacted(url))  # type: ignore[arg-type]
    except BaseException:
        con.close()
        raise
    return CaseStore(con, path, url)
