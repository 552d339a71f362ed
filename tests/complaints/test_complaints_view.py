"""The complaints page's logic: permissions, masking by role, deadline marks, the register
form, a complaint's detail with its check and leads, closing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.cases.users import User
from hrss_fraud.complaints.register import ComplaintError, assign, get, record_outcome
from hrss_fraud.dashboard import complaints_view as cv
from hrss_fraud.dashboard import context
from hrss_fraud.dashboard.app import create_app, nav_pages, page_name
from hrss_fraud.engine.runs import open_run
from hrss_fraud.lake import Lake


def _user(role: str) -> User:
    return User(role, role, role, True, "", "")


AUDITOR, REVIEWER = _user("auditor"), _user("reviewer")


def _form(store: CaseStore, user: User | None = AUDITOR, **kw: str) -> str:
    fields = {"received": "2025-03-01", "source": "phone", "content": "挂床住院"} | kw
    return cv.register_from_form(store, user, **fields)


@pytest.mark.parametrize(
    ("overdue", "late", "days_left", "zh", "en"),
    [
        (True, False, -3, "逾期 3 天", "overdue 3 d"),
        (False, True, None, "超期办结", "handled late"),
        (False, False, None, "按期办结", "handled in time"),
        (False, False, 0, "剩 0 天", "0 d left"),
    ],
)
def test_deadline_marks(overdue: bool, late: bool, days_left: int | None, zh: str, en: str) -> None:
    assert cv.deadline_text(overdue, late, days_left, "zh") == zh
    assert cv.deadline_text(overdue, late, days_left, "en") == en


def test_the_form_registers_with_codes_split_on_any_separator(store: CaseStore) -> None:
    n = _form(
        store,
        institutions="H13012300001，H13012300002 H13012300003",
        persons="130123000000000001、130123000000000002",
        complainant="张伟",
    )
    c = get(store, n)
    assert (c.institutions, c.persons, c.registered_by) == (
        ("H13012300001", "H13012300002", "H13012300003"),
        ("130123000000000001", "130123000000000002"),
        "auditor",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"received": "3/1/2025"}, "收到日期应为日期"),
        ({"received": ""}, "请填写收到日期"),
        ({"source": ""}, "请填写来源"),
        ({"content": " "}, "请填写举报内容"),
    ],
)
def test_a_bad_form_registers_nothing(store: CaseStore, fields: dict, message: str) -> None:
    with pytest.raises(ComplaintError, match=message):
        _form(store, **fields)
    assert store.query("SELECT count(*) FROM complaint") == [(0,)]


def test_rows_are_masked_for_an_auditor_and_marked_overdue(store: CaseStore) -> None:
    _form(store, complainant="张伟", contact="13812345678")
    rows = cv.complaint_rows(store, AUDITOR, today=date(2025, 4, 2), lang="en")
    r = rows.row(0, named=True)
    assert (r["complainant"], r["contact"]) == ("张*", "138****5678")
    assert (r["deadline"], r["source_label"], r["status_label"]) == (
        "overdue 2 d",
        "phone",
        "registered",
    )
    shown = cv.complaint_rows(store, REVIEWER, today=date(2025, 4, 2))
    assert shown.row(0, named=True)["complainant"] == "张伟"
    assert shown.row(0, named=True)["deadline"] == "逾期 2 天"
    assert cv.complaint_rows(store, AUDITOR, today=date(2025, 3, 5), overdue_only=True).is_empty()


def test_permissions(store: CaseStore) -> None:
    with pytest.raises(PermissionError, match="未登录用户"):
        cv.complaint_rows(store, None)
    with pytest.raises(PermissionError, match="not allowed to register"):
        _form(store, User("gone", "gone", "auditor", False, "", ""))  # disabled account
    n = _form(store)
    assign(store, n, "王五", by="admin")
    with pytest.raises(PermissionError, match="not allowed to close"):
        cv.close_from_page(store, AUDITOR, n, outcome="属实", text="x")
    c = cv.close_from_page(store, REVIEWER, n, outcome="unfounded", text="查无实据")
    assert (c.status, c.outcome, c.handled_on) == ("handled", "unfounded", date.today())


def test_detail_shows_the_latest_check_and_the_linked_leads(ws: Path) -> None:
    inst = open_run(ws).findings().sort("finding_id").item(0, "fixmedins_code")
    with open_store(ws) as store:
        n = _form(store, institutions=inst, complainant="欧阳小明")
        empty = cv.detail(store, AUDITOR, n)
        assert (empty.summary, empty.by_rule.height, empty.leads.height) == (None, 0, 0)
        result = cv.check_from_page(store, ws, AUDITOR, n)
        d = cv.detail(store, AUDITOR, n, lang="en")
        full = cv.detail(store, REVIEWER, n)
        record_outcome(
            store, n, outcome="属实", text="查实", by="王五", handled_on=date(2025, 3, 20)
        )
    assert d.complaint.complainant == "欧阳**" and full.complaint.complainant == "欧阳小明"
    with open_store(ws) as store:
        reveals = store.audit_log(n).filter(pl.col("action") == "complaint.reveal")
    assert reveals["actor"].to_list() == ["reviewer"]  # the auditor saw it masked
    assert d.summary == result.summary_en and full.summary == result.summary_zh
    assert d.by_rule.rows() == result.by_rule.rows()
    assert d.leads.height == result.leads.height > 0
    assert d.checks["fingerprint"].to_list() == [result.fingerprint]
    assert d.complaint.status == "checking"


def test_the_page_is_listed_and_draws_the_list_and_a_detail(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(ws)
    page = next(p for p in nav_pages("auditor") if p["path"] == "/complaints")
    assert (page_name(page, "zh"), page_name(page, "en")) == ("举报投诉", "Complaints")
    from hrss_fraud.dashboard.pages import complaints as pg  # registers itself: after the app

    monkeypatch.setattr(context, "user", lambda: AUDITOR)
    with app.server.test_request_context("/complaints"):
        n = _form(context.store(), institutions="H13012300001", complainant="张伟")
        assert "complaints-overdue" in str(pg.layout(number=n))
        listed = str(pg._list([], 0))
        assert n in listed and "张伟" not in listed
        detail = str(pg._detail(n, 0))
        assert "complaint-check" in detail and "张*" in detail


def test_a_name_typed_as_a_code_is_refused_naming_the_field_by_its_label(
    store: CaseStore,
) -> None:
    with pytest.raises(ComplaintError, match=r"^被举报机构：“永宁县人民医院”不是机构编号"):
        _form(store, institutions=["永宁县人民医院"])
    with pytest.raises(ComplaintError, match=r"^参保人：“张三”不是人员编号"):
        _form(store, persons="张三")
    with pytest.raises(ComplaintError, match=r"^institutions: “永宁县人民医院” is not an"):
        _form(store, institutions="永宁县人民医院", lang="en")
    assert store.query("SELECT count(*) FROM complaint") == [(0,)]


def test_an_unknown_code_is_refused_and_a_known_one_chosen_by_name_registers(ws: Path) -> None:
    options = cv.institution_options(ws)
    chosen = next(o for o in options if o["label"].startswith("永宁县人民医院 "))
    assert chosen["label"] == f"永宁县人民医院 {chosen['value']}"
    assert [o["label"] for o in options] == sorted(o["label"] for o in options)  # by name
    with open_store(ws) as store:
        with pytest.raises(ComplaintError, match=r"^被举报机构：编号 H13012399999 不在数据中"):
            _form(store, institutions=["H13012399999"], workspace=ws)
        with pytest.raises(ComplaintError, match=r"^参保人：编号 130123009999999999 不在数据中"):
            _form(store, persons=["130123009999999999"], workspace=ws)
        assert store.query("SELECT count(*) FROM complaint") == [(0,)]
        n = _form(store, institutions=[chosen["value"]], workspace=ws)
        assert get(store, n).institutions == (chosen["value"],)


def test_persons_are_suggested_by_number_or_name_masked_per_role(ws: Path) -> None:
    con = Lake(ws / "lake").connect()
    psn, name = con.execute(
        "SELECT psn_no, psn_name FROM person WHERE length(psn_name) >= 2 ORDER BY psn_no LIMIT 1"
    ).fetchone()
    con.close()
    masked = f"{name[0]}{'*' * (len(name) - 1)} {psn}"
    by_number = cv.person_options(ws, AUDITOR, psn[:-1])
    assert {"label": masked, "value": psn} in by_number
    assert len(by_number) <= cv.MAX_PERSON_OPTIONS
    assert all(name not in o["label"] for o in by_number)  # an auditor sees names masked
    assert {"label": f"{name} {psn}", "value": psn} in cv.person_options(ws, REVIEWER, name)
    assert psn in [o["value"] for o in cv.person_options(ws, AUDITOR, name)]  # the whole name
    assert cv.person_options(ws, AUDITOR, name[0]) == []  # not a surname's whole list
    assert psn in [o["value"] for o in cv.person_options(ws, REVIEWER, name[1:])]
    kept = cv.person_options(ws, AUDITOR, "0000", selected=[psn])
    assert kept[0] == {"label": masked, "value": psn}  # a chosen person stays offered
    assert cv.person_options(ws, AUDITOR, "") == []
    with pytest.raises(PermissionError):
        cv.person_options(ws, None, psn)


def test_the_detail_offers_the_lakes_period_and_a_check_over_the_chosen_one_warns(
    ws: Path,
) -> None:
    inst = open_run(ws).findings().sort("finding_id").item(0, "fixmedins_code")
    with open_store(ws) as store:
        n = _form(store, received=str(date.today()), institutions=inst)
        d = cv.detail(store, AUDITOR, n, workspace=ws)
        first, last = d.period
        assert last < date.today() - timedelta(days=365)  # long before receipt
        full = cv.check_from_page(store, ws, AUDITOR, n)
        assert (full.date_from, full.date_to) == (first, last)
        assert full.activity.item(0, "n_settlements") > 0 and not full.warnings_zh
        with pytest.raises(ComplaintError, match=r"^核查期间为空"):
            cv.check_from_page(store, ws, AUDITOR, n, date_from=str(last), date_to=str(first))
        with pytest.raises(ComplaintError, match=r"^核查起始日期应为日期"):
            cv.check_from_page(store, ws, AUDITOR, n, date_from="2025/01/01")
        later = str(last + timedelta(days=1))
        empty = cv.check_from_page(store, ws, AUDITOR, n, date_from=later, date_to=later)
        assert empty.activity.item(0, "n_settlements") == 0
        shown = cv.detail(store, AUDITOR, n, workspace=ws)
    (warning,) = shown.warnings
    assert "内该机构" in warning and "无结算数据" in warning
    assert shown.summary.startswith(warning)
