"""``hrss-fraud knowledge load``: import a centre's own knowledge base into the workspace.

The source folder holds any of the four tables as CSV (UTF-8, or GBK/GB18030 as Excel
saves it) or XLSX, named by table (``catalogue.xlsx``) or by its Chinese name
(``医保目录与知识库.xlsx``), headers as field names or Chinese labels. Tables the source
lacks are taken from the knowledge base in use, and so are the treatment classes
(``treatment_class.csv``, :mod:`hrss_fraud.knowledge.treatment`) unless the source has its
own. Everything is converted to UTF-8 CSV in a
staging folder and validated as a whole (cells, keys, pairs naming catalogue items) before
it replaces ``WORKSPACE/analytics/knowledge`` in one rename; the previous version is kept
beside it. A bad file changes nothing.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import fastexcel
import polars as pl

from hrss_fraud.knowledge import Knowledge, load_knowledge
from hrss_fraud.knowledge.treatment import TREATMENT_CLASS
from hrss_fraud.lake.fsutil import fsync_dir
from hrss_fraud.model import schema as S
from hrss_fraud.resources import policy_path

TABLES = (S.CATALOGUE, S.KNOWLEDGE_PAIR, S.DIAGNOSIS, S.PROCEDURE)


def _find(source: Path, table: S.Table) -> Path | None:
    for stem in (table.name, table.zh):
        for suffix in (".csv", ".xlsx"):
            path = source / f"{stem}{suffix}"
            if path.is_file():
                return path
    return None


def _to_utf8_csv(path: Path, out: Path) -> None:
    if path.suffix == ".xlsx":
        try:
            sheet = fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string")
        except Exception as e:  # fastexcel raises several types
            msg = f"{path}: cannot read as XLSX ({type(e).__name__}: {e})"
            raise ValueError(msg) from None
        df = sheet.to_polars().with_columns(pl.all().cast(pl.String).str.strip_chars())
        out.write_text(df.write_csv(), encoding="utf-8")
        return
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            out.write_text(raw.decode(encoding), encoding="utf-8")
            return
        except UnicodeDecodeError:
            continue
    msg = f"{path}: neither UTF-8 nor GBK/GB18030 text"
    raise ValueError(msg)


def import_knowledge(source: Path, workspace: Path) -> tuple[Knowledge, dict[str, str]]:
    """Validate and install; return the knowledge base and where each table came from."""
    source = Path(source)
    if not source.is_dir():
        msg = f"{source}: not a folder"
        raise ValueError(msg)
    current = policy_path("analytics", "knowledge", workspace)
    target = Path(workspace) / "analytics" / "knowledge"
    stage = target.parent / f".knowledge.{datetime.now(UTC):%Y%m%dT%H%M%S%f}.tmp"
    stage.mkdir(parents=True)
    origin: dict[str, str] = {}
    try:
        for table in TABLES:
            found = _find(source, table)
            out = stage / f"{table.name}.csv"
            if found is not None:
                _to_utf8_csv(found, out)
                origin[table.name] = str(found)
            else:
                shutil.copyfile(current / f"{table.name}.csv", out)
                origin[table.name] = f"{current / (table.name + '.csv')} (kept)"
        found = _find(source, TREATMENT_CLASS)
        if found is not None:
            _to_utf8_csv(found, stage / f"{TREATMENT_CLASS.name}.csv")
            origin[TREATMENT_CLASS.name] = str(found)
        elif (current / f"{TREATMENT_CLASS.name}.csv").is_file():
            shutil.copyfile(
                current / f"{TREATMENT_CLASS.name}.csv", stage / f"{TREATMENT_CLASS.name}.csv"
            )
        if all(v.endswith("(kept)") for v in origin.values()):
            msg = f"{source}: no knowledge table found (expected e.g. catalogue.csv/.xlsx)"
            raise ValueError(msg)
        try:
            kb = load_knowledge(stage)
        except ValueError as e:
            # Name the user's file, not the staging copy.
            text = str(e)
            for name, where in origin.items():
                text = text.replace(str(stage / f"{name}.csv"), where)
            raise ValueError(text) from None
        if target.exists():
            target.rename(target.parent / f"knowledge.prev-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        stage.rename(target)
        fsync_dir(target.parent)
        return kb, origin
    finally:
        shutil.rmtree(stage, ignore_errors=True)
