"""A notice's life: drafting checks, issued → acknowledged → rectified → closed, the
10-day statement window, and overdue rectification."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers.notice_fixtures import make_content

from hrss_fraud.cases import CaseStore
from hrss_fraud.notices import (
    NoticeError,
    acknowledge,
    close,
    create,
    decide_review,
    get,
    issue,
    notices,
    overdue,
    rectify,
    statement,
)

ISSUED = date(2026, 3, 5)


def _render(content):  # cheap documents: these tests are about dates and states
    return b"docx", b"pdf"


@pytest.fixture
def number(store: CaseStore, ws: Path) -> str:
    notice_id = create(store, make_content(), by="li")
    return issue(store, notice_id, ws, by="li", on=ISSUED, render=_render).number


def test_the_whole_life(store: CaseStore, number: str) -> None:
    acknowledge(store, number, by="li", person="张院长", on=date(2026, 3, 6))
    statement(store, number, by="li", text="第2项床位费已按新限价执行", on=date(2026, 3, 10))
    rectify(store, number, by="li", text="已退回违规费用并修订收费制度", on=date(2026, 3, 30))
    close(store, number, by="wang", text="复查收费记录，整改到位", on=date(2026, 4, 8))
    n = get(store, number)
    assert n.status == "closed"
    assert n.events["kind"].to_list() == [
        "issued",
        "acknowledged",
        "statement",
        "rectified",
        "closed",
    ]
    assert n.events["on_date"][1] == "2026-03-06" and n.events["person"][1] == "张院长"
    actions = store.audit_log(number)["action"].to_list()
    assert actions[:2] == ["notice.number", "notice.issue"]
    assert actions[-1] == "notice.closed"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s, n: rectify(s, n, by="li", text="x", on=ISSUED), "only from acknowledged"),
        (
            lambda s, n: close(s, n, by="li", text="x", on=ISSUED),
            "只有“已提交整改报告”的通知单才能变为“整改验收，已办结”.*only from rectification",
        ),
    ],
)
def test_steps_cannot_be_skipped(store: CaseStore, number: str, action, message: str) -> None:
    with pytest.raises(NoticeError, match=message):
        action(store, number)
    assert get(store, number).status == "issued"
    assert get(store, number).events.height == 1


def test_acknowledged_twice_is_refused(store: CaseStore, number: str) -> None:
    acknowledge(store, number, by="li", person="张院长", on=ISSUED)
    with pytest.raises(NoticeError, match=r"is acknowledged: .* only from issued"):
        acknowledge(store, number, by="li", person="张院长", on=ISSUED)


def test_a_date_before_the_issue_is_refused(store: CaseStore, number: str) -> None:
    refusal = r"签收日期 2026-03-04 早于通知单签发日期.*before the notice"
    with pytest.raises(NoticeError, match=refusal):
        acknowledge(store, number, by="li", person="张院长", on=date(2026, 3, 4))


def test_statement_window_is_ten_days_from_issue(store: CaseStore, number: str) -> None:
    assert get(store, number).content.statement_due == "2026-03-15"
    statement(store, number, by="li", text="申请复核第1项", review=True, on=date(2026, 3, 15))
    with pytest.raises(NoticeError, match="after the 2026-03-15 deadline"):
        statement(store, number, by="li", text="补充陈述", on=date(2026, 3, 16))
    statement(store, number, by="li", text="补充陈述", on=date(2026, 3, 16), late_ok=True)
    events = get(store, number).events
    assert events["kind"].to_list() == ["issued", "review_request", "statement"]
    assert events["late"].to_list() == [False, False, True]
    row = notices(store, today=date(2026, 3, 16)).row(0, named=True)
    assert (row["statements"], row["late_statements"], row["statement_open"]) == (2, 1, False)
    assert notices(store, today=date(2026, 3, 15))["statement_open"][0]


def test_overdue_after_the_rectification_deadline(store: CaseStore, number: str) -> None:
    assert get(store, number).content.rectify_due == "2026-04-04"
    assert overdue(store, today=date(2026, 4, 4)).is_empty()
    late = overdue(store, today=date(2026, 4, 10))
    assert late["number"].to_list() == [number] and late["days_overdue"].to_list() == [6]
    acknowledge(store, number, by="li", person="张院长", on=date(2026, 3, 6))
    assert overdue(store, today=date(2026, 4, 10)).height == 1  # signed, still not rectified
    rectify(store, number, by="li", text="整改报告", on=date(2026, 4, 9))
    assert overdue(store, today=date(2026, 4, 10)).is_empty()


def test_a_notice_needs_confirmed_leads_of_its_institution(store: CaseStore) -> None:
    with pytest.raises(NoticeError, match=r"F-005 is not a confirmed lead \(dismissed\)"):
        create(store, make_content(findings=("F-001", "F-005")), by="li")
    with pytest.raises(NoticeError, match=r"F-404 is not a confirmed lead \(never decided\)"):
        create(store, make_content(findings=("F-404",)), by="li")
    with pytest.raises(NoticeError, match="F-009 is a lead on H0002, not H0001"):
        create(store, make_content(findings=("F-009",)), by="li")
    assert store.query("SELECT count(*) FROM notice") == [(0,)]
    notice_id = create(store, make_content(findings=()), by="li", require_confirmed=False)
    assert get(store, notice_id).status == "draft"


def test_a_draft_names_every_missing_part(store: CaseStore) -> None:
    bad = make_content(inspectors=("李明",), items=(), inspection_date="3月2日")
    with pytest.raises(NoticeError) as e:
        create(store, bad, by="li")
    for part in ("inspection_date", "at least two inspectors", "no violation item"):
        assert part in str(e.value)


def test_draft_content_round_trips(store: CaseStore) -> None:
    notice_id = create(store, make_content(), by="li")
    assert get(store, notice_id).content == make_content()
    assert get(store, f"#{notice_id}").notice_id == notice_id
    with pytest.raises(NoticeError, match="no issued notice 2026-0099"):
        get(store, "2026-0099")


def test_a_review_request_is_decided_within_fifteen_days(store: CaseStore, number: str) -> None:
    with pytest.raises(NoticeError, match="no review request awaits a decision"):
        decide_review(store, number, by="wang", outcome="upheld", text="维持", on=ISSUED)
    statement(store, number, by="li", text="申请复核第1项", review=True, on=date(2026, 3, 10))
    row = notices(store, today=date(2026, 3, 25)).row(0, named=True)
    assert row["reviews_pending"] == 1 and row["review_due"] == date(2026, 3, 25)
    assert not row["review_overdue"]
    assert notices(store, today=date(2026, 3, 26))["review_overdue"][0]
    with pytest.raises(NoticeError, match="unknown review outcome 'maybe'"):
        decide_review(store, number, by="wang", outcome="maybe", text="x", on=date(2026, 3, 20))
    with pytest.raises(NoticeError, match="needs its text"):
        decide_review(store, number, by="wang", outcome="upheld", text=" ", on=date(2026, 3, 20))
    with pytest.raises(NoticeError, match="before the review request"):
        decide_review(store, number, by="wang", outcome="upheld", text="维持", on=date(2026, 3, 9))
    decide_review(
        store,
        number,
        by="wang",
        outcome="upheld",
        text="经复核，事实清楚，维持",
        on=date(2026, 3, 27),
    )
    reviews = get(store, number).reviews
    assert reviews.select("requested_on", "decision_due", "outcome", "decided_on").rows() == [
        ("2026-03-10", "2026-03-25", "upheld", "2026-03-27")
    ]
    assert reviews["late"].to_list() == [True] and reviews["outcome_zh"][0] == "维持原通知"
    row = notices(store, today=date(2026, 3, 28)).row(0, named=True)
    assert (row["reviews_pending"], row["review_due"], row["review_overdue"]) == (0, None, False)
    assert get(store, number).status == "issued"  # upheld: the rectification is still due
    assert store.audit_log(number)["action"].to_list()[-1] == "notice.review_decision"
    with pytest.raises(NoticeError, match="no review request awaits a decision"):
        decide_review(store, number, by="wang", outcome="upheld", text="维持", on=date(2026, 3, 28))


def test_a_notice_revoked_on_review_awaits_nothing(store: CaseStore, number: str) -> None:
    acknowledge(store, number, by="li", person="张院长", on=date(2026, 3, 6))
    statement(store, number, by="li", text="申请复核", review=True, on=date(2026, 3, 8))
    decide_review(
        store, number, by="wang", outcome="revoked", text="证据不足，撤销", on=date(2026, 3, 12)
    )
    n = get(store, number)
    assert n.status == "revoked" and n.reviews["late"].to_list() == [False]
    assert overdue(store, today=date(2026, 5, 1)).is_empty()
    row = notices(store, today=date(2026, 3, 13)).row(0, named=True)
    assert row["status_zh"] == "复核撤销" and not row["statement_open"]
    with pytest.raises(NoticeError, match="revoked: no statement can be recorded"):
        statement(store, number, by="li", text="补充", on=date(2026, 3, 13))
    with pytest.raises(NoticeError, match="only from acknowledged"):
        rectify(store, number, by="li", text="整改报告", on=date(2026, 3, 20))
