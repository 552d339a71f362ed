"""The supervision registers as data: one TOML file per register in the ``registers/``
policy folder (a workspace's own ``WORKSPACE/registers`` replaces the shipped one).

Every register of the bureau's 事中事后监管 list has one shape — object, content, methods,
measures, procedure, handling — so one engine reads them all, and a new register is a
file, not code. Loading checks every file completely before any is used and names the
file and the entry (``check_items[3].severity``) of the first problem, so an operator's
typo stops the command with a line that says where to look instead of a half-loaded
register.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrss_fraud.resources import policy_dir

ENGINES = {
    "registers": ("本模块计划与记录检查", "inspections planned and recorded by this engine"),
    "rounds": (
        "由现场检查轮次与违约通知单办理",
        "run by inspection rounds and violation notices (hrss-fraud rounds, notice)",
    ),
}
"""Who runs a register's inspections. ``rounds``: the 两定点 register, described here in the
same form but planned with ``hrss-fraud rounds`` and handled with ``hrss-fraud notice``."""
SEVERITIES = {"minor": ("一般", "minor"), "serious": ("严重", "serious")}
HANDLING_KINDS = {
    "rectify": ("限期整改", "rectification by a deadline"),
    "warning": ("警告", "warning"),
    "suspend": ("暂停资格", "suspension"),
    "revoke": ("吊销（撤销）许可", "revocation of the licence"),
    "refer": ("移送司法机关", "criminal referral"),
}
"""What a handling option does. ``rectify`` is the order a failed inspection gets; the others
are sanctions a failed follow-up may be escalated to."""
SANCTION_KINDS = tuple(k for k in HANDLING_KINDS if k != "rectify")
EXPIRY_WARNING_DAYS = 60
"""A licence expiring within this many days is flagged (issue 19)."""

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_ITEM_CODE = re.compile(r"^[A-Z][A-Z0-9]*-\d{2,3}$")


class DefinitionError(ValueError):
    """A register file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class CheckItem:
    code: str
    text: str
    text_en: str
    basis: str
    severity: str


@dataclass(frozen=True)
class Step:
    step: str
    text: str
    text_en: str
    actor: str
    days: int | None


@dataclass(frozen=True)
class HandlingOption:
    code: str
    text: str
    text_en: str
    kind: str


@dataclass(frozen=True)
class Register:
    """One register as its file describes it."""

    code: str
    name: str
    name_en: str
    object: str
    object_en: str
    licence: str
    approved_by: str
    engine: str
    content: tuple[str, ...]
    methods: tuple[str, ...]
    measures: tuple[str, ...]
    annual_report: str
    report_to: str
    rectify_days: int
    follow_up_days: int
    inspection_days: int
    check_items: tuple[CheckItem, ...]
    procedure: tuple[Step, ...]
    handling: tuple[HandlingOption, ...]
    expiry_warning_days: int = EXPIRY_WARNING_DAYS
    entities: str = ""
    commands: tuple[str, ...] = ()
    documents: str = ""
    source: str = ""
    """The file it was read from."""

    def item(self, code: str) -> CheckItem:
        for i in self.check_items:
            if i.code == code:
                return i
        known = ", ".join(i.code for i in self.check_items)
        msg = f"register {self.code}: no check item {code!r}; its items: {known}"
        raise DefinitionError(msg)

    def sanction(self, code_or_kind: str) -> HandlingOption:
        """The sanction option named by its code or kind (``revoke``), or an error naming
        this register's sanctions."""
        for h in self.handling:
            if h.kind != "rectify" and code_or_kind in (h.code, h.kind):
                return h
        known = ", ".join(f"{h.code} {h.text}" for h in self.handling if h.kind != "rectify")
        msg = f"register {self.code} has no sanction {code_or_kind!r}; its sanctions: {known}"
        raise DefinitionError(msg)

    @property
    def runs_here(self) -> bool:
        return self.engine == "registers"


_TEXT = ("code", "name", "name_en", "object", "object_en", "licence", "approved_by", "engine")
_LISTS = ("content", "methods", "measures")
_DAYS = ("rectify_days", "follow_up_days", "inspection_days")
_KNOWN = {
    *_TEXT,
    *_LISTS,
    *_DAYS,
    "annual_report",
    "report_to",
    "check_items",
    "procedure",
    "handling",
    "expiry_warning_days",
    "entities",
    "commands",
    "documents",
}


def registers_dir(workspace: Path | None = None) -> Path:
    """The folder the registers are read from: the workspace's, else the shipped one."""
    return policy_dir("registers", workspace)


def load_registers(
    workspace: Path | None = None, folder: Path | None = None
) -> dict[str, Register]:
    """Every register of the folder (``folder``, else :func:`registers_dir`), by code;
    :class:`DefinitionError` naming the file and entry of the first problem."""
    root = Path(folder) if folder is not None else registers_dir(workspace)
    files = sorted(root.glob("*.toml"))
    if not files:
        msg = f"{root}: no register files (*.toml)"
        raise DefinitionError(msg)
    out: dict[str, Register] = {}
    for path in files:
        reg = parse_register(path)
        if reg.code in out:
            other = Path(out[reg.code].source).name
            msg = f"{path.name}: code {reg.code!r} is already used by {other}"
            raise DefinitionError(msg)
        out[reg.code] = reg
    return out


def get_register(code: str, workspace: Path | None = None) -> Register:
    """One register by code, or an error listing the codes there are."""
    regs = load_registers(workspace)
    if code not in regs:
        known = ", ".join(f"{c} ({r.name})" for c, r in regs.items())
        msg = f"no register {code!r}; registers: {known}"
        raise DefinitionError(msg)
    return regs[code]


def parse_register(path: Path) -> Register:
    """One register file, checked whole."""
    name = Path(path).name
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        msg = f"{name}: not valid TOML ({e})"
        raise DefinitionError(msg) from None
    return _register(data, name, str(path))


def _fail(where: str, what: str) -> DefinitionError:
    return DefinitionError(f"{where}: {what}")


def _text(data: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _fail(f"{where}.{key}", f"must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise _fail(f"{where}.{key}", "is missing or empty")
    return value.strip()


def _texts(data: dict[str, Any], key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(f"{where}.{key}", "must be a list of non-empty texts")
    if required and not value:
        raise _fail(f"{where}.{key}", "is missing or empty")
    return tuple(v.strip() for v in value)


def _days(data: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if value is None:
        raise _fail(f"{where}.{key}", "is missing (a number of days)")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
        raise _fail(f"{where}.{key}", f"{value!r} is not a number of days 1–365")
    return value


def _one_of(value: str, vocabulary: dict[str, tuple[str, str]], where: str) -> str:
    if value not in vocabulary:
        known = ", ".join(f"{k} ({zh})" for k, (zh, _) in vocabulary.items())
        raise _fail(where, f"{value!r} is not one of: {known}")
    return value


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise _fail(f"{where}.{key}", f"needs at least one [[{key}]] table")
    return value


def _register(data: dict[str, Any], name: str, source: str) -> Register:
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise _fail(name, f"unknown keys {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN))})")
    text = {k: _text(data, k, name) for k in _TEXT}
    if not _CODE.match(text["code"]):
        raise _fail(f"{name}.code", f"{text['code']!r} must be lower-case letters, digits, _")
    _one_of(text["engine"], ENGINES, f"{name}.engine")
    items = []
    for n, raw in enumerate(_tables(data, "check_items", name), start=1):
        where = f"{name}.check_items[{n}]"
        code = _text(raw, "code", where)
        if not _ITEM_CODE.match(code):
            raise _fail(f"{where}.code", f"{code!r} must look like ABC-01")
        if code in {i.code for i in items}:
            raise _fail(f"{where}.code", f"{code!r} is used twice")
        items.append(
            CheckItem(
                code=code,
                text=_text(raw, "text", where),
                text_en=_text(raw, "text_en", where),
                basis=_text(raw, "basis", where),
                severity=_one_of(_text(raw, "severity", where), SEVERITIES, f"{where}.severity"),
            )
        )
    steps = []
    for n, raw in enumerate(_tables(data, "procedure", name), start=1):
        where = f"{name}.procedure[{n}]"
        days = raw.get("days")
        steps.append(
            Step(
                step=_text(raw, "step", where),
                text=_text(raw, "text", where),
                text_en=_text(raw, "text_en", where),
                actor=_text(raw, "actor", where),
                days=None if days is None else _days(raw, "days", where),
            )
        )
    handling = []
    for n, raw in enumerate(_tables(data, "handling", name), start=1):
        where = f"{name}.handling[{n}]"
        handling.append(
            HandlingOption(
                code=_text(raw, "code", where),
                text=_text(raw, "text", where),
                text_en=_text(raw, "text_en", where),
                kind=_one_of(_text(raw, "kind", where), HANDLING_KINDS, f"{where}.kind"),
            )
        )
    if not any(h.kind == "rectify" for h in handling):
        raise _fail(f"{name}.handling", "needs one option of kind 'rectify' (限期整改)")
    if len({h.code for h in handling}) < len(handling):
        raise _fail(f"{name}.handling", "a code is used twice")
    commands = _texts(data, "commands", name, required=False)
    if text["engine"] == "rounds" and not commands:
        raise _fail(f"{name}.commands", "a register run elsewhere names the commands that run it")
    return Register(
        **text,
        content=_texts(data, "content", name),
        methods=_texts(data, "methods", name),
        measures=_texts(data, "measures", name),
        annual_report=_text(data, "annual_report", name),
        report_to=_text(data, "report_to", name),
        rectify_days=_days(data, "rectify_days", name),
        follow_up_days=_days(data, "follow_up_days", name),
        inspection_days=_days(data, "inspection_days", name),
        check_items=tuple(items),
        procedure=tuple(steps),
        handling=tuple(handling),
        expiry_warning_days=_days(data, "expiry_warning_days", name, EXPIRY_WARNING_DAYS),
        entities=_text(data, "entities", name, required=False),
        commands=commands,
        documents=_text(data, "documents", name, required=False),
        source=source,
    )
