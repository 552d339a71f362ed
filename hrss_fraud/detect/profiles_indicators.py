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


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


def _base(settings: list[str]) -> str:
    """The lines of the chosen settings with their unit keys (a CTE body); an item's
    classification is the catalogue's, the uploaded one for an item it does not know."""
    return f"""
        SELECT l.fixmedins_code AS unit, l.fixmedins_code, l.setting,
               {_PERIOD} AS month,
               coalesce(medins_type, '') AS medins_type, coalesce(hosp_lv, '') AS hosp_lv,
               setl_id, mdtrt_id, psn_no, feedetl_sn, fee_ocur_time AS line_time,
               CAST(l.inscp_amt AS DOUBLE) AS inscp, CAST(l.cnt AS DOUBLE) AS cnt,
               l.med_list_codg, l.item_group,
               coalesce(c.list_type, l.list_type) AS list_type,
               coalesce(c.med_chrgitm_type, l.med_chrgitm_type) AS med_chrgitm_type,
               CAST(coalesce(l.ref_pric, l.pric) AS DOUBLE) AS price
        FROM line l LEFT JOIN kb_catalogue c ON c.med_list_codg = l.med_list_codg
        WHERE l.setting IN {_in(settings)}"""


_KEYS = "unit, fixmedins_code, setting, month, medins_type, hosp_lv, setl_id"
_LINE_OUT = "unit, setting, month, fixmedins_code, setl_id, mdtrt_id, psn_no, feedetl_sn, line_time"
_FLAGGED = "SEMI JOIN _pp_flag f USING (unit, setting, month)"
_JOINED_LINE = (
    "l.fixmedins_code, l.setl_id, l.mdtrt_id, l.psn_no, l.feedetl_sn, l.fee_ocur_time AS line_time"
)


def _simple(settings: list[str], num: str, basis: str, cand: str) -> tuple[str, str]:
    """A per-visit count of the lines matching ``cand`` (``num`` may count them another
    way); the excess lies in those lines."""
    visits = f"""
        WITH b AS ({_base(settings)})
        SELECT {_KEYS}, {num} AS v_num, 1.0 AS v_den, {basis} AS v_basis
        FROM b GROUP BY ALL"""
    lines = f"""
        WITH b AS ({_base(settings)})
        SELECT {_LINE_OUT}, inscp AS weight FROM b {_FLAGGED} WHERE {cand}"""
    return visits, lines


def _cost(settings: list[str]) -> tuple[str, str]:
    visits = f"""
        WITH b AS ({_base(settings)})
        SELECT {_KEYS}, sum(inscp) AS v_num, 1.0 AS v_den, sum(inscp) AS v_basis
        FROM b GROUP BY ALL"""
    # the lines of the visits dearer than the peers' mean visit, each its share of the part
    # of its visit's cost above that
    lines = f"""
        WITH b AS ({_base(settings)}),
        s AS (SELECT b.*, sum(inscp) OVER (PARTITION BY fixmedins_code, setl_id) AS vc
              FROM b {_FLAGGED})
        SELECT {_LINE_OUT}, s.inscp * (s.vc - f.peer_median) / s.vc AS weight
        FROM s JOIN _pp_flag f USING (unit, setting, month)
        WHERE s.vc > f.peer_median AND s.inscp > 0"""
    return visits, lines


def _quantity(settings: list[str], factor: float) -> tuple[str, str]:
    eligible = f"(list_type IN {_in(DRUG_TYPES)} OR med_chrgitm_type = '05')"
    usual = f"""
        b AS ({_base(settings)}),
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


def _price(settings: list[str], groups: list[str], dearest: bool) -> tuple[str, str]:
    usual = f"""
        b AS ({_base(settings)}),
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


def _visit_level(settings: list[str], flag: str, kind: str) -> tuple[str, str]:
    """Indicators of whole visits (``flag`` marks the visits in the numerator)."""
    v = f"""
        v AS (SELECT fixmedins_code AS unit, fixmedins_code, setting,
                     {_PERIOD} AS month,
                     coalesce(medins_type, '') AS medins_type,
                     coalesce(hosp_lv, '') AS hosp_lv, setl_id, psn_no, begntime,
                     CAST(inscp_amt AS DOUBLE) AS inscp
              FROM visit WHERE setting IN {_in(settings)}),
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


def _doctor_days(settings: list[str]) -> tuple[str, str]:
    """One row per doctor and working day (the day, not the visit, is what varies)."""
    d = f"""
        v AS (SELECT fixmedins_code || '|' || chfpdr_code AS unit, fixmedins_code, setting,
                     {_PERIOD} AS month,
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


def indicator_sql(name: str, args: dict[str, Any]) -> tuple[str, str]:
    """The ``visits`` and ``lines`` SQL of indicator ``name`` (see the module docstring)."""
    settings = list(args.get("settings", ["op", "ip", "ph"]))
    if name == "cost_per_visit":
        return _cost(settings)
    if name == "services_per_visit":
        cand = f"med_chrgitm_type IN {_in(SERVICE_CHRGITM)}"
        basis = f"coalesce(sum(inscp) FILTER (WHERE {cand}), 0)"
        return _simple(settings, f"count(*) FILTER (WHERE {cand})", basis, cand)
    if name == "drugs_per_visit":
        cand = f"list_type IN {_in(DRUG_TYPES)}"
        num = f"count(DISTINCT med_list_codg) FILTER (WHERE {cand})"
        return _simple(settings, num, f"coalesce(sum(inscp) FILTER (WHERE {cand}), 0)", cand)
    if name == "quantity_index":
        return _quantity(settings, float(args.get("factor", 1.5)))
    if name in ("price_mix_index", "max_price_share"):
        groups = list(args.get("groups", ["nursing", "bed", "CT", "exam"]))
        return _price(settings, groups, name == "max_price_share")
    if name == "visits_per_patient":
        repeat = (
            "row_number() OVER (PARTITION BY unit, setting, month, psn_no "
            "ORDER BY begntime, setl_id) > 1"
        )
        return _visit_level(settings, repeat, "repeat")
    if name == "night_weekend_share":
        night = (
            f"(hour(begntime) < {int(args.get('day_start', 7))} "
            f"OR hour(begntime) >= {int(args.get('day_end', 19))} OR isodow(begntime) >= 6)"
        )
        return _visit_level(settings, night, "share")
    if name == "patients_per_doctor_day":
        return _doctor_days(settings)
    msg = f"unknown peer-profile indicator {name!r}; choose one of {', '.join(INDICATORS)}"
    raise ValueError(msg)
