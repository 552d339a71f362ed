"""Feature sets of institutions, doctors and persons for the outlier detectors.

Each set has one row per entity and period — an institution-month, a doctor-month (the
doctor who billed the lines, ``bilg_dr_codg``, outpatient lines only), a person-quarter
(outpatient and pharmacy claims only: inpatient stays have rules of their own) — computed
in DuckDB from the scoring database's ``visit`` and ``line``, with the keys its peers are
grouped by and its support (the visits behind it). A period's features depend on that
period's claims only, so an incremental run that reloads the period gets the same values.

Every feature is one where *more* is the suspicious direction (cost per visit, drugs per
visit, visits, institutions a person used...), and each names the claim lines behind it
and how its excess over the peers is priced on ``inscp_amt``:

- ``rate`` (an amount or count per visit, day or person): the lines' in-scope amount ×
  (1 − peer median / value), the part a peer-median entity would not have billed;
- ``share`` (a part of a total): the part's in-scope amount beyond what the peer median
  share of the same remainder would be, × (1 − m(1 − v) / (v(1 − m)));
- ``none``: a pattern (night visits, month-end purchases) whose excess is no honest amount.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from hrss_fraud.detectors.diagnosis_groups import group_sql

DRUG = "l.med_chrgitm_type IN ('09', '10', '11')"
SERVICE = "l.med_chrgitm_type IN ('03', '04', '05')"
OUTPATIENT = "l.setting IN ('op', 'ph')"


@dataclass(frozen=True)
class Feature:
    """One column of a feature set and how a lead explains and prices it."""

    name: str
    zh: str
    en: str
    pricing: str
    """``rate``, ``share`` or ``none`` (see the module doc)."""
    lines: str
    """SQL condition on ``line l`` (joined to its ``visit v``) naming the lines behind it."""
    log: bool = False
    """Compared on a log scale (amounts and counts are skewed)."""
    percent: bool = False
    """Shown as a percentage."""
    money: bool = False
    """Shown in yuan."""


@dataclass(frozen=True)
class FeatureSet:
    """An entity kind's features: the SQL that computes them and how leads are keyed."""

    kind: str
    key: str
    """The entity's column (``fixmedins_code``, ``bilg_dr_codg``, ``psn_no``)."""
    period: str
    """``month`` or ``quarter``."""
    peer_levels: tuple[tuple[str, ...], ...]
    """Peer groups from finest to coarsest (the last, ``()``, is everyone)."""
    features: tuple[Feature, ...]
    sql: str
    """Columns: key, ``period``, ``period_start``, the peer columns, ``support`` (visits),
    ``fixmedins_code`` (the entity's institution, for the evidence) and the features."""
    line_filter: str
    """SQL condition tying ``line l`` to the lead's entity-period ``f``."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def feature(self, name: str) -> Feature:
        return next(f for f in self.features if f.name == name)


_MONTH = "date_trunc('month', v.begntime)"
_QUARTER = "date_trunc('quarter', v.begntime)"

INSTITUTION = FeatureSet(
    kind="institution",
    key="fixmedins_code",
    period="month",
    peer_levels=(
        ("medins_type", "hosp_lv"),
        ("fixmedins_type", "hosp_lv"),
        ("fixmedins_type",),
        (),
    ),
    features=(
        Feature(
            "op_cost_per_visit",
            "门诊人次均费用",
            "outpatient cost per visit",
            "rate",
            OUTPATIENT,
            log=True,
            money=True,
        ),
        Feature(
            "op_lines_per_visit",
            "门诊人次均明细条数",
            "outpatient lines per visit",
            "rate",
            OUTPATIENT,
        ),
        Feature(
            "op_drugs_per_visit",
            "门诊人次均药品条数",
            "outpatient drug lines per visit",
            "rate",
            f"{OUTPATIENT} AND {DRUG}",
        ),
        Feature(
            "op_services_per_visit",
            "门诊人次均检查化验治疗条数",
            "outpatient exam, lab and treatment lines per visit",
            "rate",
            f"{OUTPATIENT} AND {SERVICE}",
        ),
        Feature(
            "ip_cost_per_day",
            "住院床日均费用",
            "inpatient cost per bed day",
            "rate",
            "l.setting = 'ip'",
            log=True,
            money=True,
        ),
        Feature("drug_share", "药品费用占比", "drug share of cost", "share", DRUG, percent=True),
        Feature("visits_per_patient", "人均就诊次数", "visits per patient", "rate", OUTPATIENT),
        Feature(
            "visits_per_doctor_day",
            "医师日均接诊人次",
            "visits per doctor-day",
            "rate",
            "l.setting = 'op'",
        ),
        Feature(
            "acct_no_cash_share",
            "个人账户支付且无现金自付人次占比",
            "share of visits paid from the personal account with no cash",
            "none",
            f"{OUTPATIENT} AND v.acct_pay > 0 AND v.psn_cash_pay <= 0",
            percent=True,
        ),
        Feature(
            "night_weekend_share",
            "夜间及周末就诊占比",
            "night and weekend share of visits",
            "none",
            f"{OUTPATIENT} AND (hour(v.begntime) >= 22 OR hour(v.begntime) < 6 "
            "OR dayofweek(v.begntime) IN (0, 6))",
            percent=True,
        ),
        Feature(
            "month_end_share",
            "月末三日就诊占比",
            "share of visits in a month's last 3 days",
            "none",
            f"{OUTPATIENT} AND day(v.begntime) > day(last_day(v.begntime)) - 3",
            percent=True,
        ),
    ),
    sql=f"""
        WITH vv AS (
            SELECT v.*, {_MONTH} AS period,
                   setting IN ('op', 'ph') AS opv,
                   CAST(medfee_sumamt AS DOUBLE) AS cost
            FROM visit v
        ),
        lm AS (
            SELECT l.fixmedins_code, date_trunc('month', l.begntime) AS period,
                   count(*) FILTER (WHERE {OUTPATIENT}) AS op_lines,
                   count(*) FILTER (WHERE {OUTPATIENT} AND {DRUG}) AS op_drugs,
                   count(*) FILTER (WHERE {OUTPATIENT} AND {SERVICE}) AS op_services,
                   sum(CAST(l.det_item_fee_sumamt AS DOUBLE)) FILTER (WHERE {DRUG}) AS drug_cost,
                   sum(CAST(l.det_item_fee_sumamt AS DOUBLE)) AS line_cost
            FROM line_base l GROUP BY ALL
        ),
        vm AS (
            SELECT fixmedins_code, period,
                   max(medins_type) AS medins_type, max(hosp_lv) AS hosp_lv,
                   CAST(max(fixmedins_type) AS VARCHAR) AS fixmedins_type,
                   count(*) AS support,
                   count(*) FILTER (WHERE opv) AS op_visits,
                   sum(cost) FILTER (WHERE opv) AS op_cost,
                   sum(cost) FILTER (WHERE setting = 'ip') AS ip_cost,
                   sum(greatest(stay_days, 1)) FILTER (WHERE setting = 'ip') AS ip_days,
                   count(DISTINCT psn_no) FILTER (WHERE opv) AS op_patients,
                   count(DISTINCT chfpdr_code || '|' || CAST(begntime AS DATE))
                       FILTER (WHERE setting = 'op' AND chfpdr_code IS NOT NULL) AS doctor_days,
                   count(*) FILTER (WHERE setting = 'op' AND chfpdr_code IS NOT NULL)
                       AS doctor_visits,
                   count(*) FILTER (WHERE opv AND acct_pay > 0 AND psn_cash_pay <= 0)
                       AS acct_no_cash,
                   count(*) FILTER (WHERE opv AND (hour(begntime) >= 22 OR hour(begntime) < 6
                                    OR dayofweek(begntime) IN (0, 6))) AS night_weekend,
                   count(*) FILTER (WHERE opv
                                    AND day(begntime) > day(last_day(begntime)) - 3) AS month_end
            FROM vv GROUP BY fixmedins_code, period
        )
        SELECT vm.fixmedins_code, strftime(vm.period, '%Y-%m') AS period,
               CAST(vm.period AS DATE) AS period_start,
               coalesce(medins_type, '') AS medins_type, coalesce(hosp_lv, '') AS hosp_lv,
               coalesce(fixmedins_type, '') AS fixmedins_type, support,
               op_cost / nullif(op_visits, 0) AS op_cost_per_visit,
               op_lines / nullif(op_visits, 0) AS op_lines_per_visit,
               op_drugs / nullif(op_visits, 0) AS op_drugs_per_visit,
               op_services / nullif(op_visits, 0) AS op_services_per_visit,
               ip_cost / nullif(ip_days, 0) AS ip_cost_per_day,
               drug_cost / nullif(line_cost, 0) AS drug_share,
               op_visits / nullif(op_patients, 0) AS visits_per_patient,
               doctor_visits / nullif(doctor_days, 0) AS visits_per_doctor_day,
               acct_no_cash / nullif(op_visits, 0) AS acct_no_cash_share,
               night_weekend / nullif(op_visits, 0) AS night_weekend_share,
               month_end / nullif(op_visits, 0) AS month_end_share
        FROM vm LEFT JOIN lm USING (fixmedins_code, period)
    """,
    line_filter="l.fixmedins_code = f.fixmedins_code",
)

DOCTOR = FeatureSet(
    kind="doctor",
    key="bilg_dr_codg",
    period="month",
    peer_levels=(("medins_type", "hosp_lv"), ("fixmedins_type",), ()),
    features=(
        Feature("visits_per_day", "日均接诊人次", "visits per working day", "rate", "true"),
        Feature(
            "peak_day_visits",
            "单日最高接诊人次",
            "visits on the busiest day",
            "rate",
            "true",
            log=True,
        ),
        Feature(
            "cost_per_visit", "人次均费用", "cost per visit", "rate", "true", log=True, money=True
        ),
        Feature("lines_per_visit", "人次均明细条数", "lines per visit", "rate", "true"),
        Feature("drugs_per_visit", "人次均药品条数", "drug lines per visit", "rate", DRUG),
        Feature(
            "services_per_visit",
            "人次均检查化验治疗条数",
            "exam, lab and treatment lines per visit",
            "rate",
            SERVICE,
        ),
        Feature("visits_per_patient", "人均就诊次数", "visits per patient", "rate", "true"),
    ),
    sql="""
        WITH l AS (
            SELECT bilg_dr_codg, fixmedins_code, setl_id, psn_no, medins_type, hosp_lv,
                   fixmedins_type, CAST(begntime AS DATE) AS d,
                   date_trunc('month', begntime) AS period,
                   med_chrgitm_type IN ('09', '10', '11') AS drug,
                   med_chrgitm_type IN ('03', '04', '05') AS service,
                   CAST(det_item_fee_sumamt AS DOUBLE) AS cost
            FROM line_base WHERE setting = 'op' AND bilg_dr_codg IS NOT NULL
        ),
        day AS (
            SELECT bilg_dr_codg, period, d, count(DISTINCT fixmedins_code || '|' || setl_id) AS n
            FROM l GROUP BY ALL
        ),
        dm AS (
            SELECT bilg_dr_codg, period, count(*) AS days, sum(n) AS day_visits,
                   max(n) AS peak
            FROM day GROUP BY ALL
        ),
        m AS (
            SELECT bilg_dr_codg, period, min(fixmedins_code) AS fixmedins_code,
                   max(medins_type) AS medins_type, max(hosp_lv) AS hosp_lv,
                   CAST(max(fixmedins_type) AS VARCHAR) AS fixmedins_type,
                   count(DISTINCT fixmedins_code || '|' || setl_id) AS support,
                   count(DISTINCT psn_no) AS patients, count(*) AS n_lines,
                   count(*) FILTER (WHERE drug) AS drugs,
                   count(*) FILTER (WHERE service) AS services, sum(cost) AS cost
            FROM l GROUP BY ALL
        )
        SELECT m.bilg_dr_codg, strftime(m.period, '%Y-%m') AS period,
               CAST(m.period AS DATE) AS period_start, fixmedins_code,
               coalesce(medins_type, '') AS medins_type, coalesce(hosp_lv, '') AS hosp_lv,
               coalesce(fixmedins_type, '') AS fixmedins_type, support,
               day_visits / days AS visits_per_day, CAST(peak AS DOUBLE) AS peak_day_visits,
               cost / support AS cost_per_visit, n_lines / support AS lines_per_visit,
               drugs / support AS drugs_per_visit, services / support AS services_per_visit,
               support / patients AS visits_per_patient
        FROM m JOIN dm USING (bilg_dr_codg, period)
    """,
    line_filter="l.bilg_dr_codg = f.bilg_dr_codg AND l.setting = 'op'",
)

_SCHEDULED = "('DIALYSIS', 'CHEMO')"

PERSON = FeatureSet(
    kind="person",
    key="psn_no",
    period="quarter",
    peer_levels=(("age_band", "care"), ("age_band",), ()),
    features=(
        Feature(
            "visits", "门诊及购药次数", "outpatient visits and purchases", "rate", "true", log=True
        ),
        Feature("institutions", "就诊机构数", "institutions used", "none", "true"),
        Feature(
            "same_day_days",
            "同日多次就诊天数",
            "days with two or more visits",
            "none",
            "v.psn_no || CAST(CAST(v.begntime AS DATE) AS VARCHAR) "
            "IN (SELECT k FROM _outlier_same_day)",
        ),
        Feature("inscp", "医保范围内费用", "in-scope cost", "rate", "true", log=True, money=True),
        Feature(
            "drug_inscp",
            "药品医保范围内费用",
            "in-scope drug cost",
            "rate",
            DRUG,
            log=True,
            money=True,
        ),
        Feature(
            "pharmacy_share",
            "药店购药次数占比",
            "share of visits that are pharmacy purchases",
            "share",
            "l.setting = 'ph'",
            percent=True,
        ),
    ),
    sql=f"""
        WITH vv AS (
            SELECT v.psn_no, v.fixmedins_code, v.setl_id, v.setting, v.age_days,
                   CAST(v.begntime AS DATE) AS d, {_QUARTER} AS period,
                   CAST(v.inscp_amt AS DOUBLE) AS inscp,
                   CAST(v.chronic AS VARCHAR) IN ('1', 'true') AS chronic,
                   {group_sql("v.dise_group", "v.dise_codg")} IN {_SCHEDULED} AS scheduled
            FROM visit v WHERE v.setting IN ('op', 'ph')
        ),
        drug AS (
            SELECT l.psn_no, date_trunc('quarter', l.begntime) AS period,
                   sum(CAST(l.inscp_amt AS DOUBLE)) AS drug_inscp
            FROM line_base l WHERE {OUTPATIENT} AND {DRUG} GROUP BY ALL
        ),
        days AS (
            SELECT psn_no, period, count(*) FILTER (WHERE n > 1) AS same_day_days
            FROM (SELECT psn_no, period, d, count(*) AS n FROM vv GROUP BY ALL) GROUP BY ALL
        ),
        pq AS (
            SELECT psn_no, period, count(*) AS support,
                   count(DISTINCT fixmedins_code) AS institutions, sum(inscp) AS inscp,
                   count(*) FILTER (WHERE setting = 'ph') / count(*) AS pharmacy_share,
                   min(age_days) AS age_days, bool_or(chronic) AS chronic,
                   bool_or(scheduled) AS scheduled, min(fixmedins_code) AS fixmedins_code
            FROM vv GROUP BY ALL
        )
        SELECT pq.psn_no, strftime(pq.period, '%Y-Q') || CAST(quarter(pq.period) AS VARCHAR)
                   AS period,
               CAST(pq.period AS DATE) AS period_start, fixmedins_code,
               CASE WHEN age_days IS NULL THEN 'unknown' WHEN age_days < 15 * 365 THEN '0-14'
                    WHEN age_days < 45 * 365 THEN '15-44' WHEN age_days < 60 * 365 THEN '45-59'
                    WHEN age_days < 75 * 365 THEN '60-74' ELSE '75+' END AS age_band,
               CASE WHEN scheduled THEN 'scheduled' WHEN chronic THEN 'chronic' ELSE 'none' END
                   AS care,
               support, CAST(support AS DOUBLE) AS visits,
               CAST(institutions AS DOUBLE) AS institutions,
               CAST(coalesce(same_day_days, 0) AS DOUBLE) AS same_day_days, inscp,
               coalesce(drug_inscp, 0.0) AS drug_inscp, pharmacy_share
        FROM pq LEFT JOIN drug USING (psn_no, period) LEFT JOIN days USING (psn_no, period)
    """,
    line_filter=f"l.psn_no = f.psn_no AND {OUTPATIENT}",
)

SETS = {s.kind: s for s in (INSTITUTION, DOCTOR, PERSON)}


def compute(con: duckdb.DuckDBPyConnection, fs: FeatureSet) -> pl.DataFrame:
    """The feature set's rows, in key and period order (a fixed order keeps models and
    fingerprints reproducible)."""
    df = con.sql(fs.sql).pl()
    floats = {f: pl.col(f).cast(pl.Float64) for f in fs.names}
    return df.with_columns(**floats).sort(fs.key, "period")


def period_sql(fs: FeatureSet, col: str) -> str:
    """The SQL expression of a timestamp's period label, as :func:`compute` writes it."""
    if fs.period == "quarter":
        start = f"date_trunc('quarter', {col})"
        return f"strftime({start}, '%Y-Q') || CAST(quarter({start}) AS VARCHAR)"
    return f"strftime({col}, '%Y-%m')"


def behind_lines(
    con: duckdb.DuckDBPyConnection, fs: FeatureSet, named: pl.DataFrame
) -> pl.DataFrame:
    """The claim lines behind each named feature of each lead: ``named`` has the set's key,
    ``period`` and ``feature``; the result one row per line and feature with the line's
    columns and in-scope amount."""
    if named.filter(pl.col("feature") == "same_day_days").height:
        same_day_keys(con)
    parts = []
    for feat in fs.features:
        leads = named.filter(pl.col("feature") == feat.name).select(fs.key, "period").unique()
        if leads.is_empty():
            continue
        con.register("_outlier_leads", leads)
        try:
            df = con.sql(f"""
                SELECT f.{fs.key}, f.period, l.fixmedins_code, l.psn_no, l.setl_id,
                       l.mdtrt_id, l.feedetl_sn, l.fee_ocur_time,
                       CAST(l.inscp_amt AS DOUBLE) AS inscp
                FROM line l
                JOIN _outlier_leads f ON {fs.line_filter}
                     AND {period_sql(fs, "l.begntime")} = f.period
                JOIN visit v ON v.fixmedins_code = l.fixmedins_code AND v.setl_id = l.setl_id
                WHERE {feat.lines}
            """).pl()
        finally:
            con.unregister("_outlier_leads")
        parts.append(df.with_columns(feature=pl.lit(feat.name)))
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts)


def same_day_keys(con: duckdb.DuckDBPyConnection) -> None:
    """The person-days with two or more outpatient or pharmacy visits, which the person
    feature ``same_day_days`` names as its lines (``_outlier_same_day``)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _outlier_same_day AS
        SELECT psn_no || CAST(CAST(begntime AS DATE) AS VARCHAR) AS k
        FROM visit WHERE setting IN ('op', 'ph')
        GROUP BY psn_no, CAST(begntime AS DATE) HAVING count(*) > 1
    """)
