"""Co-visit rings: persons who keep visiting together, at several places."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

LAB = "002501010010000"
T0 = datetime(2025, 3, 3, 9)
INSTS = ["H13012300001", "H13012300002"]


def _outings(members: int, days: list[int], places: list[str], gap_min: int = 5) -> object:
    """``members`` persons visiting together on each day, a few minutes apart."""
    setl, lines, persons = [], [], []
    for m in range(members):
        psn = f"1301230000000{m:05d}"
        persons.append({"psn_no": psn, "certno": f"13012319800101{m:04d}"})
        for k, day in enumerate(days):
            inst = places[k % len(places)]
            t = T0 + timedelta(days=day, minutes=gap_min * m)
            mid = f"MD{m:02d}{k:02d}"
            setl.append(
                visit(mid, psn_no=psn, fixmedins_code=inst, begntime=t, endtime=t, inscp_amt=30.0)
            )
            lines.append(fee(mid, 1, LAB, psn_no=psn, fixmedins_code=inst, fee_ocur_time=t))
    insts = [{"fixmedins_code": c} for c in places]
    return scoring_db(setl, lines, persons=persons, institutions=insts)


def test_a_group_visiting_together_again_and_again_at_several_places_is_a_ring() -> None:
    con = _outings(6, [0, 9, 20, 33], INSTS)
    f, _ = run_rule(con, "covisit_ring")
    assert f.height == 6 and set(f["entity_type"]) == {"person"}
    row = f.sort("entity_id").row(0, named=True)
    assert row["amount_at_risk"] == 4 * 30.0 and row["n_lines"] == 4
    assert "与另外5人多次结伴就医（团伙共6人" in row["evidence"] and "2家机构" in row["evidence"]
    assert "a group of 6" in row["evidence_en"]


@pytest.mark.parametrize(
    ("members", "days", "places", "gap"),
    [
        (6, [0, 9, 20], INSTS, 5),  # three outings: below min_outings 4
        (5, [0, 9, 20, 33], INSTS, 5),  # five persons: below min_members 6
        (6, [0, 9, 20, 33], INSTS[:1], 5),  # one place: a dialysis ward's sessions
        (6, [0, 9, 20, 33], INSTS, 40),  # 40 minutes apart: not together (30)
    ],
)
def test_what_is_no_ring(members: int, days: list[int], places: list[str], gap: int) -> None:
    con = _outings(members, days, places, gap)
    assert run_rule(con, "covisit_ring")[0].height == 0
