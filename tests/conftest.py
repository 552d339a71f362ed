"""Shared fixtures: one tiny generated county, and that county ingested and scored, each
built once per test run however many xdist workers share it (helpers.shared).

Both are read only: a test or a folder's fixture that writes copies what it writes to."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from helpers.shared import built_once
from hypothesis import settings

# Property tests check what is computed, not how fast: on a shared 2-core CI machine a
# case can take several times its usual time, which is no failure.
settings.register_profile("ci", deadline=None)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def tiny_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def build(folder: Path) -> None:
        from hrss_fraud.synth.config import SynthConfig
        from hrss_fraud.synth.generate import generate

        generate(SynthConfig.preset("tiny", out=folder / "county", seed=11))

    return built_once(tmp_path_factory, "tiny_county", build) / "county"


@pytest.fixture(scope="session")
def scored_tiny_county(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding every upload of the tiny county ingested (``lake``) and scored in
    full (``runs``, ``models``): the cases, complaints, inspection, rules and dashboard
    folders' scored county under their own fixture names. Never written to."""

    def build(ws: Path) -> None:
        from hrss_fraud.ingest.pipeline import ingest
        from hrss_fraud.lake import Lake
        from hrss_fraud.scoring.score import score

        lake = Lake(ws / "lake")
        ingest(lake, [tiny_county / "reference", *sorted((tiny_county / "uploads").iterdir())])
        score(ws, progress=False)
        lake.connect().close()  # its superseded-rows index, written now, not by the readers

    return built_once(tmp_path_factory, "scored_tiny_county", build)


@pytest.fixture(scope="session")
def tiny_fee(tiny_county: Path) -> pl.DataFrame:
    from hrss_fraud.synth.output import read_uploads

    return read_uploads(tiny_county, "fee_detail")


@pytest.fixture(scope="session")
def tiny_setl(tiny_county: Path) -> pl.DataFrame:
    from hrss_fraud.synth.output import read_uploads

    return read_uploads(tiny_county, "settlement")


# tryfirst: before xdist's own hook reads the groups; the browser folder's (tryfirst too,
# registered later, so called earlier) has put its tests in theirs by then
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test module whose tests share a module- or class-scoped fixture runs on one xdist
    worker (`--dist loadgroup`), so that fixture is built once per run, not once on each
    worker its tests were spread over. Tests already in a group keep it."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs if info is not None else {}
        if any(d and d[-1].scope in ("module", "class") for d in defs.values()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
