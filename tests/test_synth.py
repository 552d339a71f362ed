"""Invariants of the synthetic county: sums, references, refunds, truth, rates, seeds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from scipy.stats import binom

from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.generate import generate
from hrss_fraud.synth.names import certno_is_valid
from hrss_fraud.synth.schemes import SCHEMES

AMOUNTS = ["det_item_fee_sumamt", "inscp_amt", "fulamt_ownpay_amt", "overlmt_selfpay"]


def fen(col: str) -> pl.Expr:
    return (pl.col(col).cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def test_line_amount_is_count_times_price(tiny_fee: pl.DataFrame) -> None:
    bad = tiny_fee.filter(
        fen("det_item_fee_sumamt")
        != (pl.col("cnt").cast(pl.Float64) * pl.col("pric").cast(pl.Float64) * 100).round(0)
    )
    assert bad.height == 0


def test_line_amount_splits_into_scope_and_self_paid(tiny_fee: pl.DataFrame) -> None:
    total = fen("inscp_amt") + fen("fulamt_ownpay_amt") + fen("overlmt_selfpay")
    assert tiny_fee.filter(total != fen("det_item_fee_sumamt")).height == 0


def test_settlement_totals_equal_their_lines(
    tiny_fee: pl.DataFrame, tiny_setl: pl.DataFrame
) -> None:
    lines = tiny_fee.group_by("setl_id").agg(
        line_total=fen("det_item_fee_sumamt").sum(), line_inscp=fen("inscp_amt").sum()
    )
    joined = tiny_setl.join(lines, on="setl_id", how="full", coalesce=True)
    assert (
        joined.filter(pl.col("line_total").is_null() | pl.col("medfee_sumamt").is_null()).height
        == 0
    )
    assert joined.filter(fen("medfee_sumamt") != pl.col("line_total")).height == 0
    assert joined.filter(fen("inscp_amt") != pl.col("line_inscp")).height == 0


def test_settlement_payments_add_up(tiny_setl: pl.DataFrame) -> None:
    paid = fen("fund_pay_sumamt") + fen("acct_pay") + fen("psn_cash_pay")
    assert tiny_setl.filter(paid != fen("medfee_sumamt")).height == 0
    assert tiny_setl.filter(fen("fund_pay_sumamt") > fen("inscp_amt")).height == 0


def test_manifest_totals_match_files_to_the_fen(
    tiny_county: Path, tiny_fee: pl.DataFrame, tiny_setl: pl.DataFrame
) -> None:
    totals = json.loads((tiny_county / "manifest.json").read_text())["totals_fen"]
    assert (
        sum(totals["fee_detail"].values())
        == tiny_fee.select(fen("det_item_fee_sumamt").sum()).item()
    )
    assert sum(totals["settlement"].values()) == tiny_setl.select(fen("medfee_sumamt").sum()).item()


def test_references_resolve(
    tiny_county: Path, tiny_fee: pl.DataFrame, tiny_setl: pl.DataFrame
) -> None:
    ref = tiny_county / "reference"
    person = pl.read_csv(ref / "person.csv", infer_schema=False)
    inst = pl.read_csv(ref / "institution.csv", infer_schema=False)
    cat = pl.read_csv(ref / "catalogue.csv", infer_schema=False)
    doctors = pl.read_csv(ref / "practitioner.csv", infer_schema=False)
    for df in (tiny_fee, tiny_setl):
        assert df.join(person, on="psn_no", how="anti").height == 0
        assert df.join(inst, on="fixmedins_code", how="anti").height == 0
    assert tiny_fee.join(cat, on="med_list_codg", how="anti").height == 0
    assert (
        tiny_fee.join(doctors, left_on="bilg_dr_codg", right_on="dr_codg", how="anti").height == 0
    )
    assert tiny_fee.join(tiny_setl, on="setl_id", how="anti").height == 0
    assert person.filter(~pl.col("certno").map_elements(certno_is_valid, pl.Boolean)).height == 0


def test_refunds_point_to_originals_and_net_off(tiny_fee: pl.DataFrame) -> None:
    refunds = tiny_fee.filter(pl.col("init_feedetl_sn").is_not_null())
    assert refunds.height > 0
    assert refunds.filter(pl.col("det_item_fee_sumamt").cast(pl.Float64) >= 0).height == 0
    originals = refunds.join(
        tiny_fee.select("mdtrt_id", "feedetl_sn", "med_list_codg", orig="det_item_fee_sumamt"),
        left_on=["mdtrt_id", "init_feedetl_sn"],
        right_on=["mdtrt_id", "feedetl_sn"],
    )
    assert originals.height == refunds.height
    assert (originals["med_list_codg"] == originals["med_list_codg_right"]).all()
    assert originals.select((fen("det_item_fee_sumamt") + fen("orig")).abs().max()).item() == 0


def test_feedetl_sn_is_unique_within_a_visit_only(tiny_fee: pl.DataFrame) -> None:
    assert (
        tiny_fee.select(pl.struct("mdtrt_id", "feedetl_sn").is_duplicated().any()).item() is False
    )
    assert tiny_fee.select(pl.col("feedetl_sn").is_duplicated().any()).item() is True


def test_every_truth_entity_is_in_the_uploads(tiny_county: Path, tiny_fee: pl.DataFrame) -> None:
    lines = pl.read_parquet(tiny_county / "truth" / "lines.parquet")
    assert lines.height > 0
    found = lines.join(tiny_fee, on=["fixmedins_code", "mdtrt_id", "feedetl_sn"], how="anti")
    assert found.height == 0
    entities = pl.read_parquet(tiny_county / "truth" / "entities.parquet")
    assert entities.filter(pl.col("amount_at_risk") < 0).height == 0


def test_truth_is_apart_from_the_uploads(tiny_county: Path) -> None:
    uploads = list((tiny_county / "uploads").rglob("*"))
    assert not any("truth" in p.name or p.suffix == ".parquet" for p in uploads)


def test_each_scheme_is_injected(tiny_county: Path) -> None:
    summary = pl.read_parquet(tiny_county / "truth" / "schemes.parquet")
    entities = pl.read_parquet(tiny_county / "truth" / "entities.parquet")
    missing = set(SCHEMES) - set(entities["scheme"].to_list())
    assert not missing, f"schemes with no truth entity: {sorted(missing)}"
    assert set(summary["scheme"]) == set(SCHEMES)


def test_each_scheme_at_its_configured_rate(tiny_county: Path) -> None:
    """Affected counts are binomial(eligible, rate): outside the 0.01 %–99.99 % band the
    generator is not applying the rate it was given."""
    summary = pl.read_parquet(tiny_county / "truth" / "schemes.parquet")
    for row in summary.iter_rows(named=True):
        n, k, p = row["eligible"], row["affected"], row["rate"]
        assert n > 0, f"{row['scheme']}: nothing eligible"
        lo, hi = binom.ppf(0.0001, n, p), binom.ppf(0.9999, n, p)
        assert lo <= k <= hi, f"{row['scheme']}: {k} of {n} affected at rate {p}"


def test_scheme_rate_override(tmp_path: Path) -> None:
    cfg = SynthConfig.preset(
        "tiny",
        out=tmp_path / "c",
        persons=1500,
        months=2,
        seed=3,
        scheme_rates={"restriction_sex": 0.0, "phantom_service": 0.9},
        malformed=False,
    )
    generate(cfg)
    summary = pl.read_parquet(tmp_path / "c" / "truth" / "schemes.parquet")
    row = summary.filter(pl.col("scheme") == "phantom_service").row(0, named=True)
    assert row["rate"] == 0.9 and row["affected"] > 0.8 * row["eligible"]
    sex = summary.filter(pl.col("scheme") == "restriction_sex").row(0, named=True)
    assert sex["affected"] == 0


def _truth_of(county: Path, scheme: str, fee: pl.DataFrame) -> pl.DataFrame:
    lines = pl.read_parquet(county / "truth" / "lines.parquet").filter(pl.col("scheme") == scheme)
    keys = ["fixmedins_code", "mdtrt_id", "feedetl_sn"]
    return lines.select(*keys, "amount_at_risk").join(fee, on=keys, how="left")


def test_a_duplicate_line_repeats_a_clean_line_under_a_later_serial(
    tiny_county: Path, tiny_fee: pl.DataFrame
) -> None:
    copies = _truth_of(tiny_county, "duplicate_line", tiny_fee)
    assert copies.height > 10
    same = ["mdtrt_id", "med_list_codg", "cnt", "pric", "fee_ocur_time"]
    originals = copies.select(*same, copy_sn="feedetl_sn").join(
        tiny_fee.filter(pl.col("init_feedetl_sn").is_null()), on=same
    )
    # each copy has its original (and itself) among the visit's lines, the original first
    per_copy = originals.group_by("mdtrt_id", "copy_sn").agg(
        n=pl.len(), first=pl.col("feedetl_sn").cast(pl.Int64).min()
    )
    assert per_copy.height == copies.height and (per_copy["n"] == 2).all()
    assert (per_copy["first"] < per_copy["copy_sn"].cast(pl.Int64)).all()
    # neither is refunded, and the copy's in-scope amount is at risk
    refunded = tiny_fee.filter(pl.col("init_feedetl_sn").is_not_null()).select(
        "mdtrt_id", feedetl_sn="init_feedetl_sn"
    )
    assert originals.join(refunded, on=["mdtrt_id", "feedetl_sn"], how="semi").height == 0
    assert (copies["amount_at_risk"] == copies["inscp_amt"].cast(pl.Float64)).all()
    assert (copies["inscp_amt"].cast(pl.Float64) > 0).all()


def test_a_drug_over_its_cap_hides_the_excess_in_scope(
    tiny_county: Path, tiny_fee: pl.DataFrame
) -> None:
    over = _truth_of(tiny_county, "drug_price_over_cap", tiny_fee).with_columns(
        pl.col("cnt", "pric", "pric_uplmt_amt", "overlmt_selfpay").cast(pl.Float64)
    )
    assert over.height > 10
    assert over["list_type"].is_in(["101", "102", "103", "104"]).all()
    assert (over["pric"] >= 1.19 * over["pric_uplmt_amt"]).all()
    assert (over["pric"] <= 1.61 * over["pric_uplmt_amt"]).all()
    assert (over["overlmt_selfpay"] == 0).all()
    excess = ((over["pric"] - over["pric_uplmt_amt"]) * over["cnt"]).round(2)
    assert (excess - over["amount_at_risk"]).abs().max() < 0.006
    # honest lines of the same drugs are billed at the cap
    honest = tiny_fee.filter(
        pl.col("med_list_codg").is_in(over["med_list_codg"].implode())
        & pl.col("init_feedetl_sn").is_null()
    ).join(over.select("mdtrt_id", "feedetl_sn"), on=["mdtrt_id", "feedetl_sn"], how="anti")
    assert honest.height > 0
    assert (honest["pric"].cast(pl.Float64) <= honest["pric_uplmt_amt"].cast(pl.Float64)).all()


def test_bill_phase_schemes_leave_the_rest_of_the_county_as_it_was(tmp_path: Path) -> None:
    """Their own random streams: switching them off changes nothing but their lines."""
    base = {"persons": 1500, "months": 2, "seed": 3, "malformed": False}
    on, off = tmp_path / "on", tmp_path / "off"
    generate(SynthConfig.preset("tiny", out=on, **base))
    rates = {"duplicate_line": 0.0, "drug_price_over_cap": 0.0}
    generate(SynthConfig.preset("tiny", out=off, scheme_rates=rates, **base))
    new = list(rates)
    t_on = pl.read_parquet(on / "truth" / "lines.parquet")
    t_off = pl.read_parquet(off / "truth" / "lines.parquet")
    assert t_on.filter(pl.col("scheme").is_in(new)).height > 0
    assert t_on.filter(~pl.col("scheme").is_in(new)).equals(t_off)
    s_on = pl.read_parquet(on / "truth" / "schemes.parquet").filter(~pl.col("scheme").is_in(new))
    s_off = pl.read_parquet(off / "truth" / "schemes.parquet").filter(~pl.col("scheme").is_in(new))
    assert s_on.equals(s_off)
    # the uploads differ by the copies and the raised prices, to the row and the fen
    mine = t_on.filter(pl.col("scheme").is_in(new))
    fen_diff = mine.select(
        pl.when(pl.col("scheme") == "duplicate_line")
        .then(pl.col("det_item_fee_sumamt"))
        .otherwise(pl.col("amount_at_risk"))
        .sum()
        * 100
    ).item()
    m_on, m_off = (json.loads((c / "manifest.json").read_text()) for c in (on, off))
    for table in ("fee_detail", "settlement"):
        on_fen, off_fen = (sum(m["totals_fen"][table].values()) for m in (m_on, m_off))
        assert on_fen - off_fen == round(fen_diff)
    rows = {
        c: {f["path"]: f["rows"] for f in m["files"] if f["table"] == "fee_detail"}
        for c, m in (("on", m_on), ("off", m_off))
    }
    assert rows["on"].keys() == rows["off"].keys()
    added = sum(rows["on"].values()) - sum(rows["off"].values())
    assert added == mine.filter(pl.col("scheme") == "duplicate_line").height > 0


def test_lookalikes_present_and_not_in_truth(tiny_county: Path) -> None:
    looks = pl.read_parquet(tiny_county / "truth" / "lookalikes.parquet")
    lines = pl.read_parquet(tiny_county / "truth" / "lines.parquet")
    present = set(looks["lookalike"].to_list())
    assert {
        "chemotherapy_cycle",
        "dialysis_schedule",
        "chronic_refill",
        "proxy_collection",
    } <= present
    assert looks.join(lines, on="mdtrt_id", how="semi").height == 0


def test_fraud_sits_in_a_minority_of_institutions(tiny_county: Path) -> None:
    fraud = pl.read_parquet(tiny_county / "truth" / "fraud_institutions.parquet")
    inst = pl.read_csv(tiny_county / "reference" / "institution.csv", infer_schema=False)
    assert 0 < fraud.height <= max(3, round(0.15 * inst.height))


def test_mixed_formats_and_chinese_headers(tiny_county: Path) -> None:
    manifest = json.loads((tiny_county / "manifest.json").read_text())
    formats = {f["format"] for f in manifest["files"]}
    assert {"utf8", "gbk_zh", "xlsx"} <= formats
    gbk = next(f for f in manifest["files"] if f["format"] == "gbk_zh")
    raw = (tiny_county / gbk["path"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").startswith(("费用明细流水号", "结算ID"))


def test_malformed_files_documented(tiny_county: Path) -> None:
    expected = json.loads((tiny_county / "malformed" / "expected.json").read_text())
    for name in expected:
        assert (tiny_county / "malformed" / name).exists(), name
    assert (tiny_county / "malformed" / "empty.csv").stat().st_size == 0


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("manifest.json",) and p.suffix != ".xlsx"
    }


def test_same_seed_same_output(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        generate(SynthConfig.preset("tiny", out=out, persons=1200, months=2, seed=5))
    assert _digest(a) == _digest(b)
    c = tmp_path / "c"
    generate(SynthConfig.preset("tiny", out=c, persons=1200, months=2, seed=6))
    assert _digest(a) != _digest(c)


def test_bad_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--months"):
        SynthConfig(out=tmp_path, months=0)
    with pytest.raises(ValueError, match="preset"):
        SynthConfig.preset("huge", out=tmp_path)
