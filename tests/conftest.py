"""Shared fixtures: one tiny generated county per test session."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import settings

from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.generate import generate
from hrss_fraud.synth.output import read_uploads

# Property tests check what is computed, not how fast: on a shared 2-core CI machine a
# case can take several times its usual time, which is no failure.
settings.register_profile("ci", deadline=None)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def tiny_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "county"
    generate(SynthConfig.preset("tiny", out=out, seed=11))
    return out


@pytest.fixture(scope="session")
def tiny_fee(tiny_county: Path) -> pl.DataFrame:
    return read_uploads(tiny_county, "fee_detail")


@pytest.fixture(scope="session")
def tiny_setl(tiny_county: Path) -> pl.DataFrame:
    return read_uploads(tiny_county, "settlement")
