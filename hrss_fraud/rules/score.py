"""``hrss-fraud score``: prepare the scoring database, run the rules, publish the run."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.lake import Lake
from hrss_fraud.resources import policy_path
from hrss_fraud.rules import runs
from hrss_fraud.rules.catalogue import Catalogue, CatalogueError, load_catalogue
from hrss_fraud.rules.engine import run_rules
from hrss_fraud.rules.params import changes
from hrss_fraud.rules.prepare import build, open_scoring_db
from hrss_fraud.rules.whitelist import load_whitelist


def select_rules(catalogue: Catalogue, rule_ids: list[str] | None) -> list:
    if not rule_ids:
        return list(catalogue.rules.values())
    unknown = [r for r in rule_ids if r not in catalogue.rules]
    if unknown:
        msg = f"unknown rule(s): {', '.join(unknown)}; see `hrss-fraud rules list`"
        raise CatalogueError(msg)
    return [catalogue.rules[r] for r in rule_ids]


def score(
    workspace: Path,
    *,
    rule_ids: list[str] | None = None,
    progress: bool = False,
    memory_limit: str = "6GB",
) -> runs.Run:
    """Score the whole lake with the catalogue and publish the run as the latest."""
    started = datetime.now(UTC)
    lake = Lake(Path(workspace) / "lake")
    batches = lake.batches()
    if not batches:
        msg = f"the lake {lake.root} is empty; ingest uploads first (`hrss-fraud ingest`)"
        raise runs.RunError(msg)
    catalogue = load_catalogue(workspace=workspace)
    knowledge_dir = policy_path("analytics", "knowledge", workspace)
    kb = load_knowledge(knowledge_dir)
    log = changes(catalogue, workspace)
    wl = load_whitelist(catalogue, workspace)
    rules = select_rules(catalogue, rule_ids)
    run_id = runs.new_run_id(started)
    work = runs.runs_dir(workspace) / f".{run_id}.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        con = open_scoring_db(work / "score.duckdb", memory_limit)
        t0 = time.perf_counter()
        counts = build(con, lake, kb)
        prepare_s = time.perf_counter() - t0
        if progress:
            print(
                f"prepared {counts['visit']:,} settlements, {counts['line']:,} lines "
                f"in {prepare_s:.1f} s",
                flush=True,
            )
        result = run_rules(con, catalogue, rules, log, wl, run_id, progress=progress)
        con.close()
        manifest = {
            "run_id": run_id,
            "mode": "full",
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "lake": {"batches": len(batches), "last_seq": max(b.seq for b in batches)},
            "scored": counts,
            "prepare_seconds": round(prepare_s, 2),
            "knowledge": {
                "dir": str(knowledge_dir),
                "fingerprint": runs.fingerprint(list(knowledge_dir.glob("*.csv"))),
            },
            "catalogue": {
                "dir": str(catalogue.root),
                "fingerprint": runs.fingerprint(
                    [*catalogue.root.glob("catalogue/*.toml"), *catalogue.root.glob("sql/*.sql")]
                ),
            },
            "findings": result.findings.height,
            "amount_at_risk": round(float(result.findings["amount_at_risk"].sum()), 2),
            "rules": [o.to_dict() for o in result.outcomes],
            "failed_rules": [o.rule_id for o in result.failed],
        }
        return runs.publish(workspace, run_id, result.findings, result.lines, manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
