"""The data-quality report (数据质量): per institution, the run's data-quality findings by
rule (how many, the settlements they touch and what share of the institution's those are)
beside the lake's own figures (missing fields, late uploads, quarantined rows:
``dq_institution``), with the findings and their lines behind every count.

Data-quality findings are no leads: they carry nothing into the lead queue, the amount at
risk or a ranking, and this report is the only place they are shown. The per rule figures
are :func:`hrss_fraud.outputs.quality.quality_summary`'s (the ``quality_summary_<lang>``
mart when the run has marts), so the dashboard and ``findings quality-export`` agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from hrss_fraud.cases.masking import mask_frame
from hrss_fraud.ingest.quality import add_quality_views
from hrss_fraud.ingest.summary import REASONS_ZH
from hrss_fraud.lake.views import literal
from hrss_fraud.outputs.excel_export import MAX_ROWS, Sheet, workbook
from hrss_fraud.outputs.labels import line_role_labels, med_type_labels, severity_labels
from hrss_fraud.outputs.lead_detail import lines_sql
from hrss_fraud.outputs.leads import check_lang
from hrss_fraud.outputs.profile_data import unit_where
from hrss_fraud.outputs.quality import quality_summary

if TYPE_CHECKING:
    from hrss_fraud.outputs.runs_view import RunView

LAKE_COLUMNS = (
    "settlements",
    "fee_lines",
    "missing_dise_codg",
    "missing_chfpdr_code",
    "missing_bilg_dr_codg",
    "late_settlement_share",
    "late_line_share",
    "quarantined",
    "quarantined_by_reason",
)
"""The lake's figures of an institution (``dq_institution``) the report shows."""

INSTITUTION_COLUMNS = (
    "fixmedins_code",
    "fixmedins_name",
    "n_findings",
    "n_rules",
    "n_settlements",
    "institution_settlements",
    "share_of_settlements",
    *LAKE_COLUMNS,
)
"""One row per institution of the lake: its data-quality findings (how many, of how many
rules, on how many distinct settlements, what share of its valid settlements those are)
and the lake's figures."""

FINDING_COLUMNS = (
    "finding_id",
    "fixmedins_code",
    "rule_name",
    "rule_id",
    "severity_label",
    "psn_no",
    "setl_id",
    "mdtrt_id",
    "period_start",
    "period_end",
    "evidence",
)
"""A data-quality finding as the drill-down lists it."""

LABELS: dict[str, tuple[str, str]] = {
    "finding_id": ("问题编号", "finding id"),
    "evidence": ("问题说明", "description"),
    "n_findings": ("问题数", "findings"),
    "n_settlements": ("涉及结算笔数", "settlements affected"),
}
"""Headers of the report where the shared column label would call a finding a lead or
count every settlement; the other columns keep theirs (:data:`labels.COLUMNS`)."""

SHARES = (
    "share_of_settlements",
    "missing_dise_codg",
    "missing_chfpdr_code",
    "missing_bilg_dr_codg",
    "late_settlement_share",
    "late_line_share",
)
"""The columns that are shares (0–1) of the institution's settlements or lines."""

FINDINGS_SHOWN = 500
"""How many of an institution's data-quality findings the page lists (the export has
them all); the count says how many there are."""


def quality_rows(view: RunView, code: str | None = None) -> pl.DataFrame:
    """The lake's ``dq_institution`` view (missing fields, late uploads, quarantined rows
    by reason) of ``code`` or of every institution (the ``institution_quality`` mart)."""
    con = view.lake_cursor()
    try:
        add_quality_views(con)
        return con.sql(
            "SELECT * REPLACE (CAST(quarantined AS BIGINT) AS quarantined) "
            f"FROM dq_institution WHERE {unit_where(code)} ORDER BY fixmedins_code"
        ).pl()
    finally:
        con.close()


def data_quality(view: RunView, code: str) -> dict[str, Any] | None:
    """The institution's row of the lake's ``dq_institution`` view; None if the lake does
    not know it."""
    found = view.mart_rows(
        "institution_quality",
        lambda: quality_rows(view, code).drop("fixmedins_code"),
        fixmedins_code=code,
    )
    return {"fixmedins_code": code, **found.row(0, named=True)} if found.height else None


def by_rule(view: RunView, *, lang: str = "zh") -> pl.DataFrame:
    """Per institution and data-quality rule (``rules.quality.SUMMARY_COLUMNS``), the
    worst share first; computed once per run and language (it counts every institution's
    settlements in the lake)."""
    check_lang(lang)
    return view.memo(
        f"quality_summary:{lang}",
        lambda: view.from_mart(
            f"quality_summary_{lang}", lambda: quality_summary(view.files_run, view.lake, lang)
        ),
    )


def settlements_touched(view: RunView) -> pl.DataFrame:
    """``fixmedins_code, n_settlements``: the distinct settlements any data-quality finding
    of the institution names (one settlement flagged by two rules counts once)."""

    def compute() -> pl.DataFrame:
        owners = pl.scan_parquet(view.quality_findings_path).select("finding_id", "fixmedins_code")
        return (
            pl.scan_parquet(view.quality_lines_path)
            .select("finding_id", "setl_id")
            .join(owners, on="finding_id")
            .filter(pl.col("setl_id").is_not_null())
            .group_by("fixmedins_code")
            .agg(n_settlements=pl.col("setl_id").n_unique().cast(pl.Int64))
            .sort("fixmedins_code")
            .collect()
        )

    return view.memo("quality_settlements", lambda: view.from_mart("quality_settlements", compute))


def lake_quality(view: RunView) -> pl.DataFrame:
    """Every institution's row of the lake's ``dq_institution`` view (its mart, else the
    lake)."""
    return view.memo(
        "quality:lake", lambda: view.from_mart("institution_quality", lambda: quality_rows(view))
    )


def reasons_text(by_reason: str | None, lang: str = "zh") -> str | None:
    """The lake's ``quarantined_by_reason`` (``bad_code:3; too_long:1``) in words:
    ``代码不在代码表中 3；值超长 1`` (English: the reason's own words)."""
    if not by_reason:
        return by_reason
    parts = []
    for part in by_reason.split(";"):
        code, _, n = part.strip().rpartition(":")
        if not code:
            code, n = n, ""
        said = REASONS_ZH.get(code, code) if lang == "zh" else code.replace("_", " ")
        parts.append(f"{said} {n}".strip())
    return ("；" if lang == "zh" else "; ").join(parts)


def institutions(view: RunView, *, lang: str = "zh") -> pl.DataFrame:
    """:data:`INSTITUTION_COLUMNS` for every institution the lake knows or a data-quality
    finding names: those with the most findings first, then the most rows quarantined."""
    rules = by_rule(view, lang=lang)
    per = rules.group_by("fixmedins_code").agg(
        pl.col("fixmedins_name").first().alias("summary_name"),
        n_findings=pl.col("n_findings").sum().cast(pl.Int64),
        n_rules=pl.len().cast(pl.Int64),
        institution_settlements=pl.col("institution_settlements").first(),
    )
    lake = lake_quality(view).select("fixmedins_code", "fixmedins_name", *LAKE_COLUMNS)
    out = (
        lake.join(per, on="fixmedins_code", how="full", coalesce=True)
        .join(settlements_touched(view), on="fixmedins_code", how="left")
        .with_columns(
            pl.col("fixmedins_name").fill_null(pl.col("summary_name")),
            pl.col("n_findings", "n_rules", "n_settlements").fill_null(0),
        )
        .with_columns(
            share_of_settlements=pl.when(pl.col("institution_settlements") > 0).then(
                (pl.col("n_settlements") / pl.col("institution_settlements")).round(4)
            )
        )
    )
    return (
        out.sort(
            ["n_findings", "quarantined", "fixmedins_code"],
            descending=[True, True, False],
            nulls_last=True,
        )
        .select(INSTITUTION_COLUMNS)
        .with_columns(
            pl.col("quarantined_by_reason").map_elements(
                lambda v: reasons_text(v, lang), return_dtype=pl.String, skip_nulls=True
            )
        )
    )


def institution(view: RunView, code: str, *, lang: str = "zh") -> dict[str, Any]:
    """One institution's row of :func:`institutions` and its rules (``rules``: the
    :func:`by_rule` rows of the institution); :class:`LookupError` for an institution
    neither the lake nor a data-quality finding knows."""
    rows = institutions(view, lang=lang).filter(pl.col("fixmedins_code") == code)
    if rows.height == 0:
        msg = f"institution {code!r} is not in the lake"
        raise LookupError(msg)
    out = rows.row(0, named=True)
    out["rules"] = by_rule(view, lang=lang).filter(pl.col("fixmedins_code") == code)
    return out


def findings(
    view: RunView,
    code: str | None,
    rule_id: str | None = None,
    *,
    role: str | None = None,
    lang: str = "zh",
    limit: int | None = FINDINGS_SHOWN,
) -> tuple[pl.DataFrame, int]:
    """The data-quality findings of institution ``code`` (None: of every institution; of
    one rule, if given) in :data:`FINDING_COLUMNS`, by institution, rule, time and id, up
    to ``limit``, and how many there are; person fields masked for ``role`` as the lead
    queue masks them."""
    check_lang(lang)
    en = "_en" if lang == "en" else ""
    keep = pl.lit(True)
    if code is not None:
        keep &= pl.col("fixmedins_code") == code
    if rule_id is not None:
        keep &= pl.col("rule_id") == rule_id
    found = (
        pl.scan_parquet(view.quality_findings_path)
        .filter(keep)
        .sort("fixmedins_code", "rule_id", "period_start", "finding_id", nulls_last=True)
        .select(
            "finding_id",
            "fixmedins_code",
            pl.col(f"rule_name{en}").alias("rule_name"),
            "rule_id",
            pl.col("severity")
            .replace_strict(severity_labels(lang), default=pl.col("severity"))
            .alias("severity_label"),
            "psn_no",
            "setl_id",
            "mdtrt_id",
            "period_start",
            "period_end",
            pl.col(f"evidence{en}").alias("evidence"),
        )
        .collect()
    )
    shown = found if limit is None else found.head(limit)
    return mask_frame(shown, role), found.height


def lines(
    view: RunView, finding_id: str, *, role: str | None = None, lang: str = "zh"
) -> pl.DataFrame:
    """One data-quality finding's lines with what the lake holds about them (item,
    amounts, the settlement: as the lead panel shows a lead's lines; the line's role and
    care type in ``lang``, times to the minute), masked for ``role``; empty for an id
    that is no data-quality finding of the run."""
    check_lang(lang)
    con: duckdb.DuckDBPyConnection = view.lake_cursor()
    try:
        path = literal(str(view.quality_lines_path))
        picked = con.sql(
            f"SELECT * FROM read_parquet({path}) WHERE finding_id = ?", params=[finding_id]
        ).pl()
        con.register("lead_lines", picked)
        try:
            found = con.sql(lines_sql()).pl()
        finally:
            con.unregister("lead_lines")
    finally:
        con.close()
    found = found.with_columns(
        pl.col("role").replace_strict(line_role_labels(lang), default=pl.col("role")),
        pl.col("med_type").replace_strict(med_type_labels(lang), default=pl.col("med_type")),
        pl.col("line_time", "begntime", "endtime").dt.strftime("%Y-%m-%d %H:%M"),
    )
    return mask_frame(found, role)


_WIDTHS = {
    "fixmedins_code": 16,
    "fixmedins_name": 26,
    "rule_id": 24,
    "rule_name": 30,
    "finding_id": 22,
    "evidence": 90,
    "quarantined_by_reason": 40,
}


def _sheet(name: tuple[str, str], frame: pl.DataFrame, columns: tuple[str, ...]) -> Sheet:
    counts = tuple(c for c in columns if frame.schema[c].is_numeric())
    widths = {c: _WIDTHS.get(c, 14) for c in columns}
    return Sheet(name, frame, widths, labels=LABELS, numbers=counts, money=())


def export_bytes(
    view: RunView, *, code: str | None = None, role: str | None = None, lang: str = "zh"
) -> bytes:
    """The report as an .xlsx file: the institutions (or the one ``code``), their findings
    by rule, and every data-quality finding (person fields masked for ``role``), with the
    run on a last sheet."""
    units = institutions(view, lang=lang)
    rules = by_rule(view, lang=lang)
    if code is not None:
        units = units.filter(pl.col("fixmedins_code") == code)
        rules = rules.filter(pl.col("fixmedins_code") == code)
    found, n = findings(view, code, role=role, lang=lang, limit=MAX_ROWS)
    sheets = [
        _sheet(("机构汇总", "institutions"), units, INSTITUTION_COLUMNS),
        _sheet(("按规则", "by rule"), rules, tuple(rules.columns)),
        _sheet(("数据质量问题", "findings"), found, FINDING_COLUMNS),
    ]
    about = {
        "run_id": view.run_id,
        "institution": code or "*",
        "findings": n,
        "findings_written": found.height,
        "lang": lang,
        "exported_at": datetime.now(UTC),
    }
    return workbook(sheets, lang=lang, about=about)


def export_name(view: RunView, code: str | None = None) -> str:
    return f"data_quality_{view.run_id}{'_' + code if code else ''}.xlsx"
