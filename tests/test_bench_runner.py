"""Tests of the benchmark runner with tiny ``python -c`` benchmarks.

Nothing here asserts on durations (timed assertions flake on loaded CI machines);
we check arithmetic, ordering, failure handling, files written and memory peaks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # allow bare `pytest` as well as `python -m pytest`
    sys.path.insert(0, str(ROOT))

from bench.benchmarks import REGISTRY, Benchmark, Registry, Variant  # noqa: E402
from bench.runner import (  # noqa: E402
    BenchmarkError,
    BenchmarkResult,
    VariantResult,
    clean_paths,
    main,
    markdown_table,
    ratios_to_first,
    run_benchmark,
    substitute,
    summarise,
)

SLEEP = ("{python}", "-c", "import time; time.sleep(0.05)")
ALLOC = ("{python}", "-c", "import time; b = b'x' * (50 * 1024 * 1024); time.sleep(0.3)")
FAIL = ("{python}", "-c", "import sys; sys.stderr.write('boom-from-child'); sys.exit(3)")


def _append(letter: str) -> tuple[str, ...]:
    """A command that appends ``letter`` to {workdir}/order.txt, recording run order."""
    code = f"import sys; open(sys.argv[1], 'a').write({letter!r})"
    return ("{python}", "-c", code, "{workdir}/order.txt")


def _registry(*benchmarks: Benchmark) -> Registry:
    registry = Registry()
    for bench in benchmarks:
        registry.register(bench)
    return registry


def _run_main(tmp_path: Path, registry: Registry, *args: str) -> tuple[int, dict]:
    out = tmp_path / "results" / "run.json"
    argv = [*args, "--out", str(out), "--workdir", str(tmp_path / "work")]
    code = main(argv, registry=registry)
    return code, json.loads(out.read_text(encoding="utf-8"))


def test_summarise_median_min_max() -> None:
    assert summarise([3.0, 1.0, 2.0]) == (2.0, 1.0, 3.0)
    assert summarise([4.0, 1.0, 2.0, 3.0]) == (2.5, 1.0, 4.0)
    assert summarise([]) == (None, None, None)


def test_ratios_to_first() -> None:
    assert ratios_to_first([2.0, 1.0, 5.0]) == [1.0, 0.5, 2.5]
    assert ratios_to_first([2.0]) == [None]  # a lone variant has nothing to compare with
    assert ratios_to_first([0.0, 1.0]) == [None, None]
    assert ratios_to_first([None, 1.0]) == [None, None]


def test_placeholders_use_replace_so_braces_survive(tmp_path: Path) -> None:
    cmd = ("{python}", "-c", "print({'a': 1})", "{workdir}/x")
    assert substitute(cmd, python="py", workdir=tmp_path) == [
        "py",
        "-c",
        "print({'a': 1})",
        f"{tmp_path}/x",
    ]


def test_variants_are_interleaved_and_setup_runs_once(tmp_path: Path) -> None:
    bench = Benchmark(
        name="order",
        description="records run order",
        setup=_append("S"),
        variants=(Variant("a", _append("A")), Variant("b", _append("B"))),
        repeat=3,
    )
    result = run_benchmark(bench, workdir=tmp_path)
    assert result.status == "ok"
    assert (tmp_path / "order.txt").read_text() == "SABABAB"
    assert [len(v.times_s) for v in result.variants] == [3, 3]
    assert result.setup_seconds is not None
    first, second = result.variants
    assert first.ratio_to_first == 1.0
    assert second.ratio_to_first == pytest.approx(second.median_s / first.median_s)
    assert first.median_s == summarise(first.times_s)[0]


def test_clean_removes_outputs_before_each_repetition(tmp_path: Path) -> None:
    # Fails (exit 5) if its output already exists, so it only passes when cleaned.
    code = "import os, sys; p = sys.argv[1]; sys.exit(5) if os.path.exists(p) else os.makedirs(p)"
    cmd = ("{python}", "-c", code, "{workdir}/out/sub")
    cleaned = Benchmark("c", "cleaned", variants=(Variant("v", cmd, clean=("out",)),), repeat=2)
    assert run_benchmark(cleaned, workdir=tmp_path / "w1").status == "ok"
    dirty = Benchmark("d", "not cleaned", variants=(Variant("v", cmd),), repeat=2)
    assert run_benchmark(dirty, workdir=tmp_path / "w2").status == "failed"


def test_before_commands_run_untimed_before_each_repetition(tmp_path: Path) -> None:
    variant = Variant("v", _append("V"), before=(_append("b"),))
    bench = Benchmark("b", "before", variants=(variant,), repeat=2)
    assert run_benchmark(bench, workdir=tmp_path).status == "ok"
    assert (tmp_path / "order.txt").read_text() == "bVbV"


def test_clean_refuses_paths_outside_workdir(tmp_path: Path) -> None:
    for bad in ("..", ".", "../elsewhere", "/etc"):
        with pytest.raises(BenchmarkError):
            clean_paths(Variant("v", SLEEP, clean=(bad,)), tmp_path / "work")


def test_failure_is_reported_and_runner_continues(tmp_path: Path) -> None:
    registry = _registry(
        Benchmark("fails", "exits 3", variants=(Variant("v", FAIL),), repeat=2),
        Benchmark("works", "sleeps", variants=(Variant("v", SLEEP),), repeat=2),
    )
    code, report = _run_main(tmp_path, registry)
    assert code == 1
    fails, works = report["benchmarks"]
    assert fails["status"] == "failed"
    assert "exited with 3" in fails["error"]
    assert "boom-from-child" in fails["error"]
    assert fails["variants"][0]["times_s"] == []
    assert works["status"] == "ok"
    assert len(works["variants"][0]["times_s"]) == 2


def test_json_and_latest_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = _registry(
        Benchmark(
            "pair",
            "two variants",
            variants=(Variant("first", SLEEP), Variant("second", SLEEP)),
            goal="none really",
        ),
        Benchmark("optin", "not default", variants=(Variant("v", FAIL),), default=False),
    )
    code, report = _run_main(tmp_path, registry, "--repeat", "2")
    assert code == 0  # the failing benchmark is opt-in, so not run
    latest = tmp_path / "results" / "latest.json"
    assert json.loads(latest.read_text(encoding="utf-8")) == report
    assert not list(latest.parent.glob("*.tmp"))
    machine = report["machine"]
    for key in ("cpu_count", "memory_total_mib", "platform", "python", "git_commit"):
        assert key in machine
    assert [b["name"] for b in report["benchmarks"]] == ["pair"]
    first, second = report["benchmarks"][0]["variants"]
    assert len(first["times_s"]) == len(first["peaks_mib"]) == 2
    assert first["ratio_to_first"] == 1.0
    assert second["ratio_to_first"] == pytest.approx(second["median_s"] / first["median_s"])
    table = capsys.readouterr().out
    assert "| pair | first | 2 |" in table
    assert "goal: none really" in table


def test_peak_memory_of_allocation_is_seen(tmp_path: Path) -> None:
    bench = Benchmark(
        "mem",
        "alloc vs sleep",
        variants=(Variant("sleep", SLEEP), Variant("alloc", ALLOC)),
        repeat=1,
    )
    result = run_benchmark(bench, workdir=tmp_path)
    sleep, alloc = result.variants
    assert sleep.peak_mib is not None and alloc.peak_mib is not None
    assert alloc.peak_mib - sleep.peak_mib > 30


def test_peak_memory_counts_grandchildren(tmp_path: Path) -> None:
    inner = "import time; b = b'x' * (50 * 1024 * 1024); time.sleep(0.5)"
    outer = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {inner!r}])"
    variant = Variant("v", ("{python}", "-c", outer))
    bench = Benchmark("tree", "child allocates", variants=(variant,))
    result = run_benchmark(bench, workdir=tmp_path, repeat=1)
    assert result.variants[0].peak_mib is not None
    assert result.variants[0].peak_mib > 50


def test_unknown_name_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = _registry(Benchmark("only", "the one", variants=(Variant("v", SLEEP),)))
    assert main(["nope", "--workdir", str(tmp_path)], registry=registry) == 2
    assert main(["--list"], registry=registry) == 0
    assert "only" in capsys.readouterr().out


def test_markdown_table_marks_missing_values() -> None:
    result = BenchmarkResult("x", "fails", None, 1, status="failed", error="boom")
    result.variants = [VariantResult("v", list(FAIL))]
    result.warnings = ["polling missed a spike"]
    table = markdown_table([result])
    assert "`x` warning: polling missed a spike" in table
    assert "| x | v | 0 | – | – | – | – | – | failed |" in table
    assert "boom" in table


def test_registry_rejects_bad_benchmarks() -> None:
    with pytest.raises(ValueError):
        Benchmark("x", "no variants", variants=())
    with pytest.raises(ValueError):
        Benchmark("x", "dupes", variants=(Variant("v", SLEEP), Variant("v", SLEEP)))
    registry = _registry(Benchmark("x", "one", variants=(Variant("v", SLEEP),)))
    with pytest.raises(ValueError):
        registry.register(Benchmark("x", "again", variants=(Variant("v", SLEEP),)))


def test_synth_benchmarks_registered() -> None:
    tiny = REGISTRY.benchmarks["synth-tiny"]
    year = REGISTRY.benchmarks["synth-county-year"]
    assert tiny.default and year.default
    assert (tiny.repeat, year.repeat) == (3, 1)
    assert year.goal == "< 300 s and < 8 GB peak on 2 cores"
    (ours,) = year.variants
    assert ours.name == "ours"
    assert list(ours.command) == [
        "{python}",
        "-m",
        "hrss_fraud",
        "synth",
        "--preset",
        "county-year",
        "--seed",
        "1",
        "--out",
        "{workdir}/synth-county-year",
    ]
    assert ours.clean == ("synth-county-year",)
    assert "--preset" in tiny.variants[0].command and "tiny" in tiny.variants[0].command
