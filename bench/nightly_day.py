"""A day's increment and the nightly of one day on the county year, per stage, for one code
tree (run it once per tree to put two versions side by side).

    flock /tmp/bench.lock .venv/bin/python -m bench.nightly_day \\
        --code /path/to/tree --base WORKDIR/score-cy/base --day WORKDIR/score-cy/day \\
        --scratch /tmp/nd --repeat 3 --out bench/results/nightly-day-<label>.json

``--base`` is a workspace holding the year but its last day, scored in full by the code
being timed (``bench.score_prep`` makes one; re-score a copy with each tree, since a run
is built on by the code that wrote it); ``--day`` holds that day's uploads. Each
repetition hard-links ``base`` into ``scratch`` (run and lake files are never rewritten in
place), then times ``score --incremental`` after ingesting the day (untimed), and
``nightly`` with the day in its inbox (ingest, incremental score, marts, exports). Wall
time and peak memory (the process tree's, polled) are :func:`bench.runner.measure`'s, with
the CPU seconds (user + system: on a shared machine the wall time grows with the others'
load, the CPU time much less); the stages' seconds come from the run's manifest, the
nightly's record and the marts' manifest. The JSON holds every sample and the medians.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.runner import Sample, machine_info, measure


def _restore(base: Path, inc: Path) -> None:
    shutil.rmtree(inc, ignore_errors=True)
    subprocess.run(["cp", "-al", str(base), str(inc)], check=True)


def _hrss(ws: Path, *args: str) -> list[str]:
    """The command line; run with the code tree as working folder, so its ``hrss_fraud``
    is the one imported."""
    return [sys.executable, "-m", "hrss_fraud", "--workspace", str(ws), *args]


def _timed(argv: list[str], code: Path, what: str) -> tuple[Sample, float]:
    """The sample and the CPU seconds (user + system) the command used: on a machine
    shared with other jobs the wall time grows with their load, the CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = measure(argv, cwd=code)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if s.returncode != 0:
        msg = f"{what} failed (exit {s.returncode}): {s.stderr_tail}"
        raise RuntimeError(msg)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return s, round(cpu, 2)


def _latest_manifest(ws: Path) -> dict[str, Any]:
    run_id = (ws / "runs" / "LATEST").read_text(encoding="utf-8").strip()
    return json.loads((ws / "runs" / run_id / "manifest.json").read_text(encoding="utf-8"))


def _score_detail(ws: Path) -> dict[str, Any]:
    m = _latest_manifest(ws)
    keys = ("mode", "prepare_seconds", "grouping_seconds", "lines_seconds", "line_files")
    return {k: m.get(k) for k in keys}


def _nightly_detail(ws: Path) -> dict[str, Any]:
    lines = (ws / "nightly" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    # each stage's seconds and the process's peak memory after it (MiB, when recorded)
    stages = {k: [v.get("seconds"), v.get("peak_mib")] for k, v in record["stages"].items()}
    run_id = record["score_run"]
    marts = json.loads((ws / "runs" / f"{run_id}.marts" / "marts.json").read_text("utf-8"))
    return {
        "status": record["status"],
        "stages": stages,
        "score": _score_detail(ws),
        "marts_phases": marts.get("seconds_per_phase"),
        "marts_slowest": sorted(marts["seconds_per_mart"].items(), key=lambda kv: -kv[1])[:8],
    }


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    times = [s["seconds"] for s in samples]
    return {
        "median_s": statistics.median(times),
        "median_cpu_s": statistics.median(s["cpu_s"] for s in samples),
        "min_s": min(times),
        "max_s": max(times),
        "peak_mib": max(s["peak_mib"] for s in samples),
        "samples": samples,
    }


def run(code: Path, base: Path, day: Path, scratch: Path, repeat: int) -> dict[str, Any]:
    inc = scratch / "inc"
    scratch.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[dict[str, Any]]] = {"increment": [], "nightly": []}
    for rep in range(repeat):
        _restore(base, inc)
        subprocess.run(_hrss(inc, "ingest", "--quiet", str(day)), cwd=code, check=True)
        s, cpu = _timed(_hrss(inc, "score", "--incremental", "--quiet"), code, "score")
        out["increment"].append(
            {"seconds": s.seconds, "cpu_s": cpu, "peak_mib": s.peak_mib, **_score_detail(inc)}
        )
        print(f"increment {rep + 1}: {s.seconds:.1f} s ({cpu:.1f} s CPU), {s.peak_mib:.0f} MiB")
        _restore(base, inc)
        (inc / "inbox").mkdir()
        for f in sorted(day.rglob("*.csv")):
            shutil.copy2(f, inc / "inbox" / f.name)
        s, cpu = _timed(_hrss(inc, "nightly"), code, "nightly")
        detail = _nightly_detail(inc)
        out["nightly"].append(
            {"seconds": s.seconds, "cpu_s": cpu, "peak_mib": s.peak_mib, **detail}
        )
        print(
            f"nightly {rep + 1}: {s.seconds:.1f} s ({cpu:.1f} s CPU), {s.peak_mib:.0f} MiB, "
            f"{detail['stages']}",
            flush=True,
        )
    shutil.rmtree(inc, ignore_errors=True)
    return {k: _summary(v) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--code", type=Path, required=True, help="the code tree to time")
    ap.add_argument("--base", type=Path, required=True, help="the scored year but a day")
    ap.add_argument("--day", type=Path, required=True, help="the day's uploads")
    ap.add_argument("--scratch", type=Path, required=True, help="a folder for the copies")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    for name in ("code", "base", "day"):
        if not getattr(a, name).is_dir():
            ap.error(f"--{name} {getattr(a, name)} is not a folder")
    code = a.code.resolve()
    result = {
        "code": str(code),
        "git_commit": subprocess.run(
            ["git", "-C", str(code), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "base": str(a.base.resolve()),
        "machine": machine_info(),
        **run(code, a.base.resolve(), a.day.resolve(), a.scratch.resolve(), a.repeat),
    }
    a.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    for k in ("increment", "nightly"):
        r = result[k]
        print(
            f"{k}: median {r['median_s']:.1f} s ({r['median_cpu_s']:.1f} s CPU), "
            f"peak {r['peak_mib']:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
