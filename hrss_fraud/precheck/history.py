"""The persons' history, prepared as the batch prepares it and kept at hand.

A snapshot is the batch's own :func:`hrss_fraud.engine.prepare.build` run over the lake's
manifest at one moment (so a nightly writing the lake meanwhile is not seen half-way),
restricted to the claims from ``since`` on, written to a DuckDB file of its own with the
``visit`` and ``line_base`` rows sorted by ``psn_no``: a check reads its person's rows by
the file's zone maps, a few row groups, and a county year's history (16 M lines) stays on
disk and in DuckDB's buffer pool instead of in Python frames (held as polars frames it
took 20 GB). The ``line`` view's definition is taken from the batch's database as it made
it, so the checked visit's lines are read through the very same view. The file is removed
when the snapshot is no longer used (after a refresh, once the checks on it are done).
"""

from __future__ import annotations

import re
import tempfile
import threading
import weakref
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hrss_fraud.engine.prepare import Scope, build
from hrss_fraud.knowledge import Knowledge
from hrss_fraud.lake import Lake

PERSON_COLUMNS = ("psn_no", "gend", "brdy", "die_date")
INSTITUTION_COLUMNS = (
    *("fixmedins_code", "hosp_lv", "fixmedins_type", "medins_type", "admdvs"),
    "fixmedins_name",
)
_CREATE_LINE = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+line\s+AS\s", re.IGNORECASE)


def _close(con: duckdb.DuckDBPyConnection, folder: tempfile.TemporaryDirectory[str]) -> None:
    con.close()
    folder.cleanup()


class Snapshot:
    """The prepared ``visit`` and ``line_base`` rows of every person and the person and
    institution registers, as of one lake manifest, read by any thread."""

    def __init__(
        self,
        folder: tempfile.TemporaryDirectory[str],
        line_view_sql: str,
        since: date | None,
        last_seq: int,
        memory_limit: str,
    ) -> None:
        self.path = Path(folder.name) / "history.duckdb"
        self.line_view_sql = line_view_sql
        self.since = since
        self.last_seq = last_seq
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._local = threading.local()
        self.visit_schema = self.sql("SELECT * FROM h_visit LIMIT 0").schema
        self.line_schema = self.sql("SELECT * FROM h_line_base LIMIT 0").schema
        self.n_visits = int(self.sql("SELECT count(*) AS n FROM h_visit")["n"][0])
        self.n_lines = int(self.sql("SELECT count(*) AS n FROM h_line_base")["n"][0])
        weakref.finalize(self, _close, self._con, folder)

    def sql(self, query: str, params: list[Any] | None = None) -> pl.DataFrame:
        """A query over the snapshot's tables (``h_visit``, ``h_line_base``, ``h_person``,
        ``h_institution``), on this thread's cursor."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._con.cursor()
        return cursor.sql(query, params=params).pl()

    def rows(self, psn_no: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The person's prepared visits and lines (empty frames for a person never seen)."""
        return (
            self.sql("SELECT * FROM h_visit WHERE psn_no = $1", [psn_no]),
            self.sql("SELECT * FROM h_line_base WHERE psn_no = $1", [psn_no]),
        )

    def registers(self, psn_no: str, fixmedins_code: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The person's and the institution's register rows (empty when unknown)."""
        return (
            self.sql("SELECT * FROM h_person WHERE psn_no = $1", [psn_no]),
            self.sql("SELECT * FROM h_institution WHERE fixmedins_code = $1", [fixmedins_code]),
        )

    @property
    def visit(self) -> pl.DataFrame:
        """Every prepared visit (for tests and benchmarks; a county's is large)."""
        return self.sql("SELECT * FROM h_visit ORDER BY psn_no, begntime")


def load_snapshot(
    lake: Lake, kb: Knowledge, lookback_days: int | None, memory_limit: str = "6GB"
) -> Snapshot:
    """Prepare the lake's claims the batch's way: those of the ``lookback_days`` before
    the lake's newest claim on (every claim when None)."""
    last_seq = max((b.seq for b in lake.batches()), default=0)
    folder = tempfile.TemporaryDirectory(prefix="precheck-snapshot-")
    path = Path(folder.name) / "history.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{Path(folder.name) / 'spill'}'")
        lake.connect(con, index=False)
        since = None
        if lookback_days is not None:
            newest = con.execute("SELECT max(begntime) FROM settlement").fetchall()[0][0]
            if newest is not None:
                since = newest.date() - timedelta(days=lookback_days + 1)
        scope = None
        if since is not None:
            nobody = pl.DataFrame(schema={"psn_no": pl.String})
            scope = Scope(persons=nobody, window_start=since, new_from=since, months_from=since)
        build(con, lake, kb, scope)
        views = con.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = 'line' AND NOT internal"
        ).fetchall()
        view = views[0][0] if views else ""
        if not _CREATE_LINE.match(view):
            msg = f"the batch's line view has an unexpected definition: {view[:80]!r}"
            raise RuntimeError(msg)
        con.execute("CREATE TABLE h_visit AS SELECT * FROM visit ORDER BY psn_no, begntime")
        con.execute(
            "CREATE TABLE h_line_base AS SELECT * FROM line_base ORDER BY psn_no, fee_ocur_time"
        )
        con.execute(
            f"CREATE TABLE h_person AS SELECT {', '.join(PERSON_COLUMNS)} FROM person "
            "ORDER BY psn_no"
        )
        con.execute(
            f"CREATE TABLE h_institution AS SELECT {', '.join(INSTITUTION_COLUMNS)} "
            "FROM institution ORDER BY fixmedins_code"
        )
        con.execute("DROP VIEW line")
        con.execute("DROP TABLE line_base")
        con.execute("DROP TABLE visit")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        folder.cleanup()
        raise
    con.close()
    line_view = _CREATE_LINE.sub("CREATE OR REPLACE VIEW line AS ", view.rstrip("; \n"))
    return Snapshot(folder, line_view, since, last_seq, memory_limit="1GB")
