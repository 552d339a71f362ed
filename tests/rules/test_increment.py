"""The reach of an incremental run and how its findings merge with the previous run's."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.prepare import Scope
from hrss_fraud.scoring.increment import merge, new_claims_scope, rescored

CAT = load_catalogue()
PERSON_RULE = CAT.rules["frequent_outpatient"]  # person scope, looks back
INST_RULE = CAT.rules["zb_drug_share"]  # institution scope: peers by month


def _lake(rows: list[tuple[str, str, int, datetime]]) -> duckdb.DuckDBPyConnection:
    """Settlement and fee views as the lake presents them: (psn, inst, batch, time)."""
    con = duckdb.connect()
    df = pl.DataFrame(rows, schema=["psn_no", "fixmedins_code", "_batch_seq", "t"], orient="row")
    con.register("_rows", df)
    con.execute("CREATE VIEW settlement_all AS SELECT *, t AS begntime FROM _rows")
    con.execute("CREATE VIEW fee_detail_all AS SELECT *, t AS fee_ocur_time FROM _rows")
    return con


def test_the_reach_starts_at_the_earliest_new_date_late_uploads_included() -> None:
    con = _lake(
        [
            ("P1", "H1", 1, datetime(2025, 1, 5)),
            ("P2", "H1", 2, datetime(2025, 3, 3)),
            ("P3", "H2", 2, datetime(2025, 2, 20)),  # a late upload in the new batch
        ]
    )
    scope = new_claims_scope(con, 1, [PERSON_RULE, INST_RULE])
    assert scope is not None
    assert sorted(scope.persons["psn_no"].to_list()) == ["P2", "P3"]
    assert scope.new_from == date(2025, 2, 20)
    assert scope.window_start == date(2025, 2, 20) - timedelta(days=PERSON_RULE.lookback_days)
    inst_from = date(2025, 2, 20) - timedelta(days=INST_RULE.lookback_days)
    assert scope.months_from == inst_from.replace(day=1)
    assert new_claims_scope(con, 2, [PERSON_RULE]) is None  # nothing after batch 2


def _findings(rows: list[tuple[str, str, str, date, date]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["finding_id", "rule_id", "psn_no", "period_start", "period_end"],
        orient="row",
    )


def test_merge_keeps_what_the_new_uploads_cannot_change_and_replaces_the_rest() -> None:
    scope = Scope(
        persons=pl.DataFrame({"psn_no": ["P2"]}),
        window_start=date(2024, 12, 1),
        new_from=date(2025, 3, 1),
        months_from=date(2025, 2, 1),
    )
    p, i = PERSON_RULE.id, INST_RULE.id
    old = _findings(
        [
            ("a", p, "P1", date(2025, 3, 1), date(2025, 3, 5)),  # untouched person: kept
            ("b", p, "P2", date(2025, 1, 1), date(2025, 1, 9)),  # ends before new: kept
            ("c", p, "P2", date(2025, 2, 1), date(2025, 3, 2)),  # re-scored: dropped
            ("d", i, None, date(2025, 1, 1), date(2025, 1, 31)),  # month before reach: kept
            ("e", i, None, date(2025, 2, 1), date(2025, 2, 28)),  # re-scored: dropped
        ]
    )
    new = _findings(
        [
            ("c2", p, "P2", date(2025, 2, 1), date(2025, 3, 4)),
            ("x", p, "P2", date(2025, 1, 1), date(2025, 1, 9)),  # outside reach: discarded
            ("e", i, None, date(2025, 2, 1), date(2025, 2, 28)),
        ]
    )
    assert rescored(old, scope, CAT.rules).to_list() == [False, False, True, False, True]

    def lines(f: pl.DataFrame) -> pl.DataFrame:
        return f.select("finding_id", "psn_no", role=pl.lit("violating")).with_columns(
            *(pl.lit(None, pl.String).alias(c) for c in ("fixmedins_code", "setl_id")),
            *(pl.lit(None, pl.String).alias(c) for c in ("mdtrt_id", "feedetl_sn")),
            line_time=pl.lit(None, pl.Datetime),
            amount_at_risk=pl.lit(1.0),
        )

    f, ln = merge((old, lines(old)), (new, lines(new)), scope, CAT.rules, "r2")
    assert f["finding_id"].to_list() == ["a", "b", "c2", "d", "e"]
    assert sorted(ln["finding_id"].to_list()) == ["a", "b", "c2", "d", "e"]
    assert f["run_id"].unique().to_list() == ["r2"]
    # a rule that failed in this run keeps every previous finding
    f, _ = merge(
        (old, lines(old)), (new.head(0), lines(new.head(0))), scope, CAT.rules, "r2", {p, i}
    )
    assert f["finding_id"].to_list() == ["a", "b", "c", "d", "e"]
