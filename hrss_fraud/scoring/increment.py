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

The lines go into the new run one file per rule (:mod:`hrss_fraud.engine.line_parts`):
:func:`merge_into_parts` hard-links the file of every rule whose findings this run left
as they were (a monthly rule not due, a nightly rule whose reach found nothing new) and
writes the others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import polars as pl

from hrss_fraud.engine import line_parts, runs
from hrss_fraud.engine.catalogue import Rule
from hrss_fraud.engine.grouping import CASE_COLUMNS_OF_FINDINGS, quality_rule_ids
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
    lines = pl.scan_parquet(run.file(runs.LINES))
    if not run.grouped:
        return findings, lines
    return (
        pl.concat(
            [findings, pl.scan_parquet(root / runs.QUALITY_FINDINGS)], how="vertical_relaxed"
        ),
        pl.concat([lines, pl.scan_parquet(run.file(runs.QUALITY_LINES))], how="vertical_relaxed"),
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


def _kept(
    previous: pl.LazyFrame,
    new_f: pl.DataFrame,
    scope: Scope,
    rules: dict[str, Rule],
    standing: set[str],
) -> pl.DataFrame:
    """The previous findings this run keeps (see :func:`merge`)."""
    keep_old = pl.col("rule_id").is_in(list(standing)) | (
        ~_rescored(scope, rules) & ~pl.col("finding_id").is_in(new_f["finding_id"].implode())
    )
    return previous.filter(keep_old).collect()


def kind_of(rules: dict[str, Rule]) -> Callable[[str], str]:
    """Rule id → the line files it goes in: data-quality findings apart from leads."""
    quality = set(quality_rule_ids(rules))
    return lambda rule_id: line_parts.QUALITY if rule_id in quality else line_parts.LEAD


def merge_into_parts(
    previous: runs.Run,
    current: tuple[pl.DataFrame, pl.DataFrame],
    scope: Scope,
    rules: dict[str, Rule],
    run_id: str,
    standing: set[str],
    parts: line_parts.PartsWriter,
) -> pl.DataFrame:
    """What :func:`merge` gives, the lines written into ``parts`` rule by rule instead of
    returned: a rule whose previous findings are all kept and which has no new one is
    hard-linked from ``previous`` (when that run keeps its lines per rule), the others
    written. Returns the merged findings."""
    new_f, new_l = current
    new_f = new_f.filter(_rescored(scope, rules))
    old_scan, old_lines = previous_findings(previous)
    old_f = _kept(old_scan, new_f, scope, rules, standing)
    findings = pl.concat([old_f, new_f], how="vertical_relaxed").with_columns(run_id=pl.lit(run_id))
    before = _counts(old_scan.select("rule_id").collect())
    kept, fresh = _counts(old_f), _counts(new_f)
    recorded = previous.manifest.get(line_parts.PARTS_KEY) if previous.partitioned else None
    added = new_l.join(new_f.select("finding_id", "rule_id"), on="finding_id")
    by_rule = None
    if recorded is None:  # one line file: read the kept lines once, not once per rule
        ids = old_f.select("finding_id", "rule_id").lazy()
        by_rule = old_lines.join(ids, on="finding_id").collect()
    kind = kind_of(rules)
    for rule_id in sorted(findings["rule_id"].unique().to_list()):
        unchanged = before.get(rule_id, 0) == kept.get(rule_id, 0) and not fresh.get(rule_id)
        if recorded is not None and unchanged:
            entry = recorded.get(kind(rule_id), {}).get(rule_id)
            if entry is not None:
                parts.link(kind(rule_id), rule_id, previous.root, entry)
            continue  # a rule without a line file had no lines
        mine = pl.col("rule_id") == rule_id
        if by_rule is not None:
            old = by_rule.filter(mine)
        else:
            old = _old_part(previous, kind(rule_id), old_f.filter(mine))
        rows = [f.drop("rule_id", strict=False) for f in (old, added.filter(mine)) if f.height]
        if rows:
            parts.write(kind(rule_id), rule_id, pl.concat(rows, how="vertical_relaxed"))
    return findings.sort("finding_id")


def write_parts(
    findings: pl.DataFrame,
    lines: pl.DataFrame,
    rules: dict[str, Rule],
    parts: line_parts.PartsWriter,
) -> None:
    """A full run's lines into ``parts``, one file per rule."""
    ids = findings.select("finding_id", "rule_id")
    ordered = lines.join(ids, on="finding_id").sort(["rule_id", *LINE_ORDER], nulls_last=True)
    kind = kind_of(rules)
    offset = 0
    for rule_id, n in ordered.group_by("rule_id", maintain_order=True).len().iter_rows():
        chunk = ordered.slice(offset, n).drop("rule_id")
        parts.write(kind(rule_id), rule_id, chunk, ordered=True)
        offset += n


def _counts(findings: pl.DataFrame) -> dict[str, int]:
    return dict(findings.group_by("rule_id").len().iter_rows())


def _old_part(previous: runs.Run, kind: str, kept: pl.DataFrame) -> pl.DataFrame:
    """The previous run's lines of the ``kept`` findings of one rule (none when the rule
    had no line file)."""
    if kept.is_empty():
        return kept.clear()
    path = line_parts.part_path(previous.root, kind, kept["rule_id"][0])
    if not path.exists():
        return kept.clear()
    ids = kept.select("finding_id").lazy()
    return pl.scan_parquet(path).join(ids, on="finding_id", how="semi").collect()
