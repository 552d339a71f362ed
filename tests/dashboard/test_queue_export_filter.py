"""The lead queue's export under a filter: the workbook that
:func:`hrss_fraud.dashboard.queue_callbacks.export` returns holds exactly the leads the
grid's filter keeps, in the queue's order, no more and no fewer; checked against the run's
findings filtered here with polars (apart from the queue's own filter code) and against
:func:`~hrss_fraud.outputs.leads.lead_frame` and
:func:`~hrss_fraud.outputs.leads.count` under the same filter."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from hrss_fraud.cases.store import CaseStore, open_store
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import queue_callbacks as qc
from hrss_fraud.outputs.excel_export import (
    ABOUT,
    EXPORT_COLUMNS,
    FLAG_COLUMNS,
    FLAG_LABELS,
    about_label,
    about_value,
)
from hrss_fraud.outputs.labels import column_label
from hrss_fraud.outputs.leads import count, lead_frame
from hrss_fraud.outputs.runs_view import RunView

AUDITOR = User("auditor", "auditor", "auditor", True, "", "")


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    with open_store(tmp_path) as s:
        yield s


@pytest.fixture(scope="module")
def findings(county_view: RunView) -> pl.DataFrame:
    return pl.read_parquet(county_view.findings_path)


def rules_by_variety(findings: pl.DataFrame) -> list[str]:
    """The run's rules, those whose leads have the most different amounts first (ties by
    id): an amount filter keeps some of their leads and drops others."""
    variety = findings.group_by("rule_id").agg(pl.col("amount_at_risk").n_unique().alias("n"))
    return variety.sort(["n", "rule_id"], descending=[True, False])["rule_id"].to_list()


def sheets(data: bytes, lang: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The workbook's lead rows (by export column, review flags after them) and its about
    sheet (by key: its lines are labelled in ``lang``)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    leads, about = book.worksheets
    header, *rows = list(leads.iter_rows(values_only=True))
    columns = [*EXPORT_COLUMNS, *FLAG_COLUMNS]
    labels = {c: pair[lang == "en"] for c, pair in FLAG_LABELS.items()}
    assert list(header) == [labels.get(c) or column_label(c, lang) for c in columns]
    key = {about_label(k, lang): k for k in ABOUT}
    info = {key.get(str(k), str(k)): str(v) for k, v in about.iter_rows(values_only=True)}
    return [dict(zip(columns, r, strict=True)) for r in rows], info


def test_export_with_a_rule_and_a_minimum_amount_holds_exactly_those_leads(
    county_view: RunView, store: CaseStore, findings: pl.DataFrame
) -> None:
    rule = rules_by_variety(findings)[0]
    amounts = findings.filter(pl.col("rule_id") == rule)["amount_at_risk"]
    floor = float(round(amounts.median()))  # whole yuan: the filter's cents change nothing
    request = {
        "filterModel": {
            "rule_id": {"filterType": "text", "type": "equals", "filter": rule},
            "amount_at_risk": {
                "filterType": "number",
                "type": "greaterThanOrEqual",
                "filter": floor,
            },
        }
    }
    rows, about = sheets(qc.export(county_view, request, store, AUDITOR, lang="zh"), "zh")

    expected = findings.filter((pl.col("rule_id") == rule) & (pl.col("amount_at_risk") >= floor))
    # the filter really narrows: some of the rule's leads are below the floor, and the run
    # has leads of other rules
    assert 0 < expected.height < amounts.len() < findings.height
    ids = [r["finding_id"] for r in rows]
    assert len(ids) == len(set(ids)) == expected.height
    assert set(ids) == set(expected["finding_id"])
    assert all(r["rule_id"] == rule and r["amount_at_risk"] >= floor for r in rows)
    # the same rows, in the same order, as the queue shows under the same filter
    flt, sort = qc.grid_request(request)
    assert ids == lead_frame(county_view, flt, sort)["finding_id"].to_list()
    assert len(ids) == count(county_view, flt)
    amounts_out = [r["amount_at_risk"] for r in rows]
    assert amounts_out == sorted(amounts_out, reverse=True)  # risk first by default
    # the about sheet says which filter produced how many rows
    assert about["rows"] == str(len(ids))
    said = about_value("filter", {"rule_ids": [rule], "amount_min": floor}, "zh")
    assert about["filter"] == said and said.startswith(f"规则：{rule}；")


def test_export_with_two_rules_an_amount_range_and_a_sort_holds_exactly_those_leads(
    county_view: RunView, store: CaseStore, findings: pl.DataFrame
) -> None:
    rules = rules_by_variety(findings)[1:3]
    both = findings.filter(pl.col("rule_id").is_in(rules))
    # from the lower quartile of one rule's amounts to the upper quartile of the other's
    # (whole yuan), so each rule has leads kept and leads dropped
    quartiles = both.group_by("rule_id").agg(
        lo=pl.col("amount_at_risk").quantile(0.25), hi=pl.col("amount_at_risk").quantile(0.75)
    )
    lo, hi = float(round(quartiles["lo"].min())), float(round(quartiles["hi"].max()))
    request = {
        "filterModel": {
            "rule_id": {"filterType": "set", "values": rules},
            "amount_at_risk": {
                "filterType": "number",
                "type": "inRange",
                "filter": lo,
                "filterTo": hi,
            },
        },
        "sortModel": [{"colId": "amount_at_risk", "sort": "asc"}],
    }
    rows, about = sheets(qc.export(county_view, request, store, AUDITOR, lang="en"), "en")

    expected = both.filter(pl.col("amount_at_risk").is_between(lo, hi))
    assert set(expected["rule_id"]) == set(rules) and expected.height < both.height
    ids = [r["finding_id"] for r in rows]
    assert len(ids) == len(set(ids)) == expected.height
    assert set(ids) == set(expected["finding_id"])
    assert {r["rule_id"] for r in rows} == set(rules)
    assert all(lo <= r["amount_at_risk"] <= hi for r in rows)
    flt, sort = qc.grid_request(request)
    assert ids == lead_frame(county_view, flt, sort, lang="en")["finding_id"].to_list()
    assert len(ids) == count(county_view, flt)
    amounts_out = [r["amount_at_risk"] for r in rows]
    assert amounts_out == sorted(amounts_out)  # as asked: smallest first
    assert about["rows"] == str(len(ids))


def test_export_of_one_institution_one_severity_and_one_month_holds_exactly_those_leads(
    county_view: RunView, store: CaseStore, findings: pl.DataFrame
) -> None:
    # the institution with the most leads, and a severity it has some but not all of
    per_inst = findings.group_by("fixmedins_code").len().sort(["len", "fixmedins_code"])
    inst = per_inst["fixmedins_code"][-1]
    mine = findings.filter(pl.col("fixmedins_code") == inst)
    severity = mine.group_by("severity").len().sort(["len", "severity"])["severity"][-1]
    start, end = date(2025, 2, 1), date(2025, 2, 28)
    request = {
        "filterModel": {
            "fixmedins_code": {"filterType": "text", "type": "equals", "filter": inst},
            "severity": {"filterType": "set", "values": [severity]},
            "period_start": {
                "filterType": "date",
                "type": "inRange",
                "dateFrom": f"{start} 00:00:00",
                "dateTo": f"{end} 00:00:00",
            },
        }
    }
    rows, about = sheets(qc.export(county_view, request, store, AUDITOR, lang="en"), "en")

    # a lead is in February when part of its period is: it starts by the 28th and ends on
    # the 1st or later
    in_feb = (pl.col("period_start") <= end) & (pl.col("period_end") >= start)
    expected = mine.filter((pl.col("severity") == severity) & in_feb)
    # each part of the filter drops leads: other institutions, other severities here,
    # other months at this institution and severity
    assert 0 < expected.height < mine.filter(pl.col("severity") == severity).height
    assert mine["severity"].n_unique() > 1 and mine.height < findings.height
    ids = [r["finding_id"] for r in rows]
    assert len(ids) == len(set(ids)) == expected.height
    assert set(ids) == set(expected["finding_id"])
    assert {r["fixmedins_code"] for r in rows} == {inst}
    flt, sort = qc.grid_request(request)
    assert ids == lead_frame(county_view, flt, sort, lang="en")["finding_id"].to_list()
    assert len(ids) == count(county_view, flt)
    assert about["rows"] == str(len(ids))
    assert about["filter"] == about_value(
        "filter",
        {
            "severities": [severity],
            "fixmedins_codes": [inst],
            "date_from": start.isoformat(),
            "date_to": end.isoformat(),
        },
        "en",
    )
