"""Validation against the canonical model: parse text into typed columns, and route each
row either to the accepted set or to quarantine with a reason code.

Every check is a vectorised expression; a row's reason is the first check it fails, its
detail lists every check it fails. Reference checks (does the settlement, person,
institution or original line exist?) are in ``references.py``: they need the lake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import polars as pl

from hrss_fraud.ingest.layouts import Detected
from hrss_fraud.ingest.readers import FIELDS
from hrss_fraud.model import codes as C
from hrss_fraud.model.schema import TABLES, Field, Table

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
    "evt_sn",
    "cashym",
}

#: The column that keeps, with each accepted row, the values of the file's columns that the
#: data model does not use (set aside by the layout): a JSON object keyed by the file's own
#: headers, so nothing that arrived is lost. Absent when a file has no such column.
SET_ASIDE = "_set_aside"

#: Registers: quarantining one of their rows would turn every claim naming it into
#: ``unknown_person`` or ``unknown_institution``, so their code lists are all descriptive.
REGISTER_TABLES = frozenset({"person", "institution", "practitioner"})


def descriptive(table: str, name: str) -> bool:
    """Whether a value outside ``name``'s code list is kept with a data-quality flag
    (``bad_code:<field>`` counted per file, ``dq_code`` in the lake) rather than
    quarantining the row (see ``codes.DESCRIPTIVE_FIELDS``)."""
    return name in C.DESCRIPTIVE_FIELDS or table in REGISTER_TABLES


def in_list(f: Field, typed: pl.Expr) -> pl.Expr:
    """Whether each value of ``typed`` is in ``f``'s code list (a department by its parent:
    ``A03.05`` is a sub-specialty of ``A03``)."""
    assert f.codes is not None
    if f.name in C.DEPT_FIELDS:
        typed = typed.str.split(C.DEPT_SUB_SEP).list.first()
    return typed.is_in(f.codes.values())


#: Dates that are rightly in the future (an agreement runs for years).
FUTURE_ALLOWED = frozenset({"agrmt_begn_date", "agrmt_end_date"})

#: Longest value, in characters, per kind of field. Generous on purpose: they refuse the
#: megabyte field of a broken or hostile export, not an unusual but real value. Codes and
#: IDs are under 40 characters on the platform (national catalogue codes 27, settlement IDs
#: about 30); names and short descriptions (a drug with its pack, several diagnoses in one
#: field) stay under a few hundred; free text (addresses, notes, lists of codes) under a few
#: thousand; a number or a date as text under 30.
MAX_CHARS = {"code": 128, "name": 512, "text": 4000, "value": 64}
#: Fields that hold free text or lists rather than one name.
_FREE_TEXT = frozenset(
    {
        "addr",
        "note",
        "indications",
        "contraindications",
        "lmt_dept",
        "lmt_med_type",
        "lmt_insutype",
        "lmt_dise_catalog",
        "dise_prefixes",
    }
)
#: Control characters refused in names and free text: every C0 control and DEL except TAB,
#: LF and CR (a line break typed in an Excel cell with Alt+Enter is real text).
_CONTROL_IN_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
#: In codes, IDs, numbers and dates no control character at all: one would break joins.
_CONTROL_IN_CODE = r"[\x00-\x1f\x7f]"
_TEXT_WHITESPACE = np.array([0x09, 0x0A, 0x0D], np.uint8)
#: How far below zero the cash part may be (the fund's share rounds; one fen).
_CASH_FLOOR = pl.lit(-Decimal(str(AMOUNT_TOLERANCE_ABS)))
#: A date or time cut short: ending in a separator (``2025-03-01 15:``), in a one-digit
#: minute or second (``15:3``, ``15:30:0``), in a one-digit day after a two-digit month
#: (``2025-03-1``) or in a lone hour (``2025-03-01 1``); in compact form, digits that are
#: neither a date (8) nor a date and time (14). strptime reads the digits it finds (``15:3``
#: as 15:03, ``2025030115300`` as 15:30:00), so these would otherwise be completed silently.
_INCOMPLETE_TIME = r"(?:[-/:.T年月]|:\d|[-/]\d{2}[-/]\d|\s\d{1,2})$|^(?:\d{7}|\d{9,13})$"


class Check(NamedTuple):
    """One row check: ``name`` is ``reason:field``; ``detail`` (optional) says the values."""

    name: str
    cond: pl.Expr
    detail: pl.Expr | None = None


@dataclass(frozen=True)
class Checked:
    accepted: pl.DataFrame  # canonical columns, canonical dtypes, plus _source_file, _line
    # (and SET_ASIDE when the file has columns the model does not use)
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
    carry: tuple[str, ...] = (),
) -> Checked:
    """Type one chunk of a file's rows and split them into accepted and quarantined;
    ``carry`` names columns of ``raw`` passed to the accepted rows unchanged."""
    table = TABLES[detected.table]
    # Rows of several files of one layout are validated together; each keeps its file.
    source = pl.col("_source_file") if source_file is None else pl.lit(source_file)
    now = now or datetime.now()
    # Set-aside columns get internal names: a header may be anything, even a field's name.
    extra = {
        s.column: f"_x_{i}" for i, s in enumerate(detected.set_aside) if s.column in raw.columns
    }
    header = [c for c in raw.columns if c in detected.mapping or c in extra]
    df = raw.rename({k: f"_t_{v}" for k, v in detected.mapping.items()} | extra)
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

    checks = (
        _ragged_check(df, detected)
        + _text_checks(df, table, present)
        + _set_aside_checks(df, extra)
    )
    for f in table.fields:
        raw_col, typed = pl.col(f"_t_{f.name}"), pl.col(f.name)
        if f.required:
            checks.append(Check(f"missing_required:{f.name}", raw_col.is_null()))
        if not isinstance(f.dtype, pl.String):
            checks.append(Check(f"bad_value:{f.name}", raw_col.is_not_null() & typed.is_null()))
        if isinstance(f.dtype, pl.Datetime | pl.Date) and f.name in present:
            checks.append(_incomplete_time(f.name))
        if f.codes is not None and not descriptive(detected.table, f.name):
            checks.append(Check(f"bad_code:{f.name}", typed.is_not_null() & ~in_list(f, typed)))
        if isinstance(f.dtype, pl.Datetime | pl.Date) and f.name not in FUTURE_ALLOWED:
            limit = now + timedelta(days=1)
            lit = pl.lit(limit if isinstance(f.dtype, pl.Datetime) else limit.date())
            checks.append(Check(f"future_date:{f.name}", typed > lit))
    if "certno" in table:
        c = pl.col("certno")
        checks.append(Check("bad_id:certno", c.is_not_null() & ~_certno_ok(c).fill_null(False)))
    for ident in ("psn_no", "setl_id", "mdtrt_id", "feedetl_sn"):
        if ident in table:
            checks.append(
                Check(
                    f"bad_id:{ident}",
                    pl.col(ident).str.contains(r"^\d(\.\d+)?[eE][+-]?\d+$").fill_null(False),
                )
            )
    checks += _table_checks(detected.table)

    # Most rows pass: find the failing ones first, then list reasons for those alone.
    failed = df.select(pl.any_horizontal(c.cond.fill_null(False) for c in checks)).to_series()
    if failed.any():
        reasons = [
            pl.when(c.cond.fill_null(False)).then(
                pl.lit(c.name) if c.detail is None else pl.coalesce(c.detail, pl.lit(c.name))
            )
            for c in checks
        ]
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
        pl.struct(
            [
                pl.col(f"_t_{detected.mapping[c]}" if c in detected.mapping else extra[c]).alias(c)
                for c in header
            ]
        )
        .struct.json_encode()
        .alias("raw"),
    )
    kept = []
    if extra:
        kept.append(
            pl.struct([pl.col(x).alias(c) for c, x in extra.items()])
            .struct.json_encode()
            .alias(SET_ASIDE)
        )
    accepted = good.select(
        [pl.col(f.name).cast(f.dtype) for f in table.fields]
        + [source.alias("_source_file"), pl.col("_line").cast(pl.Int64)]
        + kept
        + [pl.col(c) for c in carry]
    )
    return Checked(accepted, raw_bad)


def code_flags(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """(``_source_file``, ``flag``, ``n``): accepted rows of ``df`` (typed) that hold a
    descriptive code outside its list, per file and ``bad_code:<field>`` — kept, and
    reported as data-quality flags."""
    t = TABLES[table]
    tests = {
        f"bad_code:{f.name}": pl.col(f.name).is_not_null() & ~in_list(f, pl.col(f.name))
        for f in t.fields
        if f.codes is not None and descriptive(table, f.name) and f.name in df.columns
    }
    empty = pl.DataFrame(schema={"_source_file": pl.String, "flag": pl.String, "n": pl.UInt32})
    hits = _which(df, tests)
    if not hits:
        return empty
    return pl.concat(
        [
            df.filter(tests[name])
            .group_by("_source_file")
            .agg(n=pl.len())
            .select("_source_file", flag=pl.lit(name), n="n")
            for name in sorted(hits)
        ]
    )


def _ragged_check(df: pl.DataFrame, detected: Detected) -> list[Check]:
    """A CSV row with fewer fields than the header (the reader marks it in ``_fields``,
    see ``readers.mark_short_rows``): its missing fields were never sent, so it is not
    padded with empty values but quarantined, with the row kept as it arrived."""
    if FIELDS not in df.columns:
        return []
    width = len(detected.mapping) + len(detected.ignored) + len(detected.set_aside)
    n = pl.col(FIELDS)
    detail = pl.format("ragged_row:row has {} fields but the header has {}", n, pl.lit(width))
    return [Check("ragged_row", n.is_not_null(), detail)]


def _kind(f: Field) -> str:
    """Which length cap and which control characters apply to a field (see MAX_CHARS)."""
    if not isinstance(f.dtype, pl.String):
        return "value"
    if _is_id(f.name) or f.codes is not None:
        return "code"
    return "text" if f.name in _FREE_TEXT else "name"


def _with_controls(df: pl.DataFrame, fields: list[Field]) -> set[str]:
    """Names of the fields whose column holds a control byte its kind refuses.

    A regex over every value costs more than the rest of validation; the bytes of a whole
    column, scanned at once, cost a few milliseconds. A hit (or a false one, from bytes an
    Arrow slice does not show) is confirmed per row by the check itself."""
    table = df.select(f"_t_{f.name}" for f in fields).to_arrow(compat_level=pl.CompatLevel.oldest())
    found: set[str] = set()
    for f, column in zip(fields, table.columns, strict=True):
        text = _kind(f) in ("name", "text")
        for chunk in column.chunks:
            data = chunk.buffers()[-1]
            if data is None:
                continue
            b = np.frombuffer(data, np.uint8)
            ctl = b[(b < 0x20) | (b == 0x7F)]
            if ctl.size and (not text or np.isin(ctl, _TEXT_WHITESPACE, invert=True).any()):
                found.add(f.name)
                break
    return found


def _text_checks(df: pl.DataFrame, table: Table, present: set[str]) -> list[Check]:
    """Values over their kind's length cap, and control characters (a NUL from a broken
    export, a stray escape code): each quarantined with the field named. One cheap pass
    finds the columns that hold any; only those get a per-row check."""
    fields = [f for f in table.fields if f.name in present]
    # Bytes bound characters from above: a value under the cap in bytes is under it.
    long = _which(
        df, {f.name: pl.col(f"_t_{f.name}").str.len_bytes() > MAX_CHARS[_kind(f)] for f in fields}
    )
    # A control character in a number, a date or a listed code already fails to parse
    # (bad_value, bad_code): only free text, names and IDs need looking at.
    free = [f for f in fields if isinstance(f.dtype, pl.String) and f.codes is None]
    controls = _with_controls(df, free) if free and df.height else set()
    checks: list[Check] = []
    for f in fields:
        raw, kind = pl.col(f"_t_{f.name}"), _kind(f)
        cap = MAX_CHARS[kind]
        if f.name in long:
            n = raw.str.len_chars()
            detail = pl.format(
                "too_long:{} has {} characters, more than the {} allowed for a {}",
                pl.lit(f.name),
                n,
                pl.lit(cap),
                pl.lit(kind),
            )
            checks.append(Check(f"too_long:{f.name}", n > cap, detail))
        if f.name in controls:
            ctl = _CONTROL_IN_TEXT if kind in ("name", "text") else _CONTROL_IN_CODE
            code = raw.str.extract(f"({ctl})", 1).str.encode("hex").str.to_uppercase()
            detail = pl.format("control_char:{} holds control character 0x{}", pl.lit(f.name), code)
            checks.append(Check(f"control_char:{f.name}", raw.str.contains(ctl), detail))
    return checks


def _set_aside_checks(df: pl.DataFrame, extra: dict[str, str]) -> list[Check]:
    """A set-aside value is kept as it arrived, under the free-text cap: a megabyte field
    of a broken or hostile export is refused there as anywhere else."""
    cap = MAX_CHARS["text"]
    long = _which(df, {c: pl.col(x).str.len_bytes() > cap for c, x in extra.items()})
    checks = []
    for c in sorted(long):
        n = pl.col(extra[c]).str.len_chars()
        detail = pl.format(
            "too_long:{} has {} characters, more than the {} allowed for a set-aside column",
            pl.lit(c),
            n,
            pl.lit(cap),
        )
        checks.append(Check(f"too_long:{c}", n > cap, detail))
    return checks


def _incomplete_time(name: str) -> Check:
    """A date or time that strptime completed from a cut value is a bad value (one that
    does not parse at all is one already)."""
    raw = pl.col(f"_t_{name}")
    cut = pl.col(name).is_not_null() & raw.str.contains(_INCOMPLETE_TIME)
    detail = pl.format("bad_value:{} is incomplete ('{}')", pl.lit(name), raw.str.slice(0, 40))
    return Check(f"bad_value:{name}", cut, detail)


def _tolerance(whole: pl.Expr) -> pl.Expr:
    """How far an amount may miss its relation: one fen plus 0.1 % of the whole."""
    return AMOUNT_TOLERANCE_ABS + AMOUNT_TOLERANCE_REL * whole.abs()


def _num(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64)


def _shown(name: str) -> pl.Expr:
    """``name=value`` for a detail (the value as the lake stores it)."""
    return pl.format("{}={}", pl.lit(name), pl.col(name).cast(pl.String).fill_null("∅"))


def _sign_checks(fields: tuple[str, ...], rows: pl.Expr, *, refuse: str, what: str) -> list[Check]:
    """On ``rows``, the values of ``fields`` of the sign ``refuse`` ("negative" on a row
    that is not a refund, "positive" on a refund, which is negative); ``what`` says in the
    detail why. Compared as stored (decimals): ten times cheaper than through floats."""
    checks = []
    for name in fields:
        v = pl.col(name)
        if refuse == "negative":
            # The cash part balances the others: rounding of the fund's share can leave -0.01.
            wrong = v < (_CASH_FLOOR if name == "psn_cash_pay" else 0)
        else:
            wrong = v > 0
        detail = pl.format("bad_sign:{} {}", _shown(name), pl.lit(what))
        checks.append(Check(f"bad_sign:{name}", wrong & rows, detail))
    return checks


def _part_checks(parts: tuple[str, ...], whole: str) -> list[Check]:
    """A part larger than the whole it belongs to (in size: refunds are negative)."""
    checks = []
    w = _num(whole)
    for name in parts:
        over = _num(name).abs() > w.abs() + _tolerance(w)
        detail = pl.format("amount_exceeds_total:{} > {}", _shown(name), _shown(whole))
        checks.append(Check(f"amount_exceeds_total:{name}", over, detail))
    return checks


#: Fee-line amounts and quantities never negative on an ordinary line (a negative amount
#: is ``refund_without_original``).
_FEE_NOT_NEGATIVE = (
    "cnt",
    "pric",
    "inscp_amt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "pric_uplmt_amt",
    "prd_days",
)
#: Parts of a fee line's amount (each at most the line's total, whatever the province's
#: convention for the co-pay; their sum is not checked, since conventions differ).
_FEE_PARTS = ("inscp_amt", "fulamt_ownpay_amt", "overlmt_selfpay")
#: Settlement amounts, all of one sign.
_SETL_AMOUNTS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_amt",
    "fund_pay_sumamt",
    "hifp_pay",
    "acct_pay",
    "psn_cash_pay",
)
_SETL_PARTS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_amt")


def _fee_checks() -> list[Check]:
    """A fee line: ``det ≈ cnt × pric``; a refund (a row with ``init_feedetl_sn``, as the
    data model marks it) is negative, any other line is not; in-scope and self-paid parts
    are at most the line. Whether a refund exceeds its original is in references.py."""
    det, cnt, pric = _num("det_item_fee_sumamt"), _num("cnt"), _num("pric")
    refund = pl.col("init_feedetl_sn").is_not_null()
    mismatch = (det - cnt * pric).abs() > _tolerance(det)
    shown = (_shown(c) for c in ("det_item_fee_sumamt", "cnt", "pric"))
    mismatch_detail = pl.format("amount_mismatch:{} but {} × {}", *shown)
    ordinary = "on an ordinary line (not a refund: init_feedetl_sn is empty)"
    refund_sign = "on a refund line (init_feedetl_sn is set): a refund is negative"
    return [
        Check("amount_mismatch", mismatch, mismatch_detail),
        Check("refund_without_original", (det < 0) & ~refund),
        *_sign_checks(_FEE_NOT_NEGATIVE, ~refund, refuse="negative", what=ordinary),
        *_sign_checks(
            ("det_item_fee_sumamt", *_FEE_PARTS), refund, refuse="positive", what=refund_sign
        ),
        *_part_checks(_FEE_PARTS, "det_item_fee_sumamt"),
    ]


def _settlement_checks() -> list[Check]:
    """A settlement: end not before begin; the payments (fund, account, cash) add up to the
    total; an ordinary settlement has no negative amount, a refund settlement
    (``refd_setl_flag`` 1) has all its amounts of one sign; the in-scope and self-paid
    parts are at most the total, the pooled fund at most the whole fund payment."""
    total = _num("medfee_sumamt")
    paid = pl.sum_horizontal(
        _num(c).fill_null(0) for c in ("fund_pay_sumamt", "acct_pay", "psn_cash_pay")
    )
    mismatch_detail = pl.format(
        "amount_mismatch:{} but fund + account + cash = {}", _shown("medfee_sumamt"), paid.round(2)
    )
    refund, medfee = pl.col("refd_setl_flag") == "1", pl.col("medfee_sumamt")
    ordinary = "on an ordinary settlement (refd_setl_flag 0)"
    refund_what = "against the sign of medfee_sumamt on a refund settlement (refd_setl_flag 1)"
    checks = [
        Check("end_before_begin", pl.col("endtime") < pl.col("begntime")),
        Check("amount_mismatch", (total - paid).abs() > _tolerance(total), mismatch_detail),
        *_sign_checks((*_SETL_AMOUNTS, "ipt_days"), ~refund, refuse="negative", what=ordinary),
        *_sign_checks(_SETL_AMOUNTS, refund & (medfee > 0), refuse="negative", what=refund_what),
        *_sign_checks(_SETL_AMOUNTS, refund & (medfee < 0), refuse="positive", what=refund_what),
        *_part_checks(_SETL_PARTS, "medfee_sumamt"),
        *_part_checks(("hifp_pay",), "fund_pay_sumamt"),
    ]
    return checks


#: A month of contribution as the platform writes it: YYYYMM.
_CASHYM = r"^\d{4}(0[1-9]|1[0-2])$"


def _contribution_checks() -> list[Check]:
    """A contribution row: its month is YYYYMM, its base and amounts are not negative."""
    month = pl.col("cashym")
    bad_month = pl.format("bad_value:cashym={} is not a month written YYYYMM", month)
    every = pl.lit(True)
    amounts = ("psn_clctstd", "wag", "emp_clct_amt", "psn_clct_amt")
    what = "on a contribution filing"
    return [
        Check("bad_value:cashym", ~month.str.contains(_CASHYM), bad_month),
        *_sign_checks(amounts, every, refuse="negative", what=what),
    ]


def _statement_checks() -> list[Check]:
    """An employer's annual statement: payroll and headcount are not negative."""
    what = "in an annual statement"
    return _sign_checks(("wag_sumamt", "emp_cnt"), pl.lit(True), refuse="negative", what=what)


def _table_checks(table: str) -> list[Check]:
    """The checks of one table across its fields (amount relations and signs)."""
    if table == "fee_detail":
        return _fee_checks()
    if table == "settlement":
        return _settlement_checks()
    if table == "emp_contribution":
        return _contribution_checks()
    if table == "emp_fin_stmt":
        return _statement_checks()
    return []
