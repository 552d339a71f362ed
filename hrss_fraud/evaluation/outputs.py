"""An evaluation written to a folder: ``evaluation.md`` for people, ``evaluation.json`` and
one Parquet file a table for programs, ``plots/*.html`` that open offline. Everything is
computed before the first file is written, and each file is written atomically, so a
failure leaves the folder's earlier files as they were."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.evaluation.labels import Lang, localize, to_markdown
from hrss_fraud.evaluation.plots import figures, to_html
from hrss_fraud.evaluation.report import BEYOND, GOALS, Evaluation, verdict
from hrss_fraud.lake.fsutil import write_bytes_atomic, write_parquet_atomic

_H = {
    "zh": {
        "title": "检测效果评估（{source}，种子 {seeds}）",
        "verdict": "结论",
        "summary": "跨种子汇总",
        "seeds": "各种子结果",
        "beyond": "固定规则遗漏的方案：各种子召回率",
        "schemes": "全部方案：跨种子召回率",
        "lookalikes": "合规相似类型：跨种子误报率（误报即被非真实疑点触及的就诊）",
        "plots": "图表（离线可用，plotly.js 已内嵌）",
        "truth": "真值（truth/）只在评判时读取：入库的只有 reference/ 与 uploads/，"
        "评分只读数据湖。指标定义见 docs/evaluation.md。",
    },
    "en": {
        "title": "Detection evaluation ({source}, seeds {seeds})",
        "verdict": "Verdict",
        "summary": "Across seeds",
        "seeds": "Per seed",
        "beyond": "Schemes fixed rules miss: recall per seed",
        "schemes": "Every scheme: recall across seeds",
        "lookalikes": "Legitimate look-alikes: false-alarm rate across seeds (an encounter a "
        "lead that touches no truth shows)",
        "plots": "Plots (offline, plotly.js embedded)",
        "truth": "The truth (truth/) is read only by the judge: only reference/ and uploads/ "
        "are ingested, and scoring reads the lake alone. Metrics: docs/evaluation.md.",
    },
}


def markdown(evaluation: Evaluation, lang: Lang, source: str, plot_names: list[str]) -> str:
    """The report for people: verdict, summary, per seed, per scheme, the plots."""
    h = _H[lang]
    seeds = ",".join("-" if s is None else str(s) for s in evaluation.seeds["seed"].to_list())
    beyond = evaluation.schemes.filter(pl.col("family") == BEYOND)
    parts = [
        f"# {h['title'].format(source=source, seeds=seeds)}",
        h["truth"],
        f"## {h['verdict']}",
        "```\n" + verdict(evaluation, lang) + "\n```",
        f"## {h['summary']}",
        to_markdown(localize(evaluation.summary, lang)),
        f"## {h['seeds']}",
        to_markdown(localize(evaluation.seeds, lang)),
        f"## {h['beyond']}",
        to_markdown(localize(beyond.drop("family", "goal"), lang)),
        f"## {h['schemes']}",
        to_markdown(localize(evaluation.scheme_summary, lang)),
        f"## {h['lookalikes']}",
        to_markdown(localize(evaluation.lookalike_summary, lang)),
        f"## {h['plots']}",
        "\n".join(f"- [plots/{n}.html](plots/{n}.html)" for n in plot_names),
    ]
    return "\n\n".join(parts) + "\n"


def as_json(evaluation: Evaluation, lang: Lang, source: str) -> dict[str, Any]:
    """The report for programs (the rankings and per-rule tables are in Parquet only)."""
    return {
        "source": source,
        "seeds": evaluation.seeds["seed"].to_list(),
        "goals": [asdict(g) for g in GOALS],
        "met": evaluation.met,
        "verdict": verdict(evaluation, lang),
        "summary": evaluation.summary.to_dicts(),
        "per_seed": evaluation.seeds.to_dicts(),
        "scheme_summary": evaluation.scheme_summary.to_dicts(),
        "per_scheme": evaluation.schemes.to_dicts(),
        "lookalike_summary": evaluation.lookalike_summary.to_dicts(),
        "per_lookalike": evaluation.lookalikes.to_dicts(),
    }


def write_evaluation(
    evaluation: Evaluation, out: Path, *, lang: Lang = "zh", source: str = ""
) -> list[Path]:
    """Write the whole report under ``out`` (``source`` names what was judged, e.g. the
    preset); returns the files written."""
    out = Path(out)
    plots = {name: to_html(fig) for name, fig in figures(evaluation, lang).items()}
    text = markdown(evaluation, lang, source, list(plots))
    doc = json.dumps(as_json(evaluation, lang, source), ensure_ascii=False, indent=1, default=str)
    written = []
    for name, df in evaluation.tables().items():
        path = out / f"{name}.parquet"
        write_parquet_atomic(path, df, label="evaluation table")
        written.append(path)
    for name, html in plots.items():
        path = out / "plots" / f"{name}.html"
        write_bytes_atomic(path, html.encode("utf-8"), label="plot")
        written.append(path)
    for name, body in (("evaluation.json", doc), ("evaluation.md", text)):
        write_bytes_atomic(out / name, body.encode("utf-8"), label="evaluation report")
        written.append(out / name)
    return written
