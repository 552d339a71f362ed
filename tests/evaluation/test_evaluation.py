"""The evaluation: report tables on hand-made judged runs (exact figures), the goals as
pass/fail columns, labels, plots that work offline, and the CLI on the tiny county."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from hrss_fraud.cli.evaluation import evaluate_group
from hrss_fraud.evaluation import report
from hrss_fraud.evaluation.labels import localize, to_markdown
from hrss_fraud.evaluation.outputs import write_evaluation
from hrss_fraud.evaluation.pipeline import LOOKALIKE_SCHEMA, SeedResult, parse_seeds
from hrss_fraud.evaluation.plots import Inline, figures

CDN_SCRIPT = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.IGNORECASE)


def _schemes(recalls: dict[str, float]) -> pl.DataFrame:
    """evaluate()'s per_scheme for schemes a (beyond, fee lines), b (beyond, persons) and
    c (a rule scheme), 10 / 4 / 5 injected."""
    injected = {"a": 10, "b": 4, "c": 5}
    return pl.DataFrame(
        {
            "scheme": ["a", "b", "c"],
            "family": ["beyond", "beyond", "rule"],
            "entity_type": ["fee_line", "person", "fee_line"],
            "injected": [injected[s] for s in "abc"],
            "found": [round(recalls[s] * injected[s]) for s in "abc"],
            "rules": ["x", "y", "z"],
            "recall": [recalls[s] for s in "abc"],
            "institutions": [2, None, 1],
            "institutions_found": [1, None, 1],
            "institution_recall": [0.5, None, 1.0],
            "scheme_zh": ["甲", "乙", "丙"],
        }
    )


def _lookalikes(flagged: dict[str, tuple[int, int, str]]) -> pl.DataFrame:
    """evaluate()'s look-alike rates: kind -> (encounters, flagged, rules)."""
    rows = [
        {"lookalike": k, "encounters": n, "flagged": f, "rate": round(f / n, 4), "rules": r}
        for k, (n, f, r) in flagged.items()
    ]
    return pl.DataFrame(rows, schema=LOOKALIKE_SCHEMA)


def _seed(
    seed: int,
    recalls: dict[str, float],
    fraud: list[bool],
    looks: dict[str, tuple[int, int, str]] | None = None,
    **summary: object,
) -> SeedResult:
    n = len(fraud)
    lookalikes = _lookalikes(looks or {"dialysis": (100, 0, "")})
    ranking = pl.DataFrame(
        {
            "rank": list(range(1, n + 1)),
            "fixmedins_code": [f"H{i}" for i in range(n)],
            "risk_score": [1.0 - i / n for i in range(n)],
            "fraudulent": fraud,
        }
    )
    base = {
        "institutions": n,
        "fraudulent_institutions": sum(fraud),
        "k": 1,
        "findings": 100,
        "precision": 0.99,
        "recall_rule_schemes": 1.0,
        "lookalike_hits": 0,
        "fp_rate_clean_institutions": 0.0,
        "lookalike_rate_max": lookalikes["rate"].max(),
        "recall_rule_scheme_min": 1.0,
        "precision_top_200_cases": 1.0,
        "dq_in_queue": 0,
    }
    per_rule = pl.DataFrame({"rule_id": ["x"], "findings": [3], "true": [2], "precision": [0.6667]})
    return SeedResult(
        seed=seed,
        run_id=f"run{seed}",
        per_scheme=_schemes(recalls),
        per_rule=per_rule,
        summary={**base, **summary},
        ranking=ranking,
        lookalikes=lookalikes,
    )


@pytest.fixture
def results() -> list[SeedResult]:
    return [
        _seed(
            1,
            {"a": 0.9, "b": 0.5, "c": 1.0},
            [True, False, True, False],
            precision_at_k=1.0,
            roc_auc=0.96,
            fp_rate_clean_persons=0.004,
        ),
        _seed(
            2,
            {"a": 1.0, "b": 0.75, "c": 0.8},
            [False, True, True, False],
            {"dialysis": (100, 0, ""), "maternity": (50, 1, "abnormal_visit_frequency")},
            precision_at_k=0.5,
            roc_auc=0.75,
            fp_rate_clean_persons=0.005,
            failed_rules="broken",
            inactive_rules="zb_ct_share,zb_mri_share",
        ),
    ]


@pytest.fixture
def evaluation(results: list[SeedResult]) -> report.Evaluation:
    return report.build(results)


def test_scheme_table_has_a_goal_only_for_the_schemes_rules_miss(
    evaluation: report.Evaluation,
) -> None:
    t = evaluation.schemes.filter(pl.col("seed") == 1).sort("scheme")
    assert t["unit"].to_list() == ["fee_line", "person", "fee_line"]
    assert t["recall"].to_list() == [0.9, 0.5, 1.0]
    assert t["goal"].to_list() == [0.8, 0.8, None]
    assert t["meets_goal"].to_list() == [True, False, None]
    assert t["institution_recall"].to_list() == [0.5, None, 1.0]
    assert evaluation.schemes.height == 6


def test_seed_table_takes_the_lowest_recall_of_the_schemes_rules_miss(
    evaluation: report.Evaluation,
) -> None:
    s = evaluation.seeds
    assert s["seed"].to_list() == [1, 2]
    assert s["beyond_recall_min"].to_list() == [0.5, 0.75]
    assert s["beyond_schemes"].to_list() == [2, 2]
    assert s["beyond_schemes_met"].to_list() == [1, 1]
    assert s["met_beyond_recall_min"].to_list() == [False, False]
    assert s["met_precision_at_k"].to_list() == [True, False]
    assert s["met_roc_auc"].to_list() == [True, False]
    # the boundary is inside the goal
    assert s["met_fp_rate_clean_persons"].to_list() == [True, True]
    assert s["all_goals_met"].to_list() == [False, False]
    assert s["failed_rules"].to_list() == [None, "broken"]
    assert s["inactive_rules"].to_list() == [None, "zb_ct_share,zb_mri_share"]


def test_all_goals_met_when_every_one_is() -> None:
    ok = _seed(
        3,
        {"a": 0.8, "b": 1.0, "c": 0.1},
        [True, False],
        precision_at_k=0.8,
        roc_auc=0.95,
        fp_rate_clean_persons=0.0,
    )
    ev = report.build([ok])
    assert ev.seeds["all_goals_met"].to_list() == [True]
    assert ev.met
    assert report.verdict(ev, "en").endswith("Verdict: every goal met.")


def test_a_goal_that_cannot_be_measured_is_not_met() -> None:
    # a ranking with one class only has no ROC-AUC (ranking_metrics gives None)
    r = _seed(
        4,
        {"a": 1.0, "b": 1.0, "c": 1.0},
        [False, False],
        precision_at_k=1.0,
        roc_auc=None,
        fp_rate_clean_persons=0.0,
    )
    ev = report.build([r])
    assert ev.seeds["met_roc_auc"].to_list() == [False]
    assert report.roc_points(ev.rankings).is_empty()
    row = ev.summary.filter(pl.col("metric") == "roc_auc").row(0, named=True)
    assert row["worst"] is None and row["met"] is False


def test_summary_across_seeds_judges_the_worst_seed(evaluation: report.Evaluation) -> None:
    by = {r["metric"]: r for r in evaluation.summary.iter_rows(named=True)}
    assert list(by)[: len(report.GOALS)] == [g.metric for g in report.GOALS]
    assert by["precision_at_k"] | {"metric": None} == {
        "metric": None,
        "seeds": 2,
        "mean": 0.75,
        "min": 0.5,
        "max": 1.0,
        "worst": 0.5,
        "goal": "≥ 0.8",
        "met": False,
    }
    assert by["beyond_recall_min"]["mean"] == 0.625
    assert by["fp_rate_clean_persons"]["worst"] == 0.005  # the largest: the goal is ≤
    assert by["fp_rate_clean_persons"]["met"] is True
    assert by["fp_rate_clean_institutions"]["goal"] is None
    assert by["fp_rate_clean_institutions"]["met"] is None


def test_scheme_summary_mean_and_lowest_recall(evaluation: report.Evaluation) -> None:
    s = evaluation.scheme_summary
    assert s["scheme"].to_list() == ["a", "b", "c"]
    assert s["recall_mean"].to_list() == [0.95, 0.625, 0.9]
    assert s["recall_min"].to_list() == [0.9, 0.5, 0.8]
    assert s["institution_recall_min"].to_list() == [0.5, None, 1.0]
    assert s["met"].to_list() == [True, False, None]


def test_precision_curve_for_every_list_size(evaluation: report.Evaluation) -> None:
    c = report.precision_curve(evaluation.rankings).filter(pl.col("seed") == 1)
    assert c["k"].to_list() == [1, 2, 3, 4]
    assert c["share"].to_list() == [0.25, 0.5, 0.75, 1.0]
    assert c["precision"].to_list() == [1.0, 0.5, 0.6667, 0.5]


def test_roc_points_run_from_the_origin_to_the_corner(evaluation: report.Evaluation) -> None:
    p = report.roc_points(evaluation.rankings).filter(pl.col("seed") == 1)
    assert p.row(0) == (1, 0.0, 0.0)
    assert p.row(-1) == (1, 1.0, 1.0)
    assert p.filter((pl.col("fpr") == 0.0) & (pl.col("tpr") == 0.5)).height == 1


def test_rules_table_keeps_whatever_rules_each_run_had(evaluation: report.Evaluation) -> None:
    assert evaluation.rules.columns[:2] == ["seed", "rule_id"]
    assert evaluation.rules["seed"].to_list() == [1, 2]


def test_localize_labels_columns_and_words(evaluation: report.Evaluation) -> None:
    zh = localize(evaluation.summary, "zh")
    assert zh.columns[0] == "指标" and "是否达标" in zh.columns
    assert zh["指标"][0] == "规则遗漏方案最低召回率"
    assert zh["是否达标"].to_list()[:4] == ["未达标", "未达标", "未达标", "达标"]
    en = localize(evaluation.scheme_summary, "en")
    assert "scheme_zh" not in en.columns and "Scheme name" not in en.columns
    assert en["Family"].to_list() == ["beyond fixed rules", "beyond fixed rules", "fixed rules"]
    assert en["Goal met"].to_list() == ["pass", "fail", None]
    with pytest.raises(ValueError, match="lang 'fr'"):
        localize(evaluation.summary, "fr")  # type: ignore[arg-type]


def test_markdown_table() -> None:
    df = pl.DataFrame({"a": ["x|y", None], "b": [0.12345, 1.0], "c": [3, 0]})
    assert to_markdown(df) == "| a | b | c |\n|---|---|---|\n| x\\|y | 0.1235 | 3 |\n| — | 1 | 0 |"


def test_verdict_names_the_schemes_below_the_goal_and_failed_and_inactive_rules(
    evaluation: report.Evaluation,
) -> None:
    text = report.verdict(evaluation, "zh")
    assert "✗ 规则遗漏方案最低召回率：最差 0.5（目标 ≥ 0.8）" in text
    assert "✓ 清白参保人误报率：最差 0.005（目标 ≤ 0.005）" in text
    assert "b（乙）最低召回率 0.5" in text and "a（甲）" not in text
    assert "broken" in text
    assert "注意：有规则因缺少知识库未启用（zb_ct_share, zb_mri_share），其检出不在结果中。" in text
    # maternity at 1 / 50 = 0.02 in seed 2: above the 1 % goal, named with its rule
    assert "✗ 合规相似最高误报率：最差 0.02（目标 ≤ 0.01）" in text
    assert "maternity 最高误报率 0.02（abnormal_visit_frequency）" in text
    assert "dialysis 最高" not in text
    assert text.endswith("结论：4/8项目标未达标。")


def test_lookalike_tables_per_seed_and_across_seeds(evaluation: report.Evaluation) -> None:
    t = evaluation.lookalikes
    assert t.select("lookalike", "seed", "rate", "meets_goal").rows() == [
        ("dialysis", 1, 0.0, True),
        ("dialysis", 2, 0.0, True),
        ("maternity", 2, 0.02, False),
    ]
    s = evaluation.lookalike_summary
    assert s.select(
        "lookalike", "seeds", "encounters", "flagged", "rate_max", "rules", "met"
    ).rows() == [
        ("dialysis", 2, 200, 0, 0.0, "", True),
        ("maternity", 1, 50, 1, 0.02, "abnormal_visit_frequency", False),
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_files_and_offline_plots(
    evaluation: report.Evaluation, tmp_path: Path, lang: str
) -> None:
    written = write_evaluation(evaluation, tmp_path, lang=lang, source="hand-made")  # type: ignore[arg-type]
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"evaluation.md", "evaluation.json", "summary.parquet", "schemes.parquet"} <= names
    plots = sorted((tmp_path / "plots").glob("*.html"))
    assert [p.stem for p in plots] == sorted(figures(evaluation))
    title = "各方案召回率" if lang == "zh" else "Recall per scheme"
    for p in plots:
        html = p.read_text(encoding="utf-8")
        assert not CDN_SCRIPT.search(html), p.name
        assert "mathjax" not in html.lower().split("</head>")[0]
        # plotly.js itself, embedded (a few MB), not fetched
        assert len(html) > 1_000_000 and "window.Plotly" in html
    recall_html = (tmp_path / "plots" / "recall_per_scheme.html").read_text(encoding="utf-8")
    assert json.dumps(title)[1:-1] in recall_html  # plotly writes the figure as JSON
    doc = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["seeds"] == [1, 2] and doc["met"] is False
    assert pl.read_parquet(tmp_path / "seeds.parquet").equals(evaluation.seeds)
    md = (tmp_path / "evaluation.md").read_text(encoding="utf-8")
    assert ("检查名单精确率@K(10%)" if lang == "zh" else "Precision at K (10%)") in md


def test_a_notebook_figure_needs_no_cdn(evaluation: report.Evaluation) -> None:
    html = Inline(figures(evaluation, "zh")["roc_curve"])._repr_html_()
    assert not CDN_SCRIPT.search(html)
    assert "<html" not in html and "window.Plotly" in html


def test_parse_seeds() -> None:
    assert parse_seeds("1, 2,3") == [1, 2, 3]
    for bad, why in (("1,x", "whole numbers"), ("", "at least one"), ("2,2", "repeated")):
        with pytest.raises(ValueError, match=why):
            parse_seeds(bad)


def test_cli_refuses_bad_seeds_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(evaluate_group, ["run", "--seeds", "1,x", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().startswith("hrss-fraud: error: seeds '1,x'")
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_cli_run_on_the_tiny_county_then_judge_the_same_run(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    runner = CliRunner()
    result = runner.invoke(
        evaluate_group,
        ["run", "--preset", "tiny", "--seeds", "7", "--out", str(out), "--work", str(work)],
    )
    assert result.exit_code == 0, result.output
    assert "| 指标 |" in result.output and "结论：" in result.output
    for name in ("evaluation.md", "evaluation.json", "summary.parquet", "rankings.parquet"):
        assert (out / name).is_file(), name
    assert len(list((out / "plots").glob("*.html"))) == 4
    doc = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["seeds"] == [7]
    # every injected scheme is reported, whatever the catalogue's rules
    county = work / "seed-7" / "county"
    truth = pl.read_parquet(county / "truth" / "schemes.parquet")
    schemes = pl.read_parquet(out / "schemes.parquet")
    assert set(schemes["scheme"]) == set(truth["scheme"])
    seeds = pl.read_parquet(out / "seeds.parquet")
    assert seeds["k"][0] == max(1, round(0.1 * seeds["institutions"][0]))
    ranking = pl.read_parquet(out / "rankings.parquet")
    assert ranking["fraudulent"].sum() == seeds["fraudulent_institutions"][0]

    again = tmp_path / "again"
    judged = runner.invoke(
        evaluate_group,
        [
            "judge",
            "--workspace",
            str(work / "seed-7" / "workspace"),
            "--truth",
            str(county / "truth"),
            "--out",
            str(again),
            "--lang",
            "en",
        ],
    )
    assert judged.exit_code == 0, judged.output
    assert "| Metric |" in judged.output and "Verdict:" in judged.output
    # the same run judged again gives the same figures
    assert pl.read_parquet(again / "summary.parquet").equals(
        pl.read_parquet(out / "summary.parquet")
    )
