"""The enrolment checks on a few hand-written filings, each amount worked out by hand:
one hit, the case just inside the rule that is no hit, and an empty lake that scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
import pytest
from helpers.rule_frames import INST, fee, frame, run_rule, visit

from hrss_fraud.engine.prepare import build_from_views
from hrss_fraud.knowledge import load_knowledge

AVG = [{"year": 2025, "avg_wage": 7000.0}]  # floor at 60 %: ¥4,200
EMPLOYERS = [
    {"emp_no": "E1", "emp_name": "永宁化工有限公司", "admdvs": "130123101"},
    {"emp_no": "E2", "emp_name": "县供电公司", "admdvs": "130123101"},
]


def _row(month: int, base: float, psn: str = "P1", emp: str = "E1") -> dict[str, Any]:
    return {
        "emp_no": emp,
        "psn_no": psn,
        "psn_name": "张三",
        "insutype": "310",
        "cashym": f"2025{month:02d}",
        "psn_clctstd": base,
    }


def _event(sn: str, kind: str, day: date, docs: str = "", **kw: Any) -> dict[str, Any]:
    return {
        "evt_sn": sn,
        "emp_no": "E1",
        "psn_no": "P1",
        "evt_type": kind,
        "evt_date": day,
        "docs": docs,
        **kw,
    }


def _db(
    *,
    settlements: list[dict[str, Any]] | None = None,
    lines: list[dict[str, Any]] | None = None,
    persons: list[dict[str, Any]] | None = None,
    **tables: list[dict[str, Any]],
) -> duckdb.DuckDBPyConnection:
    """A scoring database with hand-made claims and employer tables (others left absent)."""
    con = duckdb.connect()
    frames = {
        "settlement": frame("settlement", settlements or []),
        "fee_detail": frame("fee_detail", lines or []),
        "person": frame("person", persons or [{}]),
        "institution": frame("institution", [{}]),
        "employer": frame("employer", EMPLOYERS),
        "avg_wage": frame("avg_wage", AVG),
        **{name: frame(name, rows) for name, rows in tables.items()},
    }
    for name, df in frames.items():
        con.register(f"_{name}", df)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")
    build_from_views(con, load_knowledge())
    return con


# --- base below the floor ---------------------------------------------------------------


def test_base_below_the_floor_is_a_hit_with_the_contribution_short() -> None:
    con = _db(emp_contribution=[_row(1, 4200.0), _row(2, 3000.0), _row(3, 3200.0)])
    f, lines = run_rule(con, "enrol_base_below_floor")
    assert f.height == 1
    # (4,200 − 3,000) × 8 % + (4,200 − 3,200) × 8 % = 96 + 80
    assert f["amount_at_risk"][0] == pytest.approx(176.0)
    assert lines.height == 2 and set(lines["role"]) == {"violating"}
    assert f["evidence"][0] == (
        "永宁化工有限公司（E1）为职工P1申报的2025年缴费基数有2个月低于下限¥4,200.00"
        "（职工月平均工资¥7,000.00的60%），最低¥3,000.00；少缴费款¥176.00（按费率8%计）。"
    )


def test_base_at_the_floor_or_a_year_without_an_average_wage_is_no_hit() -> None:
    con = _db(emp_contribution=[_row(1, 4200.0), _row(2, 4200.0)])
    assert run_rule(con, "enrol_base_below_floor")[0].height == 0
    con = _db(emp_contribution=[_row(1, 3000.0)], avg_wage=[{"year": 2024, "avg_wage": 7000}])
    assert run_rule(con, "enrol_base_below_floor")[0].height == 0


# --- everyone at the floor against the payroll ------------------------------------------


def _floor_staff(n: int) -> list[dict[str, Any]]:
    return [_row(m, 4200.0, psn=f"P{i}") for i in range(n) for m in (1, 2)]


def test_everyone_at_the_floor_with_a_high_payroll_is_a_hit() -> None:
    # 4 people, ¥403,200 a year: ¥8,400 per head and month, twice the floor
    stmt = [{"emp_no": "E1", "year": 2025, "wag_sumamt": 403200.0, "emp_cnt": 4}]
    con = _db(emp_contribution=_floor_staff(4), emp_fin_stmt=stmt)
    f, lines = run_rule(con, "enrol_all_at_floor")
    assert f.height == 1 and f["entity_type"][0] == "employer" and f["entity_id"][0] == "E1"
    # 8 rows × (8,400 − 4,200) × 8 %
    assert f["amount_at_risk"][0] == pytest.approx(8 * 336.0)
    assert lines.height == 8
    assert "人均月工资¥8,400.00，为下限的2.0倍" in f["evidence"][0]


def test_a_low_payroll_at_the_floor_is_no_hit() -> None:
    # ¥5,880 per head and month: 1.4 × the floor, under the 1.5 the rule asks
    stmt = [{"emp_no": "E1", "year": 2025, "wag_sumamt": 282240.0, "emp_cnt": 4}]
    con = _db(emp_contribution=_floor_staff(4), emp_fin_stmt=stmt)
    assert run_rule(con, "enrol_all_at_floor")[0].height == 0


# --- base dropping with no change filed --------------------------------------------------


def test_a_sharp_drop_with_no_change_filed_is_a_hit() -> None:
    rows = [_row(1, 10000.0), _row(2, 5000.0), _row(3, 5000.0)]
    f, lines = run_rule(_db(emp_contribution=rows), "enrol_base_drop")
    assert f.height == 1
    assert f["amount_at_risk"][0] == pytest.approx(2 * 5000 * 0.08)
    assert sorted(lines["role"]) == ["involved", "violating", "violating"]
    assert "自2025年02月起由¥10,000.00降至¥5,000.00（降幅50%）" in f["evidence"][0]


def test_a_drop_with_a_change_filed_or_a_small_drop_is_no_hit() -> None:
    rows = [_row(1, 10000.0), _row(2, 5000.0)]
    change = [_event("V1", "51", date(2025, 2, 1), "07;08", evt_rea="调岗")]
    assert run_rule(_db(emp_contribution=rows, insu_event=change), "enrol_base_drop")[0].height == 0
    rows = [_row(1, 10000.0), _row(2, 7100.0)]
    assert run_rule(_db(emp_contribution=rows), "enrol_base_drop")[0].height == 0


# --- headcount below the statements' ------------------------------------------------------


def test_fewer_people_declared_than_the_statements_employ_is_a_hit() -> None:
    rows = [_row(m, 6000.0, psn=f"P{i}") for i in range(6) for m in (1, 2)]
    # 10 people, ¥960,000: ¥8,000 per head and month
    stmt = [{"emp_no": "E1", "year": 2025, "wag_sumamt": 960000.0, "emp_cnt": 10}]
    f, lines = run_rule(_db(emp_contribution=rows, emp_fin_stmt=stmt), "enrol_headcount_short")
    assert f.height == 1 and lines.height == 2
    # 2 months × 4 people × 8,000 × 8 %
    assert f["amount_at_risk"][0] == pytest.approx(2 * 4 * 8000 * 0.08)
    assert "职工10人" in f["evidence"][0] and "平均仅6.0人，少报约4.0人" in f["evidence"][0]


def test_an_employer_with_statements_that_declares_nobody_is_a_hit() -> None:
    rows = [_row(m, 6000.0, psn="P9", emp="E2") for m in (1, 2)]
    stmt = [{"emp_no": "E1", "year": 2025, "wag_sumamt": 288000.0, "emp_cnt": 3}]
    f, lines = run_rule(_db(emp_contribution=rows, emp_fin_stmt=stmt), "enrol_headcount_short")
    assert f.height == 1 and f["entity_id"][0] == "E1" and lines.height == 2
    # 2 months × 3 people × 8,000 × 8 %
    assert f["amount_at_risk"][0] == pytest.approx(2 * 3 * 8000 * 0.08)


def test_one_person_short_is_no_hit() -> None:
    rows = [_row(1, 6000.0, psn=f"P{i}") for i in range(9)]
    stmt = [{"emp_no": "E1", "year": 2025, "wag_sumamt": 960000.0, "emp_cnt": 10}]
    con = _db(emp_contribution=rows, emp_fin_stmt=stmt)
    assert run_rule(con, "enrol_headcount_short")[0].height == 0


# --- two employers in one month ----------------------------------------------------------


def test_two_employers_in_one_month_is_a_hit_on_the_second() -> None:
    rows = [_row(3, 6000.0), _row(3, 4500.0, emp="E2")]
    f, lines = run_rule(_db(emp_contribution=rows), "enrol_two_employers")
    assert f.height == 1 and f["amount_at_risk"][0] == pytest.approx(4500 * 0.08)
    assert f["entity_id"][0] == "E2|P1"  # the hit is the second employer's
    assert sorted(lines["role"]) == ["involved", "violating"]
    assert "同时由永宁化工有限公司（E1）、县供电公司（E2）申报" in f["evidence"][0]


def test_a_transfer_month_is_no_hit() -> None:
    rows = [_row(3, 6000.0), _row(3, 4500.0, emp="E2")]
    move = [_event("V1", "41", date(2025, 3, 15), "06")]
    con = _db(emp_contribution=rows, insu_event=move)
    assert run_rule(con, "enrol_two_employers")[0].height == 0


# --- claims during an interruption ---------------------------------------------------------


def _claim_db(claim_day: datetime, events: list[dict[str, Any]], contributions=()) -> object:
    setl = visit(
        "MD1",
        begntime=claim_day,
        endtime=claim_day,
        setl_time=claim_day,
        inscp_amt=50.0,
        medfee_sumamt=50.0,
        fund_pay_sumamt=35.0,
        psn_no="P1",
    )
    lab = fee("MD1", 1, "Z1", pric=50.0, fee_ocur_time=claim_day, psn_no="P1")
    return _db(
        settlements=[setl],
        lines=[lab],
        persons=[{"psn_no": "P1"}],
        insu_event=events,
        emp_contribution=list(contributions),
    )


def test_a_claim_after_the_interruption_month_is_a_hit_for_the_fund_paid() -> None:
    stop = [_event("V1", "21", date(2025, 1, 20), "04")]
    f, lines = run_rule(_claim_db(datetime(2025, 2, 3, 9), stop), "enrol_claim_interrupted")
    assert f.height == 1 and f["entity_type"][0] == "settlement"
    assert f["amount_at_risk"][0] == 35.0 and lines["fixmedins_code"][0] == INST
    assert f["evidence"][0] == (
        "参保人P1已由永宁化工有限公司（E1）于2025-01-20申报中断（V1），自2025-02-01起停止享受"
        "待遇且未重新参保，2025-02-03仍在测试县人民医院（H13012300001）结算，基金支付¥35.00。"
    )


def test_a_claim_in_the_interruption_month_or_after_re_enrolment_is_no_hit() -> None:
    stop = [_event("V1", "21", date(2025, 1, 20), "04")]
    con = _claim_db(datetime(2025, 1, 28, 9), stop)
    assert run_rule(con, "enrol_claim_interrupted")[0].height == 0
    back = [*stop, _event("V2", "11", date(2025, 2, 1), "01;02;03", emp_no="E2")]
    con = _claim_db(datetime(2025, 2, 3, 9), back, [_row(2, 5000.0, emp="E2")])
    assert run_rule(con, "enrol_claim_interrupted")[0].height == 0


# --- deceased still enrolled ---------------------------------------------------------------


def test_contributions_after_the_month_of_death_are_a_hit() -> None:
    rows = [_row(1, 5000.0), _row(2, 5000.0), _row(3, 5000.0)]
    death = [{"psn_no": "P1", "die_date": date(2025, 1, 31)}]
    f, lines = run_rule(_db(emp_contribution=rows, death=death), "enrol_deceased_enrolled")
    assert f.height == 1 and lines.height == 2
    assert f["amount_at_risk"][0] == pytest.approx(2 * 400.0)
    assert "已于2025-01-31死亡" in f["evidence"][0] and "仍为其申报缴费2个月" in f["evidence"][0]


PERSON_RULES = (
    "enrol_base_below_floor",
    "enrol_base_drop",
    "enrol_two_employers",
    "enrol_deceased_enrolled",
)


@pytest.mark.parametrize("rule_id", PERSON_RULES)
def test_evidence_names_a_person_by_number_never_by_name(rule_id: str) -> None:
    """Evidence reaches every role that sees leads (auditors included), unmasked: like the
    claim rules', it names an insured person by number only (PIPL, default deny)."""
    rows = [_row(1, 9000.0), _row(2, 3000.0), _row(3, 3000.0), _row(3, 4500.0, emp="E2")]
    death = [{"psn_no": "P1", "die_date": date(2025, 1, 31)}]
    f, _ = run_rule(_db(emp_contribution=rows, death=death), rule_id)
    assert f.height >= 1
    for column in ("evidence", "evidence_en"):
        if column in f.columns:
            assert all("张三" not in e and "P1" in e for e in f[column]), f[column].to_list()


def test_the_month_of_death_itself_is_no_hit_and_the_person_register_counts() -> None:
    rows = [_row(1, 5000.0)]
    death = [{"psn_no": "P1", "die_date": date(2025, 1, 31)}]
    assert run_rule(_db(emp_contribution=rows, death=death), "enrol_deceased_enrolled")[
        0
    ].is_empty()
    rows = [_row(1, 5000.0), _row(2, 5000.0)]
    persons = [{"psn_no": "P1", "die_date": date(2025, 1, 5)}]
    con = _db(emp_contribution=rows, persons=persons)
    assert run_rule(con, "enrol_deceased_enrolled")[0].height == 1


# --- filings missing documents -------------------------------------------------------------


def test_an_enrolment_without_the_labour_contract_is_a_hit_naming_it() -> None:
    con = _db(insu_event=[_event("V1", "11", date(2025, 3, 1), "01；03")])
    f, lines = run_rule(con, "enrol_filing_documents")
    assert f.height == 1 and lines.height == 1 and f["amount_at_risk"][0] == 0.0
    assert f["evidence"][0] == (
        "永宁化工有限公司（E1）2025-03-01申报人员P1的参保（V1），缺少劳动合同，应补正。"
    )


def test_only_filings_of_the_last_three_years_are_checked() -> None:
    """A county's register holds decades of filings; counted back from its newest filing,
    an incomplete one older than ``recent_months`` (36) is no longer a lead."""
    events = [
        _event("V1", "11", date(2022, 3, 1), "01；03"),  # 36 months before the newest: checked
        _event("V2", "11", date(2022, 2, 28), "01；03"),  # just older: not
        _event("V3", "11", date(2025, 3, 1), "01；02；03"),
    ]
    f, _ = run_rule(_db(insu_event=events), "enrol_filing_documents")
    assert [e.split("（V")[1][:1] for e in f["evidence"]] == ["1"]


def test_complete_filings_in_any_separator_or_by_name_are_no_hit() -> None:
    events = [
        _event("V1", "11", date(2025, 3, 1), "03、02、01"),
        _event("V2", "51", date(2025, 3, 1), "08, 07 01"),
        _event("V3", "21", date(2025, 3, 1), "04"),
        _event("V4", "11", date(2025, 3, 1), "身份证件；劳动合同；参保登记表"),
    ]
    assert run_rule(_db(insu_event=events), "enrol_filing_documents")[0].height == 0


# --- no employer data -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule_id",
    [
        "enrol_base_below_floor",
        "enrol_all_at_floor",
        "enrol_base_drop",
        "enrol_headcount_short",
        "enrol_two_employers",
        "enrol_claim_interrupted",
        "enrol_deceased_enrolled",
        "enrol_filing_documents",
    ],
)
def test_without_employer_tables_the_checks_run_and_find_nothing(rule_id: str) -> None:
    con = duckdb.connect()
    for name in ("settlement", "fee_detail", "person", "institution"):
        con.register(f"_{name}", frame(name, [] if name in ("settlement", "fee_detail") else [{}]))
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")
    counts = build_from_views(con, load_knowledge())
    assert counts["contrib"] == 0 and counts["insu_event"] == 0
    assert run_rule(con, rule_id)[0].is_empty()
