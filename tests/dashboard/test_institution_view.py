"""The institution profile: peer indicators, trend, top items and doctors, leads and data
quality, exact on the hand-made lake and consistent with the run on the tiny county."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from hrss_fraud.outputs import institution_view as iv
from hrss_fraud.outputs.leads import LeadFilter, lead_frame
from hrss_fraud.outputs.profile_data import MIN_PEERS, PROFILE_LEADS, by_rule
from hrss_fraud.outputs.runs_view import RunView


def test_indicators_are_ratios_of_valid_visits_and_net_lines(profile_view: RunView) -> None:
    peers = {r["indicator"]: r for r in iv.peer_comparison(profile_view, "H1").to_dicts()}
    cost = peers["cost_per_visit"]
    # the invalid ¥999 settlement does not count; the refunded drug line nets off
    assert (cost["numerator"], cost["denominator"], cost["value"]) == (600.0, 4.0, 150.0)
    assert peers["drug_share"]["value"] == 0.5
    assert peers["visits_per_patient"]["value"] == 2.0
    assert peers["services_per_visit"]["value"] == 1.0
    assert peers["drugs_per_visit"]["value"] == 1.0
    assert peers["night_weekend_share"]["value"] == 0.25


def test_peers_exclude_the_institution_and_ties_count_half(profile_view: RunView) -> None:
    peers = {r["indicator"]: r for r in iv.peer_comparison(profile_view, "H1").to_dicts()}
    cost = peers["cost_per_visit"]  # H2 50, H3 100
    assert cost["n_peers"] == 2 and cost["peer_median"] == 75.0
    assert cost["p10"] == pytest.approx(55.0) and cost["p90"] == pytest.approx(95.0)
    assert cost["percentile"] == 1.0
    assert peers["visits_per_patient"]["percentile"] == 0.75  # H3 below, H2 tied
    values = iv.peer_values(profile_view, "H1").filter(pl.col("indicator") == "cost_per_visit")
    assert sorted(values["fixmedins_code"]) == ["H1", "H2", "H3"]
    assert values.filter(pl.col("is_self"))["fixmedins_code"].to_list() == ["H1"]


def test_english_labels(profile_view: RunView) -> None:
    labels = iv.peer_comparison(profile_view, "H1", lang="en")["label"].to_list()
    assert labels[0] == "in-scope cost per visit (yuan)"


def test_trend_items_and_doctors_carry_the_leads_behind_them(profile_view: RunView) -> None:
    trend = iv.monthly_trend(profile_view, "H1").to_dicts()
    assert len(trend) == 1
    assert trend[0]["month"] == "2025-03" and trend[0]["n_settlements"] == 4
    assert trend[0]["inscp_amt"] == 600.0 and trend[0]["cost_per_visit"] == 150.0
    assert trend[0]["finding_ids"] == ["f1", "f2"] and trend[0]["amount_at_risk"] == 45.0
    items = {r["med_list_codg"]: r for r in iv.top_items(profile_view, "H1").to_dicts()}
    assert items["X01"]["n_lines"] == 5 and items["X01"]["cnt"] == 4.0
    assert items["X01"]["inscp_amt"] == 300.0 and items["X01"]["share"] == 0.5
    assert items["X01"]["finding_ids"] == ["f1"] and items["L01"]["finding_ids"] == []
    doctors = iv.top_doctors(profile_view, "H1").to_dicts()
    assert [d["dr_codg"] for d in doctors] == ["D001", "D002"]
    assert doctors[0]["dr_name"] == "王医生" and doctors[0]["n_settlements"] == 3
    assert doctors[0]["inscp_amt"] == 400.0 and doctors[0]["finding_ids"] == ["f1"]


def test_profile_lists_its_leads_with_review_status(profile_view: RunView) -> None:
    p = iv.institution_profile(profile_view, "H1")
    assert p.header["fixmedins_name"] == "一院" and p.header["peer_group"] == "A1|2"
    assert p.header["setting_labels"] == ["门诊"]
    assert sorted(p.leads["finding_id"]) == ["f1", "f2"]
    assert set(p.leads["status"]) == {"new"}
    by_rule = {r["rule_id"]: r for r in p.leads_by_rule.to_dicts()}
    assert by_rule["split_admission"]["amount_at_risk"] == 40.0
    assert by_rule["split_admission"]["n_open"] == 1
    assert p.quality is not None and p.quality["settlements"] == 5


def test_an_unknown_institution_is_a_lookup_error(profile_view: RunView) -> None:
    with pytest.raises(LookupError, match="not in the lake"):
        iv.institution_profile(profile_view, "NOPE")


def test_a_kind_with_few_units_is_pooled_into_its_level(county_view: RunView) -> None:
    groups = iv.unit_indicators(county_view).select("fixmedins_code", "peer_group").unique()
    sizes = groups.group_by("peer_group").len()
    by_kind = sizes.filter(~pl.col("peer_group").str.starts_with("*"))
    assert by_kind.height > 0 and by_kind["len"].min() >= MIN_PEERS
    assert sizes.filter(pl.col("peer_group").str.starts_with("*")).height > 0


def test_county_profile_agrees_with_the_run(county_view: RunView) -> None:
    findings = county_view.run.findings()
    code = findings["fixmedins_code"].mode().sort()[0]
    p = iv.institution_profile(county_view, code)
    own = findings.filter(pl.col("fixmedins_code") == code)
    assert p.n_leads == own.height and p.leads.height == min(own.height, PROFILE_LEADS)
    # the listed leads are the riskiest, as the lead queue filtered on the institution
    queue = lead_frame(county_view, LeadFilter(fixmedins_codes=(code,)))
    assert p.leads["finding_id"].to_list() == queue["finding_id"].head(PROFILE_LEADS).to_list()
    assert p.leads_by_rule["n_findings"].sum() == own.height
    assert_frame_equal(p.leads_by_rule, by_rule(queue))
    assert sum(len(ids) for ids in p.trend["finding_ids"]) == own.height
    fen = int((own["amount_at_risk"] * 100).round().sum())
    assert round(p.leads_by_rule["amount_at_risk"].sum() * 100) == fen
    assert p.peers.height == len(iv.INDICATORS) and p.peers["value"].null_count() == 0
    assert p.items.height == 10 and p.items["inscp_amt"].is_sorted(descending=True)
