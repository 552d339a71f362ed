"""``make demo``'s labour-inspection cases: three cases at different steps, taken through
the library's actions by the demo's accounts — one closed with what was ordered paid, one
whose party asked for a hearing, one just registered — once; a second run adds nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers.shared import copy_workspace

from hrss_fraud.cases import open_store
from hrss_fraud.cli.demo import LABOUR_EMPLOYERS, REVIEWER, SUPERVISOR, _demo_labour
from hrss_fraud.cli.serve import echo_demo_accounts
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.registers.labour_views import cases, get_case

COUNTED = ("labour_case", "labour_case_event", "labour_case_amount", "labour_case_payment")


@pytest.fixture
def ws(scored_tiny_county: Path, tmp_path: Path) -> Path:
    return copy_workspace(scored_tiny_county, tmp_path / "ws", ("lake", "runs"))


def _counts(ws: Path) -> dict[str, int]:
    with open_store(ws) as store:
        return {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in COUNTED}


def test_the_demo_takes_three_labour_cases_to_their_steps_once(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    echo_demo_accounts(Workspace.of(ws))
    _demo_labour(Workspace.of(ws))
    line = capsys.readouterr().out.splitlines()[-1]
    with open_store(ws) as store:
        listed = cases(store, today=date(2026, 12, 7), workspace=ws)
        closed, heard, new = (get_case(store, n, workspace=ws) for n in listed["case_no"])
        actors = {a for (a,) in store.query("SELECT DISTINCT actor FROM labour_case_event")}
    assert listed["case_no"].to_list() == ["LJ-2026-0001", "LJ-2026-0002", "LJ-2026-0003"]
    assert actors == {REVIEWER, SUPERVISOR}
    # the tiny county has no enrolment employers: the fixed names
    assert [c["employer_code"] for c in (closed, heard, new)] == [
        code for code, _, _ in LABOUR_EMPLOYERS
    ]
    assert (closed["status"], closed["step"], closed["execution"]) == (
        "closed",
        "close",
        "complied",
    )
    assert [(a["kind"], a["ordered_fen"], a["outstanding_fen"]) for a in closed["amounts"]] == [
        ("back_wages", 8640000, 0),
        ("contributions", 1296050, 0),
    ]
    assert (heard["status"], heard["path"], heard["next_step"]) == ("open", "hearing", "review")
    # filed 4 November 2026: 60 working days run into 2027, not in the calendar yet
    assert (heard["due"], heard["due_provisional"]) == ("2027-01-27", [2027])
    assert (new["step"], new["next_step"], new["due"]) == ("register", "preliminary", "2026-12-11")
    assert new["due_provisional"] == closed["due_provisional"] == []
    assert line == (
        "labour cases (劳动保障监察): 3 cases (fixed names): LJ-2026-0001 结案归档; "
        "LJ-2026-0002 事先告知（听证告知），已申请听证; LJ-2026-0003 登记"
    )
    before = _counts(ws)
    _demo_labour(Workspace.of(ws))  # a demo run again keeps them
    assert _counts(ws) == before
    assert capsys.readouterr().out == "labour cases (劳动保障监察): already registered, kept\n"


def test_the_cases_name_the_lakes_enrolment_employers_when_it_has_them(
    ws: Path, tiny_county: Path
) -> None:
    lake = Lake(ws / "lake")
    ingest(lake, [tiny_county / "enrolment" / "employer.csv"])
    con = lake.connect()
    names = dict(con.execute("SELECT emp_no, emp_name FROM employer").fetchall())
    con.close()
    echo_demo_accounts(Workspace.of(ws))
    _demo_labour(Workspace.of(ws))
    with open_store(ws) as store:
        got = store.query(
            "SELECT employer_code, employer_name, employer_kind FROM labour_case ORDER BY case_id"
        )
    assert [kind for _, _, kind in got] == ["enterprise", "individual", "enterprise"]
    assert all(names[code] == name for code, name, _ in got)
