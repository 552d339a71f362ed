"""The 监管事项 page's workflow behind its forms: record an inspection (with evidence
files), order the rectification, follow it up, close it or escalate it to a sanction,
issue and download the documents, and export the public disclosure.

Plain functions of a case store, the workspace and the logged-in user. Each write is the
command line's own step of :mod:`hrss_fraud.registers` (which checks it and writes its
audit row in the same transaction), run as the session's user — the operator is never a
form field — and needs ``manage_inspections`` (审核负责人), as ``hrss-fraud registers``
does. A form value that cannot be read (a date, an unchosen target) is refused here with a
:class:`FormError` before anything runs; every other refusal is the library's own.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from hrss_fraud.cases.audit import record
from hrss_fraud.dashboard.registers_view import MANAGE, allow
from hrss_fraud.registers.definitions import DefinitionError, Register, load_registers
from hrss_fraud.registers.disclosure import (
    EXPORT_FORMATS,
    DisclosureError,
    disclosure,
    export_bytes,
    record_disclosure,
)
from hrss_fraud.registers.documents import (
    DEFAULT_UNIT,
    DOCUMENT_OBJECT,
    KINDS,
    DocumentError,
    IssuedDocument,
    documents,
    issue,
    verify,
)
from hrss_fraud.registers.entities import EntityError, entity_id, parse_date
from hrss_fraud.registers.inspections import (
    RESULTS,
    Evidence,
    InspectionError,
    ItemResult,
    inspections,
    record_inspection,
)
from hrss_fraud.registers.objects import UnknownObject, register_of
from hrss_fraud.registers.plans import PlanError, due_targets
from hrss_fraud.registers.rectification import (
    OUTCOMES,
    RectificationError,
    close,
    follow_up,
    order,
    rectifications,
    sanction,
)

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
"""The largest evidence file the page takes (a photo, a scanned page); bigger ones are
refused with this figure. The proxy in front must let such a request through
(``client_max_body_size``)."""


class FormError(ValueError):
    """A form value that cannot be used; nothing was written."""


ERRORS = (
    FormError,
    InspectionError,
    RectificationError,
    DocumentError,
    DisclosureError,
    UnknownObject,
    EntityError,
    DefinitionError,
    PlanError,
    PermissionError,
)
"""What the page shows as a message instead of failing."""


@dataclass(frozen=True)
class Upload:
    """One file from the page's upload box: its name and ``data:…;base64,…`` contents."""

    filename: str
    contents: str


@dataclass(frozen=True)
class InspectionForm:
    """The inspection form as filled in; ``results`` and ``findings`` by item code."""

    code: str | None
    target: str | None
    on: str | None
    inspectors: Sequence[str]
    summary: str | None
    results: Mapping[str, str | None]
    findings: Mapping[str, str | None]
    complaint_ref: str | None = None
    uploads: Sequence[Upload] = field(default_factory=tuple)
    evidence_item: str | None = None


def _i(lang: str) -> int:
    return 1 if lang == "en" else 0


def day(text: str | None, what_zh: str, what_en: str) -> date | None:
    """A form's date (2026-03-01, 2026/3/1, 2026年3月1日); ``None`` (today) when empty."""
    try:
        value = parse_date(text)
    except ValueError:
        msg = f"{what_zh}应为日期，如 2026-03-01 ({what_en}: {text!r} is not a date)"
        raise FormError(msg) from None
    return None if value is None else date.fromisoformat(value)


def chosen_id(value: str | int | None, what_zh: str, what_en: str) -> int:
    """The id a dropdown holds; a clear refusal when nothing is chosen."""
    try:
        return int(str(value if value is not None else "").strip())
    except ValueError:
        msg = f"请选择{what_zh} (choose the {what_en})"
        raise FormError(msg) from None


def register(workspace: Path, code: str | None) -> Register:
    regs = load_registers(workspace)
    if not code or code not in regs:
        msg = "请选择监管事项 (choose a register)"
        raise FormError(msg)
    return regs[code]


def _register_of(store: CaseStore, workspace: Path, what: str, object_id: int) -> Register:
    return register(workspace, register_of(store, what, object_id))


# --- recording an inspection --------------------------------------------------------------


def target_options(store: CaseStore, reg: Register, lang: str = "zh") -> list[dict[str, str]]:
    """What an inspection may be of: each target of the register's plans not yet
    inspected (``plan:ID:CODE``), then every entity as a complaint check
    (``complaint:CODE``). A label starts with the plan's name, or 投诉核查."""
    due = due_targets(store, reg.code)
    overdue = ("（逾期）", " (overdue)")[_i(lang)]
    options = [
        {
            "label": f"{r['plan_name']} {r['name']}（{r['zone']}，{r['group_code']}）"
            + (overdue if r["overdue"] else ""),
            "value": f"plan:{r['plan_id']}:{r['entity_code']}",
        }
        for r in due.iter_rows(named=True)
    ]
    complaint = ("投诉核查", "complaint")[_i(lang)]
    options += [
        {"label": f"{complaint} {name}（{code}）", "value": f"complaint:{code}"}
        for code, name in store.query(
            "SELECT entity_code, name FROM register_entity WHERE register = ? ORDER BY name",
            (reg.code,),
        )
    ]
    return options


def parse_target(target: str | None) -> tuple[int | None, str]:
    """``plan:ID:CODE`` → (ID, CODE); ``complaint:CODE`` → (None, CODE)."""
    kind, _, rest = (target or "").partition(":")
    if kind == "plan":
        plan_id, _, code = rest.partition(":")
        if plan_id.isdigit() and code:
            return int(plan_id), code
    elif kind == "complaint" and rest:
        return None, rest
    msg = "请选择检查对象 (choose what was inspected)"
    raise FormError(msg)


def inspector_options(store: CaseStore) -> list[dict[str, str]]:
    """Every active inspector: ``code name``."""
    return [
        {"label": f"{code} {name}", "value": code}
        for code, name in store.query(
            "SELECT inspector_code, name FROM inspector WHERE active = 1 ORDER BY inspector_code"
        )
    ]


def suggested_inspectors(
    store: CaseStore, workspace: Path, user: User | None, code: str | None, target: str | None
) -> list[str]:
    """For a planned target, the active members of the group the draw assigned, less any
    declared conflicted with the entity; nothing for a complaint check."""
    allow(user, MANAGE, "登记检查", "record inspections")
    plan_id, entity_code = parse_target(target)
    if plan_id is None:
        return []
    eid = entity_id(store, register(workspace, code).code, entity_code)
    return [
        c
        for (c,) in store.query(
            """SELECT m.inspector_code FROM register_plan_target t
               JOIN inspection_group_member m USING (group_code)
               JOIN inspector i USING (inspector_code)
               WHERE t.plan_id = ? AND t.entity_id = ? AND i.active = 1
                 AND m.inspector_code NOT IN
                     (SELECT inspector_code FROM register_conflict WHERE entity_id = ?)
               ORDER BY m.inspector_code""",
            (plan_id, eid, eid),
        )
    ]


def result_options(lang: str = "zh") -> list[dict[str, str]]:
    return [{"label": v[_i(lang)], "value": k} for k, v in RESULTS.items()]


def _decode(upload: Upload) -> tuple[str, bytes]:
    name = PureWindowsPath(PurePosixPath(upload.filename or "").name).name.strip()
    if not name or name.startswith("."):
        msg = f"证据文件名无效 ({upload.filename!r} is not a usable file name)"
        raise FormError(msg)
    try:
        data = base64.b64decode((upload.contents or "").partition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        msg = f"证据 {name} 无法读取 (the upload of {name} is not readable)"
        raise FormError(msg) from None
    if not data:
        msg = f"证据 {name} 是空文件 ({name} is empty)"
        raise FormError(msg)
    if len(data) > MAX_EVIDENCE_BYTES:
        mb = MAX_EVIDENCE_BYTES // (1024 * 1024)
        msg = f"证据 {name} 超过 {mb} MB ({name} is larger than {mb} MB)"
        raise FormError(msg)
    return name, data


def upload_summary(uploads: Sequence[Upload]) -> list[tuple[str, int]]:
    """Each chosen file's name and size, refusing what :func:`record_from_form` would."""
    return [(name, len(data)) for name, data in map(_decode, uploads)]


def record_from_form(
    store: CaseStore, workspace: Path, user: User | None, form: InspectionForm
) -> int:
    """Record the inspection the form describes, as the logged-in user; its id. Uploaded
    files are written to a private temporary folder and handed to the library, which
    copies them under the workspace by their SHA-256 as the command line's ``--evidence``."""
    user = allow(user, MANAGE, "登记检查", "record inspections")
    reg = register(workspace, form.code)
    plan_id, entity_code = parse_target(form.target)
    results = {}
    for item in reg.check_items:
        result = form.results.get(item.code) or "pass"
        results[item.code] = ItemResult(result, (form.findings.get(item.code) or "").strip())
    files = [_decode(u) for u in form.uploads]
    inspected_on = day(form.on, "检查日期", "inspection date") or date.today()
    with tempfile.TemporaryDirectory(prefix="evidence-") as tmp:
        evidence = []
        for k, (name, data) in enumerate(files):
            path = Path(tmp) / str(k) / name
            path.parent.mkdir()
            path.write_bytes(data)
            evidence.append(Evidence(path, form.evidence_item or None))
        return record_inspection(
            store,
            workspace,
            reg,
            entity_code=entity_code,
            plan_id=plan_id,
            complaint_ref=None if plan_id is not None else (form.complaint_ref or ""),
            inspected_on=inspected_on,
            inspectors=list(form.inspectors or ()),
            summary=form.summary or "",
            results=results,
            evidence=evidence,
            by=user.username,
        )


# --- rectification, follow-up, close, sanction --------------------------------------------


def order_options(store: CaseStore, code: str) -> list[dict[str, str]]:
    """Failed inspections of the register without an order yet: ``ID name date``."""
    ordered = set(rectifications(store, code)["inspection_id"].to_list())
    return [
        {
            "label": f"{r['inspection_id']} {r['name']} {r['inspected_on']}",
            "value": str(r["inspection_id"]),
        }
        for r in inspections(store, code).iter_rows(named=True)
        if r["result"] == "fail" and r["inspection_id"] not in ordered
    ]


def order_from_form(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    *,
    inspection_id: str | int | None,
    requirements: str | None,
    on: str | None,
) -> int:
    """Order the rectification of a failed inspection; the order's id."""
    user = allow(user, MANAGE, "责令整改", "order rectifications")
    iid = chosen_id(inspection_id, "检查记录", "inspection")
    reg = _register_of(store, workspace, "inspection", iid)
    when = day(on, "责令日期", "order date")
    return order(store, reg, iid, requirements=requirements or "", by=user.username, on=when)


def open_order_options(store: CaseStore, code: str, lang: str = "zh") -> list[dict[str, str]]:
    """Open orders of the register: ``ID name deadline`` with its overdue marks."""
    i = _i(lang)
    rect = rectifications(store, code).filter(status="open")
    out = []
    for r in rect.iter_rows(named=True):
        marks = [
            text[i]
            for text, on in (
                (("逾期未整改", "past deadline"), r["past_deadline"]),
                (("复查逾期", "follow-up overdue"), r["follow_up_overdue"]),
            )
            if on
        ]
        by = ("整改期限", "rectify by")[i]
        label = f"{r['rectification_id']} {r['name']} {by} {r['due_date']} {' '.join(marks)}"
        out.append({"label": label.strip(), "value": str(r["rectification_id"])})
    return out


def outcome_options(lang: str = "zh") -> list[dict[str, str]]:
    return [{"label": v[_i(lang)], "value": k} for k, v in OUTCOMES.items()]


def follow_up_from_form(
    store: CaseStore,
    user: User | None,
    *,
    rect_id: str | int | None,
    outcome: str | None,
    text: str | None,
    on: str | None,
) -> None:
    """Record a follow-up check of an open order."""
    user = allow(user, MANAGE, "登记复查", "record follow-ups")
    rid = chosen_id(rect_id, "整改单", "rectification order")
    if outcome not in OUTCOMES:
        msg = "请选择复查结果 (choose the follow-up's result)"
        raise FormError(msg)
    when = day(on, "复查日期", "follow-up date")
    follow_up(store, rid, passed=outcome == "passed", text=text or "", by=user.username, on=when)


def close_from_form(
    store: CaseStore,
    user: User | None,
    *,
    rect_id: str | int | None,
    text: str | None,
    on: str | None,
) -> None:
    """Close an order after a passed follow-up (办结)."""
    user = allow(user, MANAGE, "办结整改", "close rectifications")
    rid = chosen_id(rect_id, "整改单", "rectification order")
    close(store, rid, text=text or "", by=user.username, on=day(on, "办结日期", "closing date"))


def sanction_options(reg: Register, lang: str = "zh") -> list[dict[str, str]]:
    """The register's sanctions (警告, 暂停, 吊销, 移送 as its file words them)."""
    return [
        {"label": h.text_en if lang == "en" else h.text, "value": h.code}
        for h in reg.handling
        if h.kind != "rectify"
    ]


def sanction_from_form(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    *,
    rect_id: str | int | None,
    handling: str | None,
    decision: str | None,
    on: str | None,
) -> int:
    """Escalate an order whose follow-up failed to one of its register's sanctions."""
    user = allow(user, MANAGE, "作出处理决定", "decide sanctions")
    rid = chosen_id(rect_id, "整改单", "rectification order")
    if not handling:
        msg = "请选择处理方式 (choose the sanction)"
        raise FormError(msg)
    reg = _register_of(store, workspace, "rectification", rid)
    when = day(on, "决定日期", "decision date")
    return sanction(
        store, reg, rid, handling=handling, decision=decision or "", by=user.username, on=when
    )


# --- documents ------------------------------------------------------------------------------


def document_kind_options(lang: str = "zh") -> list[dict[str, str]]:
    return [{"label": (zh, en)[_i(lang)], "value": k} for k, (_, zh, en) in KINDS.items()]


def document_object_options(
    store: CaseStore, code: str, kind: str | None, lang: str = "zh"
) -> list[dict[str, str]]:
    """What a document of ``kind`` may be issued for in the register, less what already
    has one: inspections, orders or sanctions, ``ID name date``."""
    if kind not in KINDS:
        return []
    issued = {
        d["object_id"]
        for d in documents(store, code)
        if d["kind"] == kind and d["status"] == "issued"
    }
    what = DOCUMENT_OBJECT[kind]
    if what == "inspection":
        rows = [
            (r["inspection_id"], r["name"], r["inspected_on"])
            for r in inspections(store, code).iter_rows(named=True)
        ]
    elif what == "rectification":
        rows = [
            (r["rectification_id"], r["name"], r["ordered_on"])
            for r in rectifications(store, code).iter_rows(named=True)
        ]
    else:
        rows = store.query(
            """SELECT s.sanction_id, e.name, s.decided_on FROM register_sanction s
               JOIN register_rectification r USING (rectification_id)
               JOIN register_inspection i USING (inspection_id)
               JOIN register_entity e USING (entity_id)
               WHERE i.register = ? ORDER BY s.sanction_id DESC""",
            (code,),
        )
    return [
        {"label": f"{oid} {name} {on}", "value": str(oid)}
        for oid, name, on in rows
        if oid not in issued
    ]


def issue_from_form(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    *,
    kind: str | None,
    object_id: str | int | None,
    unit: str | None,
    on: str | None,
) -> IssuedDocument:
    """Number, render and record one document (DOCX and PDF), as ``registers documents``."""
    user = allow(user, MANAGE, "出具文书", "issue documents")
    if kind not in KINDS:
        msg = "请选择文书种类 (choose the kind of document)"
        raise FormError(msg)
    oid = chosen_id(object_id, "文书对应的记录", "record the document is for")
    reg = _register_of(store, workspace, DOCUMENT_OBJECT[kind], oid)
    when = day(on, "出具日期", "issue date")
    return issue(
        store,
        workspace,
        reg,
        kind,
        oid,
        by=user.username,
        unit=(unit or "").strip() or DEFAULT_UNIT,
        on=when,
    )


def issued_options(store: CaseStore, code: str, lang: str = "zh") -> list[dict[str, str]]:
    """The register's issued documents, newest first: ``NUMBER title date``."""
    docs = [d for d in documents(store, code) if d["status"] == "issued"]
    docs.sort(key=lambda d: (d["issue_date"] or "", d["number"]), reverse=True)
    return [
        {
            "label": f"{d['number']} {KINDS[d['kind']][1 + _i(lang)]} {d['issue_date']}",
            "value": d["number"],
        }
        for d in docs
    ]


def document_file(
    store: CaseStore, workspace: Path, user: User | None, number: str | None, fmt: str
) -> tuple[str, bytes]:
    """An issued document's DOCX or PDF as issued: its name and bytes; refused when the file
    no longer matches the SHA-256 recorded at issue. The download is audited."""
    user = allow(user, MANAGE, "下载监管文书", "download supervision documents")
    found = [d for d in documents(store) if d["number"] == number and d["status"] == "issued"]
    if not found:
        msg = "请选择已出具的文书 (choose an issued document)"
        raise FormError(msg)
    problems = verify(store, workspace, str(number))
    if problems:
        msg = (
            f"文书 {number} 与出具时不一致 (the document differs from what was issued): "
            + "; ".join(problems)
        )
        raise DocumentError(msg)
    path = Path(workspace) / found[0]["pdf_path" if fmt == "pdf" else "docx_path"]
    data = path.read_bytes()
    record(
        store,
        user.username,
        "export.download",
        "register_document",
        str(number),
        {"file": path.name},
    )
    return path.name, data


# --- public disclosure ----------------------------------------------------------------------


def disclosure_file(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    *,
    year: str | int | None,
    targeted: bool,
    fmt: str | None,
    lang: str = "zh",
) -> tuple[str, bytes]:
    """The year's random inspections as published (一公开), CSV or XLSX; audited as the
    command line's ``registers disclose``."""
    user = allow(user, MANAGE, "导出公开表", "export the public disclosure")
    try:
        y = int(str(year if year is not None else "").strip())
    except ValueError:
        msg = f"年度应为四位数字 (the year must be a number, not {year!r})"
        raise FormError(msg) from None
    suffix = f".{(fmt or '').lower().lstrip('.')}"
    if suffix not in EXPORT_FORMATS:
        msg = "请选择 CSV 或 XLSX (choose CSV or XLSX)"
        raise FormError(msg)
    df = disclosure(store, load_registers(workspace), year=y, include_targeted=targeted, lang=lang)
    data = export_bytes(df, suffix)
    name = f"双随机抽查结果公开_{y}{suffix}"
    record_disclosure(store, year=y, rows=df.height, file=name, targeted=targeted, by=user.username)
    return name, data
