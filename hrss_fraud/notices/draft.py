"""A notice's items drafted from confirmed leads, named as the rule catalogue names them,
and the institution's agreement number from the lake's register.

A lead names its rule by id (``item_hosp_level``); a notice is read by the institution,
so each item carries the rule's Chinese name, its national framework code(s) and the
legal basis the catalogue gives it (DOMAIN.md §3, §5). :func:`named` applies the same to
a notice whatever way it was drafted (the command line types the rules' ids), so no
issued document names a rule by its id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from hrss_fraud.engine.catalogue import Catalogue, CatalogueError, Rule, load_catalogue
from hrss_fraud.lake import Lake
from hrss_fraud.model.numbers import yuan
from hrss_fraud.notices.content import DEFAULT_BASIS, Handling, Item, NoticeContent

RAW_ID = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")
"""A snake_case identifier: how a rule id (or a field name) looks; never in a document."""
UNKNOWN_RULE = "经审核确认的违约行为"
"""An item's name when its rule is not in the catalogue any more."""
FRAMEWORK_SHOWN = 2
"""Framework codes a document names per item; more are summed up as 等N项."""
EVIDENCE_SHOWN = 3
"""Leads' evidence texts quoted in an item's facts."""


@dataclass(frozen=True)
class Lead:
    """A confirmed lead as a notice uses it: its rule, amount and (if the run still holds
    it) its evidence text."""

    finding_id: str
    rule_id: str | None
    amount: float
    evidence: str = ""


def catalogue_of(workspace: Path | None) -> Catalogue | None:
    """The rule catalogue in force in ``workspace`` (None when it cannot be read: the
    items then keep the names they were drafted with)."""
    try:
        return load_catalogue(workspace=workspace)
    except (CatalogueError, OSError):
        return None


def framework_text(codes: Iterable[str]) -> str:
    """Framework codes as a document names them: the first two, then 等N项."""
    codes = [c for c in codes if c]
    shown = "、".join(codes[:FRAMEWORK_SHOWN])
    return f"{shown}等{len(codes)}项" if len(codes) > FRAMEWORK_SHOWN else shown


def _trim(text: str) -> str:
    return text.strip().rstrip("。；;，,、：: ")


def rule_items(leads: Iterable[Lead], catalogue: Catalogue | None) -> tuple[Item, ...]:
    """One item per rule of ``leads``, largest amount first: the rule's Chinese name,
    framework code(s) and legal basis, facts saying how many leads were confirmed (with up
    to three of their evidence texts), their total amount, and recovery of that amount as
    the default handling (the draft is edited before it is issued)."""
    groups: dict[str, list[Lead]] = {}
    for lead in leads:
        groups.setdefault(lead.rule_id or "", []).append(lead)
    rules = catalogue.rules if catalogue is not None else {}
    items = []
    for rule_id, mine in groups.items():
        total = round(sum(lead.amount or 0.0 for lead in mine), 2)
        rule: Rule | None = rules.get(rule_id)
        evidence = [_trim(lead.evidence) for lead in mine if lead.evidence.strip()]
        facts = f"经数据筛查、审核确认，存在此类问题{len(mine)}条，涉及金额{yuan(total)}元"
        if evidence:
            facts += "。例如：" + "；".join(evidence[:EVIDENCE_SHOWN])
            if len(evidence) > EVIDENCE_SHOWN:
                facts += f"等{len(evidence)}条"
        items.append(
            Item(
                rule=rule.name_zh if rule is not None else UNKNOWN_RULE,
                facts=facts + "。",
                legal_basis=rule.legal_basis if rule is not None else DEFAULT_BASIS,
                amount_involved=total,
                handling=(Handling("recover", total),) if total > 0 else (),
                framework=framework_text(rule.framework) if rule is not None else "",
            )
        )
    return tuple(sorted(items, key=lambda i: -i.amount_involved))


def named(content: NoticeContent, catalogue: Catalogue | None) -> NoticeContent:
    """``content`` with every rule id in an item's name replaced by the rule's Chinese
    name (and its framework code and legal basis filled where the item has none or the
    default), so a notice drafted with rule ids (the command line's) reads as one."""
    if catalogue is None:
        return content
    rules = catalogue.rules
    items = []
    for item in content.items:
        ids = [m.group(0) for m in RAW_ID.finditer(item.rule) if m.group(0) in rules]
        if not ids:
            items.append(item)
            continue
        # an id the catalogue no longer knows (a retired rule) is dropped, not printed
        name = RAW_ID.sub(
            lambda m: rules[m.group(0)].name_zh if m.group(0) in rules else "", item.rule
        )
        name = re.sub(r"[、，,；;\s]{2,}", "、", name).strip("、，,；; ") or UNKNOWN_RULE
        codes = [c for i in ids for c in rules[i].framework]
        basis = item.legal_basis
        if not basis.strip() or basis.strip() == DEFAULT_BASIS:
            basis = "；".join(dict.fromkeys(rules[i].legal_basis for i in ids))
        items.append(
            replace(
                item,
                rule=name,
                legal_basis=basis,
                framework=item.framework or framework_text(dict.fromkeys(codes)),
            )
        )
    return replace(content, items=tuple(items))


def register_entry(lake: Lake, code: str, on: date | None = None) -> tuple[str, str]:
    """The institution's name and service agreement number (协议编号) in the lake's
    register: the agreement in force ``on`` (default: the latest), ``""`` for what the
    register does not hold."""
    try:
        con = lake.connect()
    except (duckdb.Error, OSError):  # no lake yet: the form is typed by hand
        return "", ""
    try:
        columns = {r[0] for r in con.execute("DESCRIBE institution").fetchall()}
        if "fixmedins_code" not in columns:
            return "", ""
        name = "fixmedins_name" if "fixmedins_name" in columns else "NULL"
        agreement = "agrmt_no" if "agrmt_no" in columns else "NULL"
        begin = "agrmt_begn_date" if "agrmt_begn_date" in columns else "NULL"
        end = "agrmt_end_date" if "agrmt_end_date" in columns else "NULL"
        day = (on or date.today()).isoformat()
        row = con.execute(
            f"""SELECT {name}, {agreement} FROM institution WHERE fixmedins_code = ?
                ORDER BY {agreement} IS NULL,
                         (coalesce(CAST({begin} AS DATE) <= CAST(? AS DATE), true)
                          AND coalesce(CAST({end} AS DATE) >= CAST(? AS DATE), true)) DESC,
                         {end} DESC NULLS LAST
                LIMIT 1""",
            (code.strip(), day, day),
        ).fetchone()
    except duckdb.Error:  # a lake without an institution register: nothing to fill
        return "", ""
    finally:
        con.close()
    if row is None:
        return "", ""
    return str(row[0] or ""), str(row[1] or "")
