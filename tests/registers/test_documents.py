"""The three documents, rendered by the notices' writers: numbered per kind and year,
hashed, Chinese in both files, and a failed issue leaves a void number and no files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pypdf
import pytest
from docx import Document
from helpers.register_fixtures import agencies, failed_results, members

from hrss_fraud.cases import CaseStore
from hrss_fraud.notices import render
from hrss_fraud.registers import documents as docs
from hrss_fraud.registers.inspections import Evidence, record_inspection
from hrss_fraud.registers.plans import draw_plan
from hrss_fraud.registers.rectification import follow_up, order, sanction

ON = date(2026, 3, 20)


@pytest.fixture
def escalated(ws: Path, store: CaseStore, tmp_path: Path):
    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="一季度抽查", n_random=1, by="t", seed=9,
                     planned_on=date(2026, 3, 1))  # fmt: skip
    target = plan.targets.row(0, named=True)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"photo")
    iid = record_inspection(
        store, ws, reg, entity_code=target["entity_code"], plan_id=plan.plan_id,
        inspected_on=ON, inspectors=members(target["group_code"]), summary="查看经营场所与台账",
        results=failed_results(reg), by="t", today=ON, evidence=[Evidence(photo, "HRA-03")],
    )  # fmt: skip
    rid = order(store, reg, iid, requirements="立即停止收取押金并退还", by="t", on=ON)
    due = ON + timedelta(days=30)
    follow_up(store, rid, passed=False, text="仍收取押金", by="t", on=due)
    sid = sanction(store, reg, rid, handling="revoke", decision="自决定之日起吊销", by="t", on=due)
    return reg, iid, rid, sid, target


def _pdf_text(path: Path) -> str:
    text = "".join(p.extract_text() for p in pypdf.PdfReader(path).pages)
    return "".join(text.split())


def _docx_text(path: Path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "".join("".join([*(p.text for p in doc.paragraphs), *cells]).split())


def test_three_documents_numbered_hashed_and_in_chinese(
    ws: Path, store: CaseStore, escalated
) -> None:
    reg, iid, rid, sid, target = escalated
    record = docs.issue(store, ws, reg, "inspection_record", iid, by="t", on=ON)
    notice = docs.issue(store, ws, reg, "rectification_notice", rid, by="t", on=ON)
    decision = docs.issue(store, ws, reg, "sanction_decision", sid, by="t", on=ON)
    assert (record.number, notice.number, decision.number) == (
        "JC-2026-0001",
        "ZG-2026-0001",
        "CF-2026-0001",
    )
    for d in (record, notice, decision):
        assert docs.verify(store, ws, d.number) == []
    rec = _pdf_text(record.pdf_path)
    assert "人力资源服务机构监督检查记录" in rec and target["name"] in rec
    assert "随机抽查（一季度抽查）" in rec and "不合格" in rec and "photo.jpg" in rec
    assert _docx_text(record.docx_path).count("合格") >= 4
    zg = _pdf_text(notice.pdf_path)
    assert "责令限期整改通知书" in zg and "2026年4月19日前整改完毕" in zg
    assert "立即停止收取押金并退还" in zg
    cf = _pdf_text(decision.pdf_path)
    assert "处理决定书" in cf and "吊销《人力资源服务许可证》" in cf and "仍收取押金" in cf
    assert "行政复议" in _docx_text(decision.docx_path)


def test_one_issued_document_per_object_and_a_changed_file_shows(
    ws: Path, store: CaseStore, escalated
) -> None:
    reg, iid, *_ = escalated
    done = docs.issue(store, ws, reg, "inspection_record", iid, by="t", on=ON)
    with pytest.raises(docs.DocumentError, match="already issued"):
        docs.issue(store, ws, reg, "inspection_record", iid, by="t", on=ON)
    done.pdf_path.write_bytes(done.pdf_path.read_bytes() + b"\n")
    rel = f"supervision/documents/{done.number}/{done.number}.pdf"
    assert docs.verify(store, ws, done.number) == [f"{rel} differs from what was issued (SHA-256)"]


def test_a_failed_issue_voids_its_number_and_the_next_takes_the_following(
    ws: Path, store: CaseStore, escalated, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, iid, *_ = escalated

    def broken(_lay):
        raise OSError("disk full")

    monkeypatch.setattr(render, "layout_pdf", broken)
    with pytest.raises(docs.DocumentError, match="number JC-2026-0001 is void: OSError: disk full"):
        docs.issue(store, ws, reg, "inspection_record", iid, by="t", on=ON)
    assert not (ws / "supervision" / "documents" / "JC-2026-0001").exists()
    monkeypatch.undo()
    again = docs.issue(store, ws, reg, "inspection_record", iid, by="t", on=ON)
    assert again.number == "JC-2026-0002"
    statuses = [(d["number"], d["status"]) for d in docs.documents(store)]
    assert statuses == [("JC-2026-0001", "void"), ("JC-2026-0002", "issued")]
