"""Versioned rule parameters: the catalogue holds defaults, a change log holds every change
with who, when and why. A rule's version is 1 plus the number of changes applied to it.

The shipped log lives beside the catalogue (``analytics/rules/parameter_changes.csv``); a
deployment's own changes go to ``WORKSPACE/rules/parameter_changes.csv`` and apply after.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hrss_fraud.engine.catalogue import Catalogue, CatalogueError, Rule
from hrss_fraud.lake.fsutil import write_bytes_atomic

COLUMNS = ("rule_id", "param", "value", "changed_by", "changed_at", "reason")
FILE = "parameter_changes.csv"

UNITS_EN: dict[str, str] = {
    "Z值": "z-score",
    "个": "items",
    "人": "persons",
    "人次": "visits",
    "倍": "times",
    "倍稳健标准差": "robust SDs",
    "元": "yuan",
    "元/单位": "yuan per unit",
    "分位": "percentile",
    "分钟": "minutes",
    "单位": "units",
    "天": "days",
    "家": "institutions",
    "岁": "years of age",
    "开关": "switch (0 or 1)",
    "月": "months",
    "概率": "probability",
    "次": "times",
    "比例": "share",
    "种": "kinds",
    "秒": "seconds",
    "笔": "settlements",
    "级": "levels",
}
"""The catalogue's parameter units (written in Chinese) in English: every screen showing a
parameter's unit in English takes it from here (a test holds the shipped catalogue to
having no unit missing)."""


def unit_text(unit: str | None, lang: str) -> str | None:
    """A parameter's ``unit`` in ``lang`` (an English unit not listed: as written)."""
    if unit is None or lang != "en":
        return unit
    return UNITS_EN.get(unit, unit)


@dataclass(frozen=True)
class Change:
    rule_id: str
    param: str
    value: float
    changed_by: str
    changed_at: str
    reason: str


@dataclass(frozen=True)
class Effective:
    values: dict[str, float]
    version: int
    changes: tuple[Change, ...]


def workspace_log(workspace: Path) -> Path:
    return Path(workspace) / "rules" / FILE


def read_log(path: Path) -> list[Change]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            msg = f"{path}: header must be {','.join(COLUMNS)}"
            raise CatalogueError(msg)
        out = []
        for i, row in enumerate(reader, start=2):
            try:
                value = float(row["value"])
            except ValueError:
                msg = f"{path} line {i}: value {row['value']!r} is not a number"
                raise CatalogueError(msg) from None
            out.append(Change(**{**row, "value": value}))
    return out


def changes(catalogue: Catalogue, workspace: Path | None) -> list[Change]:
    log = read_log(catalogue.root / FILE)
    if workspace is not None:
        log += read_log(workspace_log(workspace))
    return log


def effective(rule: Rule, log: list[Change]) -> Effective:
    values = rule.defaults()
    applied = []
    for c in log:
        if c.rule_id != rule.id:
            continue
        p = rule.param(c.param)
        values[c.param] = p.check(c.value, f"parameter change by {c.changed_by} at {c.changed_at}")
        applied.append(c)
    return Effective(values=values, version=1 + len(applied), changes=tuple(applied))


def set_param(
    catalogue: Catalogue,
    workspace: Path,
    rule_id: str,
    param: str,
    value: float,
    changed_by: str,
    reason: str,
) -> Change:
    """Check the change against the parameter's bounds and append it to the workspace log."""
    if rule_id not in catalogue.rules:
        msg = f"unknown rule {rule_id!r}"
        raise CatalogueError(msg)
    if not changed_by.strip() or not reason.strip():
        msg = "a parameter change needs who made it and why (--by, --reason)"
        raise CatalogueError(msg)
    catalogue.rules[rule_id].param(param).check(value, f"rule {rule_id}")
    change = Change(
        rule_id, param, value, changed_by, datetime.now(UTC).isoformat(timespec="seconds"), reason
    )
    path = workspace_log(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_bytes() if path.exists() else b""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if not old:
        w.writerow(COLUMNS)
    w.writerow([getattr(change, c) for c in COLUMNS])
    write_bytes_atomic(path, old + buf.getvalue().encode("utf-8"), label="parameter log")
    return change
