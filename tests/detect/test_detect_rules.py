"""The detectors as catalogue rules: run by the engine like any rule, with parameters
from the catalogue, evidence and lines."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from helpers.rule_frames import PERSON, fee, run_rule, scoring_db, visit

from hrss_fraud.detectors.frequency import load_into
from hrss_fraud.detectors.frequency_model import FEATURES, FrequencyModel

LAB = "002501010010000"
T0 = datetime(2025, 3, 2, 9)


def test_abnormal_visit_frequency_is_a_catalogue_rule_on_the_saved_model() -> None:
    setl = [
        visit(
            f"MD{i}",
            begntime=T0 + timedelta(days=i),
            endtime=T0 + timedelta(days=i),
            inscp_amt=20.0,
        )
        for i in range(9)
    ]
    lines = [fee(f"MD{i}", 1, LAB, fee_ocur_time=T0 + timedelta(days=i)) for i in range(9)]
    con = scoring_db(setl, lines)
    coef = {"intercept": math.log(0.5), **dict.fromkeys(FEATURES, 0.0)}
    load_into(con, FrequencyModel({"op": coef}, {}, {}))
    f, _ = run_rule(con, "abnormal_visit_frequency")  # alpha 0.003, at least 4 visits
    assert f.height == 1
    row = f.row(0, named=True)
    assert (row["entity_type"], row["entity_id"], row["severity"]) == (
        "person",
        PERSON,
        "suspicious",
    )
    # Poisson(0.5): 99.7% of months have at most 3 visits; visits 4 to 9 are the excess
    assert row["amount_at_risk"] == 6 * 20.0 and row["n_violating"] == 6 and row["n_lines"] == 9
    assert run_rule(con, "abnormal_visit_frequency", min_visits=10)[0].height == 0


def test_high_cost_outpatient_is_a_catalogue_rule() -> None:
    setl, lines = [], []
    costs = [100.0 * math.exp(0.1 * (k % 5 - 2) / 1.4826) for k in range(40)] + [2000.0]
    for i, c in enumerate(costs):
        t = T0 + timedelta(hours=i)
        setl.append(visit(f"MD{i}", begntime=t, endtime=t, medfee_sumamt=c, inscp_amt=c))
        lines.append(
            fee(f"MD{i}", 1, LAB, pric=c, det_item_fee_sumamt=c, inscp_amt=c, fee_ocur_time=t)
        )
    con = scoring_db(setl, lines)
    f, _ = run_rule(con, "high_cost_outpatient")  # z 3: threshold ¥100 × e^0.3 = ¥134.99
    assert f["setl_id"].to_list() == ["ST400"]
    # costs are kept in fen, so the spread is a hair off 0.1
    assert abs(f["amount_at_risk"][0] - (2000.0 - 100.0 * math.exp(0.3))) < 0.05
    assert run_rule(con, "high_cost_outpatient", min_amount=3000)[0].height == 0
