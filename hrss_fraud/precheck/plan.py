"""Which rules a check runs, and how: each rule's own SQL template filled with its
effective parameters, prepared once per database (a check then only executes it), or its
kernel, called as the batch calls it. One query holding every rule side by side
(``UNION ALL``) was measured slower than the rules' prepared statements one after another
(DuckDB planned the large query worse), so each rule keeps its own statement.

In scope are the rules about one person's claims: single-item restrictions, pairs,
quantities, prices, indications and the person-history rules (duplicate supply,
frequency, during-stay, after-death). Not checked: institution-level rules (peers,
indicators, doctors' volumes, bursts), the statistical detectors (they score against
models and peers, not against a rule a doctor can follow), the data-quality checks of the
upload itself, and the enrolment checks (employers' filings and contributions).
"""

from __future__ import annotations

from dataclasses import dataclass

from hrss_fraud.engine.catalogue import Catalogue, Rule
from hrss_fraud.engine.params import Change, effective
from hrss_fraud.engine.render import render

NOT_CHECKED_FAMILIES: dict[str, tuple[str, str]] = {
    "statistical": ("统计与模型规则不做事前事中审核", "statistical detectors are not pre-checked"),
    "data_quality": ("数据质量规则审的是上传质量", "data-quality checks judge the upload"),
    "enrolment": ("参保缴费稽核不针对单次就诊", "enrolment checks are not about one visit"),
}


def not_checked(rule: Rule) -> tuple[str, str] | None:
    """Why ``rule`` is not run on one visit (Chinese, English), or None when it is."""
    if rule.scope == "institution":
        return ("机构层面规则需全机构数据", "institution-level rules need every claim")
    return NOT_CHECKED_FAMILIES.get(rule.family)


@dataclass(frozen=True)
class Planned:
    """A rule as a check runs it: its SQL filled in (None for a kernel) and its values."""

    rule: Rule
    values: dict[str, float]
    version: int
    sql: str | None


def plan(catalogue: Catalogue, rules: list[Rule], log: list[Change]) -> list[Planned]:
    out = []
    for rule in rules:
        eff = effective(rule, log)
        sql = None
        if rule.sql is not None:
            values = {**rule.args, **eff.values}
            sql = render(catalogue.sql_text(rule), values, where=f"rule {rule.id} ({rule.sql})")
            sql = sql.strip().rstrip(";")
        out.append(Planned(rule, eff.values, eff.version, sql))
    return out
