"""Generate a synthetic county: reference tables, a year of uploads month by month, the
injected schemes' truth kept apart, and a manifest with the totals to the fen."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from hrss_fraud.knowledge import load_knowledge, load_usage
from hrss_fraud.synth import (
    assemble,
    employers,
    lookalike_care,
    lookalikes,
    malformed,
    output,
    plan,
    schemes,
)
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.institutions import build_county
from hrss_fraud.synth.lines import LineMaker
from hrss_fraud.synth.persons import build_population
from hrss_fraud.synth.world import World

DAY = 86_400
NOISE_LATE_SHARE = 0.02
LATE_MIN_DAYS = 10


@dataclass(frozen=True)
class SynthSummary:
    out: Path
    persons: int
    institutions: int
    encounters: int
    settlements: int
    fee_lines: int
    files: int
    seconds: float


def _epoch(d: object) -> int:
    return int(np.datetime64(d, "s").astype(np.int64))


def build_world(cfg: SynthConfig) -> World:
    seeds = np.random.SeedSequence(cfg.seed).spawn(3)
    rng = np.random.default_rng(seeds[0])
    days = int((np.datetime64(cfg.end) - np.datetime64(cfg.start)).astype(int))
    county = build_county(rng, cfg.persons, cfg.start, cfg.county_admdvs, cfg.county_name)
    pop = build_population(
        np.random.default_rng(seeds[1]),
        cfg.persons,
        county.townships,
        cfg.start,
        days,
        cfg.county_admdvs,
        cfg.county_name,
    )
    return World(
        cfg=cfg,
        rng=np.random.default_rng(seeds[2]),
        county=county,
        pop=pop,
        kb=load_knowledge(),
        usage=load_usage(),
        days=days,
    )


def ordinary_plan(world: World) -> pl.DataFrame:
    otc, refills = plan.pharmacy(world)
    refills, relatives = plan.proxy_collection(world, refills)
    enc = pl.concat(
        [
            plan.outpatient(world),
            otc,
            refills,
            relatives,
            plan.admissions(world),
            plan.chemotherapy(world),
            plan.dialysis(world),
            *lookalikes.plan(world),
        ]
    )
    enc = lookalikes.routine_care(world, enc)
    # Only care that settles within the period is uploaded in it.
    in_period = pl.col("day") + pl.col("los") < world.days
    enc = plan.drop_overlaps(enc.filter(in_period))
    # Follow-ups of the stays that remain: they begin after their discharge.
    enc = plan.drop_overlaps(pl.concat([enc, lookalikes.wound_care(world, enc)]).filter(in_period))
    return (
        lookalikes.complete_pairs(enc)
        .sort("day", "sec", "psn", "inst", "setting", "group", "tag")
        .with_row_index("enc_key")
        .with_columns(pl.col("enc_key").cast(pl.Int64))
    )


def _procedures(world: World, enc: pl.DataFrame) -> list[str | None]:
    """The main procedure of a surgical stay: one consistent with its diagnosis and sex."""
    out: list[str | None] = [None] * enc.height
    surgical = np.flatnonzero(
        (enc["setting"].to_numpy() == "ip") & np.isin(enc["group"].to_numpy(), plan.SURGICAL)
    )
    dx = world.kb.diagnosis["dise_codg"].to_numpy().astype(str)
    code = dx[np.maximum(enc["dise"].to_numpy()[surgical], 0)]
    gend = world.pop.person["gend"].to_numpy()[enc["psn"].to_numpy()[surgical]]
    chosen = np.full(len(surgical), None, dtype=object)
    for row in world.kb.procedure.iter_rows(named=True):
        fits = chosen == None  # noqa: E711
        hit = np.zeros(len(surgical), dtype=bool)
        for p in (row["dise_prefixes"] or "").split(";"):
            if p:
                hit |= np.char.startswith(code, p)
        fits &= hit
        if row["lmt_gend"]:
            fits &= gend == row["lmt_gend"]
        chosen[fits] = row["oprn_oprt_code"]
    for i, c in zip(surgical.tolist(), chosen.tolist(), strict=True):
        out[i] = c
    return out


def finalize(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """Identifiers, times, insurance type, diagnosis and upload delay of each encounter."""
    rng = world.rng
    t0 = _epoch(world.start)
    t_end_period = _epoch(world.cfg.end)
    if "dise" not in enc.columns:
        enc = plan.diagnoses(world, enc)
    person = world.pop.person
    ins = person["insutype"].to_numpy()[enc["psn"].to_numpy()]
    ins = np.where((enc["group"].to_numpy() == "DELIV") & (ins == "310"), "510", ins)
    n = enc.height
    t_begin = t0 + enc["day"].cast(pl.Int64).to_numpy() * DAY + enc["sec"].cast(pl.Int64).to_numpy()
    ip = enc["setting"].to_numpy() == "ip"
    los = enc["los"].cast(pl.Int64).to_numpy()
    t_end = np.where(
        ip,
        t0
        + (enc["day"].cast(pl.Int64).to_numpy() + los) * DAY
        + 10 * 3600
        + rng.integers(0, 7200, n),
        t_begin + rng.integers(300, 2400, n),
    )
    late = (rng.random(n) < NOISE_LATE_SHARE) & (enc["kind"].to_numpy() != "fraud")
    delay = np.where(
        late, rng.integers(LATE_MIN_DAYS * DAY, 60 * DAY, n), rng.integers(300, 6 * 3600, n)
    )
    month = (t_end.astype("datetime64[s]").astype("datetime64[M]").astype(int)) - np.datetime64(
        world.start, "M"
    ).astype(int)
    kind = world.inst_kind[enc["inst"].to_numpy()]
    sloppy = np.isin(kind, ["B1", "C1"]) & (enc["inst"].to_numpy() % 3 == 0)
    p_missing = np.select([enc["setting"].to_numpy() == "ph", sloppy], [0.6, 0.7], 0.02)
    missing = (rng.random(n) < p_missing) & (enc["kind"].to_numpy() != "fraud")
    enc = enc.with_columns(
        insutype=pl.Series(ins),
        dise_missing=pl.Series(missing),
        oprn_oprt_code=pl.Series(_procedures(world, enc), dtype=pl.String),
        t_begin=pl.Series(t_begin),
        t_end=pl.Series(t_end),
        upload_delay=pl.Series(delay),
        late=pl.Series(late),
        month=pl.Series(month, dtype=pl.Int32),
        acct_all=pl.col("tag") == "card_swiping",
    )
    return enc.filter(pl.col("t_end") < t_end_period)


def _names(world: World) -> dict[str, np.ndarray]:
    pr = world.county.practitioner
    return {
        "psn_no": world.pop.person["psn_no"].to_numpy(),
        "fixmedins_code": world.county.institution["fixmedins_code"].to_numpy(),
        "dr_codg": pr["dr_codg"].to_numpy(),
    }


def _month_label(world: World, m: int) -> str:
    d = np.datetime64(world.start, "M") + m
    return str(d).replace("-", "")


def generate(cfg: SynthConfig, progress: Callable[[str], None] | None = None) -> SynthSummary:
    """Write a whole county under ``cfg.out``; the folder is replaced only when complete."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    final = Path(cfg.out)
    work = output.partial_folder(final)

    world = build_world(cfg)
    say(f"county: {world.county.institution.height} institutions, {cfg.persons} persons")
    enc = ordinary_plan(world)
    enc, extra = schemes.plan_phase(world, enc)
    enc = finalize(world, lookalike_care.diagnoses(world, enc))
    enc = schemes.keep_diagnoses(world, enc, extra)
    say(f"plan: {enc.height} encounters")

    maker = LineMaker(world)
    ids = _names(world)
    kinds = world.inst_kind
    seen: dict[str, int] = {}
    fmt = {}
    for code, k in zip(ids["fixmedins_code"], kinds, strict=True):
        fmt[code] = output.format_for(k, seen.get(k, 0))
        seen[k] = seen.get(k, 0) + 1
    files: list[output.Written] = []
    truth_parts: list[pl.DataFrame] = []
    noise_parts: list[pl.DataFrame] = []
    stats_parts: list[pl.DataFrame] = []
    # the employees' paid claims, for the employer files (an interruption before a claim)
    employee_claims: list[pl.DataFrame] = []
    totals = {"settlement": {}, "fee_detail": {}}
    n_lines = n_setl = 0
    writer = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    pending = None
    try:
        for m in range(cfg.months):
            world.rng = np.random.default_rng([cfg.seed, 1000 + m])
            enc_m = enc.filter(pl.col("month") == m)
            if enc_m.height == 0:
                continue
            lines = lookalike_care.lines(world, maker, enc_m, maker.make(enc_m), m)
            lines = pl.concat([lines, schemes.extra_for(extra, enc_m)], how="diagonal_relaxed")
            lines = schemes.line_phase(world, maker, enc_m, lines)
            # Row order feeds the random draws that follow: make it independent of hashing.
            lines = lines.sort("enc_key", "day", "item", "dscg", "scheme", "cnt", nulls_last=True)
            fee, setl, truth, noise = build_month(world, maker, enc_m, lines, ids)
            stats_parts.append(_stats(world, enc_m, fee, setl))
            employee_claims.append(
                setl.filter((pl.col("insutype") == "310") & (pl.col("fund_pay_sumamt") > 0)).select(
                    "psn_no", "setl_id", "setl_time"
                )
            )
            label = _month_label(world, m)
            # Rendering and writing run in a second process while the next month is made;
            # at most one month waits, which bounds memory.
            if pending is not None:
                files += pending.result()
            handoff = {}
            for name, df in (("fee_detail", fee), ("settlement", setl)):
                handoff[name] = work / f".{name}-{label}.parquet"
                df.select(output.columns_of(name, df)).write_parquet(
                    handoff[name], compression="lz4"
                )
            pending = writer.submit(output.write_tables, work, label, fmt, handoff)
            totals["fee_detail"][label] = int(fee["det_fen"].sum())
            totals["settlement"][label] = int(setl["medfee_fen"].sum())
            truth_parts.append(truth)
            noise_parts.append(noise)
            n_lines += fee.height
            n_setl += setl.height
            say(f"month {label}: {setl.height} settlements, {fee.height} fee lines")

        if pending is not None:
            files += pending.result()
    finally:
        writer.shutdown(wait=True)

    pl.concat(stats_parts).write_parquet(work / "profile_stats.parquet")
    write_truth(work, world, enc, truth_parts, noise_parts)
    write_references(work, world)
    employers.write_all(cfg, work, world.pop.person, pl.concat(employee_claims))
    if cfg.malformed:
        malformed.write_all(work, world)
    manifest = {
        "generator": "hrss_fraud.synth",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {**asdict(cfg), "out": str(cfg.out), "start": cfg.start.isoformat()},
        "totals_fen": totals,
        "files": [
            {
                "path": str(w.path.relative_to(work)),
                "table": w.table,
                "fixmedins_code": w.fixmedins_code,
                "month": w.month,
                "format": w.fmt,
                "rows": w.rows,
            }
            for w in files
        ],
    }
    output.publish(work, final, manifest)
    return SynthSummary(
        final,
        cfg.persons,
        world.county.institution.height,
        enc.height,
        n_setl,
        n_lines,
        len(files),
        round(time.perf_counter() - started, 2),
    )


def _stats(world: World, enc: pl.DataFrame, fee: pl.DataFrame, setl: pl.DataFrame) -> pl.DataFrame:
    """One row per encounter for the profile report: care type, level, cost, stay, refunds."""
    refunds = (
        fee.filter(pl.col("init_feedetl_sn").is_not_null())
        .group_by("enc_key")
        .agg(refund_lines=pl.len(), refund_fen=-pl.col("det_fen").sum())
    )
    lines = fee.group_by("enc_key").agg(n_lines=pl.len())
    cost = setl.group_by("enc_key").agg(
        medfee_fen=pl.col("medfee_fen").sum(), fund_fen=pl.col("hifp").sum(), n_setl=pl.len()
    )
    return (
        enc.select("enc_key", "psn", "inst", "setting", "med_type", "los", "kind", "tag", "month")
        .with_columns(
            medins_type=pl.Series(world.inst_kind[enc["inst"].to_numpy()]),
            hosp_lv=pl.Series(world.inst_level[enc["inst"].to_numpy()]),
        )
        .join(cost, on="enc_key", how="inner")
        .join(lines, on="enc_key", how="left", maintain_order="left")
        .join(refunds, on="enc_key", how="left", maintain_order="left")
        .with_columns(pl.col("refund_lines", "refund_fen").fill_null(0))
    )


def _fen(col: str) -> pl.Expr:
    return (pl.col(col) / 100).round(2)


def _ts(col: str) -> pl.Expr:
    return pl.from_epoch(pl.col(col), time_unit="s")


def build_month(
    world: World,
    maker: LineMaker,
    enc: pl.DataFrame,
    lines: pl.DataFrame,
    ids: dict[str, np.ndarray],
) -> tuple[pl.DataFrame, ...]:
    """The month's fee-detail and settlement tables plus the truth of their schemes."""
    lines = assemble.timed_lines(world, maker, enc, lines)
    fraud_tag = enc.filter(pl.col("kind") == "fraud").select("enc_key", enc_tag="tag")
    lines = (
        lines.join(fraud_tag, on="enc_key", how="left", maintain_order="left")
        .with_columns(scheme=pl.coalesce("scheme", "enc_tag"))
        .drop("enc_tag")
    )
    lines = assemble.add_refunds(world, lines)
    lines = schemes.bill_phase(world, maker, enc, lines)
    lines = assemble.line_amounts(world, maker, lines)
    setl = assemble.settlements(world, enc, lines)

    e = enc.with_columns(
        psn_no=pl.Series(ids["psn_no"][enc["psn"].to_numpy()]),
        fixmedins_code=pl.Series(ids["fixmedins_code"][enc["inst"].to_numpy()]),
        dr_codg=pl.Series(ids["dr_codg"][enc["dr"].to_numpy()]),
        mdtrt_id=pl.format(
            "MD{}{}", pl.lit(world.cfg.id_prefix), pl.col("enc_key").cast(pl.String).str.zfill(12)
        ),
    )
    setl_id = pl.format(
        "ST{}{}{}",
        pl.lit(world.cfg.id_prefix),
        pl.col("enc_key").cast(pl.String).str.zfill(12),
        pl.col("part"),
    )
    cat = world.kb.catalogue.with_row_index("item").with_columns(pl.col("item").cast(pl.Int32))
    kb = cat.select(
        "item",
        "med_list_codg",
        "med_list_name",
        "list_type",
        "med_chrgitm_type",
        "chrgitm_lv",
        "days_per_unit",
        "herb_nopay",
    )
    t_upload = e.select("enc_key", "upload_delay")
    drug = pl.col("list_type").is_in(["101", "102", "103", "104"])
    fee = (
        lines.join(
            e.select(
                "enc_key", "psn_no", "fixmedins_code", "dr_codg", "dept", "mdtrt_id", "setting"
            ),
            on="enc_key",
            how="left",
            maintain_order="left",
        )
        .join(kb, on="item", how="left", maintain_order="left")
        .join(t_upload, on="enc_key", how="left", maintain_order="left")
        .with_columns(setl_id=setl_id)
        .with_columns(
            medins_list_codg=pl.format("YN{}", pl.col("item").cast(pl.String).str.zfill(5)),
            medins_list_name=pl.col("med_list_name"),
            fee_ocur_time=_ts("t_fee"),
            cnt=pl.col("cnt").cast(pl.Float64),
            pric=_fen("pric_fen"),
            det_item_fee_sumamt=_fen("det_fen"),
            inscp_amt=_fen("inscp_fen"),
            fulamt_ownpay_amt=_fen("full_fen"),
            overlmt_selfpay=_fen("over_fen"),
            pric_uplmt_amt=pl.when(pl.col("cap_fen") > 0).then(_fen("cap_fen")),
            bilg_dept_codg=pl.col("dept"),
            bilg_dr_codg=pl.col("dr_codg"),
            prd_days=pl.when(drug & pl.col("setting").ne("ip") | pl.col("dscg")).then(
                pl.col("cnt").abs() * pl.col("days_per_unit").cast(pl.Float64)
            ),
            used_frqu_dscr=pl.when(drug).then(pl.lit("qd")),
            # a visit's drugs share one prescription, unless a look-alike wrote two
            rxno=pl.when(drug).then(
                pl.format(
                    "RX{}{}",
                    pl.col("mdtrt_id"),
                    pl.when(pl.col("rx") > 1).then(pl.format("-{}", "rx")).otherwise(pl.lit("")),
                )
            ),
            rx_circ_flag=pl.lit("0"),
            dscg_tkdrug_flag=pl.when(pl.col("dscg")).then(pl.lit("1")).otherwise(pl.lit("0")),
            vali_flag=pl.lit("1"),
            crte_time=_ts("t_fee") + pl.duration(seconds=pl.col("upload_delay")),
        )
    )
    dx = world.kb.diagnosis.with_row_index("dise").with_columns(pl.col("dise").cast(pl.Int64))
    setl = (
        setl.join(
            e.select(
                "enc_key",
                "psn_no",
                "fixmedins_code",
                "dr_codg",
                "mdtrt_id",
                "dise",
                "dise_missing",
                "oprn_oprt_code",
            ),
            on="enc_key",
            how="left",
            maintain_order="left",
        )
        .join(
            dx.select("dise", "dise_codg", "dise_name"),
            on="dise",
            how="left",
            maintain_order="left",
        )
        .with_columns(setl_id=setl_id)
        .with_columns(
            begntime=_ts("t_begin"),
            endtime=pl.when(pl.col("part") == 1)
            .then(_ts("t_begin").dt.truncate("1d") + pl.duration(days=15, hours=10))
            .otherwise(_ts("t_end")),
        )
        .with_columns(
            setl_time=pl.col("endtime") + pl.duration(minutes=5),
            dise_codg=pl.when(~pl.col("dise_missing")).then(pl.col("dise_codg")),
            dise_name=pl.when(~pl.col("dise_missing")).then(pl.col("dise_name")),
            adm_dept_codg=pl.col("dept"),
            chfpdr_code=pl.col("dr_codg"),
            ipt_days=pl.when(pl.col("setting").eq("ip") & (pl.col("enc_key") % 7 == 0))
            .then((pl.col("endtime").dt.date() - pl.col("begntime").dt.date()).dt.total_days())
            .cast(pl.Int32),
            medfee_sumamt=_fen("medfee"),
            fulamt_ownpay_amt=_fen("full"),
            overlmt_selfpay=_fen("over"),
            preselfpay_amt=_fen("pre"),
            inscp_amt=_fen("inscp"),
            fund_pay_sumamt=_fen("hifp"),
            hifp_pay=_fen("hifp"),
            acct_pay=_fen("acct"),
            psn_cash_pay=_fen("cash"),
            medfee_fen=pl.col("medfee"),
            refd_setl_flag=pl.lit("0"),
            vali_flag=pl.lit("1"),
            crte_time=_ts("t_end") + pl.duration(seconds=pl.col("upload_delay")),
        )
    )
    fee = fee.sort("enc_key", pl.col("feedetl_sn").cast(pl.Int32))
    setl = setl.sort("enc_key", "part")
    truth = schemes.truth_lines(fee)
    noise = schemes.noise(setl, enc)
    return fee, setl, truth, noise


def write_truth(
    out: Path, world: World, enc: pl.DataFrame, truth: list[pl.DataFrame], noise: list[pl.DataFrame]
) -> None:
    """Truth lives under ``truth/``, apart from the uploads, so no detector can read it."""
    d = out / "truth"
    d.mkdir(parents=True, exist_ok=True)
    lines = pl.concat(truth) if truth else pl.DataFrame()
    lines.write_parquet(d / "lines.parquet")
    schemes.entities(world, lines).write_parquet(d / "entities.parquet")
    (pl.concat(noise) if noise else pl.DataFrame()).write_parquet(d / "noise.parquet")
    schemes.lookalikes(world, enc).write_parquet(d / "lookalikes.parquet")
    schemes.summary(world).write_parquet(d / "schemes.parquet")
    codes = world.county.institution["fixmedins_code"].to_numpy()
    pl.DataFrame({"fixmedins_code": codes[world.fraud_inst]}).write_parquet(
        d / "fraud_institutions.parquet"
    )


def write_references(out: Path, world: World) -> None:
    output.write_reference(out, "person", world.pop.person)
    output.write_reference(out, "institution", world.county.institution)
    output.write_reference(out, "practitioner", world.county.practitioner)
    for name in ("catalogue", "knowledge_pair", "diagnosis", "procedure"):
        output.write_reference(out, name, getattr(world.kb, name))
