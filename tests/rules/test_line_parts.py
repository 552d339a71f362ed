"""A run's lines kept one file per rule (issue 23): an incremental run hard-links the file
of every rule it left unchanged, writes the others, and reads back as :func:`merge` says."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.engine import line_parts, runs
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.grouping import quality_rule_ids
from hrss_fraud.engine.hits import LINE_ORDER
from hrss_fraud.engine.prepare import Scope
from hrss_fraud.outputs.runs_view import RunView
from hrss_fraud.scoring.increment import merge, merge_into_parts, write_parts

CAT = load_catalogue()
P = "frequent_outpatient"  # person scope
INST = "zb_drug_share"  # institution scope
U = "duplicate_line"  # person scope, its one finding out of reach: unchanged
Q = "dq_late_upload"  # data quality, out of reach: unchanged
SCOPE = Scope(
    persons=pl.DataFrame({"psn_no": ["P2"]}),
    window_start=date(2024, 12, 1),
    new_from=date(2025, 3, 1),
    months_from=date(2025, 2, 1),
)


def _findings(rows: list[tuple[str, str, str | None, date, date]]) -> pl.DataFrame:
    schema = ["finding_id", "rule_id", "psn_no", "period_start", "period_end"]
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        run_id=pl.lit("r1"), amount_at_risk=pl.lit(2.0)
    )


def _lines(f: pl.DataFrame) -> pl.DataFrame:
    """Two lines a finding, typed as a run's lines are."""
    one = f.select("finding_id", "psn_no", role=pl.lit("violating"))
    two = f.select("finding_id", "psn_no", role=pl.lit("involved"))
    return pl.concat([one, two]).with_columns(
        *(pl.lit(f"H{i}").alias(c) for i, c in enumerate(("fixmedins_code", "setl_id"))),
        mdtrt_id=pl.lit("M"),
        feedetl_sn=pl.col("finding_id") + "-sn",
        line_time=pl.lit(None, pl.Datetime("us")),
        amount_at_risk=pl.lit(1.0),
    )


OLD = _findings(
    [
        ("a", P, "P1", date(2025, 3, 1), date(2025, 3, 5)),  # untouched person: kept
        ("c", P, "P2", date(2025, 2, 1), date(2025, 3, 2)),  # re-scored: replaced
        ("d", INST, None, date(2025, 1, 1), date(2025, 1, 31)),  # month before reach: kept
        ("e", INST, None, date(2025, 2, 1), date(2025, 2, 28)),  # re-scored: found again
        ("u", U, "P1", date(2025, 1, 1), date(2025, 1, 2)),  # nothing new: linked
        ("q", Q, "P3", date(2025, 1, 1), date(2025, 1, 2)),  # nothing new: linked
    ]
)
NEW = _findings(
    [
        ("c2", P, "P2", date(2025, 2, 1), date(2025, 3, 4)),
        ("e", INST, None, date(2025, 2, 1), date(2025, 2, 28)),
    ]
)


def _publish_full(ws: Path, run_id: str, findings: pl.DataFrame, lines: pl.DataFrame) -> runs.Run:
    folder = runs.begin(ws, run_id)
    parts = line_parts.PartsWriter(folder, run_id, _lines(OLD).schema)
    write_parts(findings, lines, CAT.rules, parts)
    quality = findings.filter(pl.col("rule_id").is_in(quality_rule_ids(CAT.rules)))
    leads = findings.join(quality, on="finding_id", how="anti")
    manifest = {"run_id": run_id, line_parts.PARTS_KEY: parts.finish()}
    return runs.publish(ws, run_id, leads, None, manifest, quality=(quality, None))


def _increment(
    ws: Path, previous: runs.Run, run_id: str, standing: set[str] = frozenset()
) -> tuple[runs.Run, line_parts.PartsWriter]:
    """An increment with :data:`NEW`, less the findings of the ``standing`` rules (a rule
    that failed, or a monthly rule not due, found nothing in this run)."""
    folder = runs.begin(ws, run_id)
    parts = line_parts.PartsWriter(folder, run_id, _lines(OLD).schema)
    new = NEW.filter(~pl.col("rule_id").is_in(list(standing)))
    current = (new, _lines(new))
    f = merge_into_parts(previous, current, SCOPE, CAT.rules, run_id, set(standing), parts)
    is_q = pl.col("rule_id") == Q
    manifest = {"run_id": run_id, line_parts.PARTS_KEY: parts.finish()}
    run = runs.publish(ws, run_id, f.filter(~is_q), None, manifest, quality=(f.filter(is_q), None))
    return run, parts


def _inode(run: runs.Run, kind: str, rule_id: str) -> int:
    return os.stat(line_parts.part_path(run.root, kind, rule_id)).st_ino


def _all_lines(run: runs.Run) -> pl.DataFrame:
    both = pl.concat([run.lines(), run.quality_lines()])
    return both.sort(list(LINE_ORDER), nulls_last=True)


def test_an_increment_links_the_unchanged_rules_and_equals_the_merge(tmp_path: Path) -> None:
    base = _publish_full(tmp_path, "r1", OLD, _lines(OLD))
    assert base.partitioned
    assert sorted(base.manifest[line_parts.PARTS_KEY][line_parts.QUALITY]) == [Q]
    inc, parts = _increment(tmp_path, base, "r2")
    # the unchanged rules' files are the previous run's, not rewritten
    assert _inode(inc, line_parts.LEAD, U) == _inode(base, line_parts.LEAD, U)
    assert _inode(inc, line_parts.QUALITY, Q) == _inode(base, line_parts.QUALITY, Q)
    for rule in (P, INST):  # found anew within the reach: written
        assert _inode(inc, line_parts.LEAD, rule) != _inode(base, line_parts.LEAD, rule)
    assert (parts.linked, parts.written) == (2, 2)
    recorded = inc.manifest[line_parts.PARTS_KEY]
    assert recorded[line_parts.LEAD][U]["written_by"] == "r1"
    assert recorded[line_parts.LEAD][P] == {"rows": 4, "written_by": "r2"}
    # what the run holds is what merging the two runs whole gives
    f, lines = merge((OLD, _lines(OLD)), (NEW, _lines(NEW)), SCOPE, CAT.rules, "r2")
    got = pl.concat([inc.findings(), inc.quality_findings()], how="vertical_relaxed")
    assert got.sort("finding_id").equals(f.select(got.columns))
    assert _all_lines(inc).equals(lines.select(_all_lines(inc).columns))
    # a third night links a file the first run wrote from the second: its writer stays r1
    third, _ = _increment(tmp_path, inc, "r3")
    assert _inode(third, line_parts.LEAD, U) == _inode(base, line_parts.LEAD, U)
    assert third.manifest[line_parts.PARTS_KEY][line_parts.LEAD][U]["written_by"] == "r1"


def test_a_standing_rule_keeps_its_file_and_readers_see_one_table(tmp_path: Path) -> None:
    base = _publish_full(tmp_path, "r1", OLD, _lines(OLD))
    inc, _ = _increment(tmp_path, base, "r2", standing={INST})
    assert _inode(inc, line_parts.LEAD, INST) == _inode(base, line_parts.LEAD, INST)
    assert inc.findings().filter(pl.col("rule_id") == INST)["finding_id"].to_list() == ["d", "e"]
    view = RunView(tmp_path, inc, pl.DataFrame())
    assert pl.scan_parquet(view.lines_path).collect().height == inc.lines().height == 10
    assert pl.read_parquet(view.quality_lines_path).height == 2


def test_an_increment_on_a_run_with_one_line_file_writes_every_rule(tmp_path: Path) -> None:
    """A run published before issue 23 (its lines in one file) is built on: the increment
    writes every rule's file, and equals the merge."""
    is_q = pl.col("rule_id") == Q
    q_ids = OLD.filter(is_q).select("finding_id")
    lines = _lines(OLD)
    manifest = {"run_id": "r1"}
    base = runs.publish(
        tmp_path,
        "r1",
        OLD.filter(~is_q),
        lines.join(q_ids, on="finding_id", how="anti"),
        manifest,
        quality=(OLD.filter(is_q), lines.join(q_ids, on="finding_id", how="semi")),
    )
    assert not base.partitioned
    inc, parts = _increment(tmp_path, base, "r2")
    assert (parts.linked, parts.written) == (0, 4)
    _, merged = merge((OLD, lines), (NEW, _lines(NEW)), SCOPE, CAT.rules, "r2")
    assert _all_lines(inc).equals(merged.select(_all_lines(inc).columns))


def test_a_rule_id_that_cannot_name_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(line_parts.PartsError, match=r"rule id '\.\./x' cannot name a line file"):
        line_parts.part_path(tmp_path, line_parts.LEAD, "../x")
