"""A recall floor for the outlier detectors (``hrss_fraud.detectors.outliers``): clear
outliers injected into a generated population of three peer groups must come out on top
of the leads, at the catalogue's own parameters.

The population: every feature of the kind's feature set near its peer group's level
(log-normal, 10 % spread), the three groups' levels far apart (× 0.5, × 1, × 2.5: a normal
member of the high group bills more than an outlier of the low one, so only the peer
comparison can tell them apart). The outliers: ``N_INJECTED`` entities, each with two or
three features moved 3 to 6 times their own value, as a scheme moves several features at
once (phantom services add lines and cost too). Everything is drawn from one fixed seed,
and the model is trained on the whole population, outliers included, as ``models train``
does on the lake, so the test is deterministic.

(An outlier on one feature alone is a known weak spot of the ensemble, see
``outliers.combine``; it is not what this floor is about.)"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from hrss_fraud.detectors.features import SETS
from hrss_fraud.detectors.outliers import fit, flag
from hrss_fraud.engine.catalogue import load_catalogue

SEED = 20250317
N_INJECTED = 10
RECALL_FLOOR = 0.8
POPULATION = {"institution": 400, "doctor": 1_000, "person": 20_000}
"""Sized so the catalogue's ``tail_share`` leaves room for twice the injected outliers:
0.05 × 400, 0.02 × 1,000, 0.001 × 20,000 = 20 leads at most."""
LEVELS = (0.5, 1.0, 2.5)
PEER_GROUPS = {
    "institution": [
        {"medins_type": "A1", "hosp_lv": "1", "fixmedins_type": "1"},
        {"medins_type": "A1", "hosp_lv": "2", "fixmedins_type": "1"},
        {"medins_type": "B1", "hosp_lv": "9", "fixmedins_type": "2"},
    ],
    "person": [
        {"age_band": "18-44", "care": "none"},
        {"age_band": "45-59", "care": "chronic"},
        {"age_band": "60-74", "care": "scheduled"},
    ],
}
PEER_GROUPS["doctor"] = PEER_GROUPS["institution"]


def population(kind: str, seed: int = SEED) -> tuple[pl.DataFrame, dict[str, set[str]]]:
    """The feature rows of one period, and each injected entity's moved features."""
    fs = SETS[kind]
    n = POPULATION[kind]
    rng = np.random.default_rng(seed)
    group = rng.integers(0, len(LEVELS), n)
    level = np.asarray(LEVELS)[group]
    peer_columns = sorted({c for lv in fs.peer_levels for c in lv})
    data: dict[str, object] = {
        "fixmedins_code": [f"H{g}" for g in group],
        fs.key: [f"E{i:05d}" for i in range(n)],
        "period": ["2025-03"] * n,
        "period_start": [date(2025, 3, 1)] * n,
        "support": rng.integers(40, 400, n),
        **{c: [PEER_GROUPS[kind][g][c] for g in group] for c in peer_columns},
    }
    values = {}
    for f in fs.features:
        # shares stay below 1: their groups sit at 0.3 × sqrt(level), 0.21 to 0.47
        base = 0.3 * np.sqrt(level) if f.percent else 10.0 * level
        values[f.name] = base * np.exp(0.1 * rng.standard_normal(n))
    moved: dict[str, set[str]] = {}
    for i in rng.choice(n, N_INJECTED, replace=False):
        picked = rng.choice(len(fs.features), rng.integers(2, 4), replace=False)
        for j in picked:
            f = fs.features[j]
            v = values[f.name][i] * rng.uniform(3.0, 6.0)
            values[f.name][i] = min(v, 0.95) if f.percent else v
        moved[f"E{i:05d}"] = {fs.features[j].name for j in picked}
    return pl.DataFrame({**data, **values}), moved


@pytest.mark.parametrize("kind", ["institution", "doctor", "person"])
def test_injected_outliers_top_the_leads(kind: str) -> None:
    df, moved = population(kind)
    key = SETS[kind].key
    params = load_catalogue().rules[f"outlier_{kind}"].defaults()
    leads, named = flag(df, fit(df, kind), params)
    # the threshold keeps the leads to the tail the catalogue allows
    assert leads.height <= params["tail_share"] * df.height
    # the top k leads by the ensemble's rank, k = the injected count; a tie at the cut
    # goes against the injected, so the floor never rests on an arbitrary order
    top = (
        leads.with_columns(injected=pl.col(key).is_in(list(moved)))
        .sort(["combined", "injected"], descending=[True, False])
        .head(N_INJECTED)
    )
    found = set(top.filter("injected")[key])
    recall = len(found) / N_INJECTED
    assert recall >= RECALL_FLOOR, (
        f"{kind}: {len(found)} of {N_INJECTED} injected outliers in the top {N_INJECTED} "
        f"leads; missed {sorted(set(moved) - found)}"
    )
    # each injected lead is explained by features that were moved
    for entity in found:
        features = set(named.filter(pl.col(key) == entity)["feature"])
        assert features & moved[entity], (entity, features, moved[entity])
