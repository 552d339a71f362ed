"""Fixtures for the nightly batch: inboxes built from a generated county's uploads, and
fingerprints of what a run leaves (lake, findings, case store) to compare two workspaces."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from helpers.shared import built_once

from hrss_fraud.cases.store import store_path
from hrss_fraud.engine.runs import latest_run, open_run
from hrss_fraud.lake import Lake
from hrss_fraud.lake.views import LINEAGE, QUARANTINE, ident
from hrss_fraud.model.schema import TABLES
from hrss_fraud.nightly.runner import run_nightly
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.generate import generate


@pytest.fixture(scope="session")
def small_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Smaller than the tiny preset: the crash drills start many processes on it. Built
    once per run for every worker (helpers.shared) and read only: inboxes copy from it."""

    def build(folder: Path) -> None:
        generate(SynthConfig.preset("tiny", out=folder / "county", seed=5, persons=1000, months=2))

    return built_once(tmp_path_factory, "small_county", build) / "county"


@pytest.fixture(scope="session")
def small_county_night(small_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ws``: one uninterrupted nightly over the whole small county (its inbox ``inbox``
    beside it), the reference the crash drills end at and the workspace the backups copy.
    Built once per run and read only: tests copy it (``helpers.shared.copy_workspace``)."""

    def build(folder: Path) -> None:
        inbox = fill_inbox(small_county, folder / "inbox", months(small_county), reference=True)
        done = run_nightly(folder / "ws", inbox=inbox, min_free_gb=0)
        assert done.code == 0, done.line

    return built_once(tmp_path_factory, "small_county_night", build) / "ws"


def months(county: Path) -> list[str]:
    return sorted(p.name for p in (county / "uploads").iterdir() if p.is_dir())


def fill_inbox(county: Path, inbox: Path, upload_months: list[str], *, reference: bool) -> Path:
    """Drop a night's files into the inbox: the reference tables and some months' uploads."""
    inbox.mkdir(parents=True, exist_ok=True)
    sources = [county / "reference"] if reference else []
    sources += [county / "uploads" / m for m in upload_months]
    for folder in sources:
        for f in sorted(folder.iterdir()):
            if f.is_file():
                shutil.copy2(f, inbox / f.name)
    return inbox


def lake_fingerprint(workspace: Path) -> dict[str, tuple[int, int]]:
    """Rows and a content hash of each latest view, without the lineage that depends on
    how files were grouped into batches (batch numbers, row numbers, the inbox's path)."""
    con = Lake(workspace / "lake").connect()
    out = {}
    try:
        for name in [*TABLES, QUARANTINE]:
            df = con.sql(f"SELECT * FROM {ident(name)}").pl()
            df = df.drop([c for c in df.columns if c in LINEAGE or c == "_source_file"])
            df = df.sort(df.columns, nulls_last=True) if df.height else df
            out[name] = (df.height, int(df.hash_rows(seed=1).sum()) if df.height else 0)
    finally:
        con.close()
    return out


def findings_fingerprint(workspace: Path) -> pl.DataFrame:
    run = open_run(workspace, latest_run(workspace))
    return run.findings().select("finding_id", "amount_at_risk").sort("finding_id")


def cases_dump(workspace: Path) -> list[str]:
    path = store_path(workspace)
    if not path.is_file():
        return []
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()
