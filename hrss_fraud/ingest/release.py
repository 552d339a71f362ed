"""Releasing quarantined rows once what they lacked has arrived.

A claim that names an institution or a person the lake does not know yet
(``unknown_institution``, ``unknown_person``), or a fee line whose settlement is not there
yet (``orphan_line``), is held in quarantine. When the register that knows them (or the
settlement) is loaded, those rows are re-checked: ``ingest`` does so at the end of a run
that loaded a register or settlements, and ``hrss-fraud ingest --retry-quarantine`` on
demand.

A row is released only when it passes every check again — the same validation and
reference checks as an upload, from the typed values the quarantine kept — and is then
committed to the lake in a batch of its own, like any accepted row (with its original
``_source_file`` and ``_line``). The quarantine is append-only: the original row stays, and
the same batch appends a *release record* for it (reason ``released``, ``released_seq`` and
``released_row`` naming the row released). A row with a release record is never released
again; what is still held is the quarantine without its released rows and release records
(``quarantine_held`` in :mod:`hrss_fraud.ingest.quality`). A row whose natural key the lake
already holds from a later upload (the institution sent its claims again) is not added a
second time: it gets a release record saying so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from hrss_fraud.ingest import references
from hrss_fraud.ingest.layouts import Detected, Layout
from hrss_fraud.ingest.validate import QUARANTINE_SCHEMA, SET_ASIDE, validate
from hrss_fraud.lake import Lake
from hrss_fraud.lake.store import LakeWriter
from hrss_fraud.lake.views import ident
from hrss_fraud.model.schema import TABLES

#: Reasons a later upload can cure, and the tables whose loading may cure them.
RELEASABLE = ("unknown_institution", "unknown_person", "orphan_line")
CURES = frozenset({"institution", "person", "settlement"})
#: The reason of a release record.
RELEASED = "released"
#: Tables whose rows may be held for a reference, in the order they are released.
ORDER = ("settlement", "fee_detail")
#: Rows re-checked at once (a county's worth of held claims stays bounded in memory).
CHUNK_ROWS = 200_000
RELEASE_SCHEMA = QUARANTINE_SCHEMA | {"released_seq": pl.Int64, "released_row": pl.Int64}

#: How the quarantine wrote typed values as text (``_quarantine_refs``): read back as such.
CANONICAL = Layout(
    name="canonical",
    description="typed values as the quarantine keeps them (release)",
    datetime_formats=("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"),
    code_map={},
    ignore=frozenset(),
)


@dataclass
class Released:
    """What one re-check of the quarantine did."""

    checked: int = 0  # held rows whose missing reference now exists, re-validated
    released: int = 0  # committed to the lake
    already_in_lake: int = 0  # closed: the lake holds a later upload of the same row
    still_held: int = 0  # held rows with a releasable reason left in quarantine
    by_reason: dict[str, int] = field(default_factory=dict)  # released, by original reason
    tables: dict[str, int] = field(default_factory=dict)  # released, by table
    batch_id: str | None = None

    def as_dict(self) -> dict:
        return {**vars(self), "by_reason": dict(self.by_reason), "tables": dict(self.tables)}


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {ident(name)}").fetchall()}


def held_sql(con: duckdb.DuckDBPyConnection, *, where: str = "true") -> str:
    """SQL of the quarantined rows not released, release records left out."""
    cols = _columns(con, "quarantine")
    if "reason" not in cols:  # an empty lake's quarantine view has lineage only
        return "SELECT * FROM quarantine WHERE false"
    if "released_seq" not in cols:
        return f"SELECT * FROM quarantine q WHERE {where}"
    return (
        f"SELECT * FROM quarantine q WHERE q.reason <> '{RELEASED}' AND {where} AND NOT EXISTS "
        "(SELECT 1 FROM quarantine r WHERE r.reason = 'released' "
        "AND r.released_seq = q._batch_seq AND r.released_row = q._row)"
    )


def _candidates(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, int]:
    """Held rows whose missing reference now exists (the others cannot pass), and how many
    held rows have a releasable reason at all."""
    reasons = ", ".join(f"'{r}'" for r in RELEASABLE)
    held = held_sql(con, where=f"q.reason IN ({reasons})")
    ((total,),) = con.execute(f"SELECT count(*) FROM ({held})").fetchall()
    if not total:
        return pl.DataFrame(), 0
    cured = """
        (h.reason = 'unknown_institution'
            AND h.fixmedins_code IN (SELECT fixmedins_code FROM institution))
        OR (h.reason = 'unknown_person'
            AND json_extract_string(h.raw, '$.psn_no') IN (SELECT psn_no FROM person))
        OR (h.reason = 'orphan_line' AND EXISTS (
            SELECT 1 FROM settlement_all s WHERE s.fixmedins_code = h.fixmedins_code
               AND s.setl_id = json_extract_string(h.raw, '$.setl_id')))
    """
    found = con.sql(
        f'SELECT h._batch_seq AS _q_seq, h._row AS _q_row, h._source_file, h._line, h."table", '
        f"h.fixmedins_code, h.reason, h.raw FROM ({held}) h WHERE {cured} "
        "ORDER BY h._batch_seq, h._row"
    ).pl()
    return found, int(total)


def _decode(rows: pl.DataFrame, table: str) -> tuple[pl.DataFrame, Detected]:
    """The held rows as the text columns validation reads, keyed by field name, with their
    set-aside values (JSON) and quarantine place carried along."""
    names = TABLES[table].names
    data: dict[str, list[str | None]] = {n: [] for n in names}
    aside: list[str | None] = []
    for text in rows["raw"]:
        doc = json.loads(text) if text else {}
        for n in names:
            v = doc.get(n)
            data[n].append(None if v is None else str(v))
        extra = doc.get(SET_ASIDE)
        aside.append(
            None if extra is None else json.dumps(extra, ensure_ascii=False, separators=(",", ":"))
        )
    frame = pl.DataFrame(data, schema=dict.fromkeys(names, pl.String)).with_columns(
        rows["_line"].cast(pl.Int64).alias("_line"),
        rows["_source_file"].alias("_source_file"),
        rows["_q_seq"].alias("_q_seq"),
        rows["_q_row"].alias("_q_row"),
        rows["reason"].alias("_q_reason"),
        pl.Series(SET_ASIDE, aside, dtype=pl.String),
    )
    present = [n for n in names if frame[n].null_count() < frame.height]
    det = Detected(CANONICAL, table, {n: n for n in present}, ())
    return frame.drop([n for n in names if n not in present]), det


def _later_versions(con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame) -> pl.Series:
    """For each row: whether the lake holds its natural key from a batch after the one that
    quarantined it (a later upload of the same row, which must not be superseded by it)."""
    key = list(TABLES[table].key)
    wanted = rows.select(*key, "_q_seq").with_row_index("_i")
    con.register("_release_wanted", wanted.to_arrow())
    try:
        on = " AND ".join(f"a.{ident(k)} = w.{ident(k)}" for k in key)
        hit = con.sql(
            f"SELECT DISTINCT w._i FROM _release_wanted w JOIN {ident(table + '_all')} a "
            f"ON {on} AND a._batch_seq > w._q_seq"
        ).pl()
    finally:
        con.unregister("_release_wanted")
    index = pl.Series("_i", range(rows.height), dtype=pl.UInt32)
    return index.is_in(hit["_i"].cast(pl.UInt32).implode())


def _records(rows: pl.DataFrame, table: str, note: str) -> pl.DataFrame:
    """Release records of ``rows`` (accepted, with their quarantine place)."""
    return rows.select(
        pl.col("_source_file"),
        pl.col("_line").cast(pl.Int64),
        pl.lit(table).alias("table"),
        pl.col("fixmedins_code"),
        pl.lit(RELEASED).alias("reason"),
        pl.format(
            "released:{} (held in batch {}, row {}); {}",
            pl.col("_q_reason"),
            pl.col("_q_seq"),
            pl.col("_q_row"),
            pl.lit(note),
        ).alias("detail"),
        pl.lit(None, pl.String).alias("raw"),
        pl.col("_q_seq").cast(pl.Int64).alias("released_seq"),
        pl.col("_q_row").cast(pl.Int64).alias("released_row"),
    )


def _released_chunks(
    con: duckdb.DuckDBPyConnection, held: pl.DataFrame, now: datetime | None, out: Released
) -> Iterator[tuple[str, pl.DataFrame]]:
    keys = references.KnownKeys(con)
    for table in ORDER:
        of_table = held.filter(pl.col("table") == table)
        for start in range(0, of_table.height, CHUNK_ROWS):
            rows = of_table.slice(start, CHUNK_ROWS)
            frame, det = _decode(rows, table)
            out.checked += frame.height
            carry = ("_q_seq", "_q_row", "_q_reason", SET_ASIDE)
            checked = validate(frame, det, now=now, carry=carry)
            good, _still_bad = references.check(table, checked.accepted, keys)
            if good.height == 0:
                continue
            later = _later_versions(con, table, good)
            again, good = good.filter(later), good.filter(~later)
            if again.height:
                out.already_in_lake += again.height
                note = "the lake holds a later upload of this row: not added again"
                yield "quarantine", _records(again, table, note).cast(RELEASE_SCHEMA)  # type: ignore[arg-type]
            if good.height == 0:
                continue
            keys.add_accepted(table, good)
            out.released += good.height
            out.tables[table] = out.tables.get(table, 0) + good.height
            for reason, n in good.group_by("_q_reason").len().iter_rows():
                out.by_reason[reason] = out.by_reason.get(reason, 0) + n
            lake_rows = good.drop("_q_seq", "_q_row", "_q_reason")
            if lake_rows[SET_ASIDE].null_count() == lake_rows.height:
                lake_rows = lake_rows.drop(SET_ASIDE)
            yield table, lake_rows
            note = f"committed to {table}"
            yield "quarantine", _records(good, table, note).cast(RELEASE_SCHEMA)  # type: ignore[arg-type]


def release(lake: Lake, writer: LakeWriter, *, now: datetime | None = None) -> Released:
    """Re-check the held rows with a releasable reason and commit those that pass, with
    their release records, in one batch (``writer``: the lake's writer, lock held)."""
    con = lake.connect()
    try:
        held, total = _candidates(con)
        out = Released(still_held=total)
        if held.height == 0:
            return out
        report: dict = {"kind": "release"}
        chunks = list(_released_chunks(con, held, now, out))
    finally:
        con.close()
    closed = out.released + out.already_in_lake
    out.still_held = total - closed
    if not closed:
        return out
    report.update(
        rows_read=out.checked,
        accepted=out.released,
        quarantined=0,
        released=out.released,
        released_by_reason=out.by_reason,
        already_in_lake=out.already_in_lake,
        still_held=out.still_held,
        tables=sorted(out.tables),
    )
    info = writer.commit_streaming(sources=[], chunks=iter(chunks), report=report)
    out.batch_id = info.batch_id
    return out


def release_quarantined(lake: Lake, *, now: datetime | None = None) -> Released:
    """:func:`release` under the lake's writer lock (what ``--retry-quarantine`` runs)."""
    with lake.writer() as writer:
        return release(lake, writer, now=now)
