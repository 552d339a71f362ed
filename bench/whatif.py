"""One rule's what-if (``hrss-fraud rules try``) on a scored county year (goal ≤ 5 s).

    flock /tmp/bench.lock .venv/bin/python -m bench.whatif SCORED_WS WORKDIR [--repeat 3]
        [--try split_admission:days=30 --try ...]

Setup (untimed): ``WORKDIR/whatif-ws``, the scored workspace's ``lake``, ``models`` and
``runs`` hard-linked (their files are never rewritten in place, so the copy is a snapshot
that another job re-scoring the source cannot change). Timed: first the try that finds no
prepared database and prepares one (once: its preparation time is reported apart), then
each ``--try`` (a rule and its tried values) ``--repeat`` times, each in a process of its
own, as the command line runs it: the try's own time (``Outcome.seconds``), the whole
process's wall time (Python and the detectors imported), and the process's peak resident
memory. Medians and peaks go to ``bench/results/whatif.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "whatif.json"
DEFAULT_TRIES = (
    "split_admission:days=30",
    "drug_supply_cap:supply_factor=1.5",
    "pp_cost_per_visit:z=2.5",
)


def setup(source: Path, workdir: Path) -> Path:
    """A workspace of the bench's own over the source's lake, models and runs; its
    what-if database removed, so the first try prepares one."""
    ws = workdir / "whatif-ws"
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    for part in ("lake", "models", "runs"):
        if (source / part).exists():
            subprocess.run(["cp", "-al", str(source / part), str(ws / part)], check=True)
    return ws


def once(ws: Path, spec: str) -> dict[str, object]:
    """One try in this process: its outcome's figures and times, and this process's peak."""
    import hrss_fraud.detectors  # noqa: F401 - the detectors' kernels, as the CLI has them
    from hrss_fraud.detectors import models
    from hrss_fraud.engine.whatif import try_rule

    rule_id, _, pairs = spec.partition(":")
    values = dict(p.split("=", 1) for p in pairs.split(",") if p)
    out = try_rule(ws, rule_id, values, models=models)
    return {
        "seconds": out.seconds,
        "prepared": out.prepared,
        "prepare_seconds": out.prepare_seconds,
        "tried": out.to_dict()["tried"],
        "current": out.to_dict()["current"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _child(ws: Path, spec: str) -> tuple[dict[str, object], float]:
    cmd = [sys.executable, "-m", "bench.whatif", str(ws), "-", "--once", spec]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1]), time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path, help="a scored workspace (the county year)")
    p.add_argument("workdir", help="scratch folder (- with --once)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--try", dest="tries", action="append", help="RULE:name=value[,name=value]")
    p.add_argument("--out", type=Path, default=RESULTS, help="the JSON report")
    p.add_argument("--once", metavar="TRY", help="one try in this process (used by the others)")
    args = p.parse_args()
    if args.once:
        print(json.dumps(once(args.source, args.once)))
        return
    tries = args.tries or list(DEFAULT_TRIES)
    ws = setup(args.source, Path(args.workdir))
    first, first_wall = _child(ws, tries[0])
    report: dict[str, object] = {
        "source": str(args.source),
        "first_try": {**first, "wall_s": round(first_wall, 2)},
        "tries": {},
    }
    for spec in tries:
        runs = [_child(ws, spec) for _ in range(args.repeat)]
        report["tries"][spec] = {  # type: ignore[index]
            "try_s": [r["seconds"] for r, _ in runs],
            "median_try_s": round(statistics.median(float(r["seconds"]) for r, _ in runs), 2),
            "wall_s": [round(w, 2) for _, w in runs],
            "median_wall_s": round(statistics.median(w for _, w in runs), 2),
            "peak_rss_mb": max(int(r["peak_rss_mb"]) for r, _ in runs),
            "prepared": any(r["prepared"] for r, _ in runs),
            "tried": runs[0][0]["tried"],
            "current": runs[0][0]["current"],
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
