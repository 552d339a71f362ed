"""Per-rule white lists for the standing exceptions (chemotherapy, radiotherapy, dialysis,
transplant anti-rejection, 代取药): dated, each with its reason.

``analytics/rules/whitelist.csv`` ships the standard ones; a deployment adds its own in
``WORKSPACE/rules/whitelist.csv``. ``rule_id`` ``*`` applies to every rule. A hit is
suppressed when any of its violating lines matches an entry valid on the line's date:

- ``dise_prefix``: the line's settlement has a main diagnosis starting with ``value``;
- ``item_group``: the line's visit holds an item of that catalogue group (e.g. ``chemo``);
- ``med_list_codg``: the violating line is that item;
- ``med_type``: the line's settlement has that care type;
- ``psn_no`` / ``fixmedins_code``: that person or institution.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.engine.catalogue import Catalogue, CatalogueError

FILE = "whitelist.csv"
COLUMNS = ("rule_id", "match", "value", "valid_from", "valid_to", "reason")
MATCHES = ("dise_prefix", "item_group", "med_list_codg", "med_type", "psn_no", "fixmedins_code")

_CONDITION = {
    "dise_prefix": "starts_with(v.dise_codg, w.value)",
    "med_type": "v.med_type = w.value",
    "item_group": (
        "EXISTS (SELECT 1 FROM line g WHERE g.fixmedins_code = h.fixmedins_code "
        "AND g.mdtrt_id = h.mdtrt_id AND g.item_group = w.value)"
    ),
    "med_list_codg": (
        "EXISTS (SELECT 1 FROM line g WHERE g.fixmedins_code = h.fixmedins_code "
        "AND g.mdtrt_id = h.mdtrt_id AND g.feedetl_sn = h.feedetl_sn "
        "AND g.med_list_codg = w.value)"
    ),
    "psn_no": "h.psn_no = w.value",
    "fixmedins_code": "h.fixmedins_code = w.value",
}


def _read(path: Path) -> pl.DataFrame:
    df = pl.read_csv(path, infer_schema=False, encoding="utf8")
    if tuple(df.columns) != COLUMNS:
        msg = f"{path}: header must be {','.join(COLUMNS)}"
        raise CatalogueError(msg)
    for i, row in enumerate(df.iter_rows(named=True), start=2):
        if row["match"] not in MATCHES:
            msg = f"{path} line {i}: match {row['match']!r} is not one of {', '.join(MATCHES)}"
            raise CatalogueError(msg)
        if not (row["reason"] or "").strip() or not (row["value"] or "").strip():
            msg = f"{path} line {i}: every entry needs a value and a reason"
            raise CatalogueError(msg)
        for col in ("valid_from", "valid_to"):
            try:
                date.fromisoformat(row[col])
            except (TypeError, ValueError):
                msg = f"{path} line {i}: {col} {row[col]!r} is not a date (YYYY-MM-DD)"
                raise CatalogueError(msg) from None
    return df.with_columns(pl.col("valid_from", "valid_to").str.to_date(), source=pl.lit(str(path)))


def load_whitelist(catalogue: Catalogue, workspace: Path | None = None) -> pl.DataFrame:
    paths = [catalogue.root / FILE]
    if workspace is not None:
        paths.append(Path(workspace) / "rules" / FILE)
    frames = [_read(p) for p in paths if p.exists()]
    wl = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(
            schema={**{c: pl.String() for c in COLUMNS}, "source": pl.String()}
        ).with_columns(pl.col("valid_from", "valid_to").cast(pl.Date))
    )
    unknown = set(wl["rule_id"]) - set(catalogue.rules) - {"*"}
    if unknown:
        msg = f"white list names unknown rule(s): {', '.join(sorted(unknown))}"
        raise CatalogueError(msg)
    return wl


def suppressed_keys(
    con: duckdb.DuckDBPyConnection, rule_id: str, hits: pl.DataFrame, wl: pl.DataFrame
) -> set[str]:
    """The hit keys of ``hits`` that a white-list entry for ``rule_id`` covers."""
    entries = wl.filter(pl.col("rule_id").is_in([rule_id, "*"]))
    if entries.is_empty() or hits.is_empty():
        return set()
    keys: set[str] = set()
    h = hits.filter(pl.col("role") == "violating")  # noqa: F841 - read by DuckDB
    for match in entries["match"].unique().to_list():
        w = entries.filter(pl.col("match") == match)  # noqa: F841
        rows = con.execute(f"""
            SELECT DISTINCT h.hit_key FROM h
            JOIN w ON CAST(h.line_time AS DATE) BETWEEN w.valid_from AND w.valid_to
            LEFT JOIN visit v ON v.fixmedins_code = h.fixmedins_code AND v.setl_id = h.setl_id
            WHERE {_CONDITION[match]}
        """).fetchall()
        keys.update(r[0] for r in rows)
    return keys
