"""The what-if for one rule (issue 23): its figures are what a score with the tried value
gives, beside the latest run's; the prepared database is kept, read only, and made anew
when the lake changes; a bad value is refused naming the rule and the parameter."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from helpers.shared import copy_workspace

from hrss_fraud.cli import main
from hrss_fraud.detectors import models
from hrss_fraud.engine import whatif, whatif_db
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.params import set_param
from hrss_fraud.engine.runs import open_run
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score


@pytest.fixture(scope="module")
def ws(scored_tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the scored tiny county: the what-if keeps its database in the workspace."""
    return copy_workspace(scored_tiny_county, tmp_path_factory.mktemp("whatif") / "ws")


def _rule_figures(ws: Path, rule_id: str) -> tuple[whatif.Figures, set[str]]:
    run = open_run(ws)
    f = pl.concat([run.findings(), run.quality_findings()], how="diagonal_relaxed").filter(
        pl.col("rule_id") == rule_id
    )
    fen = (f["amount_at_risk"] * 100).round().cast(pl.Int64).sum()
    n_inst = f["fixmedins_code"].drop_nulls().n_unique()
    return whatif.Figures(f.height, fen / 100, n_inst), set(f["finding_id"])


@pytest.mark.parametrize(
    "rule_id",
    ["split_admission", "drug_supply_cap", "abnormal_visit_frequency", "pp_quantity_index"],
)
def test_the_values_in_force_give_the_latest_runs_findings(ws: Path, rule_id: str) -> None:
    out = whatif.try_rule(ws, rule_id, {}, models=models)
    figures, _ = _rule_figures(ws, rule_id)
    assert out.current == figures and out.tried == figures
    assert out.difference == whatif.Difference(0, 0.0, 0, 0.0, 0.0)
    assert out.run_id == open_run(ws).run_id and out.run_status == "ok"
    assert out.params == out.in_force == out.run_params
    assert not out.run_behind_lake


def test_a_changed_threshold_gives_what_a_score_with_it_logged_gives(
    scored_tiny_county: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(scored_tiny_county, tmp_path / "ws")
    before, before_ids = _rule_figures(ws, "split_admission")
    out = whatif.try_rule(ws, "split_admission", {"days": "30"}, models=models)
    assert out.params == {"days": 30.0} and out.in_force == {"days": 15.0}
    assert out.current == before and out.tried.findings > before.findings
    set_param(load_catalogue(workspace=ws), ws, "split_admission", "days", 30, "tester", "试算核对")
    score(ws, rule_ids=["split_admission"])
    after, after_ids = _rule_figures(ws, "split_admission")
    assert out.tried == after
    d = out.difference
    assert d is not None
    assert (d.new_leads, d.dropped_leads) == (
        len(after_ids - before_ids),
        len(before_ids - after_ids),
    )
    assert d.amount_change == pytest.approx(after.amount_at_risk - before.amount_at_risk)
    # the new run scored it with the value now in force: no difference left
    again = whatif.try_rule(ws, "split_admission", {}, models=models)
    assert again.tried == again.current == after and not again.prepared


def test_the_prepared_database_is_kept_read_only_and_remade_when_the_lake_changes(
    scored_all_but_last_month: Path, tiny_county: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(scored_all_but_last_month, tmp_path / "ws")
    first = whatif.try_rule(ws, "pp_quantity_index", {"z": 2.0}, models=models)
    path = whatif_db.folder(ws) / whatif_db.DB
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    # a kernel that makes a helper table of its own leaves the kept file as it was
    second = whatif.try_rule(ws, "pp_quantity_index", {"z": 2.0}, models=models)
    assert first.prepared and not second.prepared
    assert second.tried == first.tried
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert whatif_db.stamp_of(path) == whatif_db.stamp(ws)
    last_month = sorted((tiny_county / "uploads").iterdir())[-1]
    ingest(Lake(ws / "lake"), [last_month])
    assert whatif_db.stamp_of(path) != whatif_db.stamp(ws)
    told: list[str] = []
    third = whatif.try_rule(ws, "split_admission", {}, models=models, progress=told.append)
    assert third.prepared and third.run_behind_lake
    assert len(told) == 1 and "preparing" in told[0] and "准备" in told[0]
    assert whatif_db.stamp_of(path) == whatif_db.stamp(ws)


@pytest.mark.parametrize(
    ("rule_id", "values", "key", "named"),
    [
        ("no_such_rule", {"days": 3}, "unknown_rule", "no_such_rule"),
        ("split_admission", {"weeks": 3}, "unknown_param", "'weeks'"),
        ("split_admission", {"days": "ten"}, "not_a_number", "'ten'"),
        ("split_admission", {"days": 61}, "out_of_range", "[1, 60]"),
        ("split_admission", {"days": 0}, "out_of_range", "[1, 60]"),
        ("split_admission", {"days": "nan"}, "out_of_range", "'days'"),
    ],
)
def test_bad_values_are_refused_naming_rule_and_parameter_before_any_work(
    scored_tiny_county: Path, tmp_path: Path, rule_id: str, values: dict, key: str, named: str
) -> None:
    ws = copy_workspace(scored_tiny_county, tmp_path / "ws", parts=("lake", "runs"))
    with pytest.raises(whatif.WhatIfError) as caught:
        whatif.try_rule(ws, rule_id, values, models=models)
    err = caught.value
    assert err.key == key and named in err.text("en")
    assert rule_id in err.text("zh") and rule_id in err.text("en")
    assert str(err) == f"{err.text('zh')} ({err.text('en')})"
    assert not whatif_db.folder(ws).exists()


def test_command_line_pairs_are_parsed_once_each() -> None:
    rule = load_catalogue().rules["split_admission"]
    assert whatif.parse_pairs(rule, ["days = 9"]) == {"days": "9"}
    for pairs, key in ((["days"], "bad_form"), (["days=1", "days=2"], "twice")):
        with pytest.raises(whatif.WhatIfError) as caught:
            whatif.parse_pairs(rule, pairs)
        assert caught.value.key == key


def test_the_outcome_holds_counts_and_amounts_never_a_person(ws: Path) -> None:
    out = whatif.try_rule(ws, "drug_supply_cap", {"supply_factor": 1.5}, models=models)
    shown = json.dumps(out.to_dict(), ensure_ascii=False)
    run = open_run(ws)
    people = set(run.findings()["psn_no"].drop_nulls())
    ids = set(run.findings()["finding_id"])
    assert people and not any(p in shown for p in people)
    assert not any(i in shown for i in ids)


def test_the_command_line_shows_the_engines_figures_and_refuses_bad_values(ws: Path) -> None:
    def run(*args: str):
        return CliRunner().invoke(main, ["--workspace", str(ws), "rules", "try", *args])

    out = whatif.try_rule(ws, "split_admission", {"days": 30}, models=models)
    got = run("split_admission", "--param", "days=30", "--json")
    assert got.exit_code == 0, got.output
    shown = json.loads(got.stdout)
    assert shown["tried"] == asdict(out.tried) and shown["current"] == asdict(out.current)
    assert shown["difference"] == asdict(out.difference) and shown["params"] == {"days": 30.0}
    text = run("split_admission", "--param", "days=30", "--lang", "en")
    assert text.exit_code == 0 and "days 15 → 30" in text.output
    assert f"new leads {out.difference.new_leads:,}" in text.output
    bad = run("split_admission", "--param", "days=61")
    assert bad.exit_code != 0
    assert "split_admission" in bad.output and "须在 1～60" in bad.output
    assert "'days': 61 is outside [1, 60]" in bad.output
