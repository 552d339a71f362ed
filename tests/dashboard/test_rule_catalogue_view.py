"""The rule catalogue page: parameters with bounds and values in force, leads and review
outcomes per rule, and parameter changes recorded as the CLI records them and audited;
the admin's audit-log page with its permission and its own trace."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import User, add_user
from hrss_fraud.dashboard import audit_view
from hrss_fraud.dashboard import rule_catalogue_view as rc
from hrss_fraud.engine.params import changes
from hrss_fraud.outputs.runs_view import RunView, open_view

PASSWORD = "Qz7!kpLm29xx"


@pytest.fixture
def ws(profile_ws: Path, tmp_path: Path) -> Path:
    """A copy of the hand-made workspace: each test changes parameters of its own."""
    copy = tmp_path / "ws"
    shutil.copytree(profile_ws, copy)
    return copy


def _users(ws: Path) -> dict[str, User]:
    with open_store(ws) as store:
        return {
            role: add_user(store, f"rc_{role}", role=role, password=PASSWORD, by="rc")
            for role in ("auditor", "reviewer", "supervisor", "admin")
        }


def test_rule_table_counts_leads_and_review_outcomes(ws: Path) -> None:
    view = open_view(ws)
    with open_store(ws) as store:
        store.record_decision(
            "f1",
            step="first_review",
            decision="confirmed",
            reason="核实",
            by="x",
            lead={"rule_id": "drug_supply_cap"},
        )
        store.record_decision(
            "f2", step="first_review", decision="dismissed", reason="计划再入院", by="x"
        )
        store.record_decision("f3", step="first_review", decision="pending", reason="待查", by="x")
        table = rc.rule_table(rc.current_catalogue(ws), ws, view, store)
    rows = {r["rule_id"]: r for r in table.to_dicts()}
    cap = rows["drug_supply_cap"]
    assert (cap["n_findings"], cap["amount_at_risk"], cap["n_confirmed"]) == (1, 5.0, 1)
    assert cap["confirmed_share"] == 1.0 and cap["confirmed_ids"] == ["f1"]
    split = rows["split_admission"]  # decision without a snapshot: the run names the rule
    assert split["n_dismissed"] == 1 and split["confirmed_share"] == 0.0
    assert split["dismissed_ids"] == ["f2"]
    assert split["params"] == "出院后因相同或相关疾病再次入住同一机构的间隔天数（含） 15 天"
    freq = rows["abnormal_visit_frequency"]  # pending is not final
    assert freq["n_findings"] == 1 and freq["confirmed_share"] is None
    assert rows["item_sex"]["n_findings"] == 0 and rows["item_sex"]["version"] == 1
    assert table.height == len(rc.current_catalogue(ws).rules)


def test_rule_params_show_default_bounds_and_value(ws: Path) -> None:
    params = rc.rule_params(rc.current_catalogue(ws), ws, "split_admission").to_dicts()
    assert params == [
        {
            "name": "days",
            "description": params[0]["description"],
            "unit": "天",
            "default": 15.0,
            "min": 1.0,
            "max": 60.0,
            "value": 15.0,
            "n_changes": 0,
        }
    ]
    assert params[0]["description"].startswith("出院后")


def test_a_supervisor_changes_a_parameter_as_the_cli_does(ws: Path) -> None:
    users = _users(ws)
    with open_store(ws) as store:
        change = rc.change_parameter(
            store, ws, users["supervisor"], "split_admission", "days", "10", "县医保局2026年第3号文"
        )
        log = store.audit_log("split_admission")
    assert (change.rule_id, change.param, change.value) == ("split_admission", "days", 10.0)
    cat = rc.current_catalogue(ws)
    recorded = [c for c in changes(cat, ws) if c.rule_id == "split_admission"]
    assert [(c.value, c.changed_by, c.reason) for c in recorded] == [
        (10.0, "rc_supervisor", "县医保局2026年第3号文")
    ]
    params = rc.rule_params(cat, ws, "split_admission")
    assert params["value"].to_list() == [10.0] and params["n_changes"].to_list() == [1]
    table = rc.rule_table(cat, ws, None)
    row = table.filter(pl.col("rule_id") == "split_admission").row(0, named=True)
    assert row["version"] == 2 and row["params"].endswith(" 10 天")
    assert log["action"].to_list() == ["parameter.change"]
    assert '"old": 15.0' in log["detail"][0] and '"new": 10.0' in log["detail"][0]
    history = rc.rule_history(cat, ws, "split_admission")
    assert history["changed_by"].to_list() == ["rc_supervisor"]


@pytest.mark.parametrize(
    ("role", "value", "reason", "match"),
    [
        ("auditor", 10, "理由", "may not change"),
        ("reviewer", 10, "理由", "may not change"),
        ("admin", 10, "理由", "may not change"),
        ("supervisor", 10, "  ", "reason is required"),
        ("supervisor", 61, "理由", r"须在 1～60天之间.*within \[1, 60\] days"),
        ("supervisor", "", "理由", "give a new value"),
        ("supervisor", "ten", "理由", "not a number"),
    ],
)
def test_refused_changes_leave_no_trace(
    ws: Path, role: str, value: object, reason: str, match: str
) -> None:
    users = _users(ws)
    with open_store(ws) as store:
        with pytest.raises(rc.ParameterChangeError, match=match):
            rc.change_parameter(store, ws, users[role], "split_admission", "days", value, reason)
        assert store.audit_log("split_admission").is_empty()
    assert not changes(rc.current_catalogue(ws), ws)


def test_an_unknown_rule_or_parameter_is_refused(ws: Path) -> None:
    boss = _users(ws)["supervisor"]
    with open_store(ws) as store:
        with pytest.raises(rc.ParameterChangeError, match="unknown rule"):
            rc.change_parameter(store, ws, boss, "nope", "days", 1, "理由")
        with pytest.raises(rc.ParameterChangeError, match="no parameter 'weeks'"):
            rc.change_parameter(store, ws, boss, "split_admission", "weeks", 1, "理由")


def test_a_refusal_names_the_parameter_by_its_label_in_the_chosen_language(ws: Path) -> None:
    boss = _users(ws)["supervisor"]
    with open_store(ws) as store, pytest.raises(rc.ParameterChangeError) as caught:
        rc.change_parameter(store, ws, boss, "split_admission", "days", "9x", "理由")
    days = rc.current_catalogue(ws).rules["split_admission"].param("days")
    assert rc.say(caught.value, "zh") == f"“{days.description_zh}”须为数字，填写的是“9x”"
    assert rc.say(caught.value, "en") == f"“{days.description_en}”: “9x” is not a number"
    assert days.description_en and "days" not in str(caught.value).split("(")[0]


def test_catalogue_labels_kernel_units_and_history_times(ws: Path) -> None:
    users = _users(ws)
    cat = rc.current_catalogue(ws)
    with open_store(ws) as store:
        rc.change_parameter(store, ws, users["supervisor"], "split_admission", "days", 12, "文件")
    table = rc.rule_table(cat, ws, None, lang="en").to_dicts()
    kernels = {r["rule_id"]: r["kernel_label"] for r in table}
    assert kernels["split_admission"] == "SQL template"
    assert kernels["abnormal_visit_frequency"] == "visit frequency (Poisson)"
    assert all(r["kernel_label"] and r["kernel_label"].isascii() for r in table)
    params = rc.rule_params(cat, ws, "split_admission", lang="en").row(0, named=True)
    assert (params["unit"], params["value"]) == ("days", 12.0)
    units = {p.unit for r in cat.rules.values() for p in r.params}
    assert units <= rc.UNITS_EN.keys()  # every unit has its English
    history = rc.rule_history(cat, ws, "split_admission").row(0, named=True)
    assert history["param"].startswith("出院后")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", history["changed_at"])


def test_county_rule_table_adds_up_to_the_run(county_view: RunView) -> None:
    table = rc.rule_table(
        rc.current_catalogue(county_view.workspace), county_view.workspace, county_view
    )
    run = county_view.run
    leads, quality = run.findings(), run.quality_findings()
    findings = pl.concat([f.select("rule_id", "amount_at_risk") for f in (leads, quality)])
    assert quality.height > 0  # a rule's findings count, data-quality ones too
    assert table["n_findings"].sum() == leads.height + quality.height
    fen = int((findings["amount_at_risk"] * 100).round().sum())
    assert round(table["amount_at_risk"].sum() * 100) == fen


def test_audit_page_only_for_admins_and_itself_logged(ws: Path) -> None:
    users = _users(ws)
    with open_store(ws) as store:
        with pytest.raises(PermissionError, match="only an administrator"):
            audit_view.audit_page(store, users["auditor"])
        with pytest.raises(PermissionError):
            audit_view.audit_page(store, None)
        flt = audit_view.filter_from_form(actor="rc", action="user.", date_from="2000-01-01")
        rows, total = audit_view.audit_page(store, users["admin"], flt, page_size=2)
        assert total == 4 and rows.height == 2
        assert rows["action_label"].to_list() == ["新增用户", "新增用户"]
        assert rows["object_id"].to_list() == ["rc_admin", "rc_supervisor"]
        second, _ = audit_view.audit_page(store, users["admin"], flt, page=1, page_size=2)
        assert second["object_id"].to_list() == ["rc_reviewer", "rc_auditor"]
        browsed = store.audit_log().filter(pl.col("action") == "audit.browse")
    assert browsed.height == 2 and browsed["actor"].to_list() == ["rc_admin"] * 2
    assert '"action": "user."' in browsed["detail"][0]


def test_audit_form_dates_are_whole_days() -> None:
    flt = audit_view.filter_from_form(actor=" li ", date_from="2025-03-01", date_to="2025-03-02")
    assert flt.actor == "li" and flt.action is None
    assert flt.since is not None and flt.since.isoformat() == "2025-03-01T00:00:00"
    assert flt.until is not None and flt.until.isoformat() == "2025-03-03T00:00:00"
    with pytest.raises(ValueError, match="not a date"):
        audit_view.filter_from_form(date_from="March")
    labels = [c["value"] for c in audit_view.action_choices("en")]
    assert "login." in labels and "person.view" in labels
