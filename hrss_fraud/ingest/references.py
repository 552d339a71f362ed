"""Reference checks: a fee line's settlement, a claim's person and institution, and a
refund's original line must exist — in the batch being ingested or in the lake — and the
refunds of a line must not add up to more than the line itself."""

from __future__ import annotations

import duckdb
import polars as pl

from hrss_fraud.ingest.validate import AMOUNT_TOLERANCE_ABS, AMOUNT_TOLERANCE_REL

KEYS = {
    "institution": ["fixmedins_code"],
    "person": ["psn_no"],
    "settlement": ["fixmedins_code", "setl_id"],
    "fee_line": ["fixmedins_code", "mdtrt_id", "feedetl_sn"],
}
#: The key of a refund's original line, as the refund row spells it.
ORIGINAL = ["fixmedins_code", "mdtrt_id", "init_feedetl_sn"]
#: Refunded quantity may pass the original's by half the smallest step the lake stores
#: (quantities are kept to 4 decimals): counts are exact, only float sums need the slack.
COUNT_TOLERANCE = 0.00005
REFUND_EXCEEDS_ORIGINAL = "refund_exceeds_original"


def _hash(df: pl.DataFrame, cols: list[str]) -> pl.Series:
    return df.select(pl.struct(cols).hash(seed=7)).to_series()


def _line_hash(cols: list[str]) -> pl.Expr:
    """The fee-line key hash of ``cols`` (a line's own key, or a refund's ORIGINAL): the
    struct is renamed to the key's names so both spellings hash alike."""
    names = KEYS["fee_line"]
    return pl.struct([pl.col(c).alias(n) for c, n in zip(cols, names, strict=True)]).hash(seed=7)


def line_amounts(df: pl.DataFrame, *keep: str) -> pl.DataFrame:
    """Per fee line: its key hash ``h``, its original's key hash ``o`` (refunds only), the
    quantity and amount, and whether it is valid (what refund checks need of a line), after
    the columns ``keep`` of ``df``."""
    return df.select(
        *keep,
        h=_line_hash(KEYS["fee_line"]),
        o=pl.when(pl.col("init_feedetl_sn").is_not_null()).then(_line_hash(ORIGINAL)),
        cnt=pl.col("cnt").cast(pl.Float64),
        det=pl.col("det_item_fee_sumamt").cast(pl.Float64),
        valid=pl.col("vali_flag").fill_null("1") != "0",
    )


class KnownKeys:
    """Keys seen in this run, backed by the lake for what earlier runs committed.

    For refunds it also keeps the amounts of the fee lines accepted in the batch being
    written (the lake cannot see them until it is committed, then it holds them), and the
    originals that earlier batches already refunded (so the lake is asked for their
    refunds only when a new refund points to one of them)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.run: dict[str, list[pl.DataFrame]] = {k: [] for k in KEYS}
        # Small reference tables are read whole; claims are looked up on demand.
        self._ref = {
            name: con.sql(f"SELECT DISTINCT {', '.join(cols)} FROM {name}").pl()
            for name, cols in (("institution", KEYS["institution"]), ("person", KEYS["person"]))
        }
        self.batch_lines: list[pl.DataFrame] = []
        self.refunded = self._lake_refunded()

    def _lake_refunded(self) -> pl.Series:
        """Key hashes of the lines that the lake holds refunds of (refunds are ~1 % of lines)."""
        refunds = self.con.sql(
            "SELECT DISTINCT fixmedins_code, mdtrt_id, init_feedetl_sn FROM fee_detail_all "
            "WHERE init_feedetl_sn IS NOT NULL"
        ).pl()
        return refunds.select(_line_hash(ORIGINAL).alias("o")).to_series().unique()

    def add(self, kind: str, df: pl.DataFrame) -> None:
        # Claims keys are kept as 64-bit hashes: a county-year of fee lines fits in ~130 MB.
        self.run[kind].append(_hash(df, KEYS[kind]).unique().to_frame("h"))

    def add_accepted(self, table: str, df: pl.DataFrame) -> None:
        """Remember the keys of rows just accepted, so later files in the run can refer to them."""
        kind = {
            "institution": "institution",
            "person": "person",
            "settlement": "settlement",
            "fee_detail": "fee_line",
        }.get(table)
        if kind and df.height:
            self.add(kind, df)
        if kind == "fee_line" and df.height:
            self.batch_lines.append(line_amounts(df))

    def mark(self) -> dict[str, int]:
        """A point to roll back to; earlier keys are merged first (they are final)."""
        for frames in self.run.values():
            if len(frames) > 1:
                frames[:] = [pl.concat(frames)]
        return {k: len(v) for k, v in self.run.items()} | {"_lines": len(self.batch_lines)}

    def rollback(self, mark: dict[str, int]) -> None:
        """Forget keys added since ``mark`` (their batch was abandoned)."""
        for k, n in mark.items():
            if k == "_lines":
                del self.batch_lines[n:]
            else:
                del self.run[k][n:]

    def committed(self, con: duckdb.DuckDBPyConnection) -> None:
        """The batch is committed: read the lake through ``con``, which now holds its lines
        (their amounts need not be kept any more; the lines they refund are remembered)."""
        self.con = con
        if self.batch_lines:
            origins = pl.concat([f.select("o") for f in self.batch_lines]).to_series()
            self.refunded = pl.concat([self.refunded, origins.drop_nulls()]).unique()
        self.batch_lines.clear()

    def missing(self, kind: str, wanted: pl.DataFrame) -> pl.DataFrame:
        """The rows of ``wanted`` (key columns) that exist nowhere."""
        cols = KEYS[kind]
        wanted = wanted.select(cols).unique()
        seen = self.run[kind]
        if seen and wanted.height:
            hashes = _hash(wanted, cols)
            for s in seen:
                wanted = wanted.filter(~hashes.is_in(s["h"].implode()))
                hashes = _hash(wanted, cols)
                if wanted.height == 0:
                    return wanted
        if kind in self._ref:
            return wanted.join(self._ref[kind], on=cols, how="anti")
        view = {"settlement": "settlement_all", "fee_line": "fee_detail_all"}[kind]
        self.con.register("_wanted", wanted.to_arrow())
        try:
            found = self.con.sql(
                f"SELECT DISTINCT {', '.join(f'v.{c}' for c in cols)} FROM {view} v "
                f"SEMI JOIN _wanted w USING ({', '.join(cols)})"
            ).pl()
        finally:
            self.con.unregister("_wanted")
        return wanted.join(found, on=cols, how="anti") if found.height else wanted

    def lake_lines(self, wanted: pl.DataFrame, *, refunds: bool) -> pl.DataFrame:
        """``line_amounts`` of the lake's latest fee lines whose key (``refunds=False``) or
        whose original (``refunds=True``) is a row of ``wanted`` (a line key's columns)."""
        on = ORIGINAL if refunds else KEYS["fee_line"]
        match = " AND ".join(f"f.{a} = w.{b}" for a, b in zip(on, KEYS["fee_line"], strict=True))
        self.con.register("_wanted_lines", wanted.to_arrow())
        try:
            found = self.con.sql(
                "SELECT fixmedins_code, mdtrt_id, feedetl_sn, init_feedetl_sn, cnt, "
                f"det_item_fee_sumamt, vali_flag FROM fee_detail f SEMI JOIN _wanted_lines w "
                f"ON {match}"
            ).pl()
        finally:
            self.con.unregister("_wanted_lines")
        return line_amounts(found)


def _latest(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """One row per line key ``h``: the last version given (later frames are newer)."""
    return pl.concat(frames).unique("h", keep="last", maintain_order=True)


def _originals(refunds: pl.DataFrame, chunk: pl.DataFrame, known: KnownKeys) -> pl.DataFrame:
    """(o, orig_cnt, orig_det): the latest version of each refunded line — in this chunk,
    else in the batch being written, else in the lake. Lines found nowhere are left out
    (their refunds are ``refund_without_original``)."""
    wanted = refunds["o"].unique().implode()
    versions = [f.filter(pl.col("h").is_in(wanted)) for f in [*known.batch_lines, chunk]]
    found = _latest([v.select("h", "cnt", "det") for v in versions])
    absent = refunds.join(found, left_on="o", right_on="h", how="anti")
    if absent.height:
        keys = absent.select(ORIGINAL).unique().rename({"init_feedetl_sn": "feedetl_sn"})
        lake = known.lake_lines(keys, refunds=False).select("h", "cnt", "det")
        found = pl.concat([found, lake]).unique("h", keep="first")
    return found.select(o="h", orig_cnt=pl.col("cnt").abs(), orig_det=pl.col("det").abs())


def _earlier_refunds(refunds: pl.DataFrame, known: KnownKeys) -> pl.DataFrame:
    """(o, prior_cnt, prior_det): what valid refunds accepted before this chunk (in the lake
    or earlier in this batch) took back from each original; a refund this chunk uploads
    again (same key) is counted in its new version only."""
    wanted = refunds["o"].unique()
    frames: list[pl.DataFrame] = []
    again = refunds.filter(pl.col("o").is_in(known.refunded.implode()))
    if again.height:
        keys = again.select(ORIGINAL).unique().rename({"init_feedetl_sn": "feedetl_sn"})
        frames.append(known.lake_lines(keys, refunds=True))
    # Lines of this batch that refund these originals, or are newer versions of such
    # refunds in the lake (a corrected refund may point elsewhere now: its latest counts).
    stored = frames[0]["h"] if frames else pl.Series("h", [], pl.UInt64)
    frames += [
        f.filter(pl.col("o").is_in(wanted.implode()) | pl.col("h").is_in(stored.implode()))
        for f in known.batch_lines
    ]
    empty = pl.DataFrame(schema={"o": pl.UInt64, "prior_cnt": pl.Float64, "prior_det": pl.Float64})
    if not frames:
        return empty
    prior = _latest(frames).filter(
        pl.col("valid") & pl.col("o").is_not_null() & ~pl.col("h").is_in(refunds["h"].implode())
    )
    if prior.height == 0:
        return empty
    return prior.group_by("o").agg(
        prior_cnt=pl.col("cnt").abs().sum(), prior_det=pl.col("det").abs().sum()
    )


def refunds_over_original(df: pl.DataFrame, known: KnownKeys) -> pl.DataFrame:
    """(_i, detail) of the refunds in ``df`` (accepted fee lines with row index ``_i``) that
    take back more than their original line, in quantity or amount.

    All refunds of a line count: those already in the lake, those earlier in this batch and
    those in ``df``, in file order; a refund is refused when the refunds up to and
    including it exceed the original (the first that crosses, and those after it).
    Invalid refunds (``vali_flag`` 0) neither count nor are checked."""
    lines = line_amounts(df, "_i", *ORIGINAL)
    refunds = lines.filter(pl.col("o").is_not_null() & pl.col("valid"))
    if refunds.height == 0:
        return pl.DataFrame(schema={"_i": pl.UInt32, "detail": pl.String})
    originals = _originals(refunds, lines, known)
    prior = _earlier_refunds(refunds, known)
    # A refund uploaded twice in this chunk counts once: in its last version.
    last = pl.col("_i") == pl.col("_i").max().over("h")
    counted = pl.when(last).then(pl.col("cnt").abs()).otherwise(0.0)
    counted_det = pl.when(last).then(pl.col("det").abs()).otherwise(0.0)
    scored = (
        refunds.sort("_i")
        .join(originals, on="o", how="inner", maintain_order="left")
        .join(prior, on="o", how="left", maintain_order="left")
        .with_columns(pl.col("prior_cnt", "prior_det").fill_null(0.0))
        .with_columns(
            total_cnt=pl.col("prior_cnt")
            + counted.cum_sum().over("o")
            - counted
            + pl.col("cnt").abs(),
            total_det=pl.col("prior_det")
            + counted_det.cum_sum().over("o")
            - counted_det
            + pl.col("det").abs(),
        )
    )
    tol = AMOUNT_TOLERANCE_ABS + AMOUNT_TOLERANCE_REL * pl.col("orig_det")
    over = (pl.col("total_cnt") > pl.col("orig_cnt") + COUNT_TOLERANCE) | (
        pl.col("total_det") > pl.col("orig_det") + tol
    )
    return scored.filter(over).select(
        "_i",
        detail=pl.format(
            "{}:refunds of line {} come to cnt {}, amount {}; the line itself has cnt {}, "
            "amount {} (refunded before: cnt {}, amount {})",
            pl.lit(REFUND_EXCEEDS_ORIGINAL),
            pl.col("init_feedetl_sn"),
            *(
                pl.col(c).round(4 if c.endswith("cnt") else 2)
                for c in ("total_cnt", "total_det", "orig_cnt", "orig_det")
            ),
            pl.col("prior_cnt").round(4),
            pl.col("prior_det").round(2),
        ),
    )


def check(table: str, df: pl.DataFrame, known: KnownKeys) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split accepted rows into (still accepted, failed with ``_ref_reason`` and
    ``_ref_detail``). A row's reason is the first that applies, in the order checked."""
    reasons: list[tuple[str, str, list[str], pl.DataFrame]] = []
    if table in ("settlement", "fee_detail"):
        reasons.append(
            (
                "unknown_institution",
                "institution",
                KEYS["institution"],
                known.missing("institution", df),
            )
        )
        reasons.append(("unknown_person", "person", KEYS["person"], known.missing("person", df)))
    if table == "fee_detail":
        lines = df.filter(pl.col("setl_id").is_not_null())
        reasons.append(
            ("orphan_line", "settlement", KEYS["settlement"], known.missing("settlement", lines))
        )
        refunds = df.filter(pl.col("init_feedetl_sn").is_not_null()).select(
            "fixmedins_code", "mdtrt_id", feedetl_sn="init_feedetl_sn"
        )
        originals_here = df.select(KEYS["fee_line"])
        absent = refunds.join(originals_here, on=KEYS["fee_line"], how="anti")
        gone = known.missing("fee_line", absent) if absent.height else absent
        reasons.append(
            (
                "refund_without_original",
                "fee_line",
                ["fixmedins_code", "mdtrt_id", "init_feedetl_sn"],
                gone.rename({"feedetl_sn": "init_feedetl_sn"}),
            )
        )
    flagged = df.with_row_index("_i").with_columns(
        _ref_reason=pl.lit(None, pl.String), _ref_detail=pl.lit(None, pl.String)
    )
    for reason, _kind, cols, missing in reasons:
        if missing.height == 0:
            continue
        hit = missing.select(cols).unique().with_columns(_hit=pl.lit(reason))
        flagged = (
            flagged.join(hit, on=cols, how="left", maintain_order="left")
            .with_columns(_ref_reason=pl.coalesce("_ref_reason", "_hit"))
            .drop("_hit")
        )
    if table == "fee_detail":
        over = refunds_over_original(flagged.filter(pl.col("_ref_reason").is_null()), known)
        if over.height:
            flagged = (
                flagged.join(over, on="_i", how="left", maintain_order="left")
                .with_columns(
                    _ref_reason=pl.coalesce(
                        "_ref_reason",
                        pl.when(pl.col("detail").is_not_null()).then(
                            pl.lit(REFUND_EXCEEDS_ORIGINAL)
                        ),
                    ),
                    _ref_detail=pl.col("detail"),
                )
                .drop("detail")
            )
    flagged = flagged.drop("_i")
    bad = flagged.filter(pl.col("_ref_reason").is_not_null()).with_columns(
        _ref_detail=pl.coalesce("_ref_detail", "_ref_reason")
    )
    good = flagged.filter(pl.col("_ref_reason").is_null()).drop("_ref_reason", "_ref_detail")
    return good, bad
