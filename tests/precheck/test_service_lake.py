"""The check service stays up while the lake is written: it answers while another process
holds the lake's writer lock, and once a new batch is committed it has the checker load
the new snapshot by itself, answering throughout."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.accounts import add_accounts
from helpers.check_service import ADMIN
from helpers.shared import built_once, copy_workspace

from hrss_fraud.cases import open_store
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.precheck.keys import add_key
from hrss_fraud.precheck.service import ServiceSettings, create_app

pytestmark = pytest.mark.slow

REFRESH_TIMEOUT = 600.0
"""Seconds the new snapshot may take to load on a busy machine."""


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tiny_county: Path, tmp_path: Path) -> Path:
    """The tiny county but its last month of uploads, in a workspace of the test's own."""
    months = sorted((tiny_county / "uploads").iterdir())

    def build(folder: Path) -> None:
        ingest(Lake(folder / "lake"), [tiny_county / "reference", *months[:-1]])

    source = built_once(tmp_path_factory, "check_service_lake_but_last", build)
    ws = copy_workspace(source, tmp_path / "ws", ("lake",))
    add_accounts(ws, {ADMIN: "admin"})
    return ws


def registration(code: str) -> dict:
    """A 3101 at registration: a visit with no orders yet, answered without rules."""
    return {
        "infno": "3101",
        "fixmedins_code": code,
        "input": {"data": {"trig_scen": "1", "patient_dtos": [{"patn_id": "P1",
            "fsi_encounter_dtos": [{"mdtrt_id": "M1", "adm_date": "2026-03-01", "med_type": "11"}],
        }]}},
    }  # fmt: skip


def test_answers_while_the_lake_is_written_and_loads_the_new_batch(
    ws: Path, tiny_county: Path
) -> None:
    with open_store(ws) as store:
        key = {"X-API-Key": add_key(store, "H001", by=ADMIN).key}
    lake = Lake(ws / "lake")
    settings = ServiceSettings(refresh_seconds=0.05)
    with TestClient(create_app(ws, settings)) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        before = service.checker.snapshot
        with lake.writer():  # another writer holds the lake
            r = client.post("/fsi", json=registration("H001"), headers=key)
            assert r.status_code == 200, r.text
        last = sorted((tiny_county / "uploads").iterdir())[-1]
        writing = threading.Thread(target=ingest, args=(lake, [last]))
        writing.start()
        statuses = []
        while writing.is_alive():
            statuses.append(client.post("/fsi", json=registration("H001"), headers=key).status_code)
        writing.join()
        assert set(statuses) <= {200}
        assert service.refreshed.wait(REFRESH_TIMEOUT), "the new batch was never loaded"
        assert service.checker.snapshot is not before
        r = client.post("/fsi", json=registration("H001"), headers=key)
        assert r.status_code == 200
        assert client.get("/health").json()["status"] == "ok"
