"""A profile report of a generated county, set against published national figures, so
anyone can see at a glance whether the data looks like a real county."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from hrss_fraud.synth.lookalike_kinds import KINDS

#: Published figures the generator aims at (see docs/synth.md for sources).
TARGETS = {
    "outpatient visits per person per year": "≈ 6",
    "cost per outpatient visit, township centre (¥)": "80–120",
    "cost per outpatient visit, county hospital (¥)": "250–350",
    "cost per admission, township centre (¥)": "2,000–3,000",
    "cost per admission, county hospital (¥)": "6,000–9,000",
    "average length of stay (days)": "6–9",
}

KIND_ZH = {
    "A1": "综合医院",
    "A2": "中医医院",
    "A3": "妇幼保健院",
    "B1": "乡镇卫生院",
    "C1": "村卫生室",
    "C2": "民营诊所",
    "D1": "零售药店",
}


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.1f}"
    return str(v)


def _table(df: pl.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join([head, rule, *body])


def profile_figures(stats: pl.DataFrame, persons: int, months: int) -> dict[str, float]:
    """The headline figures compared with TARGETS."""
    ordinary = stats.filter(pl.col("kind") != "fraud")
    op = ordinary.filter(pl.col("setting") == "op")
    ip = ordinary.filter(pl.col("setting") == "ip")

    def mean_cost(df: pl.DataFrame, kinds: list[str]) -> float:
        sub = df.filter(pl.col("medins_type").is_in(kinds))
        return float(sub["medfee_fen"].mean() or 0) / 100

    return {
        "outpatient visits per person per year": op.height / persons * 12 / months,
        "cost per outpatient visit, township centre (¥)": mean_cost(op, ["B1"]),
        "cost per outpatient visit, county hospital (¥)": mean_cost(op, ["A1", "A2", "A3"]),
        "cost per admission, township centre (¥)": mean_cost(ip, ["B1"]),
        "cost per admission, county hospital (¥)": mean_cost(ip, ["A1", "A2", "A3"]),
        "average length of stay (days)": float(ip["los"].mean() or 0),
    }


def lookalike_kinds() -> pl.DataFrame:
    """Each kind of look-alike with its Chinese name and the rules it resembles."""
    return pl.DataFrame(
        {
            "tag": list(KINDS),
            "zh": [k.zh for k in KINDS.values()],
            "resembles": [", ".join(k.resembles) for k in KINDS.values()],
        }
    )


def write_profile(folder: Path) -> Path:
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    cfg = manifest["config"]
    stats = pl.read_parquet(folder / "profile_stats.parquet")
    schemes = pl.read_parquet(folder / "truth" / "schemes.parquet")
    entities = pl.read_parquet(folder / "truth" / "entities.parquet")
    figures = profile_figures(stats, cfg["persons"], cfg["months"])
    headline = pl.DataFrame(
        {
            "figure": list(figures),
            "this county": [round(v, 1) for v in figures.values()],
            "target": [TARGETS[k] for k in figures],
        }
    )
    by_kind = (
        stats.group_by("setting", "medins_type")
        .agg(
            encounters=pl.len(),
            mean_cost=(pl.col("medfee_fen").mean() / 100).round(1),
            median_cost=(pl.col("medfee_fen").median() / 100).round(1),
            lines_per_encounter=pl.col("n_lines").mean().round(1),
            mean_stay=pl.when(pl.col("setting").first() == "ip").then(
                pl.col("los").mean().round(1)
            ),
        )
        .with_columns(kind=pl.col("medins_type").replace_strict(KIND_ZH, default=None))
        .sort("setting", "medins_type")
        .select(
            "setting",
            "medins_type",
            "kind",
            "encounters",
            "mean_cost",
            "median_cost",
            "lines_per_encounter",
            "mean_stay",
        )
    )
    los = (
        stats.filter(pl.col("setting") == "ip")
        .with_columns(stay=pl.col("los").clip(0, 20))
        .group_by("stay")
        .agg(admissions=pl.len())
        .sort("stay")
    )
    refunds = stats.select(
        refund_lines=pl.col("refund_lines").sum(),
        all_lines=pl.col("n_lines").sum(),
        refund_amount=(pl.col("refund_fen").sum() / 100).round(2),
        total_amount=(pl.col("medfee_fen").sum() / 100).round(2),
    ).with_columns(refund_line_share=(pl.col("refund_lines") / pl.col("all_lines")).round(4))
    counts = entities.group_by("scheme").agg(
        entities=pl.len(), amount_at_risk=pl.col("amount_at_risk").sum().round(2)
    )
    per_scheme = (
        schemes.join(counts, on="scheme", how="left")
        .with_columns(pl.col("entities").fill_null(0))
        .select(
            "scheme",
            "zh",
            "family",
            "entity_type",
            "rate",
            "eligible",
            "affected",
            "entities",
            "amount_at_risk",
        )
    )
    looks = (
        stats.filter(pl.col("kind") == "lookalike")
        .group_by("tag")
        .agg(encounters=pl.len())
        .join(lookalike_kinds(), on="tag", how="left")
    )
    text = (
        "\n\n".join(
            [
                f"# Profile of a synthetic county (seed {cfg['seed']}, {cfg['persons']:,} persons, "
                f"{cfg['months']} months from {cfg['start']})",
                "## Headline figures against published targets",
                _table(headline),
                "## Encounters by care setting and kind of institution",
                _table(by_kind),
                "## Length of stay (days, 20 = 20 or more)",
                _table(los),
                "## Refunds",
                _table(refunds),
                "## Injected schemes (rate applies to the eligible count)",
                _table(per_scheme),
                "## Legitimate look-alikes (never in the truth)",
                _table(looks.sort("tag")),
            ]
        )
        + "\n"
    )
    path = folder / "profile.md"
    path.write_text(text, encoding="utf-8")
    return path
