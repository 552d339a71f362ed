"""Scoring runs end to end on the tiny county: stable ids, incremental = full (leads,
data-quality findings and cases, on a grouped or an old-format previous run), a failing
rule recorded while the others run, exports, parameter changes, white lists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from helpers.accounts import add_accounts
from helpers.shared import copy_workspace

from hrss_fraud.cases import open_store
from hrss_fraud.cli import main
from hrss_fraud.engine import line_parts
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.runs import (
    CASES,
    FINDINGS,
    LINES,
    QUALITY_FINDINGS,
    QUALITY_LINES,
    Run,
    latest_run,
    open_run,
)
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score


def _ingest(ws: Path, *paths: Path) -> None:
    ingest(Lake(ws / "lake"), list(paths))


def _months(county: Path) -> list[Path]:
    return sorted((county / "uploads").iterdir())


def _comparable(df: pl.DataFrame) -> pl.DataFrame:
    return df.drop("run_id", strict=False)


@pytest.mark.slow  # scores the whole catalogue
def test_a_second_full_run_gives_the_same_findings_and_ids(full_ws: Path) -> None:
    first = open_run(full_ws)
    second = score(full_ws)
    assert second.run_id != first.run_id
    assert first.findings().height > 0
    assert _comparable(second.findings()).equals(_comparable(first.findings()))
    assert second.lines().equals(first.lines())


def test_every_rule_ran_and_every_finding_has_lines_that_add_up(full_ws: Path) -> None:
    run = open_run(full_ws)
    assert run.manifest["failed_rules"] == []
    f, lines = run.findings(), run.lines()
    sums = lines.group_by("finding_id").agg(
        amount=pl.col("amount_at_risk").sum(), n=pl.len(), v=(pl.col("role") == "violating").sum()
    )
    joined = f.join(sums, on="finding_id", how="left")
    assert joined["n"].null_count() == 0
    assert (joined["n"] == joined["n_lines"]).all() and (joined["v"] == joined["n_violating"]).all()
    assert ((joined["amount"] - joined["amount_at_risk"]).abs() < 0.011).all()
    assert f["finding_id"].n_unique() == f.height
    assert f["evidence"].null_count() == 0 and f["evidence_en"].null_count() == 0


def _to_old_format(run: Run) -> None:
    """Rewrite ``run`` as runs were published before data-quality findings were kept apart
    and leads grouped: one findings file, no case columns, no cases."""
    findings = pl.concat(
        [run.findings().drop("case_id", "case_rank"), run.quality_findings()],
        how="vertical_relaxed",
    )
    lines = pl.concat([run.lines(), run.quality_lines()], how="vertical_relaxed")
    findings.write_parquet(run.root / FINDINGS)
    lines.write_parquet(run.root / LINES)
    for name in (QUALITY_FINDINGS, QUALITY_LINES, CASES):
        (run.root / name).unlink(missing_ok=True)
    for kind in line_parts.KINDS:  # lines kept per rule since issue 23
        shutil.rmtree(run.root / kind, ignore_errors=True)


@pytest.mark.slow  # scores the whole catalogue over the last month
@pytest.mark.parametrize("previous", ["grouped", "old_format"])
def test_incremental_equals_full(
    tiny_county: Path,
    full_ws: Path,
    scored_all_but_last_month: Path,
    tmp_path: Path,
    previous: str,
) -> None:
    ws = copy_workspace(scored_all_but_last_month, tmp_path / "ws")
    months = _months(tiny_county)
    base = open_run(ws)
    if previous == "old_format":  # a run scored before issue 16 is built on as well
        _to_old_format(base)
        assert not open_run(ws).grouped
    _ingest(ws, months[-1])
    inc = score(ws, incremental=True)
    assert inc.manifest["mode"] == "incremental", inc.manifest["why"]
    # the reach: the persons of the new uploads from their earliest date (late uploads
    # included) back by the longest look-back; here, in three months, all of their history
    reach = inc.manifest["scope"]
    full_scope = open_run(full_ws).manifest["scored"]
    assert 0 < reach["persons"] < base.manifest["scored"]["visit"]
    assert reach["new_from"] < months[-1].name[:4] + "-" + months[-1].name[4:] + "-01"
    assert inc.manifest["scored"]["line"] <= full_scope["line"]
    full = open_run(full_ws)
    a, b = _comparable(inc.findings()), _comparable(full.findings())
    diff = pl.concat(
        [
            a.join(b, on=a.columns, how="anti", nulls_equal=True),
            b.join(a, on=a.columns, how="anti", nulls_equal=True),
        ]
    )
    assert diff.is_empty(), diff.select("rule_id", "entity_id", "amount_at_risk")
    assert inc.lines().equals(full.lines())
    # the data-quality findings and the cases as a full run has them
    assert _comparable(inc.quality_findings()).equals(_comparable(full.quality_findings()))
    assert inc.quality_lines().equals(full.quality_lines())
    assert inc.cases().equals(full.cases())
    assert (inc.manifest["quality_findings"], inc.manifest["cases"]) == (
        full.manifest["quality_findings"],
        full.manifest["cases"],
    )
    # nothing new: nothing happens
    again = score(ws, incremental=True)
    assert again.run_id == inc.run_id


@pytest.mark.slow  # scores the whole catalogue
def test_a_failing_rule_is_recorded_and_the_others_run(full_ws: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(full_ws / "lake", ws / "lake")
    rules = ws / "analytics" / "rules"
    shutil.copytree(Path(__file__).parents[2] / "analytics" / "rules", rules)
    (rules / "sql" / "broken.sql").write_text("SELECT no_such_column FROM line", encoding="utf-8")
    (rules / "catalogue" / "zz_broken.toml").write_text(
        '[[rule]]\nid = "broken"\nname_zh = "坏规则"\nname_en = "Broken"\n'
        'severity = "suspicious"\nbehaviour = "测试"\nfamily = "test"\nlegal_basis = "无"\n'
        'entity = "fee_line"\nsql = "broken.sql"\n',
        encoding="utf-8",
    )
    shutil.copytree(full_ws / "models", ws / "models")  # trained on this lake: no training
    result = CliRunner().invoke(main, ["--workspace", str(ws), "score", "--quiet"])
    assert result.exit_code == 1
    assert "rule broken failed" in result.output and "no_such_column" in result.output
    run = open_run(ws)
    assert run.manifest["failed_rules"] == ["broken"]
    ok = [r for r in run.manifest["rules"] if r["status"] == "ok"]
    # the rules the knowledge base cannot drive are skipped, not failed
    inactive = run.manifest["inactive_rules"]
    assert len(ok) == len(run.manifest["rules"]) - 1 - len(inactive)
    assert run.findings().height == open_run(full_ws).findings().height


def test_findings_export_csv_and_parquet(full_ws: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for suffix in ("csv", "parquet"):
        out = tmp_path / f"f.{suffix}"
        r = runner.invoke(
            main, ["--workspace", str(full_ws), "findings", "export", "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
    csv = pl.read_csv(tmp_path / "f.csv", infer_schema=False)
    pq = pl.read_parquet(tmp_path / "f.parquet")
    required = [
        *("finding_id", "run_id", "rule_id", "rule_name", "severity", "entity_type"),
        *("entity_id", "fixmedins_code", "psn_no", "setl_id", "mdtrt_id", "feedetl_sn"),
        *("period_start", "period_end", "amount_at_risk", "score", "evidence"),
    ]
    assert list(csv.columns[: len(required)]) == required
    assert list(pq.columns[: len(required)]) == required
    assert csv.height == pq.height == open_run(full_ws).findings().height
    assert (tmp_path / "f.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    xlsx = tmp_path / "f.xlsx"
    r = runner.invoke(main, ["--workspace", str(full_ws), "findings", "export", "--out", str(xlsx)])
    assert r.exit_code == 0, r.output
    sheet = pl.read_excel(xlsx, infer_schema_length=0)
    assert list(sheet.columns) == list(pq.columns) and sheet.height == pq.height
    assert sheet["finding_id"].to_list() == pq["finding_id"].to_list()
    bad = runner.invoke(
        main, ["--workspace", str(full_ws), "findings", "export", "--out", str(tmp_path / "f.txt")]
    )
    assert bad.exit_code == 1 and ".parquet, .csv or .xlsx" in bad.output
    assert not (tmp_path / "f.txt").exists()


def test_findings_are_kept_by_institution_person_severity_and_amount(
    full_ws: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    findings = open_run(full_ws).findings()
    code = findings["fixmedins_code"].drop_nulls().mode().sort()[0]
    psn = findings["psn_no"].drop_nulls().mode().sort()[0]
    ws = ["--workspace", str(full_ws), "findings"]
    out = tmp_path / "kept.parquet"
    args = ["--institution", code, "--severity", "high,definite", "--min-amount", "10"]
    r = runner.invoke(main, [*ws, "export", "--out", str(out), *args])
    assert r.exit_code == 0, r.output
    kept = findings.filter(
        pl.col("fixmedins_code") == code,
        pl.col("severity").is_in(["high", "definite"]),
        pl.col("amount_at_risk") >= 10,
    )
    assert kept.height > 0
    assert sorted(pl.read_parquet(out)["finding_id"]) == sorted(kept["finding_id"])
    r = runner.invoke(main, [*ws, "list", "--person", psn, "--limit", "2"])
    assert r.exit_code == 0, r.output
    mine = findings.filter(pl.col("psn_no") == psn).sort(
        "amount_at_risk", "finding_id", descending=[True, False]
    )
    lines = r.output.splitlines()
    assert f"疑点 {mine.height:,} 条" in lines[0]
    assert [line.split("\t")[0] for line in lines[1:3]] == mine["finding_id"].head(2).to_list()
    assert all(line.split("\t")[4] == psn for line in lines[1:3])
    if mine.height > 2:
        assert f"另有 {mine.height - 2:,} 条" in lines[-1]
    r = runner.invoke(main, [*ws, "list", "--severity", "grave"])
    assert r.exit_code == 1 and "unknown severity grave" in r.output


def test_export_without_a_run_explains(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["--workspace", str(tmp_path), "findings", "export", "--out", str(tmp_path / "x.csv")]
    )
    assert r.exit_code == 1 and "hrss-fraud score" in r.output


def test_parameter_change_is_checked_logged_and_versions_the_rule(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(tmp_path)]
    add_accounts(tmp_path, {"王审核": "supervisor", "li": "reviewer"})
    r = runner.invoke(main, [*ws, "rules", "list", "--json"])
    rules = json.loads(r.output)["rules"]
    rule = next(x for x in rules if x["params"])
    name, _value = next(iter(rule["params"].items()))
    cat_param = next(
        p
        for p in __import__("hrss_fraud.engine.catalogue", fromlist=["x"])
        .load_catalogue()
        .rules[rule["id"]]
        .params
        if p.name == name
    )
    out_of_bounds = runner.invoke(
        main,
        [
            *ws,
            "rules",
            "set",
            rule["id"],
            name,
            str(cat_param.max + 1),
            "--by",
            "王审核",
            "--reason",
            "b",
        ],
    )
    assert out_of_bounds.exit_code == 1 and "outside" in out_of_bounds.output
    for by, refusal in (("nobody", "no such account"), ("li", "may not change rule parameters")):
        args = [*ws, "rules", "set", rule["id"], name, str(cat_param.min), "--reason", "b"]
        r = runner.invoke(main, [*args, "--by", by])
        assert r.exit_code == 1 and refusal in r.output
    no_reason = runner.invoke(main, [*ws, "rules", "set", rule["id"], name, str(cat_param.min)])
    assert no_reason.exit_code != 0
    ok = runner.invoke(
        main,
        [
            *ws,
            "rules",
            "set",
            rule["id"],
            name,
            str(cat_param.min),
            "--by",
            "王审核",
            "--reason",
            "试行",
        ],
    )
    assert ok.exit_code == 0 and "version 2" in ok.output
    hist = runner.invoke(main, [*ws, "rules", "history", rule["id"]])
    assert "王审核" in hist.output and "试行" in hist.output
    with open_store(tmp_path) as store:
        audited = store.audit_log().select("actor", "action", "object_id").rows()
    assert audited == [("王审核", "parameter.change", rule["id"])]
    listed = json.loads(runner.invoke(main, [*ws, "rules", "list", "--json"]).output)
    again = next(x for x in listed["rules"] if x["id"] == rule["id"])
    assert again["version"] == 2 and again["params"][name] == cat_param.min


def test_rules_list_reports_framework_coverage() -> None:
    r = CliRunner().invoke(main, ["rules", "list", "--json"])
    cov = json.loads(r.output)["coverage"]
    assert cov["total"] == 79 and cov["claim_supported"] == 76 and len(cov["not_claims"]) == 3


def test_a_whitelist_entry_suppresses_the_hits_it_covers(full_ws: Path, tmp_path: Path) -> None:
    run = open_run(full_ws)
    f = run.findings().filter(pl.col("entity_type") == "fee_line")
    target = f.row(0, named=True)
    ws = tmp_path / "ws"
    shutil.copytree(full_ws / "lake", ws / "lake")
    (ws / "rules").mkdir()
    (ws / "rules" / "whitelist.csv").write_text(
        "rule_id,match,value,valid_from,valid_to,reason\n"
        f"{target['rule_id']},fixmedins_code,{target['fixmedins_code']},2000-01-01,2099-12-31,"
        "测试豁免\n",
        encoding="utf-8",
    )
    new = score(ws, rule_ids=[target["rule_id"]])
    outcome = new.manifest["rules"][0]
    before = f.filter(pl.col("rule_id") == target["rule_id"])
    gone = before.filter(pl.col("fixmedins_code") == target["fixmedins_code"]).height
    assert outcome["n_whitelisted"] == gone > 0
    assert new.findings().height == before.height - gone
    assert latest_run(ws) == new.run_id


def test_on_the_tiny_county_rules_find_the_rule_schemes_and_spare_the_lookalikes(
    tiny_county: Path, full_ws: Path
) -> None:
    from hrss_fraud.evaluation.judge import Truth, evaluate

    result = evaluate(open_run(full_ws), Truth.read(tiny_county / "truth"))
    per_scheme = pl.DataFrame(result["per_scheme"]).filter(pl.col("family") == "rule")
    weak = per_scheme.filter(pl.col("recall") < 0.95)
    assert result["recall_rule_schemes"] >= 0.95, weak
    assert result["precision"] >= 0.98, pl.DataFrame(result["per_rule"])
    statistical = {r.id for r in load_catalogue().rules.values() if r.family == "statistical"}
    per_rule = pl.DataFrame(result["per_rule"])
    rules_only = per_rule.filter(~pl.col("rule_id").is_in(list(statistical)))
    assert rules_only["lookalike_hits"].sum() == 0, rules_only.filter(pl.col("lookalike_hits") > 0)


@pytest.mark.slow  # trains the models
def test_the_first_full_run_trains_the_model_and_a_foreign_one_is_refused(
    full_ws: Path, tmp_path: Path
) -> None:
    first = sorted(p.name for p in (full_ws / "runs").iterdir() if p.name[0].isdigit())[0]
    from hrss_fraud.detectors.models import KERNEL_MODELS

    assert open_run(full_ws, first).manifest["models_trained"] == sorted(KERNEL_MODELS.values())
    assert (full_ws / "models" / "visit_frequency.json").is_file()
    ws = tmp_path / "ws"
    shutil.copytree(full_ws / "lake", ws / "lake")
    runner = CliRunner()
    r = runner.invoke(main, ["--workspace", str(ws), "models", "train"])
    assert r.exit_code == 0, r.output
    assert "visit_frequency:" in r.output and "person-months" in r.output
    assert "review model: no run yet, skipped" in r.output
    saved = json.loads((ws / "models" / "visit_frequency.json").read_text(encoding="utf-8"))
    assert saved["training"]["data_sha256"] and saved["libraries"]["scikit-learn"]
    saved["libraries"]["scikit-learn"] = "0.0.1"
    (ws / "models" / "visit_frequency.json").write_text(json.dumps(saved), encoding="utf-8")
    r = runner.invoke(main, ["--workspace", str(ws), "score", "--quiet"])
    assert r.exit_code == 1 and "retrain with `hrss-fraud models train`" in r.output
    assert not (ws / "runs" / "LATEST").exists()


def test_on_the_tiny_county_the_detectors_find_what_rules_miss_and_spare_clean_persons(
    tiny_county: Path, full_ws: Path
) -> None:
    from hrss_fraud.evaluation.judge import Truth, evaluate

    truth = Truth.read(tiny_county / "truth")
    run = open_run(full_ws)
    per_scheme = pl.DataFrame(evaluate(run, truth)["per_scheme"])
    targeted = per_scheme.filter(
        pl.col("scheme").is_in(["abnormal_frequency", "high_cost_outpatient", "ring"])
    )
    assert targeted.height == 3 and (targeted["recall"] >= 0.8).all(), targeted
    person_detectors = ["abnormal_visit_frequency", "covisit_ring"]
    flagged = set(run.findings().filter(pl.col("rule_id").is_in(person_detectors))["psn_no"])
    guilty = set(truth.entities.filter(pl.col("entity_type") == "person")["entity_id"])
    guilty |= set(truth.lines["psn_no"].drop_nulls())
    persons = Lake(full_ws / "lake").connect().sql("SELECT psn_no FROM person").pl()
    clean = set(persons["psn_no"]) - guilty
    assert len(flagged & clean) / len(clean) <= 0.005


def test_the_inspection_list_ranks_the_fraudulent_institutions_first(
    tiny_county: Path, full_ws: Path, tmp_path: Path
) -> None:
    from hrss_fraud.evaluation.judge import Truth, ranking_metrics
    from hrss_fraud.outputs.ranking import COLUMNS, institution_ranking

    out = tmp_path / "list.csv"
    r = CliRunner().invoke(
        main,
        ["--workspace", str(full_ws), "export", "inspection-list", "--top", "3", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    top = pl.read_csv(out, infer_schema=False)
    assert tuple(top.columns) == COLUMNS and top["rank"].to_list() == ["1", "2", "3"]
    assert "条，¥" in top["reasons"][0]
    xlsx = tmp_path / "list.xlsx"
    args = ["--workspace", str(full_ws), "export", "inspection-list", "--top", "3"]
    r = CliRunner().invoke(main, [*args, "--out", str(xlsx)])
    assert r.exit_code == 0, r.output
    sheet = pl.read_excel(xlsx, infer_schema_length=0)
    assert tuple(sheet.columns) == COLUMNS
    assert sheet["fixmedins_code"].to_list() == top["fixmedins_code"].to_list()
    assert sheet["reasons"].to_list() == top["reasons"].to_list()
    run = open_run(full_ws)
    ranking = institution_ranking(run, Lake(full_ws / "lake"))
    # each claim line counted once: never more than the findings' sum, never above spending
    by_inst = run.lines().group_by("fixmedins_code").agg(pl.col("amount_at_risk").sum())
    both = ranking.join(by_inst, on="fixmedins_code", suffix="_lines")
    assert (both["amount_at_risk"] <= both["amount_at_risk_lines"] + 0.01).all()
    assert (both["amount_at_risk"] < both["amount_at_risk_lines"] - 0.01).any()
    assert (ranking["risk_score"] <= 1).all()
    m = ranking_metrics(run, Lake(full_ws / "lake"), Truth.read(tiny_county / "truth"))
    assert m["roc_auc"] >= 0.95 and m["precision_at_k"] >= 0.8, m
    assert m["fp_rate_clean_persons"] <= 0.005 and m["fp_rate_clean_institutions"] <= 0.1, m


def test_doctors_and_persons_are_ranked_on_their_own_lines(
    tiny_county: Path, full_ws: Path, tmp_path: Path
) -> None:
    from hrss_fraud.evaluation.judge import Truth
    from hrss_fraud.outputs.ranking import risk_ranking

    out = tmp_path / "persons.csv"
    r = CliRunner().invoke(
        main,
        [
            *("--workspace", str(full_ws), "export", "risk-ranking", "--level", "person"),
            *("--top", "20", "--lang", "en", "--out", str(out)),
        ],
    )
    assert r.exit_code == 0, r.output
    top = pl.read_csv(out, infer_schema=False)
    assert top.columns[:3] == ["rank", "psn_no", "psn_name"] and top.height == 20
    assert " findings, ¥" in top["reasons"][0]
    bad = CliRunner().invoke(
        main,
        [
            *("--workspace", str(full_ws), "export", "risk-ranking", "--level", "ward"),
            *("--out", str(tmp_path / "x.csv")),
        ],
    )
    assert bad.exit_code != 0 and "ward" in bad.output

    run, lake, truth = open_run(full_ws), Lake(full_ws / "lake"), Truth.read(tiny_county / "truth")
    persons = risk_ranking(run, lake, "person")
    # a person answers only for person-level leads and person-conduct rules
    conduct = {r.id for r in load_catalogue().rules.values() if "person_conduct" in r.tags}
    f = run.findings()
    own = f.filter((pl.col("entity_type") == "person") | pl.col("rule_id").is_in(list(conduct)))
    named = set(run.lines().join(own.select("finding_id"), on="finding_id")["psn_no"])
    flagged = persons.filter(pl.col("n_findings") > 0)
    assert set(flagged["psn_no"]) == named - {None}
    only_line_leads = set(f["psn_no"].drop_nulls()) - named
    assert only_line_leads, "the tiny county should have persons named only by line rules"
    assert persons.filter(pl.col("psn_no").is_in(list(only_line_leads)))["n_findings"].max() == 0
    guilty = set(truth.entities.filter(pl.col("entity_type") == "person")["entity_id"])
    guilty |= set(truth.lines["psn_no"].drop_nulls())
    assert persons.head(20)["psn_no"].is_in(list(guilty)).mean() >= 0.9

    doctors = risk_ranking(run, lake, "doctor")
    assert doctors.columns[:4] == ["rank", "bilg_dr_codg", "dr_name", "fixmedins_code"]
    assert (doctors["amount_at_risk"] <= doctors["inscp"] + 0.01).all()
    fraud = truth.fraud_institutions["fixmedins_code"].implode()
    assert doctors.head(10)["fixmedins_code"].is_in(fraud).mean() >= 0.8


def test_rule_shares_count_each_institutions_flagged_settlements_and_patients(
    full_ws: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shares.parquet"
    args = ["--workspace", str(full_ws), "export", "rule-shares", "--out", str(out)]
    r = CliRunner().invoke(main, [*args, "--rule", "abnormal_visit_frequency"])
    assert r.exit_code == 0, r.output
    shares = pl.read_parquet(out)
    run = open_run(full_ws)
    ids = run.findings().filter(pl.col("rule_id") == "abnormal_visit_frequency")["finding_id"]
    lines = run.lines().filter(pl.col("finding_id").is_in(ids.implode()))
    patients = lines.group_by("fixmedins_code").agg(n=pl.col("psn_no").n_unique())
    both = shares.join(patients, on="fixmedins_code")
    assert both.height == shares.height > 0
    assert (both["flagged_persons"] == both["n"]).all()
    assert (shares["person_share"] <= 1).all() and (shares["settlement_share"] <= 1).all()
    assert shares["settlement_share"].is_sorted(descending=True)
    bad = CliRunner().invoke(main, [*args, "--rule", "no_such_rule"])
    assert bad.exit_code != 0 and "no_such_rule" in bad.output


def test_score_by_family_runs_that_familys_rules(full_ws: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(full_ws / "lake", ws / "lake")
    shutil.copytree(full_ws / "models", ws / "models")
    args = ["--workspace", str(ws), "score", "--quiet"]
    bad = CliRunner().invoke(main, [*args, "--family", "statistical,astrology"])
    assert bad.exit_code != 0 and "unknown rule family: astrology" in bad.output
    r = CliRunner().invoke(main, [*args, "--family", "statistical", "--rules", "item_sex"])
    assert r.exit_code == 0, r.output
    ran = {x["rule_id"] for x in open_run(ws).manifest["rules"]}
    cat = load_catalogue()
    assert ran == {r.id for r in cat.rules.values() if r.family == "statistical"} | {"item_sex"}


def test_an_excel_export_beyond_a_sheet_is_refused_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hrss_fraud.outputs import export

    monkeypatch.setattr(export, "EXCEL_ROWS", 2)
    df = pl.DataFrame({"finding_id": ["a", "b", "c"], "codes": [["x", "y"], [], None]})
    with pytest.raises(ValueError, match=r"3 rows do not fit in an Excel sheet \(2 at most\)"):
        export.write_export(df, tmp_path / "big.xlsx")
    assert list(tmp_path.iterdir()) == []
    export.write_export(df.head(2), tmp_path / "ok.xlsx")
    sheet = pl.read_excel(tmp_path / "ok.xlsx", infer_schema_length=0)
    assert sheet.rows() == [("a", "x, y"), ("b", None)]
