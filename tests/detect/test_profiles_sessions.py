"""pp_visits_per_patient leaves planned sessions out of the ratio: a centre giving dialysis
three times a week, or a chemotherapy or rehabilitation course, repeats its patients by
schedule and is no outlier for it; its ordinary repeat visits still count, and a session's
code without the session (chronic kidney disease seen without dialysis) is an ordinary
visit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

CLINICS = ("H13012300101", "H13012300102", "H13012300103")
DRUG = "XC08CAA001A001010110037"  # 苯磺酸氨氯地平片
HAEMODIALYSIS = "003110000080000"  # 血液透析
EXERCISE = "003402000010000"  # 运动疗法 (rehabilitation therapy)
CBC = "002501010150000"  # 血常规
T0 = datetime(2025, 3, 3, 9)
RULE = "pp_visits_per_patient"


def _visit(
    rows: tuple[list[dict], list[dict]], c: int, k: int, psn: int, dise: str, item: str
) -> None:
    """Visit ``k`` of clinic ``c`` by person ``psn`` for ``dise``, one line of ``item``."""
    setl, lines = rows
    md, t = f"MD{c}{k:03d}", T0 + timedelta(hours=k)
    kw = {"fixmedins_code": CLINICS[c], "psn_no": f"1301230000000{c}{psn:04d}"}
    med_type = "14" if dise.startswith(("Z49", "N18")) else "11"
    setl.append(
        visit(md, begntime=t, endtime=t, dise_codg=dise, med_type=med_type, inscp_amt=20.0, **kw)
    )
    lines.append(fee(md, 1, item, pric=10.0, cnt=2, fee_ocur_time=t, **kw))


def _centres(
    session: tuple[str, str] | None, *, ordinary_repeats: bool = False
) -> tuple[list[dict], list[dict]]:
    """Three village clinics, 40 visits of 40 persons each (J06.9, one drug). The third
    also gives 10 patients four sessions each (``session``: diagnosis and line) and, when
    ``ordinary_repeats``, sees 20 of its own persons a second time for a cold."""
    rows: tuple[list[dict], list[dict]] = ([], [])
    for c in range(3):
        for i in range(40):
            _visit(rows, c, i, i, "J06.9", DRUG)
    if session is not None:
        dise, item = session
        for k in range(40):
            _visit(rows, 2, 100 + k, 500 + k % 10, dise, item)
    if ordinary_repeats:
        for i in range(20):
            _visit(rows, 2, 200 + i, i, "J06.9", DRUG)
    return rows


def _leads(rows: tuple[list[dict], list[dict]]) -> list[str]:
    insts = [{"fixmedins_code": c, "medins_type": "C1", "hosp_lv": "9"} for c in CLINICS]
    f, _ = run_rule(scoring_db(*rows, institutions=insts), RULE)
    return f["entity_id"].to_list()


@pytest.mark.parametrize(
    "session",
    [
        ("Z49.1", HAEMODIALYSIS),  # dialysis
        ("N18.5", HAEMODIALYSIS),  # end-stage kidney disease with its dialysis session
        ("Z50.1", EXERCISE),  # a rehabilitation course
    ],
)
def test_planned_sessions_are_left_out_of_the_ratio(session: tuple[str, str]) -> None:
    """Ten patients with four sessions each would make 80 visits of 50 persons (1.6 against
    the peers' 1.0); left out, the centre's own ratio is its peers'."""
    assert _leads(_centres(session)) == []


def test_ordinary_repeat_visits_of_a_session_centre_still_count() -> None:
    """The same centre seeing 20 of its persons twice for a cold is 60 visits of 40
    persons, sessions aside: a lead."""
    assert _leads(_centres(("Z49.1", HAEMODIALYSIS), ordinary_repeats=True)) == [CLINICS[2]]


def test_a_session_code_without_the_session_is_an_ordinary_visit() -> None:
    """End-stage kidney disease seen for a blood count, no dialysis billed, is chronic
    care, not a session: forty such visits of ten persons count."""
    assert _leads(_centres(("N18.5", CBC))) == [CLINICS[2]]


def test_without_the_sessions_the_centre_is_its_peers() -> None:
    assert _leads(_centres(None)) == []
