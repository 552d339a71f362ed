"""Insured persons: the age and sex pyramid of a rural north-China county, insurance mix,
chronic conditions at realistic prevalence, births and deaths during the period.

Sources for the shapes (rounded): 2020 census rural age structure; China Hypertension
Survey and China Chronic Disease and Risk Factor Surveillance for prevalence by age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from hrss_fraud.synth import names

#: Share of people in 5-year bands 0–4 … 85+ (rural, ageing).
AGE_BANDS = np.array(
    [4.5, 5.5, 5.5, 5.0, 4.0, 4.5, 6.0, 6.0, 5.5, 7.5, 9.0, 8.5, 6.5, 7.0, 5.5, 3.5, 2.2, 1.3]
)

#: Chronic conditions: (name, prevalence by age band <35, 35–44, 45–59, 60–69, 70+).
CHRONIC = {
    "HTN": (0.01, 0.06, 0.18, 0.35, 0.45),
    "DM": (0.003, 0.03, 0.08, 0.13, 0.15),
    "COPD": (0.001, 0.01, 0.04, 0.09, 0.14),
    "CHD": (0.0005, 0.005, 0.03, 0.08, 0.12),
    "STROKE": (0.0002, 0.002, 0.012, 0.03, 0.06),
    "CANCER": (0.0005, 0.002, 0.005, 0.01, 0.012),
    "CKD5": (0.0001, 0.0003, 0.0005, 0.0008, 0.0008),
}
CHRONIC_BITS = {name: 1 << i for i, name in enumerate(CHRONIC)}

#: Annual mortality by the same age bands.
MORTALITY = (0.0008, 0.002, 0.005, 0.012, 0.05)

EMPLOYERS = [
    "县第一中学",
    "县供电公司",
    "县人民医院",
    "永宁化工有限公司",
    "县农商银行",
    "永宁建筑公司",
    "县自来水公司",
    "县邮政分公司",
    "县粮食储备库",
    "永宁食品有限公司",
]


@dataclass(frozen=True)
class Population:
    """The person table plus per-person arrays the care model needs."""

    person: pl.DataFrame
    age_years: np.ndarray  # age at the start of the period
    town: np.ndarray  # township index
    chronic: np.ndarray  # bitmask of CHRONIC conditions
    die_day: np.ndarray  # day index of death within the period, or -1
    birth_day: np.ndarray  # day index of birth within the period, or -1 (born before)
    household: np.ndarray  # household id: people at one address


def _band5(age: np.ndarray) -> np.ndarray:
    return np.digitize(age, [35, 45, 60, 70])


def build_population(
    rng: np.random.Generator,
    n: int,
    townships: pl.DataFrame,
    start: date,
    days: int,
    county: str = names.COUNTY_ADMDVS,
    county_name: str = names.COUNTY_NAME,
) -> Population:
    band = rng.choice(len(AGE_BANDS), n, p=AGE_BANDS / AGE_BANDS.sum())
    age = band * 5 + rng.integers(0, 5, n) + rng.random(n)
    age = np.where(band == len(AGE_BANDS) - 1, 85 + rng.exponential(3.5, n), age)
    born_during = rng.random(n) < 0.008 * days / 365
    birth_day = np.where(born_during, rng.integers(0, days, n), -1)
    age = np.where(born_during, -birth_day / 365.25, age)
    male = rng.random(n) < np.where(age >= 70, 0.45, 0.515)
    gend = np.where(male, "1", "2")
    start64 = np.datetime64(start, "D")
    brdy = start64 - np.round(age * 365.25).astype("timedelta64[D]")

    share = townships["share"].to_numpy()
    town = rng.choice(len(share), n, p=share)
    b5 = _band5(age)
    chronic = np.zeros(n, dtype=np.int64)
    for name, prevalence in CHRONIC.items():
        has = rng.random(n) < np.asarray(prevalence)[b5]
        chronic |= np.where(has, CHRONIC_BITS[name], 0)
    # Nobody under 15 carries an adult chronic condition here.
    chronic = np.where(age < 15, 0, chronic)
    dies = rng.random(n) < np.asarray(MORTALITY)[b5] * days / 365 * np.where(chronic > 0, 1.6, 1)
    die_day = np.where(dies & (age > 0), rng.integers(0, days, n), -1)
    die_day = np.where((birth_day >= 0) | (die_day < 0), -1, die_day)

    employee = rng.random(n) < np.select([age < 20, age < 60], [0.0, 0.22], 0.12)
    insutype = np.where(employee, "310", "390")
    psn_type = np.select(
        [employee & (age < 60), employee, age < 18], ["1101", "1102", "1502"], "1501"
    )
    emp_idx = rng.integers(0, len(EMPLOYERS), n)
    # Households: about three people share an address within a township.
    household = town * 1_000_000 + rng.integers(0, max(1, n // 3), n) % 999_983

    seq = np.arange(1, n + 1)
    admdvs = townships["admdvs"].to_numpy()[town]
    psn_no = np.char.add(county + "00", np.char.zfill(seq.astype("U10"), 10))
    township_names = townships["admdvs_name"].to_numpy()
    person = pl.DataFrame(
        {
            "psn_no": psn_no,
            "psn_name": names.person_names(rng, gend),
            "certno": names.certnos(np.full(n, county), brdy, gend, seq),
            "gend": gend,
            "brdy": brdy.astype("datetime64[D]"),
            "insutype": insutype,
            "psn_type": psn_type,
            "emp_no": np.char.add(f"E{county}", np.char.zfill(emp_idx.astype("U3"), 3)),
            "emp_name": np.array(EMPLOYERS)[emp_idx],
            "insu_admdvs": admdvs,
            "tel": names.phones(rng, n),
            "addr": np.char.add(
                np.char.add(county_name, township_names[town]),
                np.char.add((household % 997).astype("U4"), "号"),
            ),
            "die_date": np.where(
                die_day >= 0, start64 + die_day.astype("timedelta64[D]"), np.datetime64("NaT")
            ).astype("datetime64[D]"),
        }
    ).with_columns(
        pl.when(pl.Series(employee)).then(pl.col(c)).otherwise(None).alias(c)
        for c in ("emp_no", "emp_name")
    )
    return Population(
        person=person,
        age_years=age,
        town=town,
        chronic=chronic,
        die_day=die_day,
        birth_day=birth_day,
        household=household,
    )
