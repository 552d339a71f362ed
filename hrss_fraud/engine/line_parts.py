"""A run's claim lines stored one Parquet file per rule: ``lead_lines/<rule_id>.parquet``
and ``quality_lines/<rule_id>.parquet`` in the run folder.

The lines are nine tenths of a run's bytes, and most rules' lines do not change from one
night to the next (the monthly rules stand between months; a nightly rule whose reach found
nothing new keeps its lines). An incremental run writes the files of the rules whose lines
it changed and hard-links the others from the previous run, so a night writes what it
recomputed, not the county year again. The manifest's ``line_parts`` names, for each kind
and rule, its rows and the run that wrote the file (``written_by``): two runs whose entries
name the same writer hold the same file, which the marts use to copy what did not change.

Readers see one table per kind through :func:`parts_glob` (DuckDB and Polars both read a
glob); each file is sorted by :data:`~hrss_fraud.engine.hits.LINE_ORDER`. A kind with no
line at all holds one empty ``_empty.parquet``, so the glob always matches a file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.engine.hits import LINE_ORDER
from hrss_fraud.lake.fsutil import write_parquet_atomic

LEAD, QUALITY = "lead_lines", "quality_lines"
KINDS = (LEAD, QUALITY)
PARTS_KEY = "line_parts"
"""The manifest's entry: kind → rule id → ``{"rows": n, "written_by": run_id}``."""
EMPTY = "_empty.parquet"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class PartsError(RuntimeError):
    pass


def parts_glob(root: Path, kind: str) -> Path:
    """Every line file of ``kind`` in the run folder ``root``, as a glob."""
    return Path(root) / kind / "*.parquet"


def is_partitioned(root: Path) -> bool:
    """Whether the run in ``root`` keeps its lines per rule (runs before issue 23 do not)."""
    return (Path(root) / LEAD).is_dir()


def part_path(root: Path, kind: str, rule_id: str) -> Path:
    if not _SAFE_ID.fullmatch(rule_id):
        msg = f"rule id {rule_id!r} cannot name a line file (letters, digits, _ . - only)"
        raise PartsError(msg)
    return Path(root) / kind / f"{rule_id}.parquet"


def read_lines(root: Path, kind: str) -> pl.DataFrame:
    """All lines of ``kind`` in one frame, in :data:`LINE_ORDER` (as a run held them in one
    file before issue 23)."""
    lines = pl.read_parquet(parts_glob(root, kind))
    if set(LINE_ORDER) <= set(lines.columns):
        return lines.sort(list(LINE_ORDER), nulls_last=True)
    return lines


class PartsWriter:
    """Writes one run's line files into its unpublished folder and records them."""

    def __init__(self, folder: Path, run_id: str, schema: pl.Schema) -> None:
        self.folder = Path(folder)
        self.run_id = run_id
        self.schema = schema
        self.record: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.written = 0
        self.linked = 0
        for kind in KINDS:
            (self.folder / kind).mkdir(parents=True, exist_ok=True)

    def write(self, kind: str, rule_id: str, lines: pl.DataFrame, *, ordered: bool = False) -> None:
        """Write ``rule_id``'s lines (none: no file), sorted unless already ``ordered``."""
        if lines.is_empty():
            return
        frame = lines.select(pl.col(c).cast(t) for c, t in self.schema.items())
        if not ordered and set(LINE_ORDER) <= set(frame.columns):
            frame = frame.sort(list(LINE_ORDER), nulls_last=True)
        path = part_path(self.folder, kind, rule_id)
        write_parquet_atomic(path, frame, label=f"{kind} of {rule_id}")
        self.record[kind][rule_id] = {"rows": frame.height, "written_by": self.run_id}
        self.written += 1

    def link(self, kind: str, rule_id: str, previous: Path, entry: dict[str, Any]) -> None:
        """Take ``rule_id``'s file from the previous run's folder ``previous`` unchanged: a
        hard link (a copy where the file system has none); rewritten in this run's schema
        if the previous run wrote other column types."""
        source = part_path(previous, kind, rule_id)
        if pl.read_parquet_schema(source) != dict(self.schema):
            self.write(kind, rule_id, pl.read_parquet(source))
            return
        target = part_path(self.folder, kind, rule_id)
        try:
            os.link(source, target)
        except OSError:
            write_parquet_atomic(target, pl.read_parquet(source), label=f"{kind} of {rule_id}")
        self.record[kind][rule_id] = dict(entry)
        self.linked += 1

    def scan(self, kind: str) -> pl.LazyFrame:
        """The lines of ``kind`` written or linked so far (after :meth:`finish`)."""
        return pl.scan_parquet(parts_glob(self.folder, kind))

    def finish(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Give a kind without any line its empty file; the manifest's :data:`PARTS_KEY`."""
        for kind in KINDS:
            if not self.record[kind]:
                empty = pl.DataFrame(schema=self.schema)
                write_parquet_atomic(self.folder / kind / EMPTY, empty, label=f"empty {kind}")
        return self.record
