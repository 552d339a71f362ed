"""The check service's log: every call (who, what, verdict) and the warnings it answered,
written by one background thread so an answer never waits for the case store; and the
doctors' handling of those warnings (3103), written through the same thread in order,
so feedback always finds the warnings answered before it.

Tables (migration 0013): ``check_call``, ``check_hit``, ``check_feedback``; their grain
and columns are in docs/check_service.md. Calls queue up and are written in batches of up
to :data:`BATCH` rows per transaction; :meth:`CallLog.flush` waits until everything queued
is written (tests, shutdown). A store busy beyond its timeout loses that batch: the
error is logged, the service answers on.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from hrss_fraud.cases.store import CaseStore, open_store, timestamp

log = logging.getLogger("hrss_fraud.precheck")

BATCH = 500


@dataclass(frozen=True)
class HitRecord:
    """One warning answered: its id (the output's ``jr_id``), rule, severity, visit, amount."""

    warn_rslt_id: str
    rule_id: str
    severity: str
    mdtrt_id: str
    amount: float


@dataclass(frozen=True)
class CallRecord:
    """One call as ``check_call`` keeps it, with its warnings."""

    id: str
    at: str
    infno: str
    status: int
    ms: float
    fixmedins_code: str | None = None
    key_id: str | None = None
    trig_scen: str | None = None
    mdtrt_ids: tuple[str, ...] = ()
    psn_nos: tuple[str, ...] = ()
    n_lines: int = 0
    verdict: str | None = None
    hits: tuple[HitRecord, ...] = field(default=())

    def row(self) -> tuple[object, ...]:
        rules = sorted({h.rule_id for h in self.hits})
        return (
            self.id,
            self.at,
            self.fixmedins_code,
            self.key_id,
            self.infno,
            self.trig_scen,
            ",".join(self.mdtrt_ids) or None,
            ",".join(self.psn_nos) or None,
            self.n_lines,
            self.verdict,
            len(self.hits),
            ",".join(rules) or None,
            round(self.ms, 3),
            self.status,
        )


@dataclass(frozen=True)
class FeedbackItem:
    warn_rslt_id: str
    dspo_way: str
    reason: str


class UnknownWarnings(LookupError):
    """Feedback naming warnings this institution was never given; :attr:`ids` lists them."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        super().__init__(f"unknown warn_rslt_id: {', '.join(ids)}")


@dataclass
class _Feedback:
    call: CallRecord
    warn_type: str | None
    items: tuple[FeedbackItem, ...]
    done: Future[int]


_CALL_SQL = (
    "INSERT INTO check_call (id, at, fixmedins_code, key_id, infno, trig_scen, mdtrt_id, "
    "psn_no, n_lines, verdict, n_hits, rule_ids, ms, status) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_HIT_SQL = (
    "INSERT INTO check_hit (warn_rslt_id, call_id, rule_id, severity, mdtrt_id, amount) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _write_calls(con: sqlite3.Connection, calls: list[CallRecord]) -> None:
    con.executemany(_CALL_SQL, [c.row() for c in calls])
    con.executemany(
        _HIT_SQL,
        [
            (h.warn_rslt_id, c.id, h.rule_id, h.severity, h.mdtrt_id, h.amount)
            for c in calls
            for h in c.hits
        ],
    )


def _write_feedback(con: sqlite3.Connection, fb: _Feedback) -> int:
    """The feedback call and its rows, or :class:`UnknownWarnings` (nothing written)."""
    ids = [i.warn_rslt_id for i in fb.items]
    marks = ",".join("?" * len(ids))
    known = dict(
        con.execute(
            f"SELECT h.warn_rslt_id, h.rule_id FROM check_hit h JOIN check_call c "
            f"ON c.id = h.call_id WHERE c.fixmedins_code = ? AND h.warn_rslt_id IN ({marks})",
            (fb.call.fixmedins_code, *ids),
        ).fetchall()
    )
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        raise UnknownWarnings(unknown)
    _write_calls(con, [fb.call])
    con.executemany(
        "INSERT INTO check_feedback (warn_rslt_id, call_id, rule_id, warn_type, dspo_way, "
        "reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i.warn_rslt_id,
                fb.call.id,
                known[i.warn_rslt_id],
                fb.warn_type,
                i.dspo_way,
                i.reason,
                fb.call.at,
            )
            for i in fb.items
        ],
    )
    return len(fb.items)


class CallLog:
    """The background writer. :meth:`start` opens the store in its own thread (a SQLite
    connection belongs to one thread); :meth:`close` writes what is queued and stops."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._queue: queue.Queue[CallRecord | _Feedback | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        """Start the writer; the store's open error (e.g. a newer schema) is raised here."""
        self._thread = threading.Thread(target=self._run, name="check-call-log", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def log(self, call: CallRecord) -> None:
        """Queue one call for writing; returns at once."""
        self._queue.put(call)

    def feedback(
        self, call: CallRecord, warn_type: str | None, items: list[FeedbackItem], timeout: float
    ) -> int:
        """Write a 3103 call and its feedback after everything queued before it; the rows
        written, or :class:`UnknownWarnings` (then only the call is logged, by the caller)."""
        done: Future[int] = Future()
        self._queue.put(_Feedback(call, warn_type, tuple(items), done))
        return done.result(timeout)

    def flush(self) -> None:
        """Wait until every call queued so far is written."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        try:
            store = open_store(self.workspace)
        except BaseException as e:
            self._failure = e
            self._ready.set()
            return
        self._ready.set()
        with store:
            while True:
                batch = [self._queue.get()]
                while len(batch) < BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = self._write(store, batch)
                for _ in batch:
                    self._queue.task_done()
                if stop:
                    return

    def _write(self, store: CaseStore, batch: list[CallRecord | _Feedback | None]) -> bool:
        calls: list[CallRecord] = []
        for item in batch:
            if isinstance(item, CallRecord):
                calls.append(item)
                continue
            self._commit(store, calls)
            calls = []
            if item is None:
                return True
            try:
                with store.transaction() as con:
                    written = _write_feedback(con, item)
            except Exception as e:  # the caller answers it; the writer goes on
                item.done.set_exception(e)
            else:
                item.done.set_result(written)
        self._commit(store, calls)
        return False

    @classmethod
    def _commit(cls, store: CaseStore, calls: list[CallRecord]) -> None:
        """One transaction for the batch; if it fails, one per call, so a bad row loses
        itself only. The writer lives on whatever happens, or every later flush would hang."""
        if not calls:
            return
        try:
            with store.transaction() as con:
                _write_calls(con, calls)
        except Exception:
            if len(calls) > 1:
                for call in calls:
                    cls._commit(store, [call])
                return
            log.exception("check-call log: call %s not written (at %s)", calls[0].id, timestamp())
