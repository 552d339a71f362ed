"""The case queue on a hand-made run: cases ranked by expected recovery, each with its
leads, amounts and review progress; paging, sorting and filtering as the grid asks; the
lead grid narrowed to a case; a data-quality finding never in any of it."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.accounts import user
from helpers.small_run import INSTITUTIONS, publish_small, small_findings

from hrss_fraud.cases.store import CaseStore
from hrss_fraud.dashboard import case_callbacks as cc
from hrss_fraud.dashboard import queue_callbacks as qc
from hrss_fraud.outputs import case_queue as cq
from hrss_fraud.outputs.leads import FilterError, LeadFilter, page
from hrss_fraud.outputs.overview import apart_counts, lead_totals
from hrss_fraud.outputs.runs_view import RunView

RUN = "20250501T000000000Z"
ROWS = [
    # two leads of one rule family at H1 in February: one case
    ("a1", "drug_supply_cap", "definite", "H1", "P1", ("2025-02-03", "2025-02-03"), 300.0,
     "超量开药10天", "Drug supplied 10 days over"),
    ("a2", "drug_supply_cap", "high", "H1", "P2", ("2025-02-10", "2025-02-10"), 200.0,
     "超量开药8天", "Drug supplied 8 days over"),
    # the same family at H1 in March: a case of its own
    ("b1", "drug_supply_cap", "definite", "H1", "P1", ("2025-03-01", "2025-03-01"), 50.0,
     "超量开药2天", "Drug supplied 2 days over"),
    # the patient's own conduct at two institutions: one person case
    ("p1", "claim_during_stay", "high", "H2", "P9", ("2025-01-05", "2025-01-05"), 500.0,
     "住院期间门诊结算", "Outpatient claim during a stay"),
    ("p2", "claim_after_death", "definite", "H3", "P9", ("2025-02-06", "2025-02-06"), 400.0,
     "死亡后结算", "Claim after death"),
    # a data-quality finding: no lead, no case
    ("q1", "dq_settlement_list", "suspicious", "H2", "P3", ("2025-01-29", "2025-01-29"), 0.0,
     "主诊断编码缺失", "Main diagnosis code missing"),
]  # fmt: skip
"""Three cases: P9's (¥900 at risk, ¥500×0.7 + ¥400 = ¥750 expected), H1 February's
(¥500, ¥300 + ¥200×0.7 = ¥440) and H1 March's (¥50)."""


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> RunView:
    ws = tmp_path_factory.mktemp("cases")
    run = publish_small(ws, RUN, small_findings(RUN, ROWS))
    return RunView(ws, run, INSTITUTIONS)


def _cases(view: RunView, flt=None, sort=None, store=None, lang="zh") -> list[dict]:
    rows, n = cq.page(view, flt, sort, 0, 100, store, lang=lang)
    assert n == len(rows)
    return rows


def _by_kind(view: RunView) -> dict[str, dict]:
    return {(r["case_kind"], r["months"]): r for r in _cases(view)}


def test_cases_rank_by_expected_recovery_with_their_leads_and_amounts(view: RunView) -> None:
    rows = _cases(view)
    assert [r["case_rank"] for r in rows] == [1, 2, 3]
    person, february, march = rows
    assert (person["case_kind"], person["psn_no"]) == ("person", "P9")
    assert person["case_kind_label"] == "参保人就医模式"
    assert (person["n_findings"], person["amount_at_risk"]) == (2, 900.0)
    assert person["expected_recovery"] == pytest.approx(750.0)
    assert person["months"] == "2025-01–2025-02"
    assert person["fixmedins_code"] == "H2"  # filed under its largest lead's institution
    assert (february["fixmedins_name"], february["months"]) == ("县人民医院", "2025-02")
    assert february["family_label"] == "价格与数量"
    assert (february["n_findings"], february["n_lines"]) == (2, 2)
    assert (february["amount_at_risk"], february["expected_recovery"]) == (500.0, 440.0)
    assert february["severity"] == "definite" and february["rules"] == "规则drug_supply_cap"
    assert (march["amount_at_risk"], march["n_findings"]) == (50.0, 1)
    assert all(r["progress"] == f"0/{r['n_findings']}" for r in rows)
    assert {r["progress_label"] for r in rows} == {"未开始审核"}


def test_a_case_row_has_the_grid_columns_and_english_labels(view: RunView) -> None:
    row = _cases(view, lang="en")[0]
    assert tuple(row) == cq.ROW_COLUMNS
    assert row["title"] == "Insured person P9: pattern of claims"
    assert row["case_kind_label"] == "a person's pattern"
    assert row["rules"] == "Rule claim_after_death, Rule claim_during_stay"
    assert row["progress_label"] == "not started"


def test_a_case_opens_on_its_leads_in_the_lead_grid(view: RunView, store: CaseStore) -> None:
    cases = _by_kind(view)
    february = cases[("institution_month", "2025-02")]
    leads, n = page(view, LeadFilter(case_ids=(february["case_id"],)), None, 0, 100)
    assert n == 2 and [r["finding_id"] for r in leads] == ["a1", "a2"]
    assert {r["case_rank"] for r in leads} == {2}
    model = {"case_id": {"filterType": "text", "type": "equals", "filter": february["case_id"]}}
    answer, message = qc.rows(view, {"startRow": 0, "endRow": 100, "filterModel": model}, store)
    assert message == "" and answer["rowCount"] == 2


def test_data_quality_findings_are_no_leads_and_in_no_case(view: RunView) -> None:
    leads, n = page(view, None, None, 0, 100)
    assert n == 5 and "q1" not in {r["finding_id"] for r in leads}
    assert lead_totals(view) == {"n_findings": 5, "amount_at_risk": 1450.0}
    assert sum(r["n_findings"] for r in _cases(view)) == 5
    assert apart_counts(view) == {"n_cases": 3, "n_quality_findings": 1}


def test_progress_counts_the_decided_leads_of_each_case(view: RunView, store: CaseStore) -> None:
    store.record_decision("a1", step="first_review", decision="confirmed", reason="核实", by="王")
    store.record_decision("p1", step="first_review", decision="pending", reason="待查", by="王")
    store.record_decision("p2", step="first_review", decision="dismissed", reason="误报", by="王")
    rows = {r["case_rank"]: r for r in _cases(view, store=store)}
    assert [rows[k]["progress"] for k in (1, 2, 3)] == ["2/2", "1/2", "0/1"]
    assert [rows[k]["progress_label"] for k in (1, 2, 3)] == ["已全部审核", "审核中", "未开始审核"]
    done = cq.CaseFilter(progress=("done",))
    assert [r["case_rank"] for r in _cases(view, done, store=store)] == [1]
    by_progress = [{"colId": "progress", "sort": "asc"}]
    assert [r["case_rank"] for r in _cases(view, None, by_progress, store)] == [3, 2, 1]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, [1, 2, 3]),
        ([{"colId": "case_rank", "sort": "desc"}], [3, 2, 1]),
        ([{"colId": "amount_at_risk", "sort": "desc"}], [1, 2, 3]),
        ([{"colId": "amount_at_risk", "sort": "asc"}], [3, 2, 1]),
        ([{"colId": "months", "sort": "asc"}], [1, 2, 3]),
        ([{"colId": "months", "sort": "desc"}], [3, 2, 1]),
        ([{"colId": "n_findings", "sort": "asc"}], [3, 1, 2]),  # ties by rank
        ([{"colId": "case_kind_label", "sort": "desc"}], [2, 3, 1]),  # 机… after 参…
        ([{"colId": "severity_label", "sort": "desc"}], [1, 2, 3]),
    ],
)
def test_sort(view: RunView, sort, expected: list[int]) -> None:
    assert [r["case_rank"] for r in _cases(view, None, sort)] == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (cq.CaseFilter(kinds=("person",)), [1]),
        (cq.CaseFilter(fixmedins_codes=("H1",)), [2, 3]),
        (cq.CaseFilter(rule_ids=("claim_after_death", "nope")), [1]),
        (cq.CaseFilter(families=("price_quantity",)), [2, 3]),
        (cq.CaseFilter(psn_no="P9"), [1]),
        (cq.CaseFilter(amount_min=500.0), [1, 2]),
        (cq.CaseFilter(recovery_max=440.0), [2, 3]),
        (cq.CaseFilter(date_from=date(2025, 2, 15)), [3]),
        (cq.CaseFilter(severities=()), []),
    ],
)
def test_filter(view: RunView, flt: cq.CaseFilter, expected: list[int]) -> None:
    assert [r["case_rank"] for r in _cases(view, flt)] == expected


def test_ag_grid_filter_model_takes_codes_and_labels_in_either_language() -> None:
    model = {
        "case_kind_label": {"filterType": "text", "type": "equals", "filter": "参保人就医模式"},
        "severity_label": {"filterType": "set", "values": ["definite violation", "high"]},
        "expected_recovery": {"filterType": "number", "type": "greaterThan", "filter": 100},
        "months": {"filterType": "date", "type": "inRange", "dateFrom": "2025-02-01",
                   "dateTo": "2025-01-01"},
    }  # fmt: skip
    flt = cq.filter_from_ag_grid(model)
    assert flt.kinds == ("person",) and flt.severities == ("definite", "high")
    assert flt.recovery_min == 100.01 and flt.recovery_max is None
    assert (str(flt.date_from), str(flt.date_to)) == ("2025-01-01", "2025-02-01")
    with pytest.raises(FilterError, match="not one of"):
        cq.filter_from_ag_grid({"severity_label": {"filterType": "set", "values": ["grave"]}})
    with pytest.raises(FilterError, match="cannot filter cases by 'title'"):
        cq.filter_from_ag_grid({"title": {"filterType": "text", "type": "equals", "filter": "x"}})


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"startRow": 0, "endRow": 10_000}, "一次最多取"),
        ({"startRow": "0", "endRow": 100}, "应为整数"),
        ({"startRow": 20, "endRow": 10}, "行号范围"),
        ({"sortModel": [{"colId": "title", "sort": "asc"}]}, "不能按此列排序"),
        ({"sortModel": [{"colId": "case_rank", "sort": "up"}]}, "排序方向"),
        ({"filterModel": {"amount_at_risk": {"filterType": "number", "type": "equals",
                                             "filter": "lots"}}}, "amount_at_risk"),
        ({"filterModel": []}, "filterModel"),
    ],
)  # fmt: skip
def test_a_bad_grid_request_gets_a_message_and_no_rows(
    view: RunView, request_: dict, message: str
) -> None:
    answer, said = cc.rows(view, request_, None)
    assert answer == {"rowData": [], "rowCount": 0}
    assert message in said


def test_pages_of_the_case_grid(view: RunView) -> None:
    answer, said = cc.rows(view, {"startRow": 1, "endRow": 2}, None)
    assert said == "" and answer["rowCount"] == 3
    assert [r["case_rank"] for r in answer["rowData"]] == [2]


def test_column_defs_filter_and_sort_only_where_the_queue_can() -> None:
    defs = {d["field"]: d for d in cc.column_defs("en")}
    assert list(defs) == list(cc.GRID_COLUMNS)
    for field, d in defs.items():
        assert d["sortable"] == (field in cq.SORTABLE)
        if field in cq.FILTER_OPTIONS:
            assert d["filterParams"]["filterOptions"] == list(cq.FILTER_OPTIONS[field])
        else:
            assert "filter" not in d
    assert defs["expected_recovery"]["headerName"] == "expected recovery (yuan)"
    assert cc.column_defs("zh")[0]["headerName"] == "案件排序"


def test_opening_a_case_is_audited_and_tells_its_statuses(view: RunView, store: CaseStore) -> None:
    store.record_decision("a2", step="first_review", decision="confirmed", reason="核实", by="王")
    february = _by_kind(view)[("institution_month", "2025-02")]
    case = cc.open_case(view, february["case_id"], store, user("auditor"))
    assert case["title"] == "H1 · 价格与数量 · 2025-02"  # the run has no lake to name H1
    assert case["fixmedins_name"] == "县人民医院"  # the dashboard's register does
    assert case["statuses"] == {"confirmed": 1, "new": 1}
    assert case["evidence"].startswith("2条疑点、2条明细，疑点金额¥500.00")
    assert (case["period_start"], case["period_end"]) == ("2025-02-03", "2025-02-10")
    logged = store.query("SELECT actor, object_id FROM audit_log WHERE action = 'case.view'")
    assert logged == [("auditor", february["case_id"])]
    with pytest.raises(LookupError, match="not in run"):
        cc.open_case(view, "Cnope", store, user("auditor"))


def test_case_frame_is_the_whole_sorted_queue_with_evidence(view: RunView) -> None:
    frame = cq.case_frame(view, sort=[{"colId": "amount_at_risk", "sort": "asc"}], lang="en")
    assert frame["case_rank"].to_list() == [3, 2, 1]
    assert frame["evidence"][0].startswith("1 findings on 1 lines, ¥50.00 at risk")
