"""The engine's findings are what the code of issue 23's start found (ids, lines, amounts),
on the tiny county and on the small preset (30,000 persons, six months, seed 11: scored in
about half a minute), so that making the score faster cannot change what it finds.

The golden digests (``tests/data/findings_golden/{tiny,small}.json.gz``,
:mod:`helpers.findings_digest`) hold, for every rule, its findings' ids and a hash of each
one's amount, entity, period and lines, and a hash of the rule's evidence texts. A rule the
golden file does not hold (added since, e.g. the province's cross-county rules) is listed
but does not fail the test. After a change *meant* to alter findings, regenerate them
deliberately from a freshly scored workspace of each county::

    .venv/bin/python -m tests.helpers.findings_digest WORKSPACE \\
        | gzip -n > tests/data/findings_golden/tiny.json.gz
"""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from helpers.findings_digest import digest_workspace
from helpers.shared import built_once

GOLDEN = Path(__file__).parents[1] / "data" / "findings_golden"


def _golden(name: str) -> dict[str, Any]:
    with gzip.open(GOLDEN / f"{name}.json.gz", "rt", encoding="utf-8") as f:
        return json.load(f)["rules"]


def differences(golden: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs, rule by rule, naming the first differing finding of each."""
    out = []
    for rule, want in golden.items():
        got = now.get(rule)
        if got is None:
            out.append(f"{rule}: no longer run (the golden file holds {len(want['findings'])})")
            continue
        w, g = want["findings"], got["findings"]
        missing, extra = sorted(set(w) - set(g)), sorted(set(g) - set(w))
        changed = sorted(f for f in set(w) & set(g) if w[f] != g[f])
        if missing or extra or changed:
            first = (
                f"first missing {missing[0]}"
                if missing
                else f"first new {extra[0]}"
                if extra
                else f"first changed {changed[0]} (amount, entity, period or lines)"
            )
            out.append(
                f"{rule}: {len(w)} findings expected, {len(g)} found; {len(missing)} missing, "
                f"{len(extra)} new, {len(changed)} changed; {first}"
            )
        elif want["evidence"] != got["evidence"]:
            out.append(f"{rule}: same findings, but their evidence texts differ")
    return out


def _check(name: str, workspace: Path) -> None:
    golden = _golden(name)
    now = digest_workspace(workspace)["rules"]
    added = sorted(set(now) - set(golden))
    if added:
        warnings.warn(f"rules not in the {name} golden file: {', '.join(added)}", stacklevel=2)
    problems = differences(golden, now)
    assert not problems, f"{name}: findings differ from the golden digest:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def scored_small_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small preset (seed 11) generated, ingested and scored in full."""

    def build(root: Path) -> None:
        from hrss_fraud.ingest.pipeline import ingest
        from hrss_fraud.lake import Lake
        from hrss_fraud.scoring.score import score
        from hrss_fraud.synth.config import SynthConfig
        from hrss_fraud.synth.generate import generate

        county = root / "county"
        generate(SynthConfig.preset("small", out=county, seed=11))
        ingest(
            Lake(root / "ws" / "lake"),
            [county / "reference", *sorted((county / "uploads").iterdir())],
        )
        score(root / "ws", progress=False)

    return built_once(tmp_path_factory, "scored_small_county", build) / "ws"


def test_tiny_findings_identical(scored_tiny_county: Path) -> None:
    _check("tiny", scored_tiny_county)


@pytest.mark.slow
def test_small_findings_identical(scored_small_county: Path) -> None:
    _check("small", scored_small_county)


def test_a_changed_finding_is_named() -> None:
    golden = {
        "r1": {"findings": {"aaa": "1", "bbb": "2"}, "evidence": "e"},
        "r2": {"findings": {"ccc": "3"}, "evidence": "e"},
        "r3": {"findings": {}, "evidence": "e"},
    }
    now = {
        "r1": {"findings": {"aaa": "1", "bbb": "9"}, "evidence": "e"},
        "r2": {"findings": {"ccc": "3"}, "evidence": "x"},
        "r4": {"findings": {"ddd": "4"}, "evidence": "e"},
    }
    problems = differences(golden, now)
    assert problems[0].startswith("r1: 2 findings expected, 2 found")
    assert "first changed bbb" in problems[0]
    assert problems[1] == "r2: same findings, but their evidence texts differ"
    assert problems[2].startswith("r3: no longer run")
    assert len(problems) == 3
