"""From priced lines to the two upload tables: fee details and settlements, with refunds,
several settlements per long stay, fund shares by insurance type, and upload delays."""

from __future__ import annotations

import numpy as np
import polars as pl

from hrss_fraud.synth.lines import LineMaker
from hrss_fraud.synth.world import World

DAY = 86_400

#: (insutype, setting, level) → (deductible in fen, pooled-fund share). Illustrative local
#: policy of a north-China county; residents' outpatient pooling pays half.
FUND_POLICY = {
    ("390", "ip", "1"): (30_000, 0.85),
    ("390", "ip", "2"): (60_000, 0.75),
    ("310", "ip", "1"): (20_000, 0.90),
    ("310", "ip", "2"): (50_000, 0.85),
    ("510", "ip", "1"): (0, 1.0),
    ("510", "ip", "2"): (0, 1.0),
}
OP_SHARE = {"390": 0.5, "310": 0.6, "510": 0.6}
CHRONIC_OP_SHARE = 0.8


def timed_lines(
    world: World, maker: LineMaker, enc: pl.DataFrame, lines: pl.DataFrame
) -> pl.DataFrame:
    """Price each line at the institution's level (keeping the level's cap), give it a
    time, and split long stays into a mid-stay and a final settlement."""
    rng = world.rng
    e = enc.select("enc_key", "inst", "setting", "los", begin="t_begin")
    df = lines.join(e, on="enc_key", how="left", maintain_order="left")
    level = world.inst_level[df["inst"].to_numpy()]
    item = df["item"].to_numpy()
    honest = maker.price(item, level)
    n = df.height
    jitter = rng.integers(0, 3600, n)
    begin = df["begin"].to_numpy()
    day = df["day"].to_numpy().astype(np.int64)
    ip = df["setting"].to_numpy() == "ip"
    start_of_day = (begin // DAY + day) * DAY
    t = np.where(ip & (day > 0), start_of_day + 8 * 3600 + jitter, begin + 60 + jitter // 6)
    t = np.where(df["dscg"].to_numpy(), start_of_day + 9 * 3600 + jitter // 4, t)
    pric = df["pric_fen"].to_numpy() if "pric_fen" in df.columns else np.full(n, -1)
    pric = np.where(pric > 0, pric, honest)
    return df.with_columns(
        pric_fen=pl.Series(pric, dtype=pl.Int64),
        cap_fen=pl.Series(maker.cap_at(item, level), dtype=pl.Int64),
        t_fee=pl.Series(t, dtype=pl.Int64),
        part=pl.when(pl.col("setting").eq("ip") & (pl.col("los") > 20) & (pl.col("day") < 15))
        .then(1)
        .otherwise(2)
        .cast(pl.Int8),
    ).drop("begin", "los", "setting", "inst")


def add_refunds(world: World, lines: pl.DataFrame, rate: float = 0.01) -> pl.DataFrame:
    """Refund a small share of clean lines: a negative row pointing to the original, so the
    amounts net off within the settlement."""
    lines = lines.sort("enc_key", "t_fee", "item", "dscg", maintain_order=True).with_columns(
        feedetl_sn=(pl.int_range(pl.len()).over("enc_key") + 1).cast(pl.String),
        init_feedetl_sn=pl.lit(None, pl.String),
    )
    pick = world.rng.random(lines.height) < rate
    # A service another item needs (infusion for a cannula, chemotherapy for its drug) is
    # not refunded alone: that would leave its partner billed without it.
    kb = world.kb
    codes = kb.catalogue["med_list_codg"].to_list()
    needed = kb.knowledge_pair.filter(pl.col("pair_type").is_in(["companion", "drug_service"]))
    needed_idx = [codes.index(c) for c in needed["item_b"].unique().to_list()]
    refunds = lines.filter(
        pl.Series(pick)
        & pl.col("scheme").is_null()
        & ~pl.col("dscg")
        & ~pl.col("item").is_in(needed_idx)
    )
    last = lines.group_by("enc_key").agg(n=pl.len())
    refunds = (
        refunds.join(last, on="enc_key", maintain_order="left")
        .with_columns(
            init_feedetl_sn=pl.col("feedetl_sn"),
            feedetl_sn=(pl.col("n") + pl.int_range(pl.len()).over("enc_key") + 1).cast(pl.String),
            cnt=-pl.col("cnt"),
            t_fee=pl.col("t_fee") + 1800,
        )
        .drop("n")
    )
    return pl.concat([lines, refunds])


def line_amounts(world: World, maker: LineMaker, lines: pl.DataFrame) -> pl.DataFrame:
    """det = cnt × pric; 丙类 and non-payable items are self-paid; honest institutions
    record any excess over the cap as self-paid, schemes hide it in scope."""
    cat = world.kb.catalogue
    lv = cat["chrgitm_lv"].to_numpy().astype(str)
    nopay = cat["herb_nopay"].fill_null("").to_numpy().astype(str) == "all"
    item = lines["item"].to_numpy()
    det = lines["cnt"].to_numpy().astype(np.int64) * lines["pric_fen"].to_numpy()
    self_paid = (lv[item] == "03") | nopay[item]
    hidden = (
        lines["scheme"]
        .is_in(["herb_nopay", "price_over_cap", "drug_price_over_cap"])
        .fill_null(False)
        .to_numpy()
    )
    self_paid &= ~hidden
    full = np.where(self_paid, det, 0)
    level_cap = lines["cap_fen"].to_numpy()
    over = np.where(
        (level_cap > 0) & ~self_paid & ~hidden,
        np.maximum(lines["pric_fen"].to_numpy() - level_cap, 0) * lines["cnt"].to_numpy(),
        0,
    )
    return lines.with_columns(
        det_fen=pl.Series(det),
        full_fen=pl.Series(full),
        over_fen=pl.Series(over),
        inscp_fen=pl.Series(det - full - over),
        yi=pl.Series(lv[item] == "02"),
    )


def settlements(world: World, enc: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """One row per settlement, summed from its own lines (never from a join that repeats)."""
    sums = lines.group_by("enc_key", "part").agg(
        medfee=pl.col("det_fen").sum(),
        full=pl.col("full_fen").sum(),
        over=pl.col("over_fen").sum(),
        inscp=pl.col("inscp_fen").sum(),
        yi=pl.col("inscp_fen").filter(pl.col("yi")).sum(),
    )
    s = sums.sort("enc_key", "part").join(enc, on="enc_key", how="left", maintain_order="left")
    insutype = s["insutype"].to_numpy()
    setting = s["setting"].to_numpy()
    level = np.where(world.inst_level[s["inst"].to_numpy()] == "2", "2", "1")
    inscp = s["inscp"].to_numpy()
    pre = np.round(s["yi"].to_numpy() * 0.1).astype(np.int64)
    base = np.maximum(inscp - pre, 0)
    ded = np.zeros(len(s), dtype=np.int64)
    share = np.zeros(len(s))
    for (ins, st, lv), (d, r) in FUND_POLICY.items():
        m = (insutype == ins) & (setting == st) & (level == lv)
        ded[m], share[m] = d, r
    op = setting != "ip"
    share = np.where(op, np.vectorize(OP_SHARE.get)(insutype, 0.5) if len(s) else share, share)
    share = np.where(op & (s["med_type"].to_numpy() == "14"), CHRONIC_OP_SHARE, share)
    # Only the final settlement of a stay bears the deductible.
    ded = np.where(s["part"].to_numpy() == 1, 0, ded)
    hifp = np.floor(np.maximum(base - ded, 0) * share).astype(np.int64)
    medfee = s["medfee"].to_numpy()
    employee_op = (insutype == "310") & op
    acct = np.where(employee_op, np.maximum(inscp - hifp, 0), 0)
    acct = np.where(s["acct_all"].to_numpy(), medfee - hifp, acct)
    cash = medfee - hifp - acct
    return s.with_columns(
        pre=pl.Series(pre), hifp=pl.Series(hifp), acct=pl.Series(acct), cash=pl.Series(cash)
    )
