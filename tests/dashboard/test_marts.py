"""Dashboard marts: the data layer answers the same with them as without, they appear all
at once or not at all, and missing or outdated ones are rebuilt."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from hrss_fraud.cli import main as cli
from hrss_fraud.engine.runs import complete_runs, latest_run, new_run_id, publish, runs_dir
from hrss_fraud.outputs import marts, overview
from hrss_fraud.outputs.case_queue import CaseFilter, case_frame, case_index
from hrss_fraud.outputs.case_queue import page as cq_page
from hrss_fraud.outputs.doctor_view import (
    doctor_days,
    doctor_finding_ids,
    doctor_lead_ids,
    doctor_profile,
)
from hrss_fraud.outputs.institution_view import institution_profile, top_items, unit_indicators
from hrss_fraud.outputs.lead_detail import lead_detail, ranking
from hrss_fraud.outputs.leads import LeadFilter, finding, lead_frame, page, totals
from hrss_fraud.outputs.person_view import timeline
from hrss_fraud.outputs.profile_data import peer_groups
from hrss_fraud.outputs.quality_view import by_rule, institutions, settlements_touched
from hrss_fraud.outputs.runs_view import (
    MARTS_MANIFEST,
    RunView,
    marts_dir,
    open_view,
    read_marts_manifest,
)


def _copy(county_ws: Path, dest: Path) -> Path:
    for part in ("lake", "runs"):
        shutil.copytree(county_ws / part, dest / part)
    return dest


@pytest.fixture(scope="module")
def two_runs(county_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scored tiny county plus a newer run that drops a tenth of its findings and adds
    none, so "what changed" has work; the newer run's marts built. The newer run is in the
    format of runs scored before issue 16 (leads and data-quality findings in one file),
    which the dashboard splits and groups."""
    ws = _copy(county_ws, tmp_path_factory.mktemp("marts"))
    first = open_view(ws)
    leads = first.run.findings().drop("case_id", "case_rank")
    findings = pl.concat([leads, first.run.quality_findings().select(leads.columns)])
    lines = pl.concat([first.run.lines(), first.run.quality_lines()])
    kept = findings.filter(pl.int_range(pl.len()) % 10 != 3)
    run_id = new_run_id()
    manifest = {**first.manifest, "run_id": run_id, "previous_run": first.run_id}
    publish(ws, run_id, kept, lines.join(kept.select("finding_id"), on="finding_id"), manifest)
    marts.build_marts(ws)
    return ws


@pytest.fixture(scope="module")
def pair(two_runs: Path) -> tuple[RunView, RunView]:
    """The latest run without and with its marts."""
    plain = open_view(two_runs)
    plain.use_marts = False
    with_marts = open_view(two_runs)
    assert with_marts.mart("lead_index") is not None
    return plain, with_marts


def _same(a: Any, b: Any) -> None:
    if isinstance(a, pl.DataFrame):
        assert_frame_equal(a, b)
    else:
        assert a == b


QUEUES: list[tuple[LeadFilter | None, list[dict[str, str]] | None, str]] = [
    (None, None, "zh"),
    (None, [{"colId": "rule_name", "sort": "asc"}], "en"),
    (None, [{"colId": "evidence", "sort": "desc"}], "en"),
    (LeadFilter(severities=("high", "definite")), [{"colId": "period_end", "sort": "asc"}], "zh"),
    (LeadFilter(text="天"), [{"colId": "zone_name", "sort": "desc"}], "zh"),
    (LeadFilter(text="Days"), None, "en"),
    (LeadFilter(amount_min=100.0, date_from=date(2025, 3, 1)), None, "zh"),
]


@pytest.mark.parametrize(("flt", "sort", "lang"), QUEUES)
def test_the_queue_is_the_same_with_marts(
    pair: tuple[RunView, RunView], flt: LeadFilter | None, sort: Any, lang: str
) -> None:
    plain, fast = pair
    for start in (0, 100):
        _same(
            page(plain, flt, sort, start, start + 100, lang=lang),
            page(fast, flt, sort, start, start + 100, lang=lang),
        )
    _same(lead_frame(plain, flt, sort, lang=lang), lead_frame(fast, flt, sort, lang=lang))
    assert totals(plain, flt) == totals(fast, flt)


def test_the_overview_is_the_same_with_marts(pair: tuple[RunView, RunView]) -> None:
    plain, fast = pair
    for lang in ("zh", "en"):
        _same(overview.fund_spending(plain, lang=lang), overview.fund_spending(fast, lang=lang))
        for by in overview.BREAKDOWNS:
            _same(overview.leads_by(plain, by, lang=lang), overview.leads_by(fast, by, lang=lang))
    assert overview.lead_totals(plain) == overview.lead_totals(fast)
    previous = open_view(plain.workspace, complete_runs(plain.workspace)[0])
    a, b = overview.changes(plain, previous), overview.changes(fast, previous)
    assert b.gone.height > 0 and b.previous_run_id == previous.run_id
    for field in ("run_id", "previous_run_id", "n_kept", "amount_latest", "amount_previous"):
        assert getattr(a, field) == getattr(b, field)
    for field in ("new", "gone", "by_rule"):
        _same(getattr(a, field), getattr(b, field))
    # compared with no previous run the marts do not apply: computed on the fly
    _same(overview.changes(plain, None).new, overview.changes(fast, None).new)


CASE_QUEUES: list[tuple[CaseFilter | None, list[dict[str, str]] | None, str]] = [
    (None, None, "zh"),
    (None, [{"colId": "amount_at_risk", "sort": "asc"}], "en"),
    (CaseFilter(kinds=("institution_month",)), [{"colId": "months", "sort": "desc"}], "zh"),
    (CaseFilter(amount_min=100.0, severities=("definite", "high")), None, "en"),
]


@pytest.mark.parametrize(("flt", "sort", "lang"), CASE_QUEUES)
def test_the_case_queue_is_the_same_with_marts(
    pair: tuple[RunView, RunView], flt: CaseFilter | None, sort: Any, lang: str
) -> None:
    plain, fast = pair
    assert case_index(fast).rows_file is not None and case_index(plain).rows_file is None
    for start in (0, 100):
        a = cq_page(plain, flt, sort, start, start + 100, lang=lang)
        assert a[1] > start or start > 0
        _same(a, cq_page(fast, flt, sort, start, start + 100, lang=lang))
    _same(case_frame(plain, flt, sort, lang=lang), case_frame(fast, flt, sort, lang=lang))


def test_the_quality_report_is_the_same_with_marts(pair: tuple[RunView, RunView]) -> None:
    plain, fast = pair
    assert fast.mart("quality_summary_en") is not None
    for lang in ("zh", "en"):
        _same(by_rule(plain, lang=lang), by_rule(fast, lang=lang))
        _same(institutions(plain, lang=lang), institutions(fast, lang=lang))
    assert institutions(fast)["n_findings"].sum() > 0
    _same(settlements_touched(plain), settlements_touched(fast))


def test_rankings_and_profiles_are_the_same_with_marts(pair: tuple[RunView, RunView]) -> None:
    plain, fast = pair
    for level in marts.RANKING_LEVELS:
        _same(ranking(plain, level, "en"), ranking(fast, level, "en"))
    for compute in (peer_groups, unit_indicators, doctor_days):
        _same(compute(plain), compute(fast))


def test_lead_details_are_the_same_with_marts(pair: tuple[RunView, RunView]) -> None:
    plain, fast = pair
    ids = pl.read_parquet(plain.findings_path, columns=["finding_id", "entity_type", "psn_no"])
    # a lead of every kind of entity, and some with and without a person
    picked = ids.group_by("entity_type").head(3)["finding_id"].to_list()
    picked += ids.filter(pl.col("psn_no").is_null()).head(2)["finding_id"].to_list()
    for fid in picked:
        assert finding(plain, fid) == finding(fast, fid)
        for lang in ("zh", "en"):
            a, b = lead_detail(plain, fid, lang=lang), lead_detail(fast, fid, lang=lang)
            for field in a.__dataclass_fields__:
                _same(getattr(a, field), getattr(b, field))
            assert b.lines.height > 0


def test_the_marts_sit_beside_the_run_and_are_no_run(two_runs: Path) -> None:
    latest = latest_run(two_runs)
    assert latest is not None
    folder = marts_dir(two_runs, latest)
    assert folder.parent == runs_dir(two_runs) and (folder / MARTS_MANIFEST).is_file()
    assert latest in complete_runs(two_runs) and folder.name not in complete_runs(two_runs)
    # the lead lines one file per rule (issue 23), each sorted by lead, so one lead's
    # lines are a row-group-pruned read; every lead with lines is in its rule's file
    files = sorted((folder / "lead_lines").glob("*.parquet"))
    findings = open_view(two_runs).run.findings()
    assert {p.stem for p in files} == set(findings.filter(pl.col("n_lines") > 0)["rule_id"])
    for p in files:
        ids = pl.read_parquet(p, columns=["finding_id"])["finding_id"]
        assert ids.is_sorted()
        rules = findings.filter(pl.col("finding_id").is_in(ids.implode()))["rule_id"]
        assert rules.unique().to_list() == [p.stem]


def test_a_crash_mid_build_leaves_no_marts(
    two_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _copy(two_runs, tmp_path / "ws")
    run_id = latest_run(ws)
    assert run_id is not None
    shutil.rmtree(marts_dir(ws, run_id))

    def crash(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(marts, "_profile_marts", crash)  # the last step
    with pytest.raises(OSError, match="disk full"):
        marts.build_marts(ws)
    assert not marts_dir(ws, run_id).exists()
    assert read_marts_manifest(ws, run_id) is None
    assert [p.name for p in runs_dir(ws).iterdir() if "marts" in p.name] == []
    view = open_view(ws)
    assert view.mart("lead_index") is None
    assert page(view, None, None, 0, 5)[1] > 0  # computed on the fly

    # a build killed outright leaves its dot-folder: no reader sees it, the next removes it
    monkeypatch.undo()
    left = runs_dir(ws) / f".{run_id}.marts.999999999.1.tmp"
    left.mkdir()
    (left / "lead_index.parquet").write_bytes(b"half")
    assert open_view(ws).mart("lead_index") is None
    marts.build_marts(ws)
    assert not left.exists() and read_marts_manifest(ws, run_id) is not None


def test_missing_or_outdated_marts_are_rebuilt(two_runs: Path, tmp_path: Path) -> None:
    ws = _copy(two_runs, tmp_path / "ws")
    run_id = latest_run(ws)
    assert run_id is not None
    folder = marts_dir(ws, run_id)
    shutil.rmtree(folder)
    assert marts.ensure_marts(ws) == folder and read_marts_manifest(ws, run_id) is not None

    manifest = json.loads((folder / MARTS_MANIFEST).read_text(encoding="utf-8"))
    (folder / MARTS_MANIFEST).write_text(json.dumps({**manifest, "version": 0}))
    view = open_view(ws)
    assert view.mart("lead_index") is None  # another version: ignored
    marts.build_in_background(ws).join()
    assert read_marts_manifest(ws, run_id) is not None
    assert view.mart("lead_index") is not None  # picked up by an open view

    built = (folder / MARTS_MANIFEST).stat().st_mtime_ns
    marts.build_marts(ws)  # complete: kept as they are
    assert (folder / MARTS_MANIFEST).stat().st_mtime_ns == built


def test_the_cli_builds_the_marts(two_runs: Path, tmp_path: Path) -> None:
    ws = _copy(two_runs, tmp_path / "ws")
    first = complete_runs(ws)[0]
    assert read_marts_manifest(ws, first) is None
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "marts", "build", "--run", first])
    assert result.exit_code == 0, result.output
    assert read_marts_manifest(ws, first) is not None
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "marts", "build", "--run", "nope"])
    assert result.exit_code == 1 and "nope" in result.output
    assert os.listdir(runs_dir(ws)).count("nope.marts") == 0


PROFILE_MARTS = (
    "institution_headers",
    "institution_trend",
    "institution_items",
    "institution_doctors",
    "institution_quality",
    "doctor_mix",
    "doctor_leads",
    "person_timeline",
)


def _profiled(view: RunView) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Institutions (the one with most leads, one with none), doctors (with and without
    leads) and persons (with leads, and one without) to open on both views."""
    findings = pl.read_parquet(view.findings_path, columns=["fixmedins_code", "psn_no"])
    counts = findings["fixmedins_code"].value_counts().sort("count", descending=True)
    codes = [counts["fixmedins_code"][0], counts["fixmedins_code"][-1]]
    codes += (
        view.institutions.join(counts, on="fixmedins_code", how="anti")["fixmedins_code"]
        .head(1)
        .to_list()
    )
    days = doctor_days(view).select("fixmedins_code", "dr_codg").unique().sort("dr_codg")
    doctors = list(days.filter(pl.col("fixmedins_code") == codes[0]).head(3).iter_rows())
    doctors += list(days.filter(pl.col("fixmedins_code") != codes[0]).head(2).iter_rows())
    persons = findings["psn_no"].drop_nulls().unique().sort().head(3).to_list()
    persons.append("no-such-person")
    return codes, doctors, persons


def test_profile_pages_are_the_same_with_marts(pair: tuple[RunView, RunView]) -> None:
    plain, fast = pair
    for name in PROFILE_MARTS:
        assert fast.mart(name) is not None and plain.mart(name) is None
    codes, doctors, persons = _profiled(plain)
    for code in codes:
        for lang in ("zh", "en"):
            a = institution_profile(plain, code, lang=lang)
            b = institution_profile(fast, code, lang=lang)
            for field in a.__dataclass_fields__:
                _same(getattr(a, field), getattr(b, field))
        for limit in (3, 12):  # fewer than the marts keep; more: computed on the fly
            _same(top_items(plain, code, limit=limit), top_items(fast, code, limit=limit))
    found = 0
    for code, dr in doctors:
        assert doctor_finding_ids(plain, code, dr) == doctor_lead_ids(fast, code, dr)
        found += len(doctor_lead_ids(fast, code, dr))
        a, b = doctor_profile(plain, code, dr), doctor_profile(fast, code, dr)
        for field in a.__dataclass_fields__:
            _same(getattr(a, field), getattr(b, field))
    assert found > 0
    for psn_no in persons:
        for lang in ("zh", "en"):
            _same(timeline(plain, psn_no, lang=lang), timeline(fast, psn_no, lang=lang))
    assert timeline(fast, persons[0])["n_findings"].sum() > 0
