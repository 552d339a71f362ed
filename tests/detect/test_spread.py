"""Visits spread over many institutions in a month (多处就医)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from rule_frames import fee, run_rule, scoring_db, visit

LAB = "002501010010000"
T0 = datetime(2025, 3, 2, 9)
INSTS = [f"H130123000{k:02d}" for k in range(1, 7)]


def _visits(places: list[int], days: list[int], dise: str = "J06.900") -> object:
    """One visit per (place, day) pair, ¥30 in scope, at ``INSTS[place]``."""
    setl, lines = [], []
    for k, (place, day) in enumerate(zip(places, days, strict=True)):
        t = T0 + timedelta(days=day)
        mid = f"MD{k:03d}"
        inst = INSTS[place]
        setl.append(
            visit(mid, fixmedins_code=inst, begntime=t, endtime=t, dise_codg=dise, inscp_amt=30.0)
        )
        lines.append(fee(mid, 1, LAB, fixmedins_code=inst, fee_ocur_time=t))
    names = [f"第{i + 1}卫生室" for i in range(len(INSTS))]
    insts = [{"fixmedins_code": c, "fixmedins_name": n} for c, n in zip(INSTS, names, strict=True)]
    return scoring_db(setl, lines, institutions=insts)


def test_the_fourth_place_in_a_month_and_later_ones_are_at_risk() -> None:
    # places first seen in the order 0, 1, 2, 3, 4; a second visit to place 0 on day 20
    con = _visits([0, 1, 2, 0, 3, 4], [1, 3, 5, 8, 12, 20])
    f, lines = run_rule(con, "institution_spread")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["entity_type"] == "person" and row["amount_at_risk"] == 60.0
    assert row["n_lines"] == 6 and row["n_violating"] == 2
    viol = lines.filter(lines["role"] == "violating")
    assert sorted(viol["fixmedins_code"].to_list()) == [INSTS[3], INSTS[4]]
    assert "门诊就诊6次，分布于5家机构" in row["evidence"]
    assert "第1卫生室、第2卫生室、第3卫生室、第4卫生室、第5卫生室" in row["evidence"]
    assert "at 5 different institutions" in row["evidence_en"]


@pytest.mark.parametrize(
    ("places", "days", "dise", "least", "expected"),
    [
        ([0, 1, 2, 3], [1, 2, 3, 4], "J06.900", 4, 1),  # at the threshold
        ([0, 1, 2, 3], [1, 2, 3, 4], "J06.900", 5, 0),  # below a threshold of five
        ([0, 1, 2, 0, 1], [1, 2, 3, 4, 5], "J06.900", 4, 0),  # many visits, three places
        ([0, 1, 2, 3], [1, 2, 3, 40], "J06.900", 4, 0),  # the fourth place next month
        ([0, 1, 2, 3], [1, 2, 3, 4], "Z49.100", 4, 0),  # dialysis sessions are excepted
    ],
)
def test_the_threshold_and_what_is_no_spread(
    places: list[int], days: list[int], dise: str, least: int, expected: int
) -> None:
    con = _visits(places, days, dise)
    assert run_rule(con, "institution_spread", min_institutions=least)[0].height == expected
