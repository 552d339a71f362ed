from __future__ import annotations

from helpers.rule_frames import fee, run_rule, scoring_db, visit

TURP = "003313030030000"  # 经尿道前列腺电切术, male only
LABOUR_ANALGESIA = "003301000150000"  # 椎管内分娩镇痛, female only


def test_item_for_the_other_sex_is_a_hit_with_its_amount() -> None:
    con = scoring_db(
        [visit("MD1", med_type="21", gend=None)],
        [fee("MD1", 1, TURP, cnt=1, pric=2200.0), fee("MD1", 2, LABOUR_ANALGESIA, pric=100.0)],
        persons=[{"gend": "2"}],
    )
    f, lines = run_rule(con, "item_sex")
    assert f.height == 1
    row = f.row(0, named=True)
    assert row["feedetl_sn"] == "1" and row["amount_at_risk"] == 2200.0
    assert "限男性使用" in row["evidence"] and "患者性别为女" in row["evidence"]
    assert lines["role"].to_list() == ["violating"]


def test_item_for_the_right_sex_or_unknown_sex_is_no_hit() -> None:
    con = scoring_db([visit("MD1")], [fee("MD1", 1, TURP)], persons=[{"gend": "1"}])
    assert run_rule(con, "item_sex")[0].height == 0
    con = scoring_db([visit("MD1")], [fee("MD1", 1, TURP)], persons=[{"gend": "9"}])
    assert run_rule(con, "item_sex")[0].height == 0


def test_a_fully_refunded_line_is_no_hit() -> None:
    con = scoring_db(
        [visit("MD1")],
        [fee("MD1", 1, TURP), fee("MD1", 2, TURP, cnt=-1, init_feedetl_sn="1")],
        persons=[{"gend": "2"}],
    )
    assert run_rule(con, "item_sex")[0].height == 0
