"""The notices page's logic on a case store with confirmed leads: institutions and leads
to draft from, a draft from the form, issuing, documents, every step, marks, roles."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from hrss_fraud.cases.audit import ACTIONS
from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import notices_view as nv
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.notices.store import NoticeError

LEADS = {"F-1": ("H0001", 1000.0, "item_hosp_level"), "F-2": ("H0001", 234.5, "split_admission")}
CATALOGUE = load_catalogue()


def _user(role: str) -> User:
    return User(f"{role}1", role, role, True, "", "")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """F-1 and F-2 confirmed on H0001 (初审 then 复审 by someone else), F-3 dismissed."""
    with open_store(tmp_path) as store:
        for f, (code, amount, rule) in LEADS.items():
            lead = {"fixmedins_code": code, "rule_id": rule, "amount_at_risk": amount}
            for step, by in (("first_review", "li"), ("second_review", "wang")):
                store.record_decision(
                    f, step=step, decision="confirmed", reason="查实", by=by, lead=lead
                )
        store.record_decision(
            "F-3",
            step="first_review",
            decision="dismissed",
            reason="有病历",
            by="li",
            lead={"fixmedins_code": "H0001", "rule_id": "x", "amount_at_risk": 9.0},
        )
    return tmp_path


def _form(**changes: object) -> nv.DraftForm:
    fields: dict[str, object] = {
        "fixmedins_code": "H0001",
        "findings": ["F-1", "F-2"],
        "inspection_date": "2026-03-02",
        "inspectors": "李明，王芳",
        "onsite_facts": "抽查住院病历30份，5份无检查报告",
        "fixmedins_name": "城关镇卫生院",
        "agreement_no": "YB20250001",
    }
    fields.update(changes)
    return nv.DraftForm(**fields)  # type: ignore[arg-type]


def test_draft_issue_and_every_step(ws: Path) -> None:
    boss = _user("supervisor")
    with open_store(ws) as store:
        (inst,) = nv.institution_options(store, {"H0001": "城关镇卫生院"})
        assert inst["value"] == "H0001" and "城关镇卫生院（2，1,234.50）" in inst["label"]
        leads = nv.confirmed_leads(store, boss, "H0001", CATALOGUE)
        assert leads["finding_id"].to_list() == ["F-1", "F-2"]
        hosp = CATALOGUE.rules["item_hosp_level"]
        assert leads["rule_name"].to_list()[0] == hosp.name_zh
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", leads["decided_at"][0])
        evidence = {"F-1": "项目「CT」限三级医院使用，本机构为一级。"}
        notice_id = nv.draft_from_form(store, boss, _form(), CATALOGUE, evidence)
        n, _ = nv.notice(store, boss, str(notice_id))
        first, second = n.content.items  # one per rule, largest amount first
        assert (first.rule, first.legal_basis) == (hosp.name_zh, hosp.legal_basis)
        assert first.framework.startswith(hosp.framework[0]) and first.amount_involved == 1000.0
        assert second.rule == CATALOGUE.rules["split_admission"].name_zh
        assert "例如：项目「CT」限三级医院使用，本机构为一级。" in first.facts
        assert [h.measure for h in first.handling] == ["recover"]
        assert n.content.inspectors == ("李明", "王芳")
        assert nv.next_steps("draft") == []
        # the draft is edited: one item's facts, handling and the agreement
        items = [
            nv.ItemForm(i.rule, i.facts, i.legal_basis, i.amount_involved, recover="1,000.00")
            for i in n.content.items
        ]
        items[1] = replace(items[1], facts="现场核实：15日内再次入院。", interview=True)
        form = replace(_form(), agreement_no="YB20250009", fixmedins_code=None, findings=None)
        nv.edit_draft(store, boss, str(notice_id), form, items)
        n, _ = nv.notice(store, boss, str(notice_id))
        assert n.content.agreement_no == "YB20250009" and n.content.findings == ("F-1", "F-2")
        assert n.content.items[1].facts == "现场核实：15日内再次入院。"
        assert [h.measure for h in n.content.items[1].handling] == ["recover", "interview"]
        assert n.content.items[0].framework == first.framework
        with pytest.raises(NoticeError, match="金额"):
            nv.edit_draft(store, boss, str(notice_id), form, [replace(items[0], recover="x")])
        number, lay = nv.preview_from_page(store, ws, boss, str(notice_id), on="2026-03-05")
        assert number == "2026-0001" and "YB20250009" in "".join(lay.texts())
        assert "item_hosp_level" not in "".join(lay.texts())
        with pytest.raises(NoticeError, match="2026-0001"):
            nv.issue_from_page(store, ws, boss, str(notice_id), on="2026-03-05", expect="2026-0002")
        issued = nv.issue_from_page(store, ws, boss, str(notice_id), on="2026-03-05", expect=number)
        assert issued.number == "2026-0001"
        with pytest.raises(NoticeError, match="only drafts"):
            nv.edit_draft(store, boss, issued.number, form, items)
        name, data = nv.document(store, ws, _user("auditor"), issued.number, "pdf")
        assert name == "2026-0001.pdf" and data.startswith(b"%PDF")
        assert nv.next_steps("issued") == ["acknowledged", "statement", "review_request"]
        with pytest.raises(NoticeError, match="only from acknowledged"):
            nv.record_step(store, boss, issued.number, "rectified", on="2026-03-06", text="x")
        nv.record_step(store, boss, issued.number, "acknowledged", on="2026-03-05", person="张院长")
        nv.record_step(store, boss, issued.number, "review_request", on="2026-03-10", text="异议")
        n, _ = nv.notice(store, boss, issued.number)
        assert nv.review_pending(n)
        options = nv.step_options(n.status, review_pending=True)
        assert [o["value"] for o in options][-3:] == [
            "review_upheld",
            "review_amended",
            "review_revoked",
        ]
        assert options[-1]["label"] == "复核决定：撤销通知"
        row = nv.notice_rows(store, boss, today=date(2026, 3, 26)).row(0, named=True)
        assert row["deadline"] == "复核决定已逾期（期限 2026-03-25）"
        row = nv.notice_rows(store, boss, today=date(2026, 3, 20), lang="en").row(0, named=True)
        assert row["deadline"] == "review decision due 2026-03-25"
        nv.record_step(store, boss, issued.number, "review_upheld", on="2026-03-24", text="维持")
        assert not nv.review_pending(nv.notice(store, boss, issued.number)[0])
        with pytest.raises(NoticeError, match="after the 2026-03-15 deadline"):
            nv.record_step(store, boss, issued.number, "statement", on="2026-03-20", text="迟")
        nv.record_step(
            store, boss, issued.number, "statement", on="2026-03-20", text="迟", late=True
        )
        row = nv.notice_rows(store, boss, today=date(2026, 4, 10)).row(0, named=True)
        assert (row["ref"], row["status_label"]) == ("2026-0001", "机构已签收")
        assert row["deadline"] == "整改逾期 6 天"
        with pytest.raises(NoticeError, match="请填写内容"):
            nv.record_step(store, boss, issued.number, "rectified", on="2026-04-01", text=" ")
        nv.record_step(store, boss, issued.number, "rectified", on="2026-04-01", text="已退回")
        nv.record_step(store, boss, issued.number, "closed", on="2026-04-20", text="验收合格")
        row = nv.notice_rows(store, boss, lang="en").row(0, named=True)
        assert (row["status_label"], row["deadline"]) == (
            "verified and closed",
            "1 late statement(s)",
        )
        _, events = nv.notice(store, boss, issued.number)
        assert events["kind_label"].to_list() == [
            "下达",
            "机构签收",
            "申请复核",
            "陈述（逾期）",
            "复核决定：维持原通知",
            "提交整改报告",
            "整改验收办结",
        ]
        actions = [
            a for (a,) in store.query("SELECT action FROM audit_log WHERE object_type = 'notice'")
        ]
        assert actions.count("notice.issue") == 1 and "notice.closed" in actions
        assert "export.download" in actions
        assert set(actions) <= set(ACTIONS)  # the audit page names every one


def test_refusals_and_roles(ws: Path) -> None:
    boss = _user("supervisor")
    with open_store(ws) as store:
        with pytest.raises(NoticeError, match="F-3 is not a confirmed lead"):
            nv.draft_from_form(store, boss, _form(findings=["F-3"]))
        with pytest.raises(NoticeError, match="检查人员不少于2人（现填 1 人）"):
            nv.draft_from_form(store, boss, _form(inspectors="李明"))
        with pytest.raises(NoticeError, match="天数"):
            nv.draft_from_form(store, boss, _form(rectify_days="soon"))
        with pytest.raises(PermissionError, match="审核员无权起草"):
            nv.draft_from_form(store, _user("reviewer"), _form())
        notice_id = nv.draft_from_form(store, boss, _form())
        with pytest.raises(NoticeError, match="draft"):
            nv.document(store, ws, boss, str(notice_id), "docx")
        with pytest.raises(
            NoticeError, match="下达日期应为日期，如 2026-03-01（填写的是“5 March”）"
        ):
            nv.issue_from_page(store, ws, boss, str(notice_id), on="5 March")
        with pytest.raises(PermissionError):
            nv.issue_from_page(store, ws, _user("auditor"), str(notice_id))
        with pytest.raises(NoticeError, match="请选择事项"):
            nv.record_step(store, boss, str(notice_id), None)
        row = nv.notice_rows(store, _user("auditor")).row(0, named=True)
        assert (row["ref"], row["status_label"], row["deadline"]) == (f"#{notice_id}", "草稿", "")


EMPTY = {"fixmedins_code": None, "findings": [], "inspection_date": " ", "inspectors": ""}


@pytest.mark.parametrize(
    ("changes", "lang", "said"),
    [
        (EMPTY, "zh", "请填写机构、纳入通知单的疑点、检查日期、检查人员"),
        (
            EMPTY,
            "en",
            "Please fill in: institution, leads on the notice, inspection date, inspectors",
        ),
        ({"onsite_facts": ""}, "en", "Please fill in: on-site facts"),
        (
            {"inspection_date": "3月2日"},
            "zh",
            "检查日期应为日期，如 2026-03-01（填写的是“3月2日”）",
        ),
        ({"inspectors": "李明"}, "en", "inspectors: an on-site check needs at least two (1 given)"),
        ({"rectify_days": "400"}, "zh", "整改期限应为 1 至 365 的天数（填写的是“400”）"),
    ],
)
def test_a_draft_form_is_refused_naming_its_fields_by_label(
    ws: Path, changes: dict, lang: str, said: str
) -> None:
    with open_store(ws) as store, pytest.raises(NoticeError) as refused:
        nv.draft_from_form(store, _user("supervisor"), _form(**changes), lang=lang)
    assert str(refused.value).startswith(said)
    assert "onsite_facts" not in str(refused.value) and "fixmedins" not in str(refused.value)


def test_an_edited_item_without_a_name_is_refused_naming_the_item(ws: Path) -> None:
    item = nv.ItemForm(rule="", facts="事实", legal_basis="第十条", amount="10")
    with open_store(ws) as store:
        notice_id = nv.draft_from_form(store, _user("supervisor"), _form())
        for lang, said in (
            ("zh", "请填写第1项的违约事项"),
            ("en", "Please fill in Item 1: breach"),
        ):
            with pytest.raises(NoticeError, match=said):
                nv.edit_draft(store, _user("supervisor"), str(notice_id), _form(), [item], lang)
