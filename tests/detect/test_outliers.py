"""The outlier detectors: HBOS, the forest, the feature SQL, the ensemble's leads and
their explanation, the saved model's guards, and the tiny county end to end."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from helpers.rule_frames import INST, PERSON, fee, scoring_db, visit
from helpers.shared import copy_workspace
from sklearn.ensemble import IsolationForest

from hrss_fraud.detectors import hbos
from hrss_fraud.detectors.features import DOCTOR, INSTITUTION, SETS, compute
from hrss_fraud.detectors.features import PERSON as PERSON_SET
from hrss_fraud.detectors.frequency_model import ModelError
from hrss_fraud.detectors.outliers import (
    N_TREES,
    SEED,
    Forest,
    excess_fraction,
    fit,
    flag,
    load,
    save,
)

DRUG = "XC08CAA001A001010110037"  # 苯磺酸氨氯地平片, med_chrgitm_type 09
LAB = "002503020020000"  # 床旁快速血糖检测, 04
EXAM = "003107010010000"  # 常规心电图检查, 03
P2 = "130123000000000002"


# HBOS ---------------------------------------------------------------------------------


def _bulk(n: int = 200, p: int = 3) -> np.ndarray:
    return np.random.default_rng(7).normal(0.0, 1.0, (n, p))


def test_hbos_scores_the_planted_row_highest_and_names_its_feature() -> None:
    x = np.random.default_rng(7).uniform(0.0, 1.0, (200, 3))
    x[17, 1] = 9.0
    h = hbos.fit(x, bin_width=0.25)
    s = hbos.score(h, x)
    assert int(np.argmax(s)) == 17
    assert int(np.argmax(hbos.terms(h, x)[17])) == 1


def test_hbos_terms_are_zero_in_the_commonest_bin_and_largest_outside_the_range() -> None:
    x = np.array([[0.0], [0.1], [0.2], [1.0], [2.0]])
    h = hbos.fit(x, bin_width=0.5, alpha=0.5)
    t = hbos.terms(h, np.array([[0.05], [1.1], [50.0], [-3.0]]))[:, 0]
    # bins [0, .5): 3 rows, [.5, 1): 0, [1, 1.5): 1, [1.5, 2): 0, [2, 2.5): 1; +0.5 each
    assert t[0] == 0.0
    assert t[1] == pytest.approx(np.log(3.5 / 1.5))
    assert t[2] == t[3] == pytest.approx(np.log(3.5 / 0.5))


def test_hbos_refuses_an_empty_array() -> None:
    with pytest.raises(ValueError, match="non-empty 2-D"):
        hbos.fit(np.zeros((0, 2)))


# the isolation forest -------------------------------------------------------------------


def test_the_forest_scores_exactly_as_scikit_learn() -> None:
    x = _bulk(300, 4)
    x[5] = [6.0, 0.0, 0.0, 6.0]
    ours, weight = Forest.fit(x).score(x)
    est = IsolationForest(n_estimators=N_TREES, max_samples=256, random_state=SEED).fit(x)
    np.testing.assert_allclose(ours, -est.score_samples(x), rtol=1e-12)
    assert int(np.argmax(ours)) == 5
    # the path weight of the planted row sits on the two features that isolate it
    assert set(np.argsort(-weight[5])[:2]) == {0, 3}


def test_a_forest_survives_its_json_form() -> None:
    x = _bulk(100, 2)
    f = Forest.fit(x)
    again = Forest.from_dict(json.loads(json.dumps(f.to_dict())))
    np.testing.assert_array_equal(again.score(x)[0], f.score(x)[0])


# pricing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "median", "pricing", "expected"),
    [
        (4.0, 1.0, "rate", 0.75),  # a quarter of it is what the peers bill
        (1.0, 4.0, "rate", 0.0),  # below the peers: nothing
        (0.8, 0.5, "share", 0.75),  # drugs 80 of 100; at 50 % the 20 others allow 20
        (0.8, 0.5, "none", 0.0),
    ],
)
def test_the_excess_over_the_peers(
    value: float, median: float, pricing: str, expected: float
) -> None:
    assert excess_fraction(value, median, pricing) == pytest.approx(expected)


# feature SQL ----------------------------------------------------------------------------


def _month() -> object:
    """Four outpatient visits of two persons at one hospital in March 2025."""

    def v(mid: str, t: datetime, cost: float, **kw: object) -> dict[str, object]:
        return visit(mid, begntime=t, endtime=t, medfee_sumamt=cost, inscp_amt=cost, **kw)

    def line(mid: str, sn: int, item: str, amount: float, typ: str, t: datetime, dr: str):
        return fee(
            mid, sn, item, pric=amount, med_chrgitm_type=typ, fee_ocur_time=t, bilg_dr_codg=dr
        )

    t1, t2 = datetime(2025, 3, 3, 9), datetime(2025, 3, 3, 10)  # a Monday
    t3, t4 = datetime(2025, 3, 8, 23), datetime(2025, 3, 30, 9)  # Saturday night; Sunday
    setl = [
        v("MD1", t1, 100.0, chfpdr_code="D001"),
        v("MD2", t2, 50.0, chfpdr_code="D001"),
        v("MD3", t3, 30.0, psn_no=P2, chfpdr_code="D002"),
        v("MD4", t4, 20.0, psn_no=P2, chfpdr_code="D001", acct_pay=20.0, psn_cash_pay=0.0),
    ]
    lines = [
        line("MD1", 1, DRUG, 60.0, "09", t1, "D001"),
        line("MD1", 2, LAB, 40.0, "04", t1, "D001"),
        line("MD2", 1, DRUG, 50.0, "09", t2, "D001"),
        {**line("MD3", 1, EXAM, 30.0, "03", t3, "D002"), "psn_no": P2},
        {**line("MD4", 1, DRUG, 20.0, "09", t4, "D001"), "psn_no": P2},
    ]
    persons = [{}, {"psn_no": P2, "certno": "130123198001010022", "brdy": date(1950, 6, 1)}]
    return scoring_db(setl, lines, persons=persons)


def test_institution_features_from_hand_made_claims() -> None:
    row = compute(_month(), INSTITUTION).row(0, named=True)
    assert (row["fixmedins_code"], row["period"], row["support"]) == (INST, "2025-03", 4)
    expected = {
        "op_cost_per_visit": 200 / 4,
        "op_lines_per_visit": 5 / 4,
        "op_drugs_per_visit": 3 / 4,
        "op_services_per_visit": 2 / 4,  # the lab test and the ECG
        "drug_share": 130 / 200,
        "visits_per_patient": 4 / 2,
        "visits_per_doctor_day": 4 / 3,  # D001 on the 3rd and the 30th, D002 on the 8th
        "acct_no_cash_share": 1 / 4,
        "night_weekend_share": 2 / 4,
        "month_end_share": 1 / 4,
    }
    assert {k: row[k] for k in expected} == pytest.approx(expected)
    assert row["ip_cost_per_day"] is None


def test_doctor_features_from_hand_made_claims() -> None:
    df = compute(_month(), DOCTOR)
    assert df["bilg_dr_codg"].to_list() == ["D001", "D002"]
    row = df.row(0, named=True)
    expected = {
        "support": 3,
        "visits_per_day": 1.5,  # two on the 3rd, one on the 30th
        "peak_day_visits": 2.0,
        "cost_per_visit": 170 / 3,
        "lines_per_visit": 4 / 3,
        "drugs_per_visit": 1.0,
        "services_per_visit": 1 / 3,
        "visits_per_patient": 1.5,
    }
    assert {k: row[k] for k in expected} == pytest.approx(expected)


def test_person_features_from_hand_made_claims() -> None:
    df = compute(_month(), PERSON_SET)
    assert df["psn_no"].to_list() == [PERSON, P2] and df["period"].unique().to_list() == ["2025-Q1"]
    p1, p2 = df.row(0, named=True), df.row(1, named=True)
    assert (p1["age_band"], p1["care"], p2["age_band"]) == ("45-59", "none", "60-74")
    assert {k: p1[k] for k in SETS["person"].names} == pytest.approx(
        {
            "visits": 2,
            "institutions": 1,
            "same_day_days": 1,  # both on the 3rd
            "inscp": 150.0,
            "drug_inscp": 110.0,
            "pharmacy_share": 0.0,
        }
    )
    assert p2["same_day_days"] == 0 and p2["drug_inscp"] == 20.0


# the ensemble on planted entities -------------------------------------------------------

_PEERS = {
    "medins_type": "B1",
    "hosp_lv": "1",
    "fixmedins_type": "1",
    "age_band": "45-59",
    "care": "none",
}
PLANTED = {
    "institution": {"op_services_per_visit": 6, "op_lines_per_visit": 2, "op_cost_per_visit": 2},
    "doctor": {"visits_per_day": 6, "peak_day_visits": 4},
    "person": {"visits": 6, "institutions": 4},
}
"""A scheme moves several features at once: phantom tests add lines and cost as well."""


def _population(kind: str, n: int = 80, *, planted: bool = True) -> pl.DataFrame:
    """``n`` entities of one peer group with every feature near 10 (± 5 %), the last one
    with its planted features several times its peers'."""
    fs = SETS[kind]
    rng = np.random.default_rng(3)
    cols = {c for lv in fs.peer_levels for c in lv}
    data: dict[str, object] = {
        "fixmedins_code": ["H1"] * n,
        fs.key: [f"E{i:03d}" for i in range(n)],
        "period": ["2025-03"] * n,
        "period_start": [date(2025, 3, 1)] * n,
        "support": [100] * n,
        **{c: [_PEERS[c]] * n for c in cols},
    }
    for f in fs.features:
        base = 0.3 if f.percent else 10.0
        data[f.name] = base * (1 + 0.05 * rng.standard_normal(n))
    df = pl.DataFrame(data)
    if planted:
        last = pl.col(fs.key) == f"E{n - 1:03d}"
        df = df.with_columns(
            pl.when(last).then(pl.col(f) * k).otherwise(pl.col(f)).alias(f)
            for f, k in PLANTED[kind].items()
        )
    return df


PARAMS = {"tail_share": 0.02, "min_z": 4.0, "min_support": 30}


@pytest.mark.parametrize("kind", ["institution", "doctor", "person"])
def test_a_planted_outlier_is_a_lead_named_by_its_feature_and_the_others_are_not(
    kind: str,
) -> None:
    df = _population(kind)
    leads, named = flag(df, fit(df, kind), PARAMS)
    key = SETS[kind].key
    assert leads[key].to_list() == ["E079"]
    assert set(named["feature"]) == set(PLANTED[kind])
    top = named.filter(pl.col("rank") == 0).row(0, named=True)
    factor = PLANTED[kind][top["feature"]]
    assert top["value"] / top["median"] == pytest.approx(factor, rel=0.15)
    assert top["z"] > 10 and named["share"].sum() > 0.5


def test_too_little_support_is_never_a_lead() -> None:
    df = _population("institution")
    model = fit(df, "institution")
    assert flag(df, model, {**PARAMS, "min_support": 101})[0].is_empty()


def test_the_same_rows_give_the_same_model_and_leads() -> None:
    df = _population("person")
    a, b = fit(df, "person"), fit(df.sample(fraction=1.0, shuffle=True, seed=5), "person")
    assert a.training["data_sha256"] != ""
    assert a.to_json() == fit(df, "person").to_json()
    la, lb = flag(df, a, PARAMS), flag(df, b, PARAMS)
    assert la[0].equals(lb[0]) and la[1].equals(lb[1])


# the saved model ------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "outlier_institution.json"
    save(fit(_population("institution"), "institution"), path)
    return path


def _edit(path: Path, **changes: object) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw.update(changes)
    path.write_text(json.dumps(raw), encoding="utf-8")


def test_a_saved_model_loads_and_scores_as_before(saved: Path) -> None:
    df = _population("institution")
    model = load(saved, "institution")
    assert flag(df, model, PARAMS)[0]["fixmedins_code"].to_list() == ["E079"]
    digest = model.training["data_sha256"]
    assert load(saved, "institution", data_sha256=digest).training == model.training


def test_a_model_of_other_libraries_is_refused(saved: Path) -> None:
    raw = json.loads(saved.read_text(encoding="utf-8"))
    _edit(saved, libraries={**raw["libraries"], "scikit-learn": "0.0.1"})
    with pytest.raises(ModelError, match=r"trained with .*retrain"):
        load(saved, "institution")


def test_a_model_of_other_training_data_is_refused(saved: Path) -> None:
    with pytest.raises(ModelError, match="other data"):
        load(saved, "institution", data_sha256="0" * 64)


def test_an_edited_or_foreign_model_is_refused(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="made for other features"):
        load(saved, "doctor")
    raw = json.loads(saved.read_text(encoding="utf-8"))
    raw["ranks"]["combined"][-1] = 2.0
    saved.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="checksum"):
        load(saved, "institution")
    with pytest.raises(ModelError, match="no institution outlier model"):
        load(tmp_path / "none.json", "institution")


# the tiny county --------------------------------------------------------------------------

RULES = ["outlier_institution", "outlier_doctor", "outlier_person"]


@pytest.fixture(scope="module")
def county_ws(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hrss_fraud.ingest.pipeline import ingest
    from hrss_fraud.lake import Lake
    from hrss_fraud.scoring.score import score

    ws = tmp_path_factory.mktemp("outliers")
    ingest(
        Lake(ws / "lake"), [tiny_county / "reference", *sorted((tiny_county / "uploads").iterdir())]
    )
    score(ws, rule_ids=RULES)
    return ws


def test_on_the_tiny_county_the_leads_are_explained_and_mostly_true(
    tiny_county: Path, county_ws: Path
) -> None:
    from hrss_fraud.engine.runs import open_run
    from hrss_fraud.evaluation.judge import Truth, evaluate
    from hrss_fraud.lake import Lake

    run = open_run(county_ws)
    assert sorted(run.manifest["models_trained"]) == sorted(RULES)
    assert all((county_ws / "models" / f"{r}.json").is_file() for r in RULES)
    f = run.findings()
    assert set(f["rule_id"]) == set(RULES), f.group_by("rule_id").len()
    assert f["evidence"].str.contains("同类中位数").all()
    assert f["evidence_en"].str.contains("peer median").all()
    truth = Truth.read(tiny_county / "truth")
    per_rule = pl.DataFrame(evaluate(run, truth, RULES)["per_rule"])
    assert (per_rule["precision"] >= 0.8).all(), per_rule
    guilty = set(truth.entities.filter(pl.col("entity_type") == "person")["entity_id"])
    guilty |= set(truth.lines["psn_no"].drop_nulls())
    persons = Lake(county_ws / "lake").connect().sql("SELECT psn_no FROM person").pl()
    clean = set(persons["psn_no"]) - guilty
    named = set(f.filter(pl.col("rule_id") == "outlier_person")["psn_no"])
    assert len(named & clean) / len(clean) <= 0.001


def test_on_the_tiny_county_a_second_run_and_an_incremental_one_agree(
    tiny_county: Path, county_ws: Path, scored_all_but_last_month: Path, tmp_path: Path
) -> None:
    from hrss_fraud.engine.runs import open_run
    from hrss_fraud.ingest.pipeline import ingest
    from hrss_fraud.lake import Lake
    from hrss_fraud.scoring.score import score

    full = open_run(county_ws)
    again = score(county_ws, rule_ids=RULES)
    assert again.findings().drop("run_id").equals(full.findings().drop("run_id"))
    assert again.lines().equals(full.lines())
    # every month but the last scored in full (all the rules, the full run's models), then
    # the last month scored incrementally
    ws = copy_workspace(scored_all_but_last_month, tmp_path / "ws")
    months = sorted((tiny_county / "uploads").iterdir())
    ingest(Lake(ws / "lake"), [months[-1]])
    inc = score(ws, incremental=True)
    assert inc.manifest["mode"] == "incremental", inc.manifest["why"]
    mine = pl.col("rule_id").is_in(RULES)
    # a case's rank depends on every lead of the run (this one scored every rule)
    a = inc.findings().filter(mine).drop("run_id", "case_rank")
    b = full.findings().drop("run_id", "case_rank")
    assert a.sort("finding_id").equals(b.sort("finding_id"))
