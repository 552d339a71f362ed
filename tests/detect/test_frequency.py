"""Abnormal visit frequency: the count model, its saved form, and the detector's hits."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from helpers.rule_frames import PERSON, fee, scoring_db, visit

from hrss_fraud.detectors.frequency import load_into, visit_frequency
from hrss_fraud.detectors.frequency_model import (
    FEATURES,
    FrequencyModel,
    ModelError,
    load,
    save,
    train,
)
from hrss_fraud.engine.hits import conform

LAB = "002501010010000"
T0 = datetime(2025, 3, 2, 9)
INSTS = ["H13012300001", "H13012300002", "H13012300003"]


def _flat(rate: float) -> FrequencyModel:
    """Everyone expected to make ``rate`` visits a month in each setting."""
    coef = {"intercept": math.log(rate), **dict.fromkeys(FEATURES, 0.0)}
    return FrequencyModel({"op": coef, "ph": dict(coef)}, {}, {})


def _month_of_visits(n: int, inscp: float = 10.0, **kw: object) -> object:
    setl, lines = [], []
    for i in range(n):
        t = T0 + timedelta(days=i)
        inst = INSTS[i % 3]
        setl.append(
            visit(f"MD{i}", fixmedins_code=inst, begntime=t, endtime=t, inscp_amt=inscp + i, **kw)
        )
        lines.append(fee(f"MD{i}", 1, LAB, fixmedins_code=inst, fee_ocur_time=t))
    inst_rows = [{"fixmedins_code": c} for c in INSTS]
    return scoring_db(setl, lines, institutions=inst_rows)


PARAMS = {"alpha": 1e-3, "min_visits": 4}


def test_visits_far_beyond_the_expected_count_are_a_lead_on_the_excess() -> None:
    con = _month_of_visits(8)
    load_into(con, _flat(0.5))
    out = conform(visit_frequency(con, PARAMS, {"settings": ["op"]}), "visit_frequency")
    assert out["hit_key"].unique().to_list() == [f"vf|op|{PERSON}|2025-03"]
    # Poisson(0.5): 99.9% of months have at most 4 visits; visits 5 to 8 are the excess
    viol = out.filter(out["role"] == "violating").sort("line_time")
    assert viol["mdtrt_id"].to_list() == ["MD4", "MD5", "MD6", "MD7"]
    assert viol["amount"].sum() == pytest.approx(14 + 15 + 16 + 17)
    assert out.filter(out["role"] == "involved")["amount"].sum() == 0
    ev = out["evidence"][0]
    assert "2025-03门诊就诊8次（3家机构）" in ev and "预期每月0.50次" in ev and "4次" in ev
    assert "at 3 institution(s)" in out["evidence_en"][0]


@pytest.mark.parametrize(("n", "hit"), [(4, False), (5, True)])
def test_either_side_of_the_tail_probability(n: int, hit: bool) -> None:
    # P(X ≥ 4) = 0.00175 > 0.001; P(X ≥ 5) = 0.00017 < 0.001
    con = _month_of_visits(n)
    load_into(con, _flat(0.5))
    assert (visit_frequency(con, PARAMS, {"settings": ["op"]}).height > 0) == hit


def test_a_person_expected_to_visit_often_is_no_lead() -> None:
    con = _month_of_visits(8)
    load_into(con, _flat(6.0))
    assert visit_frequency(con, PARAMS, {"settings": ["op"]}).height == 0


def test_planned_sessions_are_left_to_their_own_schedule() -> None:
    """Dialysis sessions (a treatment class in exclude_classes) are not counted by the model
    of ordinary visits: frequent_outpatient holds them to the dialysis schedule. Without the
    exclusion the same month is a lead."""
    con = _month_of_visits(8, med_type="14", dise_codg="Z49.1")
    load_into(con, _flat(0.5))
    args = {"settings": ["op"], "exclude_classes": ["dialysis"]}
    assert visit_frequency(con, PARAMS, args).height == 0
    assert visit_frequency(con, PARAMS, {"settings": ["op"]}).height > 0


def test_without_a_model_the_detector_says_how_to_get_one() -> None:
    con = _month_of_visits(8)
    with pytest.raises(RuntimeError, match="hrss-fraud models train"):
        visit_frequency(con, PARAMS, {"settings": ["op"]})


def test_training_learns_that_chronic_patients_visit_more(tmp_path: Path) -> None:
    setl, lines = [], []
    persons = []
    for p in range(60):
        psn = f"13012300000000{p:04d}"
        persons.append({"psn_no": psn, "certno": f"13012319800101{p:04d}"})
        chronic = p < 30
        for i in range(6 if chronic else 1):
            mid = f"MD{p:03d}{i}"
            t = T0 + timedelta(days=i)
            dx = "I10" if chronic else "J06.9"
            setl.append(visit(mid, psn_no=psn, begntime=t, endtime=t, dise_codg=dx))
            lines.append(fee(mid, 1, LAB, psn_no=psn, fee_ocur_time=t))
    con = scoring_db(setl, lines, persons=persons)
    model = train(con)
    assert model.coefficients["op"]["chronic_HTN"] == pytest.approx(math.log(6), abs=0.05)
    assert model.training["persons"] == 60 and model.training["visits"] == 210
    path = tmp_path / "models" / "visit_frequency.json"
    save(model, path)
    again = load(path)
    assert again.coefficients == model.coefficients and again.training == model.training


def test_a_model_made_by_other_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "visit_frequency.json"
    with pytest.raises(ModelError, match="no visit-frequency model"):
        load(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not a readable model file"):
        load(path)
    save(_flat(1.0), path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["features"] = raw["features"][:-1]
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="other features"):
        load(path)
    raw["features"] = list(FEATURES)
    raw["libraries"] = {"scikit-learn": "0.1"}
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="retrain"):
        load(path)
