"""The lead queue on five hand-made leads: paging, every filter, sorting, the review
status join, and ag-grid's filterModel."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hrss_fraud.cases.store import CaseStore, open_store
from hrss_fraud.outputs.leads import (
    ROW_COLUMNS,
    FilterError,
    LeadFilter,
    count,
    filter_from_ag_grid,
    lead_frame,
    page,
)
from hrss_fraud.outputs.runs_view import RunView

RISK_ORDER = ["f3", "f1", "f5", "f2", "f4"]
"""Amount desc (f1 and f3 tie at 2077.00: definite f3 before high f1), then severity."""


def ids(view: RunView, flt: LeadFilter | None = None, sort=None, store=None) -> list[str]:
    rows, n = page(view, flt, sort, 0, 100, store)
    assert n == len(rows)
    return [r["finding_id"] for r in rows]


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    with open_store(tmp_path) as s:
        s.record_decision(
            "f1", step="first_review", decision="confirmed", reason="证据充分", by="王"
        )
        s.record_decision("f2", step="first_review", decision="dismissed", reason="已核实", by="王")
        s.record_decision("f2", step="second_review", decision="pending", reason="复核", by="李")
        yield s


def test_default_order_is_risk_then_severity_then_id(small_view: RunView) -> None:
    assert ids(small_view) == RISK_ORDER


def test_a_row_has_the_queue_columns_in_chinese_by_default(small_view: RunView) -> None:
    rows, _ = page(small_view, None, None, 0, 1)
    row = rows[0]
    assert tuple(row) == ROW_COLUMNS
    assert row["finding_id"] == "f3"
    assert row["rule_name"] == "规则drug_supply_cap" and row["evidence"] == "超量开药30天"
    assert row["severity_label"] == "明确违规"
    assert row["fixmedins_name"] == "县中医医院" and row["zone"] == "Z2"
    assert row["period_start"] == "2025-03-05" and row["amount_at_risk"] == 2077.0
    assert row["status"] == "new" and row["status_label"] == "新疑点" and row["step"] is None


def test_english_swaps_names_evidence_and_labels(small_view: RunView) -> None:
    row = page(small_view, None, None, 0, 1, lang="en")[0][0]
    assert row["rule_name"] == "Rule drug_supply_cap"
    assert row["evidence"] == "Drug supplied 30 days over"
    assert row["severity_label"] == "definite violation" and row["status_label"] == "new"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 2, RISK_ORDER[:2]),
        (2, 4, RISK_ORDER[2:4]),
        (4, 100, RISK_ORDER[4:]),
        (5, 10, []),
        (3, 3, []),
        (50, 60, []),
    ],
)
def test_pages_cover_the_queue_without_overlap(
    small_view: RunView, start: int, end: int, expected: list[str]
) -> None:
    rows, n = page(small_view, None, None, start, end)
    assert [r["finding_id"] for r in rows] == expected
    assert n == 5


def test_a_bad_row_range_is_refused(small_view: RunView) -> None:
    with pytest.raises(FilterError, match="startRow"):
        page(small_view, None, None, 5, 2)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (LeadFilter(rule_ids=("drug_supply_cap",)), ["f3", "f2"]),
        (LeadFilter(severities=("definite",)), ["f3", "f5", "f2"]),
        (LeadFilter(fixmedins_codes=("H1", "H3")), ["f1", "f2", "f4"]),
        (LeadFilter(zones=("Z1",)), ["f1", "f2", "f4"]),
        (LeadFilter(psn_no="P1"), ["f3", "f1"]),
        (LeadFilter(finding_ids=("f4", "f2")), ["f2", "f4"]),
        (LeadFilter(amount_min=100.01), ["f3", "f1", "f5"]),
        (LeadFilter(amount_min=64.0, amount_max=100.01), ["f5", "f2"]),
        (LeadFilter(amount_max=0.0), ["f4"]),
        # overlap: f5's period (02-28..03-02) reaches into March
        (LeadFilter(date_from=date(2025, 3, 1)), ["f3", "f5"]),
        (LeadFilter(date_to=date(2025, 1, 29)), ["f1", "f4"]),
        (LeadFilter(date_from=date(2025, 2, 1), date_to=date(2025, 2, 1)), ["f2"]),
        (LeadFilter(text="超量开药"), ["f3", "f2"]),
        (LeadFilter(text="panel"), ["f5"]),  # English evidence, any case
        (LeadFilter(text="SPLIT"), ["f1"]),
        (LeadFilter(rule_ids=()), []),
        (LeadFilter(severities=("definite",), zones=("Z2",), amount_max=1000.0), ["f5"]),
    ],
)
def test_each_filter(small_view: RunView, flt: LeadFilter, expected: list[str]) -> None:
    assert ids(small_view, flt) == expected
    assert count(small_view, flt) == len(expected)


def test_status_comes_from_the_latest_decision(small_view: RunView, store: CaseStore) -> None:
    rows = {r["finding_id"]: r for r in page(small_view, None, None, 0, 10, store)[0]}
    assert rows["f1"]["status"] == "confirmed" and rows["f1"]["status_label"] == "确认违规"
    assert rows["f2"]["status"] == "pending" and rows["f2"]["step"] == "second_review"
    assert rows["f2"]["step_label"] == "复审"
    assert rows["f3"]["status"] == "new"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("new",), ["f3", "f5", "f4"]),
        (("confirmed", "pending"), ["f1", "f2"]),
        (("dismissed",), []),
    ],
)
def test_filter_by_status(
    small_view: RunView, store: CaseStore, statuses: tuple[str, ...], expected: list[str]
) -> None:
    assert ids(small_view, LeadFilter(statuses=statuses), store=store) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ([{"colId": "period_start", "sort": "asc"}], ["f1", "f4", "f2", "f5", "f3"]),
        ([{"colId": "severity", "sort": "asc"}], ["f4", "f1", "f3", "f5", "f2"]),
        (
            [
                {"colId": "fixmedins_code", "sort": "desc"},
                {"colId": "amount_at_risk", "sort": "asc"},
            ],
            ["f4", "f5", "f3", "f2", "f1"],
        ),
        # then risk among ties; nulls last
        ([{"colId": "psn_no", "sort": "desc"}], ["f4", "f2", "f3", "f1", "f5"]),
    ],
)
def test_sort(small_view: RunView, sort: list, expected: list[str]) -> None:
    assert ids(small_view, sort=sort) == expected


def test_sort_by_status_uses_the_case_store(small_view: RunView, store: CaseStore) -> None:
    order = ids(small_view, sort=[{"colId": "status", "sort": "asc"}], store=store)
    assert order == ["f1", "f3", "f5", "f4", "f2"]  # confirmed, new…, pending


@pytest.mark.parametrize(
    "sort", [[{"colId": "evidence_en", "sort": "asc"}], [{"colId": "amount_at_risk", "sort": "up"}]]
)
def test_an_unknown_sort_is_refused(small_view: RunView, sort: list) -> None:
    with pytest.raises(FilterError, match="sort"):
        page(small_view, None, sort, 0, 10)


def test_lead_frame_is_the_whole_sorted_queue(small_view: RunView) -> None:
    df = lead_frame(small_view, LeadFilter(zones=("Z1",)), lang="en")
    assert df.columns == list(ROW_COLUMNS)
    assert df["finding_id"].to_list() == ["f1", "f2", "f4"]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ({}, LeadFilter()),
        (
            {"severity_label": {"filterType": "set", "values": ["明确违规", "highly suspicious"]}},
            LeadFilter(severities=("definite", "high")),
        ),
        ({"rule_id": {"filterType": "set", "values": []}}, LeadFilter(rule_ids=())),
        (
            {"status": {"filterType": "text", "type": "equals", "filter": "新疑点"}},
            LeadFilter(statuses=("new",)),
        ),
        (
            {"zone": {"filterType": "text", "type": "equals", "filter": " Z1 "}},
            LeadFilter(zones=("Z1",)),
        ),
        (
            {"evidence": {"filterType": "text", "type": "contains", "filter": "超量"}},
            LeadFilter(text="超量"),
        ),
        (
            {"amount_at_risk": {"filterType": "number", "type": "greaterThan", "filter": 100}},
            LeadFilter(amount_min=100.01),
        ),
        (
            {"amount_at_risk": {"filterType": "number", "type": "lessThan", "filter": 64}},
            LeadFilter(amount_max=63.99),
        ),
        (
            {"amount_at_risk": {"filterType": "number", "type": "equals", "filter": 64}},
            LeadFilter(amount_min=64.0, amount_max=64.0),
        ),
        (
            {
                "amount_at_risk": {
                    "filterType": "number",
                    "type": "inRange",
                    "filter": 2000,
                    "filterTo": 50.5,
                }
            },
            LeadFilter(amount_min=50.5, amount_max=2000.0),
        ),
        (
            {
                "period_start": {
                    "filterType": "date",
                    "type": "inRange",
                    "dateFrom": "2025-02-01 00:00:00",
                    "dateTo": "2025-02-28 00:00:00",
                }
            },
            LeadFilter(date_from=date(2025, 2, 1), date_to=date(2025, 2, 28)),
        ),
        (
            {"period_end": {"filterType": "date", "type": "greaterThan", "dateFrom": "2025-02-28"}},
            LeadFilter(date_from=date(2025, 3, 1)),
        ),
        (
            {
                "rule_id": {
                    "filterType": "text",
                    "operator": "OR",
                    "conditions": [
                        {"type": "equals", "filter": "split_admission"},
                        {"type": "equals", "filter": "pair_unbundle"},
                    ],
                }
            },
            LeadFilter(rule_ids=("split_admission", "pair_unbundle")),
        ),
        (
            {
                "amount_at_risk": {
                    "filterType": "number",
                    "operator": "AND",
                    "condition1": {"type": "greaterThanOrEqual", "filter": 10},
                    "condition2": {"type": "lessThanOrEqual", "filter": 99.999},
                }
            },
            LeadFilter(amount_min=10.0, amount_max=99.99),
        ),
    ],
)
def test_filter_model_translation(model: dict, expected: LeadFilter) -> None:
    assert filter_from_ag_grid(model) == expected


def test_a_translated_filter_model_pages_like_the_grid_expects(small_view: RunView) -> None:
    model = {
        "zone": {"filterType": "set", "values": ["Z1", "Z2"]},
        "amount_at_risk": {"filterType": "number", "type": "greaterThan", "filter": 64},
        "period_start": {"filterType": "date", "type": "lessThan", "dateFrom": "2025-03-01"},
    }
    assert ids(small_view, filter_from_ag_grid(model)) == ["f1", "f5"]


@pytest.mark.parametrize(
    ("model", "match"),
    [
        ({"rule_name": {"filterType": "text", "type": "contains", "filter": "x"}}, "rule_name"),
        ({"evidence": {"filterType": "text", "type": "notContains", "filter": "x"}}, "notContains"),
        ({"severity": {"filterType": "set", "values": ["grave"]}}, "grave"),
        ({"amount_at_risk": {"filterType": "number", "type": "equals", "filter": "abc"}}, "number"),
        ({"period_start": {"filterType": "date", "type": "equals", "dateFrom": "03/01"}}, "date"),
        (
            {
                "amount_at_risk": {
                    "filterType": "number",
                    "operator": "OR",
                    "conditions": [
                        {"type": "lessThan", "filter": 1},
                        {"type": "greaterThan", "filter": 9},
                    ],
                }
            },
            "OR",
        ),
    ],
)
def test_an_unsupported_filter_model_says_why(model: dict, match: str) -> None:
    with pytest.raises(FilterError, match=match):
        filter_from_ag_grid(model)


def test_sorting_by_the_default_rank_equals_sorting_key_by_key(county_view: RunView) -> None:
    """Every sort of one or two columns, whole queue and a filtered few: the default
    order's tail replaced by each lead's default rank gives the key-by-key order."""
    import itertools

    import numpy as np

    from hrss_fraud.outputs import leads as lq

    index = lq.lead_index(county_view)
    decided = index.decided(lq.review_status(None))
    few = np.flatnonzero(index.amount > np.nanmedian(index.amount))
    columns = ["rule_id", "severity", "fixmedins_code", "psn_no", "period_start", "amount_at_risk"]
    sorts = [[c] for c in columns] + list(itertools.combinations(columns, 2))
    for names in sorts:
        for desc in itertools.product([False, True], repeat=len(names)):
            model = [
                {"colId": c, "sort": "desc" if d else "asc"}
                for c, d in zip(names, desc, strict=True)
            ]
            keys = lq._sort_keys(model)
            for at in (None, few):
                picked = slice(None) if at is None else at
                by_key = [lq.directed_key(index._key(n, "zh", decided)[picked], d) for n, d in keys]
                expected = lq.stable_order(by_key, index.n if at is None else len(at))
                got = index._sorted(keys, "zh", decided, at)
                want = expected if at is None else at[expected]
                assert np.array_equal(got, want), (model, at is None)
