"""The ``lead_lines`` mart one file per rule (``lead_lines/<rule_id>.parquet``, each sorted by
lead): every lead's lines joined with the lake's fee line and settlement, the largest mart.

A night changes few rules' leads (the monthly rules stand between months, most nightly
rules change in the new day only), so an increment hard-links the previous run's file of
every rule whose line file the run took unchanged (:func:`marts_carry.unchanged_rules`)
and none of whose leads is fresh; each other rule's file is the previous file's rows of
its carried leads merged with its fresh leads' rows, computed in one query for all rules
(the lake is scanned once, not once per rule). A full build computes every rule's rows in
one query, ordered by rule, and cuts the result into files.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.lake.views import literal
from hrss_fraud.outputs.lead_detail import LINES_ORDER, lines_sql
from hrss_fraud.outputs.marts_carry import Carry, fresh_lines, merge_into, unchanged_rules
from hrss_fraud.outputs.runs_view import RunView

NAME = "lead_lines"
FILES = f"{NAME}/*.parquet"
"""The mart's entry in the marts manifest: a glob, which DuckDB and Polars read as one."""
EMPTY = "_empty.parquet"
_RULE = "_rule"


def build(
    view: RunView,
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    carry: Carry | None,
    row_group: int,
) -> dict[str, int]:
    """Write the mart's files into ``folder``/``lead_lines``; ``con`` holds the lake's
    views. Returns how many rule files were linked and written."""
    out = folder / NAME
    out.mkdir()
    rules = pl.read_parquet(view.findings_path, columns=["finding_id", "rule_id"])
    con.register("lead_rules", rules)
    previous = _previous_files(carry)
    fresh = carry.fresh if previous is not None and carry is not None else None
    if fresh is None:  # every lead's lines
        lines = literal(str(view.lines_path))
        con.execute(f"CREATE OR REPLACE VIEW lead_lines AS SELECT * FROM read_parquet({lines})")
    else:
        fresh_lines(view, con, fresh)
    computed = folder / f"{NAME}.computed.parquet"
    con.execute(
        f"COPY ({_by_rule_sql()}) TO {literal(str(computed))} "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {row_group})"
    )
    linked: set[str] = set()
    if previous is not None and carry is not None and fresh is not None:
        touched = set(rules.join(fresh, on="finding_id", how="semi")["rule_id"])
        for rule_id in sorted(unchanged_rules(view, carry.previous) - touched):
            if (previous / f"{rule_id}.parquet").exists():
                os.link(previous / f"{rule_id}.parquet", out / f"{rule_id}.parquet")
                linked.add(rule_id)
    written = 0
    scan = pl.scan_parquet(computed)
    for rule_id in sorted(set(rules["rule_id"].unique().to_list()) - linked):
        mine = scan.filter(pl.col(_RULE) == rule_id).drop(_RULE)
        target = out / f"{rule_id}.parquet"
        before = previous / target.name if previous is not None else None
        if before is not None and before.exists() and fresh is not None:
            keep = rules.filter(pl.col("rule_id") == rule_id)
            keep = keep.join(fresh, on="finding_id", how="anti")["finding_id"].implode()
            carried = pl.scan_parquet(before).filter(pl.col("finding_id").is_in(keep))
            merge_into(carried, mine, "finding_id", target, row_group)
        else:
            mine.sink_parquet(target, compression="zstd", row_group_size=row_group)
        if pl.scan_parquet(target).select(pl.len()).collect().item() == 0:
            target.unlink()  # a rule without lines has no file
        else:
            written += 1
    computed.unlink()
    if not any(out.glob("*.parquet")):
        empty = literal(str(out / EMPTY))
        con.execute(f"COPY ({lines_sql(all_leads=True)} LIMIT 0) TO {empty} (FORMAT parquet)")
    for p in out.iterdir():
        with p.open("rb") as f:
            os.fsync(f.fileno())
    return {"linked": len(linked), "written": written}


def _previous_files(carry: Carry | None) -> Path | None:
    """The previous run's per-rule ``lead_lines`` folder, if its marts keep one."""
    if carry is None or carry.marts.get(NAME) != FILES:
        return None
    path = carry.mart(NAME)
    return path.parent if path is not None else None


def _by_rule_sql() -> str:
    """``lead_lines``' rows with the lake's context, with their rule, in rule then mart
    order (a lead, then :data:`LINES_ORDER`)."""
    order = ", ".join(f"m.{c.strip()}" for c in LINES_ORDER.split(","))
    return f"""SELECT r.rule_id AS {_RULE}, m.* FROM ({lines_sql(all_leads=True)}) m
               JOIN lead_rules r USING (finding_id)
               ORDER BY r.rule_id, m.finding_id, {order}"""
