"""The lead queue by role without a browser: the steps offered (never a 复审 to whoever
recorded the 初审), who may act next, why no decision is offered, refusals in the screen's
language, flags for review (提请审核) marked in the grid and kept by their preset, and a
lead's lines as a person reads them."""

from __future__ import annotations

import re

import polars as pl
import pytest
from helpers.accounts import user

from hrss_fraud.cases.flags import FlagError, flags
from hrss_fraud.cases.store import CaseStore, DecisionError
from hrss_fraud.dashboard import case_callbacks as cc
from hrss_fraud.dashboard import queue_callbacks as qc
from hrss_fraud.outputs.case_queue import QueueQuery
from hrss_fraud.outputs.lead_detail import lead_detail, shown_lines
from hrss_fraud.outputs.runs_view import RunView

ENGLISH = re.compile(r"[A-Za-z]{3,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def lead_ids(county_view: RunView) -> list[str]:
    return (
        pl.scan_parquet(county_view.findings_path)
        .sort("amount_at_risk", "finding_id")
        .head(3)
        .collect()["finding_id"]
        .to_list()
    )


def test_no_second_review_for_whoever_recorded_the_first() -> None:
    assert qc.decidable_steps(user("supervisor", "Wang"), "second_review", ["wang "]) == []
    assert qc.decidable_steps(user("supervisor", "wang"), "second_review", ["li"]) == [
        "second_review"
    ]
    assert qc.decidable_steps(user("reviewer", "li"), "first_review", ["li"]) == ["first_review"]


def test_who_acts_next_is_the_least_trusted_role_that_may() -> None:
    assert qc.next_role("first_review") == "reviewer"
    assert [qc.next_role(s) for s in ("second_review", "sanction")] == ["supervisor"] * 2
    assert qc.next_role("closed") is None


def test_the_panel_says_who_acts_next_and_why_not_you(
    county_view: RunView, store: CaseStore, lead_ids: list[str]
) -> None:
    fid = lead_ids[0]
    qc.record(
        county_view,
        store,
        user("reviewer", "li"),
        [fid],
        step="first_review",
        decision="confirmed",
        reason="确认",
    )
    p = qc.open_lead(county_view, fid, store, user("reviewer", "li"))
    assert p.steps == [] and p.first_by == ("li",)
    assert qc.waiting_text(p).startswith("待 审核负责人 复审 · 时限 ")
    assert "初审人 li 以外" in qc.waiting_text(p)
    assert qc.why_no_decision(user("reviewer", "li"), p) == (
        "“复审”环节由审核负责人作出决定；如认为疑点需要关注，可在下方提请审核。"
    )
    assert "无权记录审核结论" in qc.why_no_decision(user("auditor"), p)
    assert qc.why_no_decision(user("supervisor", "li"), p).startswith("您记录了本疑点的初审")
    english = qc.waiting_text(p, "en")
    assert english.startswith("waiting for the supervisor at second review") and not CHINESE.search(
        english
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_refusals_are_in_the_screens_language(
    county_view: RunView, store: CaseStore, lead_ids: list[str], lang: str
) -> None:
    attempts = [
        dict(user=user("reviewer"), ids=lead_ids[:1], step=None, decision=None, reason=""),
        dict(user=user("auditor"), ids=lead_ids[:1], step="first_review", decision="confirmed"),
        dict(user=user("supervisor"), ids=lead_ids[:2], step="second_review", decision="pending"),
    ]
    for a in attempts:
        with pytest.raises(DecisionError) as e:
            qc.record(
                county_view,
                store,
                a["user"],
                a["ids"],
                step=a["step"],
                decision=a["decision"],
                reason=a.get("reason", "理由"),
                lang=lang,
            )
        said = str(e.value)
        if lang == "zh":
            assert not ENGLISH.search(said.replace(lead_ids[0], "").replace(lead_ids[1], ""))
        else:
            assert not CHINESE.search(said)
    assert store.history().height == 0


def test_a_flag_is_marked_in_the_grid_and_kept_by_its_preset(
    county_view: RunView, store: CaseStore, lead_ids: list[str]
) -> None:
    said = qc.flag(county_view, store, user("auditor", "zhao"), lead_ids[1], " 请核实 ", lang="zh")
    assert said.startswith("已提请审核")
    assert flags(store)["flagged_by"].to_list() == ["zhao"]
    query = QueueQuery(view="leads", preset="flagged")
    answer, message = qc.rows(county_view, {"endRow": 50}, store, query=query)
    assert message == "" and answer["rowCount"] == 1
    (row,) = answer["rowData"]
    assert (row["finding_id"], row["flag"]) == (lead_ids[1], "已提请审核")
    unflagged = qc.rows(county_view, {"endRow": 50}, store)[0]["rowData"]
    assert {r["flag"] for r in unflagged if r["finding_id"] != lead_ids[1]} == {None}
    cases, _ = cc.rows(county_view, {"endRow": 50}, store, query=query)
    assert cases["rowCount"] == 1


@pytest.mark.parametrize(
    ("finding_id", "note", "lang", "says"),
    [
        ("no-such-lead", "请看", "zh", "疑点 no-such-lead 不在本批次中"),
        (None, "  ", "zh", "须填写提请说明"),
        (None, "长" * 501, "zh", "提请说明最多 500 字，现有 501 字"),
        (None, "", "en", "a note saying why is required"),
    ],
)
def test_a_refused_flag_says_why_in_the_screens_language(
    county_view: RunView,
    store: CaseStore,
    lead_ids: list[str],
    finding_id: str | None,
    note: str,
    lang: str,
    says: str,
) -> None:
    with pytest.raises(FlagError) as e:
        qc.flag(county_view, store, user("auditor"), finding_id or lead_ids[0], note, lang=lang)
    assert str(e.value) == says
    assert flags(store).height == 0


def test_a_leads_lines_read_as_a_person_reads_them(county_view: RunView, lead_ids) -> None:
    lines = lead_detail(county_view, lead_ids[0]).lines
    shown = shown_lines(lines, "zh")
    assert shown.columns == lines.columns
    assert all(dtype == pl.String for dtype in shown.dtypes)
    row = shown.row(0, named=True)
    assert row["role"] == "违规明细" and row["line_valid"] in ("是", "否")
    assert row["amount_at_risk"].startswith("¥") and re.fullmatch(r"-?¥[\d,]+\.\d\d", row["pric"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["line_time"])
    assert row["med_type"] != lines["med_type"][0]  # its label, not its code
    assert shown_lines(lines, "en").row(0, named=True)["role"] == "violating"
