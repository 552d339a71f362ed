"""A year of contribution filings without an average wage is not judged against the floor,
and the run says so: the gap is in its manifest with the checks it concerns."""

from __future__ import annotations

from pathlib import Path

from hrss_fraud.engine.enrolment import FLOOR_RULES
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score

CONTRIBUTION = "emp_no,psn_no,psn_name,insutype,cashym,psn_clctstd\n"


def _files(folder: Path) -> list[Path]:
    """Employer E1's filings: two months of 2025 (an average wage known), three of 2026
    (none), every base ¥3,000 — below a 2025 floor of ¥4,200."""
    folder.mkdir()
    (folder / "employer.csv").write_text(
        "emp_no,emp_name,admdvs\nE1,永宁化工有限公司,130123101\n", encoding="utf-8"
    )
    (folder / "avg_wage.csv").write_text("year,avg_wage\n2025,7000.0\n", encoding="utf-8")
    files = [folder / "employer.csv", folder / "avg_wage.csv"]
    for ym in ("202511", "202512", "202601", "202602", "202603"):
        path = folder / f"emp_contribution_{ym}.csv"
        path.write_text(CONTRIBUTION + f"E1,P1,张三,310,{ym},3000\n", encoding="utf-8")
        files.append(path)
    return files


def test_a_year_without_an_average_wage_is_a_gap_the_run_records(tmp_path: Path) -> None:
    result = ingest(Lake(tmp_path / "ws" / "lake"), _files(tmp_path / "in"))
    assert not result.rejected, [f.error for f in result.rejected]
    run = score(tmp_path / "ws", rule_ids=list(FLOOR_RULES))
    # 2025 is judged (the hit), 2026 is not, and the manifest says why
    hits = run.findings()
    assert hits["rule_id"].to_list() == ["enrol_base_below_floor"]
    assert hits["period_start"].dt.year().to_list() == [2025]
    gaps = run.manifest["data_gaps"]
    assert [(g["table"], g["year"], g["rows"]) for g in gaps] == [("avg_wage", 2026, 3)]
    assert sorted(gaps[0]["rules"]) == sorted(FLOOR_RULES)
    assert "缺少2026年职工月平均工资" in gaps[0]["reason_zh"]
    assert "no average monthly wage (avg_wage) for 2026" in gaps[0]["reason_en"]


def test_only_the_checks_run_are_named_and_no_gap_when_every_year_has_a_wage(
    tmp_path: Path,
) -> None:
    files = _files(tmp_path / "in")
    ingest(Lake(tmp_path / "ws" / "lake"), files)
    run = score(tmp_path / "ws", rule_ids=["enrol_base_below_floor", "enrol_two_employers"])
    assert [g["rules"] for g in run.manifest["data_gaps"]] == [["enrol_base_below_floor"]]
    wages = tmp_path / "wages.csv"
    wages.write_text("year,avg_wage\n2025,7000.0\n2026,7300.0\n", encoding="utf-8")
    (tmp_path / "wages").mkdir()
    ingest(Lake(tmp_path / "ws" / "lake"), [wages.rename(tmp_path / "wages" / "avg_wage.csv")])
    again = score(tmp_path / "ws", rule_ids=["enrol_base_below_floor"])
    assert again.manifest["data_gaps"] == []
    assert sorted(again.findings()["period_start"].dt.year().to_list()) == [2025, 2026]
