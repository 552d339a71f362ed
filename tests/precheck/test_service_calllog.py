"""The check service's call log: calls written in the background, in order with feedback;
a bad row loses only itself and the writer goes on; feedback on warnings another
institution was given is refused with nothing written."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hrss_fraud.cases import open_store
from hrss_fraud.cases.store import timestamp
from hrss_fraud.precheck.calllog import (
    CallLog,
    CallRecord,
    FeedbackItem,
    HitRecord,
    UnknownWarnings,
)


def call(call_id: str, code: str = "H001", *hits: HitRecord) -> CallRecord:
    return CallRecord(
        id=call_id,
        at=timestamp(),
        infno="3102",
        status=200,
        ms=3.2,
        fixmedins_code=code,
        mdtrt_ids=("MD1",),
        psn_nos=("P1",),
        n_lines=4,
        verdict="block" if hits else "pass",
        hits=hits,
    )


def rows(ws: Path, sql: str) -> list[tuple]:
    with open_store(ws) as store:
        return store.query(sql)


def test_a_bad_row_loses_only_itself(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = CallLog(tmp_path)
    log.start()
    try:
        log.log(call("a", "H001", HitRecord("w1", "r1", "high", "MD1", 12.5)))
        log.log(call("a"))  # the same id again: refused by the store
        log.log(call("b"))
        with caplog.at_level(logging.ERROR, logger="hrss_fraud.precheck"):
            log.flush()
        assert "call a not written" in caplog.text
        log.log(call("c"))
        log.flush()
    finally:
        log.close()
    assert rows(tmp_path, "SELECT id, n_hits, rule_ids, verdict FROM check_call ORDER BY id") == [
        ("a", 1, "r1", "block"),
        ("b", 0, None, "pass"),
        ("c", 0, None, "pass"),
    ]
    assert rows(tmp_path, "SELECT warn_rslt_id, call_id, amount FROM check_hit") == [
        ("w1", "a", 12.5)
    ]


def test_feedback_follows_the_calls_queued_before_it(tmp_path: Path) -> None:
    log = CallLog(tmp_path)
    log.start()
    try:
        log.log(call("a", "H001", HitRecord("w1", "r1", "high", "MD1", 12.5)))
        done = log.feedback(
            CallRecord(id="f", at=timestamp(), infno="3103", status=200, ms=1.0,
                       fixmedins_code="H001"),
            "2",
            [FeedbackItem("w1", "1", "病情需要")],
            timeout=60,
        )  # fmt: skip
        assert done == 1
        with pytest.raises(UnknownWarnings) as refused:
            log.feedback(
                CallRecord(id="g", at=timestamp(), infno="3103", status=200, ms=1.0,
                           fixmedins_code="H002"),
                "2",
                [FeedbackItem("w1", "2", "")],
                timeout=60,
            )  # fmt: skip
        assert refused.value.ids == ["w1"]
    finally:
        log.close()
    kept = rows(
        tmp_path,
        "SELECT warn_rslt_id, call_id, rule_id, warn_type, dspo_way, reason FROM check_feedback",
    )
    assert kept == [("w1", "f", "r1", "2", "1", "病情需要")]
    assert rows(tmp_path, "SELECT id FROM check_call ORDER BY id") == [("a",), ("f",)]


def test_the_log_is_append_only(tmp_path: Path) -> None:
    log = CallLog(tmp_path)
    log.start()
    log.log(call("a"))
    log.close()
    with (
        open_store(tmp_path) as store,
        pytest.raises(Exception, match="append-only"),
        store.transaction() as con,
    ):
        con.execute("UPDATE check_call SET verdict = 'pass' WHERE id = 'a'")
