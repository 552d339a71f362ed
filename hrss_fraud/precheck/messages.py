"""The check service's messages: the platform's 3101/3102/3103 envelope and our plain JSON
form, read into the checker's :class:`Visit` and answered from its :class:`CheckHit`.

Hospitals' systems were written against several provinces' versions of the interfaces, so
each field is accepted under its platform name, its camelCase spelling and the variants
in :data:`VARIANTS`; an empty string or ``null`` counts as not sent (systems send ``""``
for what they do not have, lists included); a single object stands for a one-item list
(some send ``patient_dtos`` and ``fsi_encounter_dtos`` as objects); times come as
``yyyy-MM-dd HH:mm:ss``, ``yyyy-MM-dd``, ISO-8601, ``yyyyMMdd[HHmmss]`` or epoch
milliseconds (Java's default). Whatever fails is a :class:`MessageError` naming each
field by its path, with the reason in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AliasChoices,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

M = TypeVar("M", bound=BaseModel)

CHINA = ZoneInfo("Asia/Shanghai")
"""Claims carry local wall-clock times without a zone; an aware time is read in this one."""

VARIANTS: dict[str, tuple[str, ...]] = {
    "patient_dtos": ("patientDto", "patient_dto"),
    "fsi_encounter_dtos": ("encounter_dtos", "encounterDtos", "fsi_encounter_dto"),
    "fsi_diagnose_dtos": ("diagnose_dtos", "diagnoseDtos"),
    "fsi_operation_dtos": ("operation_dtos", "operationDtos"),
    "fsi_order_dtos": ("order_dtos", "orderDtos"),
    "medins_id": ("fixmedins_code",),
    "poolarea": ("poolarea_no", "insu_admdvs"),
    "hilist_code": ("med_list_codg",),
    "hilist_name": ("medins_list_name",),
    "hosplist_code": ("medins_list_codg",),
    "hilist_type": ("list_type",),
    "chrg_type": ("med_chrgitm_type",),
    "sumamt": ("det_item_fee_sumamt",),
    "drord_begn_date": ("drord_begntime", "fee_ocur_time"),
    "drord_dept_codg": ("bilg_dept_codg",),
    "drord_dr_codg": ("bilg_dr_codg",),
    "oprn_code": ("oprn_oprt_code",),
    "dspo_way_rea": ("dspo_rea", "dspo_way_rsn"),
    "warn_rslt_id": ("jr_id",),
    "warns": ("warn_dtos", "warnDtos"),
    "dscg_date": ("endtime",),
}
"""Other names provinces' systems use for a field (besides its camelCase spelling): Hainan's
``encounter_dtos``/``order_dtos``/``diagnose_dtos`` without the ``fsi_`` prefix, the
institution as ``fixmedins_code``, the order's fields under the upload names
(``med_list_codg``, ``det_item_fee_sumamt``, ``fee_ocur_time``...), a warning as its
``jr_id``. docs/check_service.md lists them."""

_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
)


def _aliases(name: str) -> AliasChoices:
    return AliasChoices(name, to_camel(name), *VARIANTS.get(name, ()))


def parse_time(value: object) -> object:
    """A sent time as a naive local :class:`datetime` (the lake's kind); anything else is
    left for pydantic to refuse."""
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(CHINA).replace(tzinfo=None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC).astimezone(CHINA).replace(tzinfo=None)
    if not isinstance(value, str):
        return value
    text = value.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return parse_time(datetime.fromisoformat(text))
    except ValueError:
        msg = "时间格式无法识别 unreadable time (e.g. 2026-03-01 08:30:00)"
        raise ValueError(msg) from None


def _as_day(value: object) -> object:
    parsed = parse_time(value)
    return parsed.date() if isinstance(parsed, datetime) else parsed


def _as_list(value: object) -> object:
    """One object sent where a list belongs is a one-item list; ``"a,b"`` is two ids."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, str):
        return [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    return value


Time = Annotated[datetime, BeforeValidator(parse_time)]
Day = Annotated[date, BeforeValidator(_as_day)]


class Message(BaseModel):
    """Every message part: unknown fields ignored, aliases accepted, ``""`` as not sent."""

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=_aliases),
        coerce_numbers_to_str=True,
        str_strip_whitespace=True,
        allow_inf_nan=False,
        frozen=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: object) -> object:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None and v != ""}
        return data


OneOrMore = Annotated[list[M], BeforeValidator(_as_list), Field(min_length=1)]
"""A list of at least one item, a lone object accepted as one."""
Listed = Annotated[list[M], BeforeValidator(_as_list)]
Ids = Annotated[list[str], BeforeValidator(_as_list)]


# --- the platform's 3101 / 3102 input -------------------------------------------------------


class Diagnosis(Message):
    dise_codg: str
    dise_name: str | None = None
    maindise_flag: str | None = None
    dias_srt_no: int | None = None


class Operation(Message):
    oprn_code: str
    oprn_name: str | None = None
    main_oprn_flag: str | None = None


class Order(Message):
    """One order or fee line (``fsi_order_dtos``)."""

    rx_id: str
    rxno: str | None = None
    hilist_code: str
    hilist_name: str | None = None
    hosplist_code: str | None = None
    hosplist_name: str | None = None
    hilist_type: str | None = None
    chrg_type: str | None = None
    cnt: Decimal
    pric: Decimal
    sumamt: Decimal | None = None
    drord_begn_date: Time
    drord_dept_codg: str | None = None
    drord_dr_codg: str | None = None
    long_drord_flag: str | None = None


class Encounter(Message):
    """One visit (``fsi_encounter_dtos``)."""

    mdtrt_id: str
    medins_id: str | None = None
    medins_lv: str | None = None
    adm_date: Time
    dscg_date: Time | None = None
    dscg_main_dise_codg: str | None = None
    med_type: str
    insutype: str | None = None
    adm_dept_codg: str | None = None
    dr_codg: str | None = None
    fsi_diagnose_dtos: Listed[Diagnosis] = []
    fsi_operation_dtos: Listed[Operation] = []
    fsi_order_dtos: Listed[Order] = []


class Patient(Message):
    patn_id: str
    patn_name: str | None = None
    gend: str | None = None
    brdy: Day | None = None
    poolarea: str | None = None
    curr_mdtrt_id: str | None = None
    fsi_encounter_dtos: OneOrMore[Encounter]

    def current(self) -> list[Encounter]:
        """The visits to check: the ``curr_mdtrt_id`` one when it is among those sent (the
        others are history the caller added), else every one."""
        chosen = [e for e in self.fsi_encounter_dtos if e.mdtrt_id == self.curr_mdtrt_id]
        return chosen or list(self.fsi_encounter_dtos)


class AnalysisInput(Message):
    """``input.data`` of 3101 (事前) and 3102 (事中)."""

    trig_scen: str
    rule_ids: Ids = []
    task_id: str | None = None
    patient_dtos: OneOrMore[Patient]


# --- 3103 feedback ----------------------------------------------------------------------------


class Warn(Message):
    """The doctor's handling of one warning: 1 continued (a reason needed), 2 changed."""

    warn_rslt_id: str
    dspo_way: Literal["1", "2"]
    dspo_way_rea: str = ""

    @model_validator(mode="after")
    def _reason_to_continue(self) -> Warn:
        if self.dspo_way == "1" and not self.dspo_way_rea:
            msg = "继续执行须说明原因 dspo_way 1 (continued) needs dspo_way_rea"
            raise ValueError(msg)
        return self


class FeedbackInput(Message):
    """``input.data`` of 3103."""

    warn_type: str | None = None
    warns: OneOrMore[Warn]


class Envelope(Message):
    """The platform's request envelope; ``input`` is read per ``infno``."""

    infno: str
    fixmedins_code: str
    opter: str | None = None
    inf_time: str | None = None
    msgid: str | None = None
    input: dict[str, Any]

    def data(self) -> dict[str, Any]:
        """``input.data``, or ``input`` itself from the systems that leave ``data`` out."""
        inner = self.input.get("data")
        return inner if isinstance(inner, dict) else self.input


# --- the plain form, in the uploads' field names ----------------------------------------------

SCENES = {"order": "3101", "settlement": "3102"}
"""The plain form's ``scene``: ordering (事前, as 3101) or settlement (事中, as 3102)."""
DSPO_WAYS = {"continued": "1", "changed": "2", "1": "1", "2": "2"}


class PlainLine(Message):
    feedetl_sn: str
    med_list_codg: str
    medins_list_codg: str | None = None
    medins_list_name: str | None = None
    list_type: str | None = None
    med_chrgitm_type: str | None = None
    cnt: Decimal
    pric: Decimal
    det_item_fee_sumamt: Decimal | None = None
    fee_ocur_time: Time
    bilg_dept_codg: str | None = None
    bilg_dr_codg: str | None = None


class PlainVisit(Message):
    psn_no: str
    mdtrt_id: str
    fixmedins_code: str | None = None
    med_type: str
    begntime: Time
    endtime: Time | None = None
    insutype: str | None = None
    dise_codg: str | None = None
    diagnoses: Ids = []
    oprn_oprt_code: Ids = []
    gend: str | None = None
    brdy: Day | None = None
    adm_dept_codg: str | None = None
    lines: Listed[PlainLine] = []


class PlainCheck(Message):
    """``POST /check``: one institution's visits at one scene."""

    fixmedins_code: str
    scene: Literal["order", "settlement"] = "order"
    rule_ids: Ids = []
    visits: OneOrMore[PlainVisit] = Field(validation_alias=AliasChoices("visits", "visit"))


class PlainWarn(Message):
    warn_rslt_id: str
    dspo_way: Literal["continued", "changed", "1", "2"]
    reason: str = Field("", validation_alias=AliasChoices("reason", "dspo_way_rea"))

    @model_validator(mode="after")
    def _reason_to_continue(self) -> PlainWarn:
        if DSPO_WAYS[self.dspo_way] == "1" and not self.reason:
            msg = "继续执行须说明原因 dspo_way continued needs a reason"
            raise ValueError(msg)
        return self

    def as_warn(self) -> Warn:
        return Warn(
            warn_rslt_id=self.warn_rslt_id,
            dspo_way=DSPO_WAYS[self.dspo_way],
            dspo_way_rea=self.reason,
        )


class PlainFeedback(Message):
    """``POST /feedback``."""

    fixmedins_code: str
    scene: Literal["order", "settlement"] | None = None
    warns: OneOrMore[PlainWarn]


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a message: where (``input.data.patient_dtos[0].patn_id``) and
    why, in Chinese and English. The value sent is never repeated."""

    path: str
    reason_zh: str
    reason_en: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.path, "reason": self.reason_zh, "reason_en": self.reason_en}


class MessageError(ValueError):
    """A message that cannot be read; :attr:`problems` names each field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.reason_en}" for p in problems))


_REASONS: dict[str, tuple[str, str]] = {
    "missing": ("缺少必填字段", "required field missing"),
    "string_type": ("应为文本", "should be text"),
    "int_parsing": ("应为整数", "should be a whole number"),
    "int_type": ("应为整数", "should be a whole number"),
    "float_parsing": ("应为数字", "should be a number"),
    "decimal_parsing": ("应为数字", "should be a number"),
    "decimal_type": ("应为数字", "should be a number"),
    "float_type": ("应为数字", "should be a number"),
    "finite_number": ("应为有限数字", "should be a finite number"),
    "list_type": ("应为列表", "should be a list"),
    "dict_type": ("应为对象", "should be an object"),
    "model_type": ("应为对象", "should be an object"),
    "model_attributes_type": ("应为对象", "should be an object"),
    "datetime_type": ("应为时间", "should be a time"),
    "datetime_parsing": ("时间格式无法识别", "unreadable time"),
    "datetime_from_date_parsing": ("时间格式无法识别", "unreadable time"),
    "date_type": ("应为日期", "should be a date"),
    "date_parsing": ("日期格式无法识别", "unreadable date"),
    "date_from_datetime_inexact": ("应为日期", "should be a date without a time"),
    "too_short": ("不能为空", "must not be empty"),
    "literal_error": ("取值不在允许范围内", "not one of the allowed values"),
    "json_invalid": ("不是有效的JSON", "not valid JSON"),
}


def path_of(loc: tuple[str | int, ...]) -> str:
    """``('input', 'data', 'patient_dtos', 0, 'patn_id')`` as
    ``input.data.patient_dtos[0].patn_id``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(message)"


def problems_of(error: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[Problem]:
    """Each of pydantic's errors as a :class:`Problem` at its path under ``prefix``."""
    found = []
    for e in error.errors(include_input=False, include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if e["type"] == "value_error":
            text = str(e.get("ctx", {}).get("error", e["msg"]))
            zh, _, en = text.partition(" ")
            found.append(Problem(path_of((*prefix, *loc)), zh, en or text))
            continue
        zh, en = _REASONS.get(e["type"], ("字段值无效", e["msg"]))
        if e["type"] == "literal_error":
            en = f"{en}: {e.get('ctx', {}).get('expected', '')}"
            zh = f"{zh}：{e.get('ctx', {}).get('expected', '')}"
        found.append(Problem(path_of((*prefix, *loc)), zh, en))
    return found


def read(model: type[M], data: object, prefix: tuple[str | int, ...] = ()) -> M:
    """``data`` as ``model``, or :class:`MessageError` with every problem under ``prefix``."""
    if not isinstance(data, Mapping):
        raise MessageError([Problem(path_of(prefix), "应为对象", "should be an object")])
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise MessageError(problems_of(e, prefix)) from None
