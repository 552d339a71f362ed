"""A scored workspace's findings reduced to a digest per rule, to prove an engine change
leaves them as they were (:mod:`tests.rules.test_findings_identical`).

For every rule: its finding ids (the first 12 hex digits, enough to tell tens of thousands
apart and to find one in a run), and for each a short hash of its id, its amount at risk
in fen (cents), entity, period and lines (role, keys, time, amount in fen, in a total
order); apart from those one hash of the rule's evidence texts, so a changed wording is
told apart from changed findings. Written gzipped (a small county holds ~45 k findings).
Regenerate a golden file deliberately, after a change that is meant to alter findings::

    .venv/bin/python -m tests.helpers.findings_digest WORKSPACE | gzip -n > X.json.gz
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.engine.runs import open_run

_LINE_KEYS = ("role", "fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn", "psn_no")


def _fen(col: str) -> pl.Expr:
    return (pl.col(col).fill_null(0) * 100).round(0).cast(pl.Int64)


def _text(*exprs: pl.Expr) -> pl.Expr:
    return pl.concat_str([e.cast(pl.String).fill_null("∅") for e in exprs], separator="|")


ID_DIGITS = 12


def _sha(text: str, digits: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:digits]


def digest_frames(findings: pl.DataFrame, lines: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """``{rule_id: {"findings": {finding_id[:12]: hash}, "evidence": hash}}``."""
    per_line = (
        lines.sort("finding_id", *_LINE_KEYS, "line_time", "amount_at_risk", nulls_last=True)
        .select(
            "finding_id",
            t=_text(
                *(pl.col(c) for c in _LINE_KEYS),
                pl.col("line_time").dt.strftime("%Y-%m-%dT%H:%M:%S%.f"),
                _fen("amount_at_risk"),
            ),
        )
        .group_by("finding_id", maintain_order=True)
        .agg(pl.col("t").str.join(";"))
    )
    rows = (
        findings.select(
            "rule_id",
            "finding_id",
            head=_text(
                pl.col("finding_id"),
                _fen("amount_at_risk"),
                pl.col("entity_type"),
                pl.col("entity_id"),
                pl.col("period_start"),
                pl.col("period_end"),
                pl.col("n_lines"),
                pl.col("n_violating"),
            ),
            ev=_text(pl.col("evidence"), pl.col("evidence_en")),
        )
        .join(per_line, on="finding_id", how="left")
        .sort("rule_id", "finding_id")
    )
    found: dict[str, dict[str, str]] = {}
    evidence: dict[str, list[str]] = {}
    for rule_id, head, ev, fid, lines_text in rows.select(
        "rule_id", "head", "ev", "finding_id", "t"
    ).iter_rows():
        found.setdefault(rule_id, {})[fid[:ID_DIGITS]] = _sha(f"{head}#{lines_text or ''}")
        evidence.setdefault(rule_id, []).append(f"{fid}|{ev}")
    return {r: {"findings": found[r], "evidence": _sha("\n".join(evidence[r]), 16)} for r in found}


def digest_workspace(workspace: Path, rules: list[str] | None = None) -> dict[str, Any]:
    """The digest of ``workspace``'s latest run: leads and data-quality findings alike, and
    every rule the run ran (those with no finding as an empty entry)."""
    run = open_run(workspace)
    findings = pl.concat([run.findings(), run.quality_findings()], how="diagonal_relaxed")
    lines = pl.concat([run.lines(), run.quality_lines()], how="diagonal_relaxed")
    digest = digest_frames(findings, lines)
    for o in run.manifest.get("rules", []):
        if o.get("status") == "ok":
            digest.setdefault(o["rule_id"], {"findings": {}, "evidence": _sha("", 16)})
    if rules is not None:
        digest = {r: d for r, d in digest.items() if r in rules}
    return {"rules": dict(sorted(digest.items()))}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.helpers.findings_digest WORKSPACE | gzip -n > X.json.gz")
        return 2
    json.dump(digest_workspace(Path(argv[0])), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
