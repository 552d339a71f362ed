"""The public disclosure holds the results and handling, and no personal data; the annual
counts come from the records."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from helpers.register_fixtures import LEGAL_REPS, agencies, failed_results, members

from hrss_fraud.cases import CaseStore
from hrss_fraud.registers.definitions import load_registers
from hrss_fraud.registers.disclosure import (
    PUBLIC_COLUMNS,
    annual_counts,
    disclosure,
    write_export,
)
from hrss_fraud.registers.inspections import ItemResult, record_inspection
from hrss_fraud.registers.plans import draw_plan
from hrss_fraud.registers.rectification import close, follow_up, order, sanction

ON = date(2026, 3, 20)
FINDING = "收取求职者押金，经办人王小明"


@pytest.fixture
def year(ws: Path, store: CaseStore, tmp_path: Path):
    """Three random inspections (one passed, one rectified, one revoked) and one targeted."""
    reg = agencies(store, tmp_path)
    plan = draw_plan(store, reg, name="一季度", n_random=3, by="t", seed=21,
                     planned_on=date(2026, 3, 1))  # fmt: skip
    t = list(plan.targets.rows(named=True))
    ids = []
    for n, target in enumerate(t):
        results = (
            {i.code: ItemResult("pass") for i in reg.check_items}
            if n == 0
            else failed_results(reg) | {"HRA-03": ItemResult("fail", FINDING)}
        )
        ids.append(
            record_inspection(
                store,
                ws,
                reg,
                entity_code=target["entity_code"],
                plan_id=plan.plan_id,
                inspected_on=ON,
                inspectors=members(target["group_code"]),
                summary=f"法定代表人{LEGAL_REPS[0]}在场",
                results=results,
                by="t",
                today=ON,
            )
        )
    due = ON + timedelta(days=30)
    r1 = order(store, reg, ids[1], requirements="退还押金", by="t", on=ON)
    follow_up(store, r1, passed=True, text="已退还", by="t", on=due)
    close(store, r1, text="办结", by="t", on=due)
    r2 = order(store, reg, ids[2], requirements="退还押金", by="t", on=ON)
    follow_up(store, r2, passed=False, text="拒不退还", by="t", on=due)
    sanction(store, reg, r2, handling="revoke", decision="吊销", by="t", on=due)
    outside = next(c for c in (f"91130123MA0{k:05d}X" for k in range(12)) if c not in
                   {x["entity_code"] for x in t})  # fmt: skip
    record_inspection(
        store, ws, reg, entity_code=outside, complaint_ref="TS-2026-0001", inspected_on=ON,
        inspectors=["I0", "I1"], summary="投诉核查", by="t", today=ON,
        results={i.code: ItemResult("pass") for i in reg.check_items},
    )  # fmt: skip
    return reg, t


def test_the_disclosure_holds_results_and_handling(store: CaseStore, year) -> None:
    reg, targets = year
    df = disclosure(store, load_registers(), year=2026)
    assert df.columns == [zh for zh, _ in PUBLIC_COLUMNS.values()]
    assert df.height == 3 and set(df["检查方式"]) == {"随机抽查"}
    by_code = {r["统一社会信用代码"]: r for r in df.iter_rows(named=True)}
    first, second, third = (by_code[t["entity_code"]] for t in targets)
    assert first["检查结果"] == "未发现问题" and first["处理情况"] == "无需处理"
    assert second["检查结果"].startswith("发现问题：依法诚信经营情况")
    assert second["处理情况"] == "已责令整改，整改完成"
    assert third["处理情况"] == "吊销《人力资源服务许可证》"
    assert first["检查事项"].count("；") == len(reg.check_items) - 1
    assert disclosure(store, load_registers(), year=2025).height == 0
    assert disclosure(store, load_registers(), year=2026, include_targeted=True).height == 4


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_export_holds_no_personal_data(
    store: CaseStore, year, tmp_path: Path, suffix: str
) -> None:
    out = write_export(disclosure(store, load_registers(), year=2026), tmp_path / f"p{suffix}")
    df = pl.read_csv(out) if suffix == ".csv" else pl.read_excel(out)
    text = "\n".join(" ".join(str(v) for v in row) for row in df.rows())
    text += " ".join(df.columns)
    people = [*LEGAL_REPS, "王小明", *(f"检查员{i}" for i in range(6))]
    assert not [p for p in people if p in text]
    assert FINDING not in text and "在场" not in text  # no inspector's free text
    assert not [f"I{i}" for i in range(6) if f" I{i} " in f" {text} "]
    stored = {r[0] for r in store.query("SELECT address FROM register_entity")}
    assert not [a for a in stored if a in text]
    assert df.height == 3


def test_annual_counts_come_from_the_records(store: CaseStore, year) -> None:
    counts = annual_counts(store, load_registers(), year=2026, today=date(2026, 12, 31))
    row = counts.filter(register="hr_agency").row(0, named=True)
    assert row["entities"] == 12 and row["plans"] == 1
    assert (row["random"], row["targeted"], row["passed"], row["failed"]) == (3, 1, 2, 2)
    assert (row["ordered"], row["closed"], row["open"], row["sanction_revoke"]) == (2, 1, 0, 1)
    assert row["report_to"] == "市人力资源和社会保障局"
    assert "two_designated" not in counts["register"].to_list()
