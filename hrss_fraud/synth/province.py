"""A provincial sample (issue 22): several counties of one prefecture, each generated as a
county of its own (its area code, institutions and people), put together in one folder, plus
persons who cross counties (:mod:`hrss_fraud.synth.province_cross`).

The folder has the county sample's shape — ``uploads/``, ``reference/``, ``truth/``, a
manifest with the totals to the fen — so ingest, scoring and the evaluation read it
unchanged. Employer files and malformed test files are county matters and left out.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from hrss_fraud.model.counties import COUNTY_NAMES, PREFECTURE_NAMES
from hrss_fraud.synth import output, province_cross
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.generate import SynthSummary, generate

#: Named provincial samples: persons and months *per county*.
PROVINCE_PRESETS: dict[str, dict[str, object]] = {
    "province-sample": {"persons": 2_500, "months": 2},
}

#: The prefecture and its counties (six-digit area codes and names; invented places, named
#: in the code list the screens read). The first is the county sample's own, so its numbers
#: stay as they are.
PREFECTURE = ("1301", PREFECTURE_NAMES["1301"][0])
COUNTIES: tuple[tuple[str, str], ...] = tuple(
    (code, zh) for code, (zh, _en) in COUNTY_NAMES.items() if code.startswith(PREFECTURE[0])
)
#: Reference tables each county has its own rows of; the others are the same everywhere.
_OWN_REFERENCES = ("person", "institution", "practitioner")
_TRUTH = ("lines", "entities", "noise", "lookalikes", "fraud_institutions")


def province_config(preset: str, *, out: Path, **overrides: object) -> SynthConfig:
    """The config of one county of a named provincial sample (``persons`` per county)."""
    try:
        base = PROVINCE_PRESETS[preset]
    except KeyError:
        msg = f"unknown provincial preset {preset!r}; choose one of: {', '.join(PROVINCE_PRESETS)}"
        raise ValueError(msg) from None
    values = {**base, **{k: v for k, v in overrides.items() if v is not None}}
    # malformed test files are a county's ingest matter, not a province's
    values["malformed"] = False
    return SynthConfig(out=out, **values)  # type: ignore[arg-type]


def generate_province(
    cfg: SynthConfig, progress: Callable[[str], None] | None = None
) -> SynthSummary:
    """Write a provincial sample under ``cfg.out`` (``cfg.persons`` per county); the folder
    is replaced only when complete."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    final = Path(cfg.out)
    work = output.partial_folder(final)
    parts = work / ".counties"
    summaries = []
    for i, (code, name) in enumerate(COUNTIES):
        say(f"county {code} {name}")
        sub = replace(
            cfg,
            out=parts / code,
            seed=cfg.seed + i,
            county_admdvs=code,
            county_name=name,
            malformed=False,
        )
        summaries.append(generate(sub, progress=say))
    manifest = merge(work, [s.out for s in summaries])
    added = province_cross.add_crossings(work, manifest, cfg.seed, COUNTIES)
    shutil.rmtree(parts)
    manifest["config"] = {
        **asdict(cfg),
        "out": str(cfg.out),
        "start": cfg.start.isoformat(),
        "persons": cfg.persons * len(COUNTIES),
        "persons_per_county": cfg.persons,
        "county_admdvs": None,
        "county_name": None,
        "prefecture": list(PREFECTURE),
        "counties": [list(c) for c in COUNTIES],
    }
    manifest["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    output.publish(work, final, manifest)
    return SynthSummary(
        final,
        cfg.persons * len(COUNTIES),
        sum(s.institutions for s in summaries),
        sum(s.encounters for s in summaries) + added.settlements,
        sum(s.settlements for s in summaries) + added.settlements,
        sum(s.fee_lines for s in summaries) + added.fee_lines,
        len(manifest["files"]),
        round(time.perf_counter() - started, 2),
    )


def merge(work: Path, counties: list[Path]) -> dict:
    """Move the counties' uploads into ``work`` and put their references, truth and profile
    statistics together; return the merged manifest (files and totals)."""
    files: list[dict] = []
    totals: dict[str, dict[str, int]] = {"settlement": {}, "fee_detail": {}}
    for folder in counties:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for f in m["files"]:
            target = work / f["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            (folder / f["path"]).rename(target)
            files.append(f)
        for table, by_month in m["totals_fen"].items():
            for month, fen in by_month.items():
                totals[table][month] = totals[table].get(month, 0) + fen
    (work / "reference").mkdir()
    for path in sorted((counties[0] / "reference").glob("*.csv")):
        if path.stem in _OWN_REFERENCES:
            frames = [
                pl.read_csv(c / "reference" / path.name, infer_schema=False) for c in counties
            ]
            text = pl.concat(frames, how="diagonal").write_csv()
            output.write_atomic(work / "reference" / path.name, text.encode("utf-8"))
        else:
            shutil.copyfile(path, work / "reference" / path.name)
    (work / "truth").mkdir()
    for name in _TRUTH:
        frames = [pl.read_parquet(c / "truth" / f"{name}.parquet") for c in counties]
        pl.concat([f for f in frames if f.width], how="diagonal_relaxed").write_parquet(
            work / "truth" / f"{name}.parquet"
        )
    schemes = pl.concat([pl.read_parquet(c / "truth" / "schemes.parquet") for c in counties])
    schemes.group_by("scheme", maintain_order=True).agg(
        pl.col("zh", "family", "driver", "entity_type", "rate").first(),
        pl.col("eligible", "affected").sum(),
        pl.col("institutions").filter(pl.col("institutions") != "").str.join(";"),
    ).write_parquet(work / "truth" / "schemes.parquet")
    pl.concat([pl.read_parquet(c / "profile_stats.parquet") for c in counties]).write_parquet(
        work / "profile_stats.parquet"
    )
    return {"generator": "hrss_fraud.synth.province", "totals_fen": totals, "files": files}
