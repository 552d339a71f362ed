"""The 监管事项 page's workflow logic without a browser: forms to the library's steps as the
logged-in user, refusals in Chinese, evidence uploads hashed, documents downloaded only as
issued, the disclosure audited; and only a supervisor may do any of it."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers.register_fixtures import LEGAL_REPS, agencies, members

from hrss_fraud.cases import CaseStore
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import registers_work as rw
from hrss_fraud.registers.documents import DocumentError
from hrss_fraud.registers.entities import add_conflict
from hrss_fraud.registers.inspections import InspectionError, get_inspection
from hrss_fraud.registers.plans import draw_plan
from hrss_fraud.registers.rectification import RectificationError, rectifications

DRAWN = date(2026, 3, 2)
ON = date(2026, 3, 20)


def _user(role: str) -> User:
    return User(f"{role}1", role, role, True, "", "")


AUDITOR, BOSS = _user("auditor"), _user("supervisor")


def _upload(name: str, data: bytes) -> rw.Upload:
    return rw.Upload(name, "data:image/jpeg;base64," + base64.b64encode(data).decode())


@pytest.fixture
def planned(store: CaseStore, tmp_path: Path):
    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="A", n_random=2, by="t", seed=11, planned_on=DRAWN)
    return reg, plan, plan.targets.row(0, named=True)


def _form(reg, row: dict, plan_id: int, **over) -> rw.InspectionForm:
    args = {
        "code": reg.code,
        "target": f"plan:{plan_id}:{row['entity_code']}",
        "on": ON.isoformat(),
        "inspectors": members(row["group_code"]),
        "summary": "现场查看经营场所，查阅台账",
        "results": {"HRA-03": "fail"},
        "findings": {"HRA-03": "未公示收费标准"},
    } | over
    return rw.InspectionForm(**args)


def _actors(store: CaseStore, action: str) -> list[str]:
    return [a for (a,) in store.query("SELECT actor FROM audit_log WHERE action = ?", (action,))]


def test_the_form_records_an_inspection_as_the_session_user_with_hashed_evidence(
    ws: Path, store: CaseStore, planned
) -> None:
    reg, plan, target = planned
    photo = b"\xff\xd8\xff\xe0 photo of the notice board"
    form = _form(
        reg,
        target,
        plan.plan_id,
        uploads=[_upload("../../etc/公示栏.JPG", photo)],
        evidence_item="HRA-03",
    )
    iid = rw.record_from_form(store, ws, BOSS, form)
    got = get_inspection(store, iid)
    assert (got["result"], got["recorded_by"], got["inspected_on"]) == (
        "fail",
        "supervisor1",
        ON.isoformat(),
    )
    # items not touched on the form passed; the failed one keeps what was found
    assert {i["item_code"]: i["result"] for i in got["items"]} == {
        "HRA-01": "pass",
        "HRA-02": "pass",
        "HRA-03": "fail",
        "HRA-04": "pass",
    }
    (ev,) = got["evidence"]
    digest = hashlib.sha256(photo).hexdigest()
    assert (ev["file_name"], ev["sha256"], ev["item_code"]) == ("公示栏.JPG", digest, "HRA-03")
    assert (ws / ev["path"]).read_bytes() == photo and ev["path"].endswith(f"{digest}.jpg")
    assert _actors(store, "register.inspection.record") == ["supervisor1"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"target": None}, "请选择检查对象"),
        ({"on": "三月二十日"}, "检查日期应为日期"),
        ({"inspectors": ["I0"]}, "检查人员不少于2人"),
        ({"findings": {}}, "HRA-03：不合格事项须填写发现的问题"),
        ({"summary": " "}, "须填写检查情况"),
        ({"uploads": [rw.Upload("a.jpg", "data:image/jpeg;base64,@@@")]}, "证据 a.jpg 无法读取"),
        ({"uploads": [rw.Upload(".hidden", "data:,")]}, "证据文件名无效"),
    ],
)
def test_a_bad_form_is_refused_in_chinese_and_writes_nothing(
    ws: Path, store: CaseStore, planned, over: dict, message: str
) -> None:
    reg, plan, target = planned
    with pytest.raises(rw.ERRORS, match=message):
        rw.record_from_form(store, ws, BOSS, _form(reg, target, plan.plan_id, **over))
    assert store.query("SELECT count(*) FROM register_inspection")[0][0] == 0
    assert not (ws / "supervision").exists()


def test_evidence_larger_than_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rw, "MAX_EVIDENCE_BYTES", 1024 * 1024)
    assert rw.upload_summary([_upload("ok.pdf", b"x" * 1024 * 1024)]) == [("ok.pdf", 1048576)]
    with pytest.raises(rw.FormError, match="超过 1 MB"):
        rw.upload_summary([_upload("big.pdf", b"x" * (1024 * 1024 + 1))])


def test_a_complaint_check_names_its_complaint(ws: Path, store: CaseStore, planned) -> None:
    reg, plan, target = planned
    options = rw.target_options(store, reg)
    values = [o["value"] for o in options]
    assert values[:2] == [f"plan:{plan.plan_id}:{c}" for c in plan.targets["entity_code"]]
    assert f"complaint:{target['entity_code']}" in values
    assert options[0]["label"].startswith("A ")  # the plan's name first
    form = _form(reg, target, plan.plan_id, target=f"complaint:{target['entity_code']}")
    with pytest.raises(InspectionError, match="须填写投诉编号"):
        rw.record_from_form(store, ws, BOSS, form)
    iid = rw.record_from_form(store, ws, BOSS, replace(form, complaint_ref="TS-2026-0007"))
    got = get_inspection(store, iid)
    assert (got["source"], got["source_ref"], got["plan_id"]) == ("complaint", "TS-2026-0007", None)


def test_the_drawn_group_is_proposed_without_conflicted_members(
    ws: Path, store: CaseStore, planned
) -> None:
    reg, plan, target = planned
    value = f"plan:{plan.plan_id}:{target['entity_code']}"
    group = members(target["group_code"])
    assert rw.suggested_inspectors(store, ws, BOSS, reg.code, value) == group
    add_conflict(store, reg.code, group[0], target["entity_code"], "配偶任职", by="t")
    assert rw.suggested_inspectors(store, ws, BOSS, reg.code, value) == group[1:]
    assert rw.suggested_inspectors(store, ws, BOSS, reg.code, "complaint:X") == []


def test_order_follow_up_and_sanction_through_the_forms(
    ws: Path, store: CaseStore, planned
) -> None:
    reg, plan, target = planned
    iid = rw.record_from_form(store, ws, BOSS, _form(reg, target, plan.plan_id))
    assert [o["value"] for o in rw.order_options(store, reg.code)] == [str(iid)]
    with pytest.raises(rw.FormError, match="请选择检查记录"):
        rw.order_from_form(store, ws, BOSS, inspection_id=None, requirements="x", on=None)
    with pytest.raises(RectificationError, match="须填写整改要求"):
        rw.order_from_form(store, ws, BOSS, inspection_id=iid, requirements=" ", on="2026-03-21")
    rid = rw.order_from_form(
        store, ws, BOSS, inspection_id=str(iid), requirements="公示收费标准", on="2026/3/21"
    )
    assert rw.order_options(store, reg.code) == []
    due = date(2026, 3, 21) + timedelta(days=reg.rectify_days)
    (option,) = rw.open_order_options(store, reg.code)
    assert option["value"] == str(rid) and due.isoformat() in option["label"]
    with pytest.raises(RectificationError, match="须复查合格后才能办结"):
        rw.close_from_form(store, BOSS, rect_id=rid, text="", on=None)
    early = (due - timedelta(days=1)).isoformat()
    rw.follow_up_from_form(store, BOSS, rect_id=rid, outcome="failed", text="仍未公示", on=early)
    with pytest.raises(RectificationError, match="对象仍可整改"):
        rw.sanction_from_form(
            store, ws, BOSS, rect_id=rid, handling="warning", decision="警告", on=early
        )
    rw.follow_up_from_form(
        store, BOSS, rect_id=rid, outcome="failed", text="仍未公示", on=due.isoformat()
    )
    with pytest.raises(rw.FormError, match="请选择处理方式"):
        rw.sanction_from_form(store, ws, BOSS, rect_id=rid, handling=None, decision="x", on=None)
    (warning,) = [o for o in rw.sanction_options(reg) if "警告" in o["label"]]
    sid = rw.sanction_from_form(
        store,
        ws,
        BOSS,
        rect_id=str(rid),
        handling=warning["value"],
        decision="给予警告并责令继续整改",
        on=due.isoformat(),
    )
    assert sid > 0
    row = rectifications(store, reg.code).row(0, named=True)
    assert (row["status"], row["sanction"]) == ("escalated", "warning")
    assert rw.open_order_options(store, reg.code) == []
    for action in ("register.rectify.order", "register.rectify.follow_up", "register.sanction"):
        assert set(_actors(store, action)) == {"supervisor1"}


def test_a_document_is_issued_and_downloaded_only_as_issued(
    ws: Path, store: CaseStore, planned
) -> None:
    reg, plan, target = planned
    iid = rw.record_from_form(store, ws, BOSS, _form(reg, target, plan.plan_id))
    (option,) = rw.document_object_options(store, reg.code, "inspection_record")
    assert option["value"] == str(iid)
    done = rw.issue_from_form(
        store, ws, BOSS, kind="inspection_record", object_id=iid, unit="", on="2026-03-22"
    )
    assert done.number == "JC-2026-0001"
    assert rw.document_object_options(store, reg.code, "inspection_record") == []
    (issued,) = rw.issued_options(store, reg.code)
    assert issued["value"] == done.number and "监督检查记录" in issued["label"]
    name, data = rw.document_file(store, ws, BOSS, done.number, "docx")
    assert name.endswith(".docx") and data == done.docx_path.read_bytes()
    assert _actors(store, "export.download") == ["supervisor1"]
    done.pdf_path.write_bytes(done.pdf_path.read_bytes() + b"%")
    with pytest.raises(DocumentError, match="与出具时不一致"):
        rw.document_file(store, ws, BOSS, done.number, "pdf")
    with pytest.raises(rw.FormError, match="请选择已出具的文书"):
        rw.document_file(store, ws, BOSS, "JC-2026-0099", "pdf")


def test_the_disclosure_download_holds_no_personal_data_and_is_audited(
    ws: Path, store: CaseStore, planned
) -> None:
    reg, plan, target = planned
    rw.record_from_form(store, ws, BOSS, _form(reg, target, plan.plan_id))
    with pytest.raises(rw.FormError, match="年度应为四位数字"):
        rw.disclosure_file(store, ws, BOSS, year="今年", targeted=False, fmt="csv")
    with pytest.raises(rw.FormError, match="请选择 CSV 或 XLSX"):
        rw.disclosure_file(store, ws, BOSS, year=2026, targeted=False, fmt="pdf")
    name, data = rw.disclosure_file(store, ws, BOSS, year="2026", targeted=False, fmt="csv")
    assert name == "双随机抽查结果公开_2026.csv"
    text = data.decode("utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["检查对象"] == target["name"] and row["检查结果"].startswith("发现问题：")
    assert not [p for p in LEGAL_REPS if p in text] and "未公示收费标准" not in text
    assert _actors(store, "register.disclose") == ["supervisor1"]
    name, data = rw.disclosure_file(store, ws, BOSS, year=2026, targeted=True, fmt="xlsx")
    assert name.endswith(".xlsx") and data[:2] == b"PK"


def test_only_a_supervisor_works_the_registers(ws: Path, store: CaseStore, planned) -> None:
    reg, plan, target = planned
    steps = [
        lambda: rw.record_from_form(store, ws, AUDITOR, _form(reg, target, plan.plan_id)),
        lambda: rw.order_from_form(store, ws, AUDITOR, inspection_id=1, requirements="x", on=None),
        lambda: rw.follow_up_from_form(
            store, AUDITOR, rect_id=1, outcome="passed", text="x", on=None
        ),
        lambda: rw.close_from_form(store, AUDITOR, rect_id=1, text="", on=None),
        lambda: rw.sanction_from_form(
            store, ws, AUDITOR, rect_id=1, handling="warning", decision="x", on=None
        ),
        lambda: rw.issue_from_form(
            store, ws, AUDITOR, kind="inspection_record", object_id=1, unit="", on=None
        ),
        lambda: rw.document_file(store, ws, AUDITOR, "JC-2026-0001", "pdf"),
        lambda: rw.disclosure_file(store, ws, AUDITOR, year=2026, targeted=False, fmt="csv"),
        lambda: rw.suggested_inspectors(store, ws, None, reg.code, "complaint:X"),
    ]
    for step in steps:
        with pytest.raises(PermissionError, match="无权"):
            step()
    assert store.query("SELECT count(*) FROM register_inspection")[0][0] == 0
