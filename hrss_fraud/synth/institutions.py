"""The county's designated institutions, their departments and doctors.

County hospitals sit in the county town (the first township); each township has one
health centre, village clinics in proportion to its people, and shares the private clinics
and retail pharmacies (about one per 5,000 people).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from hrss_fraud.synth import names

#: Departments (and doctors per department) by kind of institution.
DEPARTMENTS: dict[str, dict[str, int]] = {
    "A1": {
        "A03": 10,
        "A04": 8,
        "A05": 5,
        "A07": 5,
        "A10": 3,
        "A11": 2,
        "A20": 5,
        "A21": 3,
        "A30": 2,
        "A32": 3,
        "A50": 3,
        "A51": 4,
        "A52": 3,
    },
    "A2": {"A50": 10, "A03": 5, "A04": 3, "A21": 4, "A32": 1},
    "A3": {"A05": 8, "A07": 8, "A32": 1},
    "B1": {"A02": 3, "A03": 2, "A04": 1, "A05": 1, "A50": 1},
    "C1": {"A02": 1},
    "C2": {"A02": 1},
    "D1": {"D01": 2},
}


@dataclass(frozen=True)
class County:
    """Reference tables of the county plus the arrays the care model indexes into."""

    townships: pl.DataFrame  # admdvs, admdvs_name, share
    institution: pl.DataFrame
    practitioner: pl.DataFrame


def n_townships(persons: int) -> int:
    """10–20 townships: about one per 25,000 people, as in a north-China county."""
    return int(np.clip(round(persons / 25_000), 10, 20))


def build_county(
    rng: np.random.Generator,
    persons: int,
    start: date,
    county: str = names.COUNTY_ADMDVS,
    county_name: str = names.COUNTY_NAME,
) -> County:
    k = n_townships(persons)
    admdvs = [f"{county}{101 + i:03d}" for i in range(k)]
    # The county town is largest; the rest vary.
    share = np.r_[2.5, rng.uniform(0.6, 1.4, k - 1)]
    share = share / share.sum()
    townships = pl.DataFrame(
        {"admdvs": admdvs, "admdvs_name": names.TOWNSHIP_NAMES[:k], "share": share}
    )
    rows: list[dict[str, object]] = []

    def add(kind: str, name: str, town: int, lv: str | None, ftype: str = "1") -> None:
        serial = len(rows) + 1
        prefix = "P" if ftype == "2" else "H"
        rows.append(
            {
                "fixmedins_code": f"{prefix}{county}{serial:05d}",
                "fixmedins_name": name,
                "fixmedins_type": ftype,
                "medins_type": kind,
                "hosp_lv": lv,
                "admdvs": admdvs[town],
                "admdvs_name": names.TOWNSHIP_NAMES[town],
                "addr": f"{county_name}{names.TOWNSHIP_NAMES[town]}{rng.integers(1, 300)}号",
                "agrmt_no": f"YB{start.year}{serial:04d}",
                "agrmt_begn_date": date(start.year - int(rng.integers(1, 6)), 1, 1),
                "agrmt_end_date": date(start.year + 2, 12, 31),
            }
        )

    add("A1", f"{county_name}人民医院", 0, "2")
    add("A2", f"{county_name}中医医院", 0, "2")
    add("A3", f"{county_name}妇幼保健院", 0, "2")
    for t in range(k):
        add("B1", f"{county_name}{names.TOWNSHIP_NAMES[t]}卫生院", t, "1")
    town_people = share * persons
    for t in range(k):
        for v in range(max(1, round(town_people[t] / 1_000))):
            word = names.VILLAGE_WORDS[v // len(names.VILLAGE_STEMS) % len(names.VILLAGE_WORDS)]
            stem = names.VILLAGE_STEMS[v % len(names.VILLAGE_STEMS)]
            village = f"{word if v >= len(names.VILLAGE_STEMS) else ''}{stem}村"
            add("C1", f"{names.TOWNSHIP_NAMES[t]}{village}卫生室", t, "9")
    for c in range(max(2, round(persons / 10_000))):
        t = int(rng.choice(k, p=share))
        doctor = names.SURNAMES[int(rng.integers(0, 30))]
        add("C2", f"{names.TOWNSHIP_NAMES[t]}{doctor}氏诊所{c + 1}", t, "9")
    for c in range(max(3, round(persons / 5_000))):
        t = int(rng.choice(k, p=share))
        brand = names.PHARMACY_BRANDS[c % len(names.PHARMACY_BRANDS)]
        add("D1", f"{brand}大药房{names.TOWNSHIP_NAMES[t]}{c + 1}店", t, None, ftype="2")
    institution = pl.DataFrame(rows, schema_overrides={"hosp_lv": pl.String})

    doctors: list[dict[str, str]] = []
    for code, kind in institution.select("fixmedins_code", "medins_type").iter_rows():
        for dept, per_dept in DEPARTMENTS[kind].items():
            for _ in range(per_dept):
                doctors.append(
                    {
                        "dr_codg": f"D{county}{len(doctors) + 1:06d}",
                        "fixmedins_code": code,
                        "dept_codg": dept,
                    }
                )
    gend = np.where(rng.random(len(doctors)) < 0.5, "1", "2")
    practitioner = (
        pl.DataFrame(doctors)
        .with_columns(dr_name=pl.Series(names.person_names(rng, gend)))
        .select("dr_codg", "dr_name", "fixmedins_code", "dept_codg")
    )
    return County(townships=townships, institution=institution, practitioner=practitioner)
