"""Codes and flags as a reader says them (hrss_fraud.outputs.labels): every coded field of
the data model by its code list's label, true/false as 是/否, amounts known by column, and
a peer group in words — one place, so a table and an export say the same."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.outputs import labels
from hrss_fraud.outputs.institution_view import peer_group_label


@pytest.mark.parametrize(
    ("column", "code", "zh", "en"),
    [
        ("gend", "2", "女", "female"),
        ("insutype", "390", "城乡居民基本医疗保险", "urban-rural resident basic medical insurance"),
        ("lmt_gend", "1", "男", "male"),  # a field whose list is another field's
        ("hosp_lv", "3", "三级", "level 3"),
        ("vali_flag", "0", "无效", "invalid"),
    ],
)
def test_a_code_reads_as_its_label(column: str, code: str, zh: str, en: str) -> None:
    assert labels.code_label(column, code, "zh") == zh
    assert labels.code_label(column, code, "en") == en


def test_a_code_outside_the_list_or_a_column_without_one_stays_as_it_is() -> None:
    assert labels.code_label("gend", "7") == "7"
    assert labels.code_label("psn_no", "P1") == "P1"
    assert labels.code_label("gend", None) == ""


def test_with_labels_turns_codes_and_flags_into_words_and_leaves_the_rest() -> None:
    df = pl.DataFrame(
        {"gend": ["2", None, "7"], "valid": [True, False, None], "psn_no": ["1", "2", "3"]}
    )
    zh, en = labels.with_labels(df, "zh"), labels.with_labels(df, "en")
    assert zh.to_dict(as_series=False) == {
        "gend": ["女", None, "7"],
        "valid": ["是", "否", None],
        "psn_no": ["1", "2", "3"],
    }
    assert en["valid"].to_list() == ["Yes", "No", None]


def test_amount_columns_are_the_models_amounts_and_the_columns_labelled_yuan() -> None:
    assert {"inscp_amt", "medfee_sumamt", "amount_at_risk"} <= labels.AMOUNT_COLUMNS
    assert "cnt" not in labels.AMOUNT_COLUMNS and "n_findings" not in labels.AMOUNT_COLUMNS


def test_a_table_shows_labels_yuan_to_the_fen_percentages_and_minutes() -> None:
    df = pl.DataFrame(
        {
            "gend": ["1"],
            "valid": [False],
            "inscp_amt": [0.5],
            "share": [0.1234],
            "begntime": [datetime(2025, 1, 2, 8, 5, 59)],
        }
    )
    table = pc.table(df, df.columns, "zh", shares=("share",))
    row = table.children[1].children[0]
    assert [td.children for td in row.children] == ["男", "否", "0.50", "12.3%", "2025-01-02 08:05"]


@pytest.mark.parametrize(
    ("group", "zh", "en"),
    [
        ("A2|2", "中医医院 · 二级", "TCM hospital, level 2"),
        ("*|1", "一级（各类机构）", "level 1 (all kinds)"),
        (None, "—", "—"),
    ],
)
def test_a_peer_group_in_words(group: str | None, zh: str, en: str) -> None:
    assert peer_group_label(group, "zh") == zh
    assert peer_group_label(group, "en") == en


def test_a_title_names_a_unit_with_its_code_in_each_language() -> None:
    assert pc.named("一院", "H1", "zh") == "一院（H1）"
    assert pc.named("一院", "H1", "en") == "一院 (H1)"
    assert pc.named(None, "H1", "zh") == "H1"
