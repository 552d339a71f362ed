"""The targeted data check on the scored tiny county: figures against the lake and the run."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases import open_store
from hrss_fraud.complaints.check import (
    checks,
    data_span,
    default_period,
    linked_leads,
    run_check,
    targeted_check,
)
from hrss_fraud.complaints.register import (
    ComplaintError,
    get,
    link,
    record_outcome,
    register,
)
from hrss_fraud.engine.runs import open_run
from hrss_fraud.lake import Lake

RECEIVED = date(2025, 4, 15)


def _targets(ws: Path) -> tuple[str, str]:
    """The institution with the largest amount at risk, and a person with a lead elsewhere."""
    f = open_run(ws).findings()
    inst = (
        f.group_by("fixmedins_code")
        .agg(pl.col("amount_at_risk").sum())
        .sort(["amount_at_risk", "fixmedins_code"], descending=[True, False])
        .item(0, "fixmedins_code")
    )
    psn = (
        f.filter(pl.col("psn_no").is_not_null() & (pl.col("fixmedins_code") != inst))
        .sort("finding_id")
        .item(0, "psn_no")
    )
    return inst, psn


def _expected(ws: Path, inst: str, psn: str, start: date, end: date) -> dict[str, object]:
    con = Lake(ws / "lake").connect()
    n_setl = con.execute(
        "SELECT count(*) FROM settlement WHERE fixmedins_code = ? "
        "AND CAST(setl_time AS DATE) BETWEEN ? AND ?",
        [inst, start, end],
    ).fetchall()[0][0]
    n_lines = con.execute(
        "SELECT count(*) FROM fee_detail WHERE psn_no = ? "
        "AND CAST(fee_ocur_time AS DATE) BETWEEN ? AND ?",
        [psn, start, end],
    ).fetchall()[0][0]
    con.close()
    f = (
        open_run(ws)
        .findings()
        .filter(
            (pl.col("fixmedins_code") == inst) | (pl.col("psn_no") == psn),
            pl.col("period_start").is_null() | (pl.col("period_start") <= end),
            pl.col("period_end").is_null() | (pl.col("period_end") >= start),
        )
    )
    return {"n_setl": n_setl, "n_lines": n_lines, "findings": f}


def _complaint(ws: Path, number: str):
    with open_store(ws) as store:
        return get(store, number)


def _lake_span(ws: Path, where: str = "TRUE", params: list | None = None) -> tuple[date, date]:
    con = Lake(ws / "lake").connect()
    try:
        sql = "SELECT min(setl_time)::DATE, max(setl_time)::DATE FROM settlement WHERE "
        return con.execute(sql + where, params or []).fetchone()
    finally:
        con.close()


def test_the_check_states_the_lake_and_the_runs_figures_and_links_the_leads(ws: Path) -> None:
    inst, psn = _targets(ws)
    with open_store(ws) as store:
        n = register(
            store,
            received_on=RECEIVED,
            source="网络",
            content="虚记诊疗项目",
            by="张三",
            institutions=[inst],
            persons=[psn],
        )
        result = run_check(store, ws, n, by="王五")
        stored = checks(store, n)
        leads = linked_leads(store, n)
        assert get(store, n).status == "checking"
        audit = store.audit_log(n)["action"].to_list()
    start, end = default_period(ws, get_c := _complaint(ws, n))
    assert (result.date_from, result.date_to) == (start, end) == data_span(ws, [inst], [psn])
    assert not result.warnings_zh and get_c.received_on == RECEIVED
    want = _expected(ws, inst, psn, start, end)
    act = {r["kind"]: r for r in result.activity.iter_rows(named=True)}
    assert act["institution"]["n_settlements"] == want["n_setl"] > 0
    assert act["person"]["n_lines"] == want["n_lines"] > 0
    assert act["institution"]["name"]  # named from the institution table
    findings: pl.DataFrame = want["findings"]  # type: ignore[assignment]
    assert sorted(result.leads["finding_id"].to_list()) == sorted(findings["finding_id"].to_list())
    by_rule = findings.group_by("rule_id").agg(pl.len(), pl.col("amount_at_risk").sum())
    got = result.by_rule.select("rule_id", "n_findings", "amount_at_risk").sort("rule_id")
    assert got["n_findings"].to_list() == by_rule.sort("rule_id")["len"].to_list()
    assert got["amount_at_risk"].to_list() == pytest.approx(
        by_rule.sort("rule_id")["amount_at_risk"].to_list()
    )
    assert result.by_rule["amount_at_risk"].is_sorted(descending=True)
    assert f"疑点{findings.height:,}条" in result.summary_zh
    assert f"{findings.height:,} leads" in result.summary_en
    assert stored["fingerprint"].to_list() == [result.fingerprint]
    assert leads.height == findings.height and set(leads["check_id"]) == {result.check_id}
    assert audit == ["complaint.register", "complaint.check"]


def test_the_fingerprint_is_the_same_for_the_same_data_and_changes_with_it(ws: Path) -> None:
    inst, _ = _targets(ws)
    with open_store(ws) as store:
        n = register(
            store, received_on=RECEIVED, source="phone", content="x", by="张三", institutions=[inst]
        )
        first = run_check(store, ws, n, by="王五")
        again = run_check(store, ws, n, by="赵六")
        narrower = run_check(store, ws, n, by="王五", date_from=date(2025, 3, 1))
        assert linked_leads(store, n).height == first.leads.height  # linked once
    assert first.fingerprint == again.fingerprint != narrower.fingerprint
    assert again.check_id == first.check_id + 1
    assert narrower.leads.height <= first.leads.height


def test_without_a_scoring_run_the_check_gives_lake_figures_only(ws: Path) -> None:
    shutil.rmtree(ws / "runs")
    with open_store(ws) as store:
        n = register(
            store,
            received_on=RECEIVED,
            source="letter",
            content="x",
            by="张三",
            persons=["130123009999999999"],
        )
        result = run_check(store, ws, n, by="王五")
    assert result.run_id is None and result.leads.is_empty()
    assert result.activity.row(0, named=True)["n_settlements"] == 0
    assert "尚无评分批次" in result.summary_zh and "No scoring run yet" in result.summary_en


def test_checks_are_refused_without_targets_on_an_empty_range_and_once_handled(ws: Path) -> None:
    with open_store(ws) as store:
        n = register(store, received_on=RECEIVED, source="media", content="x", by="张三")
        with pytest.raises(ComplaintError, match="names no institution or person"):
            run_check(store, ws, n, by="王五")
        link(store, n, institutions=["H13012300001"], by="张三")
        c = get(store, n)
        with pytest.raises(ComplaintError, match=r"range .* is empty"):
            targeted_check(ws, c, date_from=date(2025, 5, 1))
        record_outcome(store, n, outcome="转办", text="转办", by="王五", handled_on=RECEIVED)
        with pytest.raises(ComplaintError, match="handled and final"):
            run_check(store, ws, n, by="王五")
        assert checks(store, n).is_empty()


def test_the_default_period_is_the_lakes_data_on_the_targets_not_the_year_before_receipt(
    ws: Path,
) -> None:
    """Received long after the data (as on the demo county, received today): the default
    period still covers the target's settlements, and the check finds them."""
    inst, psn = _targets(ws)
    with open_store(ws) as store:
        n = register(
            store,
            received_on=date(2026, 12, 1),
            source="phone",
            content="x",
            by="张三",
            institutions=[inst],
        )
        result = run_check(store, ws, n, by="王五")
    span = _lake_span(ws, "fixmedins_code = ?", [inst])
    assert (result.date_from, result.date_to) == span
    assert span[1] < date(2025, 12, 1)  # the year before receipt would hold nothing
    assert result.activity.row(0, named=True)["n_settlements"] > 0
    assert not result.warnings_zh and "无结算数据" not in result.summary_zh
    # a person alone: the span of that person's own settlements
    with open_store(ws) as store:
        m = register(
            store, received_on=RECEIVED, source="phone", content="x", by="张三", persons=[psn]
        )
        c = get(store, m)
    assert default_period(ws, c) == _lake_span(ws, "psn_no = ?", [psn])


def test_a_check_that_finds_nothing_warns_and_says_where_the_data_lies(ws: Path) -> None:
    inst, _ = _targets(ws)
    first, last = _lake_span(ws, "fixmedins_code = ?", [inst])
    with open_store(ws) as store:
        n = register(
            store, received_on=RECEIVED, source="phone", content="x", by="张三", institutions=[inst]
        )
        later = run_check(
            store, ws, n, by="王五", date_from=date(2025, 6, 1), date_to=RECEIVED.replace(month=9)
        )
        stored = checks(store, n).row(0, named=True)
    assert later.activity.row(0, named=True)["n_settlements"] == 0
    (zh,) = later.warnings_zh
    assert zh.startswith(f"核查期间2025-06-01至2025-09-15内该机构{inst}")
    assert "无结算数据" in zh and f"{first}至{last}" in zh
    assert later.summary_zh.startswith(zh)  # the summary leads with it: never a silent zero
    (en,) = later.warnings_en
    assert en.startswith(f"No settlements of institution {inst}") and str(last) in en
    assert "无结算数据" in stored["summary_zh"]
    assert json.loads(stored["detail"])["warnings_zh"] == [zh]


def test_a_target_the_lake_never_saw_is_warned_about_and_the_period_is_the_lakes(
    ws: Path,
) -> None:
    with open_store(ws) as store:
        n = register(
            store,
            received_on=RECEIVED,
            source="letter",
            content="x",
            by="张三",
            persons=["130123009999999999"],
        )
        c = get(store, n)
        result = run_check(store, ws, n, by="王五")
    assert default_period(ws, c) == _lake_span(ws)  # nothing on the target: the whole lake
    (zh,) = result.warnings_zh
    assert "该参保人130123009999999999无结算数据" in zh and "请核对编号" in zh
