"""Reference checks: a fee line's settlement, a claim's person and institution, and a
refund's original line must exist — in the batch being ingested or in the lake."""

from __future__ import annotations

import duckdb
import polars as pl

KEYS = {
    "institution": ["fixmedins_code"],
    "person": ["psn_no"],
    "settlement": ["fixmedins_code", "setl_id"],
    "fee_line": ["fixmedins_code", "mdtrt_id", "feedetl_sn"],
}


def _hash(df: pl.DataFrame, cols: list[str]) -> pl.Series:
    return df.select(pl.struct(cols).hash(seed=7)).to_series()


class KnownKeys:
    """Keys seen in this run, backed by the lake for what earlier runs committed."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.run: dict[str, list[pl.DataFrame]] = {k: [] for k in KEYS}
        # Small reference tables are read whole; claims are looked up on demand.
        self._ref = {
            name: con.sql(f"SELECT DISTINCT {', '.join(cols)} FROM {name}").pl()
            for name, cols in (("institution", KEYS["institution"]), ("person", KEYS["person"]))
        }

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

    def mark(self) -> dict[str, int]:
        """A point to roll back to; earlier keys are merged first (they are final)."""
        for frames in self.run.values():
            if len(frames) > 1:
                frames[:] = [pl.concat(frames)]
        return {k: len(v) for k, v in self.run.items()}

    def rollback(self, mark: dict[str, int]) -> None:
        """Forget keys added since ``mark`` (their batch was abandoned)."""
        for k, n in mark.items():
            del self.run[k][n:]

    def reconnect(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

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


def check(table: str, df: pl.DataFrame, known: KnownKeys) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split accepted rows into (still accepted, failed with ``_ref_reason``)."""
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
    flagged = df.with_columns(_ref_reason=pl.lit(None, pl.String))
    for reason, _kind, cols, missing in reasons:
        if missing.height == 0:
            continue
        hit = missing.select(cols).unique().with_columns(_hit=pl.lit(reason))
        flagged = (
            flagged.join(hit, on=cols, how="left", maintain_order="left")
            .with_columns(_ref_reason=pl.coalesce("_ref_reason", "_hit"))
            .drop("_hit")
        )
    bad = flagged.filter(pl.col("_ref_reason").is_not_null())
    good = flagged.filter(pl.col("_ref_reason").is_null()).drop("_ref_reason")
    return good, bad
