"""The ingest run: open each upload, detect its layout, validate, check references, and
commit accepted rows and quarantined rows to the lake in batches.

Files are processed whole: a file is either committed (its rows accepted or quarantined,
every one accounted for), a duplicate of a committed file (no-op), or rejected with a
reason. Reference tables go first, then settlements, then fee lines, so references resolve
within one run. A crash leaves the lake as it was before the batch being written; running
again completes the work (committed files are then duplicates).

Columns the data model does not use are set aside, kept with each row (``_set_aside``) and
named in the reports; a file is rejected for its header only when a required field cannot
be found (``strict``: also when a column is set aside). A run that loaded a register (or
settlements) then re-checks the rows held as ``unknown_institution``, ``unknown_person`` or
``orphan_line`` and releases those that now pass (:mod:`hrss_fraud.ingest.release`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import polars as pl

from hrss_fraud.ingest import references, release
from hrss_fraud.ingest.errors import UploadError
from hrss_fraud.ingest.layouts import Detected, Layout, detect, load_layouts
from hrss_fraud.ingest.readers import (
    RawUpload,
    file_sha256,
    iter_batches,
    open_upload,
    read_together,
)
from hrss_fraud.ingest.summary import warnings
from hrss_fraud.ingest.validate import QUARANTINE_SCHEMA, SET_ASIDE, code_flags, validate
from hrss_fraud.lake import Lake
from hrss_fraud.model.schema import TABLES

T = TypeVar("T")

#: Processing order: what later tables refer to comes first.
TABLE_ORDER = (
    "institution",
    "practitioner",
    "person",
    "catalogue",
    "knowledge_pair",
    "diagnosis",
    "procedure",
    "settlement",
    "fee_detail",
    "employer",
    "avg_wage",
    "death",
    "emp_fin_stmt",
    "retiree_pension",
    "insu_event",
    "emp_contribution",
)
SKIP_SUFFIXES = (".md", ".reason.txt", ".partial")
#: A batch closes once it holds this many input bytes; a bigger file is a batch alone.
BATCH_BYTES = 256 << 20
CHUNK_ROWS = 500_000
#: Small files of one layout read per query: enough to amortise the per-query cost, few
#: enough that the query stays cheap to plan and its output (held in memory) stays small.
FILES_PER_SCAN = 64
SCAN_BYTES = 64 << 20
#: Threads that open uploads (reading, hashing and transcoding mostly release the GIL).
OPEN_THREADS = 2


@dataclass
class FileResult:
    path: str
    sha256: str | None = None
    size: int = 0
    status: str = "pending"  # committed | duplicate | rejected
    table: str | None = None
    layout: str | None = None
    encoding: str | None = None
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    reason: str | None = None
    batch_id: str | None = None
    #: Columns the data model does not use: kept with each row (``_set_aside``), named here.
    set_aside: list[dict[str, str]] = field(default_factory=list)
    #: Headers matched by the tolerant step (开单医师代码 → bilg_dr_codg), header → field.
    tolerant: dict[str, str] = field(default_factory=dict)
    #: Accepted rows with a descriptive code outside its list, by ``bad_code:<field>``.
    flags: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestResult:
    files: list[FileResult]
    batches: list[str]
    #: What re-checking the quarantine released (None: not re-checked in this run).
    released: release.Released | None = None

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "rejected"]

    def summary(self) -> dict:
        """Counts, per-file details and, first, the warnings (see :mod:`.summary`)."""
        by = {
            s: sum(f.status == s for f in self.files)
            for s in ("committed", "duplicate", "rejected")
        }
        reasons: dict[str, int] = {}
        flags: dict[str, int] = {}
        aside: dict[str, int] = {}
        for f in self.files:
            for r, n in f.reasons.items():
                reasons[r] = reasons.get(r, 0) + n
            for r, n in f.flags.items():
                flags[r] = flags.get(r, 0) + n
            for c in f.set_aside:
                aside[c["column"]] = aside.get(c["column"], 0) + 1
        out = {
            "warnings": [],
            "files": len(self.files),
            **by,
            "batches": self.batches,
            "rows_read": sum(f.rows_read for f in self.files),
            "accepted": sum(f.accepted for f in self.files),
            "quarantined": sum(f.quarantined for f in self.files),
            "quarantined_by_reason": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
            "set_aside_columns": aside,
            "code_flags": flags,
            "released": None if self.released is None else self.released.as_dict(),
            # asdict() deep-copies field by field: slow for thousands of files.
            "details": [
                {
                    **vars(f),
                    "reasons": dict(f.reasons),
                    "set_aside": list(f.set_aside),
                    "tolerant": dict(f.tolerant),
                    "flags": dict(f.flags),
                }
                for f in self.files
            ],
        }
        out["warnings"] = warnings(out)
        return out


def expand(paths: list[Path]) -> list[Path]:
    """Files named, and files under folders named (recursively), skipping notes and hidden."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    if not n.startswith(".") and not n.endswith(SKIP_SUFFIXES):
                        out.append(Path(root) / n)
        else:
            out.append(p)
    return out


@dataclass
class _Opened:
    result: FileResult
    raw: RawUpload
    detected: Detected


def _read_one(path: Path) -> tuple[RawUpload | UploadError, int, str | None]:
    """Open one upload (the costly, GIL-releasing part: reading, hashing, transcoding)."""
    try:
        raw = open_upload(path)
    except UploadError as exc:
        return exc, 0, None
    try:
        return raw, path.stat().st_size, raw.sha256 or file_sha256(path)
    except BaseException:
        raw.close()
        raise


def _open_all(files: list[Path]) -> Iterator[tuple[Path, RawUpload | UploadError, int, str | None]]:
    """``_read_one`` of each file, in order, by a few threads; on an unexpected error every
    upload opened so far is closed (their temporary files removed) before it propagates."""
    with ThreadPoolExecutor(OPEN_THREADS, thread_name_prefix="ingest-open") as pool:
        futures = [pool.submit(_read_one, path) for path in files]
        try:
            for path, future in zip(files, futures, strict=True):
                yield (path, *future.result())
        except BaseException:
            for f in futures:
                f.cancel()
            for f in futures:
                if not f.cancelled() and f.exception() is None:
                    raw = f.result()[0]
                    if isinstance(raw, RawUpload):
                        raw.close()
            raise


def _open(
    path: Path,
    raw: RawUpload | UploadError,
    size: int,
    sha256: str | None,
    layouts: dict[str, Layout],
    layout: str | None,
    table: str | None,
    known: set[str],
    seen: set[str],
    detected: dict[tuple[str, ...], Detected],
    strict: bool = False,
) -> tuple[FileResult, _Opened | None]:
    """Judge one opened file; ``detected`` caches the layout by header (thousands of uploads
    share a few headers; a header that fails is not cached, so each such file says why)."""
    res = FileResult(path=str(path))
    if isinstance(raw, UploadError):
        res.status, res.reason, res.error = "rejected", str(raw.reason), str(raw)
        return res, None
    res.size, res.sha256 = size, sha256
    try:
        det = detected.get(tuple(raw.header))
        if det is None:
            det = detect(path, raw.header, layouts, layout=layout, table=table, strict=strict)
            detected[tuple(raw.header)] = det
    except UploadError as exc:
        raw.close()
        res.status, res.reason, res.error = "rejected", str(exc.reason), str(exc)
        return res, None
    res.table, res.layout, res.encoding = det.table, det.layout.name, raw.encoding
    res.set_aside = [{"column": a.column, "why": a.why, "detail": a.detail} for a in det.set_aside]
    res.tolerant = dict(det.tolerant)
    if res.sha256 in known or res.sha256 in seen:
        raw.close()
        res.status = "duplicate"
        return res, None
    seen.add(res.sha256)
    return res, _Opened(res, raw, det)


def _chunked(
    files: list[_Opened], max_bytes: int, max_files: int | None = None
) -> Iterator[list[_Opened]]:
    """Consecutive files up to ``max_bytes`` (and ``max_files``) together; a bigger file
    makes a chunk alone."""
    chunk: list[_Opened] = []
    size = 0
    for o in files:
        full = max_files is not None and len(chunk) >= max_files
        if chunk and (full or size + o.result.size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(o)
        size += o.result.size
    if chunk:
        yield chunk


def _quarantine_refs(bad: pl.DataFrame, table: str) -> pl.DataFrame:
    """Rows that failed a reference check, their typed values as text in ``raw`` (keyed
    by field name, with the set-aside columns under ``_set_aside``): what a release reads."""
    cols = [f.name for f in TABLES[table].fields]
    raw = pl.struct([pl.col(c).cast(pl.String) for c in cols]).struct.json_encode()
    if SET_ASIDE in bad.columns:
        nested = raw.str.head(-1) + pl.lit(f',"{SET_ASIDE}":') + pl.col(SET_ASIDE) + pl.lit("}")
        raw = pl.when(pl.col(SET_ASIDE).is_null()).then(raw).otherwise(nested)
    return bad.select(
        pl.col("_source_file"),
        pl.col("_line"),
        pl.lit(table).alias("table"),
        pl.col("fixmedins_code")
        if "fixmedins_code" in bad.columns
        else pl.lit(None, pl.String).alias("fixmedins_code"),
        pl.col("_ref_reason").alias("reason"),
        pl.col("_ref_detail").alias("detail"),
        raw.alias("raw"),
    )


def ingest(
    lake: Lake,
    paths: list[Path],
    *,
    layout: str | None = None,
    table: str | None = None,
    layouts: dict[str, Layout] | None = None,
    progress: Callable[[FileResult], None] | None = None,
    now: datetime | None = None,
    strict: bool = False,
    retry_quarantine: bool = False,
) -> IngestResult:
    """Ingest files and folders into the lake; see the module docstring. ``strict``
    rejects a file with a column the data model does not use (instead of setting it aside);
    ``retry_quarantine`` re-checks the held rows even when no register was loaded."""
    layouts = layouts or load_layouts()
    files = expand(paths)
    results: list[FileResult] = []
    batch_ids: list[str] = []
    released = None
    with lake.writer() as writer:
        known = lake.known_sha256()
        seen: set[str] = set()
        opened: list[_Opened] = []
        detected: dict[tuple[str, ...], Detected] = {}
        try:
            for path, raw, size, sha256 in _open_all(files):
                res, o = _open(
                    path, raw, size, sha256, layouts, layout, table, known, seen, detected, strict
                )
                results.append(res)
                if o is None:
                    if progress:
                        progress(res)
                else:
                    opened.append(o)
            opened.sort(key=lambda o: TABLE_ORDER.index(o.detected.table))
            keys = references.KnownKeys(lake.connect())
            for group in _chunked(opened, BATCH_BYTES):
                info = _commit_group(writer, group, keys, now)
                if info is not None:
                    batch_ids.append(info.batch_id)
                    keys.committed(lake.connect())
                if progress:
                    for o in group:
                        progress(o.result)
        finally:
            for o in opened:
                o.raw.close()
        loaded = {r.table for r in results if r.status == "committed" and r.accepted}
        if retry_quarantine or loaded & release.CURES:
            released = release.release(lake, writer, now=now)
            if released.batch_id:
                batch_ids.append(released.batch_id)
    return IngestResult(results, batch_ids, released)


class _FileFailed(Exception):
    """A file turned out unreadable mid-stream: the batch is abandoned and redone without it."""


def _commit_group(writer, group: list[_Opened], keys: references.KnownKeys, now: datetime | None):
    """Commit one batch; a file that fails mid-stream is rejected and the batch redone."""
    while True:
        live = [o for o in group if o.result.status != "rejected"]
        if not live:
            return None
        for o in live:
            o.result.rows_read = o.result.accepted = o.result.quarantined = 0
            o.result.reasons, o.result.flags = {}, {}
        mark = keys.mark()
        report: dict = {}
        sources = [
            {
                "path": o.result.path,
                "sha256": o.result.sha256,
                "size": o.result.size,
                "layout": o.detected.layout.name,
                "table": o.detected.table,
            }
            | (
                {"set_aside": [a.column for a in o.detected.set_aside]}
                if o.detected.set_aside
                else {}
            )
            for o in live
        ]
        try:
            info = writer.commit_streaming(
                sources=sources, chunks=_chunks(live, keys, now, report), report=report
            )
        except _FileFailed:
            keys.rollback(mark)
            continue
        for o in live:
            o.result.status, o.result.batch_id = "committed", info.batch_id
        return info


def _layout_groups(live: list[_Opened]) -> Iterator[list[_Opened]]:
    """Files of one table, layout and header, in processing order: validated together, so
    a thousand small uploads cost about what one large one does."""
    groups: dict[tuple, list[_Opened]] = {}
    for o in live:
        key = (o.detected.table, o.detected.layout.name, tuple(o.raw.header))
        groups.setdefault(key, []).append(o)
    yield from groups.values()


def _stream(o: _Opened) -> Iterator[pl.DataFrame]:
    try:
        for raw in iter_batches(o.raw, rows=CHUNK_ROWS):
            yield raw.with_columns(_source_file=pl.lit(o.result.path))
    except UploadError as exc:
        res = o.result
        res.status, res.reason, res.error = "rejected", str(exc.reason), str(exc)
        raise _FileFailed from exc


def _rows_of(group: list[_Opened]) -> Iterator[pl.DataFrame]:
    """The group's rows in batches, each tagged with the file it came from.

    Small files are scanned together as one query (hundreds of uploads in one pass); if
    that query fails, its files are read one by one so the failure is pinned on its file
    (the batch is then redone without it). A large file streams alone."""
    # A file bigger than SCAN_BYTES is a part alone, streamed, never held whole.
    for part in _chunked(group, SCAN_BYTES, FILES_PER_SCAN):
        if len(part) == 1:
            yield from _stream(part[0])
            continue
        try:
            # Held whole only because the part is small (SCAN_BYTES): a failure then
            # yields nothing that must be taken back.
            batches = read_together([o.raw for o in part], "_source_file")
        except pl.exceptions.PolarsError:
            for o in part:
                yield from _stream(o)
            msg = "files of one layout could not be read together, though each reads alone"
            raise RuntimeError(msg) from None
        yield batches


def _check(
    frames: list[pl.DataFrame],
    detected: Detected,
    keys: references.KnownKeys,
    now: datetime | None,
    by_path: dict[str, FileResult],
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Validate one chunk of rows (of one layout), check references, count per file."""
    name = detected.table
    # diagonal: only some parts carry readers.FIELDS (files with rows shorter than the header)
    raw = pl.concat(frames, how="diagonal_relaxed")
    checked = validate(raw, detected, now=now)
    good, bad_ref = references.check(name, checked.accepted, keys)
    quarantined = (
        pl.concat([checked.quarantined, _quarantine_refs(bad_ref, name)])
        if bad_ref.height
        else checked.quarantined
    )
    for path, n in raw.group_by("_source_file").len().iter_rows():
        by_path[path].rows_read += n
    for path, n in good.group_by("_source_file").len().iter_rows():
        by_path[path].accepted += n
    for path, r, n in quarantined.group_by("_source_file", "reason").len().iter_rows():
        res = by_path[path]
        res.quarantined += n
        res.reasons[r] = res.reasons.get(r, 0) + n
    for path, flag, n in code_flags(good, name).iter_rows():
        res = by_path[path]
        res.flags[flag] = res.flags.get(flag, 0) + n
    keys.add_accepted(name, good)
    if good.height:
        yield name, good
    if quarantined.height:
        yield "quarantine", quarantined.cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]


_DONE = object()


def _read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced by a thread at most ``depth`` ahead of the consumer (polars
    reads without the GIL, so reading overlaps validation): the next item is begun only
    once a slot is free, so at most ``depth`` items wait, finished or being read. Errors
    reach the consumer in order; a consumer that stops early stops the thread first."""
    q: queue.Queue[tuple[object, BaseException | None]] = queue.Queue()
    slots = threading.Semaphore(depth)
    stop = threading.Event()

    def run() -> None:
        it = iter(items)
        try:
            while True:
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    item = next(it)
                except StopIteration:
                    q.put((_DONE, None))
                    return
                q.put((item, None))
        except BaseException as exc:  # handed to the consumer, raised there
            q.put((_DONE, exc))

    thread = threading.Thread(target=run, name="ingest-read", daemon=True)
    thread.start()
    try:
        while True:
            item, err = q.get()
            if err is not None:
                raise err
            if item is _DONE:
                return
            slots.release()
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def _chunks(
    live: list[_Opened], keys: references.KnownKeys, now: datetime | None, report: dict
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Validated rows and quarantined rows, buffered into chunks of about CHUNK_ROWS."""
    by_path = {o.result.path: o.result for o in live}
    groups = list(_layout_groups(live))
    # Files are read one part ahead, in a thread, while the part before is validated.
    parts = _read_ahead((i, raw) for i, group in enumerate(groups) for raw in _rows_of(group))
    pending: list[pl.DataFrame] = []
    size = 0
    current = 0
    for i, raw in parts:
        if i != current and pending:
            yield from _check(pending, groups[current][0].detected, keys, now, by_path)
            pending, size = [], 0
        current = i
        pending.append(raw)
        size += raw.height
        if size >= CHUNK_ROWS:
            yield from _check(pending, groups[current][0].detected, keys, now, by_path)
            pending, size = [], 0
    if pending:
        yield from _check(pending, groups[current][0].detected, keys, now, by_path)
    # The batch report stays small (the manifest carries it); per-file detail is in the
    # sources, the quarantine's _source_file and the lake rows' _source_file.
    by_reason: dict[str, int] = {}
    flags: dict[str, int] = {}
    aside: dict[str, int] = {}
    for o in live:
        for r, n in o.result.reasons.items():
            by_reason[r] = by_reason.get(r, 0) + n
        for r, n in o.result.flags.items():
            flags[r] = flags.get(r, 0) + n
        for a in o.detected.set_aside:
            aside[a.column] = aside.get(a.column, 0) + 1
    if aside:  # column → files that had it (which files: the sources)
        report["set_aside_columns"] = aside
    if flags:
        report["code_flags"] = flags
    report.update(
        files=len(live),
        rows_read=sum(o.result.rows_read for o in live),
        accepted=sum(o.result.accepted for o in live),
        quarantined=sum(o.result.quarantined for o in live),
        quarantined_by_reason=by_reason,
        tables=sorted({o.detected.table for o in live}),
    )
