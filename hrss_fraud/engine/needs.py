"""Which rules the knowledge base in use can drive, and what the others lack.

A rule fed by the knowledge base (a restriction, a cap, a pair, an item grouping) finds
nothing when that knowledge is missing: a centre's own catalogue has the platform's
columns but not our internal item groups, and may carry no sex restriction or no drug
price cap at all. Such a rule is *inactive*: ``rules list`` shows it with the missing piece
named, and ``score`` skips it and records why in the run's manifest, so that no one reads
its silence as a clean result. What a rule needs is declared in the catalogue
(``[[rule.needs]]``, :class:`~hrss_fraud.engine.catalogue.Need`).

A rule that compares counties (the cross-county rules of ``province.toml``) needs a lake
holding claims of several; it declares the least number as ``args.lake_counties`` and is
inactive, with the count named, on one county's lake (:func:`lake_inactive`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from hrss_fraud.engine.catalogue import CatalogueError, Need, Rule
from hrss_fraud.knowledge import Knowledge
from hrss_fraud.model.schema import TABLES


@dataclass(frozen=True)
class Inactive:
    """Why a rule cannot run on this knowledge base, in Chinese and English."""

    rule_id: str
    reason_zh: str
    reason_en: str
    missing: tuple[str, ...]
    """The missing pieces as ``table.column`` (several when any of them would do)."""


def _label(need: Need, absent: tuple[str, ...]) -> tuple[str, str]:
    table = TABLES[need.table]
    cols = "/".join(need.columns)
    what_zh = need.what_zh or "、".join(table[c].zh for c in need.columns)
    what_en = need.what_en or " or ".join(table[c].en for c in need.columns)
    if all(c in absent for c in need.columns):
        state_zh, state_en = "文件中无此列", "no such column in the file"
    elif need.where:
        state_zh = f"没有满足 {need.where} 的条目"
        state_en = f"no entry with {need.where}"
    else:
        state_zh, state_en = "此列均为空", "the column is empty"
    return (
        f"{table.zh} {need.table}.{cols}（{what_zh}）：{state_zh}",
        f"{need.table}.{cols} ({what_en}): {state_en}",
    )


def _met(con: duckdb.DuckDBPyConnection, rule: Rule, need: Need) -> bool:
    present = " OR ".join(f'"{c}" IS NOT NULL' for c in need.columns)
    sql = f"SELECT count(*) FROM kb_{need.table} WHERE ({present})"
    if need.where:
        sql += f" AND ({need.where})"
    try:
        return con.execute(sql).fetchall()[0][0] > 0
    except duckdb.Error as e:
        msg = (
            f"{rule.source} rule {rule.id}: a need's where {need.where!r} does not run: "
            f"{str(e).splitlines()[0]}"
        )
        raise CatalogueError(msg) from None


def inactive_rules(rules: list[Rule], kb: Knowledge) -> dict[str, Inactive]:
    """The rules among ``rules`` whose declared knowledge ``kb`` lacks, by id.

    Raises:
        CatalogueError: a need's condition does not run (a misspelt column), the rule named.
    """
    con = duckdb.connect()
    try:
        for name in ("catalogue", "knowledge_pair", "diagnosis", "procedure"):
            con.register(f"kb_{name}", getattr(kb, name))
        out: dict[str, Inactive] = {}
        for rule in rules:
            unmet = [n for n in rule.needs if not _met(con, rule, n)]
            if not unmet:
                continue
            labels = [_label(n, kb.absent.get(n.table, ())) for n in unmet]
            out[rule.id] = Inactive(
                rule.id,
                "未启用：缺少知识库 " + "；".join(zh for zh, _ in labels),
                "inactive: knowledge missing: " + "; ".join(en for _, en in labels),
                tuple("/".join(f"{n.table}.{c}" for c in n.columns) for n in unmet),
            )
        return out
    finally:
        con.close()


LAKE_COUNTIES = "lake_counties"
"""A rule's argument: the least counties (admdvs's first six digits) the lake must hold."""


def lake_inactive(con: duckdb.DuckDBPyConnection, rules: list[Rule]) -> dict[str, Inactive]:
    """The rules among ``rules`` that need more counties than the lake's institutions are
    in (the ``institution`` view of ``con``), by id: on one county's lake a cross-county
    rule would find nothing by construction, and its silence is no clean result."""
    wanting = [r for r in rules if r.args.get(LAKE_COUNTIES)]
    if not wanting:
        return {}
    (n,) = con.execute(
        "SELECT count(DISTINCT left(admdvs, 6)) FROM institution WHERE admdvs IS NOT NULL"
    ).fetchone()  # type: ignore[misc]
    out: dict[str, Inactive] = {}
    for rule in wanting:
        need = int(rule.args[LAKE_COUNTIES])
        if n < need:
            out[rule.id] = Inactive(
                rule.id,
                f"未启用：须有至少 {need} 个县（区划）的结算数据，本数据湖有 {n} 个",
                f"inactive: needs claims of at least {need} counties, the lake holds {n}",
                ("institution.admdvs",),
            )
    return out
