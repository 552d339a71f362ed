from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from hrss_fraud.cli import main
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.model import schema as S


def _chinese(df: pl.DataFrame, table: S.Table) -> pl.DataFrame:
    return df.rename({f.name: f.zh for f in table.fields}).with_columns(pl.all().cast(pl.String))


def test_xlsx_with_chinese_headers_replaces_the_catalogue(tmp_path: Path) -> None:
    kb = load_knowledge()
    src = tmp_path / "src"
    src.mkdir()
    cat = kb.catalogue.with_columns(
        pl.when(pl.col("med_list_codg") == kb.catalogue["med_list_codg"][0])
        .then(pl.lit("99.0"))
        .otherwise(pl.col("pric"))
        .alias("pric")
    )
    _chinese(cat, S.CATALOGUE).write_excel(src / "医保目录与知识库.xlsx")
    ws = tmp_path / "ws"
    result = CliRunner().invoke(main, ["--workspace", str(ws), "knowledge", "load", str(src)])
    assert result.exit_code == 0, result.output
    assert "catalogue: 460 rows" in result.output and "(kept)" in result.output
    loaded = load_knowledge(ws / "analytics" / "knowledge")
    assert loaded.catalogue["pric"][0] == 99.0
    assert loaded.knowledge_pair.height == kb.knowledge_pair.height
    # the item codes keep their leading zeros
    assert set(loaded.catalogue["med_list_codg"]) == set(kb.catalogue["med_list_codg"])


def test_a_bad_cell_names_the_users_file_and_changes_nothing(tmp_path: Path) -> None:
    kb = load_knowledge()
    src = tmp_path / "src"
    src.mkdir()
    bad = kb.diagnosis.with_columns(pl.all().cast(pl.String)).with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("x")).otherwise("chronic").alias("chronic")
    )
    bad.write_csv(src / "diagnosis.csv")
    ws = tmp_path / "ws"
    result = CliRunner().invoke(main, ["--workspace", str(ws), "knowledge", "load", str(src)])
    assert result.exit_code == 1
    assert "diagnosis.csv" in result.output and "line 5" in result.output
    assert str(src) in result.output
    assert not (ws / "analytics" / "knowledge").exists()
    assert not list((ws / "analytics").glob(".knowledge*"))


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--workspace", str(tmp_path / "ws"), "knowledge", "load", str(tmp_path)]
    )
    assert result.exit_code == 1 and "no knowledge table found" in result.output


@pytest.mark.parametrize("encoding", ["gb18030"])
def test_gbk_csv_is_read(tmp_path: Path, encoding: str) -> None:
    kb = load_knowledge()
    src = tmp_path / "src"
    src.mkdir()
    text = _chinese(kb.procedure, S.PROCEDURE).write_csv()
    (src / "procedure.csv").write_bytes(text.encode(encoding))
    ws = tmp_path / "ws"
    result = CliRunner().invoke(main, ["--workspace", str(ws), "knowledge", "load", str(src)])
    assert result.exit_code == 0, result.output
    assert load_knowledge(ws / "analytics" / "knowledge").procedure.equals(kb.procedure)
