"""Which stored rows a later version replaced, kept beside the lake so the latest views
need not rank every version of every key on each read.

A latest view as a window (``row_number() OVER (PARTITION BY key …) = 1``) ranks all 16 M
fee-line versions of a county's year each time a query reads it (~5 s), even when no key
was ever corrected. The superseded rows (every version of a key but its latest) are few;
with them listed, the latest view is the stored rows minus those (an anti-join: ~0.2 s),
and filters on any column reach the Parquet scan.

The list is derived state: one Parquet file per set of committed batches, named by their
fingerprint, written atomically by the first connection that finds it missing and ignored
once a batch is added. A new one starts from the index of the batches before (ranking only
the keys the new batches touch: ~1 s after a day's uploads; ~10 s from nothing on a
county year). When it cannot be written (a read-only
lake) or is missing, the views rank versions as before; both give the same rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from pathlib import Path

import duckdb

from hrss_fraud.lake.fsutil import DIR_MODE, FILE_MODE, TMP_SUFFIX
from hrss_fraud.lake.latest import latest_sql
from hrss_fraud.lake.manifest import BatchInfo
from hrss_fraud.lake.sqltext import ident, literal
from hrss_fraud.model.schema import TABLES

log = logging.getLogger(__name__)

FOLDER = "_superseded"
KEEP_OLD_S = 24 * 3600
"""An index of earlier batches is removed a day after it was replaced: a connection opened
before the new batch may still read it (its views are a snapshot)."""


def fingerprint(batches: list[BatchInfo]) -> str:
    """Names the committed batches (seq and id of each, in order)."""
    text = "\n".join(f"{b.seq}:{b.batch_id}" for b in batches)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def index_path(root: Path, batches: list[BatchInfo]) -> Path:
    """``<last seq>-<fingerprint>.parquet``: the seq lets a later set find it as its base."""
    return Path(root) / FOLDER / f"{batches[-1].seq}-{fingerprint(batches)}.parquet"


def _base(root: Path, batches: list[BatchInfo]) -> tuple[Path, int] | None:
    """The newest index of a leading part of ``batches`` (the same batches up to its last
    seq), and that seq: a new index adds only what the later batches changed."""
    found = []
    for p in (Path(root) / FOLDER).glob("*-*.parquet"):
        seq, _, fp = p.stem.partition("-")
        if seq.isdigit():
            upto = [b for b in batches if b.seq <= int(seq)]
            if upto and upto[-1].seq == int(seq) and fingerprint(upto) == fp:
                found.append((int(seq), p))
    if not found:
        return None
    seq, path = max(found)
    return path, seq


def _superseded_sql(table: str, since: int | None) -> str:
    """The rows of ``table`` a later version replaced; with ``since``, only among the keys
    the batches after ``since`` touched (the others' are in the base index already)."""
    touched = None if since is None else f"_batch_seq > {int(since)}"
    columns = f"'{table}' AS \"table\", _batch_seq, _row"
    return latest_sql(TABLES[table], columns, touched, superseded=True)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def unsuperseded_sql(name: str, index: Path) -> str:
    """The latest version per natural key of table ``name`` as the rows of ``{name}_all``
    the index does not list: the same rows as :func:`~.latest.latest_sql`, at the cost of
    an anti-join with a few rows instead of ranking every version."""
    gone = (
        f"SELECT _batch_seq, _row FROM read_parquet({literal(str(index))}) "
        f'WHERE "table" = {literal(name)}'
    )
    return f"SELECT * FROM {ident(name + '_all')} ANTI JOIN ({gone}) USING (_batch_seq, _row)"


def ensure_index(
    con: duckdb.DuckDBPyConnection, root: Path, batches: list[BatchInfo]
) -> Path | None:
    """The index of ``batches`` (``con`` holds their ``<table>_all`` views), written if
    missing; None when it cannot be written (the views then rank versions)."""
    if not batches:
        return None
    path = index_path(root, batches)
    if path.is_file():
        return path
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        path.parent.mkdir(mode=DIR_MODE, exist_ok=True)
        base = _base(root, batches)
        since = base[1] if base is not None else None
        parts = [_superseded_sql(t, since) for t in TABLES]
        if base is not None:  # its rows stay replaced: a key's old versions never return
            parts.append(f"SELECT * FROM read_parquet('{_quoted(base[0])}')")
        union = " UNION ".join(parts)
        con.execute(f"COPY ({union}) TO '{_quoted(tmp)}' (FORMAT parquet, COMPRESSION zstd)")
        os.chmod(tmp, FILE_MODE)  # DuckDB creates it by the umask; the keys are personal
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, duckdb.Error) as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        log.warning("lake: no superseded-rows index written under %s (%s)", path.parent, e)
        return None
    cutoff = time.time() - KEEP_OLD_S
    for old in path.parent.glob("*.parquet"):  # earlier sets of batches, no longer read
        if old != path and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return path
