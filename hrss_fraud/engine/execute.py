"""Run the catalogue's rules over a prepared scoring database.

Each rule runs on its own: one that fails is recorded with its error and the others go on.
Every hit is checked against the hit-line shape, filtered by the white lists and turned into
findings with stable ids (:mod:`hrss_fraud.engine.hits`).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.engine import hits as H
from hrss_fraud.engine import kernels
from hrss_fraud.engine.catalogue import Catalogue, Rule
from hrss_fraud.engine.params import Change, effective
from hrss_fraud.engine.render import render
from hrss_fraud.engine.whitelist import suppressed_keys


@dataclass
class RuleOutcome:
    rule_id: str
    version: int
    params: dict[str, float]
    status: str = "ok"
    seconds: float = 0.0
    n_findings: int = 0
    n_lines: int = 0
    n_whitelisted: int = 0
    amount_at_risk: float = 0.0
    error: str | None = None
    trace: str | None = None
    changes: list[dict[str, object]] = field(default_factory=list)
    reason: str | None = None
    """Why an ``inactive`` rule did not run (the knowledge it lacks), in Chinese."""
    reason_en: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class EngineResult:
    """The rules' outcomes, and their findings and lines (each rule's part a frame, or a
    Parquet file it was spilled to) put together and sorted when first asked for."""

    outcomes: list[RuleOutcome]
    finding_parts: list[pl.DataFrame | Path] = field(default_factory=list)
    line_parts: list[pl.DataFrame | Path] = field(default_factory=list)

    @property
    def failed(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @cached_property
    def findings(self) -> pl.DataFrame:
        return _together(self.finding_parts, _finding_schema()).sort("finding_id")

    @cached_property
    def lines(self) -> pl.DataFrame:
        # each rule's lines are in LINE_ORDER and its finding ids its own (the rule id is
        # part of them): ordering the parts by finding id, stably, puts all in LINE_ORDER
        return _together(self.line_parts, _line_schema()).sort("finding_id", maintain_order=True)


def _together(parts: list[pl.DataFrame | Path], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    frames = [pl.read_parquet(p) if isinstance(p, Path) else p for p in parts]
    return pl.concat([pl.DataFrame(schema=schema), *frames], how="vertical_relaxed")


def hit_lines(
    con: duckdb.DuckDBPyConnection, catalogue: Catalogue, rule: Rule, params: dict[str, float]
) -> pl.DataFrame:
    """The rule's raw hit lines, conformed to :data:`hits.HIT_COLUMNS`."""
    values = {**rule.args, **params}
    if rule.kernel:
        df = kernels.get(rule.kernel)(con, params, rule.args)
    else:
        sql = render(catalogue.sql_text(rule), values, where=f"rule {rule.id} ({rule.sql})")
        df = con.sql(sql).pl()
    return H.conform(df, rule.id)


def run_rules(
    con: duckdb.DuckDBPyConnection,
    catalogue: Catalogue,
    rules: list[Rule],
    log: list[Change],
    whitelist: pl.DataFrame,
    run_id: str,
    progress: bool = False,
    spill: Path | None = None,
    hits: Callable[[duckdb.DuckDBPyConnection, Catalogue, Rule, dict[str, float]], pl.DataFrame]
    | None = None,
) -> EngineResult:
    """Run ``rules`` one by one. With ``spill`` (a folder), each rule's findings and lines
    are written there as it finishes instead of held in memory while the others run.
    ``hits`` finds a rule's hit lines (:func:`hit_lines` on ``con`` unless another engine's,
    e.g. Spark's, is given); white lists and findings are then made here alike."""
    hits = hit_lines if hits is None else hits
    result = EngineResult(outcomes=[])
    if spill is not None:
        spill.mkdir(parents=True, exist_ok=True)
    for rule in rules:
        eff = effective(rule, log)
        out = RuleOutcome(
            rule.id, eff.version, eff.values, changes=[asdict(c) for c in eff.changes]
        )
        t0 = time.perf_counter()
        try:
            raw = hits(con, catalogue, rule, eff.values)
            drop = suppressed_keys(con, rule.id, raw, whitelist)
            out.n_whitelisted = len(drop)
            if drop:
                raw = raw.filter(~pl.col("hit_key").is_in(list(drop)))
            f, fl = H.aggregate(
                raw,
                rule_id=rule.id,
                rule_name=rule.name_zh,
                rule_name_en=rule.name_en,
                framework=rule.framework,
                severity=rule.severity,
                severity_zh=rule.severity_zh,
                behaviour=rule.behaviour,
                run_id=run_id,
                version=eff.version,
                params=eff.values,
            )
            out.n_findings, out.n_lines = f.height, fl.height
            out.amount_at_risk = round(float(f["amount_at_risk"].sum()), 2)
            if spill is not None:
                n = len(result.outcomes)
                f.write_parquet(spill / f"{n:03d}-findings.parquet", compression="lz4")
                fl.write_parquet(spill / f"{n:03d}-lines.parquet", compression="lz4")
                f, fl = spill / f"{n:03d}-findings.parquet", spill / f"{n:03d}-lines.parquet"
            result.finding_parts.append(f)
            result.line_parts.append(fl)
        except Exception as e:
            out.status = "failed"
            out.error = f"{type(e).__name__}: {e}".splitlines()[0][:500]
            out.trace = traceback.format_exc()[-4000:]
        out.seconds = round(time.perf_counter() - t0, 3)
        result.outcomes.append(out)
        if progress:
            mark = "✔" if out.status == "ok" else "✘"
            print(
                f"  {mark} {rule.id:<32} {out.n_findings:>8} findings {out.seconds:>7.1f} s",
                flush=True,
            )
    return result


def _finding_schema() -> dict[str, pl.DataType]:
    s = {c: pl.String() for c in H.FINDING_COLUMNS}
    s.update(
        period_start=pl.Date(),
        period_end=pl.Date(),
        amount_at_risk=pl.Float64(),
        score=pl.Float64(),
        n_lines=pl.Int64(),
        n_violating=pl.Int64(),
        rule_version=pl.Int64(),
    )
    return s


def _line_schema() -> dict[str, pl.DataType]:
    s = {c: pl.String() for c in H.LINE_COLUMNS}
    s.update(line_time=pl.Datetime("us"), amount_at_risk=pl.Float64())
    return s
