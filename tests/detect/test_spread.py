"""Visits spread over many institutions in a month (多处就医)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

LAB = "002501010010000"
T0 = datetime(2025, 3, 2, 9)
INSTS = [f"H130123000{k:02d}" for k in range(1, 7)]


def _visits(
    places: list[int],
    days: list[int],
    dise: str | list[str | None] = "J06.900",
    med_types: list[str] | None = None,
) -> object:
    """One visit per (place, day) pair, ¥30 in scope, at ``INSTS[place]``, for ``dise``
    (one code for all, or one per visit) and of ``med_types`` (general outpatient, 11)."""
    codes = dise if isinstance(dise, list) else [dise] * len(places)
    kinds = med_types or ["11"] * len(places)
    setl, lines = [], []
    for k, (place, day) in enumerate(zip(places, days, strict=True)):
        t = T0 + timedelta(days=day)
        mid = f"MD{k:03d}"
        inst = INSTS[place]
        setl.append(
            visit(
                mid,
                fixmedins_code=inst,
                begntime=t,
                endtime=t,
                dise_codg=codes[k],
                med_type=kinds[k],
                inscp_amt=30.0,
            )
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
    assert "同一疾病（J06.900" in row["evidence"] and "在5家机构就诊" in row["evidence"]


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


MULTIMORBID = ["J44.9", "J11.1", "M17.1", "I10"]  # COPD, flu, knee, hypertension


@pytest.mark.parametrize(
    ("dise", "med_types", "expected"),
    [
        # an elderly patient's four problems, each seen where it is treated: no shopping
        (MULTIMORBID, None, 0),
        # hypertension also at a second place: one condition taken elsewhere
        ([*MULTIMORBID, "I10"], None, 1),
        # the same group (HTN) under another ICD-10 category is the same condition
        ([*MULTIMORBID, "I11.9"], None, 1),
        # a chronic-disease programme visit (门诊慢特病) for COPD at the designated hospital
        # shows no condition taken elsewhere; it still counts as a place
        ([*MULTIMORBID, "J44.1"], ["11", "11", "11", "11", "14"], 0),
        # inside the programme's condition, two ordinary places for it are still shopping
        (
            ["I10", "J11.1", "I10", "M17.1", "I10"],
            ["14", "11", "11", "11", "11"],
            1,
        ),
        # a visit without a diagnosis shows no condition
        ([*MULTIMORBID, None], None, 0),
    ],
)
def test_spread_is_one_condition_taken_from_place_to_place(
    dise: list[str | None], med_types: list[str] | None, expected: int
) -> None:
    """多处就医 is the same problem carried to several of the places; four problems at four
    places is multimorbidity."""
    places = [0, 1, 2, 3, 4][: len(dise)]
    con = _visits(places, list(range(1, len(dise) + 1)), dise, med_types)
    assert run_rule(con, "institution_spread")[0].height == expected


@pytest.mark.parametrize(("repeat", "expected"), [(1, 1), (2, 0)])
def test_repeat_places_one_asks_nothing_of_the_conditions(repeat: int, expected: int) -> None:
    con = _visits([0, 1, 2, 3], [1, 2, 3, 4], MULTIMORBID)
    params = {"repeat_places": repeat}
    assert run_rule(con, "institution_spread", **params)[0].height == expected


def test_a_condition_at_more_places_than_asked_is_the_boundary() -> None:
    """Hypertension at two of five places meets a demand of two, not of three."""
    con = _visits([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], [*MULTIMORBID, "I10"])
    assert run_rule(con, "institution_spread", repeat_places=2)[0].height == 1
    assert run_rule(con, "institution_spread", repeat_places=3)[0].height == 0
