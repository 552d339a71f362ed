"""The 劳动保障监察 page marks a deadline counted through a year the working-day calendar does
not hold yet as provisional, in the screen's language; other deadlines are shown bare."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from hrss_fraud.dashboard import context
from hrss_fraud.dashboard.app import create_app


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    app = create_app(Path(tmp_path_factory.mktemp("labour_page")))
    return app, importlib.import_module("hrss_fraud.dashboard.pages.labour")


def test_a_provisional_deadline_is_marked_in_the_screens_language(page) -> None:
    app, labour = page
    assert labour._due("2027-03-01", [2027]) == (
        "2027-03-01（暂按周末推算，待国务院公布2027年放假安排后更新）"
    )
    assert labour._due("2026-12-25", []) == "2026-12-25"
    assert labour._due(None, []) == "—"
    with app.server.test_request_context(headers={"Cookie": f"{context.LANG_COOKIE}=en"}):
        assert labour._due("2027-03-01", [2027]) == (
            "2027-03-01 (provisional: weekends only until the 2027 holiday arrangement is "
            "published)"
        )
