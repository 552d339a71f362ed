"""The files of the sample county's employers, written the way a collection system
exports them: the monthly contribution filings (alternately GBK with Chinese headers and
UTF-8), the filings, the statements as Excel, and the centre's reference lists.

What goes in them is drawn by :mod:`hrss_fraud.synth.employers`; here the months and their
wage limits, and the rows and files made from the draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.output import render, write_atomic

#: The county's average monthly wage in 2025, growing by WAGE_GROWTH a year.
AVG_WAGE_2025 = 7000.0
WAGE_GROWTH = 0.05
#: The county's base limits as shares of the average wage (the national norm).
FLOOR_SHARE, CEILING_SHARE = 0.6, 3.0


@dataclass(frozen=True)
class Calendar:
    """The generated months and each month's average wage, floor and ceiling."""

    months: list[date]

    @classmethod
    def of(cls, cfg: SynthConfig) -> Calendar:
        y, m = cfg.start.year, cfg.start.month
        return cls(
            [date(y + (m - 1 + k) // 12, (m - 1 + k) % 12 + 1, 1) for k in range(cfg.months)]
        )

    @property
    def years(self) -> list[int]:
        return sorted({d.year for d in self.months})

    def avg_wage(self, year: int) -> float:
        return round(AVG_WAGE_2025 * (1 + WAGE_GROWTH) ** (year - 2025), 2)

    def floor(self) -> np.ndarray:
        return np.array([round(self.avg_wage(d.year) * FLOOR_SHARE, 2) for d in self.months])

    def ceiling(self) -> np.ndarray:
        return np.array([round(self.avg_wage(d.year) * CEILING_SHARE, 2) for d in self.months])

    def day(self, month: int, day: int) -> date:
        return self.months[month] + timedelta(days=int(day) - 1)

    def last_day(self, month: int) -> date:
        nxt = self.months[month].replace(day=28) + timedelta(days=4)
        return nxt - timedelta(days=nxt.day)


def contributions(
    cal: Calendar,
    staff: pl.DataFrame,
    emp: np.ndarray,
    wage: np.ndarray,
    floor: np.ndarray,
    ceiling: np.ndarray,
    start_m: np.ndarray,
    end_m: np.ndarray,
    hidden: np.ndarray,
    mode: np.ndarray,
    factor: np.ndarray,
    factor_from: np.ndarray,
    all_floor: np.ndarray,
    extra_rows: list[dict],
    employers: pl.DataFrame,
) -> pl.DataFrame:
    """One row per staff member, employer and month declared."""
    n, n_months = len(emp), len(cal.months)
    i = np.repeat(np.arange(n), n_months)
    m = np.tile(np.arange(n_months), n)
    keep = (m >= start_m[i]) & (m <= end_m[i]) & ~hidden[i]
    i, m = i[keep], m[keep]
    base = np.clip(wage[i], floor[m], ceiling[m])
    base = np.where(all_floor[i], floor[m], base)
    changed = m >= factor_from[i]
    base = np.where(changed & (mode[i] == 1), floor[m] * factor[i], base)
    base = np.where(changed & (mode[i] == 2), base * factor[i], base)
    e = emp[i]
    if extra_rows:
        x = pl.DataFrame(
            extra_rows, schema={"i": pl.Int64, "emp": pl.Int64, "m": pl.Int64, "base": pl.Float64}
        )
        xi, xm = x["i"].to_numpy(), x["m"].to_numpy()
        xb = x["base"].fill_null(np.nan).to_numpy()
        xb = np.where(np.isnan(xb), np.clip(wage[xi], floor[xm], ceiling[xm]), xb)
        i, m, e = (
            np.concatenate([i, xi]),
            np.concatenate([m, xm]),
            np.concatenate([e, x["emp"].to_numpy()]),
        )
        base = np.concatenate([base, xb])
    base = np.round(base)
    cashym = np.array([d.strftime("%Y%m") for d in cal.months])
    return pl.DataFrame(
        {
            "emp_no": employers["emp_no"].to_numpy()[e],
            "psn_no": staff["psn_no"].to_numpy()[i],
            "psn_name": staff["psn_name"].to_numpy()[i],
            "certno": staff["certno"].to_numpy()[i],
            "insutype": "310",
            "psn_type": "1101",
            "cashym": cashym[m],
            "psn_clctstd": base,
            "wag": np.round(wage[i]),
            "emp_clct_amt": np.round(base * 0.06, 2),
            "psn_clct_amt": np.round(base * 0.02, 2),
        }
    ).sort("cashym", "emp_no", "psn_no")


def statements(
    cal: Calendar,
    emp: np.ndarray,
    wage: np.ndarray,
    start_m: np.ndarray,
    end_m: np.ndarray,
    plus: np.ndarray,
    employers: pl.DataFrame,
) -> pl.DataFrame:
    """Per employer and year: the average headcount over the generated months and the
    payroll, as a whole year's."""
    rows = []
    months = np.array([d.year for d in cal.months])
    n_emp = employers.height
    mean_wage = np.bincount(emp, weights=wage, minlength=n_emp) / np.maximum(
        np.bincount(emp, minlength=n_emp), 1
    )
    for year in cal.years:
        ms = np.flatnonzero(months == year)
        worked = np.clip(np.minimum(end_m, ms[-1]) - np.maximum(start_m, ms[0]) + 1, 0, None)
        heads = np.bincount(emp, weights=worked, minlength=n_emp) / len(ms)
        pay = np.bincount(emp, weights=wage * worked, minlength=n_emp) * 12 / len(ms)
        pay = pay + plus * mean_wage * 12
        has = heads > 0
        rows.append(
            pl.DataFrame(
                {
                    "emp_no": employers["emp_no"].to_numpy()[has],
                    "year": np.full(has.sum(), year, dtype=np.int32),
                    "wag_sumamt": np.round(pay[has], 2),
                    "emp_cnt": (np.round(heads[has]) + plus[has]).astype(np.int32),
                }
            )
        )
    return pl.concat(rows)


def write_files(
    out: Path,
    cal: Calendar,
    employers: pl.DataFrame,
    contrib: pl.DataFrame,
    events: pl.DataFrame,
    stmt: pl.DataFrame,
    deaths: list[tuple[str, date]],
    staff: pl.DataFrame,
    person: pl.DataFrame,
    truth: list[tuple[str, str, str]],
    rng: np.random.Generator,
) -> None:
    """Every employer file under ``out/enrolment``, the truth under ``out/truth``."""
    folder = out / "enrolment"
    folder.mkdir(parents=True, exist_ok=True)

    def put(name: str, df: pl.DataFrame, table: str, fmt: str = "utf8") -> None:
        write_atomic(folder / name, render(df, table, fmt), durable=False)

    put("employer.csv", employers, "employer")
    wages = pl.DataFrame({"year": cal.years, "avg_wage": [cal.avg_wage(y) for y in cal.years]})
    put("avg_wage.csv", wages, "avg_wage")
    put("emp_fin_stmt.xlsx", stmt, "emp_fin_stmt", "xlsx")
    put("insu_event.csv", events, "insu_event")
    # a collection system's monthly export: alternately GBK with Chinese headers and UTF-8
    for k, (ym, part) in enumerate(
        contrib.partition_by("cashym", as_dict=True, maintain_order=True).items()
    ):
        put(
            f"emp_contribution_{ym[0]}.csv", part, "emp_contribution", "gbk_zh" if k % 2 else "utf8"
        )
    dead = pl.DataFrame(deaths, schema={"psn_no": pl.String, "die_date": pl.Date}, orient="row")
    dead = dead.join(staff.select("psn_no", "psn_name", "certno"), on="psn_no", how="left")
    put("death.csv", dead, "death")
    retirees = person.filter((pl.col("insutype") == "310") & (pl.col("psn_type") == "1102"))
    pension = pl.concat(
        [
            retirees.select(
                "psn_no",
                "emp_no",
                year=pl.lit(year, pl.Int32),
                pension_amt=pl.Series(
                    np.round(cal.avg_wage(year) * rng.uniform(0.4, 0.9, retirees.height), 2)
                ),
                retr_date=pl.col("brdy").dt.offset_by("60y"),
            )
            for year in cal.years
        ]
    )
    put("retiree_pension.csv", pension, "retiree_pension")
    (out / "truth").mkdir(parents=True, exist_ok=True)
    pl.DataFrame(truth, schema=["check", "kind", "key"], orient="row").write_parquet(
        out / "truth" / "enrolment.parquet"
    )
