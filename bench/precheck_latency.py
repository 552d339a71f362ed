"""Latency of one pre-settlement check (issue 21): a 40-line visit checked against every
in-scope rule with the person's history, one check at a time in one thread.

    .venv/bin/python -m bench.precheck_latency WORKSPACE [--lines 40] [--checks 200]
        [--json bench/results/precheck-<UTC>.json]

On the county year, alone on the machine: ``flock /tmp/bench.lock .venv/bin/python -m
bench.precheck_latency /work/benchwork/score-cy/full``. The visits are the lake's settlements
with at least ``--lines`` lines (the largest ones when none has that many), each cut to its
first ``--lines`` lines and checked as if not settled yet (its own settlement left out of
the history), in a seeded order, after ``--warm`` unmeasured checks. Reported: wall and CPU
milliseconds per check (p50, p90, p99, max), the snapshot's load time, rows and the
process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from hrss_fraud.precheck.checker import Checker
from hrss_fraud.precheck.replay import replay_visit
from hrss_fraud.precheck.visit import Visit


def _visits(checker: Checker, n_lines: int, n: int, seed: int) -> list[Visit]:
    counts = checker.snapshot.sql(
        "SELECT fixmedins_code, setl_id, count(*) AS len FROM h_line_base GROUP BY ALL"
    )
    big = counts.filter(pl.col("len") >= n_lines)
    if big.is_empty():
        big = counts.sort("len", descending=True).head(n)
    picked = big.sort("fixmedins_code", "setl_id").sample(min(n, big.height), seed=seed)
    out = []
    for code, setl_id, _ in picked.iter_rows():
        v = replay_visit(checker.snapshot, code, setl_id)
        out.append(replace(v, lines=v.lines.sort("feedetl_sn").head(n_lines)))
    return out


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p90": round(float(np.percentile(a, 90)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "max": round(float(a.max()), 2),
        "mean": round(float(a.mean()), 2),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--lines", type=int, default=40)
    ap.add_argument("--checks", type=int, default=200)
    ap.add_argument("--visits", type=int, default=50, help="distinct visits cycled through")
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    checker = Checker(args.workspace)
    load_s = time.perf_counter() - t0
    visits = _visits(checker, args.lines, args.visits, args.seed)
    for v in visits[: args.warm]:
        checker.check(v)
    wall, cpu, hits = [], [], 0
    for i in range(args.checks):
        v = visits[i % len(visits)]
        c, t = time.process_time(), time.perf_counter()
        hits += len(checker.check(v))
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    result: dict[str, object] = {
        "benchmark": "precheck-latency",
        "utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "workspace": str(args.workspace),
        "machine": {"platform": platform.platform(), "load_avg": list(_loadavg())},
        "rules": len(checker.rules),
        "history_since": str(checker.snapshot.since),
        "history_visits": checker.snapshot.n_visits,
        "history_lines": checker.snapshot.n_lines,
        "snapshot_load_s": round(load_s, 1),
        "visits": len(visits),
        "lines_per_visit": sorted({v.lines.height for v in visits}),
        "checks": args.checks,
        "hits_per_check": round(hits / args.checks, 2),
        "wall_ms": _percentiles(wall),
        "cpu_ms": _percentiles(cpu),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return result


def _loadavg() -> tuple[float, float, float]:
    with open("/proc/loadavg", encoding="ascii") as f:
        a, b, c = (float(x) for x in f.read().split()[:3])
    return a, b, c


if __name__ == "__main__":
    main()
