"""The checker's history: refreshed from the lake after a new batch, the old snapshot still
whole for the checks that started on it; rules a check does not run are named with why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.engine.catalogue import CatalogueError
from hrss_fraud.lake import Lake
from hrss_fraud.model.schema import TABLES
from hrss_fraud.precheck.checker import Checker
from hrss_fraud.precheck.replay import replay_visit
from hrss_fraud.precheck.workdb import WorkDb
from tests.helpers.shared import copy_workspace

RULES = ["claim_during_stay", "duplicate_line"]


def _new_claim(lake: Lake, setl: dict[str, object]) -> None:
    """Commit a copy of settlement ``setl`` and its lines, a day later, as a new batch."""
    con = lake.connect(index=False)
    try:
        where = f"fixmedins_code = '{setl['fixmedins_code']}' AND setl_id = '{setl['setl_id']}'"
        s = con.sql(f"SELECT * FROM settlement WHERE {where}").pl()
        f = con.sql(f"SELECT * FROM fee_detail WHERE {where}").pl()
    finally:
        con.close()
    later = {c: pl.col(c) + timedelta(days=1) for c in ("begntime", "endtime", "setl_time")}
    s = s.with_columns(setl_id=pl.lit("NEW-S"), mdtrt_id=pl.lit("NEW-M"), **later)
    f = f.with_columns(
        setl_id=pl.lit("NEW-S"),
        mdtrt_id=pl.lit("NEW-M"),
        fee_ocur_time=pl.col("fee_ocur_time") + timedelta(days=1),
    )
    with lake.writer() as w:
        w.commit(
            sources=[{"path": "test-new-claim", "sha256": "0" * 64, "size": 1}],
            tables={
                "settlement": s.select(TABLES["settlement"].names),
                "fee_detail": f.select(TABLES["fee_detail"].names),
            },
            quarantine=None,
            report={},
        )


def test_refresh_sees_a_new_batch_and_leaves_the_old_snapshot_whole(
    scored_tiny_county: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(scored_tiny_county, tmp_path / "ws", parts=("lake",))
    checker = Checker(ws, RULES)
    old = checker.snapshot
    setl = old.visit.filter(pl.col("setting") == "op").sort("setl_id").row(0, named=True)
    psn = str(setl["psn_no"])
    in_flight = WorkDb(old, checker.knowledge)  # a check that started before the refresh
    _new_claim(Lake(ws / "lake"), setl)
    checker.refresh()
    new = checker.snapshot
    assert new is not old and new.last_seq == old.last_seq + 1
    assert "NEW-S" in new.rows(psn)[0]["setl_id"].to_list()
    assert "NEW-S" not in old.rows(psn)[0]["setl_id"].to_list()
    assert new.rows(psn)[1].filter(pl.col("setl_id") == "NEW-S").height == (
        old.rows(psn)[1].filter(pl.col("setl_id") == setl["setl_id"]).height
    )
    # the check in flight reads the old history to the end
    in_flight.load(replay_visit(old, str(setl["fixmedins_code"]), str(setl["setl_id"])))
    ids = in_flight.con.sql("SELECT setl_id FROM visit").pl()["setl_id"].to_list()
    assert "NEW-S" not in ids and setl["setl_id"] in ids
    in_flight.close()
    # a check after the refresh has the new claim as history
    visit = replay_visit(new, str(setl["fixmedins_code"]), str(setl["setl_id"]))
    checker.check(visit)
    db = checker._local.db  # the thread's database, loaded by that check
    assert "NEW-S" in db.con.sql("SELECT setl_id FROM visit").pl()["setl_id"].to_list()


def test_rules_not_checked_on_one_visit_are_named_with_the_reason(
    scored_tiny_county: Path,
) -> None:
    with pytest.raises(CatalogueError, match="pp_cost_per_visit: institution-level"):
        Checker(scored_tiny_county, ["item_sex", "pp_cost_per_visit"])
    with pytest.raises(CatalogueError, match=r"unknown rule.*no_such_rule"):
        Checker(scored_tiny_county, ["no_such_rule"])
