"""Repeated same-day visits: one person settled again and again at one institution on one
day for one problem."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

LAB = "002501010010000"
T0 = datetime(2025, 3, 3, 9)


def _day(
    times_min: list[int],
    dise: list[str | None] | None = None,
    amounts: list[float] | None = None,
    days: list[int] | None = None,
    med_types: list[str] | None = None,
) -> object:
    setl, lines = [], []
    for k, minutes in enumerate(times_min):
        t = T0 + timedelta(days=(days or [0] * len(times_min))[k], minutes=minutes)
        code = (dise or ["J06.900"] * len(times_min))[k]
        amount = (amounts or [40.0] * len(times_min))[k]
        mid = f"MD{k:03d}"
        mt = (med_types or ["11"] * len(times_min))[k]
        setl.append(
            visit(mid, begntime=t, endtime=t, dise_codg=code, inscp_amt=amount, med_type=mt)
        )
        lines.append(fee(mid, 1, LAB, fee_ocur_time=t))
    return scoring_db(setl, lines)


def test_three_settlements_for_one_problem_on_one_day_put_the_two_repeats_at_risk() -> None:
    f, lines = run_rule(_day([0, 20, 95], amounts=[40.0, 35.5, 60.0]), "same_day_visits")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["entity_type"] == "person" and row["amount_at_risk"] == 95.5
    assert row["n_lines"] == 3 and row["n_violating"] == 2
    first = lines.filter(lines["role"] == "involved")
    assert first["mdtrt_id"].to_list() == ["MD000"] and first["amount_at_risk"].sum() == 0
    assert "结算3次（09:00、09:20、10:35）" in row["evidence"]
    assert "同日重复结算2次" in row["evidence"] and "¥95.50" in row["evidence"]
    assert "the 2 repeat(s)" in row["evidence_en"]


@pytest.mark.parametrize(
    ("times", "dise", "days", "min_visits", "expected"),
    [
        ([0, 30], None, None, 2, 1),  # the threshold: two for one problem
        ([0, 30], None, None, 3, 0),  # ... below a threshold of three
        ([0, 30], ["J06.900", "I10.x00"], None, 2, 0),  # two problems: two honest visits
        ([0, 30], [None, None], None, 2, 0),  # no diagnosis: cannot be matched
        ([0, 30], None, [0, 1], 2, 0),  # on two days
        ([0, 30], ["Z49.100", "Z49.100"], None, 2, 0),  # dialysis sessions are excepted
    ],
)
def test_the_threshold_and_what_is_no_repeat(
    times: list[int],
    dise: list[str | None] | None,
    days: list[int] | None,
    min_visits: int,
    expected: int,
) -> None:
    con = _day(times, dise=dise, days=days)
    assert run_rule(con, "same_day_visits", min_visits=min_visits)[0].height == expected


@pytest.mark.parametrize(
    ("med_types", "expected"),
    [
        (["11", "13"], 0),  # back to the emergency room the day of a consultation
        (["13", "13"], 1),  # two emergency visits for one problem: still a repeat
        (["11", "11", "13"], 1),  # the consultation billed twice is still a repeat
    ],
)
def test_an_emergency_return_is_no_repeat_of_the_consultation(
    med_types: list[str], expected: int
) -> None:
    con = _day([0, 180, 300][: len(med_types)], med_types=med_types)
    assert run_rule(con, "same_day_visits")[0].height == expected
