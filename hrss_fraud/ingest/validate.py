"""Validation against the canonical model: parse text into typed columns, and route each
row either to the accepted set or to quarantine with a reason code.

Every check is a vectorised expression; a row's reason is the first check it fails, its
detail lists every check it fails. Reference checks (does the settlement, person,
institution or original line exist?) are in ``references.py``: they need the lake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from hrss_fraud.ingest.layouts import Detected
from hrss_fraud.model.schema import TABLES, Field

#: Tolerance of det_item_fee_sumamt against cnt × pric: one fen plus 0.1 %.
AMOUNT_TOLERANCE_ABS = 0.01
AMOUNT_TOLERANCE_REL = 0.001
_FLAG_FIELDS = {
    "rx_circ_flag",
    "dscg_tkdrug_flag",
    "caution_elderly",
    "caution_pregnancy",
    "chronic",
    "pregnancy",
}
_ID_FIELDS = {
    "psn_no",
    "certno",
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "init_feedetl_sn",
    "fixmedins_code",
    "emp_no",
    "rxno",
}

#: Dates that are rightly in the future (an agreement runs for years).
FUTURE_ALLOWED = frozenset({"agrmt_begn_date", "agrmt_end_date"})


@dataclass(frozen=True)
class Checked:
    accepted: pl.DataFrame  # canonical columns, canonical dtypes, plus _source_file, _line
    quarantined: pl.DataFrame  # QUARANTINE_SCHEMA


#: One row per quarantined line: where it came from, why, and its original values (``raw``,
#: JSON keyed by the file's own headers) so nothing that arrived is lost.
QUARANTINE_SCHEMA = {
    "_source_file": pl.String,
    "_line": pl.Int64,
    "table": pl.String,
    "fixmedins_code": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "raw": pl.String,
}


def _which(df: pl.DataFrame, tests: dict[str, pl.Expr]) -> set[str]:
    """The names whose test holds for some row, all tested in one parallel pass."""
    if not tests or df.height == 0:
        return set()
    hits = df.select(e.any().alias(n) for n, e in tests.items()).row(0)
    return {n for n, hit in zip(tests, hits, strict=True) if hit}


def _texts(df: pl.DataFrame, present: set[str]) -> pl.DataFrame:
    """Each present field trimmed, empty as null; IDs lose an Excel '.0' tail.

    Nulling the empties and the '.0' regex are applied only to the columns that need them
    (a cheap test each, all in one pass): on clean files they cost more than the trimming.
    """
    cols = {n: pl.col(f"_t_{n}") for n in sorted(present)}
    tails = _which(df, {n: c.str.ends_with(".0") for n, c in cols.items() if _is_id(n)})
    df = df.with_columns(c.str.strip_chars() for c in cols.values())
    empty = _which(df, {n: c == "" for n, c in cols.items()})
    fixes = []
    for n in empty | tails:
        e = cols[n]
        if n in empty:
            e = pl.when(e == "").then(None).otherwise(e)
        if n in tails:
            e = e.str.replace(r"^(\d+)\.0+$", "${1}")
        fixes.append(e.alias(f"_t_{n}"))
    return df.with_columns(fixes) if fixes else df


def _is_id(name: str) -> bool:
    return name in _ID_FIELDS or name.endswith(("_codg", "_code"))


def _code_map(name: str, detected: Detected) -> dict[str, str]:
    maps = detected.layout.code_map
    if name in _FLAG_FIELDS:
        return maps.get("flag", {})
    if name in ("refd_setl_flag",):
        return maps.get("flag", {})
    return maps.get(name, {})


def _time_formats(df: pl.DataFrame, name: str, fmts: tuple[str, ...]) -> tuple[str, ...]:
    """The layout's formats with the one that parses a sample of this column first: a file
    writes its times one way, so usually one strptime does the whole column."""
    sample = df.select(pl.col(name).drop_nulls().head(200)).to_series()
    for fmt in fmts:
        parsed = sample.str.strptime(pl.Datetime("us"), fmt, strict=False)
        if sample.len() and parsed.null_count() == 0:
            return (fmt, *[f for f in fmts if f != fmt])
    return fmts


def _parse(
    f: Field, detected: Detected, formats: tuple[str, ...] | None = None, *, commas: bool = True
) -> pl.Expr:
    """The typed value of field ``f``; ``commas=False`` says no value holds a ',' (the
    thousands separator is then not searched for)."""
    e = pl.col(f"_t_{f.name}")
    if isinstance(f.dtype, pl.Datetime):
        fmts = formats or detected.layout.datetime_formats
        return e.str.strptime(pl.Datetime("us"), fmts[0], strict=False)
    if isinstance(f.dtype, pl.Date):
        fmts = [x for x in detected.layout.datetime_formats if "%H" not in x] + ["%Y-%m-%d"]
        dt = pl.coalesce(
            [e.str.strptime(pl.Date, fmt, strict=False) for fmt in fmts]
            + [e.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)]
        )
        return dt
    if isinstance(f.dtype, pl.Decimal):
        if commas:
            e = e.str.replace_all(",", "")
        return e.cast(f.dtype, strict=False)
    if f.dtype.is_integer():
        return e.str.replace(r"\.0+$", "").cast(f.dtype, strict=False)
    mapping = _code_map(f.name, detected)
    return e.replace(mapping) if mapping else e


def _reparse_times(
    df: pl.DataFrame, table: object, times: dict[str, tuple[str, ...]]
) -> pl.DataFrame:
    """Rows the column's main format missed get every other format of the layout."""
    missed_any = _which(
        df,
        {
            n: pl.col(f"_t_{n}").is_not_null() & pl.col(n).is_null()
            for n, fmts in times.items()
            if len(fmts) > 1
        },
    )
    for name, fmts in times.items():
        raw = pl.col(f"_t_{name}")
        missed = raw.is_not_null() & pl.col(name).is_null()
        if name in missed_any:
            others = pl.coalesce(
                [raw.str.strptime(pl.Datetime("us"), f, strict=False) for f in fmts[1:]]
            )
            df = df.with_columns(pl.when(missed).then(others).otherwise(pl.col(name)).alias(name))
    return df


def _certno_ok(col: pl.Expr) -> pl.Expr:
    """18-digit resident ID with a valid ISO 7064 check digit (or a 15-digit old one)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = pl.sum_horizontal(
        col.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(weights)
    )
    check = pl.lit("10X98765432").str.slice(total % 11, 1)
    eighteen = col.str.contains(r"^\d{17}[\dXx]$") & (
        col.str.slice(17, 1).str.to_uppercase() == check
    )
    return eighteen | col.str.contains(r"^\d{15}$")


def validate(
    raw: pl.DataFrame,
    detected: Detected,
    source_file: str | None = None,
    *,
    now: datetime | None = None,
) -> Checked:
    """Type one chunk of a file's rows and split them into accepted and quarantined."""
    table = TABLES[detected.table]
    # Rows of several files of one layout are validated together; each keeps its file.
    source = pl.col("_source_file") if source_file is None else pl.lit(source_file)
    now = now or datetime.now()
    df = raw.rename({k: f"_t_{v}" for k, v in detected.mapping.items()})
    present = {f.name for f in table.fields if f"_t_{f.name}" in df.columns}
    df = _texts(df, present)
    absent = [f.name for f in table.fields if f.name not in present]
    if absent:
        df = df.with_columns(pl.lit(None, pl.String).alias(f"_t_{n}") for n in absent)
    commas = _which(
        df,
        {
            f.name: pl.col(f"_t_{f.name}").str.contains(",", literal=True)
            for f in table.fields
            if isinstance(f.dtype, pl.Decimal) and f.name in present
        },
    )
    times = {
        f.name: _time_formats(df, f"_t_{f.name}", detected.layout.datetime_formats)
        for f in table.fields
        if isinstance(f.dtype, pl.Datetime)
    }
    df = df.with_columns(
        [
            _parse(f, detected, times.get(f.name), commas=f.name in commas).alias(f.name)
            for f in table.fields
        ]
    )
    df = _reparse_times(df, table, times)

    checks: list[tuple[str, pl.Expr]] = []
    for f in table.fields:
        raw_col, typed = pl.col(f"_t_{f.name}"), pl.col(f.name)
        if f.required:
            checks.append((f"missing_required:{f.name}", raw_col.is_null()))
        if not isinstance(f.dtype, pl.String):
            checks.append((f"bad_value:{f.name}", raw_col.is_not_null() & typed.is_null()))
        if f.codes is not None:
            checks.append(
                (f"bad_code:{f.name}", typed.is_not_null() & ~typed.is_in(f.codes.values()))
            )
        if isinstance(f.dtype, pl.Datetime | pl.Date) and f.name not in FUTURE_ALLOWED:
            limit = now + timedelta(days=1)
            lit = pl.lit(limit if isinstance(f.dtype, pl.Datetime) else limit.date())
            checks.append((f"future_date:{f.name}", typed > lit))
    if "certno" in table:
        c = pl.col("certno")
        checks.append(("bad_id:certno", c.is_not_null() & ~_certno_ok(c).fill_null(False)))
    for ident in ("psn_no", "setl_id", "mdtrt_id", "feedetl_sn"):
        if ident in table:
            checks.append(
                (
                    f"bad_id:{ident}",
                    pl.col(ident).str.contains(r"^\d(\.\d+)?[eE][+-]?\d+$").fill_null(False),
                )
            )
    checks += _table_checks(detected.table)

    # Most rows pass: find the failing ones first, then list reasons for those alone.
    failed = df.select(pl.any_horizontal(c.fill_null(False) for _, c in checks)).to_series()
    if failed.any():
        reasons = [pl.when(cond.fill_null(False)).then(pl.lit(name)) for name, cond in checks]
        bad = df.filter(failed).with_columns(_why=pl.concat_list(reasons).list.drop_nulls())
        good = df.filter(~failed)
    else:
        bad = df.clear().with_columns(_why=pl.lit([], pl.List(pl.String)))
        good = df
    raw_bad = bad.select(
        source.alias("_source_file"),
        pl.col("_line").cast(pl.Int64),
        pl.lit(detected.table).alias("table"),
        (
            pl.col("_t_fixmedins_code") if "fixmedins_code" in table else pl.lit(None, pl.String)
        ).alias("fixmedins_code"),
        pl.col("_why").list.first().str.split(":").list.first().alias("reason"),
        pl.col("_why").list.join("; ").alias("detail"),
        pl.struct([pl.col(f"_t_{detected.mapping[c]}").alias(c) for c in detected.mapping])
        .struct.json_encode()
        .alias("raw"),
    )
    accepted = good.select(
        [pl.col(f.name).cast(f.dtype) for f in table.fields]
        + [source.alias("_source_file"), pl.col("_line").cast(pl.Int64)]
    )
    return Checked(accepted, raw_bad)


def _table_checks(table: str) -> list[tuple[str, pl.Expr]]:
    f64 = pl.Float64
    if table == "fee_detail":
        det, cnt, pric = (pl.col(c).cast(f64) for c in ("det_item_fee_sumamt", "cnt", "pric"))
        tol = AMOUNT_TOLERANCE_ABS + AMOUNT_TOLERANCE_REL * det.abs()
        return [
            ("amount_mismatch", (det - cnt * pric).abs() > tol),
            ("refund_without_original", (det < 0) & pl.col("init_feedetl_sn").is_null()),
        ]
    if table == "settlement":
        total = pl.col("medfee_sumamt").cast(f64)
        paid = pl.sum_horizontal(
            pl.col(c).cast(f64).fill_null(0)
            for c in ("fund_pay_sumamt", "acct_pay", "psn_cash_pay")
        )
        return [
            ("end_before_begin", pl.col("endtime") < pl.col("begntime")),
            (
                "amount_mismatch",
                (total - paid).abs() > AMOUNT_TOLERANCE_ABS + AMOUNT_TOLERANCE_REL * total.abs(),
            ),
        ]
    return []
