"""Lead detail and overview on the scored tiny county: the panel's content matches the
run, the catalogue and the lake; every breakdown adds up to the run to the cent."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from helpers.small_run import publish_small

from hrss_fraud.outputs import overview
from hrss_fraud.outputs.lead_detail import lead_detail
from hrss_fraud.outputs.leads import LeadFilter, count, page
from hrss_fraud.outputs.ranking import risk_ranking
from hrss_fraud.outputs.runs_view import RunView, open_view


def _fen(values: pl.Series) -> int:
    return int((values * 100).round().cast(pl.Int64).sum())


@pytest.fixture(scope="module")
def findings(county_view: RunView) -> pl.DataFrame:
    return county_view.run.findings()


def test_a_fee_line_lead_shows_its_rule_params_lines_and_context(
    county_view: RunView, findings: pl.DataFrame
) -> None:
    f = (
        findings.filter(pl.col("rule_id") == "drug_supply_cap", pl.col("psn_no").is_not_null())
        .sort("finding_id")
        .row(0, named=True)
    )
    d = lead_detail(county_view, f["finding_id"])
    rule = county_view.catalogue.rules["drug_supply_cap"]
    assert d.rule["name_zh"] == rule.name_zh and d.rule["legal_basis"] == rule.legal_basis
    assert d.rule["family"] == rule.family and d.rule["severity_label"] == "明确违规"
    assert d.params["name"].to_list() == sorted(rule.defaults())
    assert d.params["default"].to_list() == [rule.defaults()[n] for n in d.params["name"]]
    assert d.evidence_zh == f["evidence"] and d.evidence_en == f["evidence_en"]
    assert d.lead["amount_at_risk"] == f["amount_at_risk"] and d.lead["status"] == "new"
    # the lines add up to the lead and carry the lake's item and amounts
    assert d.lines.height == f["n_lines"]
    assert d.lines["amount_at_risk"].sum() == pytest.approx(f["amount_at_risk"], abs=0.011)
    assert d.lines["role"][0] == "violating"
    assert d.lines["med_list_codg"].null_count() == 0 and d.lines["cnt"].null_count() == 0
    assert d.lines["line_inscp_amt"].min() >= d.lines["amount_at_risk"].max() - 0.011
    # the person: every lead of theirs counted, the others listed, visits from the lake
    same_person = findings.filter(pl.col("psn_no") == f["psn_no"])
    assert d.person is not None and d.person["n_findings"] == same_person.height
    assert set(d.person_leads["finding_id"]) == set(same_person["finding_id"]) - {f["finding_id"]}
    assert d.person["n_visits"] >= 1 and d.person["inscp_amt"] > 0
    # the institution: its leads and its place in the ranking
    own = findings.filter(pl.col("fixmedins_code") == f["fixmedins_code"])
    assert d.institution["n_findings"] == own.height
    assert _fen(pl.Series([d.institution["amount_at_risk"]])) == _fen(own["amount_at_risk"])
    ranking = risk_ranking(county_view.run, county_view.lake)
    mine = ranking.filter(pl.col("fixmedins_code") == f["fixmedins_code"]).row(0, named=True)
    assert d.institution["rank"] == mine["rank"] and d.institution["n_ranked"] == ranking.height
    assert f["finding_id"] not in d.institution_leads["finding_id"].to_list()
    assert d.history.height == 0


def test_a_settlement_lead_shows_the_settlement_in_english(
    county_view: RunView, findings: pl.DataFrame
) -> None:
    f = (
        findings.filter(pl.col("rule_id") == "split_admission")
        .sort("finding_id")
        .row(0, named=True)
    )
    d = lead_detail(county_view, f["finding_id"], lang="en")
    assert d.lead["rule_name"] == f["rule_name_en"] and d.lead["evidence"] == f["evidence_en"]
    assert d.params.filter(pl.col("name") == "days")["description"][0].startswith("days")
    assert d.lines["feedetl_sn"].null_count() == d.lines.height
    assert d.lines["med_type"].null_count() == 0 and d.lines["setl_inscp_amt"].null_count() == 0


def test_an_unknown_lead_is_a_lookup_error(county_view: RunView) -> None:
    with pytest.raises(LookupError, match="nope"):
        lead_detail(county_view, "nope")


def test_the_queue_pages_the_whole_run(county_view: RunView, findings: pl.DataFrame) -> None:
    rows, n = page(county_view, None, None, 100, 200)
    assert n == findings.height and len(rows) == 100
    top = findings.sort("amount_at_risk", descending=True)["amount_at_risk"]
    assert rows[0]["amount_at_risk"] == top[100]
    assert count(county_view, LeadFilter(zones=("none",))) == 0


@pytest.mark.parametrize("by", overview.BREAKDOWNS)
def test_each_breakdown_adds_up_to_the_run_exactly(
    county_view: RunView, findings: pl.DataFrame, by: str
) -> None:
    groups = overview.leads_by(county_view, by)
    assert groups["n_findings"].sum() == findings.height
    assert _fen(groups["amount_at_risk"]) == _fen(findings["amount_at_risk"])
    ids = groups["finding_ids"].explode()
    assert ids.n_unique() == ids.len() == findings.height  # each lead in one group
    # a group's figures are its finding_ids' figures
    top = groups.sort("amount_at_risk", descending=True).row(0, named=True)
    mine = findings.filter(pl.col("finding_id").is_in(pl.Series(top["finding_ids"]).implode()))
    assert _fen(mine["amount_at_risk"]) == _fen(pl.Series([top["amount_at_risk"]]))
    assert count(county_view, LeadFilter(finding_ids=tuple(top["finding_ids"]))) == mine.height
    assert overview.lead_totals(county_view) == {
        "n_findings": findings.height,
        "amount_at_risk": county_view.manifest["amount_at_risk"],
    }


def test_zone_groups_are_the_zone_filter(county_view: RunView) -> None:
    for row in overview.leads_by(county_view, "zone").drop_nulls("key").iter_rows(named=True):
        assert count(county_view, LeadFilter(zones=(row["key"],))) == row["n_findings"]


def test_fund_spending_matches_the_lake(county_view: RunView) -> None:
    spending = overview.fund_spending(county_view, lang="en")
    con = county_view.lake.connect()
    total, fund, n = con.execute(
        "SELECT CAST(sum(inscp_amt) AS DOUBLE), CAST(sum(fund_pay_sumamt) AS DOUBLE), count(*) "
        "FROM settlement WHERE vali_flag = '1' AND refd_setl_flag = '0'"
    ).fetchall()[0]
    row = spending.row(0, named=True)
    (again,) = con.execute(f"SELECT count(*) FROM settlement WHERE {row['condition']}").fetchall()[
        0
    ]
    con.close()
    assert _fen(spending["inscp_amt"]) == round(total * 100)
    assert _fen(spending["fund_pay_sumamt"]) == round(fund * 100)
    assert spending["n_settlements"].sum() == n and again == row["n_settlements"]
    assert (
        spending.filter(pl.col("med_type") == "41")["med_type_name"][0]
        == "retail pharmacy purchase"
    )


def test_run_status(county_view: RunView) -> None:
    status = overview.run_status(county_view)
    assert status["mode"] == "full" and status["failed_rules"] == []
    assert status["findings"] == county_view.run.findings().height
    assert status["seconds"] >= 0 and status["n_rules"] == len(county_view.manifest["rules"])
    inactive = {r["rule_id"] for r in county_view.manifest["rules"] if r["status"] == "inactive"}
    assert {r["rule_id"] for r in status["inactive_rules"]} == inactive  # not failures
    assert all(r["reason"] for r in status["inactive_rules"])


def test_changes_since_the_previous_run(
    county_ws: Path, county_view: RunView, findings: pl.DataFrame, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(county_ws / "runs", ws / "runs")
    (ws / "lake").symlink_to(county_ws / "lake")
    dropped = findings.sort("finding_id").head(3)
    added = findings.sort("finding_id").tail(1).with_columns(finding_id=pl.lit("zz_new"))
    nxt = pl.concat(
        [findings.filter(~pl.col("finding_id").is_in(dropped["finding_id"].implode())), added]
    )
    publish_small(ws, "29991231T000000000Z", nxt)
    latest = open_view(ws)
    ch = overview.changes(latest, open_view(ws, county_view.run_id))
    assert ch.previous_run_id == county_view.run_id and ch.run_id == "29991231T000000000Z"
    assert ch.new["finding_id"].to_list() == ["zz_new"]
    assert ch.gone["finding_id"].to_list() == dropped["finding_id"].to_list()
    assert ch.n_kept == findings.height - 3
    delta = _fen(added["amount_at_risk"]) - _fen(dropped["amount_at_risk"])
    assert round(ch.amount_change * 100) == delta
    assert _fen(ch.by_rule["change"]) == delta
    assert ch.by_rule["n_new"].sum() == 1 and ch.by_rule["n_gone"].sum() == 3
    first = overview.changes(county_view, None)
    assert first.new.height == findings.height and first.gone.height == 0
