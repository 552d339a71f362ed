"""A peer profile needs a norm: against a single other unit of its kind (the county's two
private clinics) a unit is held to that one's habits, and is not assessed (min_others);
two others make a norm, and the unit far above them is a lead."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

DRUG = "XC08CAA001A001010110037"  # 苯磺酸氨氯地平片, no quantity cap
CLINICS = ("H13012300201", "H13012300202", "H13012300203")
T0 = datetime(2025, 3, 3, 9)
RULE = "pp_quantity_index"


def _private_clinics(n: int, inflated: int = 20) -> object:
    """``n`` private clinics (C2, unrated) with 40 visits each, one drug line of 2 packs;
    the last bills 4 packs on ``inflated`` of its visits."""
    setl, lines = [], []
    for c, code in enumerate(CLINICS[:n]):
        for i in range(40):
            md, t = f"MD{c}{i:03d}", T0 + timedelta(hours=i)
            cnt = 4 if c == n - 1 and i < inflated else 2
            setl.append(visit(md, fixmedins_code=code, begntime=t, endtime=t))
            lines.append(fee(md, 1, DRUG, cnt=cnt, pric=10.0, fixmedins_code=code))
    insts = [{"fixmedins_code": c, "medins_type": "C2", "hosp_lv": "9"} for c in CLINICS[:n]]
    return scoring_db(setl, lines, institutions=insts)


@pytest.mark.parametrize(("n", "leads"), [(2, []), (3, [CLINICS[2]])])
def test_a_single_other_clinic_is_no_norm(n: int, leads: list[str]) -> None:
    f, _ = run_rule(_private_clinics(n), RULE)
    assert f["entity_id"].to_list() == leads


def test_min_others_one_holds_a_clinic_to_its_one_peer() -> None:
    f, _ = run_rule(_private_clinics(2), RULE, min_others=1)
    assert f["entity_id"].to_list() == [CLINICS[1]]
