"""From a read message to the checker's :class:`Visit`, and from its :class:`CheckHit` to
the answer: the platform's ``output.result`` or the plain form's ``hits``.

An answer names only what the caller sent: the patient's ``patn_id``, the visit and the
lines (``rx_id``) of this request. A hit's lines from the person's history (another
visit, perhaps another institution's) are never listed, and the content of a hit resting
on them is replaced by a sentence saying so (:func:`content`) unless the operator lets it
through.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from hrss_fraud.precheck.messages import (
    AnalysisInput,
    Encounter,
    MessageError,
    Order,
    Patient,
    PlainCheck,
    PlainLine,
    PlainVisit,
    Problem,
    path_of,
)
from hrss_fraud.precheck.visit import CheckHit, Visit, VisitError

SEV_DEG = {"definite": "1", "high": "2", "suspicious": "3"}
"""``sev_deg`` codes answered: 1 明确违规, 2 高度可疑, 3 可疑 (the catalogue's severities)."""
VIOLATING, INVOLVED = "1", "2"
"""``vola_item_type`` of a detail line: the line breaks the rule / the line is behind it."""


@dataclass(frozen=True)
class VisitCall:
    """One visit of a request: the :class:`Visit` to check (``None`` when it has no lines
    yet, e.g. 3101 at registration: nothing to check), and what its answer may name."""

    visit: Visit | None
    fixmedins_code: str
    patn_id: str
    mdtrt_id: str
    amounts: dict[str, Decimal]
    """The sent line amounts by ``rx_id``/``feedetl_sn``: which lines the answer may list."""

    @property
    def n_lines(self) -> int:
        return len(self.amounts)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def order_line(order: Order) -> dict[str, Any]:
    """One platform order as a line in the upload's names (DOMAIN.md §8 mapping)."""
    return {
        "feedetl_sn": order.rx_id,
        "rxno": order.rxno,
        "med_list_codg": order.hilist_code,
        "medins_list_codg": order.hosplist_code,
        "medins_list_name": order.hilist_name or order.hosplist_name,
        "list_type": order.hilist_type,
        "med_chrgitm_type": order.chrg_type,
        "cnt": order.cnt,
        "pric": order.pric,
        "det_item_fee_sumamt": (
            order.sumamt if order.sumamt is not None else _money(order.cnt * order.pric)
        ),
        "fee_ocur_time": order.drord_begn_date,
        "bilg_dept_codg": order.drord_dept_codg,
        "bilg_dr_codg": order.drord_dr_codg,
    }


def plain_line(line: PlainLine) -> dict[str, Any]:
    row = line.model_dump()
    if row["det_item_fee_sumamt"] is None:
        row["det_item_fee_sumamt"] = _money(line.cnt * line.pric)
    return row


def lines_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """The lines as a frame, without the columns none of them has (the checker fills them)."""
    present = [k for k in rows[0] if any(r[k] is not None for r in rows)]
    return pl.DataFrame([{k: r[k] for k in present} for r in rows])


def _visit(path: tuple[str | int, ...], **fields: Any) -> Visit:
    try:
        return Visit(**fields)
    except VisitError as e:
        raise MessageError([Problem(path_of(path), "就诊信息无效", str(e))]) from None


def _diagnoses(encounter: Encounter) -> tuple[str | None, tuple[str, ...]]:
    """The main diagnosis (``dscg_main_dise_codg``, else the one flagged main, else the first
    by ``dias_srt_no``) and every diagnosis code in order, once each."""
    ordered = sorted(
        encounter.fsi_diagnose_dtos,
        key=lambda d: (d.dias_srt_no is None, d.dias_srt_no or 0),
    )
    codes = tuple(dict.fromkeys(d.dise_codg for d in ordered))
    flagged = [d.dise_codg for d in ordered if d.maindise_flag in ("1", "Y", "y")]
    main = encounter.dscg_main_dise_codg or (flagged or list(codes) or [None])[0]
    return main, codes


def analysis_visits(data: AnalysisInput, fixmedins_code: str) -> list[VisitCall]:
    """The visits of a 3101/3102 ``input.data`` to check (:meth:`Patient.current`); a visit
    without ``medins_id`` is the envelope's institution's."""
    calls = []
    for p, patient in enumerate(data.patient_dtos):
        for encounter in patient.current():
            e = patient.fsi_encounter_dtos.index(encounter)
            path = ("input", "data", "patient_dtos", p, "fsi_encounter_dtos", e)
            calls.append(_encounter_call(patient, encounter, fixmedins_code, path))
    return calls


def _encounter_call(
    patient: Patient, encounter: Encounter, fixmedins_code: str, path: tuple[str | int, ...]
) -> VisitCall:
    medins = encounter.medins_id or fixmedins_code
    rows = [order_line(o) for o in encounter.fsi_order_dtos]
    main, codes = _diagnoses(encounter)
    visit = None
    if rows:
        visit = _visit(
            path,
            fixmedins_code=medins,
            psn_no=patient.patn_id,
            mdtrt_id=encounter.mdtrt_id,
            med_type=encounter.med_type,
            begntime=encounter.adm_date,
            endtime=encounter.dscg_date,
            insutype=encounter.insutype,
            dise_codg=main,
            diagnoses=codes,
            oprn_oprt_code=tuple(dict.fromkeys(o.oprn_code for o in encounter.fsi_operation_dtos)),
            gend=patient.gend,
            brdy=patient.brdy,
            adm_dept_codg=encounter.adm_dept_codg,
            lines=lines_frame(rows),
        )
    amounts = {r["feedetl_sn"]: r["det_item_fee_sumamt"] for r in rows}
    return VisitCall(visit, medins, patient.patn_id, encounter.mdtrt_id, amounts)


def plain_visits(data: PlainCheck) -> list[VisitCall]:
    """The visits of a plain ``POST /check``; a visit without ``fixmedins_code`` is the
    request's institution's."""
    calls = []
    for i, v in enumerate(data.visits):
        calls.append(_plain_call(v, data.fixmedins_code, ("visits", i)))
    return calls


def _plain_call(v: PlainVisit, fixmedins_code: str, path: tuple[str | int, ...]) -> VisitCall:
    medins = v.fixmedins_code or fixmedins_code
    rows = [plain_line(line) for line in v.lines]
    visit = None
    if rows:
        fields = v.model_dump(exclude={"lines", "fixmedins_code", "diagnoses", "oprn_oprt_code"})
        visit = _visit(
            path,
            **fields,
            fixmedins_code=medins,
            diagnoses=tuple(dict.fromkeys(v.diagnoses)),
            oprn_oprt_code=tuple(dict.fromkeys(v.oprn_oprt_code)),
            lines=lines_frame(rows),
        )
    amounts = {r["feedetl_sn"]: r["det_item_fee_sumamt"] for r in rows}
    return VisitCall(visit, medins, v.psn_no, v.mdtrt_id, amounts)


def new_warn_id() -> str:
    """A warning's id (``jr_id`` / ``warn_rslt_id``): random, so it says nothing about who."""
    return uuid.uuid4().hex


def _own_lines(call: VisitCall, keys: Iterable[str]) -> list[str]:
    """The ``feedetl_sn`` of this request's lines among a hit's line keys
    (``fixmedins_code|mdtrt_id|feedetl_sn``) or bare ``feedetl_sn``."""
    own = []
    for key in keys:
        parts = key.split("|")
        ours = len(parts) == 1 or parts[:-1] == [call.fixmedins_code, call.mdtrt_id]
        if ours and len(parts) in (1, 3) and parts[-1] in call.amounts:
            own.append(parts[-1])
    return list(dict.fromkeys(own))


def _shares(amount: Decimal, lines: list[str], call: VisitCall) -> dict[str, Decimal]:
    """The hit's amount spread over its violating lines by their amounts (to the fen, the
    rounding left on the last line), so the lines' ``vola_amt`` add up to the hit's."""
    if not lines:
        return {}
    weights = [call.amounts[sn] for sn in lines]
    total = sum(weights, Decimal(0))
    shares = [_money(amount * w / total) if total else _money(amount / len(lines)) for w in weights]
    shares[-1] += amount - sum(shares, Decimal(0))
    return dict(zip(lines, shares, strict=True))


HISTORY_CONTENT = (
    "{rule}：本次就诊与该参保人其他就诊（可能在其他机构）的记录相冲突；其他就诊的详情不经本接口提供，"
    "如有疑问请联系医保经办机构。"
)
"""What a hit says instead of its own content when it rests on the person's other visits:
that content names them (where, when, what), which the caller did not send."""


def uses_history(hit: CheckHit, call: VisitCall) -> bool:
    """Whether the hit names a visit other than the one the caller sent."""
    return any(
        key.count("|") >= 1 and key.split("|")[:2] != [call.fixmedins_code, call.mdtrt_id]
        for key in hit.involved
    )


def content(hit: CheckHit, call: VisitCall, *, history: bool = False) -> str:
    """The hit's content, or :data:`HISTORY_CONTENT` for one resting on other visits
    unless ``history`` (the operator's setting) lets their details through."""
    if history or not uses_history(hit, call):
        return hit.content
    return HISTORY_CONTENT.format(rule=hit.rule_name)


def result_item(
    hit: CheckHit, call: VisitCall, jr_id: str, task_id: str, *, history: bool = False
) -> dict[str, Any]:
    """One hit as an ``output.result`` item of 3101/3102."""
    amount = _money(Decimal(str(hit.amount)))
    violating = _own_lines(call, hit.violating)
    involved = [sn for sn in _own_lines(call, hit.involved) if sn not in violating]
    shares = _shares(amount, violating, call)
    details = [
        {
            "jrd_id": f"{jr_id}-{n}",
            "patn_id": call.patn_id,
            "mdtrt_id": call.mdtrt_id,
            "rx_id": sn,
            "vola_item_type": kind,
            "vola_amt": float(shares.get(sn, Decimal(0))),
        }
        for n, (sn, kind) in enumerate(
            [(sn, VIOLATING) for sn in violating] + [(sn, INVOLVED) for sn in involved], 1
        )
    ]
    return {
        "jr_id": jr_id,
        "rule_id": hit.rule_id,
        "rule_name": hit.rule_name,
        "vola_cont": content(hit, call, history=history),
        "patn_id": call.patn_id,
        "mdtrt_id": call.mdtrt_id,
        "vola_amt": float(amount),
        "sev_deg": SEV_DEG.get(hit.severity, hit.severity),
        "vola_evid": hit.framework,
        "vola_bhvr_type": hit.behaviour,
        "task_id": task_id,
        "judge_result_detail_dtos": details,
    }


def plain_hit(
    hit: CheckHit, call: VisitCall, warn_id: str, *, history: bool = False
) -> dict[str, Any]:
    """One hit as the plain form's ``hits`` item, in our own field names."""
    violating = _own_lines(call, hit.violating)
    return {
        "warn_rslt_id": warn_id,
        "psn_no": call.patn_id,
        "mdtrt_id": call.mdtrt_id,
        "rule_id": hit.rule_id,
        "rule_name": hit.rule_name,
        "rule_name_en": hit.rule_name_en,
        "severity": hit.severity,
        "severity_zh": hit.severity_zh,
        "behaviour": hit.behaviour,
        "framework": hit.framework,
        "content": content(hit, call, history=history),
        "amount": float(_money(Decimal(str(hit.amount)))),
        "violating": violating,
        "involved": [sn for sn in _own_lines(call, hit.involved) if sn not in violating],
    }
