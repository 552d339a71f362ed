"""Measure the look-alikes against a scored run: per seed, generate, ingest, score and judge
a county (the evaluation's own ``run_seed``), then tabulate each kind of legitimate
look-alike — encounters, those a false lead touches, the rate, the rules — and the recall
per scheme, so a change to the generator can be compared with the one before it.

Run: ``.venv/bin/python tests/synth/measure_lookalikes.py --seeds 1,2,3 --work DIR --out DIR``
(not collected by pytest: it scores whole counties)."""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from hrss_fraud.evaluation.pipeline import SeedResult, parse_seeds, run_seed

RECALL_COLUMNS = ("scheme", "recall")


def lookalike_table(results: list[SeedResult]) -> pl.DataFrame:
    """One row per kind: encounters and flagged summed over the seeds, the worst seed's
    rate and every rule that touched the kind in any seed."""
    frames = [r.lookalikes.with_columns(seed=pl.lit(r.seed)) for r in results]
    return (
        pl.concat(frames)
        .group_by("lookalike")
        .agg(
            encounters=pl.col("encounters").sum(),
            flagged=pl.col("flagged").sum(),
            rate_max=pl.col("rate").max(),
            rules=pl.col("rules").str.split(",").list.explode().unique().sort().str.join(","),
        )
        .with_columns(
            rate=(pl.col("flagged") / pl.col("encounters")).round(4),
            rules=pl.col("rules").str.strip_chars(","),
        )
        .sort("lookalike")
    )


def recall_table(results: list[SeedResult]) -> pl.DataFrame:
    """Recall per scheme, one column per seed."""
    frames = [
        r.per_scheme.select(pl.col("scheme"), pl.col("recall").alias(f"seed_{r.seed}"))
        for r in results
    ]
    out = frames[0]
    for f in frames[1:]:
        out = out.join(f, on="scheme", how="full", coalesce=True)
    return out.sort("scheme")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = [run_seed(s, args.work) for s in parse_seeds(args.seeds)]
    looks, recall = lookalike_table(results), recall_table(results)
    looks.write_parquet(args.out / "lookalikes.parquet")
    recall.write_parquet(args.out / "recall.parquet")
    with pl.Config(tbl_rows=100, tbl_cols=20, fmt_str_lengths=200, tbl_width_chars=250):
        print(looks)
        print(recall)


if __name__ == "__main__":
    main()
