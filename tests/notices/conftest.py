"""A workspace whose case store holds confirmed leads (notice_fixtures.CONFIRMED)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.notice_fixtures import confirm_leads

from hrss_fraud.cases import CaseStore, open_store


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    confirm_leads(tmp_path)
    return tmp_path


@pytest.fixture
def store(ws: Path) -> Iterator[CaseStore]:
    with open_store(ws) as s:
        yield s
