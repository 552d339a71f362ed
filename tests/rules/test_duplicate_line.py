"""duplicate_line: the same item, quantity, price and time billed twice in one visit under a
new serial number (analytics/rules/sql/line_duplicate.sql)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

CBC = "002501010150000"  # 血细胞分析(血常规), ¥15
AMOXICILLIN = "XJ01CAA001A009010111739"
T = datetime(2025, 3, 1, 9, 41, 7)


def hits(lines: list[dict[str, object]]) -> tuple[list[tuple], list[tuple]]:
    """(violating serial, amount) per finding, and (serial, role, amount) of every line."""
    f, fl = run_rule(scoring_db([visit("MD1")], lines), "duplicate_line")
    found = sorted(zip(f["feedetl_sn"], f["amount_at_risk"], strict=True))
    roles = sorted(
        zip(fl["finding_id"], fl["feedetl_sn"], fl["role"], fl["amount_at_risk"], strict=True)
    )
    return found, [r[1:] for r in roles]


def test_a_line_billed_twice_is_a_hit_on_the_later_copy() -> None:
    f, fl = run_rule(
        scoring_db(
            [visit("MD1")],
            [fee("MD1", 1, CBC, fee_ocur_time=T), fee("MD1", 2, CBC, fee_ocur_time=T)],
        ),
        "duplicate_line",
    )
    assert f.height == 1 and f["feedetl_sn"][0] == "2" and f["amount_at_risk"][0] == 15.0
    assert sorted(zip(fl["feedetl_sn"], fl["role"], fl["amount_at_risk"], strict=True)) == [
        ("1", "involved", 0.0),
        ("2", "violating", 15.0),
    ]
    assert "明细流水号1与2" in f["evidence"][0] and "2025-03-01 09:41:07" in f["evidence"][0]
    assert "serial numbers 1 and 2" in f["evidence_en"][0]


@pytest.mark.parametrize(
    "change",
    [
        {"fee_ocur_time": T + timedelta(seconds=1)},  # one second apart: two administrations
        {"cnt": 2, "det_item_fee_sumamt": 30.0, "inscp_amt": 30.0},
        {"pric": 16.0, "det_item_fee_sumamt": 16.0, "inscp_amt": 16.0},
        {"mdtrt_id": "MD2", "setl_id": "ST20"},
    ],
    ids=["time", "quantity", "price", "visit"],
)
def test_a_line_that_differs_in_anything_is_no_duplicate(change: dict[str, object]) -> None:
    lines = [fee("MD1", 1, CBC, fee_ocur_time=T), {**fee("MD1", 2, CBC, fee_ocur_time=T), **change}]
    f, _ = run_rule(scoring_db([visit("MD1"), visit("MD2")], lines), "duplicate_line")
    assert f.height == 0


def test_a_reversed_copy_or_original_is_no_duplicate() -> None:
    refund = {"cnt": -1, "det_item_fee_sumamt": -15.0, "inscp_amt": -15.0}
    pair = [fee("MD1", 1, CBC, fee_ocur_time=T), fee("MD1", 2, CBC, fee_ocur_time=T)]
    for refunded in ("1", "2"):
        back = {**fee("MD1", 3, CBC, fee_ocur_time=T), **refund, "init_feedetl_sn": refunded}
        assert hits([*pair, back]) == ([], [])


def test_three_copies_are_two_hits_each_against_the_first() -> None:
    lines = [fee("MD1", sn, CBC, fee_ocur_time=T) for sn in (1, 2, 3)]
    found, roles = hits(lines)
    assert found == [("2", 15.0), ("3", 15.0)]
    assert sorted(roles) == [
        ("1", "involved", 0.0),
        ("1", "involved", 0.0),
        ("2", "violating", 15.0),
        ("3", "violating", 15.0),
    ]


def test_the_later_serial_is_the_copy_by_number_not_by_text() -> None:
    found, _ = hits([fee("MD1", 10, CBC, fee_ocur_time=T), fee("MD1", 9, CBC, fee_ocur_time=T)])
    assert found == [("10", 15.0)]


def test_a_self_paid_copy_or_a_day_only_time_is_no_hit() -> None:
    own = {"inscp_amt": 0.0, "fulamt_ownpay_amt": 15.0}
    lines = [fee("MD1", 1, CBC, fee_ocur_time=T), {**fee("MD1", 2, CBC, fee_ocur_time=T), **own}]
    assert hits(lines) == ([], [])
    day = datetime(2025, 3, 1)
    assert hits([fee("MD1", 1, CBC, fee_ocur_time=day), fee("MD1", 2, CBC, fee_ocur_time=day)]) == (
        [],
        [],
    )


def test_a_drug_billed_twice_is_a_hit_for_its_in_scope_amount() -> None:
    lines = [
        fee("MD1", 1, AMOXICILLIN, cnt=2, fee_ocur_time=T),
        fee("MD1", 2, AMOXICILLIN, cnt=2, fee_ocur_time=T, inscp_amt=10.0),
    ]
    found, _ = hits(lines)
    assert found == [("2", 10.0)]
