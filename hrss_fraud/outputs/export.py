"""``hrss-fraud findings export`` and ``findings cases-export``: a run's leads, and the cases
they are grouped into, as Parquet, CSV or Excel, by the file's suffix.

The findings' columns are the interface DESIGN.md fixes (``finding_id, run_id, rule_id,
rule_name, severity, entity_type, entity_id, fixmedins_code, psn_no, setl_id, mdtrt_id,
feedetl_sn, period_start, period_end, amount_at_risk, score, evidence``), then each lead's
case (``case_id, case_rank``: 1 is the case an auditor should open first), then the
explanatory extras. Data-quality findings are no leads: they have an export of their own
(:mod:`hrss_fraud.outputs.quality`). ``lang="en"`` swaps in the English rule names, evidence
and case titles; the column names are the platform's field names in either language. CSV
is UTF-8 with a byte-order mark, so Excel shows the Chinese text; an .xlsx file is one
sheet, refused beyond Excel's row limit (filter the findings, or write Parquet or CSV).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.engine.grouping import CASE_COLUMNS_OF_FINDINGS
from hrss_fraud.engine.hits import FINDING_COLUMNS
from hrss_fraud.engine.runs import Run
from hrss_fraud.lake.fsutil import write_bytes_atomic, write_parquet_atomic

# DESIGN.md's interface first, in its order; then the explanatory extras.
EXPORT_COLUMNS = tuple(
    c
    for c in FINDING_COLUMNS
    if c not in ("rule_name_en", "framework_codes", "severity_zh", "behaviour")
    and c not in ("evidence_en", "n_lines", "n_violating", "rule_version", "params")
)
EXTRA_COLUMNS = (
    "severity_zh",
    "behaviour",
    "framework_codes",
    "n_lines",
    "n_violating",
    "rule_version",
    "params",
)
CASE_EXPORT_COLUMNS = (
    "case_rank",
    "case_id",
    "case_kind",
    "fixmedins_code",
    "fixmedins_name",
    "psn_no",
    "doctor",
    "family",
    "month",
    "rule_ids",
    "n_findings",
    "n_lines",
    "amount_at_risk",
    "expected_recovery",
    "severity",
    "period_start",
    "period_end",
    "title",
    "evidence",
)
"""One row per case, in rank order; ``title`` and ``evidence`` in the export's language."""
SUFFIXES = (".parquet", ".csv", ".xlsx")
EXCEL_ROWS = 1_048_575
"""Rows an Excel sheet holds below its header."""


SEVERITIES = ("definite", "high", "suspicious")


def kept_findings(
    f: pl.DataFrame,
    lang: str = "zh",
    rule_ids: list[str] | None = None,
    *,
    institutions: list[str] | None = None,
    persons: list[str] | None = None,
    severities: list[str] | None = None,
    min_amount: float | None = None,
) -> pl.DataFrame:
    """``f`` kept to the rules, institutions (``fixmedins_code``), persons (``psn_no``)
    and severities given, and to ``min_amount`` yuan at risk or more; rule names and
    evidence in ``lang``."""
    unknown = sorted(set(severities or ()) - set(SEVERITIES))
    if unknown:
        msg = f"unknown severity {', '.join(unknown)}; expected {', '.join(SEVERITIES)}"
        raise ValueError(msg)
    for column, values in (
        ("rule_id", rule_ids),
        ("fixmedins_code", institutions),
        ("psn_no", persons),
        ("severity", severities),
    ):
        if values:
            f = f.filter(pl.col(column).is_in(values))
    if min_amount is not None:
        f = f.filter(pl.col("amount_at_risk") >= min_amount)
    if lang == "en":
        f = f.with_columns(rule_name=pl.col("rule_name_en"), evidence=pl.col("evidence_en"))
    return f


def export_frame(
    run: Run, lang: str = "zh", rule_ids: list[str] | None = None, **keep: Any
) -> pl.DataFrame:
    """The run's leads in :data:`EXPORT_COLUMNS`, their case and :data:`EXTRA_COLUMNS`,
    largest amount first, kept as :func:`kept_findings` keeps them (``institutions``,
    ``persons``, ``severities``, ``min_amount``)."""
    f = kept_findings(run.findings(), lang, rule_ids, **keep)
    return f.select(*EXPORT_COLUMNS, *CASE_COLUMNS_OF_FINDINGS, *EXTRA_COLUMNS).sort(
        "amount_at_risk", "finding_id", descending=[True, False]
    )


def cases_frame(
    run: Run,
    lang: str = "zh",
    *,
    institutions: list[str] | None = None,
    top: int | None = None,
) -> pl.DataFrame:
    """The run's cases in :data:`CASE_EXPORT_COLUMNS`, in rank order (the ``top`` first
    only, when given), kept to the institutions given."""
    c = run.cases()
    if institutions:
        c = c.filter(pl.col("fixmedins_code").is_in(institutions))
    c = c.sort("case_rank").with_columns(
        title=pl.col(f"title_{lang}"), evidence=pl.col(f"evidence_{lang}")
    )
    return c.select(CASE_EXPORT_COLUMNS).head(top) if top else c.select(CASE_EXPORT_COLUMNS)


def write_export(df: pl.DataFrame, out: Path, label: str = "findings export") -> None:
    """Parquet, CSV (UTF-8 with a byte-order mark, for Excel) or Excel by ``out``'s suffix,
    written atomically: a reader sees the old file or the whole new one."""
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        msg = f"{out}: the export file must end in {', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]}"
        raise ValueError(msg)
    if not out.parent.is_dir():
        msg = f"{out.parent}: no such folder"
        raise ValueError(msg)
    if suffix == ".xlsx" and df.height > EXCEL_ROWS:
        msg = (
            f"{out}: {df.height:,} rows do not fit in an Excel sheet ({EXCEL_ROWS:,} at most); "
            "keep fewer (--top, --rules, --institution …) or write .parquet or .csv"
        )
        raise ValueError(msg)
    if suffix == ".parquet":
        write_parquet_atomic(out, df, label=label)
    elif suffix == ".xlsx":
        write_bytes_atomic(out, _excel_bytes(df), label=label)
    else:
        text = _flat(df).write_csv(datetime_format="%Y-%m-%d %H:%M:%S")
        write_bytes_atomic(out, "\ufeff".encode() + text.encode("utf-8"), label=label)


def _flat(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with its lists (framework codes, a case's rules) joined into text, for the
    formats that hold no lists."""
    return df.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join(", ")
        for c, dtype in df.schema.items()
        if isinstance(dtype, pl.List)
    )


def _excel_bytes(df: pl.DataFrame) -> bytes:
    """``df`` as one sheet, header row frozen; lists joined."""
    buffer = io.BytesIO()
    _flat(df).write_excel(buffer, worksheet="export", autofit=True, freeze_panes=(1, 0))
    return buffer.getvalue()
