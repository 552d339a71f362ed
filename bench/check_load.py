"""Load on the pre-settlement check service (issue 21): the real service under load, as a
hospital's systems would call it, side by side with the batch score's cost of a visit.

    .venv/bin/python -m bench.check_load WORKSPACE [--checks 2000] [--seconds 300]
        [--clients 4] [--workers 1] [--lines 40] [--visits 50] [--json FILE]

On the county year, alone on the machine: ``flock /tmp/bench.lock .venv/bin/python -m
bench.check_load /work/benchwork/score-cy/full``. WORKSPACE must hold a lake and a scoring
run; it is only read: the service runs over a throw-away workspace linking its lake, runs
and models, with a case store of its own (the call log, a throw-away API key per
institution). The visits are the lake's settlements of at least ``--lines`` lines (cut to
that many, their own settlement left out of the history, as ``bench.precheck_latency``
picks them) among those of the ``--pick-rule``'s look-back (the last 60 days), prepared in
a child process before the service starts, and sent as the
platform's 3102 by ``--clients`` threads (httpx) to ``hrss-fraud serve-check --workers N``
on 127.0.0.1 and a free port, until ``--checks`` are answered or ``--seconds`` have passed.

Reported: latency p50/p90/p99/max per check (client-side wall time of the HTTP call),
throughput (checks answered per second of the load), HTTP statuses, the service's CPU
milliseconds per check (its processes' user and system time over the load: what a check
costs whatever else the machine runs), the service's own ``ms`` per call from its call
log (warm-up calls included), the service's peak RSS (its whole process tree, polled
every 50 ms), and the batch: the latest run's wall time over the settlements it scored
(from its manifest), per visit and for the number of visits checked.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from bench.runner import _tree_rss

TESTS = Path(__file__).resolve().parents[1] / "tests"
START_TIMEOUT = 1800.0
"""Seconds the service may take to load the rules and a year of history."""
STORE_FILES = ("cases.sqlite", "cases.sqlite-wal", "cases.sqlite-shm")


def _messages(
    ws: str, n_lines: int, n: int, seed: int, rule: str
) -> tuple[list[dict[str, Any]], int]:
    """The 3102 messages of ``n`` visits, and the settlements they were picked among: run
    in a child process over a checker of one ``rule`` only, whose short look-back keeps
    the snapshot small (the service itself loads every rule's, up to 400 days)."""
    sys.path.insert(0, str(TESTS))
    from helpers.check_service import platform_message  # the message the service's tests send

    from bench.precheck_latency import _visits
    from hrss_fraud.precheck.checker import Checker

    checker = Checker(Path(ws), [rule])
    visits = [replace(v, setl_id=None) for v in _visits(checker, n_lines, n, seed)]
    return [platform_message(v, "3102") for v in visits], checker.snapshot.visit.height


def _scratch(source: Path) -> Path:
    """A workspace linking ``source``'s contents but its case store."""
    scratch = Path(tempfile.mkdtemp(prefix="check-load-"))
    for entry in source.iterdir():
        if entry.name not in STORE_FILES:
            (scratch / entry.name).symlink_to(entry.resolve())
    return scratch


def _keys(ws: Path, codes: set[str]) -> dict[str, str]:
    from hrss_fraud.cases import open_store
    from hrss_fraud.precheck.keys import add_key

    with open_store(ws) as store:
        return {c: add_key(store, c, by="bench", note="check_load").key for c in sorted(codes)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """``hrss-fraud serve-check`` running, its log lines, and its tree's peak RSS."""

    def __init__(self, ws: Path, port: int, workers: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "hrss_fraud", "--workspace", str(ws), "serve-check",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.log: list[str] = []
        self.peak = 0
        self._stop = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._poll, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _poll(self) -> None:
        root = psutil.Process(self.proc.pid)
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _tree_rss(root))

    def wait_ready(self, workers: int, timeout: float) -> float:
        """Seconds until every worker completed its start-up; ``RuntimeError`` naming the
        log's tail if the service ended or took longer than ``timeout``."""
        t0, ready = time.perf_counter(), 0
        while ready < workers:
            left = timeout - (time.perf_counter() - t0)
            try:
                line = self.lines.get(timeout=max(left, 0.001))
            except queue.Empty:
                line = ""
            if line is None or left <= 0:
                tail = "".join(self.log)[-2000:]
                raise RuntimeError(f"serve-check not ready in {timeout:g} s; log: {tail}")
            self.log.append(line)
            ready += "Application startup complete" in line
        return time.perf_counter() - t0

    def cpu_s(self) -> float:
        """CPU seconds (user and system) the service's processes have used so far."""
        total = 0.0
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.proc.pid)
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    total += t.user + t.system
        return total

    def stop(self) -> None:
        self._stop.set()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _load(url: str, messages: list[dict[str, Any]], keys: dict[str, str], args: Any) -> dict:
    """``args.clients`` threads sending the messages in turn until ``args.checks`` are
    sent or ``args.seconds`` have passed; each call's wall milliseconds and status."""
    lock, sent = threading.Lock(), [0]
    ms: list[float] = []
    statuses: dict[int, int] = {}
    hits = [0]
    deadline = time.perf_counter() + args.seconds

    def client() -> None:
        with httpx.Client(base_url=url, timeout=args.seconds + 60) as http:
            while time.perf_counter() < deadline:
                with lock:
                    if sent[0] >= args.checks:
                        return
                    i = sent[0]
                    sent[0] += 1
                msg = messages[i % len(messages)]
                headers = {"X-API-Key": keys[msg["fixmedins_code"]]}
                t = time.perf_counter()
                r = http.post("/fsi", json=msg, headers=headers)
                took = (time.perf_counter() - t) * 1000
                with lock:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        ms.append(took)
                        hits[0] += len(r.json()["output"]["result"])

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    return {"ms": ms, "statuses": statuses, "wall_s": wall, "hits": hits[0]}


def _percentiles(ms: list[float]) -> dict[str, float | None]:
    if not ms:
        return dict.fromkeys(("p50", "p90", "p99", "max"))
    a = np.asarray(ms)
    out = {f"p{q}": round(float(np.percentile(a, q)), 1) for q in (50, 90, 99)}
    return {**out, "max": round(float(a.max()), 1)}


def _batch(ws: Path, n_checked: int) -> dict[str, Any]:
    """The latest run's wall seconds over the settlements it scored (its manifest)."""
    from hrss_fraud.engine.runs import latest_run, open_run

    run = open_run(ws, latest_run(ws))
    m = run.manifest
    took = datetime.fromisoformat(m["finished_at"]) - datetime.fromisoformat(m["started_at"])
    visits = int(m["scored"]["visit"])
    per_visit = took.total_seconds() * 1000 / visits
    return {
        "run_id": m["run_id"],
        "mode": m["mode"],
        "score_wall_s": round(took.total_seconds(), 1),
        "settlements_scored": visits,
        "ms_per_settlement": round(per_visit, 3),
        "ms_for_the_visits_checked": round(per_visit * n_checked, 1),
    }


def _service_ms(ws: Path) -> dict[str, float | None]:
    from hrss_fraud.cases import open_store

    with open_store(ws) as store:
        rows = store.query("SELECT ms FROM check_call WHERE infno = '3102' AND status = 200")
    return _percentiles([r[0] for r in rows])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--checks", type=int, default=2000, help="most checks sent")
    ap.add_argument("--seconds", type=float, default=300.0, help="most seconds of load")
    ap.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    ap.add_argument("--workers", type=int, default=1, help="serve-check --workers")
    ap.add_argument("--lines", type=int, default=40)
    ap.add_argument("--visits", type=int, default=50, help="distinct visits cycled through")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument(
        "--pick-rule",
        default="split_admission",
        help="the rule whose look-back (60 days) bounds the settlements picked among",
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    source = args.workspace.resolve()
    if not (source / "lake").is_dir() or not (source / "runs").is_dir():
        ap.error(f"{source}: no lake/ and runs/ (a scored workspace is needed)")

    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        messages, history = pool.submit(
            _messages, str(source), args.lines, args.visits, args.seed, args.pick_rule
        ).result()
    ws = _scratch(source)
    service: Service | None = None
    try:
        keys = _keys(ws, {m["fixmedins_code"] for m in messages})
        service = Service(ws, _free_port(), args.workers)
        start_s = service.wait_ready(args.workers, START_TIMEOUT)
        warm = _load(service.url, messages, keys, argparse.Namespace(
            checks=args.clients, clients=args.clients, seconds=args.seconds))  # fmt: skip
        cpu0 = service.cpu_s()
        load = _load(service.url, messages, keys, args)
        cpu = service.cpu_s() - cpu0
        service.stop()
        answered = len(load["ms"])
        result: dict[str, Any] = {
            "benchmark": "check-load",
            "utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "workspace": str(source),
            "machine": {
                "platform": platform.platform(),
                "cpus": psutil.cpu_count(),
                "load_avg": list(psutil.getloadavg()),
            },
            "workers": args.workers,
            "clients": args.clients,
            "picked_among_settlements": history,
            "visits": len(messages),
            "lines_per_visit": sorted(
                {
                    len(
                        m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0][
                            "fsi_order_dtos"
                        ]
                    )
                    for m in messages
                }
            ),
            "service_start_s": round(start_s, 1),
            "warm_checks": len(warm["ms"]),
            "bound": {"checks": args.checks, "seconds": args.seconds},
            "checks_answered": answered,
            "statuses": {str(k): v for k, v in sorted(load["statuses"].items())},
            "hits_per_check": round(load["hits"] / answered, 2) if answered else None,
            "load_wall_s": round(load["wall_s"], 1),
            "checks_per_s": round(answered / load["wall_s"], 2),
            "latency_ms": _percentiles(load["ms"]),
            "server_cpu_ms_per_check": round(cpu * 1000 / answered, 1) if answered else None,
            "service_ms": _service_ms(ws),
            "server_peak_rss_mib": round(service.peak / 2**20, 1),
            "batch": _batch(source, len(messages)),
            "goals": {"p50_ms": 10, "p99_ms": 50, "checks_per_s": 200},
        }
    finally:
        if service is not None:
            service.stop()
        shutil.rmtree(ws, ignore_errors=True)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
