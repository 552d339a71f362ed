"""The insured person's timeline (参保人): visits, pharmacy purchases and stays on one time
axis with the leads that name them, and who the person is, masked for roles that may not
see identities.

Opening a person's record is logged (PIPL, DOMAIN.md §1): :func:`open_person` writes the
``person.view`` audit row before it returns anything, so no page can show a record
without leaving its trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.cases import audit
from hrss_fraud.cases.masking import mask_frame
from hrss_fraud.cases.users import can
from hrss_fraud.lake.views import literal
from hrss_fraud.outputs.labels import med_type_labels
from hrss_fraud.outputs.leads import LeadFilter
from hrss_fraud.outputs.profile_data import (
    SETTING_SQL,
    SETTINGS,
    lake_frame,
    pick,
    unit_leads,
)

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User
    from hrss_fraud.outputs.runs_view import RunView

IDENTITY_COLUMNS = (
    "psn_no",
    "psn_name",
    "certno",
    "gend",
    "brdy",
    "insutype",
    "psn_type",
    "emp_name",
    "insu_admdvs",
    "tel",
    "addr",
    "die_date",
)

_TIMELINE_SQL = f"""
WITH s AS (
    SELECT * FROM settlement WHERE {{where}}
), n AS (
    SELECT psn_no, fixmedins_code, setl_id,
           count(*) FILTER (WHERE init_feedetl_sn IS NULL) AS n_lines
    FROM fee_detail WHERE {{where}} GROUP BY ALL
), leads AS (
    SELECT psn_no, fixmedins_code, setl_id,
           list_sort(list(DISTINCT finding_id)) AS finding_ids,
           sum(CAST(round(amount_at_risk * 100) AS BIGINT)) AS fen
    FROM read_parquet({{lines}}) WHERE setl_id IS NOT NULL AND {{where}} GROUP BY ALL
)
SELECT s.psn_no, s.setl_id, s.mdtrt_id, s.fixmedins_code, i.fixmedins_name, s.med_type,
       {SETTING_SQL} AS setting, s.begntime,
       coalesce(s.endtime, s.begntime) AS endtime, s.setl_time, s.dise_codg, s.dise_name,
       s.chfpdr_code, CAST(s.medfee_sumamt AS DOUBLE) AS medfee_sumamt,
       CAST(s.inscp_amt AS DOUBLE) AS inscp_amt,
       CAST(s.fund_pay_sumamt AS DOUBLE) AS fund_pay_sumamt,
       coalesce(s.vali_flag, '1') = '1' AND coalesce(s.refd_setl_flag, '0') = '0' AS valid,
       coalesce(n.n_lines, 0) AS n_lines,
       coalesce(leads.finding_ids, []::VARCHAR[]) AS finding_ids,
       round(coalesce(leads.fen, 0) / 100, 2) AS amount_at_risk
FROM s
LEFT JOIN (SELECT fixmedins_code, max(fixmedins_name) AS fixmedins_name
           FROM institution GROUP BY ALL) i USING (fixmedins_code)
LEFT JOIN n USING (psn_no, fixmedins_code, setl_id)
LEFT JOIN leads USING (psn_no, fixmedins_code, setl_id)
ORDER BY s.psn_no, s.begntime, s.fixmedins_code, s.setl_id
"""


def timeline_sql(view: RunView, psn_no: str | None = None, *, among: str | None = None) -> str:
    """The settlements of ``psn_no`` (or of everyone, by person: the ``person_timeline``
    mart; or of the persons of the table ``among``), each with its lines and the leads
    whose lines name it (``finding_ids``, and ``amount_at_risk`` summed in fen), before
    labelling: what :func:`timeline` shows."""
    if among is not None:
        where = f"psn_no IN (SELECT psn_no FROM {among})"
    else:
        where = "TRUE" if psn_no is None else f"psn_no = {literal(psn_no)}"
    return _TIMELINE_SQL.format(where=where, lines=literal(str(view.lines_path)))


def identity(view: RunView, psn_no: str, role: str | None) -> dict[str, Any] | None:
    """The person's record as ``role`` may see it (:func:`masking.mask_frame`); None if the
    lake holds no person ``psn_no``."""
    cols = ", ".join(IDENTITY_COLUMNS)
    found = lake_frame(view, f"SELECT {cols} FROM person WHERE psn_no = ? LIMIT 1", [psn_no])
    rows = mask_frame(found, role).to_dicts()
    return rows[0] if rows else None


def timeline(view: RunView, psn_no: str, *, lang: str = "zh") -> pl.DataFrame:
    """One row per settlement of the person, in time order: where, which setting (门诊,
    住院, 药店购药; ``setting_label``), from ``begntime`` to ``endtime`` (a visit's own
    time when it has no end), diagnosis, amounts, whether it counts (``valid``), and the
    leads whose lines name it (``n_findings``, ``amount_at_risk`` on its lines,
    ``finding_ids``)."""
    rows = view.mart_rows(
        "person_timeline",
        lambda: lake_frame(view, timeline_sql(view, psn_no)).drop("psn_no"),
        psn_no=psn_no,
    )
    care = med_type_labels(lang)
    settings = {k: pick(v, lang) for k, v in SETTINGS.items()}
    return rows.with_columns(
        med_type_name=pl.col("med_type").replace_strict(care, default=pl.col("med_type")),
        setting_label=pl.col("setting").replace_strict(settings, default=pl.col("setting")),
        n_findings=pl.col("finding_ids").list.len(),
    )


SEARCH_LIMIT = 20
"""Most persons a search suggests."""


def find_persons(
    view: RunView, text: str | None, role: str | None, *, limit: int = SEARCH_LIMIT
) -> pl.DataFrame:
    """Persons the search box's ``text`` may mean, for a picker: ``psn_no`` and ``label``
    ("name (number)", the name masked as ``role`` sees it). A part of the person number
    finds them; so does a part of the name, for a role that may see names
    (``view_identity``) only: a masked role searches by number alone, so a search cannot
    reveal whose name matches. An exact number comes first, then numbers in order."""
    text = (text or "").strip()
    empty = pl.DataFrame(schema={"psn_no": pl.String, "label": pl.String})
    if not text:
        return empty
    by_name = role is not None and can(role, "view_identity")
    where = "contains(lower(psn_no), lower(?))"
    params: list[Any] = [text]
    if by_name:
        where += " OR contains(psn_name, ?)"
        params.append(text)
    found = lake_frame(
        view,
        f"""SELECT psn_no, max(psn_name) AS psn_name FROM person WHERE {where}
            GROUP BY psn_no ORDER BY psn_no <> ?, psn_no LIMIT {int(limit)}""",
        [*params, text],
    )
    if found.is_empty():
        return empty
    shown = mask_frame(found, role)
    return shown.select(
        "psn_no",
        label=pl.when(pl.col("psn_name").is_not_null())
        .then(pl.format("{} ({})", "psn_name", "psn_no"))
        .otherwise(pl.col("psn_no")),
    )


@dataclass(frozen=True)
class PersonRecord:
    """What the person page shows, as the viewing user may see it."""

    psn_no: str
    identity: dict[str, Any] | None
    masked: bool
    timeline: pl.DataFrame
    leads: pl.DataFrame
    """The person's :data:`PROFILE_LEADS` riskiest leads."""
    n_leads: int
    leads_by_rule: pl.DataFrame
    audit_id: int


def open_person(
    view: RunView,
    case_store: CaseStore,
    psn_no: str,
    user: User,
    *,
    lang: str = "zh",
) -> PersonRecord:
    """The person's record for ``user``, after logging the view (``person.view``, with
    the run and whether identities were masked). ``PermissionError`` for a user who may
    not view leads; :class:`LookupError` when neither the lake nor the run knows the
    person (logged too: looking someone up is an access)."""
    if not user.can("view_leads"):
        msg = f"{user.username} ({user.role}) may not view persons' records"
        raise PermissionError(msg)
    masked = not user.can("view_identity")
    who = identity(view, psn_no, user.role)
    events = timeline(view, psn_no, lang=lang)
    flt = LeadFilter(psn_no=psn_no)
    leads, n_leads, leads_by_rule = unit_leads(view, flt, case_store, lang=lang)
    audit_id = audit.record(
        case_store,
        user.username,
        "person.view",
        "person",
        psn_no,
        {
            "run_id": view.run_id,
            "masked": masked,
            "found": who is not None or events.height > 0,
            "n_findings": n_leads,
        },
    )
    if who is None and events.is_empty() and n_leads == 0:
        msg = f"person {psn_no!r} is neither in the lake nor in run {view.run_id}"
        raise LookupError(msg)
    return PersonRecord(
        psn_no=psn_no,
        identity=who,
        masked=masked,
        timeline=events,
        leads=leads,
        n_leads=n_leads,
        leads_by_rule=leads_by_rule,
        audit_id=audit_id,
    )
