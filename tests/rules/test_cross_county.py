"""Cross-county rules (analytics/rules/catalogue/province.toml): a person at institutions
of several counties on one day, and institutions against every county's peers of their kind
and level; on one county's claims both find nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from helpers.rule_frames import PERSON, fee, run_rule, scoring_db, visit

from hrss_fraud.engine.runs import open_run

AMLODIPINE = "XC08CAA001A001010110037"  # CCB ¥22.5
NIFEDIPINE = "XC08CAA002A008010110074"  # CCB ¥24
OMEPRAZOLE = "XA02BCA001A011010112812"  # PPI ¥8.5
CONSULT = "001102000010000"  # 普通门诊诊察费 ¥6


def _inst(code: str, admdvs: str, **kw: object) -> dict:
    return {"fixmedins_code": code, "admdvs": admdvs, "fixmedins_name": f"机构{code}", **kw}


HOME = _inst("H13012300001", "130123101")
NEAR = _inst("H13012500001", "130125101")
FAR = _inst("H13012600001", "130126101")
HOME_2 = _inst("H13012300002", "130123102")


def _day_db(stops: list[tuple[dict, str, int]], *, persons: list[dict] | None = None) -> object:
    """One visit per (institution, item, day of March 2025), in the order given, an hour
    apart, for the default person."""
    setl, lines = [], []
    for i, (inst, item, day) in enumerate(stops):
        md = f"MD{i:04d}"
        t = datetime(2025, 3, day, 8 + i)
        code = inst["fixmedins_code"]
        setl.append(visit(md, fixmedins_code=code, begntime=t, endtime=t, setl_time=t))
        lines.append(fee(md, 1, item, fixmedins_code=code, fee_ocur_time=t))
    insts = {i["fixmedins_code"]: i for i, _, _ in stops}
    return scoring_db(setl, lines, persons=persons, institutions=list(insts.values()))


def test_same_drug_class_in_two_counties_on_one_day_is_a_lead() -> None:
    con = _day_db([(HOME, AMLODIPINE, 3), (NEAR, NIFEDIPINE, 3)])
    f, lines = run_rule(con, "prov_same_day_counties")
    assert f.height == 1
    assert f["entity_type"][0] == "person" and f["entity_id"][0] == PERSON
    assert f["amount_at_risk"][0] == pytest.approx(24.0)  # the second county's charge
    roles = dict(zip(lines["fixmedins_code"], lines["role"], strict=True))
    assert roles == {"H13012300001": "involved", "H13012500001": "violating"}
    assert "130123、130125" in f["evidence"][0] and "跨县" in f["evidence"][0]


def test_three_counties_reach_a_threshold_of_three() -> None:
    stops = [(HOME, AMLODIPINE, 3), (NEAR, AMLODIPINE, 3), (FAR, NIFEDIPINE, 3)]
    f, _ = run_rule(_day_db(stops), "prov_same_day_counties", min_counties=3)
    assert f.height == 1
    assert f["amount_at_risk"][0] == pytest.approx(22.5 + 24.0)


def test_two_counties_stay_below_a_threshold_of_three() -> None:
    stops = [(HOME, AMLODIPINE, 3), (NEAR, AMLODIPINE, 3)]
    f, _ = run_rule(_day_db(stops), "prov_same_day_counties", min_counties=3)
    assert f.height == 0


def test_a_referral_to_another_county_on_another_day_is_no_lead() -> None:
    stops = [(HOME, AMLODIPINE, 3), (NEAR, AMLODIPINE, 4), (HOME, AMLODIPINE, 20)]
    f, _ = run_rule(_day_db(stops), "prov_same_day_counties")
    assert f.height == 0


def test_different_drug_classes_need_the_switch_off() -> None:
    stops = [(HOME, AMLODIPINE, 3), (NEAR, OMEPRAZOLE, 3)]
    assert run_rule(_day_db(stops), "prov_same_day_counties")[0].height == 0
    f, _ = run_rule(_day_db(stops), "prov_same_day_counties", same_drug_class=0)
    assert f.height == 1 and f["amount_at_risk"][0] == pytest.approx(8.5)


def test_one_county_finds_nothing_however_many_institutions() -> None:
    stops = [(HOME, AMLODIPINE, 3), (HOME_2, AMLODIPINE, 3), (HOME, NIFEDIPINE, 3)]
    f, _ = run_rule(_day_db(stops), "prov_same_day_counties", same_drug_class=0)
    assert f.height == 0


# --- peer cost across counties ------------------------------------------------------------


def _peer_db(costs: dict[str, float], kinds: dict[str, str] | None = None) -> object:
    """Level-2 hospitals, code → cost per visit: three visits each in March 2025 by three
    persons, one consultation line priced at the cost. The code's 4th–9th characters name
    its county (H130125xxxxx is in 130125)."""
    kinds = kinds or {}
    setl, lines, persons, insts = [], [], [], []
    for n, (code, cost) in enumerate(costs.items()):
        insts.append(_inst(code, code[1:7] + "101", medins_type=kinds.get(code, "A1")))
        for k in range(3):
            md, psn = f"MD{n:03d}{k}", f"P{n:03d}{k}"
            t = datetime(2025, 3, 2 + k, 9)
            setl.append(
                visit(
                    md,
                    fixmedins_code=code,
                    psn_no=psn,
                    begntime=t,
                    endtime=t,
                    setl_time=t,
                    medfee_sumamt=cost,
                    inscp_amt=cost,
                )
            )
            lines.append(fee(md, 1, CONSULT, pric=cost, fixmedins_code=code, psn_no=psn))
            persons.append({"psn_no": psn})
    return scoring_db(setl, lines, persons=persons, institutions=insts)


PEERS = {
    "H13012300001": 300.0,
    "H13012500001": 320.0,
    "H13012600001": 280.0,
    "H13012700001": 310.0,
}


def test_a_hospital_far_above_every_countys_peers_is_a_lead() -> None:
    con = _peer_db({**PEERS, "H13012800001": 900.0})
    f, lines = run_rule(con, "prov_peer_cost_per_visit", min_visits=3, min_persons=3)
    assert f["entity_id"].to_list() == ["H13012800001"]
    # median 310 of the five; excess share (900 − 310) / 900 of its 3 × 900 in scope
    assert f["amount_at_risk"][0] == pytest.approx(3 * 900 * (900 - 310) / 900)
    assert lines.height == 3 and set(lines["role"]) == {"violating"}
    assert "130128" in f["evidence"][0] and "其中本县1家" in f["evidence"][0]


def test_per_person_finds_the_same_hospital() -> None:
    con = _peer_db({**PEERS, "H13012800001": 900.0})
    f, _ = run_rule(con, "prov_peer_cost_per_person", min_visits=3, min_persons=3)
    assert f["entity_id"].to_list() == ["H13012800001"]


def test_ordinary_spread_between_counties_is_no_lead() -> None:
    con = _peer_db({**PEERS, "H13012800001": 420.0})
    assert run_rule(con, "prov_peer_cost_per_visit", min_visits=3, min_persons=3)[0].height == 0


def test_a_specialist_hospital_is_held_only_against_its_own_kind() -> None:
    # a maternity hospital costs more than general ones: with no peers of its kind it is
    # not assessed, rather than held against general hospitals
    con = _peer_db({**PEERS, "H13012800001": 900.0}, kinds={"H13012800001": "A3"})
    assert run_rule(con, "prov_peer_cost_per_visit", min_visits=3, min_persons=3)[0].height == 0


def test_too_few_peers_leave_the_hospital_unassessed() -> None:
    con = _peer_db({"H13012300001": 300.0, "H13012500001": 320.0, "H13012800001": 900.0})
    assert run_rule(con, "prov_peer_cost_per_visit", min_visits=3, min_persons=3)[0].height == 0


def test_one_county_forms_no_cross_county_norm() -> None:
    one = {f"H1301230000{i}": c for i, c in enumerate([300.0, 320.0, 280.0, 310.0, 900.0])}
    con = _peer_db(one)
    assert run_rule(con, "prov_peer_cost_per_visit", min_visits=3, min_persons=3)[0].height == 0
    assert run_rule(con, "prov_peer_cost_per_person", min_visits=3, min_persons=3)[0].height == 0


def test_min_visits_and_persons_bound_who_is_assessed() -> None:
    con = _peer_db({**PEERS, "H13012800001": 900.0})
    assert run_rule(con, "prov_peer_cost_per_visit", min_visits=4, min_persons=3)[0].height == 0
    assert run_rule(con, "prov_peer_cost_per_person", min_visits=3, min_persons=4)[0].height == 0


def test_the_tiny_county_run_says_why_the_rules_did_not_run(scored_tiny_county: Path) -> None:
    # one county: the rules are inactive, the count of counties named, not silently clean
    manifest = open_run(scored_tiny_county).manifest
    outcomes = {r["rule_id"]: r for r in manifest["rules"]}
    for rule in ("prov_same_day_counties", "prov_peer_cost_per_visit", "prov_peer_cost_per_person"):
        assert outcomes[rule]["status"] == "inactive", outcomes[rule]
        reason = "未启用：须有至少 2 个县（区划）的结算数据，本数据湖有 1 个"
        assert outcomes[rule]["reason"] == reason
        assert "the lake holds 1" in outcomes[rule]["reason_en"]
        assert rule in manifest["inactive_rules"]
