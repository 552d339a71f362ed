"""The demo's synthetic bureau: every register populated through the registers' own
functions, with something due, overdue, expiring, closed and sanctioned; reproducible."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hrss_fraud.cases import chain, open_store
from hrss_fraud.registers import documents
from hrss_fraud.registers.definitions import load_registers
from hrss_fraud.registers.disclosure import annual_counts, disclosure
from hrss_fraud.registers.entities import entities
from hrss_fraud.registers.plans import due_targets
from hrss_fraud.registers.rectification import rectifications
from hrss_fraud.registers.synth import synth_bureau

TODAY = date(2026, 12, 7)


def _bureau(ws: Path, **kw) -> None:
    ws.mkdir()
    with open_store(ws) as store:
        synth_bureau(store, ws, today=TODAY, **kw)


def test_every_register_is_populated_with_each_mark(tmp_path: Path) -> None:
    ws = tmp_path / "a"
    _bureau(ws, max_documents=0)
    regs = load_registers()
    run_here = sorted(c for c, r in regs.items() if r.runs_here)
    with open_store(ws) as store:
        counts = annual_counts(store, regs, year=2026, today=TODAY)
        assert sorted(counts["register"]) == run_here
        assert (counts["entities"] == 16).all() and (counts["random"] > 0).all()
        due = due_targets(store, today=TODAY)
        assert set(due["register"]) == set(run_here)
        assert due["overdue"].any() and not due["overdue"].all()
        assert entities(store, today=TODAY)["expiring"].sum() >= len(run_here)
        rect = rectifications(store, today=TODAY)
        assert {"open", "closed", "escalated"} <= set(rect["status"])
        assert rect["past_deadline"].any()
        assert store.query("SELECT count(*) FROM register_inspection WHERE source = 'complaint'")
        public = disclosure(store, regs, year=2026)
        reps = {r for (r,) in store.query("SELECT legal_rep FROM register_entity")}
        text = public.write_csv()
        assert public.height > 0 and not [r for r in reps if r in text]
        assert chain.verify(store).ok


def test_the_same_seed_makes_the_same_bureau(tmp_path: Path) -> None:
    _bureau(tmp_path / "a", max_documents=0)
    _bureau(tmp_path / "b", max_documents=0)
    sql = (
        "SELECT e.entity_code, p.name, t.group_code FROM register_plan_target t "
        "JOIN register_plan p USING (plan_id) JOIN register_entity e USING (entity_id) "
        "ORDER BY p.plan_id, t.rowid"
    )
    with open_store(tmp_path / "a") as a, open_store(tmp_path / "b") as b:
        assert a.query(sql) == b.query(sql) and len(a.query(sql)) > 0


def test_documents_of_each_kind_within_the_budget(tmp_path: Path) -> None:
    ws = tmp_path / "a"
    _bureau(ws, max_documents=3)
    with open_store(ws) as store:
        issued = [d for d in documents.documents(store) if d["status"] == "issued"]
        assert sorted(d["kind"] for d in issued) == [
            "inspection_record",
            "rectification_notice",
            "sanction_decision",
        ]
        assert all(documents.verify(store, ws, d["number"]) == [] for d in issued)
