"""Finding things in the lead queue and the profiles: an institution named in the URL or
the toolbar by name or code, the query string read and written back, the presets' orders,
the counts a filtered queue shows, and the person search masked per role."""

from __future__ import annotations

import polars as pl
import pytest

from hrss_fraud.cases.store import open_store
from hrss_fraud.dashboard import case_callbacks as cc
from hrss_fraud.dashboard import queue_callbacks as qc
from hrss_fraud.outputs import case_queue as cq
from hrss_fraud.outputs import doctor_view as dv
from hrss_fraud.outputs import institution_view as iv
from hrss_fraud.outputs import person_view as pv
from hrss_fraud.outputs.lead_detail import ranking as lead_ranking
from hrss_fraud.outputs.leads import SEVERITY_RANK, LeadFilter, count
from hrss_fraud.outputs.runs_view import RunView

UNITS = pl.DataFrame(
    {
        "fixmedins_code": ["H001", "H002", "H003"],
        "fixmedins_name": ["县人民医院", "县中医院", "城关镇卫生院"],
    }
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("H002", "H002"),  # the code
        ("县中医院", "H002"),  # the full name
        ("卫生院", "H003"),  # a part of one name only
        ("h003", "H003"),  # a part of a code, any case
        ("县", None),  # two names have it: ambiguous
        ("无此机构", None),
        ("  ", None),
        (None, None),
    ],
)
def test_an_institution_is_found_by_name_or_code(text: str | None, code: str | None) -> None:
    assert cq.resolve_institution(UNITS, text) == code


def test_the_query_string_round_trips() -> None:
    q = cq.QueueQuery(view="leads", institution="H002", person="P9", preset="severe")
    text = cq.query_string(q)
    assert text == "?view=leads&institution=H002&person=P9&preset=severe"
    params = dict(p.split("=") for p in text[1:].split("&"))
    assert cq.parse_query(params) == q
    assert cq.query_string(cq.QueueQuery()) == ""


def test_the_query_accepts_names_short_forms_and_drops_what_it_cannot_use() -> None:
    resolve = lambda s: cq.resolve_institution(UNITS, s)  # noqa: E731
    q = cq.parse_query({"inst": "县中医院", "psn_no": [" P1 ", "P2"], "preset": "x"}, resolve)
    assert q == cq.QueueQuery(view="cases", institution="H002", person="P1")
    assert cq.parse_query({"case": "C1"}).view == "leads"  # a case opens on its leads
    assert cq.parse_query({"view": "bogus"}).view == "cases"
    assert cq.parse_query({}).is_empty()


def test_a_profiles_queue_link_opens_the_unit_s_leads() -> None:
    assert cq.queue_link(institution="H 1") == "/leads?view=leads&institution=H+1"
    assert cq.queue_link(person="P1") == "/leads?view=leads&person=P1"


def test_chips_name_the_institution() -> None:
    q = cq.QueueQuery(institution="H002", person="P1", preset="amount")
    assert cq.chips(q, UNITS) == [
        ("institution", "县中医院 (H002)"),
        ("person", "P1"),
        ("preset", "amount"),
    ]


def test_presets_sort_orders() -> None:
    assert cq.preset_sort(None) is None
    assert [s["colId"] for s in cq.preset_sort("severe")] == ["severity_label", "amount_at_risk"]
    assert cq.preset_sort("amount") == [{"colId": "amount_at_risk", "sort": "desc"}]
    q = cq.QueueQuery(preset="overdue")
    assert cq.lead_filter(q, ("f1",)).finding_ids == ("f1",)
    assert cq.lead_filter(cq.QueueQuery(), ("f1",)) == LeadFilter()


@pytest.fixture(scope="module")
def store(county_ws):
    with open_store(county_ws) as s:
        yield s


def _busiest(view: RunView) -> str:
    found = pl.read_parquet(view.findings_path, columns=["fixmedins_code"])
    return found["fixmedins_code"].value_counts(sort=True)["fixmedins_code"][0]


def test_the_queue_narrowed_to_an_institution_counts_its_leads(county_view, store) -> None:
    code = _busiest(county_view)
    q = cq.QueueQuery(view="leads", institution=code)
    answer, message = qc.rows(county_view, {"startRow": 0, "endRow": 100}, store, query=q)
    assert message == ""
    assert answer["rowCount"] == count(county_view, LeadFilter(fixmedins_codes=(code,))) > 0
    assert {r["fixmedins_code"] for r in answer["rowData"]} == {code}
    cases, message = cc.rows(county_view, {"startRow": 0, "endRow": 100}, store, query=q)
    assert message == "" and cases["rowCount"] > 0
    assert {r["fixmedins_code"] for r in cases["rowData"]} == {code}


def test_presets_order_the_queue(county_view, store) -> None:
    request = {"startRow": 0, "endRow": 200}
    severe, _ = qc.rows(county_view, request, store, query=cq.QueueQuery(preset="severe"))
    ranks = [SEVERITY_RANK[r["severity"]] for r in severe["rowData"]]
    assert ranks == sorted(ranks, reverse=True)
    amount, _ = qc.rows(county_view, request, store, query=cq.QueueQuery(preset="amount"))
    amounts = [r["amount_at_risk"] for r in amount["rowData"]]
    assert amounts == sorted(amounts, reverse=True)
    # the grid's own sort, when the user clicks a header, wins over the preset
    own = {**request, "sortModel": [{"colId": "amount_at_risk", "sort": "asc"}]}
    asc, _ = qc.rows(county_view, own, store, query=cq.QueueQuery(preset="severe"))
    amounts = [r["amount_at_risk"] for r in asc["rowData"]]
    assert amounts == sorted(amounts)
    cases, _ = cc.rows(county_view, request, store, query=cq.QueueQuery(preset="amount"))
    amounts = [r["amount_at_risk"] for r in cases["rowData"]]
    assert amounts == sorted(amounts, reverse=True)


def test_the_overdue_preset_keeps_the_overdue_leads(county_view, store) -> None:
    late = qc.overdue_leads(store, county_view, now=qc.run_time(county_view))
    assert late == ()  # nothing is late the moment the run finishes
    q = cq.QueueQuery(preset="overdue")
    answer, _ = qc.rows(county_view, {"startRow": 0, "endRow": 10}, store, query=q)
    assert answer["rowCount"] == 0
    years = qc.run_time(county_view).replace(year=qc.run_time(county_view).year + 2)
    late = qc.overdue_leads(store, county_view, now=years)
    assert len(late) == count(county_view) - len(store.history()["finding_id"].unique().to_list())
    answer, _ = qc.rows(county_view, {"startRow": 0, "endRow": 10}, store, query=q, now=years)
    assert answer["rowCount"] == len(late)


def test_institutions_ranked_most_at_risk_first(county_view) -> None:
    ranked = iv.ranked(county_view)
    assert ranked.height == county_view.institutions.height
    ranks = ranked["rank"].drop_nulls().to_list()
    assert ranks == sorted(ranks) and ranks[0] == 1
    options = iv.choices(county_view)
    assert [o["value"] for o in options] == ranked["fixmedins_code"].to_list()
    first = ranked.row(0, named=True)
    assert options[0]["label"] == f"{first['fixmedins_name']} ({first['fixmedins_code']})"
    by_name = [o["value"] for o in iv.choices(county_view, order="name")]
    expected = county_view.institutions.sort("fixmedins_name", "fixmedins_code", nulls_last=True)
    assert by_name == expected["fixmedins_code"].to_list()


def _someone(view: RunView) -> dict:
    return pv.lake_frame(
        view, "SELECT psn_no, psn_name FROM person WHERE psn_name IS NOT NULL LIMIT 1"
    ).row(0, named=True)


def test_the_person_search_takes_part_of_a_number(county_view) -> None:
    who = _someone(county_view)
    part = who["psn_no"][-6:]
    found = pv.find_persons(county_view, part, "supervisor")
    assert who["psn_no"] in found["psn_no"].to_list()
    exact = pv.find_persons(county_view, who["psn_no"], "supervisor")
    assert exact.row(0, named=True) == {
        "psn_no": who["psn_no"],
        "label": f"{who['psn_name']} ({who['psn_no']})",
    }
    assert pv.find_persons(county_view, "", "supervisor").is_empty()


def test_the_person_search_by_name_only_for_roles_that_see_names(county_view) -> None:
    who = _someone(county_view)
    named = pv.find_persons(county_view, who["psn_name"], "supervisor")
    assert who["psn_no"] in named["psn_no"].to_list()
    assert pv.find_persons(county_view, who["psn_name"], "auditor").is_empty()
    masked = pv.find_persons(county_view, who["psn_no"], "auditor").row(0, named=True)
    assert masked["psn_no"] == who["psn_no"]
    assert who["psn_name"] not in masked["label"]


def test_a_doctor_is_kept_with_their_institution_only() -> None:
    q = cq.parse_query({"institution": "H001", "doctor": "D7"})
    assert q.doctor == "D7"
    assert cq.query_string(q) == "?institution=H001&doctor=D7"
    assert cq.parse_query({"doctor": "D7"}).doctor is None  # no institution, no doctor
    link = cq.queue_link(institution="H001", doctor="D7")
    assert link == "/leads?view=leads&institution=H001&doctor=D7"
    assert ("doctor", "D7") in cq.chips(q, UNITS)


def test_the_queue_narrowed_to_a_doctor_lists_their_leads(county_view, store) -> None:
    ranked = dv_ranking(county_view)
    code, doctor = ranked["fixmedins_code"], ranked["bilg_dr_codg"]
    mine = set(dv.doctor_lead_ids(county_view, code, doctor))
    assert mine
    q = cq.QueueQuery(view="leads", institution=code, doctor=doctor)
    answer, message = qc.rows(county_view, {"startRow": 0, "endRow": 500}, store, query=q)
    assert message == "" and answer["rowCount"] == len(mine)
    assert {r["finding_id"] for r in answer["rowData"]} <= mine
    cases, _ = cc.rows(county_view, {"startRow": 0, "endRow": 500}, store, query=q)
    assert 0 < cases["rowCount"] <= len(mine)


def dv_ranking(view: RunView) -> dict:
    """The doctor with the most leads of the run's doctor ranking."""
    ranked = lead_ranking(view, "doctor", "zh").filter(pl.col("n_findings") > 0)
    return ranked.sort("n_findings", descending=True).row(0, named=True)
