"""DuckDB views over the committed batches of the lake.

Views list their Parquet files explicitly (from one read of the manifest), never a glob,
so files of a batch still being written are invisible and a reader needs no lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.lake.latest import latest_sql
from hrss_fraud.lake.manifest import BatchInfo
from hrss_fraud.lake.sqltext import ident, literal
from hrss_fraud.lake.superseded import ensure_index, unsuperseded_sql
from hrss_fraud.model.schema import TABLES, Table

#: Columns the writer adds to every stored row: which batch, and the row's place in it.
LINEAGE = ("_batch_seq", "_row")
QUARANTINE = "quarantine"


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB type that Parquet written by polars reads back as."""
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP" if dtype.time_zone is None else "TIMESTAMPTZ"
    simple = {
        pl.String: "VARCHAR",
        pl.Int32: "INTEGER",
        pl.Int64: "BIGINT",
        pl.Float64: "DOUBLE",
        pl.Boolean: "BOOLEAN",
        pl.Date: "DATE",
    }
    for pl_type, sql in simple.items():
        if dtype == pl_type:
            return sql
    msg = f"no DuckDB type mapped for polars dtype {dtype}; add it to lake.views.duckdb_type"
    raise TypeError(msg)


def table_of(rel_path: str) -> str:
    """The table a lake file belongs to, from its path (``tables/<t>/...`` or ``quarantine/``)."""
    parts = rel_path.split("/")
    return parts[1] if parts[0] == "tables" else parts[0]


def _read_files(paths: list[Path]) -> str:
    files = ", ".join(literal(str(p)) for p in paths)
    # No hive detection: `month=` folders would add a column whose type varies by lake.
    return f"read_parquet([{files}], union_by_name = true, hive_partitioning = false)"


def _all_sql(table: Table, paths: list[Path]) -> str:
    """Every stored row; canonical columns first with their schema types, then extras."""
    typed = [(f.name, duckdb_type(f.dtype)) for f in table.fields]
    typed += [(c, "BIGINT") for c in LINEAGE]
    if not paths:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {ident(n)}" for n, t in typed)
        return f"SELECT {cols} WHERE false"
    canonical = ", ".join(f"CAST({ident(n)} AS {t}) AS {ident(n)}" for n, t in typed[:-2])
    excluded = ", ".join(ident(n) for n, _ in typed)
    lineage = ", ".join(ident(c) for c in LINEAGE)
    return f"SELECT {canonical}, * EXCLUDE ({excluded}), {lineage} FROM {_read_files(paths)}"


def _latest_sql(table: Table) -> str:
    """The latest version per natural key: highest batch, then the last row within it."""
    return latest_sql(table)


def _quarantine_sql(paths: list[Path]) -> str:
    if not paths:
        return "SELECT CAST(NULL AS BIGINT) AS _batch_seq, CAST(NULL AS BIGINT) AS _row WHERE false"
    return f"SELECT * FROM {_read_files(paths)}"


def _batches_sql(batches: list[BatchInfo]) -> str:
    names = [*TABLES, QUARANTINE]
    columns = ["batch_id", "seq", "committed_at", "n_sources", "n_files"]
    columns += [f"rows_{t}" for t in names]
    types = ["VARCHAR", "BIGINT", "VARCHAR", "BIGINT", "BIGINT"] + ["BIGINT"] * len(names)
    if not batches:
        cols = ", ".join(
            f"CAST(NULL AS {t}) AS {ident(c)}" for c, t in zip(columns, types, strict=True)
        )
        return f"SELECT {cols} WHERE false"
    rows = []
    for b in batches:
        values = [literal(b.batch_id), str(b.seq), literal(b.committed_at)]
        values += [str(len(b.sources)), str(len(b.files))]
        values += [str(int(b.tables.get(t, 0))) for t in names]
        rows.append(f"({', '.join(values)})")
    cast = ", ".join(
        f"CAST({ident(c)} AS {t}) AS {ident(c)}" for c, t in zip(columns, types, strict=True)
    )
    alias = ", ".join(ident(c) for c in columns)
    return f"SELECT {cast} FROM (VALUES {', '.join(rows)}) AS b({alias})"


def files_by_table(root: Path, batches: Iterable[BatchInfo]) -> dict[str, list[Path]]:
    """Absolute paths of the committed files of each table (and quarantine), in seq order."""
    out: dict[str, list[Path]] = defaultdict(list)
    for b in sorted(batches, key=lambda b: b.seq):
        for rel in b.files:
            out[table_of(rel)].append(root / rel)
    return out


def create_views(
    con: duckdb.DuckDBPyConnection, root: Path, batches: list[BatchInfo], *, index: bool = True
) -> duckdb.DuckDBPyConnection:
    """(Re)create every lake view in ``con`` over exactly ``batches`` (``index``: the latest
    views through the superseded-rows index when it can be had)."""
    files = files_by_table(root.resolve(), batches)
    for name, table in TABLES.items():
        con.execute(
            f"CREATE OR REPLACE VIEW {ident(name + '_all')} AS {_all_sql(table, files[name])}"
        )

    listed = ensure_index(con, root.resolve(), batches) if index else None
    for name, table in TABLES.items():
        latest = _latest_sql(table) if listed is None else unsuperseded_sql(name, listed)
        con.execute(f"CREATE OR REPLACE VIEW {ident(name)} AS {latest}")
    con.execute(f"CREATE OR REPLACE VIEW {QUARANTINE} AS {_quarantine_sql(files[QUARANTINE])}")
    con.execute(f"CREATE OR REPLACE VIEW batches AS {_batches_sql(batches)}")
    return con
