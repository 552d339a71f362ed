"""Run registered benchmarks and record wall time and peak memory.

Every repetition runs in a fresh subprocess so import and cache effects count the way a
user would see them, and variants are interleaved (A, B, A, B, ...) so machine noise hits
them alike; ratios between variants measured in one run are what we quote.

Usage (from the repo root)::

    python -m bench.runner [NAMES...] [--repeat N] [--out FILE] [--list] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.benchmarks import REGISTRY, Benchmark, Command, Registry, Variant

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_WORKDIR = REPO_ROOT / "bench" / "work"
POLL_SECONDS = 0.05
MIB = 1024 * 1024
# Linux reports ru_maxrss in KiB, macOS in bytes.
_RUSAGE_UNIT = 1 if sys.platform == "darwin" else 1024
STDERR_TAIL_CHARS = 2000


class BenchmarkError(Exception):
    """A command failed; carries the stderr tail so the report says why."""


@dataclass
class Sample:
    """One timed repetition of one variant."""

    seconds: float
    peak_mib: float
    """Max over polls of the summed RSS of the process and all its descendants."""
    rusage_mib: float | None
    """ru_maxrss of the largest single waited-for child, if this run raised it (cross-check)."""
    returncode: int
    stderr_tail: str


@dataclass
class VariantResult:
    name: str
    command: list[str]
    times_s: list[float] = field(default_factory=list)
    peaks_mib: list[float] = field(default_factory=list)
    rusage_mib: list[float | None] = field(default_factory=list)
    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    peak_mib: float | None = None
    ratio_to_first: float | None = None


@dataclass
class BenchmarkResult:
    name: str
    description: str
    goal: str | None
    repeat: int
    status: str = "ok"
    error: str | None = None
    setup_seconds: float | None = None
    variants: list[VariantResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- arithmetic -------------------------------------------------------------------------


def summarise(times: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """Median, min and max of the repetition times (all None when nothing was measured)."""
    if not times:
        return None, None, None
    return statistics.median(times), min(times), max(times)


def ratios_to_first(medians: Sequence[float | None]) -> list[float | None]:
    """Each median divided by the first variant's; None where undefined."""
    if len(medians) < 2 or not medians[0]:
        return [None] * len(medians)
    first = medians[0]
    return [None if m is None else m / first for m in medians]


# --- running commands -------------------------------------------------------------------


def substitute(command: Command, *, python: str, workdir: Path) -> list[str]:
    """Fill placeholders with str.replace, not str.format, so ``python -c`` code may use braces."""
    return [a.replace("{python}", python).replace("{workdir}", str(workdir)) for a in command]


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def _kill_tree(pid: int) -> None:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for proc in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.Error):
                proc.kill()


def measure(argv: list[str], *, cwd: Path = REPO_ROOT) -> Sample:
    """Run ``argv`` once, timing it and polling its process tree's RSS every 50 ms.

    The main thread blocks in ``wait`` so the wall time is not quantised by the poll
    interval; a side thread does the polling.
    """
    rusage_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak = 0
    stop = threading.Event()
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)

        def poll() -> None:
            nonlocal peak
            try:
                root = psutil.Process(proc.pid)
            except psutil.Error:
                return
            while True:
                peak = max(peak, _tree_rss(root))
                if stop.wait(POLL_SECONDS):
                    return

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            returncode = proc.wait()
        except BaseException:
            _kill_tree(proc.pid)
            proc.wait()
            raise
        finally:
            seconds = time.perf_counter() - start
            stop.set()
            poller.join()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    rusage_after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rusage = rusage_after * _RUSAGE_UNIT / MIB if rusage_after > rusage_before else None
    return Sample(
        seconds=seconds,
        peak_mib=peak / MIB,
        rusage_mib=rusage,
        returncode=returncode,
        stderr_tail=stderr[-STDERR_TAIL_CHARS:],
    )


def _run_checked(argv: list[str], what: str) -> Sample:
    sample = measure(argv)
    if sample.returncode != 0:
        raise BenchmarkError(
            f"{what} exited with {sample.returncode}: {' '.join(argv)}\n{sample.stderr_tail}"
        )
    return sample


def clean_paths(variant: Variant, workdir: Path) -> None:
    """Delete the variant's outputs; refuse anything that is not strictly inside workdir."""
    root = workdir.resolve()
    for rel in variant.clean:
        target = (root / rel).resolve()
        if target == root or root not in target.parents:
            raise BenchmarkError(f"clean path {rel!r} is not inside workdir {root}")
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()


# --- running benchmarks -----------------------------------------------------------------


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_benchmark(
    bench: Benchmark, *, workdir: Path, repeat: int | None = None, python: str = sys.executable
) -> BenchmarkResult:
    """Setup once (untimed), then interleave the variants for ``repeat`` rounds."""
    rounds = repeat if repeat is not None else bench.repeat
    result = BenchmarkResult(bench.name, bench.description, bench.goal, rounds)
    result.variants = [
        VariantResult(v.name, substitute(v.command, python=python, workdir=workdir))
        for v in bench.variants
    ]
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if bench.setup is not None:
            _log(f"[{bench.name}] setup")
            setup = substitute(bench.setup, python=python, workdir=workdir)
            result.setup_seconds = _run_checked(setup, "setup").seconds
        for rep in range(rounds):
            for variant, vres in zip(bench.variants, result.variants, strict=True):
                clean_paths(variant, workdir)
                for before in variant.before:
                    _run_checked(substitute(before, python=python, workdir=workdir), "before")
                sample = _run_checked(vres.command, f"variant {variant.name!r}")
                vres.times_s.append(sample.seconds)
                vres.peaks_mib.append(sample.peak_mib)
                vres.rusage_mib.append(sample.rusage_mib)
                if sample.rusage_mib is not None and sample.rusage_mib > sample.peak_mib * 1.1:
                    # One process alone peaked above our polled tree sum: polling missed a
                    # spike (typical for runs of only a few poll intervals).
                    result.warnings.append(
                        f"{variant.name} rep {rep + 1}: polled peak {sample.peak_mib:.0f} MiB"
                        f" < single-process ru_maxrss {sample.rusage_mib:.0f} MiB"
                    )
                _log(
                    f"[{bench.name}] {variant.name} rep {rep + 1}/{rounds}: "
                    f"{sample.seconds:.3f} s, {sample.peak_mib:.0f} MiB"
                )
    except BenchmarkError as exc:
        result.status = "failed"
        result.error = str(exc)
        _log(f"[{bench.name}] FAILED: {exc}")
    for vres in result.variants:
        vres.median_s, vres.min_s, vres.max_s = summarise(vres.times_s)
        vres.peak_mib = max(vres.peaks_mib, default=None)
    if result.status == "ok":
        medians = [v.median_s for v in result.variants]
        for vres, ratio in zip(result.variants, ratios_to_first(medians), strict=True):
            vres.ratio_to_first = ratio
    return result


# --- reporting ----------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def machine_info() -> dict[str, Any]:
    """What a quoted number needs beside it to be comparable with another machine's."""
    status = _git("status", "--porcelain")
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpus_usable": len(affinity) if affinity is not None else None,
        "memory_total_mib": round(psutil.virtual_memory().total / MIB),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def markdown_table(results: Sequence[BenchmarkResult]) -> str:
    lines = [
        "| benchmark | variant | reps | median s | min s | max s | peak MiB | × first | status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for res in results:
        for vres in res.variants:
            lines.append(
                f"| {res.name} | {vres.name} | {len(vres.times_s)} | {_fmt(vres.median_s, '.3f')}"
                f" | {_fmt(vres.min_s, '.3f')} | {_fmt(vres.max_s, '.3f')}"
                f" | {_fmt(vres.peak_mib, '.0f')} | {_fmt(vres.ratio_to_first, '.2f')}"
                f" | {res.status} |"
            )
    notes = [f"- `{r.name}` goal: {r.goal}" for r in results if r.goal]
    notes += [f"- `{r.name}` warning: {w}" for r in results for w in r.warnings]
    notes += [f"- `{r.name}` FAILED:\n\n```\n{r.error}\n```" for r in results if r.error]
    return "\n".join(lines + (["", *notes] if notes else [])) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temp file in the same directory then os.replace, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_results(report: dict[str, Any], out: Path) -> None:
    """Write ``out`` and replace ``latest.json`` beside it."""
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    _write_atomic(out, text)
    _write_atomic(out.parent / "latest.json", text)


# --- CLI ----------------------------------------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.runner", description="Run hrss_fraud benchmarks."
    )
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all default ones)")
    parser.add_argument("--repeat", type=int, help="override every benchmark's repetitions")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/<UTC>.json)")
    parser.add_argument("--list", action="store_true", help="list benchmarks and exit")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="scratch folder")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def _list(registry: Registry) -> str:
    lines = []
    for b in registry.benchmarks.values():
        flag = "default" if b.default else "opt-in"
        variants = ", ".join(v.name for v in b.variants)
        goal = f"; goal: {b.goal}" if b.goal else ""
        lines.append(f"{b.name} [{flag}, repeat {b.repeat}, variants: {variants}{goal}]")
        lines.append(f"    {b.description}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, registry: Registry = REGISTRY) -> int:
    """Run the selected benchmarks; exit 1 if any failed, 2 on unknown names."""
    args = _parse_args(argv)
    if args.list:
        print(_list(registry))
        return 0
    unknown = [n for n in args.names if n not in registry.benchmarks]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; try --list", file=sys.stderr)
        return 2
    selected = [registry.benchmarks[n] for n in args.names] or registry.defaults()
    workdir = args.workdir.resolve()
    started = _utc_now()
    results = [run_benchmark(b, workdir=workdir, repeat=args.repeat) for b in selected]
    finished = _utc_now()
    out = args.out or RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    report = {
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": finished.isoformat(timespec="seconds"),
        "argv": list(sys.argv if argv is None else argv),
        "workdir": str(workdir),
        "units": {"time": "seconds (wall)", "memory": "MiB (2**20 bytes)"},
        "machine": machine_info(),
        "benchmarks": [asdict(r) for r in results],
    }
    write_results(report, out)
    print(markdown_table(results))
    _log(f"results written to {out} and {out.parent / 'latest.json'}")
    return 1 if any(r.status != "ok" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
