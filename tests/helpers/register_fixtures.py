"""Entities and staff for the registers' tests (a module of its own, not conftest, so test
modules can import it by a name no other test folder uses)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from hrss_fraud.cases import CaseStore
from hrss_fraud.inspection import registry

HEADER = ("统一社会信用代码", "机构名称", "许可证编号", "经营范围", "有效期起", "有效期至（截止）",
          "地址", "所属乡镇", "法定代表人", "备注")  # fmt: skip
ZONES = ("城关镇", "河西乡", "南山镇")
LEGAL_REPS = ("张建国", "李秀英", "王志强", "赵丽华", "刘德明", "陈桂兰")


def staff(store: CaseStore, groups: int = 3) -> None:
    """Two inspectors per group: G0 = I0, I1; G1 = I2, I3; …"""
    for i in range(2 * groups):
        registry.add_inspector(store, f"I{i}", f"检查员{i}", by="tester")
    for g in range(groups):
        registry.add_group(store, f"G{g}", f"第{g + 1}组", [f"I{2 * g}", f"I{2 * g + 1}"], by="t")


def entity_rows(n: int, *, valid_to: date | None = None) -> list[tuple[str, ...]]:
    """``n`` agencies spread over three zones, licences valid two years unless ``valid_to``."""
    end = valid_to or date(2027, 12, 31)
    return [
        (
            f"91130123MA0{k:05d}X",
            f"测试人力资源服务有限公司{k}",
            f"冀人服证字〔2024〕{k:03d}号",
            "职业中介；人力资源供求信息的收集和发布",
            "2024-01-01",
            end.isoformat(),
            f"城关镇建设路{k}号",
            ZONES[k % 3],
            LEGAL_REPS[k % len(LEGAL_REPS)],
            "",
        )
        for k in range(n)
    ]


def write_csv(path: Path, rows: list[tuple[str, ...]], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def agencies(store: CaseStore, folder: Path, n: int = 12, *, valid_to: date | None = None):
    """The hr_agency register with ``n`` agencies imported; returns the register."""
    from hrss_fraud.registers.definitions import get_register
    from hrss_fraud.registers.entities import import_entities

    reg = get_register("hr_agency")
    path = write_csv(folder / "agencies.csv", entity_rows(n, valid_to=valid_to))
    import_entities(store, path, reg, by="tester")
    return reg


def members(group_code: str) -> list[str]:
    """The two inspectors of a group made by :func:`staff`."""
    g = int(group_code[1:])
    return [f"I{2 * g}", f"I{2 * g + 1}"]


def failed_results(reg, failing: tuple[str, ...] = ("HRA-03",)) -> dict:
    """A result for every item of ``reg``: the ``failing`` ones failed with a finding."""
    from hrss_fraud.registers.inspections import ItemResult

    return {
        i.code: ItemResult("fail", f"{i.text}：发现问题")
        if i.code in failing
        else ItemResult("pass")
        for i in reg.check_items
    }
