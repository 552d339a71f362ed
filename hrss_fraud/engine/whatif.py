"""What-if for one rule: how many findings and how much at risk a new parameter value
would give on the whole lake, beside the latest run's findings of that rule, before anyone
saves the change (``hrss-fraud rules try``, the rule catalogue page).

The rule runs as a score runs it — the batch's :func:`~hrss_fraud.engine.execute.run_rules`
(its hit lines, the white lists, the findings), with the tried values appended to the
parameter log as a saved change would be — over a prepared database kept for the purpose
(:mod:`~hrss_fraud.engine.whatif_db`), so its figures are the ones a score with that value
in the parameter log would publish. Only counts and amounts come out, never a
person: the finding ids are compared inside and dropped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import polars as pl

from hrss_fraud.engine import runs, whatif_db
from hrss_fraud.engine.catalogue import Catalogue, CatalogueError, Rule, load_catalogue
from hrss_fraud.engine.execute import run_rules
from hrss_fraud.engine.kernels import KERNELS
from hrss_fraud.engine.needs import inactive_rules
from hrss_fraud.engine.params import Change, changes, effective
from hrss_fraud.engine.whitelist import load_whitelist
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.lake.manifest import read_manifest
from hrss_fraud.resources import policy_path

MESSAGES: dict[str, tuple[str, str]] = {
    "unknown_rule": (
        "没有规则“{rule}”，可用 `hrss-fraud rules list` 查看",
        "there is no rule {rule!r}; see `hrss-fraud rules list`",
    ),
    "bad_form": (
        "参数须写成“名称=数值”，“{text}”不是",
        "a parameter is given as name=value, not {text!r}",
    ),
    "twice": (
        "规则 {rule} 的参数“{param}”给了两次",
        "rule {rule}: parameter {param!r} given twice",
    ),
    "unknown_param": (
        "规则 {rule} 没有参数“{param}”，它的参数：{known}",
        "rule {rule} has no parameter {param!r}; its parameters: {known}",
    ),
    "not_a_number": (
        "规则 {rule} 的参数“{param}”须为数字，填写的是“{value}”",
        "rule {rule}, parameter {param!r}: {value!r} is not a number",
    ),
    "out_of_range": (
        "规则 {rule} 的参数“{param}”须在 {min:g}～{max:g} 之间，填写的是 {value:g}",
        "rule {rule}, parameter {param!r}: {value:g} is outside [{min:g}, {max:g}]",
    ),
    "inactive": ("规则 {rule} 未启用：{reason_zh}", "rule {rule} is inactive: {reason_en}"),
    "no_model": (
        "规则 {rule} 需要已保存的模型 {model}：请先训练（`hrss-fraud models train`）或完整评分一次",
        "rule {rule} needs the saved model {model}: train it (`hrss-fraud models train`) "
        "or run a full score first",
    ),
    "failed": ("规则 {rule} 试算出错：{error}", "rule {rule} failed: {error}"),
    "setup": ("无法试算：{error}", "cannot try the rule: {error}"),
    "preparing": (
        "正在从数据湖准备试算数据库（县级一年的数据约需一分钟），准备好后留作以后的试算…",
        "preparing the what-if database from the lake (about a minute for a county year); "
        "it is kept for the next tries…",
    ),
}
"""Every message of the what-if, (Chinese, English); :class:`WhatIfError` fills them."""


def message(key: str, lang: str = "zh", **fields: Any) -> str:
    return MESSAGES[key][1 if lang == "en" else 0].format(**fields)


class WhatIfError(ValueError):
    """A what-if that cannot be run: ``key`` names its message (:data:`MESSAGES`) and
    ``fields`` fill it; ``str()`` is the Chinese text with the English after it."""

    def __init__(self, key: str, **fields: Any) -> None:
        self.key, self.fields = key, fields
        super().__init__(f"{self.text('zh')} ({self.text('en')})")

    def text(self, lang: str = "zh") -> str:
        return message(self.key, lang, **self.fields)


class Models(Protocol):
    """Saved models a kernel reads (:mod:`hrss_fraud.detectors.models`, a layer above,
    passed in by the caller)."""

    def needed(self, kernels: Iterable[str | None]) -> set[str]: ...
    def missing(self, workspace: Path, names: Iterable[str]) -> list[str]: ...
    def load_into(
        self, con: duckdb.DuckDBPyConnection, workspace: Path, names: Iterable[str]
    ) -> None: ...


@dataclass(frozen=True)
class Figures:
    findings: int
    amount_at_risk: float
    institutions: int


@dataclass(frozen=True)
class Difference:
    """The tried value's findings against the latest run's, by finding id."""

    new_leads: int
    new_amount: float
    dropped_leads: int
    dropped_amount: float
    amount_change: float


@dataclass(frozen=True)
class Outcome:
    rule_id: str
    params: dict[str, float]
    """Every parameter as tried."""
    in_force: dict[str, float]
    """The values in force now (the parameter log's)."""
    tried: Figures
    whitelisted: int
    run_id: str | None
    run_status: str | None
    """The rule's status in the latest run: ``ok``, ``failed``, ``inactive``; None when
    the run did not score it (or there is no run)."""
    run_params: dict[str, float] | None
    current: Figures | None
    difference: Difference | None
    run_behind_lake: bool
    """The run scored fewer batches than the lake holds now: the difference counts the
    newer claims too."""
    prepared: bool
    prepare_seconds: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rule_of(catalogue: Catalogue, rule_id: str) -> Rule:
    rule = catalogue.rules.get(rule_id)
    if rule is None:
        raise WhatIfError("unknown_rule", rule=rule_id)
    return rule


def parse_pairs(rule: Rule, pairs: Iterable[str]) -> dict[str, str]:
    """``name=value`` texts (the command line's ``--param``) as a mapping, each name once."""
    out: dict[str, str] = {}
    for text in pairs:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise WhatIfError("bad_form", text=text)
        if name.strip() in out:
            raise WhatIfError("twice", rule=rule.id, param=name.strip())
        out[name.strip()] = value.strip()
    return out


def check_values(rule: Rule, values: Mapping[str, object]) -> dict[str, float]:
    """``values`` as numbers within each parameter's bounds, or :class:`WhatIfError`
    naming the rule and the parameter."""
    out = {}
    for name, value in values.items():
        p = next((p for p in rule.params if p.name == name), None)
        if p is None:
            known = ", ".join(p.name for p in rule.params) or "—"
            raise WhatIfError("unknown_param", rule=rule.id, param=name, known=known)
        try:
            number = float(str(value).strip())
        except ValueError:
            raise WhatIfError("not_a_number", rule=rule.id, param=name, value=value) from None
        if math.isnan(number) or not p.min <= number <= p.max:
            raise WhatIfError(
                "out_of_range", rule=rule.id, param=name, value=number, min=p.min, max=p.max
            )
        out[name] = number
    return out


def _figures(f: pl.DataFrame) -> Figures:
    fen = (f["amount_at_risk"].fill_null(0) * 100).round().cast(pl.Int64).sum()
    return Figures(f.height, round(int(fen) / 100, 2), f["fixmedins_code"].drop_nulls().n_unique())


def _yuan(f: pl.DataFrame) -> float:
    return _figures(f).amount_at_risk


def _run_findings(run: runs.Run, rule_id: str) -> pl.DataFrame:
    """The rule's findings in ``run``, leads and data-quality findings alike."""
    files = [run.root / runs.FINDINGS, run.root / runs.QUALITY_FINDINGS]
    parts = [
        pl.scan_parquet(p)
        .filter(pl.col("rule_id") == rule_id)
        .select("finding_id", "fixmedins_code", "amount_at_risk")
        for p in files
        if p.exists()
    ]
    return pl.concat(parts).collect()


def _difference(tried: pl.DataFrame, current: pl.DataFrame) -> Difference:
    new = tried.join(current, on="finding_id", how="anti")
    dropped = current.join(tried, on="finding_id", how="anti")
    change = round(_yuan(tried) - _yuan(current), 2)
    return Difference(new.height, _yuan(new), dropped.height, _yuan(dropped), change)


def _latest(workspace: Path, rule_id: str) -> tuple[runs.Run | None, dict[str, Any] | None]:
    try:
        run = runs.open_run(workspace)
    except runs.RunError:
        return None, None
    outcome = next((o for o in run.manifest.get("rules", []) if o["rule_id"] == rule_id), None)
    return run, outcome


def _check_runnable(workspace: Path, rule: Rule, models: Models | None) -> None:
    kb = load_knowledge(policy_path("analytics", "knowledge", workspace))
    inactive = inactive_rules([rule], kb).get(rule.id)
    if inactive is not None:
        raise WhatIfError(
            "inactive", rule=rule.id, reason_zh=inactive.reason_zh, reason_en=inactive.reason_en
        )
    if models is not None:
        absent = models.missing(workspace, models.needed([rule.kernel]))
        if absent:
            raise WhatIfError("no_model", rule=rule.id, model=", ".join(absent))


def _findings(
    con: duckdb.DuckDBPyConnection,
    catalogue: Catalogue,
    rule: Rule,
    log: list[Change],
    tried: dict[str, float],
    workspace: Path,
) -> tuple[pl.DataFrame, int]:
    """The rule's findings as a score makes them — through the batch's own
    :func:`~hrss_fraud.engine.execute.run_rules`, the tried values appended to the
    parameter log as a saved change would be — and how many hits the white lists took."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    tries = [Change(rule.id, k, v, "what-if", now, "what-if") for k, v in tried.items()]
    wl = load_whitelist(catalogue, workspace)
    result = run_rules(con, catalogue, [rule], [*log, *tries], wl, run_id="whatif")
    outcome = result.outcomes[0]
    if outcome.status != "ok":
        raise WhatIfError("failed", rule=rule.id, error=outcome.error)
    found = result.findings.select("finding_id", "fixmedins_code", "amount_at_risk")
    return found, outcome.n_whitelisted


def try_rule(
    workspace: Path,
    rule_id: str,
    values: Mapping[str, object],
    *,
    models: Models | None = None,
    catalogue: Catalogue | None = None,
    memory_limit: str = "6GB",
    progress: Callable[[str], None] | None = None,
) -> Outcome:
    """Run ``rule_id`` with ``values`` (parameter name → value; the others as in force)
    over the whole lake and set its figures beside the latest run's. The kernels of the
    detectors must be registered (``import hrss_fraud.detectors``) and their ``models``
    given for a rule that reads one; ``catalogue``, when the caller has loaded it, is the
    workspace's as scoring loads it. ``progress`` hears (in Chinese and English) when a
    prepared database has to be made first."""
    t0 = time.perf_counter()
    workspace = Path(workspace)
    try:
        if catalogue is None:
            catalogue = load_catalogue(workspace=workspace, kernels=KERNELS)
        rule = rule_of(catalogue, rule_id)
        tried = check_values(rule, values)
        log = changes(catalogue, workspace)
        eff = effective(rule, log)
        _check_runnable(workspace, rule, models)
        t1 = time.perf_counter()
        path, prepared = whatif_db.ensure(
            workspace,
            memory_limit=memory_limit,
            on_prepare=None if progress is None else lambda: progress(_both("preparing")),
        )
        prepare_s = time.perf_counter() - t1
    except (CatalogueError, whatif_db.PrepareError) as e:
        raise WhatIfError("setup", error=str(e)) from None
    params = {**eff.values, **tried}
    con = whatif_db.open_prepared(path, memory_limit)
    try:
        if models is not None:
            models.load_into(con, workspace, models.needed([rule.kernel]))
        found, whitelisted = _findings(con, catalogue, rule, log, tried, workspace)
    except WhatIfError:
        raise
    except Exception as e:  # a rule that fails says so, as a score records it
        raise WhatIfError("failed", rule=rule.id, error=f"{type(e).__name__}: {e}"[:500]) from e
    finally:
        con.close()
    run, outcome = _latest(workspace, rule.id)
    current = _run_findings(run, rule.id) if run is not None and outcome is not None else None
    batches = read_manifest(workspace / "lake")
    behind = run is not None and run.manifest["lake"]["last_seq"] < max(b.seq for b in batches)
    return Outcome(
        rule_id=rule.id,
        params=params,
        in_force=dict(eff.values),
        tried=_figures(found),
        whitelisted=whitelisted,
        run_id=run.run_id if run is not None else None,
        run_status=outcome.get("status") if outcome is not None else None,
        run_params=outcome.get("params") if outcome is not None else None,
        current=_figures(current) if current is not None else None,
        difference=_difference(found, current) if current is not None else None,
        run_behind_lake=behind,
        prepared=prepared,
        prepare_seconds=round(prepare_s, 2) if prepared else 0.0,
        seconds=round(time.perf_counter() - t0, 2),
    )


def _both(key: str, **fields: Any) -> str:
    return f"{message(key, 'zh', **fields)} ({message(key, 'en', **fields)})"
