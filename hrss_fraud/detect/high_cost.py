"""Kernel ``high_cost``: outpatient and pharmacy settlements far dearer than their peers
(门诊高额费用).

Each settlement's total cost (``medfee_sumamt``, on a log scale, where costs are roughly
normal) is compared with the settlements of the same month, setting, treatment class
(dialysis, special drug …: planned care is dear by nature), institution kind, level and
diagnosis; a group with fewer than ``min_peers`` is pooled into the diagnosis group
(the knowledge base's ``dise_group``, or the ICD-10 category of the code where the diagnosis
table has no groups), then the institution kind and level, then the setting and class alone
(:func:`hrss_fraud.detect.peers.peer_stats`). A visit is
a lead when its robust z-score exceeds ``z`` and it costs at least ``min_amount``. The
amount at risk is the in-scope share of what it costs above the flag threshold (the peers'
median × e^(z × spread)), so a lead claims only what no peer-like visit would have cost;
every fee line of the visit is shown, its share of that excess on it, the dearest named
in the evidence.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from hrss_fraud.detect.peers import peer_stats
from hrss_fraud.knowledge.treatment import class_names
from hrss_fraud.model.codes import HOSP_LV, MEDINS_TYPE
from hrss_fraud.rules.hits import empty_hits
from hrss_fraud.rules.kernels import kernel

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
SETTING_ZH = {"op": "门诊", "ph": "药店购药"}
SETTING_EN = {"op": "outpatient", "ph": "pharmacy"}


def settlements(con: duckdb.DuckDBPyConnection, settings: list[str]) -> pl.DataFrame:
    """Outpatient or pharmacy settlements with a positive cost and their peer keys."""
    wanted = ", ".join("'" + s.replace("'", "''") + "'" for s in settings)
    return con.sql(f"""
        SELECT fixmedins_code, setl_id, mdtrt_id, psn_no, setting, begntime,
               strftime(begntime, '%Y-%m') AS month,
               coalesce(medins_type, '') AS medins_type, coalesce(hosp_lv, '') AS hosp_lv,
               coalesce(dise_group, left(trim(dise_codg), 3), '') AS dise_group,
               coalesce(dise_codg, '') AS dise_codg,
               coalesce(dise_name, '') AS dise_name,
               coalesce(treatment_class, '') AS treatment_class,
               CAST(medfee_sumamt AS DOUBLE) AS cost, CAST(inscp_amt AS DOUBLE) AS inscp
        FROM visit
        WHERE setting IN ({wanted}) AND medfee_sumamt > 0
    """).pl()


def flag(visits: pl.DataFrame, z: float, min_amount: float, min_peers: int) -> pl.DataFrame:
    """The visits over the threshold, with their peers' figures and the excess cost."""
    scored = peer_stats(
        visits.with_columns(log_cost=pl.col("cost").log()),
        "log_cost",
        PEER_LEVELS,
        min_peers=min_peers,
        min_spread=0.05,
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


def _money(col: str) -> pl.Expr:
    return pl.col(col).map_elements(lambda x: f"¥{x:,.2f}", return_dtype=pl.String)


@kernel("high_cost")
def high_cost(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    z = float(params["z"])
    hits = flag(
        settlements(con, list(args.get("settings", ["op", "ph"]))),
        z,
        float(params["min_amount"]),
        int(params.get("min_peers", args.get("min_peers", 30))),
    )
    if hits.is_empty():
        return empty_hits()
    con.register("_high_cost_hits", hits.select("fixmedins_code", "setl_id", "excess_share"))
    try:
        lines = con.sql("""
            SELECT l.fixmedins_code, l.setl_id, l.mdtrt_id, l.feedetl_sn, l.fee_ocur_time,
                   CAST(l.inscp_amt AS DOUBLE) AS line_inscp,
                   CAST(l.det_item_fee_sumamt AS DOUBLE) AS line_cost,
                   coalesce(l.med_list_name, l.med_list_codg) AS item
            FROM line l JOIN _high_cost_hits h USING (fixmedins_code, setl_id)
        """).pl()
    finally:
        con.unregister("_high_cost_hits")
    named = pl.format("{}({})", "item", _money("line_cost")).head(3)
    top = (
        lines.sort(["line_cost", "item", "feedetl_sn"], descending=[True, False, False])
        .group_by("fixmedins_code", "setl_id", maintain_order=True)
        .agg(top=named.str.join("、"), top_en=named.str.join(", "))
    )
    h = hits.join(top, on=["fixmedins_code", "setl_id"], how="left").with_columns(
        peers_zh=_peer_names(pl.col("peer_level"), "zh", class_names(con, "zh")),
        peers_en=_peer_names(pl.col("peer_level"), "en", class_names(con, "en")),
        z_txt=pl.col("robust_z").round(1).cast(pl.String),
        factor=(pl.col("cost") / pl.col("median_cost")).round(1).cast(pl.String),
        risk=pl.col("inscp") * pl.col("excess_share"),
    )
    h = h.with_columns(
        evidence=pl.format(
            "{}费用{}，为同类就诊（{}，{}人次）中位数{}的{}倍，稳健Z值{}，超过阈值{}（中位数"
            "×e^({}×稳健标准差)）；费用最高的项目：{}；超出阈值部分按医保范围内金额计{}。",
            pl.col("setting").replace_strict(SETTING_ZH, default=pl.col("setting")),
            _money("cost"),
            "peers_zh",
            "peer_n",
            _money("median_cost"),
            "factor",
            "z_txt",
            _money("threshold_cost"),
            pl.lit(f"{z:g}"),
            pl.col("top").fill_null("无明细"),
            _money("risk"),
        ),
        evidence_en=pl.format(
            "{} visit cost {}, {}× the median {} of its peers ({}, {} visits), robust z {}, "
            "above the threshold {} (median × e^({} × robust SD)); dearest items: {}; the "
            "in-scope share above the threshold is {}.",
            pl.col("setting").replace_strict(SETTING_EN, default=pl.col("setting")),
            _money("cost"),
            "factor",
            _money("median_cost"),
            "peers_en",
            "peer_n",
            "z_txt",
            _money("threshold_cost"),
            pl.lit(f"{z:g}"),
            pl.col("top_en").fill_null("no lines"),
            _money("risk"),
        ),
    )
    rows = lines.join(
        h.select(
            "fixmedins_code",
            "setl_id",
            "psn_no",
            "excess_share",
            "evidence",
            "evidence_en",
            "robust_z",
        ),
        on=["fixmedins_code", "setl_id"],
    )
    return rows.select(
        hit_key=pl.format("hc|{}|{}", "fixmedins_code", "setl_id"),
        entity_type=pl.lit("settlement"),
        entity_id=pl.format("{}|{}", "fixmedins_code", "setl_id"),
        role=pl.lit("violating"),
        fixmedins_code="fixmedins_code",
        psn_no="psn_no",
        setl_id="setl_id",
        mdtrt_id="mdtrt_id",
        feedetl_sn="feedetl_sn",
        line_time="fee_ocur_time",
        amount=pl.col("line_inscp") * pl.col("excess_share"),
        evidence="evidence",
        evidence_en="evidence_en",
        score=pl.col("robust_z"),
    )
