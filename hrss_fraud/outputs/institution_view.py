"""The institution profile (机构画像): where one institution stands among its peers, how
its claiming moved month by month, what and who bills most, its leads and what reviewers
decided, and the quality of its uploads.

Every indicator is a ratio whose numerator and denominator are returned beside it, and
every lead count comes with its ``finding_ids``: an auditor can redo any figure on the
page from the lake or open the leads behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.detectors.profiles_indicators import DRUG_TYPES, SERVICE_CHRGITM
from hrss_fraud.lake.views import literal
from hrss_fraud.outputs.labels import code_label
from hrss_fraud.outputs.lead_detail import lines_sql
from hrss_fraud.outputs.lead_detail import ranking as lead_ranking
from hrss_fraud.outputs.leads import LeadFilter
from hrss_fraud.outputs.profile_data import (
    SETTING_SQL,
    SETTINGS,
    VALID,
    lake_frame,
    peer_groups,
    pick,
    unit_leads,
    unit_where,
)
from hrss_fraud.outputs.quality_view import by_rule, data_quality

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

INDICATORS: dict[str, tuple[str, str, str, str]] = {
    "cost_per_visit": ("次均费用(元)", "in-scope cost per visit (yuan)", "inscp", "n_visits"),
    "visits_per_patient": ("人次人头比", "visits per patient", "n_visits", "n_patients"),
    "drug_share": ("药占比", "drug share of in-scope amount", "drug_inscp", "line_inscp"),
    "services_per_visit": (
        "次均检查检验治疗项目数",
        "exam, lab and treatment lines per visit",
        "n_service_lines",
        "n_visits",
    ),
    "drugs_per_visit": ("次均药品品种数", "distinct drugs per visit", "n_drug_items", "n_visits"),
    "night_weekend_share": (
        "夜间及周末就诊占比",
        "share of visits at night or at the weekend",
        "n_night_weekend",
        "n_visits",
    ),
}
"""Indicator → (Chinese label, English label, numerator, denominator). The same measures
as the peer-profile rules (docs/rules.md), over the whole lake rather than per month:
the profile shows where a unit stands, the rules say when a month stands out."""

SHARE_INDICATORS = frozenset({"drug_share", "night_weekend_share"})
"""Indicators that are a share (shown as a percentage)."""

AMOUNT_INDICATORS = frozenset({"cost_per_visit"})
"""Indicators in yuan."""

AMOUNT_TERMS = frozenset({"inscp", "drug_inscp", "line_inscp"})
"""Numerators and denominators in yuan (the others count visits, patients or lines)."""

POOLED = ("{level}（各类机构）", "{level} (all kinds)")
"""A peer group of a level pooled across kinds (a kind with too few units)."""

_UNITS_SQL = f"""
WITH s AS (
    SELECT fixmedins_code, setl_id, psn_no, CAST(inscp_amt AS DECIMAL(38, 2)) AS inscp_amt,
           (hour(begntime) < 7 OR hour(begntime) >= 19 OR dayofweek(begntime) IN (0, 6))
               AS night_weekend
    FROM settlement WHERE {VALID}
), v AS (
    SELECT fixmedins_code, count(*) AS n_visits, count(DISTINCT psn_no) AS n_patients,
           CAST(sum(inscp_amt) AS DOUBLE) AS inscp,
           count(*) FILTER (WHERE night_weekend) AS n_night_weekend
    FROM s GROUP BY fixmedins_code
), f AS (
    SELECT fixmedins_code,
           CAST(coalesce(sum(inscp_amt), 0) AS DOUBLE) AS line_inscp,
           CAST(coalesce(sum(inscp_amt) FILTER (WHERE list_type IN {DRUG_TYPES}), 0) AS DOUBLE)
               AS drug_inscp,
           count(*) FILTER (WHERE init_feedetl_sn IS NULL
                            AND med_chrgitm_type IN {SERVICE_CHRGITM}) AS n_service_lines,
           count(DISTINCT CASE WHEN init_feedetl_sn IS NULL AND list_type IN {DRUG_TYPES}
                               THEN setl_id || '|' || med_list_codg END) AS n_drug_items
    FROM fee_detail WHERE coalesce(vali_flag, '1') = '1'
    GROUP BY fixmedins_code
)
SELECT v.*, coalesce(f.line_inscp, 0) AS line_inscp, coalesce(f.drug_inscp, 0) AS drug_inscp,
       coalesce(f.n_service_lines, 0) AS n_service_lines,
       coalesce(f.n_drug_items, 0) AS n_drug_items
FROM v LEFT JOIN f USING (fixmedins_code)
ORDER BY fixmedins_code
"""


def unit_indicators(view: RunView) -> pl.DataFrame:
    """One row per institution with valid settlements and indicator: ``fixmedins_code,
    fixmedins_name, peer_group, indicator, value, numerator, denominator`` (value null when
    the denominator is 0). Refund lines net off in the amounts and are not counted as
    lines. Computed once per run: it scans every settlement and fee line."""

    def compute() -> pl.DataFrame:
        units = lake_frame(view, _UNITS_SQL).join(
            peer_groups(view).select("fixmedins_code", "fixmedins_name", "peer_group"),
            on="fixmedins_code",
            how="left",
        )
        long = [
            units.select(
                "fixmedins_code",
                "fixmedins_name",
                "peer_group",
                indicator=pl.lit(name),
                numerator=pl.col(num).cast(pl.Float64),
                denominator=pl.col(den).cast(pl.Float64),
            )
            for name, (_zh, _en, num, den) in INDICATORS.items()
        ]
        return pl.concat(long).with_columns(
            value=pl.when(pl.col("denominator") > 0).then(
                pl.col("numerator") / pl.col("denominator")
            )
        )

    return view.memo(
        "institution:indicators", lambda: view.from_mart("institution_indicators", compute)
    )


def peer_values(view: RunView, code: str) -> pl.DataFrame:
    """The indicators of ``code``'s peer group (itself included, ``is_self``): what the
    box plots draw."""
    units = unit_indicators(view)
    group = units.filter(pl.col("fixmedins_code") == code)["peer_group"].unique().to_list()
    return units.filter(pl.col("peer_group").is_in(group)).with_columns(
        is_self=pl.col("fixmedins_code") == code
    )


def peer_comparison(view: RunView, code: str, *, lang: str = "zh") -> pl.DataFrame:
    """Per indicator: the institution's ``value`` (with its numerator and denominator), the
    other peers' ``n_peers``, ``p10``, ``peer_median``, ``p90`` and the institution's
    ``percentile`` among them (share of peers below it, ties counted half). The peers
    exclude the institution itself, as the peer-profile rules do."""
    values = peer_values(view, code)
    own = values.filter(pl.col("is_self"))
    others = values.filter(~pl.col("is_self"), pl.col("value").is_not_null())
    rows = []
    for name, pair in INDICATORS.items():
        mine = own.filter(pl.col("indicator") == name)
        peers = others.filter(pl.col("indicator") == name)["value"]
        value = mine["value"][0] if mine.height else None
        below = (
            float((peers < value).sum() + 0.5 * (peers == value).sum())
            if value is not None
            else 0.0
        )
        rows.append(
            {
                "indicator": name,
                "label": pick(pair[:2], lang),
                "value": value,
                "numerator": mine["numerator"][0] if mine.height else None,
                "denominator": mine["denominator"][0] if mine.height else None,
                "n_peers": peers.len(),
                "p10": peers.quantile(0.1, "linear") if peers.len() else None,
                "peer_median": peers.median() if peers.len() else None,
                "p90": peers.quantile(0.9, "linear") if peers.len() else None,
                "percentile": below / peers.len() if peers.len() and value is not None else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "indicator": pl.String,
            "label": pl.String,
            "value": pl.Float64,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
            "n_peers": pl.UInt32,
            "p10": pl.Float64,
            "peer_median": pl.Float64,
            "p90": pl.Float64,
            "percentile": pl.Float64,
        },
    )


def trends(view: RunView, code: str | None = None) -> pl.DataFrame:
    """:func:`monthly_trend` of ``code``, or of every institution (``fixmedins_code``
    first: the ``institution_trend`` mart), by institution and month."""
    spend = lake_frame(
        view,
        f"""SELECT fixmedins_code, strftime(setl_time, '%Y-%m') AS month,
                   count(*) AS n_settlements, count(DISTINCT psn_no) AS n_patients,
                   CAST(sum(CAST(inscp_amt AS DECIMAL(38, 2))) AS DOUBLE) AS inscp_amt
            FROM settlement WHERE {unit_where(code)} AND {VALID}
            GROUP BY ALL""",
    )
    findings = pl.scan_parquet(view.findings_path)
    if code is not None:
        findings = findings.filter(pl.col("fixmedins_code") == code)
    leads = (
        findings.group_by("fixmedins_code", month=pl.col("period_start").dt.strftime("%Y-%m"))
        .agg(
            n_findings=pl.len(),
            fen=(pl.col("amount_at_risk") * 100).round().cast(pl.Int64).sum(),
            finding_ids=pl.col("finding_id").sort(),
        )
        .collect()
    )
    return (
        spend.join(leads, on=["fixmedins_code", "month"], how="full", coalesce=True)
        .with_columns(
            pl.col("n_settlements", "n_patients").fill_null(0),
            pl.col("inscp_amt").fill_null(0.0),
            pl.col("n_findings").fill_null(0),
            amount_at_risk=(pl.col("fen").fill_null(0) / 100).round(2),
            finding_ids=pl.col("finding_ids").fill_null([]),
        )
        .with_columns(
            cost_per_visit=pl.when(pl.col("n_settlements") > 0).then(
                (pl.col("inscp_amt") / pl.col("n_settlements")).round(2)
            )
        )
        .sort("fixmedins_code", "month", nulls_last=True)
        .select(
            "fixmedins_code",
            "month",
            "n_settlements",
            "n_patients",
            "inscp_amt",
            "cost_per_visit",
            "n_findings",
            "amount_at_risk",
            "finding_ids",
        )
    )


def monthly_trend(view: RunView, code: str) -> pl.DataFrame:
    """Per settlement month: ``n_settlements``, ``n_patients``, ``inscp_amt``,
    ``cost_per_visit``, and the leads whose period starts in the month
    (``n_findings``, ``amount_at_risk``, ``finding_ids``)."""
    return view.mart_rows(
        "institution_trend",
        lambda: trends(view, code).drop("fixmedins_code"),
        fixmedins_code=code,
    )


TOP = 10
"""How many items and doctors a profile lists (the marts keep as many per institution)."""

_TOP_SQL = """
WITH per AS ({per}), top AS (
    SELECT *, inscp_amt / nullif(sum(inscp_amt) OVER (PARTITION BY fixmedins_code), 0) AS share
    FROM per
    QUALIFY row_number() OVER (PARTITION BY fixmedins_code
                               ORDER BY inscp_amt DESC, {key}) <= {limit}
), hit AS (
    SELECT l.fixmedins_code, l.{line_key} AS {key},
           list_sort(list(DISTINCT l.finding_id)) AS finding_ids
    FROM lead_context l JOIN top ON top.fixmedins_code = l.fixmedins_code
         AND top.{key} = l.{line_key}
    WHERE l.feedetl_sn IS NOT NULL AND l.line_valid
    GROUP BY ALL
)
SELECT top.* EXCLUDE (share), {extra}top.share,
       coalesce(len(hit.finding_ids), 0) AS n_findings,
       coalesce(hit.finding_ids, []::VARCHAR[]) AS finding_ids
FROM top LEFT JOIN hit USING (fixmedins_code, {key}){join}
ORDER BY fixmedins_code, inscp_amt DESC, {key}
"""
"""The ``limit`` largest of ``per`` by in-scope amount in each institution, with their share
of its amount and the leads naming their lines: the lines as the lead panel shows them
(``lead_context``: the ``lead_lines`` mart or :func:`lines_sql`), still valid in the lake."""

_ITEMS_PER = """
    SELECT fixmedins_code, med_list_codg, max(medins_list_name) AS item_name,
           count(*) FILTER (WHERE init_feedetl_sn IS NULL) AS n_lines,
           CAST(sum(cnt) AS DOUBLE) AS cnt,
           CAST(sum(CAST(inscp_amt AS DECIMAL(38, 2))) AS DOUBLE) AS inscp_amt
    FROM fee_detail WHERE coalesce(vali_flag, '1') = '1' AND {where}
    GROUP BY ALL"""

_DOCTORS_PER = """
    SELECT fixmedins_code, bilg_dr_codg AS dr_codg, count(DISTINCT setl_id) AS n_settlements,
           count(*) FILTER (WHERE init_feedetl_sn IS NULL) AS n_lines,
           CAST(sum(CAST(inscp_amt AS DECIMAL(38, 2))) AS DOUBLE) AS inscp_amt
    FROM fee_detail
    WHERE coalesce(vali_flag, '1') = '1' AND bilg_dr_codg IS NOT NULL AND {where}
    GROUP BY ALL"""

_DOCTOR_NAMES = """
LEFT JOIN (SELECT fixmedins_code, dr_codg, max(dr_name) AS dr_name FROM practitioner
           WHERE {where} GROUP BY ALL) names USING (fixmedins_code, dr_codg)"""


_TOP_KINDS: dict[str, dict[str, str]] = {
    "items": {
        "per": _ITEMS_PER,
        "key": "med_list_codg",
        "line_key": "med_list_codg",
        "extra": "",
        "join": "",
    },
    "doctors": {
        "per": _DOCTORS_PER,
        "key": "dr_codg",
        "line_key": "bilg_dr_codg",
        "extra": "names.dr_name, ",
        "join": _DOCTOR_NAMES,
    },
}
"""What :data:`_TOP_SQL` ranks for each kind: its amounts per unit, the key, the lead
line's column naming it, and (doctors) the names joined."""


def top_sql(kind: str, code: str | None = None, *, limit: int = TOP) -> str:
    """The top ``kind`` (``items`` or ``doctors``) of ``code`` or of every institution,
    over a connection with the lake's views and ``lead_context``."""
    parts = _TOP_KINDS[kind]
    where = unit_where(code)
    return _TOP_SQL.format(
        per=parts["per"].format(where=where),
        key=parts["key"],
        line_key=parts["line_key"],
        limit=int(limit),
        extra=parts["extra"],
        join=parts["join"].format(where=where),
    )


def _top_on_the_fly(view: RunView, kind: str, code: str, limit: int) -> pl.DataFrame:
    """:func:`top_sql` of one institution, its leads' lines put in context here."""
    con = view.lake_cursor()
    try:
        lines = literal(str(view.lines_path))
        con.execute(
            f"CREATE TEMP VIEW lead_lines AS SELECT * FROM read_parquet({lines}) "
            f"WHERE {unit_where(code)}"
        )
        con.execute(f"CREATE TEMP VIEW lead_context AS {lines_sql(all_leads=True)}")
        return con.sql(top_sql(kind, code, limit=limit)).pl().drop("fixmedins_code")
    finally:
        con.close()


_TOP_COLUMNS = {
    "items": ("med_list_codg", "item_name", "n_lines", "cnt", "inscp_amt", "share"),
    "doctors": ("dr_codg", "dr_name", "n_settlements", "n_lines", "inscp_amt"),
}


def _top(view: RunView, kind: str, code: str, limit: int) -> pl.DataFrame:
    if limit <= TOP:
        found = view.mart_rows(
            f"institution_{kind}",
            lambda: _top_on_the_fly(view, kind, code, TOP),
            fixmedins_code=code,
        )
        found = found.head(limit)
    else:
        found = _top_on_the_fly(view, kind, code, limit)
    return found.select(*_TOP_COLUMNS[kind], "n_findings", "finding_ids")


def top_items(view: RunView, code: str, *, limit: int = TOP) -> pl.DataFrame:
    """The items with the largest in-scope amount: ``med_list_codg``, ``item_name``,
    ``n_lines``, ``cnt``, ``inscp_amt``, its ``share`` of the institution's, and the leads
    naming its lines (``n_findings``, ``finding_ids``)."""
    return _top(view, "items", code, limit)


def top_doctors(view: RunView, code: str, *, limit: int = TOP) -> pl.DataFrame:
    """The billing doctors (``bilg_dr_codg``) with the largest in-scope amount:
    ``dr_codg``, ``dr_name``, ``n_settlements``, ``n_lines``, ``inscp_amt``, and the leads
    naming their lines (``n_findings``, ``finding_ids``)."""
    return _top(view, "doctors", code, limit)


def header_rows(view: RunView, code: str | None = None) -> pl.DataFrame:
    """The institution record and the settings it has settled, of ``code`` or of every
    institution (the ``institution_headers`` mart)."""
    return lake_frame(
        view,
        f"""SELECT i.fixmedins_code, i.fixmedins_name, i.fixmedins_type, i.medins_type,
                   i.hosp_lv, i.admdvs, i.admdvs_name, i.agrmt_no,
                   i.agrmt_begn_date, i.agrmt_end_date, s.settings
            FROM institution i
            LEFT JOIN (SELECT fixmedins_code, list_sort(list(DISTINCT {SETTING_SQL})) AS settings
                       FROM settlement WHERE {unit_where(code)} GROUP BY ALL) s
                 USING (fixmedins_code)
            WHERE {unit_where(code, "i.fixmedins_code")}
            ORDER BY i.fixmedins_code""",
    )


def header(view: RunView, code: str, *, lang: str = "zh") -> dict[str, Any]:
    """Name, kind, level, zone, agreement and the settings it has settled, for the page's
    title; :class:`LookupError` for a code the lake does not hold."""
    found = view.mart_rows(
        "institution_headers",
        lambda: header_rows(view, code).drop("fixmedins_code"),
        fixmedins_code=code,
    )
    rows = [{"fixmedins_code": code, **r} for r in found.to_dicts()]
    if not rows:
        msg = f"institution {code!r} is not in the lake"
        raise LookupError(msg)
    out = rows[0]
    group = peer_groups(view).filter(pl.col("fixmedins_code") == code)["peer_group"]
    out["peer_group"] = group[0] if group.len() else None
    out["peer_group_label"] = peer_group_label(out["peer_group"], lang)
    out["setting_labels"] = [pick(SETTINGS[s], lang) for s in out["settings"] or [] if s]
    return out


def peer_group_label(group: str | None, lang: str = "zh") -> str:
    """A peer group (``medins_type|hosp_lv``; ``*|hosp_lv`` pooled across kinds) as a
    reader says it: ``中医医院 · 二级``, ``二级（各类机构）``; ``—`` for none."""
    if not group:
        return "—"
    kind, _, level = group.partition("|")
    level_text = code_label("hosp_lv", level or "9", lang)
    if kind == "*":
        return pick(POOLED, lang).format(level=level_text)
    kind_text = code_label("medins_type", kind, lang) if kind else "—"
    return f"{kind_text} · {level_text}" if lang == "zh" else f"{kind_text}, {level_text}"


def ranked(view: RunView, *, lang: str = "zh") -> pl.DataFrame:
    """Every institution of the lake, most at risk first: the run's risk ranking (``rank``,
    ``risk_score``, ``amount_at_risk``, ``n_findings``, ``reasons``), then those it does
    not rank, by name; with ``fixmedins_name`` from the lake where the ranking has none."""
    units = view.institutions.select("fixmedins_code", "fixmedins_name")
    ranking = lead_ranking(view, "institution", lang).select(
        "rank", "fixmedins_code", "risk_score", "amount_at_risk", "n_findings", "reasons"
    )
    return (
        units.join(ranking, on="fixmedins_code", how="left")
        .sort(["rank", "fixmedins_name", "fixmedins_code"], nulls_last=True)
        .select(
            "rank",
            "fixmedins_code",
            "fixmedins_name",
            "risk_score",
            "amount_at_risk",
            "n_findings",
            "reasons",
        )
    )


def choices(view: RunView, *, order: str = "risk", lang: str = "zh") -> list[dict[str, str]]:
    """``{"label": "name (code)", "value": code}`` for a searchable institution picker
    (typing part of a name or code finds it), most at risk first (``order="risk"``) or by
    name (``"name"``)."""
    if order == "risk":
        units = ranked(view, lang=lang)
    elif order == "name":
        units = view.institutions.sort("fixmedins_name", "fixmedins_code", nulls_last=True)
    else:
        msg = f"unknown order {order!r}; expected risk or name"
        raise ValueError(msg)
    return [
        {"label": f"{n} ({c})" if n else c, "value": c}
        for c, n in units.select("fixmedins_code", "fixmedins_name").iter_rows()
    ]


@dataclass(frozen=True)
class InstitutionProfile:
    """Everything the page shows about one institution in one run."""

    header: dict[str, Any]
    peers: pl.DataFrame
    peer_values: pl.DataFrame
    trend: pl.DataFrame
    items: pl.DataFrame
    doctors: pl.DataFrame
    leads: pl.DataFrame
    """Its :data:`PROFILE_LEADS` riskiest leads."""
    n_leads: int
    leads_by_rule: pl.DataFrame
    quality: dict[str, Any] | None
    """The lake's data-quality figures of the institution (``dq_institution``)."""
    quality_findings: pl.DataFrame
    """Its data-quality findings by rule (:func:`quality_view.by_rule`): no leads, so
    neither in ``leads`` nor in any count of them."""


def institution_profile(
    view: RunView, code: str, case_store: CaseStore | None = None, *, lang: str = "zh"
) -> InstitutionProfile:
    """The profile of ``code``; :class:`LookupError` if the lake does not know it."""
    head = header(view, code, lang=lang)
    flt = LeadFilter(fixmedins_codes=(code,))
    leads, n_leads, leads_by_rule = unit_leads(view, flt, case_store, lang=lang)
    return InstitutionProfile(
        header=head,
        peers=peer_comparison(view, code, lang=lang),
        peer_values=peer_values(view, code),
        trend=monthly_trend(view, code),
        items=top_items(view, code),
        doctors=top_doctors(view, code),
        leads=leads,
        n_leads=n_leads,
        leads_by_rule=leads_by_rule,
        quality=data_quality(view, code),
        quality_findings=by_rule(view, lang=lang).filter(pl.col("fixmedins_code") == code),
    )
