"""AG Grid's own words in the screen's language: every grid text has a key in both
languages, reaches the grid under AG Grid's camel-case name, and is Chinese in zh."""

from __future__ import annotations

import re

import pytest

from hrss_fraud.dashboard.grid_locale import KEYS, grid_locale, locale_name


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("grid.no_rows_to_show", "noRowsToShow"),
        ("grid.filter_ooo", "filterOoo"),
        ("grid.of", "of"),
        ("grid.aria_page_size_selector_label", "ariaPageSizeSelectorLabel"),
    ],
)
def test_keys_become_ag_grids_names(key: str, name: str) -> None:
    assert locale_name(key) == name


def test_chinese_grid_says_no_rows_and_pages_in_chinese() -> None:
    zh = grid_locale("zh")
    assert zh["noRowsToShow"] == "无数据"
    assert zh["noMatchingRows"] == "没有符合条件的记录"
    assert zh["nextPage"] == "下一页"
    assert len(zh) == len(KEYS)
    latin = {name: words for name, words in zh.items() if re.search(r"[A-Za-z]{2,}", words)}
    assert latin == {}


def test_english_grid_keeps_english_words() -> None:
    en = grid_locale("en")
    assert en["noRowsToShow"] == "No rows to show"
    assert en["equals"] == "Equals"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        grid_locale("fr")
