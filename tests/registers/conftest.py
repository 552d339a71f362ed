"""A workspace with a case store, inspectors in three groups, and entity files to import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.register_fixtures import staff

from hrss_fraud.cases import CaseStore, open_store


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    out = tmp_path / "ws"
    out.mkdir()
    return out


@pytest.fixture
def store(ws: Path) -> Iterator[CaseStore]:
    with open_store(ws) as s:
        staff(s)
        yield s
