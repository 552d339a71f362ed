"""The peer-profile indicators (PEPPER-style): what each measures, per visit and per line.

An indicator is the ratio Σ ``v_num`` / Σ ``v_den`` over the visits of a unit (an
institution, or a doctor, in one care setting and calendar month). Each indicator gives two
SQL texts over the scoring database's ``line`` and ``visit``:

- ``visits``: one row per visit with the unit's keys and ``v_num``, ``v_den`` and
  ``v_basis`` — the in-scope amount (``inscp_amt``) the numerator stands for, of which the
  share above the peers is at risk;
- ``lines``: the lines that can make up an excess in the units of ``_pp_flag`` (unit,
  setting, month, ``peer_median``), each with ``weight``, its own amount beyond what a
  peer-typical unit bills; the excess is shared over them in proportion.

"Usual" quantities and prices are medians over the institutions of the same level and care
setting, so a county hospital's longer courses are not held against a village clinic's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from hrss_fraud.knowledge.treatment import outside

DRUG_TYPES = ("101", "102", "103", "104")
SERVICE_CHRGITM = ("03", "04", "05")
"""检查费, 化验费, 治疗费: the services a phantom or induced line is usually billed as."""


@dataclass(frozen=True)
class Indicator:
    name: str
    zh: str
    en: str
    unit_zh: str
    unit_en: str
    per_visit: bool
    """A per-visit mean (Σ over a visit / visits): its month-over-month change can be tested
    against the spread of the visits themselves."""
    entity: str = "institution"
    percent: bool = False


INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in (
        Indicator("cost_per_visit", "次均费用", "in-scope cost per visit", "元", "yuan", True),
        Indicator(
            "services_per_visit",
            "次均检查检验治疗项目数",
            "exam, lab and treatment lines per visit",
            "项",
            "lines",
            True,
        ),
        Indicator(
            "services_casemix",
            "病种调整后检查检验治疗项目数指数",
            "exam, lab and treatment lines against the peers' for the same diagnoses",
            "",
            "",
            False,
        ),
        Indicator(
            "drugs_per_visit", "次均药品品种数", "distinct drugs per visit", "种", "drugs", True
        ),
        Indicator(
            "quantity_index",
            "超常用量明细占比",
            "share of drug and treatment lines at a high multiple of the usual quantity",
            "",
            "",
            False,
            percent=True,
        ),
        Indicator(
            "price_mix_index",
            "同组项目价格指数",
            "price-mix index (billed item's price against the usual item of its group)",
            "",
            "",
            False,
        ),
        Indicator(
            "price_casemix",
            "病种调整后同组项目价格比",
            "mean price relative against the peers' items of the same group for the same diagnoses",
            "",
            "",
            False,
        ),
        Indicator(
            "max_price_share",
            "最高价项目占比",
            "share of lines billed at the dearest item of their group",
            "",
            "",
            False,
            percent=True,
        ),
        Indicator("visits_per_patient", "人次人头比", "visits per patient", "次/人", "", False),
        Indicator(
            "night_weekend_share",
            "夜间及周末就诊占比",
            "share of visits at night or at the weekend",
            "",
            "",
            False,
            percent=True,
        ),
        Indicator(
            "patients_per_doctor_day",
            "医师日均接诊人次",
            "visits per doctor per working day",
            "人次",
            "visits",
            False,
            "doctor",
        ),
    )
}


_PERIOD = (
    "CAST(date_trunc(CASE WHEN setting = 'ip' THEN 'quarter' ELSE 'month' END, begntime) AS DATE)"
)
"""Inpatient stays are compared by quarter: a township centre has a handful a month."""
PERIODS = ("month", "quarter")


def period_sql(period: str = "month") -> str:
    """The unit's period: ``month`` (inpatient stays by quarter, as :data:`_PERIOD`) or
    ``quarter`` for every setting (a small unit's months pooled: fewer, firmer figures)."""
    if period == "month":
        return _PERIOD
    if period == "quarter":
        return "CAST(date_trunc('quarter', begntime) AS DATE)"
    msg = f"unknown peer-profile period {period!r}; choose one of {', '.join(PERIODS)}"
    raise ValueError(msg)


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


BASE_TABLE = "_pp_base"
"""The scoring database's lines with their unit keys, made once per database by
:func:`base_table` and read by every peer-profile rule."""


def base_sql() -> str:
    """The lines of every setting with their unit keys and the visit's diagnosis group; an
    item's classification is the catalogue's, the uploaded one for an item it does not
    know.

    Where the knowledge base lacks our groupings (a centre's own catalogue and diagnoses),
    an item's group is its charge item type (``chrgitm_07`` 护理费, ``chrgitm_01`` 床位费,
    ``chrgitm_03`` 检查费: the price groups can name them) and a visit's diagnosis group is
    the ICD-10 category of its main diagnosis (``I10``, first three characters)."""
    return """
        SELECT l.fixmedins_code, l.setting, l.begntime,
               coalesce(medins_type, '') AS medins_type, coalesce(hosp_lv, '') AS hosp_lv,
               coalesce(dise_group, left(trim(dise_codg), 3), '') AS dise_group,
               setl_id, mdtrt_id, psn_no, feedetl_sn, fee_ocur_time AS line_time,
               CAST(l.inscp_amt AS DOUBLE) AS inscp, CAST(l.cnt AS DOUBLE) AS cnt,
               l.med_list_codg,
               coalesce(l.item_group,
                        'chrgitm_' || coalesce(c.med_chrgitm_type, l.med_chrgitm_type))
                   AS item_group,
               coalesce(c.list_type, l.list_type) AS list_type,
               coalesce(c.med_chrgitm_type, l.med_chrgitm_type) AS med_chrgitm_type,
               CAST(coalesce(l.ref_pric, l.pric) AS DOUBLE) AS price
        FROM line l LEFT JOIN kb_catalogue c ON c.med_list_codg = l.med_list_codg"""


def base_table(con: duckdb.DuckDBPyConnection) -> str:
    """:func:`base_sql` made a table once per scoring database (the rules each read it
    twice, for their units and for the flagged units' lines), named for the number of lines
    it was made from so that a database rebuilt in place is not read stale."""
    n = con.execute("SELECT count(*) FROM line").fetchone()
    name = f"{BASE_TABLE}_{int(n[0]) if n else 0}"
    con.execute(f"CREATE TABLE IF NOT EXISTS {name} AS {base_sql()}")
    return name


def _base(settings: list[str], period: str = "month", source: str | None = None) -> str:
    """The lines of the chosen settings with their unit keys and period (a CTE body), from
    the table ``source`` (:func:`base_table`) or else computed in place."""
    src = source or f"({base_sql()})"
    return f"""
        SELECT fixmedins_code AS unit, *, {period_sql(period)} AS month
        FROM {src} WHERE setting IN {_in(settings)}"""


_KEYS = "unit, fixmedins_code, setting, month, medins_type, hosp_lv, setl_id"
_LINE_OUT = "unit, setting, month, fixmedins_code, setl_id, mdtrt_id, psn_no, feedetl_sn, line_time"
_FLAGGED = "SEMI JOIN _pp_flag f USING (unit, setting, month)"
_JOINED_LINE = (
    "l.fixmedins_code, l.setl_id, l.mdtrt_id, l.psn_no, l.feedetl_sn, l.fee_ocur_time AS line_time"
)


def _simple(base: str, num: str, basis: str, cand: str) -> tuple[str, str]:
    """A per-visit count of the lines matching ``cand`` (``num`` may count them another
    way); the excess lies in those lines."""
    visits = f"""
        WITH b AS ({base})
        SELECT {_KEYS}, {num} AS v_num, 1.0 AS v_den, {basis} AS v_basis
        FROM b GROUP BY ALL"""
    lines = f"""
        WITH b AS ({base})
        SELECT {_LINE_OUT}, inscp AS weight FROM b {_FLAGGED} WHERE {cand}"""
    return visits, lines


def _cost(base: str) -> tuple[str, str]:
    visits = f"""
        WITH b AS ({base})
        SELECT {_KEYS}, sum(inscp) AS v_num, 1.0 AS v_den, sum(inscp) AS v_basis
        FROM b GROUP BY ALL"""
    # the lines of the visits dearer than the peers' mean visit, each its share of the part
    # of its visit's cost above that
    lines = f"""
        WITH b AS ({base}),
        s AS (SELECT b.*, sum(inscp) OVER (PARTITION BY fixmedins_code, setl_id) AS vc
              FROM b {_FLAGGED})
        SELECT {_LINE_OUT}, s.inscp * (s.vc - f.peer_median) / s.vc AS weight
        FROM s JOIN _pp_flag f USING (unit, setting, month)
        WHERE s.vc > f.peer_median AND s.inscp > 0"""
    return visits, lines


def _quantity(base: str, factor: float) -> tuple[str, str]:
    eligible = f"(list_type IN {_in(DRUG_TYPES)} OR med_chrgitm_type = '05')"
    usual = f"""
        b AS ({base}),
        q AS (SELECT setting, hosp_lv, med_list_codg, median(cnt) AS usual
              FROM b WHERE {eligible} GROUP BY ALL),
        x AS (SELECT b.*, q.usual FROM b JOIN q USING (setting, hosp_lv, med_list_codg)
              WHERE {eligible})"""
    over = "inscp * (cnt - usual) / cnt"
    visits = f"""
        WITH {usual}
        SELECT {_KEYS}, count(*) FILTER (WHERE cnt >= {factor} * usual) AS v_num,
               count(*) AS v_den, coalesce(sum({over}) FILTER (WHERE cnt > usual), 0) AS v_basis
        FROM x GROUP BY ALL"""
    lines = f"""
        WITH {usual}
        SELECT {_LINE_OUT}, {over} AS weight FROM x {_FLAGGED} WHERE cnt > usual"""
    return visits, lines


def _price(base: str, groups: list[str], dearest: bool) -> tuple[str, str]:
    usual = f"""
        b AS ({base}),
        g AS (SELECT setting, hosp_lv, item_group, median(price) AS usual,
                     max(price) AS top
              FROM b WHERE item_group IN {_in(groups)} AND price > 0 GROUP BY ALL),
        x AS (SELECT b.*, g.usual, g.top FROM b JOIN g USING (setting, hosp_lv, item_group)
              WHERE b.price > 0)"""
    over = "inscp * (1 - usual / price)"
    if dearest:
        num, den = "count(*) FILTER (WHERE price >= top AND top > usual)", "count(*)"
        basis = f"coalesce(sum({over}) FILTER (WHERE price >= top AND top > usual), 0)"
        cand = "price >= top AND top > usual"
    else:
        num, den = "sum(cnt * price)", "sum(cnt * usual)"
        basis, cand = "sum(inscp)", "price > usual"
    visits = f"""
        WITH {usual}
        SELECT {_KEYS}, {num} AS v_num, {den} AS v_den, {basis} AS v_basis
        FROM x GROUP BY ALL"""
    lines = f"""
        WITH {usual}
        SELECT {_LINE_OUT}, {over} AS weight FROM x {_FLAGGED} WHERE {cand}"""
    return visits, lines


def _visit_level(
    settings: list[str], period: str, flag: str, kind: str, exclude: list[str] | None = None
) -> tuple[str, str]:
    """Indicators of whole visits (``flag`` marks the visits in the numerator); visits of a
    treatment class in ``exclude`` are left out (:mod:`hrss_fraud.knowledge.treatment`)."""
    v = f"""
        v AS (SELECT fixmedins_code AS unit, fixmedins_code, setting,
                     {period_sql(period)} AS month,
                     coalesce(medins_type, '') AS medins_type,
                     coalesce(hosp_lv, '') AS hosp_lv, setl_id, psn_no, begntime,
                     CAST(inscp_amt AS DOUBLE) AS inscp
              FROM visit WHERE setting IN {_in(settings)} AND {outside(exclude or [])}),
        w AS (SELECT v.*, {flag} AS hit FROM v)"""
    if kind == "repeat":
        num, den = "1.0", "CASE WHEN hit THEN 0.0 ELSE 1.0 END"
    else:
        num, den = "CASE WHEN hit THEN 1.0 ELSE 0.0 END", "1.0"
    visits = f"""
        WITH {v}
        SELECT {_KEYS}, {num} AS v_num, {den} AS v_den,
               CASE WHEN hit THEN inscp ELSE 0.0 END AS v_basis
        FROM w"""
    lines = f"""
        WITH {v}
        SELECT {_JOINED_LINE}, w.unit, w.setting,
               w.month, CAST(l.inscp_amt AS DOUBLE) AS weight
        FROM w JOIN line l USING (fixmedins_code, setl_id)
        WHERE w.hit AND (w.unit, w.setting, w.month) IN
            (SELECT (unit, setting, month) FROM _pp_flag)"""
    return visits, lines


def _doctor_days(settings: list[str], period: str) -> tuple[str, str]:
    """One row per doctor and working day (the day, not the visit, is what varies)."""
    d = f"""
        v AS (SELECT fixmedins_code || '|' || chfpdr_code AS unit, fixmedins_code, setting,
                     {period_sql(period)} AS month,
                     coalesce(medins_type, '') AS medins_type,
                     coalesce(hosp_lv, '') AS hosp_lv, setl_id, CAST(begntime AS DATE) AS day
              FROM visit WHERE setting IN {_in(settings)} AND chfpdr_code IS NOT NULL),
        w AS (SELECT v.*, count(*) OVER (PARTITION BY unit, day) AS day_n FROM v)"""
    visits = f"""
        WITH {d}
        SELECT unit, fixmedins_code, setting, month, medins_type, hosp_lv,
               CAST(day AS VARCHAR) AS setl_id, count(*) AS v_num, 1.0 AS v_den,
               0.0 AS v_basis
        FROM w GROUP BY ALL"""
    # the visits of the doctor's days busier than the peers' usual day, each day's excess
    # share of its visits
    lines = f"""
        WITH {d}
        SELECT {_JOINED_LINE}, w.unit, w.setting, w.month,
               CAST(l.inscp_amt AS DOUBLE) * (w.day_n - f.peer_median) / w.day_n AS weight
        FROM w JOIN _pp_flag f USING (unit, setting, month)
        JOIN line l ON l.fixmedins_code = w.fixmedins_code AND l.setl_id = w.setl_id
        WHERE w.day_n > f.peer_median"""
    return visits, lines


def _expected(src: str, fine: list[str], coarse: list[str], num: str, den: str, min_n: int) -> str:
    """CTEs ending in ``e``: for each institution and ``fine`` cell of ``src`` (period,
    setting, level and the case-mix keys), Σ ``num`` / Σ ``den`` over the *other*
    institutions of the cell — what a peer of the same level bills for the same case mix —
    or over the ``coarse`` cell where fewer than ``min_n`` of their rows share the fine
    one."""
    f, c = ", ".join(fine), ", ".join(coarse)
    return f"""
        own AS (SELECT {f}, fixmedins_code, sum({num}) AS s, sum({den}) AS n, count(*) AS k
                FROM {src} GROUP BY ALL),
        cel AS (SELECT {f}, sum(s) AS s, sum(n) AS n, sum(k) AS k FROM own GROUP BY ALL),
        own_c AS (SELECT {c}, fixmedins_code, sum(s) AS s, sum(n) AS n FROM own GROUP BY ALL),
        cel_c AS (SELECT {c}, sum(s) AS s, sum(n) AS n FROM own_c GROUP BY ALL),
        e AS (SELECT {", ".join("own." + k for k in fine)}, own.fixmedins_code,
                     CAST(CASE WHEN cel.k - own.k >= {int(min_n)} AND cel.n > own.n
                               THEN (cel.s - own.s) / (cel.n - own.n)
                               WHEN cel_c.n > own_c.n
                               THEN (cel_c.s - own_c.s) / (cel_c.n - own_c.n) END AS DOUBLE)
                         AS expected
              FROM own JOIN cel USING ({f}) JOIN own_c USING ({c}, fixmedins_code)
              JOIN cel_c USING ({c}))"""


_CELL = ["month", "setting", "hosp_lv"]


def _services_casemix(base: str, cand: str, min_n: int) -> tuple[str, str]:
    """Observed against expected service lines per visit: each visit expects the mean count
    of the other institutions' visits of its level, setting, period and diagnosis group."""
    common = f"""
        WITH b AS ({base}),
        v AS (SELECT {_KEYS}, any_value(dise_group) AS dise_group,
                     count(*) FILTER (WHERE {cand}) AS obs,
                     coalesce(sum(inscp) FILTER (WHERE {cand}), 0) AS basis
              FROM b GROUP BY {_KEYS}),
        {_expected("v", [*_CELL, "dise_group"], _CELL, "obs", "1", min_n)}"""
    visits = f"""{common}
        SELECT {", ".join("v." + k for k in _KEYS.split(", "))}, CAST(v.obs AS DOUBLE) AS v_num,
               e.expected AS v_den, v.basis AS v_basis
        FROM v JOIN e USING ({", ".join(_CELL)}, dise_group, fixmedins_code)
        WHERE e.expected IS NOT NULL"""
    lines = f"""
        WITH b AS ({base})
        SELECT {_LINE_OUT}, inscp AS weight FROM b {_FLAGGED} WHERE {cand}"""
    return visits, lines


def _price_casemix(base: str, groups: list[str], min_n: int) -> tuple[str, str]:
    """The mean price relative of the lines of ``groups`` (each unit billed weighs the same):
    a line's price over the mean price (weighted by quantity) of the same group's lines at
    the other institutions of its level, setting and period, for visits of the same
    diagnosis group — a bed a day counts as much as a CT, so a dearer ward shows beside the
    exams. The peers' sums are exact decimals, so the expectation does not move with the
    order DuckDB adds them in."""
    cell = [*_CELL, "item_group"]
    common = f"""
        WITH b AS ({base}),
        x0 AS (SELECT *, CAST(cnt AS DECIMAL(18, 4)) AS q,
                      CAST(cnt AS DECIMAL(18, 4)) * CAST(price AS DECIMAL(18, 4)) AS paid
               FROM b WHERE item_group IN {_in(groups)} AND price > 0),
        {_expected("x0", [*cell, "dise_group"], cell, "paid", "q", min_n)},
        x AS (SELECT x0.*, e.expected AS usual
              FROM x0 JOIN e USING ({", ".join(_CELL)}, item_group, dise_group, fixmedins_code)
              WHERE e.expected > 0)"""
    visits = f"""{common}
        SELECT {_KEYS}, sum(cnt * price / usual) AS v_num, sum(cnt) AS v_den,
               sum(inscp) AS v_basis
        FROM x GROUP BY {_KEYS}"""
    lines = f"""{common}
        SELECT {_LINE_OUT}, inscp * (1 - usual / price) AS weight
        FROM x {_FLAGGED} WHERE price > usual"""
    return visits, lines


def indicator_sql(name: str, args: dict[str, Any], source: str | None = None) -> tuple[str, str]:
    """The ``visits`` and ``lines`` SQL of indicator ``name`` (see the module docstring),
    reading the lines from the table ``source`` (:func:`base_table`) when given."""
    settings = list(args.get("settings", ["op", "ip", "ph"]))
    period = str(args.get("period", "month"))
    base = _base(settings, period, source)
    services = f"med_chrgitm_type IN {_in(SERVICE_CHRGITM)}"
    groups = list(args.get("groups", ["nursing", "bed", "CT", "exam"]))
    min_n = int(args.get("min_cell", 30))
    if name == "cost_per_visit":
        return _cost(base)
    if name == "services_per_visit":
        basis = f"coalesce(sum(inscp) FILTER (WHERE {services}), 0)"
        return _simple(base, f"count(*) FILTER (WHERE {services})", basis, services)
    if name == "services_casemix":
        return _services_casemix(base, services, min_n)
    if name == "drugs_per_visit":
        cand = f"list_type IN {_in(DRUG_TYPES)}"
        num = f"count(DISTINCT med_list_codg) FILTER (WHERE {cand})"
        return _simple(base, num, f"coalesce(sum(inscp) FILTER (WHERE {cand}), 0)", cand)
    if name == "quantity_index":
        return _quantity(base, float(args.get("factor", 1.5)))
    if name in ("price_mix_index", "max_price_share"):
        return _price(base, groups, name == "max_price_share")
    if name == "price_casemix":
        return _price_casemix(base, groups, min_n)
    if name == "visits_per_patient":
        repeat = (
            "row_number() OVER (PARTITION BY unit, setting, month, psn_no "
            "ORDER BY begntime, setl_id) > 1"
        )
        # planned sessions repeat by schedule (dialysis thrice weekly, a rehabilitation
        # course): a centre that gives them is no outlier for it
        exclude = list(args.get("exclude_classes", []))
        return _visit_level(settings, period, repeat, "repeat", exclude)
    if name == "night_weekend_share":
        night = (
            f"(hour(begntime) < {int(args.get('day_start', 7))} "
            f"OR hour(begntime) >= {int(args.get('day_end', 19))} OR isodow(begntime) >= 6)"
        )
        return _visit_level(settings, period, night, "share")
    if name == "patients_per_doctor_day":
        return _doctor_days(settings, period)
    msg = f"unknown peer-profile indicator {name!r}; choose one of {', '.join(INDICATORS)}"
    raise ValueError(msg)
