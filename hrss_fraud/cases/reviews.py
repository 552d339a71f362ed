"""Learning from reviews: the probability that reviewers will confirm a lead, learnt from
the leads they have already confirmed or dismissed (issue 5, part 6).

Labels are per lead: a finding whose latest decision in the case store is *confirmed* is
1, *dismissed* 0; pending decisions give none. Features are the lead's own (its rule,
family, severity, entity type, amount, lines and detector score) and context that carries
no label: how many other leads the run has on its institution and person, and their
amount. No lead is ever given its institution's label or its neighbours' decisions
(DOMAIN.md §7): that would teach the model whom reviewers suspected, not what they found.

The model (gradient-boosted trees, calibrated) stays off below a minimum of labels of
each class, and says so. It is saved with the library versions, the feature list, the
category vocabularies and the fingerprint of the decisions it learnt from; a model whose
decisions have changed since is refused, so the weights never silently lag behind the
reviewers.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from hrss_fraud.cases import open_store
from hrss_fraud.cases.store import store_exists
from hrss_fraud.detectors.modelfile import ModelError, read_checked
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.runs import open_run
from hrss_fraud.lake.fsutil import write_bytes_atomic

KIND = "review_weights"
MIN_LABELS = 200
MIN_PER_CLASS = 30
SEVERITY_RANK = {"suspicious": 0, "high": 1, "definite": 2}
CATEGORICAL = ("rule_id", "family", "entity_type")
NUMERIC = (
    "severity_rank",
    "log_amount",
    "log_lines",
    "violating_share",
    "score",
    "inst_other_leads",
    "inst_log_amount",
    "inst_rules",
    "person_other_leads",
)
FEATURES = CATEGORICAL + NUMERIC
_THREADS = 1
"""Threads for the trees: a few thousand leads fit in a fraction of a second on one, while
OpenMP's spinning threads on a busy two-core machine made each fit forty times slower."""
_MAX_CATEGORIES = 254
"""The trees' categorical splits take at most 255 bins, one kept for missing."""


class StaleModelError(ModelError):
    """A saved model trained on other decisions than the store now holds."""


def model_files(workspace: Path) -> tuple[Path, Path]:
    """The pickled estimator and its JSON description under ``WORKSPACE/models``."""
    folder = Path(workspace) / "models"
    return folder / f"{KIND}.pkl", folder / f"{KIND}.json"


def _libraries() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


@dataclass(frozen=True)
class ReviewModelStatus:
    """Whether lead weights are on, and why (in Chinese and English), with the label counts
    and the thresholds they were held against."""

    enabled: bool
    reason: str
    """``on``, ``too_few_labels``, ``no_model``, ``stale`` or ``incompatible``."""
    message_zh: str
    message_en: str
    labels: int
    confirmed: int
    dismissed: int
    min_labels: int
    min_per_class: int
    metrics: dict[str, Any] | None = None
    model_path: str | None = None
    unmatched: int = 0
    """Labelled leads that the run used for training does not hold (left out)."""

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _status(
    reason: str,
    counts: tuple[int, int],
    thresholds: tuple[int, int],
    **extra: Any,
) -> ReviewModelStatus:
    confirmed, dismissed = counts
    n, (lo, k) = confirmed + dismissed, thresholds
    have_zh = f"已有{n}条审核结论（确认{confirmed}，排除{dismissed}）"
    have_en = f"{n} reviewed leads ({confirmed} confirmed, {dismissed} dismissed)"
    metrics = extra.get("metrics") or {}
    texts = {
        "too_few_labels": (
            f"审核学习未启用：{have_zh}，需至少{lo}条且确认、排除各至少{k}条；疑点按规则严重程度排序。",
            f"learning from reviews is off: {have_en}; it needs at least {lo}, with at least "
            f"{k} of each; leads keep their severity order.",
        ),
        "no_model": (
            f"审核学习未启用：{have_zh}，但尚未训练模型；请运行 hrss-fraud cases train-model。",
            f"learning from reviews is off: {have_en} but no model is trained; run "
            "`hrss-fraud cases train-model`.",
        ),
        "stale": (
            f"审核学习未启用：模型训练后审核结论有变化（{have_zh}）；请运行 hrss-fraud cases "
            "train-model 重新训练。",
            f"learning from reviews is off: the decisions changed since the model was trained "
            f"({have_en}); retrain with `hrss-fraud cases train-model`.",
        ),
        "incompatible": (
            f"审核学习未启用：模型文件不可用（{extra.get('detail', '')}）；请重新训练。",
            f"learning from reviews is off: the saved model cannot be used "
            f"({extra.get('detail', '')}); retrain it.",
        ),
        "on": (
            f"审核学习已启用：{have_zh}，交叉验证 ROC-AUC {metrics.get('roc_auc')}"
            f"（仅按严重程度 {metrics.get('severity_roc_auc')}）。",
            f"learning from reviews is on: {have_en}, cross-validated ROC-AUC "
            f"{metrics.get('roc_auc')} (severity alone {metrics.get('severity_roc_auc')}).",
        ),
    }
    zh, en = texts[reason]
    extra.pop("detail", None)
    return ReviewModelStatus(
        reason == "on", reason, zh, en, n, confirmed, dismissed, lo, k, **extra
    )


def lead_features(findings: pl.DataFrame, families: dict[str, str]) -> pl.DataFrame:
    """``finding_id`` and :data:`FEATURES` of every finding (categoricals as text).

    The context columns count over ``findings`` itself, so pass a whole run's findings."""
    inst = pl.col("fixmedins_code")
    psn = pl.col("psn_no")
    amount = pl.col("amount_at_risk").fill_null(0.0).clip(lower_bound=0.0)
    return findings.select(
        "finding_id",
        "rule_id",
        family=pl.col("rule_id").replace_strict(families, default=None, return_dtype=pl.String),
        entity_type="entity_type",
        severity_rank=pl.col("severity").replace_strict(
            SEVERITY_RANK, default=None, return_dtype=pl.Float64
        ),
        log_amount=amount.log1p(),
        log_lines=pl.col("n_lines").cast(pl.Float64).log1p(),
        violating_share=pl.col("n_violating") / pl.col("n_lines").clip(lower_bound=1),
        score=pl.col("score").cast(pl.Float64),
        inst_other_leads=pl.when(inst.is_not_null()).then(pl.len().over(inst) - 1),
        inst_log_amount=pl.when(inst.is_not_null()).then(amount.sum().over(inst).log1p()),
        inst_rules=pl.when(inst.is_not_null()).then(pl.col("rule_id").n_unique().over(inst)),
        person_other_leads=pl.when(psn.is_not_null()).then(pl.len().over(psn) - 1),
    ).with_columns(pl.col(c).cast(pl.Float64) for c in NUMERIC)


def _vocabularies(features: pl.DataFrame) -> dict[str, list[str]]:
    """Each categorical's values, most frequent first, at most :data:`_MAX_CATEGORIES`."""
    out = {}
    for c in CATEGORICAL:
        counts = (
            features[c].drop_nulls().value_counts().sort(["count", c], descending=[True, False])
        )
        out[c] = counts[c].head(_MAX_CATEGORIES).to_list()
    return out


def _matrix(features: pl.DataFrame, vocabularies: dict[str, list[str]]) -> np.ndarray:
    """Categoricals as their vocabulary index (unseen or missing: NaN), then the numbers."""
    coded = [
        pl.col(c)
        .replace_strict(
            {v: i for i, v in enumerate(vocabularies[c])}, default=None, return_dtype=pl.Float64
        )
        .alias(c)
        for c in CATEGORICAL
    ]
    return features.select(*coded, *NUMERIC).to_numpy().astype(np.float64)


def _estimator(n: int, random_state: int) -> CalibratedClassifierCV:
    trees = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=200,
        max_leaf_nodes=15,
        min_samples_leaf=10,
        l2_regularization=1.0,
        categorical_features=[c in CATEGORICAL for c in FEATURES],
        random_state=random_state,
    )
    # isotonic needs many labels to be smoother than a few steps; sigmoid is safer below
    method = "isotonic" if n >= 1000 else "sigmoid"
    return CalibratedClassifierCV(trees, method=method, cv=3)


@dataclass
class ReviewModel:
    """The calibrated estimator and what it was trained on."""

    estimator: CalibratedClassifierCV
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, findings: pl.DataFrame, families: dict[str, str]) -> pl.DataFrame:
        """``finding_id, p_confirmed`` for every finding, in order."""
        feats = lead_features(findings, families)
        if feats.is_empty():
            return pl.DataFrame(schema={"finding_id": pl.String, "p_confirmed": pl.Float64})
        with threadpool_limits(_THREADS, user_api="openmp"):
            p = self.estimator.predict_proba(_matrix(feats, self.meta["categories"]))[:, 1]
        return feats.select("finding_id").with_columns(p_confirmed=pl.Series(p, dtype=pl.Float64))


def fit(
    features: pl.DataFrame, labels: pl.Series, *, cv_folds: int = 5, random_state: int = 0
) -> ReviewModel:
    """Fit on labelled leads' features; the metrics are out-of-fold (each lead scored by a
    model that did not see it), beside the ROC-AUC of the severity order alone."""
    y = labels.cast(pl.Int8).to_numpy()
    vocab = _vocabularies(features)
    x = _matrix(features, vocab)
    folds = StratifiedKFold(cv_folds, shuffle=True, random_state=random_state)
    with threadpool_limits(_THREADS, user_api="openmp"):
        oof = cross_val_predict(
            _estimator(len(y), random_state), x, y, cv=folds, method="predict_proba"
        )[:, 1]
        estimator = _estimator(len(y), random_state).fit(x, y)
    severity = features["severity_rank"].fill_null(0).to_numpy()
    metrics = {
        "cv_folds": cv_folds,
        "roc_auc": round(float(roc_auc_score(y, oof)), 4),
        "average_precision": round(float(average_precision_score(y, oof)), 4),
        "brier": round(float(brier_score_loss(y, oof)), 4),
        "log_loss": round(float(log_loss(y, oof)), 4),
        "severity_roc_auc": round(float(roc_auc_score(y, severity)), 4),
        "base_rate": round(float(y.mean()), 4),
    }
    return ReviewModel(estimator, {"categories": vocab, "metrics": metrics})


def decisions_fingerprint(labels: pl.DataFrame) -> str:
    """SHA-256 of every ``finding_id, label`` pair, in order of finding: the training data
    of this model is the reviewers' final decisions."""
    text = "".join(f"{f}\t{y}\n" for f, y in labels.sort("finding_id").iter_rows())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _counts(labels: pl.DataFrame) -> tuple[int, int]:
    confirmed = int((labels["label"] == 1).sum())
    return confirmed, labels.height - confirmed


def _enough(counts: tuple[int, int], min_labels: int, min_per_class: int) -> bool:
    return sum(counts) >= min_labels and min(counts) >= min_per_class


def _families(workspace: Path) -> dict[str, str]:
    return {r.id: r.family for r in load_catalogue(workspace=workspace).rules.values()}


def _store_labels(workspace: Path) -> pl.DataFrame:
    """The store's final labels; none (without creating a store) when there is no store."""
    if not store_exists(workspace):
        return pl.DataFrame(schema={"finding_id": pl.String, "label": pl.Int8})
    with open_store(workspace) as store:
        return store.labels()


def save(model: ReviewModel, workspace: Path) -> Path:
    """Write the estimator, then its description naming the estimator's SHA-256: a reader
    between the two writes finds them unmatched and refuses, never a mix."""
    pkl, meta_path = model_files(workspace)
    blob = pickle.dumps(model.estimator, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {**model.meta, "model_sha256": hashlib.sha256(blob).hexdigest()}
    write_bytes_atomic(pkl, blob, label="review_model")
    text = json.dumps(meta, ensure_ascii=False, indent=1) + "\n"
    write_bytes_atomic(meta_path, text.encode("utf-8"), label="review_model_meta")
    return meta_path


def load(workspace: Path, decisions_sha256: str) -> ReviewModel:
    """The saved model if it was trained by this code, these libraries and these decisions;
    :class:`ModelError` (:class:`StaleModelError` for other decisions) saying why not."""
    pkl, meta_path = model_files(workspace)
    meta = read_checked(
        meta_path,
        what="review model",
        expect={"kind": KIND, "features": list(FEATURES)},
        libraries=_libraries(),
        retrain="hrss-fraud cases train-model",
    )
    if not pkl.is_file():
        msg = f"no review model at {pkl}; train one with `hrss-fraud cases train-model`"
        raise ModelError(msg)
    if meta.get("training", {}).get("decisions_sha256") != decisions_sha256:
        msg = f"{meta_path}: trained on other review decisions than the case store now holds"
        raise StaleModelError(msg)
    blob = pkl.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("model_sha256"):
        msg = f"{pkl}: does not match its description {meta_path} (written by another training?)"
        raise ModelError(msg)
    return ReviewModel(pickle.loads(blob), meta)  # our own file, checked against its digest


def train_review_model(
    workspace: Path,
    *,
    run_id: str | None = None,
    min_labels: int = MIN_LABELS,
    min_per_class: int = MIN_PER_CLASS,
    cv_folds: int = 5,
    random_state: int = 0,
) -> ReviewModelStatus:
    """``hrss-fraud cases train-model`` (and ``models train``): fit on the store's final
    decisions and the run's findings (default: the latest run), save, and say how it went.
    Below the minimum nothing is trained and the status says why."""
    workspace = Path(workspace)
    thresholds = (min_labels, min_per_class)
    run = open_run(workspace, run_id)
    findings = run.findings()
    labels = _store_labels(workspace)
    features = lead_features(findings, _families(workspace))
    labelled = features.join(labels, on="finding_id", how="inner")
    unmatched = labels.height - labelled.height
    counts = _counts(labelled)
    if not _enough(counts, *thresholds):
        return _status("too_few_labels", counts, thresholds, unmatched=unmatched)
    model = fit(labelled, labelled["label"], cv_folds=cv_folds, random_state=random_state)
    model.meta = {
        "kind": KIND,
        "features": list(FEATURES),
        "libraries": _libraries(),
        **model.meta,
        "training": {
            "run_id": run.run_id,
            "labels": labelled.height,
            "confirmed": counts[0],
            "dismissed": counts[1],
            "unmatched": unmatched,
            "min_labels": min_labels,
            "min_per_class": min_per_class,
            "decisions_sha256": decisions_fingerprint(labels),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }
    path = save(model, workspace)
    return _status(
        "on",
        counts,
        thresholds,
        metrics=model.meta["metrics"],
        model_path=str(path),
        unmatched=unmatched,
    )


def lead_weights(
    findings: pl.DataFrame,
    workspace: Path,
    *,
    min_labels: int = MIN_LABELS,
    min_per_class: int = MIN_PER_CLASS,
) -> tuple[pl.DataFrame | None, ReviewModelStatus]:
    """Per finding the calibrated probability that reviewers confirm it (``finding_id,
    p_confirmed``), or ``None`` when the model is off; the status says which, and why.

    Pass the whole run's findings: the context features count over them."""
    workspace = Path(workspace)
    thresholds = (min_labels, min_per_class)
    labels = _store_labels(workspace)
    counts = _counts(labels)
    if not _enough(counts, *thresholds):
        return None, _status("too_few_labels", counts, thresholds)
    try:
        model = load(workspace, decisions_fingerprint(labels))
    except StaleModelError:
        return None, _status("stale", counts, thresholds)
    except ModelError as e:
        reason = "no_model" if not model_files(workspace)[1].exists() else "incompatible"
        return None, _status(reason, counts, thresholds, detail=str(e))
    trained = model.meta["training"]
    if not _enough((trained["confirmed"], trained["dismissed"]), *thresholds):
        # the labels the run matched were fewer than the store holds: trained below the bar
        return None, _status(
            "too_few_labels", (trained["confirmed"], trained["dismissed"]), thresholds
        )
    weights = model.predict(findings, _families(workspace))
    status = _status(
        "on",
        counts,
        thresholds,
        metrics=model.meta["metrics"],
        model_path=str(model_files(workspace)[1]),
        unmatched=trained["unmatched"],
    )
    return weights, status
