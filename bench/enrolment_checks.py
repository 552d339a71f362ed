"""The enrolment checks on a county's employers: about 8,000 employers and 150,000
employees over 12 months (the county-year preset's employer files).

    python -m bench.enrolment_checks WORKDIR [--repeat 3]

Setup (untimed): the county-year population and its employer files
(:mod:`hrss_fraud.synth.employers`; no claims, so the check of claims during an
interruption runs over none), ingested into ``WORKDIR/enrolment-cy``. Timed: ``score``
with the eight checks of the family ``enrolment`` alone (the scoring database prepared
anew each time), each repetition in a process of its own; the median and the peak
resident memory of those processes are printed and written to
``bench/results/enrolment_checks.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score
from hrss_fraud.synth import employers
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.generate import build_world
from hrss_fraud.synth.output import write_reference

RESULTS = Path(__file__).parent / "results" / "enrolment_checks.json"


def rule_ids() -> list[str]:
    return sorted(r.id for r in load_catalogue().rules.values() if r.family == "enrolment")


def prepare(workdir: Path) -> Path:
    """The county-year's employer files ingested into a workspace (once)."""
    ws = workdir / "enrolment-cy"
    if (ws / "lake").exists():
        return ws
    files = workdir / "enrolment-cy-files"
    cfg = SynthConfig.preset("county-year", out=files)
    person = build_world(cfg).pop.person
    write_reference(files, "person", person)
    claims = pl.DataFrame(
        schema={"psn_no": pl.String, "setl_id": pl.String, "setl_time": pl.Datetime("us")}
    )
    employers.write_all(cfg, files, person, claims)
    result = ingest(Lake(ws / "lake"), [files / "reference", files / "enrolment"])
    if result.rejected:
        msg = f"setup failed: {[f.error for f in result.rejected]}"
        raise RuntimeError(msg)
    return ws


def once(ws: Path) -> float:
    t0 = time.perf_counter()
    score(ws, rule_ids=rule_ids())
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workdir", type=Path)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--once", action="store_true", help="one timed run (used by the others)")
    args = p.parse_args()
    if args.once:
        print(once(args.workdir))
        return
    ws = prepare(args.workdir)
    lake = Lake(ws / "lake").connect()
    sizes = {
        t: lake.execute(q).fetchall()[0][0]
        for t, q in {
            "employers": "SELECT count(*) FROM employer",
            "employees": "SELECT count(DISTINCT psn_no) FROM emp_contribution",
            "contribution_rows": "SELECT count(*) FROM emp_contribution",
            "months": "SELECT count(DISTINCT cashym) FROM emp_contribution",
            "filings": "SELECT count(*) FROM insu_event",
        }.items()
    }
    seconds = []
    for _ in range(args.repeat):
        cmd = [sys.executable, "-m", "bench.enrolment_checks", str(ws), "--once"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        seconds.append(float(out.strip().splitlines()[-1]))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = {
        **sizes,
        "seconds": [round(s, 2) for s in seconds],
        "median_s": round(statistics.median(seconds), 2),
        "peak_rss_mb": round(peak_mb),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
