"""Time what one dashboard session asks of the data layer, call by call, on a scored
workspace: open the run, the overview's figures, the lead queue's first page, the case
grid's first page (what ``/leads`` opens on) and pages of it sorted, lead pages with
random sorts and filters, and the detail panel of random leads.

    python -m bench.dashboard WORKSPACE [--out FILE] [--seed 1] [--pages 20] [--details 20]
    python -m bench.dashboard WORKSPACE --marts both|on|off [--out FILE]
    python -m bench.dashboard WORKSPACE --replicate 100 --prepare-only
    python -m bench.dashboard WORKSPACE --score-prep WORKDIR --prepare-only

Without a run in WORKSPACE, ``--replicate N`` builds a synthetic one (the tiny county,
generated, ingested and scored there, then its findings and lines copied N times with
fresh ids as a newer run: about 10,000 × N leads without the county-year lake), and
otherwise ``hrss-fraud score`` scores the workspace's lake (after ``bench.score_prep
WORKDIR`` with ``--score-prep``). Preparing is untimed.

Each call is timed in this process with ``time.perf_counter``, as the web process would
serve it (the run opened once, its memo kept between calls). The report gives the median
and p95 (nearest rank) per kind of call in milliseconds; ``--out`` writes them with every
sample as JSON. The script uses only the data layer's public functions, so the same
script times an older checkout (``PYTHONPATH=that/checkout``) side by side.

``--marts`` (default ``both``): ``off`` computes everything on the fly, ``on`` builds the
run's dashboard marts first if missing (timed apart, as ``marts.build``) and reads them,
``both`` runs each in its own fresh process, off first, and prints them side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.cases.store import Decision, open_store
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.runs import latest_run, new_run_id, previous_run, publish
from hrss_fraud.outputs import overview
from hrss_fraud.outputs.lead_detail import lead_detail
from hrss_fraud.outputs.leads import LeadFilter, page
from hrss_fraud.outputs.runs_view import open_view

PAGE_ROWS = 100
"""ag-grid's default ``cacheBlockSize``: the rows one infinite-model request asks for."""

SORTABLE = (
    "rule_id",
    "rule_name",
    "severity",
    "fixmedins_code",
    "fixmedins_name",
    "zone",
    "psn_no",
    "period_start",
    "period_end",
    "amount_at_risk",
    "status",
)


def _hrss(ws: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "hrss_fraud", "--workspace", str(ws), *args]
    subprocess.run(cmd, check=True)


def _fresh_ids(ids: list[str], copy: int) -> list[str]:
    if copy == 0:
        return ids
    return [hashlib.blake2b(f"{i}:{copy}".encode(), digest_size=10).hexdigest() for i in ids]


def replicate(ws: Path, copies: int) -> str:
    """Publish the workspace's latest run's findings and lines ``copies`` times over (fresh
    ids, the same lake rows) as a newer run; return its id."""
    source = open_view(ws)
    findings, lines = source.run.findings(), source.run.lines()
    run_id = new_run_id()
    f_parts, l_parts = [], []
    for k in range(copies):
        ids = pl.DataFrame(
            {
                "finding_id": findings["finding_id"],
                "new_id": _fresh_ids(findings["finding_id"].to_list(), k),
            }
        )
        f_parts.append(
            findings.join(ids, on="finding_id")
            .with_columns(finding_id="new_id", run_id=pl.lit(run_id))
            .drop("new_id")
        )
        l_parts.append(
            lines.join(ids, on="finding_id").with_columns(finding_id="new_id").drop("new_id")
        )
    all_findings = pl.concat(f_parts).select(findings.columns)
    manifest = {
        **source.manifest,
        "run_id": run_id,
        "previous_run": source.run_id,
        "findings": all_findings.height,
        "amount_at_risk": round(
            int((all_findings["amount_at_risk"] * 100).round().cast(pl.Int64).sum()) / 100, 2
        ),
        "replicated": {"from": source.run_id, "copies": copies},
    }
    publish(ws, run_id, all_findings, pl.concat(l_parts).select(lines.columns), manifest)
    return run_id


def prepare(ws: Path, *, copies: int | None, score_prep: Path | None) -> None:
    """Make sure ``ws`` has a complete run (untimed)."""
    if score_prep is not None:
        subprocess.run([sys.executable, "-m", "bench.score_prep", str(score_prep)], check=True)
    if latest_run(ws) is not None:
        return
    if copies is None:
        _hrss(ws, "score", "--quiet")
        return
    county = ws / "synth"
    if not (county / "manifest.json").is_file():
        cmd = [sys.executable, "-m", "hrss_fraud", "synth", "--preset", "tiny", "--seed", "11"]
        subprocess.run([*cmd, "--out", str(county), "--quiet"], check=True)
    _hrss(ws, "ingest", "--quiet", str(county / "reference"), str(county / "uploads"))
    _hrss(ws, "score", "--quiet")
    replicate(ws, copies)


class Timer:
    """Wall time of each call, by kind of call."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    def __call__(self, kind: str, call: Callable[..., Any], *args: Any) -> Any:
        start = time.perf_counter()
        out = call(*args)
        self.samples[kind].append((time.perf_counter() - start) * 1000)
        return out

    def summary(self) -> dict[str, dict[str, float]]:
        def p95(xs: list[float]) -> float:
            return sorted(xs)[max(0, math.ceil(0.95 * len(xs)) - 1)]

        return {
            kind: {
                "n": len(xs),
                "median_ms": round(statistics.median(xs), 1),
                "p95_ms": round(p95(xs), 1),
                "max_ms": round(max(xs), 1),
            }
            for kind, xs in self.samples.items()
        }


def _random_filter(rng: random.Random, sample: pl.DataFrame) -> LeadFilter:
    """None, or one or two constraints with values taken from the run's leads."""
    lead = sample.row(rng.randrange(sample.height), named=True)
    start = lead["period_start"]
    month = date(start.year, start.month, 1)
    menu: list[Callable[[], LeadFilter]] = [
        lambda: LeadFilter(rule_ids=(lead["rule_id"],)),
        lambda: LeadFilter(severities=tuple(rng.sample(["definite", "high", "suspicious"], 2))),
        lambda: LeadFilter(fixmedins_codes=(lead["fixmedins_code"],)),
        lambda: LeadFilter(zones=(lead["zone"],)) if lead["zone"] else LeadFilter(),
        lambda: LeadFilter(statuses=(rng.choice(["new", "confirmed", "pending"]),)),
        lambda: LeadFilter(amount_min=round(float(lead["amount_at_risk"]), 2)),
        lambda: LeadFilter(date_from=month, date_to=month + timedelta(days=27)),
        lambda: LeadFilter(text=lead["evidence"][:4]),
        lambda: LeadFilter(psn_no=lead["psn_no"]) if lead["psn_no"] else LeadFilter(),
    ]
    flt = LeadFilter()
    for make in rng.sample(menu, rng.choice([0, 1, 1, 2])):
        flt = flt.narrowed(make())
    return flt


def _random_sort(rng: random.Random) -> list[dict[str, str]] | None:
    keys = rng.sample(SORTABLE, rng.choice([0, 1, 1, 2]))
    return [{"colId": k, "sort": rng.choice(["asc", "desc"])} for k in keys] or None


def _decide(store: Any, sample: pl.DataFrame, rng: random.Random, n: int) -> None:
    """Decisions on ``n`` of the sampled leads, so status filters and sorts have work."""
    picked = sample.sample(min(n, sample.height), seed=rng.randrange(1 << 30))
    outcomes = ["confirmed", "dismissed", "pending"]
    store.record_decisions(
        [
            Decision(fid, "first_review", rng.choice(outcomes), reason="bench", by="bench")
            for fid in picked["finding_id"]
        ]
    )


CASE_SORTS = ("amount_at_risk", "expected_recovery", "n_findings", "months", "progress")


def _cases(timer: Timer, view: Any, store: Any, rng: random.Random) -> None:
    """The case grid as the lead queue opens on it (its first page, by rank), then a page
    of it under a random sort, as the grid asks for them."""
    try:  # absent from checkouts before issue 16
        from hrss_fraud.outputs import case_queue
    except ImportError:
        return
    timer("cases.first_page", lambda: case_queue.page(view, None, None, 0, PAGE_ROWS, store))
    for _ in range(3):
        sort = [{"colId": rng.choice(CASE_SORTS), "sort": rng.choice(["asc", "desc"])}]
        timer("cases.page", case_queue.page, view, None, sort, 0, PAGE_ROWS, store)


def _open(ws: Path, run_id: str | None, marts: bool) -> Any:
    view = open_view(ws, run_id)
    view.use_marts = marts  # an older checkout's view just carries the attribute
    return view


def _profiles(timer: Timer, view: Any, store: Any, sample: pl.DataFrame, n: int, seed: int) -> None:
    """``n`` institution profiles, person timelines and doctor profiles of random leads'
    institutions, persons and billing doctors (each page's callback computes one)."""
    if n <= 0:
        return
    from hrss_fraud.outputs.doctor_view import doctor_days, doctor_profile
    from hrss_fraud.outputs.institution_view import institution_profile
    from hrss_fraud.outputs.person_view import timeline

    picked = sample.sample(n, seed=seed + 2, with_replacement=True)
    for code in picked["fixmedins_code"]:
        timer("profile.institution", institution_profile, view, code, store)
    for psn_no in picked["psn_no"].drop_nulls():
        timer("profile.person_timeline", timeline, view, psn_no)
    doctors = doctor_days(view).select("fixmedins_code", "dr_codg").unique()
    for code, dr in doctors.sort(doctors.columns).sample(n, seed=seed + 3).rows():
        timer("profile.doctor", doctor_profile, view, code, dr, store)


BENCH_USER = "bench-pages"


def _pages(timer: Timer, ws: Path, view: Any, sample: pl.DataFrame, n: int, seed: int) -> None:
    """The profile pages' whole callbacks (data, figures, tables, grid: the layout the
    dashboard sends) as a supervisor opens them, for the institutions, persons and
    doctors :func:`_profiles` picks. The app's run is warmed by one untimed page first,
    as a server that has answered requests before is."""
    import flask

    from hrss_fraud.cases.users import add_user, get_user
    from hrss_fraud.dashboard.app import create_app
    from hrss_fraud.outputs.doctor_view import doctor_days

    with open_store(ws) as store:
        if get_user(store, BENCH_USER) is None:
            password = f"{secrets.token_urlsafe(12)}-7a"
            add_user(store, BENCH_USER, role="supervisor", password=password, by="bench")
    app = create_app(ws)
    from hrss_fraud.dashboard.pages import doctor, institution, person  # after the app

    picked = sample.sample(n, seed=seed + 2, with_replacement=True)
    with app.server.test_request_context():
        flask.session["username"] = BENCH_USER
        institution.layout(picked["fixmedins_code"][0])
        for code in picked["fixmedins_code"]:
            timer("page.institution", institution.layout, code)
        for psn_no in picked["psn_no"].drop_nulls():
            timer("page.person", person.layout, psn_no)
        doctors = doctor_days(view).select("fixmedins_code", "dr_codg").unique()
        for code, dr in doctors.sort(doctors.columns).sample(n, seed=seed + 3).rows():
            timer("page.doctor", doctor.layout, code, dr)


def session(
    ws: Path,
    *,
    seed: int,
    pages: int,
    details: int,
    decisions: int,
    marts: bool = False,
    profiles: int = 0,
) -> Timer:
    rng = random.Random(seed)
    timer = Timer()
    # untimed, as `serve` does at start: import the rule kernels the lead panel's rule
    # section needs (hrss_fraud.outputs.marts.build_in_background)
    load_catalogue(workspace=ws)
    view = timer("open_view", lambda: _open(ws, None, marts))
    prev_id = previous_run(ws, view.run_id)
    previous = _open(ws, prev_id, marts) if prev_id else None
    start = time.perf_counter()
    timer("overview.run_status", lambda: overview.run_status(view))
    timer("overview.lead_totals", lambda: overview.lead_totals(view))
    timer("overview.fund_spending", lambda: overview.fund_spending(view))
    for by in overview.BREAKDOWNS:
        timer(f"overview.leads_by.{by}", lambda by=by: overview.leads_by(view, by))
    timer("overview.changes", lambda: overview.changes(view, previous))
    timer.samples["overview.first_load"].append((time.perf_counter() - start) * 1000)
    timer.samples["overview.first_load+open_view"].append(
        timer.samples["overview.first_load"][0] + timer.samples["open_view"][0]
    )
    columns = ["finding_id", "rule_id", "fixmedins_code", "psn_no", "period_start"]
    sample = pl.read_parquet(view.findings_path, columns=[*columns, "amount_at_risk", "evidence"])
    sample = sample.sample(min(5000, sample.height), seed=seed).join(
        view.institutions.select("fixmedins_code", "zone"), on="fixmedins_code", how="left"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp))
        try:
            _decide(store, sample, rng, decisions)
            timer("leads.first_page", lambda: page(view, None, None, 0, PAGE_ROWS, store))
            _cases(timer, view, store, rng)
            timer.samples["first_page_load"].append(
                timer.samples["overview.first_load+open_view"][0]
                + timer.samples["leads.first_page"][0]
            )
            for _ in range(pages // 2 or 1):
                flt, sort = _random_filter(rng, sample), _random_sort(rng)
                _, n = timer("leads.page", page, view, flt, sort, 0, PAGE_ROWS, store)
                at = rng.randrange(max(1, math.ceil(n / PAGE_ROWS))) * PAGE_ROWS
                timer("leads.page", page, view, flt, sort, at, at + PAGE_ROWS, store)
            for fid in sample["finding_id"].sample(details, seed=seed + 1, with_replacement=True):
                timer("lead_detail", lead_detail, view, fid, store)
            _profiles(timer, view, store, sample, profiles, seed)
        finally:
            store.close()
    if profiles > 0:
        _pages(timer, ws, view, sample, profiles, seed)
    return timer


def _build_marts(ws: Path) -> float:
    """Build the latest run's marts if missing (untimed by the session); its seconds."""
    from hrss_fraud.outputs.marts import build_marts  # absent from older checkouts

    start = time.perf_counter()
    build_marts(ws)
    return time.perf_counter() - start


def _table(columns: dict[str, dict[str, dict[str, float]]]) -> str:
    """Median / p95 per call, one pair of columns per variant."""
    names = list(columns)
    head = "| call | " + " | ".join(f"{n} median ms | {n} p95 ms" for n in names) + " |"
    lines = [head, "|---|" + "---|---|" * len(names)]
    kinds = list(dict.fromkeys(k for summary in columns.values() for k in summary))
    for kind in kinds:
        cells = []
        for n in names:
            s = columns[n].get(kind)
            cells.append(f"{s['median_ms']} | {s['p95_ms']}" if s else "– | –")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--replicate", type=int, metavar="N", help="synthetic run: tiny county × N")
    ap.add_argument("--score-prep", type=Path, metavar="WORKDIR", help="run bench.score_prep")
    ap.add_argument("--prepare-only", action="store_true", help="prepare the run, time nothing")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--details", type=int, default=20)
    ap.add_argument(
        "--profiles", type=int, default=0, help="institution, person and doctor pages to time"
    )
    ap.add_argument("--decisions", type=int, default=500, help="review decisions to record")
    ap.add_argument(
        "--marts", choices=("both", "on", "off"), default="both", help="with, without or both"
    )
    args = ap.parse_args(argv)
    prepare(args.workspace, copies=args.replicate, score_prep=args.score_prep)
    if args.prepare_only:
        return 0
    if args.marts == "both":
        return _both(args)
    build_seconds = _build_marts(args.workspace) if args.marts == "on" else None
    timer = session(
        args.workspace,
        seed=args.seed,
        pages=args.pages,
        details=args.details,
        profiles=args.profiles,
        decisions=args.decisions,
        marts=args.marts == "on",
    )
    summary = timer.summary()
    print(_table({f"marts {args.marts}": summary}))
    if build_seconds is not None:
        print(f"\nmarts.build: {build_seconds:.1f} s (0 if they were built already)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "workspace": str(args.workspace),
            "seed": args.seed,
            "marts": args.marts,
            "marts_build_seconds": build_seconds,
            "summary": summary,
            "samples_ms": {k: [round(x, 2) for x in v] for k, v in timer.samples.items()},
        }
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def _both(args: argparse.Namespace) -> int:
    """Each variant in a fresh process (no memo or import shared), off first."""
    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("off", "on"):
            out = Path(tmp) / f"{mode}.json"
            cmd = [sys.executable, "-m", "bench.dashboard", str(args.workspace), "--marts", mode]
            cmd += ["--seed", str(args.seed), "--pages", str(args.pages)]
            cmd += ["--details", str(args.details), "--decisions", str(args.decisions)]
            cmd += ["--profiles", str(args.profiles)]
            subprocess.run([*cmd, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
            reports[mode] = json.loads(out.read_text(encoding="utf-8"))
    print(_table({f"marts {m}": r["summary"] for m, r in reports.items()}))
    build = reports["on"]["marts_build_seconds"]
    print(f"\nmarts.build (before the 'on' session): {build:.1f} s (0 if built already)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = {"workspace": str(args.workspace), "seed": args.seed, "variants": reports}
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
