"""The latest version per natural key, optionally of the keys some stored version matches
(an incremental run ranks only its visits' lines)."""

from __future__ import annotations

import duckdb

from hrss_fraud.lake.views import latest_sql
from hrss_fraud.model.schema import TABLES


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE fee_detail_all AS SELECT * FROM (VALUES
            ('H1', 'M1', '1', 'S1', 1, 0),   -- line 1, first upload
            ('H1', 'M1', '1', 'S9', 2, 0),   -- line 1 corrected: now in settlement S9
            ('H1', 'M1', '2', 'S1', 1, 1),   -- line 2, one version
            ('H1', 'M2', '1', 'S2', 1, 2),   -- another visit
            ('H1', 'M2', '1', 'S2', 1, 3)    -- the same batch again: the last row wins
        ) AS t(fixmedins_code, mdtrt_id, feedetl_sn, setl_id, _batch_seq, _row)
    """)
    return con


def test_every_key_gets_its_latest_version() -> None:
    rows = _con().execute(
        latest_sql(TABLES["fee_detail"], "mdtrt_id, feedetl_sn, setl_id, _row") + " ORDER BY ALL"
    )
    assert rows.fetchall() == [("M1", "1", "S9", 0), ("M1", "2", "S1", 1), ("M2", "1", "S2", 3)]


def test_keys_matched_by_an_old_version_still_get_their_latest() -> None:
    """Asking for settlement S1's lines ranks every version of line 1: its correction,
    which moved it to S9, wins, so the caller does not read the stale version."""
    sql = latest_sql(TABLES["fee_detail"], "mdtrt_id, feedetl_sn, setl_id", "setl_id = 'S1'")
    rows = _con().execute(sql + " ORDER BY ALL").fetchall()
    assert rows == [("M1", "1", "S9"), ("M1", "2", "S1")]
