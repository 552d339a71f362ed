"""The person timeline: settlements in time order with their leads, identities masked by
role, and every opening of a record in the audit log."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import User, add_user
from hrss_fraud.outputs import person_view as pv
from hrss_fraud.outputs.runs_view import RunView

PASSWORD = "Qz7!kpLm29xx"
RUN_ID_TEXT = "20250402T000000000Z"


def _user(ws: Path, name: str, role: str) -> User:
    with open_store(ws) as store:
        return add_user(store, name, role=role, password=PASSWORD, by="test")


@pytest.fixture(scope="module")
def users(profile_ws: Path) -> dict[str, User]:
    return {role: _user(profile_ws, f"pv_{role}", role) for role in ("auditor", "reviewer")}


def test_timeline_in_time_order_with_the_leads_on_each_settlement(profile_view: RunView) -> None:
    t = pv.timeline(profile_view, "P1")
    assert t["setl_id"].to_list() == ["S1", "S3", "S9"]
    assert t["valid"].to_list() == [True, True, False]
    assert t["setting_label"].to_list() == ["门诊"] * 3
    assert t["finding_ids"].to_list() == [["f1"], [], []]
    assert t["amount_at_risk"].to_list() == [5.0, 0.0, 0.0]
    assert t["n_lines"].to_list() == [3, 2, 0]  # V1: two lines and a refunded one
    assert t["fixmedins_name"].to_list() == ["一院"] * 3


def test_an_auditor_sees_masked_identities_and_the_view_is_logged(
    profile_view: RunView, profile_ws: Path, users: dict[str, User]
) -> None:
    with open_store(profile_ws) as store:
        rec = pv.open_person(profile_view, store, "P1", users["auditor"])
        assert rec.masked
        assert rec.identity is not None
        assert rec.identity["psn_name"] == "张**"
        assert rec.identity["certno"] == "130123********0011"
        assert rec.identity["tel"] == "138****5678"
        assert rec.leads["finding_id"].to_list() == ["f1"]
        log = store.audit_log("P1").filter(pl.col("audit_id") == rec.audit_id)
    assert log["action"].to_list() == ["person.view"]
    assert log["actor"].to_list() == ["pv_auditor"]
    assert '"masked": true' in log["detail"][0] and RUN_ID_TEXT in log["detail"][0]


def test_a_reviewer_sees_identities_in_clear(
    profile_view: RunView, profile_ws: Path, users: dict[str, User]
) -> None:
    with open_store(profile_ws) as store:
        rec = pv.open_person(profile_view, store, "P1", users["reviewer"])
    assert not rec.masked and rec.identity is not None
    assert rec.identity["psn_name"] == "张三丰"
    assert rec.identity["certno"] == "130123198001010011"


def test_an_unknown_person_is_logged_then_refused(
    profile_view: RunView, profile_ws: Path, users: dict[str, User]
) -> None:
    with open_store(profile_ws) as store:
        with pytest.raises(LookupError, match="neither in the lake"):
            pv.open_person(profile_view, store, "NOBODY", users["auditor"])
        assert store.audit_log("NOBODY")["action"].to_list() == ["person.view"]


def test_county_person_timeline_carries_every_lead_line(
    county_view: RunView, tmp_path: Path
) -> None:
    lines = county_view.run.lines()
    psn = lines.filter(pl.col("setl_id").is_not_null())["psn_no"].drop_nulls().mode().sort()[0]
    with open_store(tmp_path) as store:
        auditor = add_user(store, "county_aud", role="auditor", password=PASSWORD, by="t")
        rec = pv.open_person(county_view, store, psn, auditor)
    own = lines.filter(pl.col("psn_no") == psn, pl.col("setl_id").is_not_null())
    on_timeline = set().union(*map(set, rec.timeline["finding_ids"].to_list()))
    assert on_timeline == set(own["finding_id"])
    assert rec.timeline["begntime"].is_sorted()
    assert rec.identity is not None and "*" in (rec.identity["certno"] or "*")
