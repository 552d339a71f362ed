"""The registers' documents — inspection record (监督检查记录), rectification notice (责令限期
整改通知书), sanction decision (处理决定书) — as DOCX and PDF, numbered and hashed.

Each document is a :class:`~hrss_fraud.notices.render.Layout` written by the notices'
own writers (:func:`~hrss_fraud.notices.render.layout_docx`, ``layout_pdf``): one document
service, other templates. Issuing follows the violation notices' three steps: a write
transaction takes the year's next serial of the kind (``JC-2026-0001``) as *allocated*;
the documents are rendered from a content model built from the store and written
atomically under ``WORKSPACE/supervision/documents/<number>/``; a second transaction records
the content (canonical JSON), its SHA-256 and both files' SHA-256 and marks the number
issued. A failure voids the number (kept, with the reason) and removes the files, so the
serials stay consecutive and each names one attempt. An object gets one issued document
of each kind. The labour-inspection documents are issued the same way
(:func:`issue_numbered`, another :class:`Series`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.notices.render import Layout, sha256, write_layout
from hrss_fraud.registers.definitions import SEVERITIES, Register
from hrss_fraud.registers.inspections import RESULTS, get_inspection
from hrss_fraud.registers.plans import SOURCES

KINDS = {
    "inspection_record": ("JC", "监督检查记录", "Inspection record"),
    "rectification_notice": ("ZG", "责令限期整改通知书", "Rectification notice"),
    "sanction_decision": ("CF", "处理决定书", "Sanction decision"),
}
"""Kind → number prefix, Chinese title, English title."""
DEFAULT_UNIT = "县人力资源和社会保障局"
FOLDER = Path("supervision") / "documents"
"""Under the workspace; not ``registers/``, which is the registers' policy folder."""
REMEDIES = (
    "如不服本决定，可自收到之日起六十日内依法申请行政复议，或者六个月内依法向人民法院提起行政诉讼。"
)


class DocumentError(ValueError):
    """A document that cannot be issued; the message says why."""


@dataclass(frozen=True)
class IssuedDocument:
    number: str
    kind: str
    docx_path: Path
    pdf_path: Path
    docx_sha256: str
    pdf_sha256: str


def cn_day(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def _names(store: CaseStore, codes: list[str]) -> list[str]:
    known = dict(store.query("SELECT inspector_code, name FROM inspector"))
    return [known.get(c, c) for c in codes]


def _extras(store: CaseStore, inspection_id: int) -> dict[str, Any]:
    row = store.query(
        """SELECT e.legal_rep, p.name FROM register_inspection i
           JOIN register_entity e USING (entity_id)
           LEFT JOIN register_plan p USING (plan_id) WHERE i.inspection_id = ?""",
        (inspection_id,),
    )[0]
    return {"legal_rep": row[0] or "", "plan_name": row[1] or ""}


def inspection_content(store: CaseStore, reg: Register, inspection_id: int, unit: str) -> dict:
    """What an inspection record says, from the store and the register's texts."""
    i = get_inspection(store, inspection_id)
    if i["register"] != reg.code:
        msg = f"inspection {inspection_id} is of register {i['register']}, not {reg.code}"
        raise DocumentError(msg)
    items = []
    for row in i["items"]:
        item = reg.item(row["item_code"])
        items.append(
            {
                "code": item.code,
                "text": item.text,
                "basis": item.basis,
                "severity": item.severity,
                "result": row["result"],
                "finding": row["finding"] or "",
            }
        )
    return {
        "kind": "inspection_record",
        "register": reg.code,
        "register_name": reg.name,
        "entity_code": i["entity_code"],
        "entity_name": i["name"],
        "licence": reg.licence,
        "licence_no": i["licence_no"] or "",
        "address": i["address"] or "",
        "source": i["source"],
        "source_ref": i["source_ref"] or "",
        "plan_name": _extras(store, inspection_id)["plan_name"],
        "inspected_on": i["inspected_on"],
        "inspectors": _names(store, i["inspectors"]),
        "summary": i["summary"],
        "items": items,
        "evidence": [{"file_name": e["file_name"], "sha256": e["sha256"]} for e in i["evidence"]],
        "unit": unit,
    }


def rectification_content(store: CaseStore, reg: Register, rect_id: int, unit: str) -> dict:
    """What a rectification notice says: the failed items, the requirements, the dates."""
    row = store.query(
        "SELECT inspection_id, ordered_on, due_date, follow_up_due, requirements "
        "FROM register_rectification WHERE rectification_id = ?",
        (int(rect_id),),
    )
    if not row:
        msg = f"无此整改单 {rect_id} (no rectification order {rect_id})"
        raise DocumentError(msg)
    inspection_id, ordered_on, due, follow_up_due, requirements = row[0]
    base = inspection_content(store, reg, inspection_id, unit)
    return {
        **{k: base[k] for k in ("register", "register_name", "entity_code", "entity_name")},
        **{k: base[k] for k in ("licence", "licence_no", "inspected_on", "unit")},
        "kind": "rectification_notice",
        "failed": [i for i in base["items"] if i["result"] == "fail"],
        "ordered_on": ordered_on,
        "due_date": due,
        "follow_up_due": follow_up_due,
        "requirements": requirements,
    }


def sanction_content(store: CaseStore, reg: Register, sanction_id: int, unit: str) -> dict:
    """What a sanction decision says: the failed items, the order, the failed follow-up, the
    decision."""
    row = store.query(
        """SELECT s.rectification_id, s.kind, s.handling_code, s.decision, s.decided_on,
                  r.inspection_id
           FROM register_sanction s JOIN register_rectification r USING (rectification_id)
           WHERE s.sanction_id = ?""",
        (int(sanction_id),),
    )
    if not row:
        msg = f"无此处理决定 {sanction_id} (no sanction {sanction_id})"
        raise DocumentError(msg)
    rect_id, kind, handling, decision, decided_on, inspection_id = row[0]
    notice = rectification_content(store, reg, rect_id, unit)
    on_date, text = store.query(
        "SELECT on_date, text FROM register_rectification_event WHERE rectification_id = ? "
        "AND kind = 'follow_up' ORDER BY event_id DESC LIMIT 1",
        (rect_id,),
    )[0]
    option = reg.sanction(handling)
    return {
        **notice,
        "kind": "sanction_decision",
        "legal_rep": _extras(store, inspection_id)["legal_rep"],
        "follow_up_on": on_date,
        "follow_up_text": text,
        "sanction_kind": kind,
        "handling": option.text,
        "decision": decision,
        "decided_on": decided_on,
    }


def _item_rows(items: list[dict], with_result: bool) -> tuple[tuple[str, ...], ...]:
    rows = []
    for n, i in enumerate(items, start=1):
        if with_result:
            rows.append(
                (str(n), i["text"], i["basis"], RESULTS[i["result"]][0], i["finding"] or "—")
            )
        else:
            rows.append(
                (str(n), f"{i['text']}：{i['finding']}", i["basis"], SEVERITIES[i["severity"]][0])
            )
    return tuple(rows)


def layout_for(content: dict, number: str, issue_date: str) -> Layout:
    """The document's strings (Chinese, the language the bureau issues in)."""
    kind = content["kind"]
    title = KINDS[kind][1]
    unit = content["unit"]
    entity = [
        ("被检查单位：" if kind != "sanction_decision" else "被处理单位：", content["entity_name"]),
        ("统一社会信用代码：", content["entity_code"]),
        (f"{content['licence']}编号：", content["licence_no"] or "—"),
    ]
    common = {
        "title": f"{content['register_name']}{title}",
        "number": f"编号：{number}",
        "author": unit,
        "number_value": number,
    }
    if kind == "inspection_record":
        source = SOURCES[content["source"]][0]
        how = f"{source}（{content['plan_name'] or content['source_ref']}）"
        items = content["items"]
        n_fail = sum(i["result"] == "fail" for i in items)
        counts = {r: sum(i["result"] == r for i in items) for r in RESULTS}
        evidence = "；".join(
            f"{e['file_name']}（SHA-256 {e['sha256'][:16]}…）" for e in content["evidence"]
        )
        return Layout(
            **common,
            fields=(
                *entity,
                ("地址：", content["address"] or "—"),
                ("监管事项：", content["register_name"]),
                ("检查方式：", how),
                ("检查日期：", cn_day(content["inspected_on"])),
                ("检查人员：", "、".join(content["inspectors"])),
            ),
            facts_heading="一、检查情况",
            facts=content["summary"],
            table_header=("序号", "检查事项", "依据", "检查结果", "发现的问题"),
            table_rows=_item_rows(items, with_result=True),
            total=(
                f"共检查{len(items)}项：合格{counts['pass']}项，不合格{counts['fail']}项，"
                f"不适用{counts['na']}项。检查结论："
                + ("发现问题，须限期整改。" if n_fail else "未发现问题。")
            ),
            sections=(
                ("二、证据材料", evidence or "无"),
                ("三、被检查单位意见", "对以上检查记录：无异议 / 有异议（请注明）：____________"),
            ),
            signatures=(
                "检查人员（签名）：____________　____________",
                "被检查单位负责人（签名）：____________　日期：____________",
                "被检查单位（盖章）",
                f"{unit}（盖章）",
                cn_day(issue_date),
            ),
            col_widths=(8, 58, 42, 18, 44),
            col_align=("CENTER", "LEFT", "LEFT", "CENTER", "LEFT"),
        )
    failed = content["failed"]
    table = {
        "table_header": ("序号", "存在的问题", "依据", "性质"),
        "table_rows": _item_rows(failed, with_result=False),
        "col_widths": (10, 88, 50, 22),
        "col_align": ("CENTER", "LEFT", "LEFT", "CENTER"),
    }
    if kind == "rectification_notice":
        return Layout(
            **common,
            **table,
            fields=(*entity, ("检查日期：", cn_day(content["inspected_on"]))),
            facts_heading="一、检查发现的问题",
            facts=f"{cn_day(content['inspected_on'])}，本局对你单位进行监督检查，发现下列问题：",
            total=f"以上问题共{len(failed)}项。",
            sections=(
                (
                    "二、整改要求",
                    f"{content['requirements']}。请于{cn_day(content['due_date'])}前整改完毕，"
                    f"并向{unit}报送书面整改报告及佐证材料。本局将于"
                    f"{cn_day(content['follow_up_due'])}前进行跟踪复查；逾期未整改或整改不到位的，"
                    "将依法依规作出处理。",
                ),
                ("三、权利告知", REMEDIES),
            ),
            signatures=(
                "被检查单位负责人（签收）：____________　日期：____________",
                f"{unit}（盖章）",
                cn_day(issue_date),
            ),
            right_from=1,
        )
    facts = (
        f"{cn_day(content['inspected_on'])}，本局对你单位进行监督检查，发现下列问题，并于"
        f"{cn_day(content['ordered_on'])}责令你单位于{cn_day(content['due_date'])}前整改。"
        f"{cn_day(content['follow_up_on'])}复查，整改仍不到位：{content['follow_up_text']}"
    )
    return Layout(
        **common,
        **table,
        fields=(
            *entity,
            ("法定代表人（负责人）：", content["legal_rep"] or "—"),
        ),
        facts_heading="一、违法违规事实",
        facts=facts,
        total=f"以上问题共{len(failed)}项。",
        sections=(
            (
                "二、处理决定",
                f"依据上述事实，本局决定：{content['handling']}。{content['decision']}",
            ),
            ("三、权利告知", REMEDIES),
        ),
        signatures=(f"{unit}（盖章）", cn_day(issue_date)),
        right_from=0,
    )


CONTENT = {
    "inspection_record": inspection_content,
    "rectification_notice": rectification_content,
    "sanction_decision": sanction_content,
}


@dataclass(frozen=True)
class Series:
    """A family of numbered documents: the table holding its numbers (the columns of
    ``register_document``), the folder under the workspace, and its audit actions."""

    table: str
    folder: Path
    number_action: str
    void_action: str
    issued_action: str
    """The action of an issued document; ``{kind}`` is filled with its kind."""


REGISTER_SERIES = Series(
    "register_document",
    FOLDER,
    "register.document.number",
    "register.document.void",
    "register.document.{kind}",
)


def issue_numbered(
    store: CaseStore,
    workspace: Path,
    series: Series,
    *,
    kind: str,
    prefix: str,
    titles: tuple[str, str],
    object_id: int,
    content: dict,
    render: Callable[[str, str], Layout],
    by: str,
    day: date,
    once: bool = True,
) -> IssuedDocument:
    """Number (the year's next serial, ``<prefix>-<year>-0001``), render with
    ``render(number, issue_date)``, write and record one document (see the module);
    ``once``: an object gets one issued document of the kind."""
    zh, en = titles
    table = series.table
    at = timestamp()
    with store.transaction() as con:
        if (
            once
            and con.execute(
                f"SELECT number FROM {table} WHERE kind = ? AND object_id = ? "
                "AND status = 'issued'",
                (kind, int(object_id)),
            ).fetchone()
        ):
            msg = f"{object_id} 的{zh}已出具 ({en} for {object_id} is already issued)"
            raise DocumentError(msg)
        con.execute(
            f"UPDATE {table} SET status = 'void', void_reason = ? "
            "WHERE kind = ? AND object_id = ? AND status = 'allocated'",
            ("签发中断 issuance interrupted", kind, int(object_id)),
        )
        (serial,) = con.execute(
            f"SELECT coalesce(max(serial), 0) + 1 FROM {table} WHERE kind = ? AND year = ?",
            (kind, day.year),
        ).fetchone()
        number = f"{prefix}-{day.year}-{serial:04d}"
        con.execute(
            f"INSERT INTO {table} (number, kind, year, serial, object_id, status, "
            "allocated_by, allocated_at) VALUES (?, ?, ?, ?, ?, 'allocated', ?, ?)",
            (number, kind, day.year, serial, int(object_id), by, at),
        )
        write_audit(con, at, by, series.number_action, table, number, None)
    folder = Path(workspace) / series.folder / number
    try:
        files = write_layout(render(number, day.isoformat()), folder, number)
        text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        rel = series.folder / number
        with store.transaction() as con:
            con.execute(
                f"""UPDATE {table} SET status = 'issued', issue_date = ?,
                       content_json = ?, content_sha256 = ?, docx_path = ?, docx_sha256 = ?,
                       pdf_path = ?, pdf_sha256 = ? WHERE number = ? AND status = 'allocated'""",
                (
                    day.isoformat(),
                    text,
                    sha256(text.encode("utf-8")),
                    str(rel / files.docx_path.name),
                    files.docx_sha256,
                    str(rel / files.pdf_path.name),
                    files.pdf_sha256,
                    number,
                ),
            )
            detail = {
                "object_id": int(object_id),
                "docx": files.docx_sha256,
                "pdf": files.pdf_sha256,
            }
            action = series.issued_action.format(kind=kind)
            write_audit(con, timestamp(), by, action, table, number, detail)
    except BaseException as e:
        shutil.rmtree(folder, ignore_errors=True)
        reason = f"{type(e).__name__}: {e}"[:500]
        with store.transaction() as con:
            con.execute(
                f"UPDATE {table} SET status = 'void', void_reason = ? WHERE number = ?",
                (reason, number),
            )
            write_audit(con, timestamp(), by, series.void_action, table, number, {"reason": reason})
        if not isinstance(e, Exception):
            raise
        msg = (
            f"出具{zh}失败，编号 {number} 作废 (issuing failed, number {number} is void: {reason})"
        )
        raise DocumentError(msg) from e
    return IssuedDocument(
        number, kind, files.docx_path, files.pdf_path, files.docx_sha256, files.pdf_sha256
    )


def issue(
    store: CaseStore,
    workspace: Path,
    reg: Register,
    kind: str,
    object_id: int,
    *,
    by: str,
    unit: str = DEFAULT_UNIT,
    on: date | None = None,
) -> IssuedDocument:
    """Number, render, write and record one document of a register (see the module)."""
    if kind not in KINDS:
        msg = f"unknown document kind {kind!r}; one of {', '.join(KINDS)}"
        raise DocumentError(msg)
    content = CONTENT[kind](store, reg, int(object_id), (unit or DEFAULT_UNIT).strip())
    prefix, zh, en = KINDS[kind]
    return issue_numbered(
        store,
        workspace,
        REGISTER_SERIES,
        kind=kind,
        prefix=prefix,
        titles=(zh, en),
        object_id=int(object_id),
        content=content,
        render=lambda number, issued: layout_for(content, number, issued),
        by=by,
        day=on or date.today(),
    )


def verify(
    store: CaseStore, workspace: Path, number: str, series: Series = REGISTER_SERIES
) -> list[str]:
    """What differs between an issued document's stored hashes and its files and content
    (empty: the files are what was issued)."""
    row = store.query(
        "SELECT status, content_json, content_sha256, docx_path, docx_sha256, pdf_path, "
        f"pdf_sha256 FROM {series.table} WHERE number = ?",
        (number,),
    )
    if not row:
        return [f"no document {number}"]
    status, text, text_sha, docx_rel, docx_sha, pdf_rel, pdf_sha = row[0]
    if status != "issued":
        return [f"document {number} is {status}"]
    problems = []
    for rel, expected in ((docx_rel, docx_sha), (pdf_rel, pdf_sha)):
        path = Path(workspace) / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif sha256(path.read_bytes()) != expected:
            problems.append(f"{rel} differs from what was issued (SHA-256)")
    if sha256(text.encode("utf-8")) != text_sha:
        problems.append("the stored content differs from its SHA-256")
    return problems


DOCUMENT_OBJECT = {
    "inspection_record": "inspection",
    "rectification_notice": "rectification",
    "sanction_decision": "sanction",
}
"""Document kind → the kind of object it is issued for (:mod:`hrss_fraud.registers.objects`)."""


def documents(store: CaseStore, register: str | None = None) -> list[dict[str, Any]]:
    """Every document number (of one register) with its kind, object, status and files."""
    keys = ("number", "kind", "object_id", "status", "issue_date", "docx_path", "pdf_path")
    rows = store.query(
        f"""SELECT {", ".join(f"d.{k}" for k in keys)},
                   coalesce(i1.register, i2.register, i3.register) AS register
            FROM register_document d
            LEFT JOIN register_inspection i1
                   ON d.kind = 'inspection_record' AND i1.inspection_id = d.object_id
            LEFT JOIN register_rectification r2
                   ON d.kind = 'rectification_notice' AND r2.rectification_id = d.object_id
            LEFT JOIN register_inspection i2 ON i2.inspection_id = r2.inspection_id
            LEFT JOIN register_sanction s3
                   ON d.kind = 'sanction_decision' AND s3.sanction_id = d.object_id
            LEFT JOIN register_rectification r3 ON r3.rectification_id = s3.rectification_id
            LEFT JOIN register_inspection i3 ON i3.inspection_id = r3.inspection_id
            ORDER BY d.kind, d.year, d.serial"""
    )
    out = [dict(zip((*keys, "register"), r, strict=True)) for r in rows]
    return [d for d in out if register is None or d["register"] == register]
