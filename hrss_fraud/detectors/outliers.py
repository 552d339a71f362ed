"""Kernels ``outlier_institution``, ``outlier_doctor``, ``outlier_person``: entities whose
whole profile is far from their peers', each lead explained by the features behind it.

The feature sets (:mod:`hrss_fraud.detectors.features`) are first put on a common scale
against peers — each feature's robust z against the median and spread (MAD × 1.4826, or
mean absolute deviation × 1.2533 where most peers share one value) of the finest peer group
with at least :data:`MIN_PEER_ENTITIES` entities (institution kind × level for institutions
and doctors, age band × chronic care for persons) — and only the excess counts: z below 0
is 0, since billing less than one's peers is no lead.

Two detectors score the rescaled rows: scikit-learn's isolation forest (rows that few
random splits isolate) and HBOS (:mod:`hrss_fraud.detectors.hbos`, rows in rare histogram
bins). Their scores are made ranks in the training population and the higher taken
(:func:`combine`); a row is a lead when that is in the top ``tail_share`` of the training
rows and at least one
feature is ``min_z`` or more above its peers. Each feature's part in the lead is half its
share of the HBOS score (additive by construction) and half its share of the isolation
path weight (each split on the feature along the row's path, weighted by 1 / the path's
length, as DIFFI does). The lead names the features ``min_z`` above their peers, most
important first, with their value and peer median; the lines behind them are violating;
the amount at risk is the largest priced excess among them (features module doc), or 0
when none can be priced, which the evidence then says.

The model (peer statistics, histograms, trees, training score distributions) is trained on
the whole lake and saved as JSON with the library versions, the features, a fingerprint of
the training rows and a checksum of its own content; :func:`load` refuses a file that does
not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import sklearn
from sklearn.ensemble import IsolationForest

from hrss_fraud.detectors import hbos
from hrss_fraud.detectors.features import SETS, FeatureSet, behind_lines, compute
from hrss_fraud.detectors.modelfile import ModelError, read_checked, write_json
from hrss_fraud.engine.hits import empty_hits, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.model.codes import FIXMEDINS_TYPE, HOSP_LV, MEDINS_TYPE
from hrss_fraud.model.numbers import money

MODELS = {f"outlier_{k}": k for k in SETS}
"""Model (and kernel) name → feature set kind."""
TRAIN_SUPPORT = {"institution": 30, "doctor": 30, "person": 3}
"""Least visits behind a training row: fewer make a profile of noise."""
MIN_PEER_ENTITIES = 3
N_TREES = 100
SEED = 0
ECDF_POINTS = 20_001
"""The training scores kept for ranking (all of them up to this many, else quantiles)."""
MAD_TO_SD = 1.4826
MEAN_AD_TO_SD = 1.2533


def _libraries() -> dict[str, str]:
    return {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "polars": pl.__version__}


def _c(n: np.ndarray) -> np.ndarray:
    """Average path length of an unsuccessful search in a binary tree of ``n`` nodes
    (the isolation forest's normaliser, as scikit-learn computes it)."""
    n = np.asarray(n, dtype=float)
    out = np.where(n == 2, 1.0, 0.0)
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


@dataclass(frozen=True)
class Forest:
    """An isolation forest's trees as arrays, to score and attribute without pickles."""

    trees: list[dict[str, np.ndarray]]
    max_samples: int

    @classmethod
    def fit(cls, z: np.ndarray) -> Forest:
        est = IsolationForest(
            n_estimators=N_TREES, max_samples=min(256, len(z)), random_state=SEED
        ).fit(z)
        trees = []
        for tree, feats in zip(est.estimators_, est.estimators_features_, strict=True):
            t = tree.tree_
            trees.append(
                {
                    "left": t.children_left.copy(),
                    "right": t.children_right.copy(),
                    "feature": np.where(t.feature >= 0, np.asarray(feats)[t.feature], -1),
                    "threshold": t.threshold.copy(),
                    "n": t.n_node_samples.copy(),
                }
            )
        return cls(trees, int(est.max_samples_))

    def score(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Anomaly score 2^(−mean path length / c(max_samples)) as scikit-learn's
        ``-score_samples``, and each feature's path weight (rows × features)."""
        x = z.astype(np.float32).astype(float)  # the trees split float32 values
        n, p = x.shape
        total = np.zeros(n)
        weight = np.zeros((n, p))
        rows = np.arange(n)
        for t in self.trees:
            node = np.zeros(n, dtype=np.int64)
            depth = np.zeros(n)
            splits = np.zeros((n, p))
            live = rows[t["left"][node] >= 0]
            while len(live):
                nd = node[live]
                f = t["feature"][nd]
                left = x[live, f] <= t["threshold"][nd]
                splits[live, f] += 1
                node[live] = np.where(left, t["left"][nd], t["right"][nd])
                depth[live] += 1
                live = live[t["left"][node[live]] >= 0]
            h = depth + _c(t["n"][node])
            total += h
            weight += splits / np.maximum(h, 1.0)[:, None]
        return 2.0 ** (-total / len(self.trees) / _c(np.array([self.max_samples]))[0]), weight

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_samples": self.max_samples,
            "trees": [{k: v.tolist() for k, v in t.items()} for t in self.trees],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Forest:
        trees = [
            {k: np.asarray(v, dtype=float if k == "threshold" else np.int64) for k, v in t.items()}
            for t in d["trees"]
        ]
        return cls(trees, int(d["max_samples"]))


def _transformed(df: pl.DataFrame, fs: FeatureSet) -> pl.DataFrame:
    return df.with_columns(
        (pl.col(f.name).log1p() if f.log else pl.col(f.name)).alias(f"t_{f.name}")
        for f in fs.features
    )


def peer_stats(df: pl.DataFrame, fs: FeatureSet) -> list[pl.DataFrame]:
    """Per peer level: the groups' entity count and each feature's median and spread."""
    t = _transformed(df, fs)
    names = fs.names
    floors = {
        f: max(float((t[f"t_{f}"] - t[f"t_{f}"].median()).abs().mean() or 0.0), 1.0) * 1e-3
        for f in names
    }
    out = []
    for cols in fs.peer_levels:
        keys = list(cols)
        agg = [pl.col(fs.key).n_unique().alias("n")] + [
            pl.col(f"t_{f}").median().alias(f"med_{f}") for f in names
        ]
        med = t.group_by(keys).agg(agg) if keys else t.select(agg)
        dev = (
            t.join(med, on=keys, how="left", nulls_equal=True) if keys else t.join(med, how="cross")
        )
        spread = [
            pl.max_horizontal(
                (pl.col(f"t_{f}") - pl.col(f"med_{f}")).abs().median() * MAD_TO_SD,
                (pl.col(f"t_{f}") - pl.col(f"med_{f}")).abs().mean() * MEAN_AD_TO_SD,
                pl.lit(floors[f]),
            ).alias(f"sd_{f}")
            for f in names
        ]
        sd = dev.group_by(keys).agg(spread) if keys else dev.select(spread)
        stats = (
            med.join(sd, on=keys, how="left", nulls_equal=True)
            if keys
            else pl.concat([med, sd], how="horizontal")
        )
        out.append(stats.sort(keys) if keys else stats)
    return out


def normalise(
    df: pl.DataFrame, fs: FeatureSet, stats: list[pl.DataFrame]
) -> tuple[pl.DataFrame, np.ndarray]:
    """``df`` with each row's peer level, peer count and per-feature peer median (on the
    original scale), and the matrix of excess robust z (rows × features, ≥ 0)."""
    t = _transformed(df, fs).with_row_index("_row")
    chosen = None
    for i, (cols, s) in enumerate(zip(fs.peer_levels, stats, strict=True)):
        keys = list(cols)
        j = t.join(s, on=keys, how="left", nulls_equal=True) if keys else t.join(s, how="cross")
        j = j.with_columns(peer_level=pl.lit(i, pl.Int32))
        if i < len(stats) - 1:
            j = j.filter(pl.col("n") >= MIN_PEER_ENTITIES)
        if chosen is not None:
            j = j.join(chosen.select("_row"), on="_row", how="anti")
        chosen = j if chosen is None else pl.concat([chosen, j], how="diagonal_relaxed")
    assert chosen is not None
    chosen = chosen.sort("_row")
    z = chosen.select(
        ((pl.col(f"t_{f}") - pl.col(f"med_{f}")) / pl.col(f"sd_{f}")).alias(f) for f in fs.names
    ).to_numpy()
    z = np.clip(np.nan_to_num(z.astype(float), nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    medians = {
        f"peer_{f.name}": (pl.col(f"med_{f.name}").exp() - 1) if f.log else pl.col(f"med_{f.name}")
        for f in fs.features
    }
    out = chosen.select(*df.columns, "peer_level", pl.col("n").alias("peer_n"), **medians)
    return out, z


def _ecdf_points(values: np.ndarray) -> np.ndarray:
    v = np.sort(values)
    if len(v) <= ECDF_POINTS:
        return v
    return np.quantile(v, np.linspace(0, 1, ECDF_POINTS))


def _rank(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The share of training rows at or below each ``x``."""
    return np.searchsorted(sorted_values, x, side="right") / len(sorted_values)


def combine(rank_if: np.ndarray, rank_hbos: np.ndarray) -> np.ndarray:
    """The ensemble's rank: the higher of the two. Each detector has its blind spot (HBOS
    treats features as independent and caps a lone extreme at its bin's floor; the forest
    dilutes one feature among many), so a row either puts in its far tail is kept; the
    threshold, taken on the training rows' combined ranks, still keeps the leads to
    ``tail_share`` of them."""
    return np.maximum(rank_if, rank_hbos)


def _above(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The share of training rows at or above each ``x`` (at least one row's share)."""
    n = len(sorted_values)
    return np.maximum(1 - np.searchsorted(sorted_values, x, side="left") / n, 1 / n)


@dataclass(frozen=True)
class OutlierModel:
    kind: str
    stats: list[pl.DataFrame]
    histograms: hbos.Histograms
    forest: Forest
    ranks: dict[str, np.ndarray]
    """Training scores, sorted: ``iforest``, ``hbos`` and their mean rank ``combined``."""
    training: dict[str, Any]
    libraries: dict[str, str]

    @property
    def features(self) -> FeatureSet:
        return SETS[self.kind]

    def score(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Both scores, their combined rank, and each feature's share of the lead."""
        terms = hbos.terms(self.histograms, z)
        s_hb = terms.sum(axis=1)
        s_if, weight = self.forest.score(z)
        combined = combine(_rank(self.ranks["iforest"], s_if), _rank(self.ranks["hbos"], s_hb))
        share = 0.5 * _shares(terms) + 0.5 * _shares(weight * (z > 0))
        return {"iforest": s_if, "hbos": s_hb, "combined": combined, "share": share}

    def threshold(self, tail_share: float) -> float:
        return float(np.quantile(self.ranks["combined"], 1 - tail_share))

    def to_json(self) -> str:
        body = {
            "kind": MODEL_KIND,
            "features_of": self.kind,
            "features": list(self.features.names),
            "libraries": self.libraries,
            "training": self.training,
            "peer_levels": [list(c) for c in self.features.peer_levels],
            "peer_stats": [s.to_dict(as_series=False) for s in self.stats],
            "hbos": self.histograms.to_dict(),
            "iforest": self.forest.to_dict(),
            "ranks": {k: v.tolist() for k, v in self.ranks.items()},
        }
        body["content_sha256"] = _digest(body)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OutlierModel:
        return cls(
            raw["features_of"],
            [pl.DataFrame(s) for s in raw["peer_stats"]],
            hbos.Histograms.from_dict(raw["hbos"]),
            Forest.from_dict(raw["iforest"]),
            {k: np.asarray(v, dtype=float) for k, v in raw["ranks"].items()},
            raw["training"],
            raw["libraries"],
        )


MODEL_KIND = "outliers"


def _shares(parts: np.ndarray) -> np.ndarray:
    total = parts.sum(axis=1, keepdims=True)
    return np.divide(parts, total, out=np.zeros_like(parts), where=total > 0)


def _digest(body: dict[str, Any]) -> str:
    canon = json.dumps(
        {k: v for k, v in body.items() if k != "content_sha256"},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _claims_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    r = con.execute("""
        SELECT count(DISTINCT psn_no),
               count(DISTINCT psn_no || strftime(begntime, '%Y-%m')),
               count(*), strftime(min(begntime), '%Y-%m'), strftime(max(begntime), '%Y-%m')
        FROM visit
    """).fetchall()[0]
    keys = ("persons", "person_months", "visits", "first_month", "last_month")
    return dict(zip(keys, r, strict=True))


def fit(df: pl.DataFrame, kind: str) -> OutlierModel:
    """Fit on the feature rows ``df`` (already restricted to enough support)."""
    fs = SETS[kind]
    if df.is_empty():
        msg = f"no {kind} rows with enough claims to train the {kind} outlier model on"
        raise ModelError(msg)
    stats = peer_stats(df, fs)
    _, z = normalise(df, fs, stats)
    histograms = hbos.fit(z)
    forest = Forest.fit(z)
    if len(z) > 200_000:  # the training ranks need not score every row of a big lake
        z = z[np.sort(np.random.default_rng(SEED).choice(len(z), 200_000, replace=False))]
    s_if, _ = forest.score(z)
    s_hb = hbos.score(histograms, z)
    r_if, r_hb = _ecdf_points(s_if), _ecdf_points(s_hb)
    combined = combine(_rank(r_if, s_if), _rank(r_hb, s_hb))
    digest = hashlib.sha256(
        df.select(fs.key, "period", *fs.names).write_ipc(None).getvalue()
    ).hexdigest()
    training = {"rows": df.height, "entities": df[fs.key].n_unique(), "data_sha256": digest}
    ranks = {"iforest": r_if, "hbos": r_hb, "combined": _ecdf_points(combined)}
    return OutlierModel(kind, stats, histograms, forest, ranks, training, _libraries())


def train(con: duckdb.DuckDBPyConnection, kind: str) -> OutlierModel:
    """Fit the ``kind`` model on every entity-period of ``con``'s scoring database."""
    df = compute(con, SETS[kind]).filter(pl.col("support") >= TRAIN_SUPPORT[kind])
    model = fit(df, kind)
    model.training.update(_claims_summary(con))
    return model


def save(model: OutlierModel, path: Path) -> None:
    """Write atomically: a reader sees the old model or the new one, never half."""
    write_json(path, model.to_json(), label=f"outlier_{model.kind}_model")


def load(path: Path, kind: str, *, data_sha256: str | None = None) -> OutlierModel:
    """The saved ``kind`` model, or :class:`ModelError` saying why it cannot be used: no
    file, not JSON, other features, other library versions, a content that does not match
    its checksum, or (when ``data_sha256`` is given) other training data."""
    retrain = "; retrain with `hrss-fraud models train`"
    raw = read_checked(
        path,
        what=f"{kind} outlier model",
        expect={
            "kind": MODEL_KIND,
            "features_of": kind,
            "features": list(SETS[kind].names),
            "peer_levels": [list(c) for c in SETS[kind].peer_levels],
        },
        libraries=_libraries(),
        retrain="hrss-fraud models train",
    )
    if raw.get("content_sha256") != _digest(raw):
        msg = f"{path}: its content does not match its checksum (edited or damaged){retrain}"
        raise ModelError(msg)
    if data_sha256 is not None and raw["training"].get("data_sha256") != data_sha256:
        msg = f"{path}: trained on other data than the expected fingerprint {data_sha256[:12]}"
        raise ModelError(msg + retrain)
    return OutlierModel.from_dict(raw)


def table(kind: str) -> str:
    return f"model_outlier_{kind}"


def load_into(con: duckdb.DuckDBPyConnection, model: OutlierModel) -> None:
    """Put the model where the kernel reads it (its JSON in a one-row table)."""
    con.execute(f"CREATE OR REPLACE TABLE {table(model.kind)} (body VARCHAR)")
    con.execute(f"INSERT INTO {table(model.kind)} VALUES (?)", [model.to_json()])


def _model(con: duckdb.DuckDBPyConnection, kind: str) -> OutlierModel:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if table(kind) not in tables:
        msg = f"no {kind} outlier model loaded; train one with `hrss-fraud models train`"
        raise RuntimeError(msg)
    return OutlierModel.from_dict(
        json.loads(con.execute(f"SELECT body FROM {table(kind)}").fetchall()[0][0])
    )


MAX_NAMED = 3
"""Features a lead names at most."""
_ENTITY_ZH = {"institution": "机构", "doctor": "医师", "person": "参保人"}
_ENTITY_EN = {"institution": "Institution", "doctor": "Doctor", "person": "Person"}
_PREFIX = {"institution": "oi", "doctor": "od", "person": "op"}
_CARE = {
    "none": ("无慢病", "no chronic condition"),
    "chronic": ("慢病", "chronic condition"),
    "scheduled": ("透析或放化疗", "dialysis or chemotherapy"),
}


def _peer_label(row: dict[str, Any], cols: tuple[str, ...], lang: str) -> str:
    """The peer group a row was held against, in words."""
    zh = lang == "zh"
    names = {
        "medins_type": MEDINS_TYPE.zh_names() if zh else MEDINS_TYPE.en_names(),
        "hosp_lv": HOSP_LV.zh_names() if zh else HOSP_LV.en_names(),
        "fixmedins_type": FIXMEDINS_TYPE.zh_names() if zh else FIXMEDINS_TYPE.en_names(),
    }
    parts = []
    for c in cols:
        v = str(row[c])
        if c == "care":
            parts.append(_CARE.get(v, (v, v))[0 if zh else 1])
        elif c == "age_band":
            parts.append(f"{v}岁" if zh else f"aged {v}")
        else:
            parts.append(names[c].get(v, v or ("未知" if zh else "unknown")))
    if not parts:
        return "全部" if zh else "all"
    return "·".join(parts) if zh else ", ".join(parts)


def _fmt(value: float | None, feat: Any) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if feat.percent:
        return f"{value:.1%}"
    if feat.money:
        return money(value)
    return f"{value:.2f}"


def excess_fraction(value: float, median: float, pricing: str) -> float:
    """The share of the lines' in-scope amount beyond the peer median (features module
    doc); 0 when the feature is not priced or not above the median."""
    if pricing == "none" or not (value > median >= 0) or not np.isfinite(value):
        return 0.0
    if pricing == "rate":
        return 1.0 - median / value
    if value >= 1.0 or median >= 1.0:
        return 0.0 if median >= 1.0 else 1.0
    return 1.0 - median * (1.0 - value) / (value * (1.0 - median))


def flag(
    df: pl.DataFrame, model: OutlierModel, params: dict[str, float]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Of the feature rows ``df``, the leads (one row per entity-period with its scores and
    peers) and the features each names (one row per lead and feature, most important
    first)."""
    fs = model.features
    min_z, tail = float(params["min_z"]), float(params["tail_share"])
    df = df.filter(pl.col("support") >= float(params["min_support"]))
    rows, z = normalise(df, fs, model.stats) if df.height else (df, np.zeros((0, 0)))
    cand = np.flatnonzero(z.max(axis=1) >= min_z) if z.size else np.zeros(0, dtype=np.int64)
    # only a row some feature puts min_z above its peers can be a lead: the others are not
    # scored
    s = model.score(z[cand]) if len(cand) else {"combined": np.zeros(0)}
    keep = s["combined"] >= model.threshold(tail)
    idx = cand[keep]
    if not len(idx):
        return rows.head(0), pl.DataFrame()
    leads = rows[idx].with_columns(
        combined=pl.Series(s["combined"][keep]),
        top_share=pl.Series(_above(model.ranks["combined"], s["combined"][keep])),
        lead=pl.int_range(pl.len()),
    )
    zl, share = z[idx], s["share"][keep]
    named = []
    for i in range(len(idx)):
        order = [j for j in np.argsort(-share[i], kind="stable") if zl[i, j] >= min_z]
        for rank, j in enumerate(order[:MAX_NAMED]):
            f = fs.features[j]
            named.append(
                {
                    "lead": i,
                    "rank": rank,
                    "feature": f.name,
                    "z": float(zl[i, j]),
                    "share": float(share[i, j]),
                    "value": leads[f.name][i],
                    "median": leads[f"peer_{f.name}"][i],
                }
            )
    nf = pl.DataFrame(named).join(leads.select("lead", fs.key, "period"), on="lead")
    return leads, nf


def _priced(nf: pl.DataFrame, lines: pl.DataFrame, fs: FeatureSet) -> pl.DataFrame:
    """Per lead, the named feature whose excess prices highest, its fraction and amount."""
    inscp = lines.group_by(fs.key, "period", "feature").agg(inscp=pl.col("inscp").sum())
    p = nf.join(inscp, on=[fs.key, "period", "feature"], how="left").with_columns(
        frac=pl.struct("value", "median", "feature").map_elements(
            lambda r: excess_fraction(r["value"], r["median"], fs.feature(r["feature"]).pricing),
            return_dtype=pl.Float64,
        )
    )
    p = p.with_columns(amount=pl.col("frac") * pl.col("inscp").fill_null(0.0))
    return (
        p.filter(pl.col("amount") > 0)
        .sort("lead", "amount", "rank", descending=[False, True, False])
        .unique("lead", keep="first", maintain_order=True)
        .select("lead", priced="feature", frac="frac", priced_inscp="inscp", priced_amount="amount")
    )


def _evidence(
    lead: dict[str, Any], feats: list[dict[str, Any]], fs: FeatureSet, tail: float
) -> tuple[str, str]:
    cols = fs.peer_levels[lead["peer_level"]]
    who_zh = f"{_ENTITY_ZH[fs.kind]}{lead[fs.key]}"
    who_en = f"{_ENTITY_EN[fs.kind]} {lead[fs.key]}"
    period = lead["period"]
    period_zh = period.replace("-Q", "年第") + "季度" if "Q" in period else period
    top = f"{lead['top_share']:.2%}"
    zh_parts, en_parts = [], []
    for r in feats:
        f = fs.feature(r["feature"])
        zh_parts.append(
            f"{f.zh}{_fmt(r['value'], f)}（同类中位数{_fmt(r['median'], f)}，稳健Z值"
            f"{r['z']:.1f}，贡献{r['share']:.0%}）"
        )
        en_parts.append(
            f"{f.en} {_fmt(r['value'], f)} (peer median {_fmt(r['median'], f)}, robust z "
            f"{r['z']:.1f}, {r['share']:.0%} of the score)"
        )
    peer_zh, peer_en = _peer_label(lead, cols, "zh"), _peer_label(lead, cols, "en")
    zh = (
        f"{who_zh}在{period_zh}（{lead['support']:.0f}人次）的指标组合与同类（{peer_zh}，"
        f"{lead['peer_n']}个）相比异常：孤立森林与直方图异常分的综合排名居前{top}（阈值前"
        f"{tail:.2%}）。主要因素：{'；'.join(zh_parts)}。"
    )
    en = (
        f"{who_en} in {period} ({lead['support']:.0f} visits) stands out from its peers "
        f"({peer_en}, {lead['peer_n']}): the isolation forest and histogram scores together "
        f"rank it in the top {top} (threshold {tail:.2%}). Driven by: {'; '.join(en_parts)}."
    )
    if lead["priced"] is not None:
        f = fs.feature(lead["priced"])
        zh += (
            f"疑点金额按{f.zh}超出同类中位数的部分计：其明细医保范围内金额"
            f"{money(lead['priced_inscp'])}×{lead['frac']:.1%}＝{money(lead['priced_amount'])}。"
        )
        en += (
            f" Amount at risk: the excess of {f.en} over the peer median, "
            f"{lead['frac']:.1%} of its lines' in-scope {money(lead['priced_inscp'])} = "
            f"{money(lead['priced_amount'])}."
        )
    else:
        zh += "这些指标的超出部分无法如实折算为金额，疑点金额计0，请结合所列明细核查。"
        en += (
            " The excess of these features cannot be priced honestly, so the amount at risk "
            "is 0; review the lines listed."
        )
    return zh, en


def detect(con: duckdb.DuckDBPyConnection, kind: str, params: dict[str, float]) -> pl.DataFrame:
    """Hit lines of the ``kind`` outlier leads."""
    fs = SETS[kind]
    leads, nf = flag(compute(con, fs), _model(con, kind), params)
    if leads.is_empty():
        return empty_hits()
    lines = behind_lines(con, fs, nf)
    priced = _priced(nf, lines, fs)
    leads = leads.join(priced, on="lead", how="left")
    tail = float(params["tail_share"])
    ev = []
    for lead in leads.iter_rows(named=True):
        feats = nf.filter(pl.col("lead") == lead["lead"]).sort("rank").to_dicts()
        zh, en = _evidence(lead, feats, fs, tail)
        ev.append({"lead": lead["lead"], "evidence": zh, "evidence_en": en})
    leads = leads.join(pl.DataFrame(ev), on="lead")
    line_id = ["fixmedins_code", "mdtrt_id", "feedetl_sn"]
    rows = (
        lines.join(leads.select(fs.key, "period", "lead", "priced", "frac"), on=[fs.key, "period"])
        .with_columns(
            amount=pl.when(pl.col("feature") == pl.col("priced"))
            .then(pl.col("frac") * pl.col("inscp"))
            .otherwise(0.0)
        )
        .sort("lead", *line_id, "amount", descending=[False, False, False, False, True])
        .unique(["lead", *line_id], keep="first", maintain_order=True)
        .join(leads.select("lead", "evidence", "evidence_en", "combined"), on="lead")
    )
    return project_hits(
        rows,
        hit_key=pl.format(f"{_PREFIX[kind]}|{{}}|{{}}", fs.key, "period"),
        entity_type=kind,
        entity_id=pl.col(fs.key),
        line_time="fee_ocur_time",
        amount="amount",
        score="combined",
    )


@kernel("outlier_institution")
def outlier_institution(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    return detect(con, "institution", params)


@kernel("outlier_doctor")
def outlier_doctor(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    return detect(con, "doctor", params)


@kernel("outlier_person")
def outlier_person(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    return detect(con, "person", params)
