"""Peer profiles and drift on hand-made claims with exact figures, and on the tiny county."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from helpers.rule_frames import fee, run_rule, scoring_db, visit

from hrss_fraud.detectors.profiles_drift import flag_drift, score_splits, splits
from hrss_fraud.detectors.profiles_place import place
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.scoring.score import score

DRUG = "XC08CAA001A001010110037"  # 苯磺酸氨氯地平片, no quantity cap
CLINICS = ("H13012300101", "H13012300102", "H13012300103")
T0 = datetime(2025, 3, 3, 9)


def _clinics(inflated: int) -> object:
    """Three village clinics with 40 visits each, one drug line of 2 packs at ¥10 a pack;
    the third bills 4 packs on ``inflated`` of its visits."""
    setl, lines = [], []
    for c, code in enumerate(CLINICS):
        for i in range(40):
            md, t = f"MD{c}{i:03d}", T0 + timedelta(hours=i)
            cnt = 4 if c == 2 and i < inflated else 2
            setl.append(visit(md, fixmedins_code=code, begntime=t, endtime=t))
            lines.append(fee(md, 1, DRUG, cnt=cnt, pric=10.0, fixmedins_code=code))
    insts = [{"fixmedins_code": c, "medins_type": "C1", "hosp_lv": "9"} for c in CLINICS]
    return scoring_db(setl, lines, institutions=insts)


def test_a_clinic_billing_double_quantities_is_a_lead_on_the_packs_above_the_usual() -> None:
    f, lines = run_rule(_clinics(20), "pp_quantity_index")
    assert f["entity_id"].to_list() == [CLINICS[2]]
    row = f.row(0, named=True)
    assert row["entity_type"] == "institution" and row["period_start"] == date(2025, 3, 1)
    # usual quantity 2 packs; 20 lines of 4 packs, each ¥20 above it; the peers have none
    assert row["amount_at_risk"] == pytest.approx(400.0)
    assert row["n_violating"] == 20
    assert set(lines["amount_at_risk"].round(2)) == {20.0}
    assert "超常用量明细占比：50.0%" in row["evidence"] and "中位数0.0%" in row["evidence"]
    assert "50.0%" in row["evidence_en"]


@pytest.mark.parametrize(("inflated", "hit"), [(7, False), (8, True)])
def test_either_side_of_the_z_threshold(inflated: int, hit: bool) -> None:
    # share k/40 against peers at 0, spread its sampling error sqrt(p(1-p)/40):
    # z = 2.91 at 7 lines, 3.16 at 8
    f, _ = run_rule(_clinics(inflated), "pp_quantity_index")
    assert (f.height == 1) == hit


def test_a_stricter_z_or_no_inflated_line_is_no_lead() -> None:
    # 20 of 40 lines: z = 0.5 / sqrt(0.25 / 40) = 6.3
    assert run_rule(_clinics(20), "pp_quantity_index", z=7)[0].height == 0
    assert run_rule(_clinics(0), "pp_quantity_index")[0].height == 0


def _units(rows: list[tuple[str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "unit": u,
                "setting": "op",
                "month": date(2025, 3, 1),
                "medins_type": kind,
                "hosp_lv": lv,
                "value": v,
                "se": 0.0,
            }
            for u, kind, lv, v in rows
        ]
    )


def test_a_kind_alone_in_the_county_is_pooled_into_its_level_and_held_against_the_others() -> None:
    df = _units(
        [
            ("people", "A1", "2", 1.0),
            ("tcm", "A2", "2", 2.0),
            ("mch", "A3", "2", 1.2),
            ("private", "C2", "9", 3.0),
        ]
    )
    out = place(df, min_peers=2, rel_spread=0.05).sort("unit")
    tcm = out.filter(pl.col("unit") == "tcm").row(0, named=True)
    assert tcm["peer_level"] == 1 and tcm["peer_n"] == 2
    assert tcm["peer_median"] == pytest.approx(1.1) and tcm["percentile"] == 1.0
    # two peers say nothing of spread: the floor is 5% of their median
    assert tcm["robust_z"] == pytest.approx(0.9 / 0.055)
    # the private clinic has no peer even at its level: not assessed
    assert "private" not in out["unit"].to_list()


def _series(jump: float) -> pl.DataFrame:
    """Four institutions, 400 visits a month with 2 drugs each (variance 1); ``jump`` is the
    first institution's March mean."""
    rows = []
    for u in ("a", "b", "c", "d"):
        for m, mean in ((1, 2.0), (2, 2.0), (3, jump if u == "a" else 2.0)):
            rows.append(
                {
                    "unit": u,
                    "setting": "op",
                    "month": date(2025, m, 1),
                    "hosp_lv": "1",
                    "n_visits": 400,
                    "num": 400 * mean,
                    "num_sq": 400 * (1 + mean * mean),
                    "basis": 400 * mean * 10.0,
                }
            )
    return pl.DataFrame(rows)


def test_a_sudden_rise_is_found_at_its_change_point_and_a_steady_series_is_not() -> None:
    out = flag_drift(score_splits(splits(_series(2.5), 1), 4), 4.0, 0.08)
    assert out["unit"].to_list() == ["a"]
    row = out.row(0, named=True)
    assert row["change"] == date(2025, 3, 1) and row["peer_rise"] == 0.0
    # before: 800 visits at 2.0, after: 400 at 2.5, both variance 1
    assert row["z"] == pytest.approx(0.5 / (1 / 800 + 1 / 400) ** 0.5)
    assert row["excess"] == pytest.approx(400 * 2.5 * 10.0 * (1 - 2.0 / 2.5))
    assert flag_drift(score_splits(splits(_series(2.0), 1), 4), 4.0, 0.08).is_empty()


def test_a_rise_below_the_minimum_is_no_drift() -> None:
    # +5% (z 1.6) passes a z of 1 but not an 8% floor
    assert flag_drift(score_splits(splits(_series(2.1), 1), 4), 1.0, 0.08).is_empty()
    assert flag_drift(score_splits(splits(_series(2.1), 1), 4), 1.0, 0.04).height == 1


PROFILE_SCHEMES = {
    "inflated_quantity": "pp_quantity_index",
    "upcoding": "pp_price_mix_index",
    "institution_drift": "pd_drugs_per_visit",
}


def test_the_profiles_flag_the_tiny_countys_scheming_institutions(
    tiny_county: Path, tmp_path: Path
) -> None:
    ids = [r for r in load_catalogue().rules if r.startswith(("pp_", "pd_"))]
    uploads = sorted((tiny_county / "uploads").iterdir())
    ingest(Lake(tmp_path / "lake"), [tiny_county / "reference", *uploads])
    run = score(tmp_path, rule_ids=ids)
    f = run.findings().filter(pl.col("entity_type") == "institution")
    truth = pl.read_parquet(tiny_county / "truth" / "lines.parquet")
    hits = (
        run.lines()
        .filter(pl.col("role") == "violating")
        .join(f.select("finding_id", "rule_id"), on="finding_id")
        .join(
            truth.select("fixmedins_code", "mdtrt_id", "feedetl_sn", "scheme"),
            on=["fixmedins_code", "mdtrt_id", "feedetl_sn"],
        )
    )
    schemes = pl.read_parquet(tiny_county / "truth" / "schemes.parquet")
    carriers = {
        name: set(schemes.filter(pl.col("scheme") == name)["institutions"][0].split(";"))
        for name in ("phantom_service", *PROFILE_SCHEMES)
    }
    # seed 11: the county TCM hospital carries all four; a township centre's doubled
    # quantities (+20% over peers whose own share is 17%) stay below the threshold
    caught = {n: set(hits.filter(pl.col("scheme") == n)["fixmedins_code"]) for n in carriers}
    assert caught["phantom_service"] == carriers["phantom_service"]
    assert caught["institution_drift"] == carriers["institution_drift"]
    assert caught["upcoding"] == carriers["upcoding"]
    assert "H13012300002" in caught["inflated_quantity"]
    for name, rule in PROFILE_SCHEMES.items():
        assert hits.filter((pl.col("scheme") == name) & (pl.col("rule_id") == rule)).height, rule
    fraud = pl.read_parquet(tiny_county / "truth" / "fraud_institutions.parquet")
    assert f.filter(~pl.col("fixmedins_code").is_in(fraud["fixmedins_code"].implode())).is_empty()


LAB = "002501010010000"  # 白细胞计数, 化验费
ARB = "XC09CAA001A001010110148"  # 厄贝沙坦片
BEDS = ("001109000010001", "001109000010003")  # ¥20 three-bed ward, ¥50 single room


def _busy(month: int = 3, *, busy: bool = True) -> tuple[list[dict], list[dict]]:
    """One month of the three clinics: the peers' 40 visits on 15 weekday mornings, each a
    different person; the third clinic (when ``busy``) at 22:00 on 5 Saturdays and
    Sundays, 20 persons twice each, each visit with a second drug and a lab test."""
    setl, lines = [], []
    for c, code in enumerate(CLINICS):
        odd = busy and c == 2
        for i in range(40):
            md = f"MD{month}{c}{i:03d}"
            weekday = timedelta(days=i % 5 + 7 * (i // 5 % 3), minutes=i)
            weekend = timedelta(days=(0, 1, 7, 8, 14)[i % 5], minutes=i)
            t = (
                datetime(2025, month, 1, 22) + weekend
                if odd
                else datetime(2025, month, 3, 9) + weekday
            )
            psn = f"1301230000000{c}{i % 20 if odd else i:04d}"
            kw = {"fixmedins_code": code, "fee_ocur_time": t, "psn_no": psn}
            money = 40.0 if odd else 20.0
            setl.append(
                visit(md, begntime=t, endtime=t, chfpdr_code=f"D{c}", inscp_amt=money, **kw)
            )
            lines.append(fee(md, 1, DRUG, cnt=2, pric=10.0, **kw))
            if odd:
                lines += [fee(md, 2, ARB, pric=10.0, **kw), fee(md, 3, LAB, pric=10.0, **kw)]
    return setl, lines


def _insts() -> list[dict]:
    return [{"fixmedins_code": c, "medins_type": "C1", "hosp_lv": "9"} for c in CLINICS]


@pytest.mark.parametrize(
    ("rule", "amount"),
    [
        # ¥40 a visit against ¥20: half of its ¥1,600
        ("pp_cost_per_visit", 800.0),
        # a lab test a visit against none: all of them
        ("pp_services_per_visit", 400.0),
        # two drugs a visit against one: half the drug money
        ("pp_drugs_per_visit", 600.0),
        # two visits a person against one: half of the 20 repeat visits' ¥800
        ("pp_visits_per_patient", 400.0),
        # every visit at night against none
        ("pp_night_weekend_share", 1600.0),
    ],
)
def test_each_indicator_flags_the_clinic_far_above_its_peers(rule: str, amount: float) -> None:
    setl, lines = _busy()
    f, _ = run_rule(scoring_db(setl, lines, institutions=_insts()), rule)
    assert f["entity_id"].to_list() == [CLINICS[2]]
    assert f["amount_at_risk"][0] == pytest.approx(amount)
    setl, lines = _busy(busy=False)
    assert run_rule(scoring_db(setl, lines, institutions=_insts()), rule)[0].is_empty()


def test_a_doctor_seeing_eight_patients_a_day_against_about_three_is_a_doctor_lead() -> None:
    setl, lines = _busy()
    f, _ = run_rule(scoring_db(setl, lines, institutions=_insts()), "pp_doctor_patients_per_day")
    assert f["entity_type"].to_list() == ["doctor"]
    assert f["entity_id"].to_list() == [f"{CLINICS[2]}|D2"]
    # the peers see 40 visits on 15 days; each of the 40 visits is (8 - 8/3) / 8 excess
    assert f["amount_at_risk"][0] == pytest.approx(40 * 40.0 * (8 - 40 / 15) / 8, abs=0.01)
    assert f["n_violating"][0] == 120  # their 40 visits × 3 lines


@pytest.mark.parametrize(
    ("rule", "amount"),
    [
        # March ¥40 a visit against ¥20 in February
        ("pd_cost_per_visit", 800.0),
        ("pd_services_per_visit", 400.0),
        ("pd_drugs_per_visit", 600.0),
    ],
)
def test_a_clinic_changing_its_billing_in_march_is_a_drift(rule: str, amount: float) -> None:
    feb, feb_lines = _busy(2, busy=False)
    mar, mar_lines = _busy(3)
    f, _ = run_rule(scoring_db(feb + mar, feb_lines + mar_lines, institutions=_insts()), rule)
    assert f["entity_id"].to_list() == [CLINICS[2]]
    assert "2025-03" in f["evidence"][0]
    assert f["amount_at_risk"][0] == pytest.approx(amount)
    steady, steady_lines = _busy(3, busy=False)
    con = scoring_db(feb + steady, feb_lines + steady_lines, institutions=_insts())
    assert run_rule(con, rule)[0].is_empty()


def test_a_township_centre_billing_single_rooms_has_the_dearest_bed_share() -> None:
    setl, lines = [], []
    insts = [{"fixmedins_code": c, "medins_type": "B1", "hosp_lv": "1"} for c in CLINICS]
    for c, code in enumerate(CLINICS):
        for i in range(12):
            md, t = f"MD{c}{i:03d}", datetime(2025, 2, 1 + i, 9)
            kw = {"fixmedins_code": code, "fee_ocur_time": t}
            setl.append(visit(md, begntime=t, endtime=t + timedelta(days=1), med_type="21", **kw))
            bed = BEDS[1] if c == 2 and i < 6 else BEDS[0]
            lines.append(fee(md, 1, bed, **kw))
    f, _ = run_rule(scoring_db(setl, lines, institutions=insts), "pp_max_price_share")
    assert f["entity_id"].to_list() == [CLINICS[2]]
    # six single rooms at ¥50 where peers bill ¥20: ¥30 each
    assert f["amount_at_risk"][0] == pytest.approx(180.0)
    assert f["n_violating"][0] == 6


# Case-mix-adjusted profiles (profiles_casemix.toml): a quarter's visits, each expecting
# what the other institutions of its level bill for the same diagnosis group.
URTI, PAIN = "J06.9", "M54.2"  # diagnosis groups URTI and TCM_PAIN


def _casemix_clinics(extra: int, *, all_urti: bool = False) -> object:
    """Three village clinics, 40 visits each in March with a drug line: 20 for URTI with a
    lab test, 20 for back pain without; the third adds a lab test to ``extra`` of its pain
    visits (``all_urti``: its 40 visits are all URTI with a lab test, none added)."""
    setl, lines = [], []
    for c, code in enumerate(CLINICS):
        for i in range(40):
            md, t = f"MD{c}{i:03d}", T0 + timedelta(hours=i)
            urti = i < 20 or (c == 2 and all_urti)
            kw = {"fixmedins_code": code, "fee_ocur_time": t}
            setl.append(visit(md, begntime=t, endtime=t, dise_codg=URTI if urti else PAIN, **kw))
            lines.append(fee(md, 1, DRUG, cnt=2, pric=10.0, **kw))
            if urti or (c == 2 and i - 20 < extra):
                lines.append(fee(md, 2, LAB, pric=10.0, **kw))
    return scoring_db(setl, lines, institutions=_insts())


def test_a_clinic_billing_lab_tests_its_peers_do_not_bill_for_the_diagnosis_is_a_lead() -> None:
    f, _ = run_rule(_casemix_clinics(8), "pp_services_casemix", min_visits=30)
    assert f["entity_id"].to_list() == [CLINICS[2]]
    row = f.row(0, named=True)
    assert row["evidence"].startswith("2025Q1 门诊")  # the quarter
    # observed 28 lab lines against 20 expected (1.4); the peers 20 against 24 (0.833);
    # the excess share of the ¥280 of lab lines is (1.4 - 0.833) / 1.4
    assert row["amount_at_risk"] == round(280 * (1.4 - 20 / 24) / 1.4, 2)
    assert row["n_violating"] == 28
    assert "病种调整后检查检验治疗项目数指数：1.4" in row["evidence"]
    assert "median 0.83" in row["evidence_en"]


def test_a_clinic_seeing_only_diagnoses_that_need_tests_is_no_lead() -> None:
    # raw: 1 lab line a visit against 0.5 at the peers; for the same diagnoses: as usual
    assert run_rule(_casemix_clinics(0, all_urti=True), "pp_services_casemix", min_visits=30)[
        0
    ].is_empty()
    assert run_rule(_casemix_clinics(0), "pp_services_casemix", min_visits=30)[0].is_empty()


@pytest.mark.parametrize(("extra", "hit"), [(6, False), (7, True)])
def test_either_side_of_the_case_mix_z_threshold(extra: int, hit: bool) -> None:
    # value 1 + e/20, its sampling error sqrt(20 (e/20)^2 + e) / 20, the peers' median
    # 20 / (20 + e/2) with a 5% floor: z = 2.94 at 6 extra lab tests, 3.13 at 7
    f, _ = run_rule(_casemix_clinics(extra), "pp_services_casemix", min_visits=30)
    assert (f.height == 1) == hit


def test_a_higher_case_mix_floor_or_a_small_quarter_is_no_lead() -> None:
    # 1.4 against 0.833 is 68% above: not 100%; 40 visits are fewer than 90 in a quarter
    assert run_rule(_casemix_clinics(8), "pp_services_casemix", min_visits=30, min_excess=1)[
        0
    ].is_empty()
    assert run_rule(_casemix_clinics(8), "pp_services_casemix")[0].is_empty()


def _wards(single: int) -> object:
    """Three township centres with 12 one-night URTI stays each, a ¥20 three-bed ward a
    night; the third bills the ¥50 single room on ``single`` of them."""
    setl, lines = [], []
    insts = [{"fixmedins_code": c, "medins_type": "B1", "hosp_lv": "1"} for c in CLINICS]
    for c, code in enumerate(CLINICS):
        for i in range(12):
            md, t = f"MD{c}{i:03d}", datetime(2025, 2, 1 + i, 9)
            kw = {"fixmedins_code": code, "fee_ocur_time": t}
            end = t + timedelta(days=1)
            setl.append(visit(md, begntime=t, endtime=end, med_type="21", dise_codg=URTI, **kw))
            lines.append(fee(md, 1, BEDS[1] if c == 2 and i < single else BEDS[0], **kw))
    return scoring_db(setl, lines, institutions=insts)


def test_a_township_centre_billing_dearer_rooms_for_the_same_diagnoses_is_a_lead() -> None:
    f, lines = run_rule(_wards(4), "pp_price_casemix")
    assert f["entity_id"].to_list() == [CLINICS[2]]
    row = f.row(0, named=True)
    # 4 of 12 nights at 2.5 × the ¥20 the peers bill: mean price relative 1.5 against
    # 20 / 25 = 0.8 at the peers (their expectation includes its single rooms); the
    # excess share of its ¥360 is ¥168, at most the single rooms' own ¥30 above ¥20 each
    assert row["amount_at_risk"] == pytest.approx(120.0)
    assert row["n_violating"] == 4
    assert set(lines.filter(pl.col("role") == "violating")["amount_at_risk"]) == {30.0}
    assert "病种调整后同组项目价格比：1.5" in row["evidence"]


@pytest.mark.parametrize(("single", "hit"), [(0, False), (3, False), (4, True)])
def test_either_side_of_the_price_z_threshold(single: int, hit: bool) -> None:
    # value 1 + k/8, sampling error sqrt(k (2.5 - v)^2 + (12 - k)(1 - v)^2) / 12, peers'
    # median 20 / (20 + 1.25 k): z = 2.77 at 3 single rooms, 3.37 at 4
    f, _ = run_rule(_wards(single), "pp_price_casemix")
    assert (f.height == 1) == hit
    assert run_rule(_wards(4), "pp_price_casemix", z=3.5)[0].is_empty()


@pytest.mark.parametrize(("others", "hit"), [(2, True), (3, False)])
def test_a_unit_needs_enough_other_peers_for_a_case_mix_lead(others: int, hit: bool) -> None:
    # the third clinic has two other clinics beside it
    f, _ = run_rule(_casemix_clinics(8), "pp_services_casemix", min_visits=30, min_others=others)
    assert (f.height == 1) == hit
