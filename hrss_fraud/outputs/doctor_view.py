"""The doctor profile (医师画像): how many outpatients a doctor sees a day against what the
peers' doctors usually see, what the doctor bills by charge class against the peers' mix,
and the leads on lines the doctor billed.

A doctor is known by the code in the settlement (``chfpdr_code``, the attending doctor)
and on each fee line (``bilg_dr_codg``, who ordered it); a visit counts for every doctor
named on it either way, as the risk ranking attributes lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.lake.views import literal
from hrss_fraud.model.codes import MED_CHRGITM_TYPE
from hrss_fraud.outputs.leads import LeadFilter
from hrss_fraud.outputs.profile_data import (
    SETTING_SQL,
    VALID,
    lake_frame,
    peer_groups,
    unit_leads,
)

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

_DOCTOR_DAYS_SQL = f"""
WITH s AS (
    SELECT fixmedins_code, setl_id, psn_no, chfpdr_code, CAST(begntime AS DATE) AS day
    FROM settlement WHERE {VALID} AND {SETTING_SQL} = 'op'
), named AS (
    SELECT fixmedins_code, setl_id, psn_no, day, chfpdr_code AS dr_codg
    FROM s WHERE chfpdr_code IS NOT NULL
    UNION
    SELECT s.fixmedins_code, s.setl_id, s.psn_no, s.day, f.bilg_dr_codg
    FROM s JOIN fee_detail f USING (fixmedins_code, setl_id)
    WHERE f.bilg_dr_codg IS NOT NULL
)
SELECT fixmedins_code, dr_codg, day, count(DISTINCT setl_id) AS n_visits,
       count(DISTINCT psn_no) AS n_patients
FROM named GROUP BY ALL ORDER BY fixmedins_code, dr_codg, day
"""


def doctor_days(view: RunView) -> pl.DataFrame:
    """Every doctor's working days (a day with at least one outpatient visit):
    ``fixmedins_code, dr_codg, day, n_visits, n_patients``. Computed once per run."""
    return view.memo(
        "doctor:days",
        lambda: view.from_mart("doctor_days", lambda: lake_frame(view, _DOCTOR_DAYS_SQL)),
    )


def _peer_codes(view: RunView, code: str) -> list[str]:
    groups = peer_groups(view)
    mine = groups.filter(pl.col("fixmedins_code") == code)["peer_group"].to_list()
    return groups.filter(pl.col("peer_group").is_in(mine))["fixmedins_code"].to_list()


def daily_volume(view: RunView, code: str, dr_codg: str) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The doctor's outpatient visits and patients per working day, and the peers' usual
    day: the median (and 90th percentile) of the visits per working day of the other
    doctors at the institutions of the same peer group, with how many doctors and days it
    rests on."""
    days = doctor_days(view)
    own = days.filter(pl.col("fixmedins_code") == code, pl.col("dr_codg") == dr_codg).drop(
        "fixmedins_code", "dr_codg"
    )
    peers = days.filter(
        pl.col("fixmedins_code").is_in(_peer_codes(view, code)),
        ~((pl.col("fixmedins_code") == code) & (pl.col("dr_codg") == dr_codg)),
    )
    n = peers.height
    usual = {
        "usual_day": float(peers["n_visits"].median()) if n else None,  # type: ignore[arg-type]
        "p90_day": float(peers["n_visits"].quantile(0.9, "linear")) if n else None,  # type: ignore[arg-type]
        "n_doctors": peers.select("fixmedins_code", "dr_codg").n_unique() if n else 0,
        "n_days": n,
        "own_median_day": float(own["n_visits"].median()) if own.height else None,  # type: ignore[arg-type]
        "own_max_day": int(own["n_visits"].max()) if own.height else None,  # type: ignore[arg-type]
    }
    return own, usual


_MIX_SQL = """
    SELECT fixmedins_code, bilg_dr_codg AS dr_codg,
           coalesce(med_chrgitm_type, '') AS med_chrgitm_type,
           count(*) FILTER (WHERE init_feedetl_sn IS NULL) AS n_lines,
           sum(CAST(inscp_amt AS DECIMAL(38, 2))) AS inscp_amt
    FROM fee_detail
    WHERE coalesce(vali_flag, '1') = '1' AND bilg_dr_codg IS NOT NULL AND {where}
    GROUP BY ALL ORDER BY ALL"""


def mix_rows(view: RunView, codes: list[str] | None = None) -> pl.DataFrame:
    """Lines and in-scope amount (a decimal: sums of it are exact) per institution, doctor
    and charge class, at ``codes`` or everywhere (the ``doctor_mix`` mart)."""
    where = "TRUE" if codes is None else f"fixmedins_code IN ({_listed(codes)})"
    return lake_frame(view, _MIX_SQL.format(where=where))


def _listed(codes: list[str]) -> str:
    return ", ".join(literal(c) for c in codes) or "NULL"


def item_mix(view: RunView, code: str, dr_codg: str, *, lang: str = "zh") -> pl.DataFrame:
    """The doctor's lines by charge class (``med_chrgitm_type`` and its label):
    ``n_lines``, ``inscp_amt``, its ``share`` of the doctor's in-scope amount, and
    ``peer_share``, the same share over every other doctor at the peer institutions."""
    peers = _peer_codes(view, code)
    path = view.mart("doctor_mix")
    if path is None:
        rows = mix_rows(view, peers)
    else:
        rows = pl.scan_parquet(path).filter(pl.col("fixmedins_code").is_in(peers)).collect()
    mine = (pl.col("fixmedins_code") == code) & (pl.col("dr_codg") == dr_codg)

    def by_class(df: pl.DataFrame) -> pl.DataFrame:
        return df.group_by("med_chrgitm_type").agg(
            pl.col("n_lines").sum(), pl.col("inscp_amt").sum().cast(pl.Float64)
        )

    def share(df: pl.DataFrame) -> pl.Expr:
        total = df["inscp_amt"].sum()
        return pl.col("inscp_amt") / total if total else pl.lit(None, pl.Float64)

    own, others = by_class(rows.filter(mine)), by_class(rows.filter(~mine))
    labels = MED_CHRGITM_TYPE.en_names() if lang == "en" else MED_CHRGITM_TYPE.zh_names()
    theirs = others.select("med_chrgitm_type", peer_share=share(others))
    return (
        own.with_columns(share=share(own))
        .join(theirs, on="med_chrgitm_type", how="left")
        .with_columns(
            label=pl.col("med_chrgitm_type").replace_strict(
                labels, default=pl.col("med_chrgitm_type")
            ),
            peer_share=pl.col("peer_share").fill_null(0.0),
        )
        .sort(["inscp_amt", "med_chrgitm_type"], descending=[True, False])
        .select("med_chrgitm_type", "label", "n_lines", "inscp_amt", "share", "peer_share")
    )


DOCTOR_LEADS_SQL = """
SELECT DISTINCT fixmedins_code, doctor AS dr_codg, finding_id FROM line_doctors
WHERE doctor IS NOT NULL
UNION
SELECT fixmedins_code, entity_id, finding_id FROM read_parquet({findings})
WHERE entity_type = 'doctor' AND entity_id IS NOT NULL
ORDER BY ALL
"""
"""Who answers for which lead (the ``doctor_leads`` mart), over the run's lines with the
doctor each belongs to (``line_doctors``, as the doctor ranking attributes them): as
:func:`doctor_finding_ids` finds them for one doctor."""


def doctor_lead_ids(view: RunView, code: str, dr_codg: str) -> list[str]:
    """:func:`doctor_finding_ids`, from the ``doctor_leads`` mart when it is built."""
    found = view.mart_rows(
        "doctor_leads",
        lambda: pl.DataFrame(
            {"finding_id": doctor_finding_ids(view, code, dr_codg)},
            schema={"finding_id": pl.String},
        ),
        fixmedins_code=code,
        dr_codg=dr_codg,
    )
    return found["finding_id"].to_list()


def doctor_finding_ids(view: RunView, code: str, dr_codg: str) -> list[str]:
    """The run's leads the doctor answers for: those with a line the doctor billed
    (``bilg_dr_codg``; a settlement row through its ``chfpdr_code``) and the doctor-level
    leads naming the doctor."""
    lines = (
        pl.scan_parquet(view.lines_path)
        .filter(pl.col("fixmedins_code") == code)
        .select("finding_id", "fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn")
        .collect()
    )
    con = view.lake_cursor()
    try:
        con.register("run_lines", lines)
        billed = con.execute(
            """SELECT DISTINCT r.finding_id FROM run_lines r
               LEFT JOIN fee_detail f ON r.feedetl_sn IS NOT NULL
                    AND f.fixmedins_code = r.fixmedins_code AND f.mdtrt_id = r.mdtrt_id
                    AND f.feedetl_sn = r.feedetl_sn
               LEFT JOIN settlement s ON r.feedetl_sn IS NULL
                    AND s.fixmedins_code = r.fixmedins_code AND s.setl_id = r.setl_id
               WHERE coalesce(f.bilg_dr_codg, s.chfpdr_code) = ?""",
            [dr_codg],
        ).fetchall()
    finally:
        con.close()
    own = (
        pl.scan_parquet(view.findings_path)
        .filter(
            pl.col("fixmedins_code") == code,
            pl.col("entity_type") == "doctor",
            pl.col("entity_id") == dr_codg,
        )
        .select("finding_id")
        .collect()["finding_id"]
        .to_list()
    )
    return sorted({r[0] for r in billed} | set(own))


def header(view: RunView, code: str, dr_codg: str) -> dict[str, Any]:
    """The doctor's name and department (from ``practitioner``) and the institution's
    name; :class:`LookupError` when neither the register nor any claim names the doctor."""
    rows = lake_frame(
        view,
        """SELECT max(p.dr_name) AS dr_name, max(p.dept_codg) AS dept_codg
           FROM practitioner p WHERE p.fixmedins_code = ? AND p.dr_codg = ?""",
        [code, dr_codg],
    ).to_dicts()
    known = rows[0]["dr_name"] is not None or rows[0]["dept_codg"] is not None
    if (
        not known
        and doctor_days(view)
        .filter(pl.col("fixmedins_code") == code, pl.col("dr_codg") == dr_codg)
        .is_empty()
    ):
        msg = f"doctor {dr_codg!r} of institution {code!r} is not in the lake"
        raise LookupError(msg)
    name = view.institutions.filter(pl.col("fixmedins_code") == code)["fixmedins_name"]
    return {
        "fixmedins_code": code,
        "fixmedins_name": name[0] if name.len() else None,
        "dr_codg": dr_codg,
        **rows[0],
    }


@dataclass(frozen=True)
class DoctorProfile:
    """Everything the page shows about one doctor in one run."""

    header: dict[str, Any]
    days: pl.DataFrame
    usual: dict[str, Any]
    mix: pl.DataFrame
    leads: pl.DataFrame
    """The :data:`PROFILE_LEADS` riskiest of the leads the doctor answers for."""
    n_leads: int
    leads_by_rule: pl.DataFrame


def doctor_profile(
    view: RunView,
    code: str,
    dr_codg: str,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> DoctorProfile:
    """The profile of doctor ``dr_codg`` at ``code``; :class:`LookupError` if unknown."""
    head = header(view, code, dr_codg)
    days, usual = daily_volume(view, code, dr_codg)
    flt = LeadFilter(finding_ids=tuple(doctor_lead_ids(view, code, dr_codg)))
    leads, n_leads, leads_by_rule = unit_leads(view, flt, case_store, lang=lang)
    return DoctorProfile(
        header=head,
        days=days,
        usual=usual,
        mix=item_mix(view, code, dr_codg, lang=lang),
        leads=leads,
        n_leads=n_leads,
        leads_by_rule=leads_by_rule,
    )
