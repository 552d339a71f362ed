"""``make demo`` sets up a working office (issue 18): besides the round, one violation notice
issued from leads the reviewer and the supervisor confirmed, its rules named in Chinese and
its agreement number filled, and one complaint open with a check that found settlements —
once; a second demo run adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.notice_text import DOUBLED, pdf_text, raw_ids
from helpers.shared import copy_workspace

from hrss_fraud.cases import open_store
from hrss_fraud.cases.users import get_user, may_decide
from hrss_fraud.cli.demo import (
    REVIEWER,
    SUPERVISOR,
    _demo_complaint,
    _demo_notice,
    _demo_office,
)
from hrss_fraud.cli.serve import echo_demo_accounts
from hrss_fraud.complaints.check import checks
from hrss_fraud.complaints.register import complaints
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.notices import get, notices

COUNTED = ("users", "review_decision", "notice", "notice_number", "complaint", "complaint_check")


def _set_up(ws: Path) -> None:
    for step in (echo_demo_accounts, _demo_office, _demo_notice, _demo_complaint):
        step(Workspace.of(ws))


def _counts(ws: Path) -> dict[str, int]:
    with open_store(ws) as store:
        return {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in COUNTED}


@pytest.fixture
def ws(scored_tiny_county: Path, tmp_path: Path) -> Path:
    return copy_workspace(scored_tiny_county, tmp_path / "ws", ("lake", "runs"))


def test_the_demo_issues_a_notice_and_opens_a_checked_complaint_once(ws: Path) -> None:
    _set_up(ws)
    with open_store(ws) as store:
        (number,) = notices(store)["number"].to_list()
        notice = get(store, number)
        deciders = store.query(
            "SELECT step, decided_by, count(*) FROM review_decision GROUP BY step, decided_by"
        )
        reviewer = get_user(store, REVIEWER)
        (complaint,) = complaints(store).to_dicts()
        (check,) = checks(store, complaint["number"]).to_dicts()
    content = notice.content
    assert notice.status == "issued" and content.agreement_no.startswith("YB")
    assert len(content.items) > 1 and len(content.findings) == len(content.items)
    text = pdf_text(ws / str(notice.pdf_path)).replace("\n", "")
    assert content.agreement_no in text and content.items[0].rule in text
    assert raw_ids(text) == [] and DOUBLED.findall(text) == []
    n = len(content.findings)
    assert sorted(deciders) == [("first_review", REVIEWER, n), ("second_review", SUPERVISOR, n)]
    assert reviewer is not None and may_decide(reviewer.role, "first_review")  # 初审 by an account
    assert not may_decide(reviewer.role, "second_review")
    assert complaint["status"] != "handled" and complaint["institutions"]
    activity = json.loads(check["detail"])["activity"]
    assert {a["kind"] for a in activity} == {"institution", "person"}
    assert all(a["n_settlements"] > 0 for a in activity) and "无结算数据" not in check["summary_zh"]
    before = _counts(ws)
    _set_up(ws)  # a demo run again keeps what it set up
    assert _counts(ws) == before
