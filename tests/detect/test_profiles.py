"""Peer profiles and drift on hand-made claims with exact figures, and on the tiny county."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from rule_frames import fee, run_rule, scoring_db, visit

from hrss_fraud.detect.profiles_drift import flag_drift, score_splits, splits
from hrss_fraud.detect.profiles_place import place
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake
from hrss_fraud.rules.catalogue import load_catalogue
from hrss_fraud.rules.score import score

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
