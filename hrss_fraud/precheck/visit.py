"""What a check takes and gives: one visit in the upload's field names, and its hits.

A :class:`Visit` is checked at construction, so a malformed request fails with the field
(and the fee line) named before any rule runs; its ``lines`` are normalised to the lake's
``fee_detail`` types, missing optional columns filled with nulls. Before settlement the
fund's share is not known yet: a request without ``inscp_amt`` is checked with each line's
whole amount (``det_item_fee_sumamt``) as the amount at risk, and one without
``fee_ocur_time`` with the visit's start as every line's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from hrss_fraud.model.schema import TABLES

VISIT_KEYS = ("fixmedins_code", "mdtrt_id", "setl_id", "psn_no")
"""The fee line's keys that come from the visit, not from its lines."""
LINE_COLUMNS: dict[str, pl.DataType] = {
    name: dtype
    for name, dtype in TABLES["fee_detail"].polars_schema().items()
    if name not in VISIT_KEYS and name not in ("init_feedetl_sn", "vali_flag")
}
"""Every column a line may carry, with its type: the ``fee_detail`` upload's."""
REQUIRED_LINE_COLUMNS = ("feedetl_sn", "med_list_codg", "cnt", "pric", "det_item_fee_sumamt")


class VisitError(ValueError):
    """A visit that cannot be checked; the message names the field (and line) at fault."""


def _text(value: object, name: str, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        what = "a non-empty string" if required else "a non-empty string or None"
        msg = f"visit.{name}: must be {what}, got {value!r}"
        raise VisitError(msg)


def _codes(value: object, name: str) -> None:
    if not isinstance(value, tuple) or not all(isinstance(c, str) and c.strip() for c in value):
        msg = f"visit.{name}: must be a tuple of non-empty code strings, got {value!r}"
        raise VisitError(msg)


def _line_label(lines: pl.DataFrame, i: int) -> str:
    sn = lines["feedetl_sn"][i] if "feedetl_sn" in lines.columns else None
    return f"visit.lines row {i}" + (f" (feedetl_sn={sn})" if sn is not None else "")


def normalise_lines(lines: object, begntime: datetime) -> pl.DataFrame:
    """``lines`` with every :data:`LINE_COLUMNS` column, typed; a :class:`VisitError` naming
    the column and line of the first problem."""
    if not isinstance(lines, pl.DataFrame):
        msg = f"visit.lines: must be a polars DataFrame, got {type(lines).__name__}"
        raise VisitError(msg)
    if lines.is_empty():
        msg = "visit.lines: a visit needs at least one fee or order line"
        raise VisitError(msg)
    unknown = [c for c in lines.columns if c not in LINE_COLUMNS]
    if unknown:
        msg = f"visit.lines: unknown column(s) {', '.join(unknown)}; a line has: " + ", ".join(
            LINE_COLUMNS
        )
        raise VisitError(msg)
    missing = [c for c in REQUIRED_LINE_COLUMNS if c not in lines.columns]
    if missing:
        msg = f"visit.lines: missing required column(s) {', '.join(missing)}"
        raise VisitError(msg)
    out = {}
    for name, dtype in LINE_COLUMNS.items():
        if name not in lines.columns:
            continue
        try:
            out[name] = lines[name].cast(dtype, strict=True)
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
            bad = lines[name].cast(dtype, strict=False).is_null() & lines[name].is_not_null()
            i = int(bad.arg_max() or 0)
            msg = f"{_line_label(lines, i)}: {name}={lines[name][i]!r} is not a {dtype}"
            raise VisitError(msg) from None
    df = pl.DataFrame(out)
    for name in (*REQUIRED_LINE_COLUMNS, *(("fee_ocur_time",) if "fee_ocur_time" in df else ())):
        nulls = df[name].is_null()
        if nulls.any():
            msg = f"{_line_label(df, int(nulls.arg_max() or 0))}: {name} is empty"
            raise VisitError(msg)
    dup = ~df["feedetl_sn"].is_first_distinct()
    if dup.any():
        i = int(dup.arg_max() or 0)
        msg = f"{_line_label(df, i)}: feedetl_sn appears more than once in the visit"
        raise VisitError(msg)
    bad_cnt = df["cnt"] <= 0
    if bad_cnt.any():
        i = int(bad_cnt.arg_max() or 0)
        msg = f"{_line_label(df, i)}: cnt must be above 0, got {df['cnt'][i]}"
        raise VisitError(msg)
    if "inscp_amt" not in df.columns:
        df = df.with_columns(inscp_amt=pl.col("det_item_fee_sumamt"))
    if "fee_ocur_time" not in df.columns:
        df = df.with_columns(fee_ocur_time=pl.lit(begntime, LINE_COLUMNS["fee_ocur_time"]))
    return df.select(
        pl.col(c) if c in df.columns else pl.lit(None, t).alias(c) for c, t in LINE_COLUMNS.items()
    )


@dataclass(frozen=True)
class Visit:
    """One visit being checked, in the upload's field names. ``setl_id`` names the
    settlement when a stay settles in parts (its other settlements are then history); a
    visit before settlement has none and is keyed by ``mdtrt_id``. ``gend`` and ``brdy``
    left None are the lake's person record's."""

    fixmedins_code: str
    psn_no: str
    mdtrt_id: str
    med_type: str
    begntime: datetime
    endtime: datetime | None
    insutype: str | None
    dise_codg: str | None
    diagnoses: tuple[str, ...]
    oprn_oprt_code: tuple[str, ...]
    gend: str | None
    brdy: date | None
    adm_dept_codg: str | None
    lines: pl.DataFrame = field(repr=False)
    setl_id: str | None = None
    fund_pay_sumamt: float | None = None
    """The fund's payment once settled; before, the lines' in-scope amount stands for it."""

    def __post_init__(self) -> None:
        for name in ("fixmedins_code", "psn_no", "mdtrt_id", "med_type"):
            _text(getattr(self, name), name, required=True)
        for name in ("insutype", "dise_codg", "gend", "adm_dept_codg", "setl_id"):
            _text(getattr(self, name), name, required=False)
        _codes(self.diagnoses, "diagnoses")
        _codes(self.oprn_oprt_code, "oprn_oprt_code")
        if not isinstance(self.begntime, datetime):
            msg = f"visit.begntime: must be a datetime, got {self.begntime!r}"
            raise VisitError(msg)
        if self.endtime is not None:
            if not isinstance(self.endtime, datetime):
                msg = f"visit.endtime: must be a datetime or None, got {self.endtime!r}"
                raise VisitError(msg)
            if self.endtime < self.begntime:
                msg = f"visit.endtime: {self.endtime} is before begntime {self.begntime}"
                raise VisitError(msg)
        if self.brdy is not None and (
            not isinstance(self.brdy, date) or isinstance(self.brdy, datetime)
        ):
            msg = f"visit.brdy: must be a date or None, got {self.brdy!r}"
            raise VisitError(msg)
        if self.brdy is not None and self.brdy > self.begntime.date():
            msg = f"visit.brdy: {self.brdy} is after the visit's start {self.begntime:%Y-%m-%d}"
            raise VisitError(msg)
        object.__setattr__(self, "lines", normalise_lines(self.lines, self.begntime))

    @property
    def settlement(self) -> str:
        """The settlement id the visit is prepared under: ``setl_id``, else ``mdtrt_id``."""
        return self.setl_id or self.mdtrt_id


@dataclass(frozen=True)
class CheckHit:
    """One rule's hit on the checked visit. ``violating`` lists this visit's lines the rule
    names (empty when it flags the visit as a whole, e.g. one visit too many: ``amount``
    then is the visit's); ``involved`` the line keys (``fixmedins_code|mdtrt_id|feedetl_sn``,
    or ``fixmedins_code|mdtrt_id`` for a whole visit) of the other lines behind it, this
    visit's or the person's history."""

    rule_id: str
    rule_name: str
    rule_name_en: str
    framework: str
    severity: str
    severity_zh: str
    behaviour: str
    content: str
    amount: float
    violating: tuple[str, ...]
    involved: tuple[str, ...]
