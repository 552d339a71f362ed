"""Histogram-based outlier score (HBOS, Goldstein and Dengel 2012), in numpy.

Each feature gets its own histogram of fixed-width bins over the training values; a row's
score is the sum over features of log(mode density / density of its bin), so a value in
the commonest bin adds 0 and a value in a bin few training rows share adds much. The terms
are additive, which is what makes the score explainable: each feature's term is its part
of the score. Features are assumed independent (that is the method's price for being
cheap); values beyond the training range fall in an empty bin, whose density is the
regularising floor ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Histograms:
    """Per feature: the left edge, the bin width and each bin's log(mode density /
    density) — the term a value in that bin adds."""

    lo: np.ndarray
    width: np.ndarray
    terms: list[np.ndarray]

    def to_dict(self) -> dict[str, list]:
        return {
            "lo": self.lo.tolist(),
            "width": self.width.tolist(),
            "terms": [t.tolist() for t in self.terms],
        }

    @classmethod
    def from_dict(cls, d: dict[str, list]) -> Histograms:
        return cls(
            np.asarray(d["lo"], dtype=float),
            np.asarray(d["width"], dtype=float),
            [np.asarray(t, dtype=float) for t in d["terms"]],
        )


def fit(
    x: np.ndarray, *, bin_width: float = 0.5, max_bins: int = 200, alpha: float = 0.5
) -> Histograms:
    """Histograms of each column of ``x`` (rows × features, no NaN). Bins are
    ``bin_width`` wide (features on a common scale, e.g. robust z) unless the range would
    need more than ``max_bins``; ``alpha`` is added to every bin's count so no density is
    zero."""
    if x.ndim != 2 or not len(x):
        msg = "HBOS needs a non-empty 2-D array of rows × features"
        raise ValueError(msg)
    lo = x.min(axis=0)
    span = x.max(axis=0) - lo
    width = np.maximum(bin_width, span / max_bins)
    terms = []
    for j in range(x.shape[1]):
        n_bins = int(np.floor(span[j] / width[j])) + 1
        idx = np.minimum(((x[:, j] - lo[j]) / width[j]).astype(np.int64), n_bins - 1)
        counts = np.bincount(idx, minlength=n_bins) + alpha
        # one more bin: everything outside the training range
        density = np.r_[counts, alpha] / (len(x) + alpha * (n_bins + 1))
        terms.append(np.log(density.max() / density))
    return Histograms(lo, width, terms)


def terms(h: Histograms, x: np.ndarray) -> np.ndarray:
    """Each row's term per feature (rows × features); their row sums are the scores."""
    out = np.empty(x.shape, dtype=float)
    for j, t in enumerate(h.terms):
        n_bins = len(t) - 1
        pos = np.floor((x[:, j] - h.lo[j]) / h.width[j])
        outside = (pos < 0) | (pos >= n_bins) | ~np.isfinite(pos)
        idx = np.where(outside, n_bins, np.clip(pos, 0, n_bins - 1)).astype(np.int64)
        out[:, j] = t[idx]
    return out


def score(h: Histograms, x: np.ndarray) -> np.ndarray:
    """The HBOS score of each row: higher is rarer."""
    return terms(h, x).sum(axis=1)
