"""``hrss-fraud serve-check`` for real: uvicorn on 127.0.0.1 and a free port, ready once
its start-up (rules and history loaded) completes; a key issued from the command line
answers at once, and the process stops on SIGTERM."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from helpers.check_service import ADMIN, service_workspace, tiny_lake

from hrss_fraud.cli import main

pytestmark = pytest.mark.slow

START_TIMEOUT = 600.0
"""Seconds the service may take to load the rules and the history on a busy machine."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The running command, its address, and its log lines as they come."""

    def __init__(self, ws: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hrss_fraud", "--workspace", str(ws), "serve-check",
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float) -> list[str]:
        """The log lines up to the first holding ``text``; fails on exit or timeout."""
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {text!r} in {timeout:g} s; log: {''.join(seen)[-2000:]}")
            if line is None:
                pytest.fail(f"serve-check exited before {text!r}; log: {''.join(seen)[-2000:]}")
            seen.append(line)
            if text in line:
                return seen

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_county: Path) -> Iterator[Server]:
    ws = service_workspace(
        tiny_lake(tmp_path_factory, tiny_county), tmp_path_factory.mktemp("uv") / "ws"
    )
    srv = Server(ws, free_port())
    srv.ws = ws  # type: ignore[attr-defined]
    try:
        srv.wait_for("Application startup complete", START_TIMEOUT)
        yield srv
    finally:
        srv.stop()


def test_health_once_started(server: Server) -> None:
    r = httpx.get(f"{server.url}/health", timeout=30)
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["rules"] > 0
    assert "server" not in r.headers  # no version banner


def test_key_from_the_command_line_answers_at_once(server: Server) -> None:
    ws: Path = server.ws  # type: ignore[attr-defined]
    added = CliRunner().invoke(
        main, ["--workspace", str(ws), "serve-check", "keys", "add", "H001", "--by", ADMIN]
    )
    assert added.exit_code == 0, added.output
    key = added.stdout.splitlines()[1]
    body = {
        "infno": "3101",
        "fixmedins_code": "H001",
        "input": {"data": {"trig_scen": "1", "patient_dtos": [{
            "patn_id": "P1",
            "fsi_encounter_dtos": [{"mdtrt_id": "M1", "adm_date": "2026-03-01", "med_type": "11"}],
        }]}},
    }  # fmt: skip
    r = httpx.post(f"{server.url}/fsi", json=body, headers={"X-API-Key": key}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"result": [], "verdict": "pass", "verdict_zh": "通过"}
    r = httpx.post(f"{server.url}/fsi", json=body, timeout=60)
    assert r.status_code == 401


def test_stops_gracefully_on_sigterm(server: Server) -> None:
    """uvicorn shuts down (the call log written), then ends by the signal it was sent, as
    systemd expects of a stopped service."""
    assert server.stop() in (0, -signal.SIGTERM)
    server.wait_for("Finished server process", 60)
