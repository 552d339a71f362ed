"""The provincial sample (``hrss-fraud synth --preset province-sample``): four counties with
their own codes, persons crossing counties, and the cross-county rules judged on it — the
planted cases found, legitimate referrals and specialist hospitals left alone, and nothing
found on one county's claims alone."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from helpers.rule_frames import run_rule

from hrss_fraud.cli import main
from hrss_fraud.engine.prepare import build
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.lake import Lake
from hrss_fraud.synth.output import read_uploads
from hrss_fraud.synth.province import COUNTIES, generate_province, province_config

CROSS_RULES = ("prov_same_day_counties", "prov_peer_cost_per_visit", "prov_peer_cost_per_person")
_KEY = pl.concat_str("fixmedins_code", "mdtrt_id", "feedetl_sn", separator="|")


def fen(col: str) -> pl.Expr:
    return (pl.col(col).cast(pl.Float64) * 100).round(0).cast(pl.Int64)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province") / "sample"
    generate_province(province_config("province-sample", out=out, persons=1500, months=2))
    return out


@pytest.fixture(scope="module")
def setl(province: Path) -> pl.DataFrame:
    return read_uploads(province, "settlement")


@pytest.fixture(scope="module")
def fee(province: Path) -> pl.DataFrame:
    return read_uploads(province, "fee_detail")


@pytest.fixture(scope="module")
def inst(province: Path) -> pl.DataFrame:
    return pl.read_csv(province / "reference" / "institution.csv", infer_schema=False).with_columns(
        county=pl.col("admdvs").str.slice(0, 6)
    )


def _scoring_db(province: Path, lake_dir: Path, codes: set[str] | None = None) -> object:
    """The sample (or only the uploads of the institutions ``codes``) ingested and prepared."""
    manifest = json.loads((province / "manifest.json").read_text(encoding="utf-8"))
    files = [
        province / f["path"]
        for f in manifest["files"]
        if codes is None or f["fixmedins_code"] in codes
    ]
    lake = Lake(lake_dir)
    ingest(lake, [province / "reference", *files])
    con = duckdb.connect()
    build(con, lake, load_knowledge())
    return con


@pytest.fixture(scope="module")
def findings(province: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    con = _scoring_db(province, tmp_path_factory.mktemp("province_lake") / "lake")
    return {r: run_rule(con, r) for r in CROSS_RULES}


def _truth(province: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(province / "truth" / f"{name}.parquet")


def test_each_county_has_its_own_code_institutions_and_people(
    province: Path, inst: pl.DataFrame, setl: pl.DataFrame
) -> None:
    codes = [c for c, _ in COUNTIES]
    assert sorted(inst["county"].unique()) == codes
    kinds = inst.group_by("county").agg(pl.col("medins_type").unique().sort())
    for row in kinds.iter_rows(named=True):
        assert set(row["medins_type"]) >= {"A1", "A2", "A3", "B1", "C1", "D1"}, row["county"]
    person = pl.read_csv(province / "reference" / "person.csv", infer_schema=False)
    assert person["psn_no"].is_unique().all()
    assert sorted(person["insu_admdvs"].str.slice(0, 6).unique()) == codes
    assert setl["setl_id"].is_unique().all() and inst["fixmedins_code"].is_unique().all()


def test_totals_add_up_to_the_fen(province: Path, setl: pl.DataFrame, fee: pl.DataFrame) -> None:
    totals = json.loads((province / "manifest.json").read_text())["totals_fen"]
    assert sum(totals["fee_detail"].values()) == fee.select(fen("det_item_fee_sumamt").sum()).item()
    assert sum(totals["settlement"].values()) == setl.select(fen("medfee_sumamt").sum()).item()
    lines = fee.group_by("setl_id").agg(total=fen("det_item_fee_sumamt").sum())
    joined = setl.join(lines, on="setl_id", how="full", coalesce=True)
    assert joined.filter(fen("medfee_sumamt") != pl.col("total")).height == 0
    person = pl.read_csv(province / "reference" / "person.csv", infer_schema=False)
    assert setl.join(person, on="psn_no", how="anti").height == 0


def test_referrals_cross_counties_on_days_of_their_own(
    province: Path, setl: pl.DataFrame, inst: pl.DataFrame
) -> None:
    looks = _truth(province, "lookalikes").filter(pl.col("lookalike") == "cross_county_referral")
    assert looks.height >= 20
    visits = setl.join(inst.select("fixmedins_code", "county"), on="fixmedins_code").with_columns(
        home=pl.col("psn_no").str.slice(0, 6), d=pl.col("begntime").str.slice(0, 10)
    )
    ref = visits.filter(pl.col("mdtrt_id").is_in(looks["mdtrt_id"].implode()))
    assert ref.height == looks.height
    assert ref.filter(pl.col("home") == pl.col("county")).height == 0
    same_day = ref.select("psn_no", "d").join(visits, on=["psn_no", "d"]).group_by("psn_no", "d")
    assert same_day.len().filter(pl.col("len") > 1).height == 0


def test_every_planted_cross_county_person_is_found(province: Path, findings: dict) -> None:
    truth = _truth(province, "lines").filter(pl.col("scheme") == "cross_county_same_day")
    planted = set(truth["psn_no"])
    assert len(planted) >= 6
    f, lines = findings["prov_same_day_counties"]
    assert planted <= set(f["entity_id"])
    violating = set(lines.filter(pl.col("role") == "violating").select(_KEY)["fixmedins_code"])
    assert set(truth.select(_KEY)["fixmedins_code"]) <= violating


def test_referrals_and_ordinary_persons_are_no_lead(province: Path, findings: dict) -> None:
    f, lines = findings["prov_same_day_counties"]
    planted = set(
        _truth(province, "lines").filter(pl.col("scheme") == "cross_county_same_day")["psn_no"]
    )
    assert set(f["entity_id"]) <= planted
    referrals = _truth(province, "lookalikes").filter(
        pl.col("lookalike") == "cross_county_referral"
    )
    assert lines.filter(pl.col("mdtrt_id").is_in(referrals["mdtrt_id"].implode())).height == 0


def test_the_planted_hospital_stands_out_only_among_every_countys_peers(
    province: Path, findings: dict, inst: pl.DataFrame
) -> None:
    outlier = _truth(province, "entities").filter(pl.col("scheme") == "province_peer_outlier")
    code = outlier["entity_id"].item()
    # its county has no other general hospital of its level: no county-level norm
    row = inst.filter(pl.col("fixmedins_code") == code)
    peers_at_home = inst.filter(
        (pl.col("county") == row["county"].item())
        & (pl.col("medins_type") == row["medins_type"].item())
        & (pl.col("hosp_lv") == row["hosp_lv"].item())
    )
    assert peers_at_home.height == 1
    f, _ = findings["prov_peer_cost_per_visit"]
    assert code in set(f["entity_id"])


def test_peer_leads_are_on_fraudulent_institutions_never_specialists(
    province: Path, findings: dict, inst: pl.DataFrame
) -> None:
    fraud = set(_truth(province, "fraud_institutions")["fixmedins_code"])
    specialists = set(inst.filter(pl.col("medins_type").is_in(["A2", "A3"]))["fixmedins_code"])
    for rule in ("prov_peer_cost_per_visit", "prov_peer_cost_per_person"):
        flagged = set(findings[rule][0]["entity_id"])
        assert flagged, rule
        assert flagged <= fraud, (rule, flagged - fraud)
        assert not flagged & specialists, rule


def test_one_countys_claims_give_no_cross_county_lead(
    province: Path, inst: pl.DataFrame, tmp_path: Path
) -> None:
    home = COUNTIES[-1][0]  # the county of the planted hospital
    codes = set(inst.filter(pl.col("county") == home)["fixmedins_code"])
    con = _scoring_db(province, tmp_path / "lake", codes)
    for rule in CROSS_RULES:
        assert run_rule(con, rule)[0].height == 0, rule


def test_the_command_writes_a_province_with_persons_per_county(tmp_path: Path) -> None:
    out = tmp_path / "p"
    args = ["synth", "--preset", "province-sample", "--persons", "600", "--months", "1"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "2400 persons" in result.output and (out / "profile.md").is_file()
    config = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["config"]
    assert config["persons_per_county"] == 600 and config["counties"] == [list(c) for c in COUNTIES]
    bad = CliRunner().invoke(main, [*args[:-1], "0", "--out", str(tmp_path / "bad")])
    assert bad.exit_code != 0 and "--months" in bad.output
    assert not (tmp_path / "bad").exists()
