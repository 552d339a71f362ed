"""Incremental scoring: re-score only what new uploads can change.

The new uploads are the lake batches committed since the previous run. They name the
persons with new claims and the earliest date they touch. The scoring database then holds
those persons' claims back to that date minus the longest look-back of a person-scope
rule, plus every claim (of every institution: indicators compare peers) from that date
minus the longest look-back of an institution-scope rule (back to the first of its month
for a monthly rule, whose findings rest on whole months: :func:`institution_start`).

A finding is *re-scored* by this run when it is a person-scope rule's finding of a touched
person whose last line is on or after the earliest new date, or an institution-scope
rule's finding starting on or after that first day. The run keeps the previous run's findings
that are not re-scored and adds this run's re-scored ones; findings computed here but
outside that reach (from incomplete history) are discarded. A rule's ``lookback_days`` is
the history a finding needs before its last line; with it set right the result equals a
full run's.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from hrss_fraud.engine import runs
from hrss_fraud.engine.catalogue import Rule
from hrss_fraud.engine.grouping import CASE_COLUMNS_OF_FINDINGS
from hrss_fraud.engine.hits import LINE_ORDER
from hrss_fraud.engine.prepare import Scope


def new_claims_scope(
    con: duckdb.DuckDBPyConnection, last_seq: int, rules: list[Rule]
) -> Scope | None:
    """The reach of the batches after ``last_seq`` (``con`` holds the lake views)."""
    new = con.sql(f"""
        SELECT psn_no, fixmedins_code, CAST(begntime AS DATE) AS d FROM settlement_all
        WHERE _batch_seq > {int(last_seq)}
        UNION ALL
        SELECT psn_no, fixmedins_code, CAST(fee_ocur_time AS DATE) AS d FROM fee_detail_all
        WHERE _batch_seq > {int(last_seq)}
    """).pl()
    new = new.filter(pl.col("d").is_not_null())
    if new.is_empty():
        return None
    new_from: date = new["d"].min()  # type: ignore[assignment]

    person_lookback = max((r.lookback_days for r in rules if r.scope == "person"), default=0)
    return Scope(
        persons=new.select("psn_no").unique(),
        window_start=new_from - timedelta(days=person_lookback),
        new_from=new_from,
        months_from=min(
            (institution_start(r, new_from) for r in rules if r.scope == "institution"),
            default=new_from,
        ),
    )


def institution_start(rule: Rule, new_from: date) -> date:
    """The first day an institution-level rule must recompute for claims from ``new_from``:
    a nightly rule's findings rest on whole days (a doctor's day, a pharmacy's burst), a
    monthly rule's on whole months (or quarters, through its look-back) of every
    institution."""
    start = new_from - timedelta(days=rule.lookback_days)
    return start if rule.cadence == "nightly" else start.replace(day=1)


def _rescored(scope: Scope, rules: dict[str, Rule]) -> pl.Expr:
    by_scope = pl.col("rule_id").replace_strict(
        {rid: r.scope for rid, r in rules.items()}, default="person", return_dtype=pl.String
    )
    persons = scope.persons["psn_no"].implode()
    person_hit = pl.col("psn_no").is_in(persons) & (pl.col("period_end") >= scope.new_from)
    inst_hit = pl.col("period_start") >= scope.months_from
    return pl.when(by_scope == "institution").then(inst_hit).otherwise(person_hit).fill_null(False)


def rescored(findings: pl.DataFrame, scope: Scope, rules: dict[str, Rule]) -> pl.Series:
    """True for each finding this incremental run is responsible for."""
    return findings.select(_rescored(scope, rules).alias("r"))["r"]


def previous_findings(run: runs.Run) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Every finding of ``run`` and their lines, as lazy scans: its leads (their case
    columns dropped: the merged set is grouped anew) and its data-quality findings, or
    the one findings file of a run published before they were kept apart."""
    root = run.root
    findings = pl.scan_parquet(root / runs.FINDINGS).drop(CASE_COLUMNS_OF_FINDINGS, strict=False)
    lines = pl.scan_parquet(root / runs.LINES)
    if not run.grouped:
        return findings, lines
    return (
        pl.concat(
            [findings, pl.scan_parquet(root / runs.QUALITY_FINDINGS)], how="vertical_relaxed"
        ),
        pl.concat([lines, pl.scan_parquet(root / runs.QUALITY_LINES)], how="vertical_relaxed"),
    )


def merge(
    previous: tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame | pl.LazyFrame],
    current: tuple[pl.DataFrame, pl.DataFrame],
    scope: Scope,
    rules: dict[str, Rule],
    run_id: str,
    standing: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The previous findings outside this run's reach plus this run's within it. A rule in
    ``standing`` (failed in this run, or a monthly rule not due) keeps all its previous
    findings.

    ``previous`` may be lazy (scans of the previous run's files): only the findings kept
    and their lines are then read, not the whole previous run beside this one's."""
    new_f, new_l = current
    resc = _rescored(scope, rules)
    new_f = new_f.filter(resc)
    keep_old = pl.col("rule_id").is_in(list(standing)) | (
        ~resc & ~pl.col("finding_id").is_in(new_f["finding_id"].implode())
    )
    old_f = previous[0].lazy().filter(keep_old).collect()
    findings = pl.concat([old_f, new_f], how="vertical_relaxed").with_columns(run_id=pl.lit(run_id))
    kept = old_f.select("finding_id").lazy()
    lines = pl.concat(
        [
            previous[1].lazy().join(kept, on="finding_id", how="semi").collect(),
            new_l.join(new_f.select("finding_id"), on="finding_id", how="semi"),
        ],
        how="vertical_relaxed",
    )
    return (
        findings.sort("finding_id"),
        lines.sort(LINE_ORDER, nulls_last=True),
    )
