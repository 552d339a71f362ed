"""The tiny county's registers, settlements and employer files, scored with the
``enrolment`` checks only: the scored tiny county of tests/conftest.py ingests no employer
files, so the enrolment page, its views and the correction requests are tested here. Built
once per run under the name the enrolment checks' own tests use (the same build), read only."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.shared import built_once
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score


def enrolment_county(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scored workspace (its lake and one run of the enrolment checks)."""

    def build(ws: Path) -> None:
        rules = sorted(r.id for r in load_catalogue().rules.values() if r.family == "enrolment")
        settlements = sorted((tiny_county / "uploads").glob("*/*_settlement.*"))
        files = [tiny_county / "reference", *settlements, tiny_county / "enrolment"]
        result = ingest(Lake(ws / "lake"), files)
        assert not result.rejected, [f.error for f in result.rejected]
        score(ws, rule_ids=rules)

    return built_once(tmp_path_factory, "enrolment_county", build)
