"""The documents of a labour-inspection case — 劳动保障监察调查询问通知书, 事先告知书 or
听证告知书, 行政处理（处罚）决定书, 结案记录 — as DOCX and PDF, numbered and hashed.

Each is a :class:`~hrss_fraud.notices.render.Layout` built from the case as the store holds
it, issued by the registers' one document service
(:func:`~hrss_fraud.registers.documents.issue_numbered`, numbers in ``labour_document``,
files under ``WORKSPACE/supervision/labour/<number>/``). A document can be issued once the
step that issues it is reached; a case gets one of each, except inquiry notices (one per
person or visit). The notices and the decision are dated the day they were served.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from hrss_fraud.cases.store import CaseStore
from hrss_fraud.model.numbers import yuan
from hrss_fraud.notices.render import Layout, tidied
from hrss_fraud.registers.documents import (
    DEFAULT_UNIT,
    REMEDIES,
    DocumentError,
    IssuedDocument,
    Series,
    cn_day,
    issue_numbered,
    verify,
)
from hrss_fraud.registers.labour_procedure import (
    AMOUNT_KINDS,
    AREAS,
    EMPLOYER_KINDS,
    ORDER,
    SOURCES,
    STEPS,
    fen_to_yuan,
)
from hrss_fraud.registers.labour_views import get_case
from hrss_fraud.registers.workdays import provisional_note

KINDS = {
    "inquiry_notice": ("XW", "劳动保障监察调查询问通知书", "inquiry notice"),
    "advance_notice": ("GZ", "劳动保障监察行政处理（处罚）事先告知书", "advance notice"),
    "hearing_notice": ("TZ", "劳动保障监察行政处罚听证告知书", "hearing notice"),
    "decision": ("JD", "劳动保障监察行政处理（处罚）决定书", "decision"),
    "closing_record": ("JA", "劳动保障监察案件结案记录", "closing record"),
}
"""Kind → number prefix, Chinese title, English name."""
SERIES = Series(
    "labour_document",
    Path("supervision") / "labour",
    "labour.document.number",
    "labour.document.void",
    "labour.document.issue",
)
EVENT_LABELS = {
    "register": "登记",
    "preliminary": "初步核查",
    "file": "批准立案",
    "extend": "延长办案期限",
    "investigate": "调查取证",
    "notify": "送达告知书",
    "statement": "陈述申辩",
    "hearing_request": "申请听证",
    "hearing": "举行听证",
    "review": "案件审核",
    "decide": "作出并送达处理决定",
    "payment": "履行缴付",
    "execute": "执行监督",
    "close": "结案归档",
}
INQUIRY_BASIS = (
    "根据《劳动保障监察条例》第十五条的规定，劳动保障行政部门实施劳动保障监察，有权就调查、"
    "检查事项询问有关人员，要求用人单位提供与调查、检查事项相关的文件资料，并作出解释和说明。"
)
REFUSAL = (
    "无理抗拒、阻挠劳动保障监察，不按照要求报送书面材料，隐瞒事实真相，出具伪证或者隐匿、"
    "毁灭证据的，依照《劳动保障监察条例》第三十条的规定，由劳动保障行政部门责令改正，"
    "并处2000元以上2万元以下的罚款。"
)


def _available(c: dict[str, Any], kind: str) -> str | None:
    """Why ``kind`` cannot be issued for case ``c`` yet, or ``None``."""
    at = ORDER.index(c["step"])
    if kind == "inquiry_notice":
        ok = c["step"] in ("file", "investigate")
    elif kind in ("advance_notice", "hearing_notice"):
        ok = at >= ORDER.index("notify") and c["notice_kind"] == kind.split("_")[0]
    elif kind == "decision":
        ok = at >= ORDER.index("decide")
    else:
        ok = c["status"] == "closed" and c["step"] == "close"
    if ok:
        return None
    return (
        f"案件 {c['case_no']} 当前处于「{STEPS[c['step']][0]}」，不能出具{KINDS[kind][1]} "
        f"(case {c['case_no']} is at step {c['step']}: no {KINDS[kind][2]} now)"
    )


def _note(c: dict[str, Any], column: str) -> str:
    """The provisional mark of a deadline counted through a year the working-day calendar
    does not hold yet (``""`` when it holds them all)."""
    return provisional_note(c.get("provisional", {}).get(column, ()))


def _marked(content: dict[str, Any], key: str) -> str:
    note = content.get(key, "")
    return f"（{note}）" if note else ""


def _last(c: dict[str, Any], action: str) -> dict[str, Any] | None:
    found = [e for e in c["events"] if e["action"] == action]
    return found[-1] if found else None


def _money_rows(amounts_fen: dict[str, int]) -> list[dict[str, str]]:
    return [
        {"kind": AMOUNT_KINDS[k][0], "yuan": yuan(fen_to_yuan(v))}
        for k, v in sorted(amounts_fen.items(), key=lambda kv: list(AMOUNT_KINDS).index(kv[0]))
    ]


def _event_text(e: dict[str, Any]) -> str:
    if e["action"] == "payment":
        d = e["detail"]
        paid = f"{AMOUNT_KINDS[d['kind']][0]}{yuan(fen_to_yuan(d['amount_fen']))}元"
        return f"{paid}（{e['text']}）" if e["text"] else paid
    return e["text"] or "—"


def content_for(
    c: dict[str, Any],
    kind: str,
    unit: str,
    inquiry: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What a document says, from the case (:func:`~hrss_fraud.registers.labour_views.get_case`)
    and the display names of the accounts that acted (``names``)."""
    names = names or {}
    facts = "".join(e["text"] for e in c["events"] if e["action"] == "investigate")
    base = {
        "kind": kind,
        "unit": unit,
        "case_no": c["case_no"],
        "employer_code": c["employer_code"],
        "employer_name": c["employer_name"],
        "employer_kind": EMPLOYER_KINDS[c["employer_kind"]][0],
        "areas": [AREAS[a][0] for a in c["areas"]],
        "facts": facts,
        "parameters": c["parameters"],
    }
    if kind == "inquiry_notice":
        return {**base, **(inquiry or {})}
    if kind in ("advance_notice", "hearing_notice"):
        notice = _last(c, "notify") or {}
        return {
            **base,
            "proposal": notice.get("text", ""),
            "amounts": _money_rows(notice.get("detail", {}).get("amounts_fen", {})),
            "total": yuan(
                fen_to_yuan(sum(notice.get("detail", {}).get("amounts_fen", {}).values()))
            ),
            "served_on": c["notice_served"],
            "reply_due": c["reply_due"],
            "reply_due_note": _note(c, "reply_due"),
        }
    if kind == "decision":
        decided = _last(c, "decide") or {}
        ordered = {a["kind"]: a["ordered_fen"] for a in c["amounts"]}
        review = _last(c, "review") or {}
        return {
            **base,
            "procedure": _procedure(c),
            "review": review.get("text", ""),
            "decision": decided.get("text", ""),
            "amounts": _money_rows(ordered),
            "total": yuan(fen_to_yuan(sum(ordered.values()))),
            "decided_on": c["decided_on"],
            "pay_by": c["pay_by"],
            "pay_by_note": _note(c, "pay_by"),
        }
    return {
        **base,
        "source": SOURCES[c["source"]][0],
        "registered_on": c["registered_on"],
        "filed_on": c["filed_on"],
        "conclude_by": c["conclude_by"],
        "conclude_by_note": _note(c, "conclude_by"),
        "closed_on": c["closed_on"],
        "events": [
            {
                "label": EVENT_LABELS[e["action"]],
                "on": e["on_date"],
                "actor": names.get(e["actor"], e["actor"]),
                "text": _event_text(e),
                "late": bool(e["late"]),
            }
            for e in c["events"]
        ],
        "ordered": yuan(fen_to_yuan(sum(a["ordered_fen"] for a in c["amounts"]))),
        "paid": yuan(fen_to_yuan(sum(a["paid_fen"] for a in c["amounts"]))),
        "outstanding": yuan(fen_to_yuan(sum(a["outstanding_fen"] for a in c["amounts"]))),
        "execution": c["execution"],
        "summary": (_last(c, "close") or {}).get("text", ""),
        "documents": [
            f"{KINDS[d['kind']][1]}（{d['number']}）"
            for d in c["documents"]
            if d["status"] == "issued"
        ],
    }


def _procedure(c: dict[str, Any]) -> str:
    """How the party was heard, for the decision."""
    served = cn_day(c["notice_served"])
    if c["path"] == "hearing":
        asked, held = _last(c, "hearing_request"), _last(c, "hearing")
        return (
            f"本局于{served}向你单位送达听证告知书，你单位于{cn_day(asked['on_date'])}申请听证，"
            f"本局于{cn_day(held['on_date'])}依法举行听证。"
        )
    if c["path"] == "statement":
        said = _last(c, "statement")
        return (
            f"本局于{served}向你单位送达事先告知书，你单位于{cn_day(said['on_date'])}"
            "提出陈述申辩，本局已进行复核。"
        )
    return f"本局于{served}向你单位送达告知书，你单位在规定期限内未提出陈述申辩或听证申请。"


def _employer(content: dict[str, Any], label: str) -> tuple[tuple[str, str], ...]:
    return (
        (label, content["employer_name"]),
        ("统一社会信用代码：", content["employer_code"]),
        ("案件编号：", content["case_no"]),
    )


def _amount_table(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "table_header": ("序号", "项目", "金额（元）"),
        "table_rows": tuple(
            (str(n), a["kind"], a["yuan"]) for n, a in enumerate(content["amounts"], start=1)
        ),
        "col_widths": (16, 100, 54),
        "col_align": ("CENTER", "LEFT", "RIGHT"),
        "total": f"以上合计 {content['total']} 元。",
    }


def layout_for(content: dict[str, Any], number: str, issue_date: str) -> Layout:
    """The document's strings, in Chinese (the language the bureau issues in), with the
    doubled marks where typed text ending in 。 meets the template's own reduced."""
    return tidied(_layout(content, number, issue_date))


def _layout(content: dict[str, Any], number: str, issue_date: str) -> Layout:
    kind, unit = content["kind"], content["unit"]
    common = {
        "title": KINDS[kind][1],
        "number": f"编号：{number}",
        "author": unit,
        "number_value": number,
    }
    d = content["parameters"]
    if kind == "inquiry_notice":
        materials = content["materials"]
        return Layout(
            **common,
            fields=_employer(content, "用人单位："),
            facts_heading="一、调查事项",
            facts=(
                f"因你单位涉嫌在{'、'.join(content['areas'])}方面违反劳动保障法律、法规或者规章，"
                f"本局已立案调查。{INQUIRY_BASIS}"
            ),
            table_header=("序号", "须提供的材料"),
            table_rows=tuple((str(n), m) for n, m in enumerate(materials, start=1)),
            total=(
                f"请你单位法定代表人（主要负责人）或者委托代理人于{cn_day(content['appear_on'])}"
                f"{content['appear_at']}到{content['place']}接受调查询问，并提供上述材料"
                "（复印件须加盖单位公章）。"
            ),
            sections=(("二、注意事项", REFUSAL),),
            signatures=(
                "用人单位签收：____________　日期：____________",
                f"{unit}（盖章）",
                cn_day(issue_date),
            ),
            col_widths=(16, 154),
            col_align=("CENTER", "LEFT"),
            right_from=1,
        )
    if kind in ("advance_notice", "hearing_notice"):
        due = cn_day(content["reply_due"]) + _marked(content, "reply_due_note")
        if kind == "advance_notice":
            right = (
                "三、陈述申辩权利",
                "根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你单位有权进行陈述和"
                f"申辩。请于{due}前（自本告知书送达之日起{d['statement_days']}个工作日内）向{unit}"
                "提出；逾期未提出的，视为放弃上述权利。",
            )
        else:
            right = (
                "三、听证权利",
                "根据《中华人民共和国行政处罚法》第六十三条、第六十四条的规定，你单位有权要求举行"
                f"听证，也可以进行陈述和申辩。要求听证的，请于{due}前（自本告知书送达之日起"
                f"{d['hearing_request_days']}个工作日内）向{unit}提出；逾期未提出的，视为放弃"
                "听证权利。",
            )
        return Layout(
            **common,
            **_amount_table(content),
            fields=_employer(content, "被告知单位："),
            facts_heading="一、违法事实",
            facts=f"经调查，{content['facts']}",
            sections=(("二、拟作出的处理（处罚）决定", f"{content['proposal']}。"), right),
            signatures=(
                "被告知单位签收：____________　日期：____________",
                f"{unit}（盖章）",
                cn_day(issue_date),
            ),
            right_from=1,
        )
    if kind == "decision":
        return Layout(
            **common,
            **_amount_table(content),
            fields=(
                *_employer(content, "被处理单位："),
                ("单位类型：", content["employer_kind"]),
            ),
            facts_heading="一、违法事实",
            facts=f"经调查，{content['facts']}{content['procedure']}经审核：{content['review']}",
            sections=(
                (
                    "二、处理（处罚）决定",
                    f"依据上述事实，本局决定：{content['decision']}。请于{cn_day(content['pay_by'])}"
                    f"{_marked(content, 'pay_by_note')}前"
                    f"（自本决定书送达之日起{d['pay_days']}个工作日内）履行完毕，并将履行情况书面"
                    f"报送{unit}。",
                ),
                (
                    "三、权利告知",
                    f"{REMEDIES}逾期不申请行政复议、不提起行政诉讼，又不履行本决定的，本局将依法申请"
                    "人民法院强制执行。",
                ),
            ),
            signatures=(f"{unit}（盖章）", cn_day(issue_date)),
            right_from=0,
        )
    execution = {"complied": "已全部履行", "court": "已申请人民法院强制执行", None: "无"}
    return Layout(
        **common,
        fields=(
            ("案件编号：", content["case_no"]),
            ("用人单位：", f"{content['employer_name']}（{content['employer_code']}）"),
            ("案件来源：", content["source"]),
            ("监察事项：", "、".join(content["areas"])),
            ("登记日期：", cn_day(content["registered_on"])),
            ("立案日期：", cn_day(content["filed_on"]) if content["filed_on"] else "未立案"),
            (
                "办案期限：",
                cn_day(content["conclude_by"]) + _marked(content, "conclude_by_note")
                if content["conclude_by"]
                else "—",
            ),
            ("结案日期：", cn_day(content["closed_on"])),
        ),
        facts_heading="一、办理经过",
        facts=f"本案共办理{len(content['events'])}项，依次如下（逾期办理的注明）。",
        table_header=("序号", "程序", "日期", "办理人", "办理情况"),
        table_rows=tuple(
            (
                str(n),
                e["label"] + ("（逾期）" if e["late"] else ""),
                cn_day(e["on"]),
                e["actor"],
                e["text"],
            )
            for n, e in enumerate(content["events"], start=1)
        ),
        total=(
            f"责令缴付合计 {content['ordered']} 元，已履行 {content['paid']} 元，未履行 "
            f"{content['outstanding']} 元。执行情况：{execution[content['execution']]}。"
        ),
        sections=(
            ("二、结案意见", content["summary"]),
            ("三、归档文书", "；".join(content["documents"]) or "无"),
        ),
        signatures=(
            "承办人：____________　____________",
            "负责人（审批）：____________",
            f"{unit}（盖章）",
            cn_day(issue_date),
        ),
        col_widths=(12, 34, 30, 20, 74),
        col_align=("CENTER", "LEFT", "CENTER", "CENTER", "LEFT"),
        right_from=2,
    )


def issue(
    store: CaseStore,
    workspace: Path,
    case: int | str,
    kind: str,
    *,
    by: str,
    on: date | None = None,
    unit: str = DEFAULT_UNIT,
    appear_on: date | None = None,
    appear_at: str = "",
    place: str = "",
    materials: list[str] | None = None,
) -> IssuedDocument:
    """Number, render, write and record one document of a case. The inquiry notice needs
    when (``appear_on``, ``appear_at``) and where (``place``) to come, and what to bring."""
    if kind not in KINDS:
        msg = f"未知的文书种类 {kind!r}，可选：{'、'.join(KINDS)} (unknown document kind)"
        raise DocumentError(msg)
    c = get_case(store, case, workspace=workspace)
    why = _available(c, kind)
    if why:
        raise DocumentError(why)
    inquiry = None
    day = on
    if kind == "inquiry_notice":
        items = [m.strip() for m in materials or [] if m.strip()]
        if appear_on is None or not place.strip() or not items:
            msg = (
                "调查询问通知书须写明接受询问的日期、地点和须提供的材料 "
                "(an inquiry notice needs the day, the place and the materials)"
            )
            raise DocumentError(msg)
        inquiry = {
            "appear_on": appear_on.isoformat(),
            "appear_at": appear_at.strip(),
            "place": place.strip(),
            "materials": items,
        }
    else:
        served = {
            "advance_notice": c["notice_served"],
            "hearing_notice": c["notice_served"],
            "decision": c["decided_on"],
            "closing_record": c["closed_on"],
        }[kind]
        day = day or date.fromisoformat(served)
    names = dict(store.query("SELECT username, display_name FROM users"))
    content = content_for(c, kind, (unit or DEFAULT_UNIT).strip(), inquiry, names)
    prefix, zh, en = KINDS[kind]
    return issue_numbered(
        store,
        workspace,
        SERIES,
        kind=kind,
        prefix=prefix,
        titles=(zh, en),
        object_id=int(c["case_id"]),
        content=content,
        render=lambda number, issued: layout_for(content, number, issued),
        by=by,
        day=day or date.today(),
        once=kind != "inquiry_notice",
    )


def verify_document(store: CaseStore, workspace: Path, number: str) -> list[str]:
    """What differs between an issued labour document's stored hashes and its files."""
    return verify(store, workspace, number, SERIES)
