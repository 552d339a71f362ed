"""Legitimate look-alikes in the generated county: every kind is there in a sensible number,
none is in the truth of schemes, the same seed plants the same ones, and each kind has the
property that makes it legitimate care — read back from the uploads, as a detector sees it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.generate import build_world, generate
from hrss_fraud.synth.lookalike_kinds import KINDS
from hrss_fraud.synth.lookalikes import plan
from hrss_fraud.synth.output import read_uploads

NEW_KINDS = (
    "maternity_care",
    "rehab_course",
    "tcm_course",
    "referral_transfer",
    "same_day_departments",
    "long_prescription",
    "family_covisit",
    "emergency_return",
    "wound_care",
    "elderly_polypharmacy",
)
VISIT_FEES = ["普通门诊挂号费", "一般诊疗费"]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lookalikes") / "county"
    generate(SynthConfig.preset("tiny", out=out, seed=1))
    return out


@pytest.fixture(scope="module")
def looks(county: Path) -> pl.DataFrame:
    return pl.read_parquet(county / "truth" / "lookalikes.parquet")


@pytest.fixture(scope="module")
def setl(county: Path, looks: pl.DataFrame) -> pl.DataFrame:
    """Every settlement with its look-alike kind (null for others), times as datetimes."""
    person = pl.read_csv(county / "reference" / "person.csv", infer_schema=False)
    inst = pl.read_csv(county / "reference" / "institution.csv", infer_schema=False)
    return (
        read_uploads(county, "settlement")
        .join(looks.select("mdtrt_id", "lookalike").unique(), on="mdtrt_id", how="left")
        .join(person.select("psn_no", "gend", "brdy"), on="psn_no", how="left")
        .join(inst.select("fixmedins_code", "hosp_lv"), on="fixmedins_code", how="left")
        .with_columns(
            # the uploads write times three ways (2025-01-01 08:00:00, 2025/01/01 …, 20250101080000)
            pl.col(c).str.replace_all(r"\D", "").str.to_datetime("%Y%m%d%H%M%S")
            for c in ("begntime", "endtime")
        )
        .with_columns(
            age=(pl.col("begntime").dt.date() - pl.col("brdy").str.to_date()).dt.total_days()
            / 365.25
        )
    )


@pytest.fixture(scope="module")
def fee(county: Path, looks: pl.DataFrame) -> pl.DataFrame:
    return read_uploads(county, "fee_detail").join(
        looks.select("mdtrt_id", "lookalike").unique(), on="mdtrt_id", how="inner"
    )


def kind(setl: pl.DataFrame, name: str) -> pl.DataFrame:
    return setl.filter(pl.col("lookalike") == name).unique("mdtrt_id").sort("begntime")


# -- presence, separation, determinism -------------------------------------------------


def test_every_kind_present_in_a_sensible_number(looks: pl.DataFrame, setl: pl.DataFrame) -> None:
    counts = dict(looks.group_by("lookalike").len().iter_rows())
    assert set(KINDS) <= set(counts), set(KINDS) - set(counts)
    assert len(KINDS) >= 12
    visits = setl["mdtrt_id"].n_unique()
    for name in NEW_KINDS:
        # enough to measure a rule on, too few to change the county's profile
        assert 30 <= counts[name] <= 0.02 * visits, (name, counts[name])


def test_no_lookalike_in_the_truth_of_schemes(county: Path, looks: pl.DataFrame) -> None:
    lines = pl.read_parquet(county / "truth" / "lines.parquet")
    entities = pl.read_parquet(county / "truth" / "entities.parquet")
    assert looks.join(lines, on="mdtrt_id", how="semi").is_empty()
    ids = set(looks["mdtrt_id"].to_list())
    lead = entities["entity_id"].str.split("|").list.get(1, null_on_oob=True)
    assert ids.isdisjoint(lead.drop_nulls().to_list())
    setl_ids = set(lines.join(looks, on="mdtrt_id", how="semi")["setl_id"].to_list())
    assert setl_ids.isdisjoint(entities["entity_id"].to_list())


def test_each_kind_names_the_rules_it_resembles() -> None:
    rule_ids = set(load_catalogue().rules)
    for name, k in KINDS.items():
        assert k.zh and k.policy, name
        assert set(k.resembles) <= rule_ids, (name, set(k.resembles) - rule_ids)


def test_same_seed_same_lookalikes(tmp_path: Path) -> None:
    def planned(seed: int) -> pl.DataFrame:
        world = build_world(SynthConfig.preset("tiny", out=tmp_path, persons=3000, seed=seed))
        return pl.concat(plan(world)).select("psn", "inst", "day", "sec", "group", "tag")

    a, b, c = planned(4), planned(4), planned(5)
    assert a.equals(b)
    assert not a.equals(c)


def test_same_seed_same_county_with_every_kind(tmp_path: Path) -> None:
    def digest(seed: int, name: str) -> tuple[dict[str, str], set[str]]:
        out = tmp_path / name
        generate(SynthConfig.preset("tiny", out=out, persons=5000, months=2, seed=seed))
        files = {
            str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((out / "uploads").rglob("*.csv"))
        }
        files["lookalikes"] = hashlib.sha256(
            (out / "truth" / "lookalikes.parquet").read_bytes()
        ).hexdigest()
        kinds = set(pl.read_parquet(out / "truth" / "lookalikes.parquet")["lookalike"])
        return files, kinds

    (a, kinds), (b, _) = digest(7, "a"), digest(7, "b")
    assert set(KINDS) <= kinds
    assert a == b


# -- what makes each kind legitimate -------------------------------------------------------


def test_maternity_care_is_for_pregnant_women(setl: pl.DataFrame) -> None:
    m = kind(setl, "maternity_care")
    assert (m["gend"] == "2").all()
    assert m["age"].is_between(18, 50).all()
    assert m["med_type"].is_in(["51", "52"]).all()
    assert (m["adm_dept_codg"] == "A05").all()
    assert m["dise_codg"].drop_nulls().str.starts_with("O").all()
    # checks come weeks apart, never twice in a week
    op = m.filter(pl.col("med_type") == "51").sort("psn_no", "begntime")
    gap = op.select(pl.col("begntime").diff().over("psn_no").dt.total_days()).to_series()
    assert gap.drop_nulls().min() >= 4


def test_rehab_sessions_are_in_a_rehabilitation_department(
    setl: pl.DataFrame, fee: pl.DataFrame
) -> None:
    r = kind(setl, "rehab_course")
    assert (r["adm_dept_codg"] == "A21").all()
    assert (r["hosp_lv"] == "2").all()
    assert (r["dise_codg"].drop_nulls() == "I69.3").all()
    assert (r["begntime"].dt.weekday() <= 5).all()
    per_person = r.group_by("psn_no").len()["len"]
    assert per_person.max() <= 20
    names = set(fee.filter(pl.col("lookalike") == "rehab_course")["medins_list_name"].to_list())
    assert "偏瘫肢体综合训练" in names


def test_tcm_course_is_one_course_and_never_double_needles(fee: pl.DataFrame) -> None:
    t = fee.filter(pl.col("lookalike") == "tcm_course")
    needles = t.filter(pl.col("medins_list_name").is_in(["电针", "普通针刺"]))
    per_visit = needles.group_by("mdtrt_id").agg(pl.col("medins_list_name").n_unique())
    assert (per_visit["medins_list_name"] == 1).all()
    assert t["mdtrt_id"].n_unique() == per_visit.height
    assert t.group_by("psn_no").agg(pl.col("mdtrt_id").n_unique())["mdtrt_id"].max() <= 10


def test_referral_is_up_a_level_on_the_day_of_discharge(setl: pl.DataFrame) -> None:
    r = kind(setl, "referral_transfer").sort("psn_no", "begntime")
    pairs = r.group_by("psn_no", maintain_order=True).agg(
        pl.col("hosp_lv"), pl.col("begntime"), pl.col("endtime"), pl.col("dise_codg")
    )
    assert (pairs["hosp_lv"].list.len() == 2).all()
    for lv, begin, end, dx in pairs.select("hosp_lv", "begntime", "endtime", "dise_codg").rows():
        assert lv == ["1", "2"]
        assert begin[1] > end[0]
        assert begin[1].date() == end[0].date()
        assert dx[0] is None or dx[1] is None or dx[0] == dx[1]


def test_same_day_departments_are_two_conditions(setl: pl.DataFrame) -> None:
    s = kind(setl, "same_day_departments")
    days = s.group_by("psn_no", pl.col("begntime").dt.date()).agg(
        n=pl.len(),
        inst=pl.col("fixmedins_code").n_unique(),
        dept=pl.col("adm_dept_codg").n_unique(),
    )
    assert (days["n"] == 2).all()
    assert (days["inst"] == 1).all()
    assert (days["dept"] == 2).all()
    assert (s["age"] >= 60).all()


def test_long_prescription_supplies_at_most_twelve_weeks(
    setl: pl.DataFrame, fee: pl.DataFrame
) -> None:
    lp = kind(setl, "long_prescription")
    assert (lp["med_type"] == "14").all()
    assert lp["dise_codg"].drop_nulls().str.contains(r"^(I1|E1)").all()
    drugs = fee.filter(
        (pl.col("lookalike") == "long_prescription") & pl.col("prd_days").is_not_null()
    )
    supply = drugs["prd_days"].cast(pl.Float64)
    assert supply.max() <= 84
    assert supply.median() > 60
    # the next visit comes when the supply runs out, not before
    gap = lp.sort("psn_no", "begntime").select(
        pl.col("begntime").diff().over("psn_no").dt.total_days()
    )
    assert gap.to_series().drop_nulls().min() >= 77


def test_family_covisit_is_siblings_minutes_apart(county: Path, setl: pl.DataFrame) -> None:
    person = pl.read_csv(county / "reference" / "person.csv", infer_schema=False)
    f = kind(setl, "family_covisit").join(person.select("psn_no", "addr"), on="psn_no")
    outings = f.group_by("fixmedins_code", "addr", pl.col("begntime").dt.date()).agg(
        n=pl.col("psn_no").n_unique(),
        spread=(pl.col("begntime").max() - pl.col("begntime").min()).dt.total_seconds(),
    )
    assert (outings["n"] == 2).all()
    assert outings["spread"].max() <= 600
    assert (f["age"] < 15).all()


def test_emergency_return_is_a_night_visit_and_its_morning_follow_up(setl: pl.DataFrame) -> None:
    e = kind(setl, "emergency_return").sort("psn_no", "begntime")
    pairs = e.group_by("psn_no", maintain_order=True).agg(
        pl.col("med_type"), pl.col("begntime"), pl.col("dise_codg")
    )
    for mt, begin, dx in pairs.select("med_type", "begntime", "dise_codg").rows():
        assert mt == ["13", "11"]
        assert begin[0].hour < 6 <= 8 <= begin[1].hour < 12
        assert begin[0].date() == begin[1].date()
        assert dx[0] is None or dx[1] is None or dx[0] == dx[1]


def test_wound_care_follows_an_operation_at_the_same_hospital(
    setl: pl.DataFrame, fee: pl.DataFrame
) -> None:
    w = kind(setl, "wound_care")
    stays = setl.filter(pl.col("med_type").is_in(["21", "22"]) & pl.col("lookalike").is_null())
    after = w.join(stays, on=["psn_no", "fixmedins_code"], suffix="_ip").filter(
        (pl.col("begntime") > pl.col("endtime_ip"))
        & ((pl.col("begntime") - pl.col("endtime_ip")).dt.total_days() <= 14)
    )
    assert set(after["mdtrt_id"].to_list()) == set(w["mdtrt_id"].to_list())
    billed = fee.filter(pl.col("lookalike") == "wound_care")
    dressing = pl.col("medins_list_name").str.starts_with("换药")
    assert billed.filter(dressing)["mdtrt_id"].n_unique() == w.height
    # a dressing visit bills the dressing and the visit's fee, nothing else
    assert billed.filter(~dressing)["medins_list_name"].is_in(VISIT_FEES).all()


def test_polypharmacy_writes_two_prescriptions_of_five_drugs_at_most(
    county: Path, setl: pl.DataFrame, fee: pl.DataFrame
) -> None:
    cat = pl.read_csv(county / "reference" / "catalogue.csv", infer_schema=False)
    poly = kind(setl, "elderly_polypharmacy")
    assert (poly["age"] >= 65).all()
    assert (poly["med_type"] == "14").all()
    drugs = fee.filter(
        (pl.col("lookalike") == "elderly_polypharmacy") & pl.col("rxno").is_not_null()
    ).join(cat.select("med_list_codg", "caution_elderly"), on="med_list_codg", how="left")
    assert (drugs["caution_elderly"].fill_null("0") == "0").all()
    per_rx = drugs.group_by("rxno").agg(pl.col("med_list_codg").n_unique())
    assert per_rx["med_list_codg"].max() <= 5
    per_visit = drugs.group_by("mdtrt_id").agg(
        n=pl.col("med_list_codg").n_unique(), rx=pl.col("rxno").n_unique()
    )
    # the point of the kind: many drugs at one visit, lawfully split
    assert (per_visit["n"] > 5).any()
    assert (per_visit.filter(pl.col("n") > 5)["rx"] >= 2).all()
    # a month's supply, or a short drug's shorter course
    assert drugs["prd_days"].cast(pl.Float64).max() <= 30
