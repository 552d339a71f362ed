"""Persons and institutions that only a province sees, added to a merged provincial sample.

- **Referrals** (legitimate, recorded as look-alikes): about one adult in a hundred is seen
  at another county's general hospital, on a day with no other care of theirs — an
  ordinary outpatient visit there, copied from one of its own patients of the same sex and
  insurance type.
- ``cross_county_same_day`` (planted, person): a person buys drugs of one class at
  pharmacies of three counties on one day; the purchases after the first county's are at
  risk (the repeated charge).
- ``province_peer_outlier`` (planted, institution): one county's general hospital bills
  twice the quantity on every outpatient line; its county holds no other hospital of its
  kind and level, so only the province's peers show it. The added half is at risk.

Copies keep the template's lines and amounts, so every total still adds up to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from hrss_fraud.model.codes import INPATIENT_MED_TYPES, PHARMACY_MED_TYPES
from hrss_fraud.model.schema import TABLES
from hrss_fraud.synth import output

REFERRAL_SHARE = 0.01
ABUSERS_PER_COUNTY = 2
OUTLIER_FACTOR = 2
_FEE_AMOUNTS = ("cnt", "det_item_fee_sumamt", "inscp_amt", "fulamt_ownpay_amt", "overlmt_selfpay")
_SETL_AMOUNTS = (
    *("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_amt"),
    *("fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"),
)
_SCHEMES = {
    "cross_county_same_day": ("同日跨县多处购同类药", "person"),
    "province_peer_outlier": ("次均费用远超全省同类同级机构", "institution"),
}


@dataclass(frozen=True)
class Added:
    settlements: int
    fee_lines: int


def _typed(df: pl.DataFrame, table: str, time_fmt: str) -> pl.DataFrame:
    """A read-back upload's text columns as the schema's types."""
    exprs = []
    for f in TABLES[table].fields:
        if f.name not in df.columns:
            continue
        c = pl.col(f.name)
        if isinstance(f.dtype, pl.Datetime):
            c = c.str.to_datetime(time_fmt, strict=False)
        elif isinstance(f.dtype, pl.Date):
            c = c.str.to_date("%Y-%m-%d", strict=False)
        elif f.dtype.is_numeric():
            c = c.cast(f.dtype)
        exprs.append(c)
    return df.select(exprs)


def _read(work: Path, files: list[dict], table: str) -> pl.DataFrame:
    frames = []
    for f in files:
        if f["table"] != table:
            continue
        fmt = f["format"]
        raw = output.read_back(work / f["path"], table, fmt)
        frames.append(
            _typed(raw, table, str(output.FORMATS[fmt]["time"])).with_columns(
                _path=pl.lit(f["path"]), _format=pl.lit(fmt)
            )
        )
    return pl.concat(frames, how="diagonal_relaxed")


def _fen(df: pl.DataFrame, col: str) -> int:
    return round(float(df[col].sum() or 0) * 100)


def add_crossings(
    work: Path, manifest: dict, seed: int, counties: tuple[tuple[str, str], ...]
) -> Added:
    """Add referrals and the planted cases to the merged sample in ``work``; update the
    manifest's files and totals and the truth in place."""
    rng = np.random.default_rng([seed, 2222])
    inst = pl.read_csv(work / "reference" / "institution.csv", infer_schema=False).with_columns(
        county=pl.col("admdvs").str.slice(0, 6)
    )
    person = pl.read_csv(work / "reference" / "person.csv", infer_schema=False).with_columns(
        county=pl.col("insu_admdvs").str.slice(0, 6), brdy=pl.col("brdy").str.to_date()
    )
    setl = _read(work, manifest["files"], "settlement").join(
        inst.select("fixmedins_code", "county", "medins_type"), on="fixmedins_code"
    )
    truth = work / "truth"
    busy = _busy_days(setl)
    outlier_code, outlier_lines = _plant_outlier(work, manifest, inst, setl, counties[-1][0])
    copied = set(
        inst.filter(
            pl.col("medins_type").is_in(["A1", "D1"]) & (pl.col("fixmedins_code") != outlier_code)
        )["fixmedins_code"].to_list()
    )
    fee = _read(work, [f for f in manifest["files"] if f["fixmedins_code"] in copied], "fee_detail")
    templates = setl.filter(
        pl.col("fixmedins_code").is_in(copied) & ~pl.col("mdtrt_id").is_in(_touched(truth))
    ).join(person.select("psn_no", tpl_gend="gend", tpl_insutype="insutype"), on="psn_no")
    adults = person.filter(
        pl.col("die_date").is_null()
        & pl.col("brdy").is_between(pl.date(1961, 1, 1), pl.date(2006, 12, 31))
    )
    referrals = _referrals(rng, adults, templates, busy)
    cat = pl.read_csv(
        work / "reference" / "catalogue.csv",
        infer_schema=False,
        columns=["med_list_codg", "drug_class"],
    ).filter(pl.col("drug_class").is_not_null())
    classes = (
        fee.filter(pl.col("init_feedetl_sn").is_null())
        .join(cat, on="med_list_codg")
        .select("fixmedins_code", "setl_id", "drug_class")
        .unique()
    )
    rest = adults.filter(~pl.col("psn_no").is_in(referrals["psn_no"].implode()))
    abuse = _abusers(rng, rest, templates, classes, busy, counties)
    new_setl = pl.concat([referrals, abuse], how="diagonal_relaxed")
    new_fee = _copy_lines(fee, new_setl)
    added = _write_copies(work, manifest, new_setl, new_fee)
    abuse_lines = (
        new_fee.filter(pl.col("_order") >= 1)
        .join(cat, on="med_list_codg")
        .filter(pl.col("drug_class") == pl.col("_class"))
        .with_columns(scheme=pl.lit("cross_county_same_day"), amount_at_risk=pl.col("inscp_amt"))
    )
    _record_truth(truth, outlier_code, outlier_lines, abuse_lines, referrals)
    return added


def _busy_days(setl: pl.DataFrame) -> pl.DataFrame:
    """Every (person, day) someone already has care on, stays counted whole."""
    return (
        setl.select(
            "psn_no",
            d=pl.date_ranges(pl.col("begntime").dt.date(), pl.col("endtime").dt.date()),
        )
        .explode("d")
        .unique()
    )


def _touched(truth: Path) -> pl.Series:
    """Visits a scheme or a look-alike touched: never copied."""
    lines = pl.read_parquet(truth / "lines.parquet")
    looks = pl.read_parquet(truth / "lookalikes.parquet")
    return pl.concat([lines["mdtrt_id"], looks["mdtrt_id"]]).unique().implode()


def _referrals(
    rng: np.random.Generator, adults: pl.DataFrame, templates: pl.DataFrame, busy: pl.DataFrame
) -> pl.DataFrame:
    """Outpatient visits at another county's general hospital, on free days."""
    op = templates.filter(
        (pl.col("medins_type") == "A1")
        & ~pl.col("med_type").is_in(INPATIENT_MED_TYPES + PHARMACY_MED_TYPES)
    )
    n = max(4, round(adults.height * REFERRAL_SHARE))
    chosen = adults.sample(n, seed=int(rng.integers(1 << 31)))
    rows = []
    for who in chosen.iter_rows(named=True):
        pool = op.filter(
            (pl.col("county") != who["county"])
            & (pl.col("tpl_gend") == who["gend"])
            & (pl.col("tpl_insutype") == who["insutype"])
        )
        free = pool.join(
            busy.filter(pl.col("psn_no") == who["psn_no"]).select("d"),
            left_on=pl.col("begntime").dt.date(),
            right_on="d",
            how="anti",
        )
        if free.height == 0:
            continue
        pick = free.row(int(rng.integers(free.height)), named=True)
        rows.append({**pick, "psn_no": who["psn_no"], "_shift": 0, "_order": -1})
    return _renumber(pl.DataFrame(rows), "R")


def _abusers(
    rng: np.random.Generator,
    adults: pl.DataFrame,
    templates: pl.DataFrame,
    classes: pl.DataFrame,
    busy: pl.DataFrame,
    counties: tuple[tuple[str, str], ...],
) -> pl.DataFrame:
    """Purchases of one drug class at pharmacies of three counties on one free day: one
    copied pharmacy visit per county, at 9, 11 and 13 o'clock."""
    ph = templates.filter(pl.col("medins_type") == "D1").join(
        classes, on=["fixmedins_code", "setl_id"]
    )
    days = busy["d"].unique().sort()
    codes = [c for c, _ in counties]
    rows = []
    for home in codes:
        locals_ = adults.filter(pl.col("county") == home)
        for who in locals_.sample(ABUSERS_PER_COUNTY, seed=int(rng.integers(1 << 31))).iter_rows(
            named=True
        ):
            others = [c for c in codes if c != home]
            route = [home, *rng.choice(others, 2, replace=False).tolist()]
            pool = ph.filter(
                (pl.col("tpl_gend") == who["gend"])
                & (pl.col("tpl_insutype") == who["insutype"])
                & pl.col("county").is_in(route)
            )
            common = (
                pool.group_by("drug_class")
                .agg(n=pl.col("county").n_unique())
                .filter(pl.col("n") == 3)
            )
            if common.height == 0:
                continue
            klass = common.sort("drug_class")["drug_class"][int(rng.integers(common.height))]
            taken = busy.filter(pl.col("psn_no") == who["psn_no"])["d"]
            free = days.filter(~days.is_in(taken.implode()) & (days < days.max()))
            day = free[int(rng.integers(free.len()))]
            for j, county in enumerate(route):
                cands = pool.filter((pl.col("drug_class") == klass) & (pl.col("county") == county))
                pick = cands.row(int(rng.integers(cands.height)), named=True)
                at = datetime.combine(day, datetime.min.time()) + timedelta(hours=9 + 2 * j)
                shift = at - pick["begntime"].replace(minute=0, second=0, microsecond=0)
                rows.append(
                    {
                        **pick,
                        "psn_no": who["psn_no"],
                        "_shift": int(shift.total_seconds()),
                        "_class": klass,
                        "_order": j,
                    }
                )
    return _renumber(pl.DataFrame(rows), "A")


def _renumber(df: pl.DataFrame, tag: str) -> pl.DataFrame:
    """New visit and settlement numbers for copies: ``MDX`` + tag + county + serial."""
    if df.height == 0:
        return df
    serial = pl.int_range(pl.len()).cast(pl.String).str.zfill(6)
    return df.with_columns(
        _from_setl=pl.col("setl_id"),
        _from_mdtrt=pl.col("mdtrt_id"),
        mdtrt_id=pl.format("MDX{}{}{}", pl.lit(tag), "county", serial),
        setl_id=pl.format("STX{}{}{}", pl.lit(tag), "county", serial),
    )


_TIMES = ("begntime", "endtime", "setl_time", "crte_time", "fee_ocur_time")


def _shifted(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.col(c) + pl.duration(seconds=pl.col("_shift")) for c in _TIMES if c in df.columns
    )


def _copy_lines(fee: pl.DataFrame, new_setl: pl.DataFrame) -> pl.DataFrame:
    """The copied visits' fee lines: the template's, under the new person and numbers."""
    keys = new_setl.select(
        "fixmedins_code",
        "psn_no",
        "mdtrt_id",
        "setl_id",
        "_from_setl",
        "_shift",
        "_order",
        pl.col("_class")
        if "_class" in new_setl.columns
        else pl.lit(None, pl.String).alias("_class"),
    )
    lines = fee.drop("psn_no", "mdtrt_id").rename({"setl_id": "_from_setl"})
    return _shifted(lines.join(keys, on=["fixmedins_code", "_from_setl"]))


def _write_copies(
    work: Path, manifest: dict, new_setl: pl.DataFrame, new_fee: pl.DataFrame
) -> Added:
    """One extra upload per institution and month (a supplementary upload, UTF-8 with field
    names), its rows and amounts added to the manifest."""
    setl = _shifted(new_setl).with_columns(_month=pl.col("endtime").dt.strftime("%Y%m"))
    fee = new_fee.join(
        setl.select("fixmedins_code", "setl_id", "_month"), on=["fixmedins_code", "setl_id"]
    )
    totals = manifest["totals_fen"]
    for table, df, amount in (
        ("settlement", setl, "medfee_sumamt"),
        ("fee_detail", fee, "det_item_fee_sumamt"),
    ):
        for (code, month), part in df.sort("setl_id").group_by(
            "fixmedins_code", "_month", maintain_order=True
        ):
            path = work / "uploads" / month / f"{code}_{month}_{table}_cross.csv"
            output.write_atomic(path, output.render(part, table, "utf8"))
            manifest["files"].append(
                {
                    "path": str(path.relative_to(work)),
                    "table": table,
                    "fixmedins_code": code,
                    "month": month,
                    "format": "utf8",
                    "rows": part.height,
                }
            )
            totals[table][month] = totals[table].get(month, 0) + _fen(part, amount)
    return Added(setl.height, fee.height)


def _plant_outlier(
    work: Path, manifest: dict, inst: pl.DataFrame, setl: pl.DataFrame, county: str
) -> tuple[str, pl.DataFrame]:
    """Double the quantity and amounts of every outpatient visit of ``county``'s general
    hospital, rewriting its uploads in their own format; return its code and the lines."""
    code = inst.filter((pl.col("county") == county) & (pl.col("medins_type") == "A1"))[
        "fixmedins_code"
    ][0]
    op = setl.filter(
        (pl.col("fixmedins_code") == code)
        & ~pl.col("med_type").is_in(INPATIENT_MED_TYPES + PHARMACY_MED_TYPES)
    )["setl_id"].implode()
    k = OUTLIER_FACTOR
    planted = []
    for f in manifest["files"]:
        if f["fixmedins_code"] != code:
            continue
        table, fmt = f["table"], f["format"]
        df = _read(work, [f], table).drop("_path", "_format")
        hit = pl.col("setl_id").is_in(op)
        amounts = (*_FEE_AMOUNTS, "prd_days") if table == "fee_detail" else _SETL_AMOUNTS
        amount = "det_item_fee_sumamt" if table == "fee_detail" else "medfee_sumamt"
        before = _fen(df, amount)
        df = df.with_columns(
            pl.when(hit).then(pl.col(c) * k).otherwise(pl.col(c)).alias(c)
            for c in amounts
            if c in df.columns
        )
        output.write_atomic(work / f["path"], output.render(df, table, fmt))
        month = f["month"]
        manifest["totals_fen"][table][month] += _fen(df, amount) - before
        if table == "fee_detail":
            planted.append(
                df.filter(hit & pl.col("init_feedetl_sn").is_null()).with_columns(
                    scheme=pl.lit("province_peer_outlier"),
                    amount_at_risk=(pl.col("inscp_amt") * (1 - 1 / k)).round(2),
                )
            )
    return code, pl.concat(planted, how="diagonal_relaxed")


_TRUTH_LINE = (
    *("scheme", "fixmedins_code", "psn_no", "mdtrt_id", "setl_id", "feedetl_sn"),
    *("bilg_dr_codg", "med_list_codg", "det_item_fee_sumamt", "inscp_amt", "amount_at_risk"),
)


def _record_truth(
    truth: Path,
    outlier_code: str,
    outlier_lines: pl.DataFrame,
    abuse_lines: pl.DataFrame,
    referrals: pl.DataFrame,
) -> None:
    """The planted cases in the answer key's own form; the referrals as look-alikes."""
    money = pl.col("det_item_fee_sumamt", "inscp_amt", "amount_at_risk").cast(pl.Float64)
    new = pl.concat(
        [df.select(_TRUTH_LINE).with_columns(money) for df in (outlier_lines, abuse_lines)]
    )
    lines = pl.concat([pl.read_parquet(truth / "lines.parquet"), new], how="diagonal_relaxed")
    lines.write_parquet(truth / "lines.parquet")
    ent = new.with_columns(
        family=pl.lit("rule"),
        entity_type=pl.col("scheme").replace_strict({k: v[1] for k, v in _SCHEMES.items()}),
    ).with_columns(
        entity_id=pl.when(pl.col("entity_type") == "person")
        .then(pl.col("psn_no"))
        .otherwise(pl.col("fixmedins_code"))
    )
    ent = ent.group_by("scheme", "family", "entity_type", "entity_id", maintain_order=True).agg(
        fixmedins_code=pl.col("fixmedins_code").first(),
        n_lines=pl.len(),
        amount_at_risk=pl.col("amount_at_risk").sum().round(2),
    )
    old = pl.read_parquet(truth / "entities.parquet")
    pl.concat([old, ent], how="diagonal_relaxed").write_parquet(truth / "entities.parquet")
    counts = ent.group_by("scheme").agg(n=pl.len())
    rows = [
        {
            "scheme": name,
            "zh": zh,
            "family": "rule",
            "driver": entity,
            "entity_type": entity,
            "rate": 0.0,
            "eligible": int(counts.filter(pl.col("scheme") == name)["n"].sum()),
            "affected": int(counts.filter(pl.col("scheme") == name)["n"].sum()),
            "institutions": outlier_code if entity == "institution" else "",
        }
        for name, (zh, entity) in _SCHEMES.items()
    ]
    schemes = pl.read_parquet(truth / "schemes.parquet")
    pl.concat([schemes, pl.DataFrame(rows)], how="diagonal_relaxed").write_parquet(
        truth / "schemes.parquet"
    )
    looks = pl.read_parquet(truth / "lookalikes.parquet")
    pl.concat(
        [
            looks,
            referrals.select(
                lookalike=pl.lit("cross_county_referral"), psn_no="psn_no", mdtrt_id="mdtrt_id"
            ),
        ],
        how="diagonal_relaxed",
    ).write_parquet(truth / "lookalikes.parquet")
    fraud = pl.read_parquet(truth / "fraud_institutions.parquet")
    pl.concat([fraud, pl.DataFrame({"fixmedins_code": [outlier_code]})]).unique(
        maintain_order=True
    ).write_parquet(truth / "fraud_institutions.parquet")
