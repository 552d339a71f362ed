"""Kernel ``high_cost``: outpatient and pharmacy settlements far dearer than their peers
(门诊高额费用).

Each settlement's cost (``medfee_sumamt``, on a log scale, where costs are roughly normal)
is compared with the settlements of the same month, setting, treatment class (dialysis,
special drug …: planned care is dear by nature), institution kind, level and diagnosis; a
group with fewer than ``min_peers`` is pooled into the diagnosis group (the knowledge base's
``dise_group``, or the ICD-10 category of the code where the diagnosis table has no
groups), then the institution kind and level, then the setting and class alone
(:func:`hrss_fraud.detectors.peers.peer_stats`). Like is compared with like:

- a drug supplied for longer than ``month_days`` (a long prescription) counts at its cost
  per ``month_days`` of supply: twelve weeks cost three times a month and are no dearer
  care (how long a supply may be is the supply rules' check);
- a visit of a class recognised by its lines (a rehabilitation or acupuncture session, a
  dialysis, a chemotherapy) is priced in two parts: the class's own lines against the
  sessions of the class, and the rest (the consultation and drugs at a course's first
  session) against whole visits of the class the visit has without its lines (a stroke
  survivor's consultation is chronic care). Drugs padded onto a session are held against
  consultations, a session billed many times over against sessions.

A part is a lead when its robust z-score exceeds ``z`` and it costs at least
``min_amount``. The amount at risk is the in-scope share of what it costs above the flag
threshold (the peers' median × e^(z × spread)), so a lead claims only what no peer-like
visit would have cost; every fee line of the part is shown, its share of that excess on
it, the dearest named in the evidence.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from hrss_fraud.detectors.peers import peer_stats
from hrss_fraud.engine.hits import empty_hits, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.knowledge.treatment import base_class_sql, class_line_sql, class_names
from hrss_fraud.model.codes import HOSP_LV, MEDINS_TYPE
from hrss_fraud.model.numbers import money_expr

PEER_LEVELS = (
    ("month", "setting", "treatment_class", "medins_type", "hosp_lv", "dise_codg"),
    ("month", "setting", "treatment_class", "medins_type", "hosp_lv", "dise_group"),
    ("month", "setting", "treatment_class", "medins_type", "hosp_lv"),
    ("month", "setting", "treatment_class"),
)
"""Peers are of the same calendar month: a month's leads then depend on that month's
claims only, the same whether a run scores the whole lake or the recent months. They are
of the same treatment class at every level (:mod:`hrss_fraud.knowledge.treatment`): a
dialysis session, a rehabilitation course or a special drug costs what its kind costs, and
is compared with its own kind, never with a cold."""
MONTH_DAYS = 30.0
"""A drug supplied for longer than a month (a long prescription, 长处方, up to twelve weeks
for a stable chronic patient) is priced per month of supply: twelve weeks cost three times
one month, and that is no dearer care. How long a supply may be is the supply rules' check
(drug_supply_cap, overlapping_supply), not this one's."""
SETTING_ZH = {"op": "门诊", "ph": "药店购药"}
SETTING_EN = {"op": "outpatient", "ph": "pharmacy"}


def settlements(
    con: duckdb.DuckDBPyConnection, settings: list[str], month_days: float = MONTH_DAYS
) -> pl.DataFrame:
    """Outpatient or pharmacy settlements with a positive cost, as the parts that are
    priced (see the module's text), with their peer keys: ``cost`` is what is compared,
    ``billed`` and ``inscp`` what the part billed, ``part`` visit, session or other."""
    wanted = ", ".join("'" + s.replace("'", "''") + "'" for s in settings)
    classes = con.sql("FROM kb_treatment_class").pl()
    supply = "CAST(coalesce(i.prd_days, i.cnt * i.days_per_unit) AS DOUBLE)"
    scale = (
        f"CASE WHEN {supply} > {float(month_days)} THEN {float(month_days)} / {supply} ELSE 1 END"
    )
    session = class_line_sql(classes)
    return (
        con.sql(f"""
        WITH v AS (
            SELECT v.fixmedins_code, v.setl_id, v.mdtrt_id, v.psn_no, v.setting, v.begntime,
                   strftime(v.begntime, '%Y-%m') AS month,
                   coalesce(v.medins_type, '') AS medins_type,
                   coalesce(v.hosp_lv, '') AS hosp_lv,
                   coalesce(v.dise_group, left(trim(v.dise_codg), 3), '') AS dise_group,
                   coalesce(v.dise_codg, '') AS dise_codg,
                   coalesce(v.dise_name, '') AS dise_name,
                   coalesce(v.treatment_class, '') AS treatment_class,
                   coalesce({base_class_sql(classes)}, '') AS base_class,
                   CAST(v.medfee_sumamt AS DOUBLE) AS billed,
                   CAST(v.inscp_amt AS DOUBLE) AS inscp
            FROM visit v
            WHERE v.setting IN ({wanted}) AND v.medfee_sumamt > 0
        ), l AS (
            SELECT i.fixmedins_code, i.setl_id,
                   sum(CAST(i.det_item_fee_sumamt AS DOUBLE) * (1 - ({scale}))) AS long_excess,
                   coalesce(sum(CAST(i.det_item_fee_sumamt AS DOUBLE) * ({scale}))
                            FILTER ({session}), 0) AS s_cost,
                   coalesce(sum(CAST(i.det_item_fee_sumamt AS DOUBLE)) FILTER ({session}), 0)
                       AS s_billed,
                   coalesce(sum(CAST(i.inscp_amt AS DOUBLE)) FILTER ({session}), 0) AS s_inscp
            FROM line i JOIN visit v USING (fixmedins_code, setl_id)
            WHERE v.setting IN ({wanted}) AND v.medfee_sumamt > 0
              AND (({scale}) < 1 OR {session})
            GROUP BY ALL
        ), parts AS (
            SELECT v.*, v.billed - coalesce(l.long_excess, 0) AS cost,
                   coalesce(l.s_cost, 0) AS s_cost, coalesce(l.s_billed, 0) AS s_billed,
                   coalesce(l.s_inscp, 0) AS s_inscp
            FROM v LEFT JOIN l USING (fixmedins_code, setl_id)
        )
        SELECT * EXCLUDE (s_cost, s_billed, s_inscp, base_class), 'visit' AS part, true AS reference
        FROM parts WHERE s_billed = 0
        UNION ALL BY NAME
        SELECT * EXCLUDE (cost, billed, inscp, s_cost, s_billed, s_inscp, base_class),
               s_cost AS cost, s_billed AS billed, s_inscp AS inscp,
               'session' AS part, true AS reference
        FROM parts WHERE s_billed > 0
        UNION ALL BY NAME
        SELECT * EXCLUDE (cost, billed, inscp, s_cost, s_billed, s_inscp, treatment_class,
                          base_class),
               base_class AS treatment_class, cost - s_cost AS cost, billed - s_billed AS billed,
               inscp - s_inscp AS inscp, 'other' AS part, false AS reference
        FROM parts WHERE s_billed > 0 AND billed - s_billed > 0
    """)
        .pl()
        .filter(pl.col("cost") > 0)
    )


def flag(visits: pl.DataFrame, z: float, min_amount: float, min_peers: int) -> pl.DataFrame:
    """The visits over the threshold, with their peers' figures and the excess cost."""
    scored = peer_stats(
        visits.with_columns(log_cost=pl.col("cost").log()),
        "log_cost",
        PEER_LEVELS,
        min_peers=min_peers,
        min_spread=0.05,
        reference="reference",
    )
    threshold = (pl.col("peer_median") + z * pl.col("peer_sd")).exp()
    return (
        scored.with_columns(
            median_cost=pl.col("peer_median").exp(),
            threshold_cost=threshold,
        )
        .filter(
            (pl.col("robust_z") > z)
            & (pl.col("cost") >= min_amount)
            & (pl.col("cost") > pl.col("threshold_cost"))
        )
        .with_columns(excess_share=1 - pl.col("threshold_cost") / pl.col("cost"))
    )


def _peer_names(level: pl.Expr, lang: str, classes: dict[str, str]) -> pl.Expr:
    kinds = MEDINS_TYPE.zh_names() if lang == "zh" else MEDINS_TYPE.en_names()
    lvls = HOSP_LV.zh_names() if lang == "zh" else HOSP_LV.en_names()
    setting = pl.col("setting").replace_strict(
        SETTING_ZH if lang == "zh" else SETTING_EN, default=pl.col("setting")
    )
    cls = pl.col("treatment_class")
    named = cls.replace_strict(classes, default=cls)
    setting = (
        pl.when(cls == "")
        .then(setting)
        .otherwise(pl.format("{}（{}）" if lang == "zh" else "{} ({})", setting, named))
    )
    kind = pl.col("medins_type").replace_strict(kinds, default=pl.col("medins_type"))
    lv = pl.col("hosp_lv").replace_strict(lvls, default=pl.col("hosp_lv"))
    sep = "·" if lang == "zh" else ", "
    unknown = "未归组病种" if lang == "zh" else "unmapped diagnoses"
    group = pl.when(pl.col("dise_group") == "").then(pl.lit(unknown)).otherwise("dise_group")
    grouped = pl.format("病种组{}" if lang == "zh" else "diagnosis group {}", group)
    dx = pl.format("{}({})", "dise_name", "dise_codg")
    m = pl.col("month")
    return (
        pl.when(level == 0)
        .then(pl.concat_str(m, setting, kind, lv, dx, separator=sep))
        .when(level == 1)
        .then(pl.concat_str(m, setting, kind, lv, grouped, separator=sep))
        .when(level == 2)
        .then(pl.concat_str(m, setting, kind, lv, separator=sep))
        .otherwise(pl.concat_str(m, setting, separator=sep))
    )


def _what(lang: str) -> pl.Expr:
    """What was priced: the visit, its class's session lines, or the rest of a session
    visit."""
    names = SETTING_ZH if lang == "zh" else SETTING_EN
    setting = pl.col("setting").replace_strict(names, default=pl.col("setting"))
    if lang == "zh":
        return (
            pl.when(pl.col("part") == "session")
            .then(pl.format("{}疗程项目", setting))
            .when(pl.col("part") == "other")
            .then(pl.format("{}疗程项目以外的", setting))
            .otherwise(setting)
        )
    return (
        pl.when(pl.col("part") == "session")
        .then(pl.format("{} session lines", setting))
        .when(pl.col("part") == "other")
        .then(pl.format("{} lines besides the session", setting))
        .otherwise(pl.format("{} visit", setting))
    )


def _scaled(lang: str, month_days: float) -> pl.Expr:
    """Said when a long supply was priced per month: the amount billed beside it."""
    text = (
        f"（长处方药品按每{month_days:g}天用量折算，实际金额{{}}）"
        if lang == "zh"
        else f" (a supply beyond {month_days:g} days priced per {month_days:g} days; billed {{}})"
    )
    return (
        pl.when(pl.col("billed") - pl.col("cost") > 0.005)
        .then(pl.format(text, money_expr("billed")))
        .otherwise(pl.lit(""))
    )


@kernel("high_cost")
def high_cost(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    z = float(params["z"])
    month_days = float(params.get("month_days", MONTH_DAYS))
    hits = flag(
        settlements(con, list(args.get("settings", ["op", "ph"])), month_days),
        z,
        float(params["min_amount"]),
        int(params.get("min_peers", args.get("min_peers", 30))),
    )
    if hits.is_empty():
        return empty_hits()
    session = class_line_sql(con.sql("FROM kb_treatment_class").pl())
    con.register("_high_cost_hits", hits.select("fixmedins_code", "setl_id").unique())
    try:
        lines = con.sql(f"""
            SELECT i.fixmedins_code, i.setl_id, i.mdtrt_id, i.feedetl_sn, i.fee_ocur_time,
                   CAST(i.inscp_amt AS DOUBLE) AS line_inscp,
                   CAST(i.det_item_fee_sumamt AS DOUBLE) AS line_cost,
                   coalesce(i.med_list_name, i.med_list_codg) AS item,
                   coalesce({session}, false) AS session
            FROM line i JOIN _high_cost_hits h USING (fixmedins_code, setl_id)
            JOIN visit v USING (fixmedins_code, setl_id)
        """).pl()
    finally:
        con.unregister("_high_cost_hits")
    # each part's own lines: a session its class's lines, the rest of the visit the others
    lines = lines.join(
        hits.select("fixmedins_code", "setl_id", "part"), on=["fixmedins_code", "setl_id"]
    ).filter((pl.col("part") == "visit") | ((pl.col("part") == "session") == pl.col("session")))
    named = pl.format("{}({})", "item", money_expr("line_cost")).head(3)
    top = (
        lines.sort(["line_cost", "item", "feedetl_sn"], descending=[True, False, False])
        .group_by("fixmedins_code", "setl_id", "part", maintain_order=True)
        .agg(top=named.str.join("、"), top_en=named.str.join(", "))
    )
    keys = ["fixmedins_code", "setl_id", "part"]
    h = hits.join(top, on=keys, how="left").with_columns(
        peers_zh=_peer_names(pl.col("peer_level"), "zh", class_names(con, "zh")),
        peers_en=_peer_names(pl.col("peer_level"), "en", class_names(con, "en")),
        z_txt=pl.col("robust_z").round(1).cast(pl.String),
        factor=(pl.col("cost") / pl.col("median_cost")).round(1).cast(pl.String),
        risk=pl.col("inscp") * pl.col("excess_share"),
    )
    h = h.with_columns(
        evidence=pl.format(
            "{}费用{}{}，为同类就诊（{}，{}人次）中位数{}的{}倍，稳健Z值{}，超过阈值{}（中位数"
            "×e^({}×稳健标准差)）；费用最高的项目：{}；超出阈值部分按医保范围内金额计{}。",
            _what("zh"),
            money_expr("cost"),
            _scaled("zh", month_days),
            "peers_zh",
            "peer_n",
            money_expr("median_cost"),
            "factor",
            "z_txt",
            money_expr("threshold_cost"),
            pl.lit(f"{z:g}"),
            pl.col("top").fill_null("无明细"),
            money_expr("risk"),
        ),
        evidence_en=pl.format(
            "{} cost {}{}, {}× the median {} of its peers ({}, {} visits), robust z {}, "
            "above the threshold {} (median × e^({} × robust SD)); dearest items: {}; the "
            "in-scope share above the threshold is {}.",
            _what("en"),
            money_expr("cost"),
            _scaled("en", month_days),
            "factor",
            money_expr("median_cost"),
            "peers_en",
            "peer_n",
            "z_txt",
            money_expr("threshold_cost"),
            pl.lit(f"{z:g}"),
            pl.col("top_en").fill_null("no lines"),
            money_expr("risk"),
        ),
    )
    rows = lines.join(
        h.select(
            "fixmedins_code",
            "setl_id",
            "part",
            "psn_no",
            "excess_share",
            "evidence",
            "evidence_en",
            "robust_z",
        ),
        on=keys,
    )
    return project_hits(
        rows,
        hit_key=pl.when(pl.col("part") == "session")
        .then(pl.format("hc|{}|{}|session", "fixmedins_code", "setl_id"))
        .otherwise(pl.format("hc|{}|{}", "fixmedins_code", "setl_id")),
        entity_type="settlement",
        entity_id=pl.format("{}|{}", "fixmedins_code", "setl_id"),
        line_time="fee_ocur_time",
        amount=pl.col("line_inscp") * pl.col("excess_share"),
        score=pl.col("robust_z"),
    )
