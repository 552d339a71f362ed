"""The persons' history, prepared as the batch prepares it and kept warm in memory.

A snapshot is the batch's own :func:`hrss_fraud.engine.prepare.build` run over the lake's
manifest at one moment (so a nightly writing the lake meanwhile is not seen half-way),
restricted to the claims from ``since`` on, and held as two polars frames sorted by
``psn_no`` with each person's row range: a check slices its person's rows out without a
copy. The ``line`` view's definition is taken from the batch's database as it made it, so
the checked visit's lines are read through the very same view.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta

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


def _ranges(frame: pl.DataFrame, key: str = "psn_no") -> dict[str, tuple[int, int]]:
    """``key`` → (offset, length) of a frame sorted by ``key``."""
    runs = frame.select(pl.col(key).rle()).unnest(key)
    offsets = runs["len"].cum_sum() - runs["len"]
    ranges = zip(offsets.to_list(), runs["len"].to_list(), strict=True)
    return dict(zip(runs["value"].to_list(), ranges, strict=True))


@dataclass(frozen=True)
class Snapshot:
    """The prepared ``visit`` and ``line_base`` rows of every person, the person and
    institution registers, and the ``line`` view's SQL, as of one lake manifest."""

    visit: pl.DataFrame
    line_base: pl.DataFrame
    person: pl.DataFrame
    institution: pl.DataFrame
    line_view_sql: str
    since: date | None
    last_seq: int
    visit_ranges: dict[str, tuple[int, int]]
    line_ranges: dict[str, tuple[int, int]]
    person_ranges: dict[str, tuple[int, int]]
    institution_ranges: dict[str, tuple[int, int]]

    def rows(self, psn_no: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The person's prepared visits and lines (empty frames for a person never seen)."""
        v0, vn = self.visit_ranges.get(psn_no, (0, 0))
        l0, ln = self.line_ranges.get(psn_no, (0, 0))
        return self.visit.slice(v0, vn), self.line_base.slice(l0, ln)

    def registers(self, psn_no: str, fixmedins_code: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The person's and the institution's register rows (empty when unknown)."""
        p0, pn = self.person_ranges.get(psn_no, (0, 0))
        i0, i_n = self.institution_ranges.get(fixmedins_code, (0, 0))
        return self.person.slice(p0, pn), self.institution.slice(i0, i_n)


def load_snapshot(
    lake: Lake, kb: Knowledge, lookback_days: int | None, memory_limit: str = "6GB"
) -> Snapshot:
    """Prepare the lake's claims the batch's way: those of the ``lookback_days`` before
    the lake's newest claim on (every claim when None)."""
    last_seq = max((b.seq for b in lake.batches()), default=0)
    spill = tempfile.TemporaryDirectory(prefix="precheck-snapshot-")
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{spill.name}'")
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
        visit = con.sql("SELECT * FROM visit ORDER BY psn_no, begntime").pl()
        line_base = con.sql("SELECT * FROM line_base ORDER BY psn_no, fee_ocur_time").pl()
        person = con.sql(f"SELECT {', '.join(PERSON_COLUMNS)} FROM person").pl()
        institution = con.sql(f"SELECT {', '.join(INSTITUTION_COLUMNS)} FROM institution").pl()
    finally:
        con.close()
        spill.cleanup()
    person = person.sort("psn_no")
    institution = institution.sort("fixmedins_code")
    return Snapshot(
        visit=visit,
        line_base=line_base,
        person=person,
        institution=institution,
        line_view_sql=_CREATE_LINE.sub("CREATE OR REPLACE VIEW line AS ", view.rstrip("; \n")),
        since=since,
        last_seq=last_seq,
        visit_ranges=_ranges(visit),
        line_ranges=_ranges(line_base),
        person_ranges=_ranges(person),
        institution_ranges=_ranges(institution, "fixmedins_code"),
    )
