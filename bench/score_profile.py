"""Where a score's time and memory go: seconds and peak RSS per stage (prepare, models,
each rule, lines, grouping, publish) of one ``score`` run, full or incremental.

    flock /tmp/bench.lock .venv/bin/python -m bench.score_profile WORKSPACE \\
        [--incremental] [--memory-limit 3GB] [--out bench/results/score-profile-full.json]

WORKSPACE is scored in place (a run is added to its ``runs/``): profile a hard-linked copy
(``cp -al``) of ``bench/work/score-cy/full`` (full) or of ``score-cy/inc`` after
``python -m bench.score_prep WORKDIR --restore`` (incremental). The stages are timed by
wrapping the scoring module's own steps, so the run is the one ``hrss-fraud score`` makes;
an older checkout is profiled side by side with ``PYTHONPATH=OLD_TREE .venv/bin/python
bench/score_profile.py …`` (run as a file, so the old tree's ``hrss_fraud`` is imported;
steps it lacks are left out of the table). A rule's ``query_s`` is its SQL or kernel
alone; ``seconds`` adds the white list, the findings' aggregation and spilling them.
Peak RSS is sampled every 20 ms (DuckDB's memory is in the process).
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import os
import platform
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


class Sampler:
    """The process's RSS, sampled in a thread: the peak since each open mark began (marks
    nest: a rule's query inside the rules stage)."""

    def __init__(self) -> None:
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * _PAGE

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            now = self.rss()
            for mark, peak in list(self.peaks.items()):
                if now > peak:
                    self.peaks[mark] = now

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def begin(self, mark: str) -> None:
        self.peaks[mark] = self.rss()

    def end(self, mark: str) -> float:
        """The peak in MiB since ``mark`` began."""
        return max(self.peaks.pop(mark, 0), self.rss()) / MIB


class Profile:
    """Stage records ``{stage, seconds, peak_mib}``, nested stages (rules) kept apart."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self.stages: list[dict[str, Any]] = []
        self.queries: dict[str, dict[str, float]] = {}

    def wrap(self, module: Any, name: str, stage: str) -> None:
        fn = getattr(module, name, None)
        if fn is None:
            return

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.sampler.begin(stage)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - t0
                peak = self.sampler.end(stage)
                self.stages.append({"stage": stage, "seconds": seconds, "peak_mib": peak})

        setattr(module, name, timed)

    def wrap_queries(self, execute: Any) -> None:
        """Each rule's query (SQL or kernel) timed with its peak RSS."""
        fn: Callable[..., Any] = execute.hit_lines

        @functools.wraps(fn)
        def timed(con: Any, catalogue: Any, rule: Any, params: Any) -> Any:
            self.sampler.begin("query")
            t0 = time.perf_counter()
            try:
                return fn(con, catalogue, rule, params)
            finally:
                self.queries[rule.id] = {
                    "query_s": time.perf_counter() - t0,
                    "peak_mib": self.sampler.end("query"),
                }

        execute.hit_lines = timed


def profile(workspace: Path, incremental: bool, memory_limit: str | None = None) -> dict[str, Any]:
    from hrss_fraud.engine import execute, runs
    from hrss_fraud.scoring import score as S

    sampler = Sampler()
    prof = Profile(sampler)
    for name, stage in (
        ("build", "prepare"),
        ("_data_gaps", "data_gaps"),
        ("_prepare_models", "models"),
        ("run_rules", "rules"),
        ("_store_lines", "lines"),
        ("split_and_group", "grouping"),
    ):
        prof.wrap(S, name, stage)
    prof.wrap(runs, "publish", "publish")
    prof.wrap_queries(execute)
    sampler.start()
    t0 = time.perf_counter()
    extra: dict[str, Any] = {} if memory_limit is None else {"memory_limit": memory_limit}
    if "prepare" in inspect.signature(S.score).parameters:  # build bound as a default
        extra["prepare"] = S.build
    run = S.score(workspace, incremental=incremental, **extra)
    total = time.perf_counter() - t0
    sampler.stop()
    rules = []
    for o in run.manifest.get("rules", []):
        if o.get("status") == "ok" and "carried_from" not in o:
            q = prof.queries.get(o["rule_id"], {})
            rules.append(
                {
                    "rule_id": o["rule_id"],
                    "seconds": o["seconds"],
                    "query_s": round(q.get("query_s", 0.0), 3),
                    "peak_mib": round(q.get("peak_mib", 0.0)),
                    "findings": o["n_findings"],
                }
            )
    rules.sort(key=lambda r: -r["seconds"])
    return {
        "workspace": str(workspace),
        "mode": run.manifest.get("mode"),
        "why": run.manifest.get("why"),
        "scored": run.manifest.get("scored"),
        "memory_limit": memory_limit or "score's default",
        "total_s": round(total, 2),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "stages": [
            {**s, "seconds": round(s["seconds"], 2), "peak_mib": round(s["peak_mib"])}
            for s in prof.stages
        ],
        "rules": rules,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_avg_at_end": os.getloadavg(),
        "hrss_fraud": str(Path(S.__file__).parents[2]),
    }


def table(result: dict[str, Any], top: int = 15) -> str:
    """A Markdown table: the stages, then the slowest ``top`` rules."""
    out = ["| stage | seconds | peak MiB |", "|---|---:|---:|"]
    out += [f"| {s['stage']} | {s['seconds']:.1f} | {s['peak_mib']:,} |" for s in result["stages"]]
    out.append(f"| **total** | **{result['total_s']:.1f}** | **{result['peak_mib']:,}** |")
    out += ["", "| rule | seconds | query s | peak MiB | findings |", "|---|---:|---:|---:|---:|"]
    out += [
        f"| {r['rule_id']} | {r['seconds']:.1f} | {r['query_s']:.1f} | {r['peak_mib']:,} | "
        f"{r['findings']:,} |"
        for r in result["rules"][:top]
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--incremental", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--memory-limit", help="DuckDB's limit (default: the score's own, 6GB)")
    a = ap.parse_args(argv)
    if not (a.workspace / "lake").is_dir():
        print(f"{a.workspace}: no lake/ here; profile a scored workspace", file=sys.stderr)
        return 2
    result = profile(a.workspace.resolve(), a.incremental, a.memory_limit)
    if a.out:
        a.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
