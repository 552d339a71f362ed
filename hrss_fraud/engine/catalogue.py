"""The rule catalogue: what each rule is, what it may be tuned by, and how it runs.

Rules are policy, declared in TOML under ``analytics/rules/catalogue/`` (one file per
family) with their SQL under ``analytics/rules/sql/``; a new rule built on an existing
template or kernel needs no Python. Loading checks every entry and names the file and rule
of the first problem, so a typo cannot switch a rule off silently.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hrss_fraud.engine.render import RenderError, render
from hrss_fraud.model.schema import TABLES
from hrss_fraud.resources import policy_path

SEVERITIES = {
    "definite": ("明确违规", "definite violation"),
    "high": ("高度可疑", "highly suspicious"),
    "suspicious": ("可疑", "suspicious"),
}
FAMILIES: dict[str, tuple[str, str]] = {
    "restriction": ("限定使用", "restrictions"),
    "price_quantity": ("价格与数量", "price and quantity"),
    "pairs": ("重复与组合收费", "pairs and duplicates"),
    "drugs": ("药品", "drugs"),
    "diagnosis": ("诊断", "diagnoses"),
    "behaviour": ("就医行为", "behaviour over time"),
    "data_quality": ("数据质量", "data quality"),
    "indicator": ("机构指标", "indicators"),
    "statistical": ("统计与模型", "statistics and models"),
    "enrolment": ("参保缴费稽核", "enrolment and contributions"),
}
"""Rule family (the catalogue file a rule is declared in) → (Chinese, English) label; an
unknown family shows its code. Kept here, beside the rules, so the run layer names case
families without reaching up into the dashboard."""
ENTITY_TYPES = ("fee_line", "settlement", "person", "institution", "doctor", "employer")
SCOPES = ("person", "institution")
CADENCES = ("nightly", "monthly")
"""How often an incremental run re-scores a rule: ``monthly`` rules (whole months of every
institution's claims behind each finding: peer profiles, drifts, rings) are re-scored when
a month closes and stand as last computed between those runs; a nightly institution rule's
findings rest on single days (:mod:`hrss_fraud.scoring.score`, :mod:`~.increment`)."""
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_FRAMEWORK = re.compile(r"^(GZ|ZB)\d{14}$")


class CatalogueError(ValueError):
    """A catalogue entry that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    min: float
    max: float
    unit: str
    description_zh: str
    description_en: str

    def check(self, value: float, where: str) -> float:
        if not self.min <= value <= self.max:
            msg = f"{where}: {self.name}={value:g} is outside [{self.min:g}, {self.max:g}]"
            raise CatalogueError(msg)
        return value


KNOWLEDGE_TABLES = ("catalogue", "knowledge_pair", "diagnosis", "procedure")


@dataclass(frozen=True)
class Need:
    """Knowledge a rule cannot work without: a row of ``table`` with a value in one of
    ``columns`` (and matching ``where``, SQL over that table with the rule's arguments
    filled in). A knowledge base without such a row leaves the rule inactive: it would
    find nothing, and saying nothing would pass that off as a clean result
    (:mod:`hrss_fraud.engine.needs`)."""

    table: str
    columns: tuple[str, ...]
    where: str | None = None
    what_zh: str | None = None
    what_en: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    name_zh: str
    name_en: str
    severity: str
    behaviour: str
    legal_basis: str
    entity: str
    framework: tuple[str, ...]
    sql: str | None
    kernel: str | None
    args: dict[str, Any]
    params: tuple[Param, ...]
    lookback_days: int
    scope: str
    family: str
    source: str = ""
    cadence: str = "nightly"
    monitoring: bool = False
    tags: tuple[str, ...] = field(default=())
    needs: tuple[Need, ...] = field(default=())

    @property
    def template(self) -> str:
        return f"kernel:{self.kernel}" if self.kernel else str(self.sql)

    @property
    def severity_zh(self) -> str:
        return SEVERITIES[self.severity][0]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        msg = f"rule {self.id} has no parameter {name!r}; it has: " + ", ".join(
            p.name for p in self.params
        )
        raise CatalogueError(msg)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}


@dataclass(frozen=True)
class Catalogue:
    root: Path
    rules: dict[str, Rule]

    def sql_text(self, rule: Rule) -> str:
        return (self.root / "sql" / str(rule.sql)).read_text(encoding="utf-8")

    def framework_coverage(self) -> dict[str, list[str]]:
        """Official framework code → the rules that implement it."""
        out: dict[str, list[str]] = {}
        for r in self.rules.values():
            for code in r.framework:
                out.setdefault(code, []).append(r.id)
        return out


def rules_dir(workspace: Path | None = None) -> Path:
    return policy_path("analytics", "rules", workspace)


def _text(entry: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value.strip():
        msg = f"{where}: '{key}' must be a non-empty string"
        raise CatalogueError(msg)
    return value


def _param(entry: dict[str, Any], where: str) -> Param:
    name = _text(entry, "name", where)
    where = f"{where} parameter {name}"
    try:
        default, lo, hi = (float(entry[k]) for k in ("default", "min", "max"))
    except (KeyError, TypeError, ValueError):
        msg = f"{where}: 'default', 'min' and 'max' must be numbers"
        raise CatalogueError(msg) from None
    p = Param(
        name=name,
        default=default,
        min=lo,
        max=hi,
        unit=str(entry.get("unit", "")),
        description_zh=_text(entry, "description_zh", where),
        description_en=_text(entry, "description_en", where),
    )
    p.check(default, where)
    return p


def _need(entry: dict[str, Any], where: str, args: dict[str, Any]) -> Need:
    """One ``[[rule.needs]]`` entry: ``column`` (``table.column``, or a list of them in one
    table, any of which will do), optional ``where``, ``what_zh`` and ``what_en``."""
    columns = entry.get("column")
    columns = [columns] if isinstance(columns, str) else columns
    if not columns or not all(isinstance(c, str) and "." in c for c in columns):
        msg = f"{where}: a need's 'column' must be 'table.column' or a list of them"
        raise CatalogueError(msg)
    tables = {c.split(".", 1)[0] for c in columns}
    table = tables.pop()
    if tables or table not in KNOWLEDGE_TABLES:
        msg = f"{where}: a need names one knowledge table of {', '.join(KNOWLEDGE_TABLES)}"
        raise CatalogueError(msg)
    names = tuple(c.split(".", 1)[1] for c in columns)
    unknown = [n for n in names if n not in TABLES[table].names]
    if unknown:
        msg = f"{where}: knowledge table {table} has no column {', '.join(unknown)}"
        raise CatalogueError(msg)
    condition = entry.get("where")
    if condition is not None:
        try:
            condition = render(str(condition), args, where=f"{where} need")
        except RenderError as e:
            raise CatalogueError(str(e)) from None
    return Need(
        table=table,
        columns=names,
        where=condition,
        what_zh=entry.get("what_zh"),
        what_en=entry.get("what_en"),
    )


def _rule(
    entry: dict[str, Any], source: str, sql_root: Path, kernels: Collection[str] | None
) -> Rule:
    rid = entry.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        msg = f"{source}: rule id {rid!r} must be lower-case letters, digits and _"
        raise CatalogueError(msg)
    where = f"{source} rule {rid}"
    severity = _text(entry, "severity", where)
    if severity not in SEVERITIES:
        msg = f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}"
        raise CatalogueError(msg)
    entity = _text(entry, "entity", where)
    if entity not in ENTITY_TYPES:
        msg = f"{where}: entity {entity!r} is not one of {', '.join(ENTITY_TYPES)}"
        raise CatalogueError(msg)
    scope = entry.get("scope", "person")
    if scope not in SCOPES:
        msg = f"{where}: scope {scope!r} is not one of {', '.join(SCOPES)}"
        raise CatalogueError(msg)
    cadence = entry.get("cadence", "nightly")
    if cadence not in CADENCES:
        msg = f"{where}: cadence {cadence!r} is not one of {', '.join(CADENCES)}"
        raise CatalogueError(msg)
    framework = tuple(entry.get("framework", ()))
    bad = [c for c in framework if not _FRAMEWORK.match(str(c))]
    if bad:
        msg = f"{where}: framework codes {bad} are not official codes (GZ/ZB + 14 digits)"
        raise CatalogueError(msg)
    sql, kernel = entry.get("sql"), entry.get("kernel")
    if (sql is None) == (kernel is None):
        msg = f"{where}: give exactly one of 'sql' (a file in sql/) or 'kernel' (a name)"
        raise CatalogueError(msg)
    if sql is not None and not (sql_root / sql).is_file():
        msg = f"{where}: SQL file {sql_root / sql} does not exist"
        raise CatalogueError(msg)
    if kernel is not None and not (isinstance(kernel, str) and kernel.isidentifier()):
        msg = f"{where}: 'kernel' must be a name, not {kernel!r}"
        raise CatalogueError(msg)
    if kernel is not None and kernels is not None and kernel not in kernels:
        msg = f"{where}: unknown kernel {kernel!r}; known: {', '.join(sorted(kernels))}"
        raise CatalogueError(msg)
    params = tuple(_param(p, where) for p in entry.get("param", ()))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        msg = f"{where}: a parameter is declared twice ({names})"
        raise CatalogueError(msg)
    args = dict(entry.get("args", {}))
    needs = tuple(_need(n, where, args) for n in entry.get("needs", ()))
    return Rule(
        id=rid,
        name_zh=_text(entry, "name_zh", where),
        name_en=_text(entry, "name_en", where),
        severity=severity,
        behaviour=_text(entry, "behaviour", where),
        legal_basis=_text(entry, "legal_basis", where),
        entity=entity,
        framework=framework,
        sql=sql,
        kernel=kernel,
        args=args,
        params=params,
        lookback_days=int(entry.get("lookback_days", 0)),
        scope=scope,
        family=_text(entry, "family", where),
        source=source,
        cadence=cadence,
        monitoring=bool(entry.get("monitoring", False)),
        tags=tuple(entry.get("tags", ())),
        needs=needs,
    )


def load_catalogue(
    root: Path | None = None,
    workspace: Path | None = None,
    kernels: Collection[str] | None = None,
) -> Catalogue:
    """Every rule of ``root/catalogue/*.toml`` (default: the analytics policy folder).

    With ``kernels`` (the registered names, as scoring passes them) a rule naming any other
    kernel is refused here, with its file; without, readers of a run's rules (exports,
    screens) load it without the detectors' plug-ins imported."""
    root = Path(root) if root is not None else rules_dir(workspace)
    files = sorted((root / "catalogue").glob("*.toml"))
    if not files:
        msg = f"no rule files in {root / 'catalogue'}"
        raise CatalogueError(msg)
    rules: dict[str, Rule] = {}
    for path in files:
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            msg = f"{path}: not valid UTF-8 TOML: {e}"
            raise CatalogueError(msg) from None
        for entry in doc.get("rule", []):
            rule = _rule(entry, path.name, root / "sql", kernels)
            if rule.id in rules:
                msg = f"{path.name}: rule {rule.id} is already declared in {rules[rule.id].source}"
                raise CatalogueError(msg)
            rules[rule.id] = rule
    return Catalogue(root=root, rules=rules)


def framework_classes(path: Path | None = None) -> list[dict[str, str]]:
    """The 79 classes of the national framework 1.0 with their ``needs``."""
    path = path or rules_dir() / "nhsa_rule_framework_1.0.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def claim_supported(row: dict[str, str]) -> bool:
    return row["needs"].startswith("claims")
