"""The doctor profile: daily volume against the peers' usual day, item mix against the
peers' mix, and the leads the doctor answers for."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from hrss_fraud.outputs import doctor_view as dv
from hrss_fraud.outputs.runs_view import RunView


def test_daily_volume_and_the_peers_usual_day(profile_view: RunView) -> None:
    days, usual = dv.daily_volume(profile_view, "H1", "D001")
    assert days.rows() == [(date(2025, 3, 3), 2, 2), (date(2025, 3, 4), 1, 1)]
    # the other doctors' working days: D002 1, D101 2, D201 1 and 1
    assert usual["usual_day"] == 1.0 and usual["n_doctors"] == 3 and usual["n_days"] == 4
    assert usual["p90_day"] == pytest.approx(1.7)
    assert usual["own_max_day"] == 2 and usual["own_median_day"] == 1.5


def test_item_mix_against_the_peer_doctors(profile_view: RunView) -> None:
    mix = {r["med_chrgitm_type"]: r for r in dv.item_mix(profile_view, "H1", "D001").to_dicts()}
    assert mix["09"]["label"] == "西药费" and mix["09"]["inscp_amt"] == 200.0
    assert mix["09"]["n_lines"] == 4 and mix["09"]["share"] == 0.5
    assert mix["04"]["peer_share"] == pytest.approx(0.8)  # D002 100, D101 100, D201 200
    en = dv.item_mix(profile_view, "H1", "D001", lang="en")
    assert set(en["label"]) == {"western drug", "laboratory test"}


def test_leads_on_billed_lines_and_on_the_attending_doctors_settlements(
    profile_view: RunView,
) -> None:
    assert dv.doctor_finding_ids(profile_view, "H1", "D001") == ["f1"]
    assert dv.doctor_finding_ids(profile_view, "H1", "D002") == ["f2"]
    p = dv.doctor_profile(profile_view, "H1", "D002")
    assert p.header["dr_name"] == "赵医生" and p.header["fixmedins_name"] == "一院"
    assert p.leads["finding_id"].to_list() == ["f2"]
    assert p.leads_by_rule["amount_at_risk"].to_list() == [40.0]


def test_an_unknown_doctor_is_a_lookup_error(profile_view: RunView) -> None:
    with pytest.raises(LookupError, match="not in the lake"):
        dv.doctor_profile(profile_view, "H1", "D999")


def test_doctor_level_leads_belong_to_their_doctor(county_view: RunView) -> None:
    findings = county_view.run.findings()
    lead = findings.filter(pl.col("entity_type") == "doctor").sort("finding_id").row(0, named=True)
    p = dv.doctor_profile(county_view, lead["fixmedins_code"], lead["entity_id"])
    assert lead["finding_id"] in p.leads["finding_id"].to_list()
    assert p.days.height > 0 and p.usual["usual_day"] is not None
    assert p.mix["share"].sum() == pytest.approx(1.0)
