"""Spark against DuckDB on one machine, and Spark's cost per fee line as the county grows.

    flock /tmp/bench.lock .venv/bin/python -m bench.spark_scale WORKDIR \\
        [--preset county-year] [--scales 1,2,4] [--repeat 3] [--cores 2]

For each scale k it generates (once, untimed) a county of the preset's persons × k
(``synth``, same seed, same months) and ingests it into ``WORKDIR/spark-scale/x{k}``; then
times, ``--repeat`` times each and each in a fresh process, the prepare step and every
active rule of the catalogue (with the saved models a DuckDB ``score`` trained) on DuckDB
(``spark.score.run_on_duckdb``: ``engine.prepare.build`` + ``run_rules``) and on local
Spark (``spark.score.run_on_spark``, ``local[cores]``). Neither publishes a run. Writes
``bench/results/spark-scale-<preset>-<UTC stamp>.json`` with, per scale and engine, the
median seconds, the peak resident memory of the timed process (Python's peak plus its
children's: local Spark's JVM, driver and executors in one), the fee lines prepared and
the cost per line (median µs per line); quoted in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def make_lake(workdir: Path, preset: str, scale: int) -> Path:
    """The workspace of a county ``scale`` times the preset's persons (built once)."""
    from hrss_fraud.ingest.pipeline import ingest
    from hrss_fraud.lake import Lake
    from hrss_fraud.scoring.score import score
    from hrss_fraud.synth.config import SynthConfig
    from hrss_fraud.synth.generate import generate

    ws = workdir / "spark-scale" / f"{preset}-x{scale}"
    if (ws / ".ready").exists():
        return ws
    base = SynthConfig.preset(preset, out=ws / "county", seed=11)
    generate(SynthConfig.preset(preset, out=ws / "county", seed=11, persons=base.persons * scale))
    county = ws / "county"
    ingest(Lake(ws / "lake"), [county / "reference", *sorted((county / "uploads").iterdir())])
    score(ws)  # the detectors' saved models, which both engines then read
    Lake(ws / "lake").connect().close()  # the superseded-rows index, as scoring finds it
    (ws / ".ready").touch()
    return ws


def _timed_once(engine: str, ws: Path, cores: int) -> dict[str, float]:
    """One timed run in this process (called in a fresh child by :func:`measure`)."""
    from hrss_fraud.engine.needs import inactive_rules
    from hrss_fraud.knowledge import load_knowledge
    from hrss_fraud.scoring.score import Policy
    from hrss_fraud.spark.score import run_on_duckdb, run_on_spark
    from hrss_fraud.spark.session import local_session

    policy = Policy.load(ws, None)
    inactive = inactive_rules(policy.rules, load_knowledge(policy.knowledge_dir))
    rules = [r for r in policy.rules if r.id not in inactive]
    t0 = time.perf_counter()
    if engine == "duckdb":
        result, counts = run_on_duckdb(ws, rules, run_id="bench")
    else:
        spark = local_session(ws / "spark-tmp", cores=cores, driver_memory="4g")
        done = run_on_spark(ws, spark, rules, ws / "spark-tmp" / "run", run_id="bench")
        result, counts = done.result, done.counts
        spark.stop()
    seconds = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    jvm = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Spark's JVM, once stopped
    return {
        "seconds": seconds,
        "peak_mb": (own + jvm) / 1024,
        "lines": counts["line"],
        "findings": result.findings.height,
        "failed_rules": len(result.failed),
        "rules": len(rules),
    }


def measure(engine: str, ws: Path, cores: int, repeat: int) -> dict[str, object]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-m", "bench.spark_scale", "--once", engine, str(ws), str(cores)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    median = statistics.median(r["seconds"] for r in runs)
    lines = runs[0]["lines"]
    return {
        "median_s": round(median, 2),
        "runs_s": [round(r["seconds"], 2) for r in runs],
        "peak_mb": round(max(r["peak_mb"] for r in runs)),
        "lines": lines,
        "us_per_line": round(median / max(lines, 1) * 1e6, 2),
        "findings": runs[0]["findings"],
        "failed_rules": runs[0]["failed_rules"],
        "rules": runs[0]["rules"],
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--once":
        engine, ws, cores = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(_timed_once(engine, ws, cores)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--preset", default="county-year")
    ap.add_argument("--scales", default="1,2,4")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--engines", default="duckdb,spark")
    a = ap.parse_args()
    report: dict[str, object] = {
        "preset": a.preset,
        "cores": a.cores,
        "repeat": a.repeat,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "scales": {},
    }
    for k in (int(x) for x in a.scales.split(",")):
        ws = make_lake(a.workdir, a.preset, k)
        engines = {e: measure(e, ws, a.cores, a.repeat) for e in a.engines.split(",")}
        report["scales"][f"x{k}"] = engines  # type: ignore[index]
        print(f"x{k}: {json.dumps(engines)}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"spark-scale-{a.preset}-{stamp}.json"
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
