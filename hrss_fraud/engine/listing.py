"""What ``rules list`` shows: each rule with its effective parameters and whether the
knowledge base in use can drive it, and the framework coverage (which of the 79 classes
have a rule, which cannot from claims alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hrss_fraud.engine.catalogue import Catalogue, claim_supported, framework_classes
from hrss_fraud.engine.needs import inactive_rules
from hrss_fraud.engine.params import changes, effective
from hrss_fraud.knowledge import Knowledge


def catalogue_rows(
    catalogue: Catalogue, workspace: Path | None, kb: Knowledge | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per rule and the framework coverage. With ``kb``, each row says whether the
    rule is ``active`` or ``inactive`` (with the missing knowledge named); without it the
    status is ``unknown``."""
    log = changes(catalogue, workspace)
    inactive = inactive_rules(list(catalogue.rules.values()), kb) if kb is not None else {}
    rows = []
    for r in catalogue.rules.values():
        eff = effective(r, log)
        off = inactive.get(r.id)
        status = "unknown" if kb is None else ("inactive" if off else "active")
        rows.append(
            {
                "id": r.id,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "framework": list(r.framework),
                "template": r.template,
                "severity": r.severity,
                "behaviour": r.behaviour,
                "family": r.family,
                "entity": r.entity,
                "monitoring": r.monitoring,
                "version": eff.version,
                "params": eff.values,
                "source": r.source,
                "status": status,
                "reason_zh": off.reason_zh if off else None,
                "reason_en": off.reason_en if off else None,
                "missing": list(off.missing) if off else [],
                "needs": [
                    "/".join(f"{n.table}.{c}" for c in n.columns)
                    + (f" WHERE {n.where}" if n.where else "")
                    for n in r.needs
                ],
            }
        )
    classes = framework_classes(catalogue.root / "nhsa_rule_framework_1.0.csv")
    covered = catalogue.framework_coverage()
    supported = [c for c in classes if claim_supported(c)]
    coverage = {
        "total": len(classes),
        "claim_supported": len(supported),
        "covered": sum(1 for c in supported if c["official_code"] in covered),
        "missing": [
            f"{c['official_code']} {c['name']}"
            for c in supported
            if c["official_code"] not in covered
        ],
        "not_claims": [c["official_code"] for c in classes if not claim_supported(c)],
        "by_class": {c["official_code"]: covered.get(c["official_code"], []) for c in classes},
    }
    return rows, coverage


def listing_lines(rows: list[dict[str, Any]], coverage: dict[str, Any], lang: str) -> list[str]:
    """The text ``rules list`` prints: a line per rule (an inactive one followed by what it
    lacks), then the coverage."""
    zh = lang == "zh"
    out = []
    for r in rows:
        name = r["name_zh"] if zh else r["name_en"]
        params = ", ".join(f"{k}={v:g}" for k, v in r["params"].items())
        out.append(
            f"{r['id']:<30} v{r['version']:<3} {r['severity']:<10} {r['template']:<34} "
            f"{name}  [{';'.join(r['framework']) or '-'}] {params}"
        )
        if r["status"] == "inactive":
            out.append("    " + (r["reason_zh"] if zh else r["reason_en"]))
    n_off = sum(r["status"] == "inactive" for r in rows)
    if rows and rows[0]["status"] != "unknown":
        out.append(
            f"{len(rows) - n_off} 条规则已启用，{n_off} 条未启用（缺少知识库）"
            if zh
            else f"{len(rows) - n_off} rules active, {n_off} inactive (knowledge missing)"
        )
    out.append(
        f"framework 1.0: {coverage['covered']} of {coverage['claim_supported']} claim-supported "
        f"classes covered ({coverage['total']} classes; {len(coverage['not_claims'])} need "
        f"data a claims extract does not hold)"
    )
    if coverage["missing"]:
        out.append("not covered: " + ", ".join(coverage["missing"]))
    return out
