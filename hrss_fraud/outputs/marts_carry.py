"""Carrying marts over from the previous run: a nightly increment re-scores a day's reach
and keeps every other lead as it was, so most of a lead-keyed mart is the previous run's,
row for row. Rebuilding it whole (every lead line joined with the lake's fee lines) took
most of the nightly's mart time.

A lead is *fresh* when this run's lead differs from the previous run's (its row or its
lines) or is new, or when one of its lines points into a visit or settlement that an
upload since the previous run touched (a correction changes what the lake says about the
line). Everything else is copied from the previous run's mart; the fresh part is computed
as a full build would and the two, each sorted by the mart's key, are merged in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.engine import line_parts
from hrss_fraud.lake.views import literal
from hrss_fraud.outputs.runs_view import RunView, marts_dir, read_marts_manifest

_MOD = 1_000_000_007  # keeps a lead's summed line hashes far below 2**63
_KEYS = ("fixmedins_code", "setl_id", "mdtrt_id")
_UNHASHED = ("finding_id", "run_id", "case_id", "case_rank")
"""Columns a lead's row hash leaves out: its id, its run, and its case, which no carried
mart holds (a new case shifts the ranks of many leads every night: they would all be
computed again)."""


@dataclass(frozen=True)
class Carry:
    """What may be copied from the previous run's marts."""

    previous: RunView
    marts: dict[str, str]
    """Mart name → file of the previous run's complete marts."""
    fresh: pl.DataFrame
    """``finding_id`` of this run's leads whose mart rows are computed anew."""
    touched_persons: pl.DataFrame
    """``psn_no`` of every person with a settlement uploaded since the previous run (any
    version of a touched settlement, so a person a correction moved away is included)."""

    def mart(self, name: str) -> Path | None:
        file = self.marts.get(name)
        return marts_dir(self.previous.workspace, self.previous.run_id) / file if file else None


def lead_hashes(view: RunView, previous: RunView | None = None) -> pl.DataFrame:
    """Per lead, a hash of its row (the run id aside) and of its lines: kept as the
    ``lead_hashes`` mart, so the next night compares its leads with these instead of
    hashing this run again. The leads of the rules whose line file this run took from
    ``previous`` unchanged (:func:`unchanged_rules`) keep ``previous``'s hashes: only the
    rules it wrote are hashed."""
    same = unchanged_rules(view, previous)
    kept = read_marts_manifest(previous.workspace, previous.run_id) if previous else None
    if not same or not kept or "lead_hashes" not in kept:
        return _finding_hashes(view).sort("finding_id").collect()
    assert previous is not None
    ids = pl.scan_parquet(view.findings_path).filter(pl.col("rule_id").is_in(list(same)))
    ids = ids.select("finding_id").collect()
    path = marts_dir(previous.workspace, previous.run_id) / kept["lead_hashes"]
    old = pl.scan_parquet(path).join(ids.lazy(), on="finding_id", how="semi").collect()
    if old.height != ids.height:  # hashes missing from the previous marts: hash them all
        return _finding_hashes(view).sort("finding_id").collect()
    fresh = _finding_hashes(view, skip=same).collect()
    return pl.concat([old, fresh], how="vertical_relaxed").sort("finding_id")


def unchanged_rules(view: RunView, previous: RunView | None) -> set[str]:
    """The lead rules whose line file this run took unchanged from ``previous``, the run
    it was scored on (the same writer in both manifests' ``line_parts``): their leads are
    ``previous``'s row for row, the run and case columns aside."""
    if previous is None or view.manifest.get("previous_run") != previous.run_id:
        return set()
    now = view.manifest.get(line_parts.PARTS_KEY, {}).get(line_parts.LEAD, {})
    before = previous.manifest.get(line_parts.PARTS_KEY, {}).get(line_parts.LEAD, {})
    return {
        r
        for r, entry in now.items()
        if r in before and before[r].get("written_by") == entry.get("written_by")
    }


def _finding_hashes(view: RunView, skip: set[str] = frozenset()) -> pl.LazyFrame:  # type: ignore[assignment]
    """Per lead, a hash of its row (the run id aside) and of its lines; ``skip``: the rules
    whose leads are left out (their line files are not read)."""
    findings = pl.scan_parquet(view.findings_path)
    columns = [c for c in findings.collect_schema().names() if c not in _UNHASHED]
    if skip:
        findings = findings.filter(~pl.col("rule_id").is_in(list(skip)))
    rows = findings.select("finding_id", row_hash=pl.struct(columns).hash())
    lines = pl.scan_parquet(view.lines_path)
    if skip and view.run.partitioned:  # only the files of the rules hashed
        files = [
            line_parts.part_path(view.run.root, line_parts.LEAD, r)
            for r in view.manifest.get(line_parts.PARTS_KEY, {}).get(line_parts.LEAD, {})
            if r not in skip
        ]
        lines = pl.scan_parquet(files) if files else lines.head(0)
    line_cols = [c for c in lines.collect_schema().names() if c != "finding_id"]
    per_lead = lines.group_by("finding_id").agg(
        lines_hash=(pl.struct(line_cols).hash() % _MOD).cast(pl.Int64).sum(), n=pl.len()
    )
    return rows.join(per_lead, on="finding_id", how="left")


def _touched(view: RunView, since: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Visits (``fixmedins_code, mdtrt_id``) and settlements (``fixmedins_code, setl_id``)
    with a row in a batch after ``since``, and every person any version of those
    settlements names."""
    con = view.lake.connect()
    try:
        visits = con.sql(
            f"""SELECT DISTINCT fixmedins_code, mdtrt_id FROM fee_detail_all
                WHERE _batch_seq > {int(since)}
                UNION SELECT DISTINCT fixmedins_code, mdtrt_id FROM settlement_all
                WHERE _batch_seq > {int(since)}"""
        ).pl()
        settlements = con.sql(
            f"""SELECT DISTINCT fixmedins_code, setl_id FROM settlement_all
                WHERE _batch_seq > {int(since)}"""
        ).pl()
        con.register("touched_settlements", settlements)
        persons = con.sql(
            """SELECT DISTINCT s.psn_no FROM settlement_all s
               SEMI JOIN touched_settlements t USING (fixmedins_code, setl_id)
               WHERE s.psn_no IS NOT NULL"""
        ).pl()
    finally:
        con.close()
    return visits, settlements, persons


def plan_carry(view: RunView, previous: RunView | None, hashes: pl.DataFrame) -> Carry | None:
    """What this run's marts may copy from ``previous``'s, or None for a full build: the
    previous run must be the one this run was scored on top of, with complete marts.
    ``hashes`` are this run's :func:`lead_hashes`."""
    if previous is None or view.manifest.get("previous_run") != previous.run_id:
        return None
    marts = read_marts_manifest(previous.workspace, previous.run_id)
    if marts is None:
        return None
    since = int(previous.manifest["lake"]["last_seq"])
    visits, settlements, persons = _touched(view, since)
    kept = marts.get("lead_hashes")
    before = (
        pl.scan_parquet(marts_dir(previous.workspace, previous.run_id) / kept)
        if kept
        else _finding_hashes(previous)
    )
    key = ["finding_id", "row_hash", "lines_hash", "n"]
    changed = hashes.lazy().join(before, on=key, how="anti")
    lines = pl.scan_parquet(view.lines_path).select("finding_id", *_KEYS)
    hit = pl.concat(
        [
            lines.join(visits.lazy(), on=["fixmedins_code", "mdtrt_id"], how="semi"),
            lines.join(settlements.lazy(), on=["fixmedins_code", "setl_id"], how="semi"),
        ]
    ).select("finding_id")
    fresh = pl.concat([changed.select("finding_id"), hit]).unique().collect()
    return Carry(previous, marts, fresh.sort("finding_id"), persons)


def merge_into(
    carried: pl.LazyFrame, fresh: pl.LazyFrame, key: str, path: Path, row_group: int
) -> None:
    """Write ``carried`` and ``fresh`` (each sorted by ``key``, no key in both) to ``path``
    in ``key`` order, streaming."""
    carried.merge_sorted(fresh, key).sink_parquet(
        path, compression="zstd", row_group_size=row_group, statistics=True
    )


def carried_rows(carry: Carry, mart: str, key: str, keep: pl.DataFrame) -> pl.LazyFrame:
    """The previous run's mart ``mart``, in its order, restricted to ``keep``'s ``key``s."""
    path = carry.mart(mart)
    if path is None:
        msg = f"the previous run's marts have no {mart!r}"
        raise KeyError(msg)
    return pl.scan_parquet(path).filter(pl.col(key).is_in(keep[key].implode()))


def fresh_lines(view: RunView, con: duckdb.DuckDBPyConnection, fresh: pl.DataFrame) -> None:
    """Define ``lead_lines`` on ``con`` as this run's lines of the ``fresh`` leads."""
    con.register("fresh_ids", fresh)
    lines = literal(str(view.lines_path))
    con.execute(
        f"CREATE OR REPLACE VIEW lead_lines AS SELECT * FROM read_parquet({lines}) "
        "SEMI JOIN fresh_ids USING (finding_id)"
    )


def timeline_redo(view: RunView, carry: Carry) -> pl.DataFrame | None:
    """``psn_no`` of the persons whose ``person_timeline`` rows must be computed anew, or
    None when every person's must (an institution's record changed since: its name is on
    every row there). A person's rows change with a settlement or fee line of theirs
    uploaded since the previous run, or with a lead on their lines that is fresh or gone."""
    since = int(carry.previous.manifest["lake"]["last_seq"])
    con = view.lake.connect()
    try:
        registry = con.sql(f"SELECT count(*) FROM institution_all WHERE _batch_seq > {since}")
        if registry.fetchall()[0][0]:
            return None
        billed = con.sql(  # every version's person: a correction may move a line
            f"""SELECT DISTINCT psn_no FROM fee_detail_all
                SEMI JOIN (SELECT fixmedins_code, mdtrt_id, feedetl_sn FROM fee_detail_all
                           WHERE _batch_seq > {since})
                     USING (fixmedins_code, mdtrt_id, feedetl_sn)"""
        ).pl()
    finally:
        con.close()
    ids = pl.scan_parquet(view.findings_path).select("finding_id")
    gone = pl.scan_parquet(carry.previous.findings_path).select("finding_id")
    gone = gone.join(ids, on="finding_id", how="anti")
    led = [
        pl.scan_parquet(view.lines_path).join(carry.fresh.lazy(), on="finding_id", how="semi"),
        pl.scan_parquet(carry.previous.lines_path).join(gone, on="finding_id", how="semi"),
    ]
    persons = pl.concat(
        [carry.touched_persons.lazy(), billed.lazy(), *(p.select("psn_no") for p in led)]
    )
    return persons.drop_nulls().unique().sort("psn_no").collect()
