"""What an issued notice's Word and PDF say, read back from the files: the rules by their
Chinese names with framework codes (no rule id), no doubled punctuation, the agreement
number when the register holds one; drafts drafted from leads, edited until issued, and
fixed once issued; the number confirmed before it is taken."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest
from helpers.notice_fixtures import make_content
from helpers.notice_text import CATALOGUE, DOUBLED, docx_text, pdf_text, raw_ids

from hrss_fraud.cases import CaseStore
from hrss_fraud.notices import (
    Handling,
    Item,
    Lead,
    NoticeError,
    create,
    get,
    issue,
    named,
    next_number,
    preview,
    register_entry,
    rule_items,
    update_draft,
)
from hrss_fraud.notices.render import layout, tidy


def assert_clean(text: str, agreement: str) -> None:
    assert raw_ids(text) == []
    assert DOUBLED.findall(text) == []
    assert agreement in text


def _leads() -> list[Lead]:
    return [
        Lead("F-001", "item_hosp_level", 1234.5, "三级医院限用项目在一级机构收费。"),
        Lead("F-002", "item_hosp_level", 300.0),
    ]


def test_items_from_leads_name_the_rule_its_code_and_basis() -> None:
    (item,) = rule_items(_leads(), CATALOGUE)
    rule = CATALOGUE.rules["item_hosp_level"]
    assert item.rule == rule.name_zh and item.legal_basis == rule.legal_basis
    assert item.framework and item.framework.split("、")[0] == rule.framework[0]
    assert item.amount_involved == 1534.5 and item.handling == (Handling("recover", 1534.5),)
    assert "2条" in item.facts and "1,534.50" in item.facts and "三级医院限用" in item.facts
    assert raw_ids(item.facts) == []
    (unknown,) = rule_items([Lead("F-3", "retired_rule", 5.0)], CATALOGUE)
    assert unknown.rule == "经审核确认的违约行为" and raw_ids(unknown.rule) == []


def test_an_issued_notice_reads_clean_in_word_and_pdf(ws: Path, store: CaseStore) -> None:
    """The command line drafts with the rule ids and texts ending in 。: the documents
    name the rule and close each sentence once."""
    rule = CATALOGUE.rules["item_hosp_level"]
    content = make_content(
        items=(
            Item("item_hosp_level", "：一级机构收取三级项目费用。", "", 1234.5),
            Item("dup_billing、item_hosp_level", "重复收取注射费。", "医疗服务协议第二十条", 300.0),
        ),
        requirements="立即停止违规收费行为，完善收费核对制度。",
        onsite_facts="抽查住院病历30份，其中5份无对应检查报告。",
    )
    # the basis is required; an empty one is the catalogue's after naming
    content = replace(
        content, items=(replace(content.items[0], legal_basis="条例"), content.items[1])
    )
    notice_id = create(store, content, by="li")
    number, lay = preview(store, notice_id, ws, on=date(2026, 3, 5))
    assert number == "2026-0001" == next_number(store, date(2026, 3, 5))
    shown = "\n".join(lay.texts())
    assert rule.name_zh in shown and number in shown and raw_ids(shown) == []
    done = issue(store, notice_id, ws, by="wang", on=date(2026, 3, 5), expect=number)
    assert done.number == number
    for text in (docx_text(done.docx), pdf_text(done.pdf)):
        assert_clean(text.replace("\n", ""), "XY-2026-017")
        assert rule.name_zh.replace("/", "") in text.replace("/", "").replace("\n", "")
        assert rule.framework[0] in text.replace("\n", "")
    n = get(store, number)
    assert n.content.items[0].rule == rule.name_zh


def test_drafts_change_until_issued_then_stay_fixed(ws: Path, store: CaseStore) -> None:
    content = replace(make_content(), items=rule_items(_leads(), CATALOGUE))
    notice_id = create(store, content, by="li")
    edited = replace(
        content,
        agreement_no="XY-2026-099",
        items=(replace(content.items[0], facts="现场核实：一级机构收取三级项目费用。"),),
    )
    assert update_draft(store, notice_id, edited, by="li") == notice_id
    draft = get(store, notice_id).content
    assert draft.agreement_no == "XY-2026-099"
    assert draft.items[0].facts.startswith("现场核实") and draft.items[0].framework
    with pytest.raises(NoticeError, match="two inspectors"):
        update_draft(store, notice_id, replace(edited, inspectors=("李明",)), by="li")
    with pytest.raises(NoticeError, match=r"2026-0001.*not 2026-0007"):
        issue(store, notice_id, ws, by="wang", on=date(2026, 3, 5), expect="2026-0007")
    assert store.query("SELECT count(*) FROM notice_number") == [(0,)]  # nothing taken
    done = issue(store, notice_id, ws, by="wang", on=date(2026, 3, 5), expect="2026-0001")
    assert_clean(pdf_text(done.pdf).replace("\n", ""), "XY-2026-099")
    with pytest.raises(NoticeError, match="only drafts can be edited"):
        update_draft(store, done.number, edited, by="li")
    with pytest.raises(sqlite3.IntegrityError, match="fixed"), store.transaction() as con:
        con.execute("DELETE FROM notice_item WHERE notice_id = ?", (notice_id,))
    actions = store.query(
        "SELECT action, detail FROM audit_log WHERE object_id = ? ORDER BY audit_id",
        (f"#{notice_id}",),
    )
    assert [a for a, _ in actions] == ["notice.create", "notice.edit"]


def test_names_at_issue_and_tidy_punctuation() -> None:
    content = make_content(items=(Item("item_hosp_level", "x", "", 1.0),))
    item = named(content, CATALOGUE).items[0]
    assert item.rule == CATALOGUE.rules["item_hosp_level"].name_zh and item.framework
    assert named(content, None) is content
    both = make_content(items=(Item("retired_rule、item_hosp_level", "x", "y", 1.0),))
    assert named(both, CATALOGUE).items[0].rule == item.rule
    assert tidy("整改。。请于，，期限：：") == "整改。请于，期限："
    lay = layout(make_content(requirements="完善制度。"))
    assert DOUBLED.findall("\n".join(lay.texts())) == []


class _Lake:
    """A lake whose register is one DuckDB table."""

    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute(
            "CREATE TABLE institution (fixmedins_code TEXT, fixmedins_name TEXT, agrmt_no TEXT,"
            " agrmt_begn_date DATE, agrmt_end_date DATE)"
        )
        con.executemany("INSERT INTO institution VALUES (?, ?, ?, ?, ?)", self.rows)
        return con


def test_agreement_number_from_the_register() -> None:
    lake = _Lake(
        [
            ("H1", "城关镇卫生院", "YB20200001", date(2020, 1, 1), date(2024, 12, 31)),
            ("H1", "城关镇卫生院", "YB20250001", date(2025, 1, 1), date(2027, 12, 31)),
            ("H2", "西街药店", None, None, None),
        ]
    )
    assert register_entry(lake, "H1", date(2026, 3, 1)) == ("城关镇卫生院", "YB20250001")  # type: ignore[arg-type]
    assert register_entry(lake, "H1", date(2023, 3, 1)) == ("城关镇卫生院", "YB20200001")  # type: ignore[arg-type]
    assert register_entry(lake, "H2") == ("西街药店", "")  # type: ignore[arg-type]
    assert register_entry(lake, "H9") == ("", "")  # type: ignore[arg-type]
