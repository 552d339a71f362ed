"""Monthly rules in incremental runs: they stand as last computed while the new claims stay
in their month, and run again (over every batch since they last ran) when a month closes
or a late upload lands in a closed month."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from bench.score_prep import export_last_day
from hrss_fraud.engine import line_parts
from hrss_fraud.engine.catalogue import CatalogueError, load_catalogue
from hrss_fraud.engine.runs import open_run
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.outputs.marts import build_marts
from hrss_fraud.outputs.runs_view import MARTS_MANIFEST, marts_dir
from hrss_fraud.scoring.increment import institution_start
from hrss_fraud.scoring.score import _monthly_due, score

MONTHLY = sorted(r.id for r in load_catalogue().rules.values() if r.cadence == "monthly")


def _by(df: pl.DataFrame, rule_ids: list[str], keep: bool) -> pl.DataFrame:
    # a case's rank depends on every lead of the run, monthly ones included: compared apart
    return (
        df.filter(pl.col("rule_id").is_in(rule_ids) == keep)
        .drop("run_id", "case_rank", strict=False)
        .sort("finding_id")
    )


def test_only_day_grained_institution_rules_are_nightly() -> None:
    """An institution-level rule comparing months or quarters of every institution is
    monthly; what stays nightly rests on single days (a doctor's day, a pharmacy's burst),
    so a nightly run reads only the new days' claims beside the new claims' persons."""
    rules = load_catalogue().rules.values()
    nightly = sorted(r.id for r in rules if r.scope == "institution" and r.cadence == "nightly")
    assert nightly == ["card_swiping", "doctor_volume"]
    assert {"covisit_ring", "high_cost_outpatient", "pp_cost_per_visit"} <= set(MONTHLY)
    assert all(r.scope == "institution" for r in rules if r.id in MONTHLY)


def test_a_nightly_reach_starts_on_the_day_and_a_monthly_one_on_the_month() -> None:
    rules = load_catalogue().rules
    day = date(2025, 6, 17)
    assert institution_start(rules["doctor_volume"], day) == date(2025, 6, 16)
    assert institution_start(rules["pp_services_per_visit"], day) == date(2025, 6, 1)
    assert institution_start(rules["pp_cost_per_visit"], day) == date(2025, 3, 1)


@pytest.mark.parametrize(
    ("latest", "new_from", "due"),
    [
        ("2025-06", date(2025, 6, 30), None),
        ("2025-07", date(2025, 7, 1), "month 2025-06 closed since they ran"),
        ("2025-06", date(2025, 5, 31), "new claims dated 2025-05-31 fall in a closed month"),
        ("2025-06", date(2025, 6, 1), None),
    ],
)
def test_when_the_monthly_rules_are_due(latest: str, new_from: date, due: str | None) -> None:
    assert _monthly_due({"monthly_as_of": "2025-06"}, new_from, latest) == due


def test_a_cadence_must_be_known(tmp_path: Path) -> None:
    cat = tmp_path / "rules" / "catalogue"
    cat.mkdir(parents=True)
    (tmp_path / "rules" / "sql").mkdir()
    (tmp_path / "rules" / "sql" / "x.sql").write_text("SELECT 1", encoding="utf-8")
    (cat / "x.toml").write_text(
        '[[rule]]\nid = "x"\nname_zh = "甲"\nname_en = "X"\nseverity = "suspicious"\n'
        'behaviour = "测试"\nfamily = "test"\nlegal_basis = "无"\nentity = "fee_line"\n'
        'sql = "x.sql"\ncadence = "weekly"\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match=r"x\.toml rule x: cadence 'weekly' is not one of"):
        load_catalogue(tmp_path / "rules")


@pytest.mark.slow  # scores the whole catalogue twice
def test_one_day_within_the_month_leaves_the_monthly_rules_standing(
    tiny_county: Path, full_ws: Path, tmp_path: Path
) -> None:
    uploads, day = tmp_path / "uploads", tmp_path / "day"
    export_last_day(full_ws, uploads, day)
    ws = tmp_path / "ws"
    ingest(Lake(ws / "lake"), [tiny_county / "reference", uploads])
    shutil.copytree(full_ws / "models", ws / "models")
    base = score(ws, incremental=True)
    assert base.manifest["mode"] == "full"
    assert base.manifest["monthly_last_seq"] == base.manifest["lake"]["last_seq"]
    ingest(Lake(ws / "lake"), [day])
    inc = score(ws, incremental=True)
    m = inc.manifest
    assert m["mode"] == "incremental", m["why"]
    # the monthly rules that ran (the cross-county ones are inactive on one county's lake)
    ran = [r for r in MONTHLY if r not in m["inactive_rules"]]
    assert sorted(m["carried_rules"]) == ran
    assert m["why"].endswith(f"monthly rules stand as of {base.manifest['monthly_as_of']}")
    assert (m["monthly_as_of"], m["monthly_last_seq"]) == (
        base.manifest["monthly_as_of"],
        base.manifest["monthly_last_seq"],
    )
    # the monthly rules' line files are the base run's (hard links), not written again
    recorded = m[line_parts.PARTS_KEY][line_parts.LEAD]
    linked = [r for r in MONTHLY if r in recorded]
    assert linked and all(recorded[r]["written_by"] == base.run_id for r in linked)
    for r in linked:
        here, there = (line_parts.part_path(x.root, line_parts.LEAD, r) for x in (inc, base))
        assert here.stat().st_ino == there.stat().st_ino
    assert (
        0
        < m["line_files"]["written"]
        < len(recorded) + len(m[line_parts.PARTS_KEY]["quality_lines"])
    )
    carried = {o["rule_id"]: o for o in m["rules"] if "carried_from" in o}
    assert sorted(carried) == ran
    assert {o["carried_from"] for o in carried.values()} == {base.run_id}
    # the nightly rules as a full run over the whole lake finds them; the monthly ones as
    # the base run found them
    full = open_run(full_ws)
    assert _by(inc.findings(), MONTHLY, False).equals(_by(full.findings(), MONTHLY, False))
    assert _by(inc.findings(), MONTHLY, True).equals(_by(base.findings(), MONTHLY, True))
    assert _by(inc.findings(), MONTHLY, True).height > 0
    ids = _by(base.findings(), MONTHLY, True).select("finding_id")
    assert (
        inc.lines()
        .join(ids, on="finding_id", how="semi")
        .equals(base.lines().join(ids, on="finding_id", how="semi"))
    )
    # the night's marts link the lead_lines files of the rules it left unchanged, and
    # equal a full build of the same run
    build_marts(ws, base.run_id)
    build_marts(ws, inc.run_id)
    made = json.loads((marts_dir(ws, inc.run_id) / MARTS_MANIFEST).read_text(encoding="utf-8"))
    assert made["carried_from"] == base.run_id and made["lead_line_files"]["linked"] > 0
    mine, theirs = (marts_dir(ws, r) / "lead_lines" for r in (inc.run_id, base.run_id))
    linked = [
        p.name
        for p in mine.glob("*.parquet")
        if (theirs / p.name).exists() and (theirs / p.name).stat().st_ino == p.stat().st_ino
    ]
    assert len(linked) == made["lead_line_files"]["linked"]
    assert set(linked) <= {f"{r}.parquet" for r in MONTHLY} | {
        f"{r}.parquet" for r, e in recorded.items() if e["written_by"] == base.run_id
    }
    other = tmp_path / "full_marts"
    for part in ("lake", "runs"):
        shutil.copytree(ws / part, other / part)
    shutil.rmtree(marts_dir(other, base.run_id))  # nothing to carry: a full build
    build_marts(other, inc.run_id, force=True)
    rebuilt = marts_dir(other, inc.run_id) / "lead_lines"
    assert sorted(p.name for p in rebuilt.glob("*.parquet")) == sorted(
        p.name for p in mine.glob("*.parquet")
    )
    for p in mine.glob("*.parquet"):
        # the same rows; the order of a lead's own lines may differ between a carried and a
        # full build (claim_during_stay once did, in the full suite): compared sorted
        ours, full = (pl.read_parquet(x).sort(pl.all()) for x in (p, rebuilt / p.name))
        assert ours.equals(full), p.name
