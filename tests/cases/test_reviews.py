"""Learning from reviews: off below the minimum, and on the tiny county with simulated
reviewers, a better ranking of held-out leads than their severity; stale models refused.

The truth only plays the reviewers here. They look for fraud: a lead is confirmed when
it touches an injected scheme. With the shipped thresholds nearly every lead of this
county does, and no reviewer would dismiss enough of them to learn from; the reviewed
workspace is scored with a centre's over-sensitive first thresholds (:data:`LOOSE`).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from hrss_fraud.cases import Decision, open_store, reviews, store_path
from hrss_fraud.detectors.frequency_model import ModelError
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.params import set_param
from hrss_fraud.engine.runs import open_run
from hrss_fraud.evaluation.judge import Truth, judge
from hrss_fraud.scoring.score import score

LOOSE = (
    ("high_cost_outpatient", "z", 2.0),
    ("high_cost_outpatient", "min_amount", 0.0),
    ("abnormal_visit_frequency", "alpha", 0.05),
    ("abnormal_visit_frequency", "min_visits", 2.0),
    ("frequent_outpatient", "count", 4.0),
    ("outlier_person", "tail_share", 0.01),
    ("outlier_person", "min_z", 2.0),
)
"""A centre's first, over-sensitive thresholds: the leads they add are mostly legitimate
care, which the simulated reviewers dismiss, so there is something to learn from. (With
the shipped thresholds nearly every lead of this county touches an injected scheme, and the
data-quality findings that used to be dismissed are no longer leads.)"""


def _review(ws: Path, leads: pl.DataFrame) -> None:
    """Record the simulated reviewers' decisions on ``leads`` (``finding_id, true``)."""
    with open_store(ws) as store:
        store.record_decisions(
            Decision(
                fid,
                "first_review",
                "confirmed" if true else "dismissed",
                "模拟审核 simulated",
                "reviewer",
            )
            for fid, true in leads.select("finding_id", "true").iter_rows()
        )


@dataclass(frozen=True)
class Reviewed:
    ws: Path
    findings: pl.DataFrame
    judged: pl.DataFrame  # every finding with ``true`` and ``reviewed``


@pytest.fixture(scope="module")
def reviewed(
    scored_ws: Path, tiny_county: Path, tmp_path_factory: pytest.TempPathFactory
) -> Reviewed:
    ws = tmp_path_factory.mktemp("reviewed")
    shutil.copytree(scored_ws / "lake", ws / "lake")
    shutil.copytree(scored_ws / "models", ws / "models")
    catalogue = load_catalogue()
    for rule_id, param, value in LOOSE:
        set_param(catalogue, ws, rule_id, param, value, "tester", "an over-sensitive start")
    score(ws)
    run = open_run(ws)
    findings = run.findings()
    judged = judge(findings, run.lines(), Truth.read(tiny_county / "truth"), set())
    half = np.random.default_rng(5).random(judged.height) < 0.5
    judged = judged.select("finding_id", "rule_id", "severity", "true").with_columns(
        reviewed=pl.Series(half)
    )
    _review(ws, judged.filter("reviewed"))
    status = reviews.train_review_model(ws)
    assert status.enabled, status.message_en
    return Reviewed(ws, findings, judged)


def test_without_a_case_store_it_is_off_and_creates_none(run_ws: Path) -> None:
    findings = open_run(run_ws).findings()
    weights, status = reviews.lead_weights(findings, run_ws)
    assert weights is None and not status.enabled
    assert (status.reason, status.labels) == ("too_few_labels", 0)
    assert not store_path(run_ws).exists()


def test_below_the_minimum_it_is_off_and_says_why(run_ws: Path) -> None:
    findings = open_run(run_ws).findings().sort("finding_id")
    leads = (
        findings.head(40)
        .select("finding_id")
        .with_columns(
            true=pl.int_range(40) % 4 == 0  # 10 confirmed, 30 dismissed
        )
    )
    _review(run_ws, leads)
    status = reviews.train_review_model(run_ws, min_labels=30, min_per_class=15)
    assert not status.enabled and status.reason == "too_few_labels"
    assert (status.labels, status.confirmed, status.dismissed) == (40, 10, 30)
    assert (status.min_labels, status.min_per_class) == (30, 15)
    assert "确认10，排除30" in status.message_zh and "至少30条" in status.message_zh
    assert "at least 15 of each" in status.message_en
    assert not reviews.model_files(run_ws)[1].exists()
    weights, status = reviews.lead_weights(findings, run_ws)
    assert weights is None and status.reason == "too_few_labels"
    assert (status.min_labels, status.min_per_class) == (reviews.MIN_LABELS, reviews.MIN_PER_CLASS)


def test_enough_labels_but_no_model_says_to_train(run_ws: Path) -> None:
    findings = open_run(run_ws).findings().sort("finding_id")
    _review(run_ws, findings.head(6).with_columns(true=pl.int_range(6) % 2 == 0))
    weights, status = reviews.lead_weights(findings, run_ws, min_labels=6, min_per_class=3)
    assert weights is None and status.reason == "no_model"
    assert "hrss-fraud cases train-model" in status.message_zh


def test_learnt_weights_rank_held_out_leads_better_than_severity(reviewed: Reviewed) -> None:
    weights, status = reviews.lead_weights(reviewed.findings, reviewed.ws)
    assert status.enabled and status.reason == "on"
    assert weights is not None and weights.height == reviewed.findings.height
    assert weights["p_confirmed"].is_between(0, 1).all()
    held_out = reviewed.judged.filter(~pl.col("reviewed")).join(weights, on="finding_id")
    y = held_out["true"].to_numpy()
    assert min(y.sum(), (~y).sum()) >= 100  # both kinds of lead are there to rank
    model_auc = roc_auc_score(y, held_out["p_confirmed"].to_numpy())
    severity = held_out["severity"].replace_strict(reviews.SEVERITY_RANK).to_numpy()
    severity_auc = roc_auc_score(y, severity)
    assert model_auc > severity_auc + 0.02
    assert model_auc >= 0.95
    # calibrated: on leads it never saw, the mean probability is near the confirmed share
    assert abs(held_out["p_confirmed"].mean() - y.mean()) < 0.05


def test_context_separates_leads_of_one_rule(reviewed: Reviewed) -> None:
    """Within one rule (so one severity) the lead's amount, lines and neighbours rank it."""
    weights, _ = reviews.lead_weights(reviewed.findings, reviewed.ws)
    assert weights is not None
    held_out = reviewed.judged.filter(~pl.col("reviewed")).join(weights, on="finding_id")
    mixed = (
        held_out.group_by("rule_id")
        .agg(n=pl.len(), t=pl.col("true").sum())
        .filter((pl.col("t") >= 10) & (pl.col("n") - pl.col("t") >= 10))
        .sort("n", descending=True)
    )
    assert mixed.height >= 1
    one = held_out.filter(pl.col("rule_id") == mixed["rule_id"][0])
    assert roc_auc_score(one["true"].to_numpy(), one["p_confirmed"].to_numpy()) > 0.8


def test_the_saved_model_carries_its_provenance_and_cv_metrics(reviewed: Reviewed) -> None:
    meta = json.loads(reviews.model_files(reviewed.ws)[1].read_text(encoding="utf-8"))
    assert meta["kind"] == "review_weights" and meta["features"] == list(reviews.FEATURES)
    assert set(meta["libraries"]) >= {"scikit-learn", "numpy", "scipy", "python"}
    t = meta["training"]
    n_reviewed = int(reviewed.judged["reviewed"].sum())
    assert t["labels"] == n_reviewed and t["confirmed"] + t["dismissed"] == n_reviewed
    with open_store(reviewed.ws) as store:
        assert t["decisions_sha256"] == reviews.decisions_fingerprint(store.labels())
    m = meta["metrics"]
    assert m["cv_folds"] == 5 and m["roc_auc"] > m["severity_roc_auc"]
    assert 0 < m["brier"] < m["base_rate"] * (1 - m["base_rate"])  # beats a constant guess
    assert set(meta["categories"]["rule_id"]) <= set(reviewed.findings["rule_id"])


def test_a_model_is_refused_once_the_decisions_change(reviewed: Reviewed, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(reviewed.ws, ws)
    with open_store(ws) as store:
        before = reviews.decisions_fingerprint(store.labels())
        lead = reviewed.judged.filter("reviewed").row(0, named=True)
        flipped = "dismissed" if lead["true"] else "confirmed"
        store.record_decision(
            lead["finding_id"], step="second_review", decision=flipped, reason="复审改判", by="z"
        )
        after = reviews.decisions_fingerprint(store.labels())
    assert before != after
    with pytest.raises(reviews.StaleModelError, match="other review decisions"):
        reviews.load(ws, after)
    weights, status = reviews.lead_weights(reviewed.findings, ws)
    assert weights is None and status.reason == "stale"
    assert "重新训练" in status.message_zh and "retrain" in status.message_en
    assert reviews.train_review_model(ws).enabled
    assert reviews.lead_weights(reviewed.findings, ws)[0] is not None


def test_a_pending_decision_does_not_make_the_model_stale(
    reviewed: Reviewed, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(reviewed.ws, ws)
    unreviewed = reviewed.judged.filter(~pl.col("reviewed"))["finding_id"][0]
    with open_store(ws) as store:
        store.record_decision(
            unreviewed, step="first_review", decision="pending", reason="待查", by="z"
        )
    assert reviews.lead_weights(reviewed.findings, ws)[1].enabled


@pytest.mark.parametrize("tamper", ["libraries", "features", "estimator"])
def test_a_model_from_other_code_is_refused(
    reviewed: Reviewed, tmp_path: Path, tamper: str
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(reviewed.ws, ws)
    pkl, meta_path = reviews.model_files(ws)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if tamper == "estimator":
        pkl.write_bytes(pkl.read_bytes() + b"\0")
    else:
        meta[tamper] = {"scikit-learn": "0.1"} if tamper == "libraries" else ["rule_id"]
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with open_store(ws) as store:
        sha = reviews.decisions_fingerprint(store.labels())
    with pytest.raises(ModelError):
        reviews.load(ws, sha)
    weights, status = reviews.lead_weights(reviewed.findings, ws)
    assert weights is None and status.reason == "incompatible"


def _finding(fid: str, inst: str | None, psn: str | None, amount: float, **kw: object) -> dict:
    return {
        "finding_id": fid,
        "rule_id": kw.get("rule_id", "r1"),
        "severity": kw.get("severity", "high"),
        "entity_type": "settlement",
        "fixmedins_code": inst,
        "psn_no": psn,
        "amount_at_risk": amount,
        "score": kw.get("score"),
        "n_lines": kw.get("n_lines", 2),
        "n_violating": 1,
        "period_start": date(2025, 1, 1),
    }


def test_lead_features_count_other_leads_never_the_lead_itself() -> None:
    findings = pl.DataFrame(
        [
            _finding("a", "H1", "P1", 100.0),
            _finding("b", "H1", "P2", 50.0, rule_id="r2", severity="definite", score=3.0),
            _finding("c", "H1", "P1", -5.0, n_lines=0),
            _finding("d", None, None, 10.0),
        ]
    )
    f = reviews.lead_features(findings, {"r1": "rule", "r2": "rule"}).sort("finding_id")
    assert f.columns == ["finding_id", *reviews.FEATURES]
    assert f["inst_other_leads"].to_list() == [2, 2, 2, None]
    assert f["inst_rules"].to_list() == [2, 2, 2, None]
    assert f["person_other_leads"].to_list() == [1, 0, 1, None]
    assert f["inst_log_amount"][0] == pytest.approx(np.log1p(150.0))  # a refund counts 0
    assert f["log_amount"][2] == 0.0 and f["violating_share"][2] == 1.0
    assert f["severity_rank"].to_list() == [1, 2, 1, 1]
    assert f["score"].to_list() == [None, 3.0, None, None]


def test_the_ranking_weighs_each_lead_by_its_chance_of_confirmation(
    reviewed: Reviewed, tiny_county: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from hrss_fraud.cli import main
    from hrss_fraud.lake import Lake
    from hrss_fraud.outputs.ranking import institution_ranking, review_weights

    ws = tmp_path / "ws"
    shutil.copytree(reviewed.ws, ws)
    run, lake = open_run(ws), Lake(ws / "lake")
    weights, status = review_weights(run, ws)
    assert weights is not None and status.enabled
    plain, learnt = institution_ranking(run, lake), institution_ranking(run, lake, weights=weights)
    assert not plain["weighted_at_risk"].equals(learnt["weighted_at_risk"])
    assert (learnt["weighted_at_risk"] <= learnt["amount_at_risk"] + 0.01).all()
    fraud = Truth.read(tiny_county / "truth").fraud_institutions["fixmedins_code"].implode()
    k = max(1, round(0.1 * learnt.height))
    # most of the list still fraudulent institutions (on this over-sensitive run the plain
    # list holds 3 of 3 and the learnt one 2 of 3: see the note on issue 16)
    assert learnt.head(k)["fixmedins_code"].is_in(fraud).mean() >= 0.6

    out = tmp_path / "list.csv"
    args = ["--workspace", str(ws), "export", "inspection-list", "--lang", "en"]
    r = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert status.message("en") in r.output
