"""What ``rules list`` shows: each rule with its effective parameters, and the framework
coverage (which of the 79 classes have a rule, which cannot from claims alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hrss_fraud.rules.catalogue import Catalogue, claim_supported, framework_classes
from hrss_fraud.rules.params import changes, effective


def catalogue_rows(
    catalogue: Catalogue, workspace: Path | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    log = changes(catalogue, workspace)
    rows = []
    for r in catalogue.rules.values():
        eff = effective(r, log)
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
