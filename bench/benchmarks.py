"""Registry of benchmarks run by ``python -m bench.runner``.

Benchmarks are data, not code, so the runner can time every variant the same way in a
fresh subprocess and the registry reads as a list of what we promise about speed/memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Command = tuple[str, ...]
"""One command line; ``{python}`` and ``{workdir}`` are substituted before running."""


@dataclass(frozen=True)
class Variant:
    """One way of doing the benchmark's job, timed side by side with its siblings.

    ``clean`` lists paths relative to the workdir deleted before every repetition, and
    ``before`` commands run (untimed) after cleaning, so each repetition starts from the
    same state instead of reusing the previous run's output.
    """

    name: str
    command: Command
    clean: tuple[str, ...] = ()
    before: tuple[Command, ...] = ()


@dataclass(frozen=True)
class Benchmark:
    """A named measurement: optional untimed ``setup``, then interleaved ``variants``."""

    name: str
    description: str
    variants: tuple[Variant, ...]
    setup: Command | None = None
    repeat: int = 3
    goal: str | None = None
    default: bool = True

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"benchmark {self.name!r} has no variants")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"benchmark {self.name!r} has duplicate variant names")
        if self.repeat < 1:
            raise ValueError(f"benchmark {self.name!r}: repeat must be >= 1")


@dataclass
class Registry:
    """Benchmarks by name, in registration order (which is also the run order)."""

    benchmarks: dict[str, Benchmark] = field(default_factory=dict)

    def register(self, benchmark: Benchmark) -> Benchmark:
        if benchmark.name in self.benchmarks:
            raise ValueError(f"benchmark {benchmark.name!r} registered twice")
        self.benchmarks[benchmark.name] = benchmark
        return benchmark

    def defaults(self) -> list[Benchmark]:
        return [b for b in self.benchmarks.values() if b.default]


REGISTRY = Registry()


def _synth(preset: str) -> Variant:
    out = f"synth-{preset}"
    return Variant(
        name="ours",
        command=(
            "{python}",
            "-m",
            "hrss_fraud",
            "synth",
            "--preset",
            preset,
            "--seed",
            "1",
            "--out",
            "{workdir}/" + out,
        ),
        clean=(out,),
    )


REGISTRY.register(
    Benchmark(
        name="synth-tiny",
        description="Generate the tiny synthetic county (smoke test of the synth pipeline).",
        variants=(_synth("tiny"),),
        repeat=3,
    )
)

REGISTRY.register(
    Benchmark(
        name="synth-county-year",
        description="Generate one synthetic county-year of claims (the sizing target).",
        variants=(_synth("county-year"),),
        repeat=1,
        goal="< 300 s and < 8 GB peak on 2 cores",
    )
)


def _hrss(ws: str, *args: str) -> Command:
    """``hrss-fraud --workspace WORKDIR/ws ARGS`` with the benchmark's Python."""
    return ("{python}", "-m", "hrss_fraud", "--workspace", "{workdir}/" + ws, *args)


def _ingest(preset: str, encoding: str) -> Benchmark:
    """Our ingest against bare DuckDB on the same uploads, one encoding at a time."""
    split = "{workdir}/ingest-split-" + preset
    ws = f"ws-ingest-{encoding}"
    ours = Variant(
        name="ours",
        command=_hrss(ws, "ingest", "--quiet", f"{split}/{encoding}"),
        clean=(ws,),
        before=(_hrss(ws, "ingest", "--quiet", "{workdir}/ingest-" + preset + "/reference"),),
    )
    bare_in = f"{split}/{encoding}" if encoding == "utf8" else f"{split}/gbk-as-utf8"
    bare = Variant(
        name="bare-duckdb",
        command=("{python}", "-m", "bench.bare_duckdb", bare_in, f"{{workdir}}/bare-{encoding}"),
        clean=(f"bare-{encoding}",),
    )
    goal = "≤ 1.5× bare DuckDB" if encoding == "utf8" else "≤ 3× bare DuckDB (on UTF-8 copies)"
    return Benchmark(
        name=f"ingest-{preset}-{encoding}",
        description=f"ingest the {preset} {encoding.upper()} uploads vs bare DuckDB CSV→Parquet",
        variants=(ours, bare),
        setup=("{python}", "-m", "bench.ingest_prep", "{workdir}", "--preset", preset),
        repeat=3 if preset == "tiny" else 1,
        goal=f"{goal}; peak < 4 GB",
        default=preset != "tiny",
    )


for _preset in ("tiny", "county-year"):
    for _enc in ("utf8", "gbk"):
        REGISTRY.register(_ingest(_preset, _enc))

REGISTRY.register(
    Benchmark(
        name="ingest-2gb-file",
        description="one 2 GB fee-detail upload streams through ingest (memory, not speed)",
        variants=(
            Variant(
                name="ours",
                command=_hrss("ws-big", "ingest", "--quiet", "{workdir}/ingest-big/fee_detail.csv"),
                clean=("ws-big",),
                before=(
                    _hrss(
                        "ws-big",
                        "ingest",
                        "--quiet",
                        "{workdir}/ingest-county-year/reference",
                        "{workdir}/ingest-big/settlement.csv",
                    ),
                ),
            ),
        ),
        setup=("{python}", "-m", "bench.large_file", "{workdir}"),
        repeat=1,
        goal="peak < 4 GB whatever the file size",
        default=False,
    )
)

_SCORE_SETUP = ("{python}", "-m", "bench.score_prep", "{workdir}")

REGISTRY.register(
    Benchmark(
        name="score-county-year",
        description="the full rule catalogue over the county-year lake (16 M fee lines)",
        variants=(
            Variant(
                name="ours",
                command=_hrss("score-cy/full", "score", "--quiet"),
                clean=("score-cy/full/runs",),
            ),
        ),
        setup=_SCORE_SETUP,
        repeat=1,
        goal="< 5 minutes and < 8 GB peak",
    )
)

REGISTRY.register(
    Benchmark(
        name="score-county-year-detectors",
        description="the statistical and learned detectors alone over the county-year lake",
        variants=(
            Variant(
                name="ours",
                command=_hrss("score-cy/full", "score", "--family", "statistical", "--quiet"),
                clean=("score-cy/full/runs",),
            ),
        ),
        setup=_SCORE_SETUP,
        repeat=1,
        goal="< 5 minutes and < 8 GB peak",
    )
)

REGISTRY.register(
    Benchmark(
        name="score-county-year-day",
        description="one day's uploads scored incrementally on top of the county-year lake",
        variants=(
            Variant(
                name="ours",
                command=_hrss("score-cy/inc", "score", "--incremental", "--quiet"),
                before=(("{python}", "-m", "bench.score_prep", "{workdir}", "--restore"),),
            ),
        ),
        setup=_SCORE_SETUP,
        repeat=3,
        goal="< 30 s",
    )
)

REGISTRY.register(
    Benchmark(
        name="nightly-county-year-day",
        description="`hrss-fraud nightly` on one day's uploads on top of the scored county "
        "year: ingest, incremental score, dashboard marts, exports",
        variants=(
            Variant(
                name="ours",
                command=_hrss("score-cy/inc", "nightly"),
                before=(("{python}", "-m", "bench.score_prep", "{workdir}", "--restore-inbox"),),
            ),
        ),
        setup=_SCORE_SETUP,
        repeat=3,
        goal="< 2 minutes",
    )
)

REGISTRY.register(
    Benchmark(
        name="dashboard-county-year",
        description="one dashboard session's data-layer calls on the scored county year "
        "(per-call median and p95 in dashboard-county-year.json)",
        variants=(
            Variant(
                name="ours",
                command=(
                    "{python}",
                    "-m",
                    "bench.dashboard",
                    "{workdir}/score-cy/full",
                    "--profiles",
                    "10",
                    "--out",
                    "{workdir}/dashboard-county-year.json",
                ),
                clean=("dashboard-county-year.json",),
            ),
        ),
        setup=(
            "{python}",
            "-m",
            "bench.dashboard",
            "{workdir}/score-cy/full",
            "--score-prep",
            "{workdir}",
            "--prepare-only",
        ),
        repeat=1,
        goal="server time per call p95 ≤ 300 ms; first page load ≤ 2 s",
    )
)

_PROVINCE = "{workdir}/province-sample"

REGISTRY.register(
    Benchmark(
        name="score-province-sample",
        description="the provincial sample (four counties, persons crossing counties: "
        "docs/province.md) ingested untimed, then scored with the full catalogue, the "
        "cross-county rules included",
        variants=(
            Variant(
                name="ours",
                command=_hrss("ws-province", "score", "--quiet"),
                clean=("ws-province",),
                before=(
                    _hrss(
                        "ws-province",
                        "ingest",
                        "--quiet",
                        _PROVINCE + "/reference",
                        _PROVINCE + "/uploads",
                    ),
                ),
            ),
        ),
        setup=(
            *("{python}", "-m", "hrss_fraud", "synth", "--preset", "province-sample"),
            *("--seed", "1", "--quiet", "--out", _PROVINCE),
        ),
        repeat=3,
        goal="< 60 s on 2 cores",
        default=False,
    )
)
