"""Shared fixtures: one tiny generated county, and that county ingested and scored, each
built once per test run however many xdist workers share it (helpers.shared).

Both are read only: a test or a folder's fixture that writes copies what it writes to."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from helpers.case_backends import generate as _case_store_backends
from helpers.case_backends import postgres_server, store_backend  # noqa: F401  (fixtures)
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
def scored_all_but_last_month(
    tiny_county: Path, scored_tiny_county: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A workspace of the tiny county's reference and every month of uploads but the last,
    scored in full with the full run's saved models (trained on the whole lake): the
    previous run that the incremental checks (rules, detectors) build on. Built once per
    run; tests copy it (``helpers.shared.copy_workspace``) before adding the last month."""

    def build(ws: Path) -> None:
        from hrss_fraud.ingest.pipeline import ingest
        from hrss_fraud.lake import Lake
        from hrss_fraud.scoring.score import score

        months = sorted((tiny_county / "uploads").iterdir())
        ingest(Lake(ws / "lake"), [tiny_county / "reference", *months[:-1]])
        shutil.copytree(scored_tiny_county / "models", ws / "models")
        assert score(ws, incremental=True).manifest["mode"] == "full"

    return built_once(tmp_path_factory, "scored_all_but_last_month", build)


@pytest.fixture(scope="session")
def tiny_fee(tiny_county: Path) -> pl.DataFrame:
    from hrss_fraud.synth.output import read_uploads

    return read_uploads(tiny_county, "fee_detail")


@pytest.fixture(scope="session")
def tiny_setl(tiny_county: Path) -> pl.DataFrame:
    from hrss_fraud.synth.output import read_uploads

    return read_uploads(tiny_county, "settlement")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The case-store tests on SQLite and on PostgreSQL (helpers/case_backends.py)."""
    _case_store_backends(metafunc)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    """Groups for `--dist loadgroup`: a test module whose tests share a module- or
    class-scoped fixture runs on one xdist worker, so that fixture is built once per run,
    not once on each worker its tests were spread over (tests already in a group keep
    theirs; a wrapper, so it runs after the folders' hooks).

    Then the groups are made to count: pytest-xdist 3.8 tells the controller a test's
    group by appending ``@group`` to ``item._nodeid``, which pytest 9.2 no longer reads
    (its node ids are structured), so every group was silently ignored (pytest-xdist
    issue 1386). Where the suffix is missing, it is added to the structured id.

    Last, the longest work first (`_longest_first`), so that the two workers finish
    together instead of one starting a minute-long check when the other is done."""
    result = yield  # the folders' own hooks first
    if getattr(config.option, "loadgroup", False):  # set on xdist's workers
        for item in items:
            if item.get_closest_marker("xdist_group") is not None:
                continue
            info = getattr(item, "_fixtureinfo", None)
            defs = info.name2fixturedefs if info is not None else {}
            if any(d and d[-1].scope in ("module", "class") for d in defs.values()):
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
        _suffix_groups(items)
        items[:] = _longest_first(items)
    return result


BROWSER = Path(__file__).parent / "dashboard" / "browser"


def _longest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """The items with each xdist work unit (a group, else one test) kept together, units
    holding a ``slow`` test first, then the browser tests (each several seconds of
    Chromium), then the other groups (tests sharing what a module builds), then the single
    tests, each tier in collection order.

    The controller hands the units out in this order (``--no-loadscope-reorder`` in
    pyproject.toml: its own reorder, by number of tests, would put a minute-long single
    test after every two-test module), each to the first worker free: the longest
    processing time first, which leaves only short tests for the end of the run."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(_group(item) or item.nodeid, []).append(item)

    def tier(unit: list[pytest.Item]) -> int:
        if any(i.get_closest_marker("slow") for i in unit):
            return 0
        if any(BROWSER in i.path.parents for i in unit):
            return 1
        return 2 if _group(unit[0]) else 3

    return [i for unit in sorted(units.values(), key=tier) for i in unit]


def _group(item: pytest.Item) -> str:
    """The item's xdist group as pytest-xdist names it ("" for none)."""
    names = {
        str(m.args[0] if m.args else m.kwargs.get("name", "default"))
        for m in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names))


def _suffix_groups(items: list[pytest.Item]) -> None:
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest: xdist's own suffix works there
        return
    for item in items:
        group, nodeid = _group(item), item.nodeid
        if group and nodeid.rfind("@") <= nodeid.rfind("]") and isinstance(item._id, NodeId):
            item._id = NodeId.parse(f"{nodeid}@{group}")
