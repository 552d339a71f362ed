"""The claims lake: append-only Parquet batches, one writer at a time, committed atomically.

A batch's files are written first (each atomically); appending the batch to the manifest
is the commit. A crash before that leaves only orphan files, which the next writer deletes
before it writes anything; readers never see them because views list committed files only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hrss_fraud.lake import fsutil
from hrss_fraud.lake.lock import writer_lock
from hrss_fraud.lake.manifest import MANIFEST, BatchInfo, read_manifest, report_path, write_manifest
from hrss_fraud.lake.views import LINEAGE, QUARANTINE, create_views, ident
from hrss_fraud.model.schema import CLAIM_TABLES, TABLES

log = logging.getLogger(__name__)

LOCK = "writer.lock"
#: The column that puts a claim row in its month partition.
MONTH_COLUMN = {"settlement": "setl_time", "fee_detail": "fee_ocur_time"}
UNKNOWN_MONTH = "unknown"
#: Folders under the root that hold batch files; anything there no batch lists is an orphan.
DATA_DIRS = ("tables", QUARANTINE, "reports")
_ID_TIME = "%Y%m%dT%H%M%SZ"


class Lake:
    """A claims lake rooted at ``root`` (normally ``WORKSPACE/lake``); folders appear lazily."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @contextlib.contextmanager
    def writer(self) -> Iterator[LakeWriter]:
        """Hold the exclusive writer lock, clean up after any crashed writer, then write."""
        fsutil.private_dirs(self.root)
        with writer_lock(self.root / LOCK):
            self._recover()
            writer = LakeWriter(self)
            try:
                yield writer
            finally:
                writer.closed = True

    def batches(self) -> list[BatchInfo]:
        """The committed batches in seq order (no lock: the manifest is replaced atomically)."""
        return read_manifest(self.root)

    def known_sha256(self) -> set[str]:
        """Checksums of every source file of a committed batch, to detect re-uploads."""
        return {s["sha256"] for b in self.batches() for s in b.sources if s.get("sha256")}

    def connect(
        self, con: duckdb.DuckDBPyConnection | None = None, *, index: bool = True
    ) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection (or ``con``) with views over the committed batches.

        The views are a snapshot: call again to see batches committed since. With
        ``index`` (the default) the latest views read through the superseded-rows index
        (:mod:`~hrss_fraud.lake.superseded`), as scoring does (its rules choose among rows
        by key, never by the order they come in); without, they rank every version.
        """
        target = con if con is not None else duckdb.connect()
        return create_views(target, self.root, self.batches(), index=index)

    def snapshot_totals(self) -> dict[str, int]:
        """Rows per table (latest versions) and quarantined rows, for tests and reports."""
        con = self.connect()
        try:
            names = [*TABLES, QUARANTINE]
            return {
                n: int(con.execute(f"SELECT count(*) FROM {ident(n)}").fetchone()[0])  # type: ignore[index]
                for n in names
            }
        finally:
            con.close()

    def _recover(self) -> list[Path]:
        """Delete files no committed batch lists (left by a crashed writer); return them.

        Only safe under the writer lock: a live writer's files are uncommitted too.
        """
        committed = {MANIFEST}
        for b in self.batches():
            committed.update(b.files)
            committed.add(report_path(b.batch_id))
        candidates = [p for p in self.root.glob("*") if p.name.endswith(fsutil.TMP_SUFFIX)]
        for d in DATA_DIRS:
            candidates += [p for p in (self.root / d).rglob("*") if p.is_file()]
        removed = []
        for path in candidates:
            if path.relative_to(self.root).as_posix() not in committed:
                path.unlink(missing_ok=True)
                removed.append(path)
        for parent in {p.parent for p in removed}:
            fsutil.fsync_dir(parent)
        if removed:
            log.warning(
                "lake recovery deleted %d uncommitted file(s) under %s", len(removed), self.root
            )
        return removed


def new_batch_id(previous: str | None) -> str:
    """``YYYYMMDDTHHMMSSZ-<8 hex>``, strictly after ``previous`` even if the clock stepped back."""
    now = datetime.now(UTC).replace(microsecond=0)
    if previous:
        last = datetime.strptime(previous.split("-")[0], _ID_TIME).replace(tzinfo=UTC)
        now = max(now, last)
    candidate = f"{now:{_ID_TIME}}-{secrets.token_hex(4)}"
    if previous and candidate <= previous:
        candidate = f"{now + timedelta(seconds=1):{_ID_TIME}}-{secrets.token_hex(4)}"
    return candidate


def conform(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns first, in the schema's dtypes (missing ones null); extras kept after."""
    schema = TABLES[table].polars_schema()
    lineage = [c for c in LINEAGE if c in df.columns]
    if lineage:
        msg = f"{table}: columns {lineage} are set by the lake; drop them before commit"
        raise ValueError(msg)
    try:
        canonical = [
            pl.col(n).cast(t, strict=True) if n in df.columns else pl.lit(None, dtype=t).alias(n)
            for n, t in schema.items()
        ]
        extras = [c for c in df.columns if c not in schema]
        return df.select(*canonical, *extras)
    except pl.exceptions.PolarsError as exc:
        msg = f"{table}: cannot cast to the canonical dtypes ({exc}); type the frame first"
        raise ValueError(msg) from exc


class _Batch:
    """Files of one batch as they are written, before the commit."""

    def __init__(self, lake: Lake, batch_id: str, seq: int, *, parts: bool) -> None:
        self.lake, self.batch_id, self.seq, self.parts = lake, batch_id, seq, parts
        self.files: list[str] = []
        self.rows: dict[str, int] = {}
        self.n_parts = 0

    def _write(self, rel: str, df: pl.DataFrame) -> None:
        fsutil.write_parquet_atomic(self.lake.root / rel, df, label="data")
        self.files.append(rel)
        fsutil.checkpoint("data_file_written")

    def add(self, table: str, df: pl.DataFrame) -> None:
        if table != QUARANTINE and table not in TABLES:
            msg = f"unknown table {table!r}; known tables: {', '.join(TABLES)}, {QUARANTINE}"
            raise KeyError(msg)
        if table != QUARANTINE:
            df = conform(table, df)
        first = self.rows.get(table, 0)
        self.rows[table] = first + df.height
        if df.height == 0:
            return
        df = df.with_columns(
            pl.lit(self.seq, dtype=pl.Int64).alias("_batch_seq"),
            pl.int_range(first, first + df.height, dtype=pl.Int64).alias("_row"),
        )
        self.n_parts += 1
        name = (
            f"{self.batch_id}-{self.n_parts}.parquet" if self.parts else f"{self.batch_id}.parquet"
        )
        if table == QUARANTINE:
            self._write(f"{QUARANTINE}/{name}", df)
        elif table in CLAIM_TABLES:
            month = pl.col(MONTH_COLUMN[table]).dt.strftime("%Y%m").fill_null(UNKNOWN_MONTH)
            months = df.select(month.alias("_month")).to_series()
            if months.n_unique() == 1:  # one month (a monthly upload): no copy
                by_month = {(months[0],): df}
            else:
                by_month = df.with_columns(months).partition_by(
                    "_month", maintain_order=True, include_key=False, as_dict=True
                )
            for (m,), part in by_month.items():
                self._write(f"tables/{table}/month={m}/{name}", part)
        else:
            self._write(f"tables/{table}/{name}", df)


class LakeWriter:
    """Commits batches while its Lake's writer lock is held."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.closed = False

    def commit(
        self,
        *,
        sources: list[dict[str, Any]],
        tables: dict[str, pl.DataFrame],
        quarantine: pl.DataFrame | None,
        report: dict[str, Any],
    ) -> BatchInfo:
        """Write one batch (one file per table and month) and commit it.

        ``_row`` numbers each table's rows in the given order, so a later duplicate of a
        natural key within the batch wins.
        """
        chunks: list[tuple[str, pl.DataFrame]] = list(tables.items())
        if quarantine is not None:
            chunks.append((QUARANTINE, quarantine))
        return self._commit(sources, chunks, report, parts=False)

    def commit_streaming(
        self,
        *,
        sources: list[dict[str, Any]],
        chunks: Iterable[tuple[str, pl.DataFrame]],
        report: dict[str, Any] | None = None,
    ) -> BatchInfo:
        """Like commit, from ``(table, frame)`` chunks (table ``"quarantine"`` for rejects).

        Each chunk is written as its own part file ``<batch_id>-<n>.parquet`` as it
        arrives, so a large upload never sits in memory whole. ``report`` may be filled
        while the chunks are consumed: it is read only once they are exhausted.
        """
        return self._commit(sources, chunks, report if report is not None else {}, parts=True)

    def _commit(
        self,
        sources: list[dict[str, Any]],
        chunks: Iterable[tuple[str, pl.DataFrame]],
        report: dict[str, Any],
        *,
        parts: bool,
    ) -> BatchInfo:
        if self.closed:
            msg = "this LakeWriter's lock was released; commit inside `with lake.writer() as w:`"
            raise RuntimeError(msg)
        committed = self.lake.batches()
        previous = committed[-1] if committed else None
        normalized = [_source(s) for s in sources]
        batch = _Batch(
            self.lake,
            new_batch_id(previous.batch_id if previous else None),
            (previous.seq if previous else 0) + 1,
            parts=parts,
        )
        # Streamed chunks are written by one background thread, in order, while the next
        # chunk is being prepared; at most one write is in flight (memory stays bounded).
        pool = ThreadPoolExecutor(1, thread_name_prefix="lake-write") if parts else None
        pending: Future[None] | None = None
        try:
            for table, df in chunks:
                if pool is None:
                    batch.add(table, df)
                    continue
                if pending is not None:
                    pending.result()
                pending = pool.submit(batch.add, table, df)
            if pending is not None:
                pending.result()
            batch.rows.setdefault(QUARANTINE, 0)
            data = json.dumps(report, ensure_ascii=False, indent=1, default=str).encode("utf-8")
            fsutil.write_bytes_atomic(
                self.lake.root / report_path(batch.batch_id), data, label="report"
            )
            info = BatchInfo(
                batch_id=batch.batch_id,
                seq=batch.seq,
                committed_at=datetime.now(UTC).isoformat(timespec="seconds"),
                sources=normalized,
                tables=batch.rows,
                files=batch.files,
                report=json.loads(data),
            )
            fsutil.checkpoint("before_manifest")
            write_manifest(self.lake.root, [*committed, info])
        except Exception:
            if pool is not None:
                pool.shutdown(wait=True)  # a write in flight ends before its files go
            # Not committed: remove what this batch wrote now rather than at the next writer.
            for rel in [*batch.files, report_path(batch.batch_id)]:
                (self.lake.root / rel).unlink(missing_ok=True)
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        return info


def _source(s: dict[str, Any]) -> dict[str, Any]:
    missing = [k for k in ("path", "sha256", "size") if k not in s]
    if missing:
        msg = f"source {s!r} lacks {missing}: each source needs path, sha256 and size"
        raise ValueError(msg)
    out = {"path": str(s["path"]), "sha256": s["sha256"], "size": int(s["size"])}
    out |= {"layout": s.get("layout"), "table": s.get("table")}
    return out | {k: v for k, v in s.items() if k not in out}


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """Shorthand for ``Lake(root).connect()``."""
    return Lake(root).connect()
