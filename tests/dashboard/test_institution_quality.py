"""The institution page's data-quality rows say the lake's figures as the quality page does."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest

from hrss_fraud.dashboard.app import create_app


@pytest.fixture(scope="module")
def quality_value(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, object, str], str]:
    """The page's formatter: a page module imports only once an app exists."""
    create_app(tmp_path_factory.mktemp("institution-quality"))
    return importlib.import_module("hrss_fraud.dashboard.pages.institution")._quality_value


def test_quarantine_reasons_are_words_not_codes(quality_value) -> None:
    zh = quality_value("quarantined_by_reason", "bad_code:3; too_long:1", "zh")
    assert "bad_code" not in zh and "too_long" not in zh
    assert zh.endswith("1") and "3；" in zh
    en = quality_value("quarantined_by_reason", "bad_code:3", "en")
    assert en == "bad code 3"


def test_shares_read_as_percentages_and_nothing_as_blank(quality_value) -> None:
    assert quality_value("missing_dise_codg", 0.125, "zh").endswith("%")
    assert quality_value("quarantined_by_reason", None, "zh") == ""
