"""The command line drafts a notice's items as the dashboard does (issue 18): one per rule
of the confirmed leads, named as the catalogue names it, with its framework code and legal
basis; the agreement number from the register; and a draft's edit is audited as an edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts

from hrss_fraud.cases import open_store
from hrss_fraud.cases.audit import ACTIONS, AuditFilter, browse
from hrss_fraud.cases.chain import verify
from hrss_fraud.cases.users import get_user
from hrss_fraud.cli import main
from hrss_fraud.dashboard import notices_view as nv
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.notices import get, update_draft
from hrss_fraud.notices.draft import RAW_ID, catalogue_of

LEADS = {
    "R-1": ("item_hosp_level", 500.0),
    "R-2": ("item_hosp_level", 250.0),
    "R-3": ("frequent_outpatient", 90.0),
}
"""Confirmed leads at one institution, of two catalogue rules."""


@pytest.fixture
def office(tmp_path: Path) -> Path:
    add_accounts(tmp_path, {"li": "supervisor"})
    with open_store(tmp_path) as store:
        for finding_id, (rule_id, amount) in LEADS.items():
            lead = {"fixmedins_code": "H0001", "rule_id": rule_id, "amount_at_risk": amount}
            store.record_decision(
                finding_id,
                step="first_review",
                decision="confirmed",
                reason="病历核实",
                by="li",
                lead=lead,
            )
    return tmp_path


def _create(ws: Path, findings: str, *extra: str) -> Result:
    return CliRunner().invoke(
        main,
        [
            *("--workspace", str(ws), "notice", "create", "--institution", "H0001"),
            *("--name", "城关镇卫生院", "--findings", findings, "--facts", "现场核查病历"),
            *("--inspection-date", "2026-03-02", "--inspectors", "李明、王芳", "--by", "li"),
            *extra,
        ],
    )


def test_the_command_line_drafts_the_items_the_dashboard_drafts(office: Path) -> None:
    r = _create(office, "R-1,R-2,R-3")
    assert r.exit_code == 0, r.output
    assert "2 item(s), ¥840.00" in r.output
    with open_store(office) as store:
        boss = get_user(store, "li")
        form = nv.DraftForm("H0001", list(LEADS), "2026-03-02", "李明、王芳", "现场核查病历")
        from_page = nv.draft_from_form(store, boss, form, catalogue_of(office))
        cli_items, page_items = get(store, 1).content.items, get(store, from_page).content.items
    assert cli_items == page_items
    rules = load_catalogue().rules
    assert [i.rule for i in cli_items] == [
        rules["item_hosp_level"].name_zh,
        rules["frequent_outpatient"].name_zh,
    ]
    assert cli_items[0].amount_involved == 750.0 and cli_items[0].legal_basis
    assert all(i.framework and not RAW_ID.search(i.rule) for i in cli_items)


def test_item_options_change_the_one_item_and_are_refused_across_rules(office: Path) -> None:
    r = _create(office, "R-1,R-2", "--recover", "700", "--interview")
    assert r.exit_code == 0, r.output
    r = _create(office, "R-1,R-3", "--amount", "10")
    assert r.exit_code == 1 and r.output.strip().count("\n") == 0
    assert "the leads span 2 rules" in r.output and "--rule" in r.output
    with open_store(office) as store:
        (item,) = get(store, 1).content.items
        assert store.query("SELECT count(*) FROM notice") == [(1,)]
    assert item.rule == load_catalogue().rules["item_hosp_level"].name_zh
    assert [h.label() for h in item.handling] == ["追回医保基金 700.00 元", "约谈"]
    r = _create(office, "R-1,R-3", "--rule", "违规收费", "--amount", "10")
    assert r.exit_code == 0 and "1 item(s), ¥10.00" in r.output


def test_the_agreement_number_comes_from_the_register(office: Path, tiny_county: Path) -> None:
    ingest(Lake(office / "lake"), [tiny_county / "reference"])
    r = CliRunner().invoke(
        main,
        [
            *("--workspace", str(office), "notice", "create", "--institution", "H13012300002"),
            *("--allow-unconfirmed", "--facts", "现场查见超量开药", "--rule", "超量开药"),
            *("--inspection-date", "2026-03-02", "--inspectors", "李明、王芳", "--amount", "80"),
            *("--by", "li"),
        ],
    )
    assert r.exit_code == 0, r.output
    with open_store(office) as store:
        content = get(store, 1).content
    assert (content.fixmedins_name, content.agreement_no) == ("永宁县中医医院", "YB20250002")


def test_an_edit_is_audited_as_an_edit_and_chained(office: Path) -> None:
    assert _create(office, "R-1").exit_code == 0
    with open_store(office) as store:
        draft = get(store, 1).content
        update_draft(store, 1, draft, by="li")
        rows, _ = browse(store, AuditFilter(object_type="notice"))
        assert verify(store).ok
    assert rows["action"].to_list() == ["notice.edit", "notice.create"]  # newest first
    assert rows["action_zh"].to_list() == ["修改违约通知单草稿", "起草违约通知单"]
    assert ACTIONS["notice.edit"] == ("修改违约通知单草稿", "violation notice draft edited")
