"""A scored run on the tiny county: leads grouped into cases, data-quality findings kept
apart from the leads, the rankings and the findings export; a run published before they
were split still opens the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from hrss_fraud.cli import main
from hrss_fraud.engine import line_parts, runs
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.grouping import CASE_COLUMNS_OF_FINDINGS, CASE_SCHEMA, quality_rule_ids
from hrss_fraud.lake import Lake
from hrss_fraud.nightly.exports import summary_tables
from hrss_fraud.outputs.export import CASE_EXPORT_COLUMNS, EXPORT_COLUMNS
from hrss_fraud.outputs.quality import SUMMARY_COLUMNS, quality_summary
from hrss_fraud.outputs.ranking import institution_ranking


@pytest.fixture(scope="module")
def quality_ids() -> list[str]:
    return quality_rule_ids(load_catalogue().rules)


def old_format(run: runs.Run) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A run's findings and lines as a run published before issue 16 held them: leads and
    data-quality findings in one file, no case columns."""
    findings = pl.concat(
        [run.findings().drop(CASE_COLUMNS_OF_FINDINGS), run.quality_findings()],
        how="vertical_relaxed",
    )
    lines = pl.concat([run.lines(), run.quality_lines()], how="vertical_relaxed")
    return findings, lines


def _workspace(full_ws: Path, dest: Path) -> Path:
    shutil.copytree(full_ws / "lake", dest / "lake")
    return dest


def test_a_run_holds_its_leads_in_cases_and_its_data_quality_apart(
    full_ws: Path, quality_ids: list[str]
) -> None:
    run = runs.open_run(full_ws)
    for name in (runs.QUALITY_FINDINGS, runs.CASES):
        assert (run.root / name).is_file()
    # the lines one file per rule (issue 23), the data-quality rules' apart
    assert run.partitioned
    written = {p.stem for p in (run.root / line_parts.QUALITY).glob("*.parquet")}
    assert written and written <= set(quality_ids)
    leads, quality, cases = run.findings(), run.quality_findings(), run.cases()
    assert quality.height > 0 and set(quality["rule_id"]) <= set(quality_ids)
    assert not leads["rule_id"].is_in(quality_ids).any()
    assert not run.lines()["finding_id"].is_in(quality["finding_id"].implode()).any()
    assert set(run.quality_lines()["finding_id"]) == set(quality["finding_id"])
    m = run.manifest
    assert (m["findings"], m["quality_findings"], m["cases"]) == (
        leads.height,
        quality.height,
        cases.height,
    )
    assert m["amount_at_risk"] == round(float(leads["amount_at_risk"].sum()), 2)
    assert cases.schema == pl.Schema(CASE_SCHEMA)
    assert cases["case_rank"].to_list() == list(range(1, cases.height + 1))
    assert cases["case_id"].n_unique() == cases.height
    assert leads["case_id"].null_count() == 0
    assert int(cases["n_findings"].sum()) == leads.height
    ranks = leads.select("case_id", "case_rank").unique()
    assert ranks.join(cases, on=["case_id", "case_rank"], how="anti").is_empty()
    # a case's amount counts each line once: never above its findings' sum (each finding's
    # amount rounded to the fen)
    sums = leads.group_by("case_id").agg(findings_sum=pl.col("amount_at_risk").sum())
    both = cases.join(sums, on="case_id")
    assert (both["amount_at_risk"] <= both["findings_sum"] + 0.01 * both["n_findings"]).all()
    assert (both["amount_at_risk"] < both["findings_sum"] - 1).any()
    assert (both["expected_recovery"] <= both["amount_at_risk"] + 0.01).all()
    order = cases.select("expected_recovery", "amount_at_risk")
    assert order.equals(
        order.sort(["expected_recovery", "amount_at_risk"], descending=True, maintain_order=True)
    )
    assert set(cases["case_kind"]) <= {"institution_month", "person", "doctor"}
    assert cases["evidence_zh"].null_count() == 0 and cases["title_en"].null_count() == 0


def test_a_run_published_before_the_split_opens_the_same(full_ws: Path, tmp_path: Path) -> None:
    run = runs.open_run(full_ws)
    ws = _workspace(full_ws, tmp_path)
    findings, lines = old_format(run)
    old = runs.publish(ws, run.run_id, findings, lines, run.manifest)
    old = runs.open_run(ws)
    assert not old.grouped and not (old.root / runs.CASES).exists()

    def by_id(df: pl.DataFrame) -> pl.DataFrame:
        return df.sort("finding_id").select(sorted(df.columns))

    assert by_id(old.findings()).equals(by_id(run.findings()))
    assert by_id(old.quality_findings()).equals(by_id(run.quality_findings()))
    assert old.lines().sort(pl.all()).equals(run.lines().sort(pl.all()))
    assert old.quality_lines().sort(pl.all()).equals(run.quality_lines().sort(pl.all()))
    a, b = old.cases(), run.cases()
    assert a.schema == b.schema, (a.schema, b.schema)
    assert [c for c in a.columns if not a[c].equals(b[c])] == []


def test_the_ranking_counts_no_data_quality_finding(full_ws: Path, tmp_path: Path) -> None:
    run = runs.open_run(full_ws)
    lake = Lake(full_ws / "lake")
    columns = ["rank", "fixmedins_code", "amount_at_risk", "n_findings", "risk_score"]
    expected = institution_ranking(run, lake).select(columns)
    # data-quality findings made to weigh: were they counted, the ranking would change
    quality = run.quality_findings().with_columns(severity=pl.lit("definite"))
    quality_lines = run.quality_lines().with_columns(amount_at_risk=pl.lit(1e9))
    ws = _workspace(full_ws, tmp_path)
    new_id, old_id = "20990101T000000000Z", "20990102T000000000Z"
    new = runs.publish(
        ws,
        new_id,
        run.findings(),
        run.lines(),
        {**run.manifest, "run_id": new_id},
        quality=(quality, quality_lines),
        cases=run.cases(),
    )
    findings, lines = old_format(new)
    runs.publish(ws, old_id, findings, lines, {**run.manifest, "run_id": old_id})
    for run_id in (new_id, old_id):
        got = institution_ranking(runs.open_run(ws, run_id), lake).select(columns)
        assert got.equals(expected)
    assert float(expected["amount_at_risk"].sum()) < 1e9


def test_the_exports_hold_leads_with_their_case_and_data_quality_apart(
    full_ws: Path, tmp_path: Path, quality_ids: list[str]
) -> None:
    run = runs.open_run(full_ws)
    ws, cli = str(full_ws), CliRunner()

    def export(*args: str) -> None:
        r = cli.invoke(main, ["--workspace", ws, "findings", *args])
        assert r.exit_code == 0, r.output

    export("export", "--out", str(tmp_path / "leads.parquet"))
    leads = pl.read_parquet(tmp_path / "leads.parquet")
    n = len(EXPORT_COLUMNS)
    assert leads.columns[: n + 2] == [*EXPORT_COLUMNS, "case_id", "case_rank"]
    assert leads.height == run.findings().height
    assert not leads["rule_id"].is_in(quality_ids).any()

    export("quality-export", "--out", str(tmp_path / "quality.csv"))
    quality = pl.read_csv(tmp_path / "quality.csv", infer_schema=False)
    assert quality.columns[:n] == list(EXPORT_COLUMNS) and "case_id" not in quality.columns
    assert sorted(quality["finding_id"]) == sorted(run.quality_findings()["finding_id"])

    export("quality-export", "--summary", "--out", str(tmp_path / "summary.xlsx"))
    summary = pl.read_excel(tmp_path / "summary.xlsx")
    assert summary.columns == list(SUMMARY_COLUMNS)
    assert int(summary["n_findings"].sum()) == quality.height
    assert (summary["n_settlements"] <= summary["institution_settlements"]).all()

    export("cases-export", "--lang", "en", "--out", str(tmp_path / "cases.csv"))
    cases = pl.read_csv(tmp_path / "cases.csv", infer_schema=False)
    assert cases.columns == list(CASE_EXPORT_COLUMNS)
    assert cases["case_id"].to_list() == run.cases()["case_id"].to_list()
    assert cases["title"].to_list() == run.cases()["title_en"].to_list()
    export("cases-export", "--top", "5", "--out", str(tmp_path / "top.xlsx"))
    top = pl.read_excel(tmp_path / "top.xlsx", infer_schema_length=0)
    assert top["case_rank"].to_list() == ["1", "2", "3", "4", "5"]


def test_the_daily_summary_reports_data_quality_apart_from_the_leads(full_ws: Path) -> None:
    run = runs.open_run(full_ws)
    lake = Lake(full_ws / "lake")
    tables = summary_tables(full_ws, run, institution_ranking(run, lake))
    headline = dict(tables["summary"].iter_rows())
    assert headline["leads"] == str(run.findings().height)
    assert headline["quality_findings"] == str(run.quality_findings().height)
    assert tables["data_quality"].equals(quality_summary(run, lake))
    assert tables["data_quality"].height > 0
