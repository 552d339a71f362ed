"""The content of one violation notice, as a plain model both documents render from.

The DOCX and the PDF are two views of one :class:`NoticeContent`; the store keeps that
model as JSON beside the documents' hashes, so what was issued can be rendered, checked
and read back without trusting either file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from hrss_fraud.model.numbers import yuan

MEASURES: dict[str, tuple[str, str, bool]] = {
    "recover": ("追回医保基金", "recover paid fund", True),
    "refuse": ("拒付费用", "refuse payment", True),
    "penalty": ("违约金", "breach penalty", True),
    "suspend": ("暂停医保结算", "suspend settlement", False),
    "interview": ("约谈", "interview the institution", False),
    "rectify": ("限期整改", "rectify within a deadline", False),
    "terminate": ("解除服务协议", "terminate the agreement", False),
}
"""Measure code → Chinese label, English label, whether it is an amount (as migration 0004
seeds ``notice_measure``; a test holds the two equal)."""
MEASURE_ALIASES = {zh: code for code, (zh, _, _) in MEASURES.items()} | {
    "追回": "recover",
    "拒付": "refuse",
    "暂停结算": "suspend",
}
DEFAULT_UNIT = "县医疗保障中心"
DEFAULT_REQUIREMENTS = "立即纠正上述违约行为，退回违规费用，健全医保基金使用内部管理制度"
DEFAULT_RECTIFY_DAYS = 30
DEFAULT_BASIS = "《医疗保障基金使用监督管理条例》及医疗保障定点医药机构服务协议相关条款"


class ContentError(ValueError):
    """A notice whose content is incomplete or contradicts itself; names every problem."""


@dataclass(frozen=True)
class Handling:
    """One measure decided for an item: an amount (追回, 拒付, 违约金) or a detail (暂停结算
    三个月, 约谈)."""

    measure: str
    amount: float | None = None
    detail: str = ""

    def label(self, lang: str = "zh") -> str:
        zh, en, _ = MEASURES[self.measure]
        text = zh if lang == "zh" else en
        if self.amount is not None:
            text += f" {yuan(self.amount)}" + (" 元" if lang == "zh" else " yuan")
        if self.detail:
            text += f"（{self.detail}）" if lang == "zh" else f" ({self.detail})"
        return text


@dataclass(frozen=True)
class Item:
    """One breach: what rule it breaks (its Chinese name, and ``framework``: the national
    framework code(s) of the rule, 、-joined, empty for an item typed by hand), the facts,
    the clause, the amount and the handling."""

    rule: str
    facts: str
    legal_basis: str
    amount_involved: float
    handling: tuple[Handling, ...] = ()
    framework: str = ""


@dataclass(frozen=True)
class NoticeContent:
    """Everything a notice says (DOMAIN.md §5). ``number`` and ``issue_date`` are empty in a
    draft and set when it is issued."""

    fixmedins_code: str
    fixmedins_name: str
    agreement_no: str
    inspection_date: str
    inspectors: tuple[str, ...]
    onsite_facts: str
    items: tuple[Item, ...]
    requirements: str
    rectify_days: int
    issuing_unit: str
    statement_days: int = 10
    representative: str = ""
    round_ref: str = ""
    target_ref: str = ""
    findings: tuple[str, ...] = ()
    number: str = ""
    issue_date: str = ""
    lang: str = "zh"

    @property
    def total_involved(self) -> float:
        return round(sum(i.amount_involved for i in self.items), 2)

    def due(self, days: int) -> str:
        """The date ``days`` after the issue date: a deadline's last day."""
        return (date.fromisoformat(self.issue_date) + timedelta(days=days)).isoformat()

    @property
    def statement_due(self) -> str:
        return self.due(self.statement_days) if self.issue_date else ""

    @property
    def rectify_due(self) -> str:
        return self.due(self.rectify_days) if self.issue_date else ""

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the same content gives the same bytes.
        An item's empty ``framework`` is left out, so a notice issued before items carried
        one serialises as it did then (its stored SHA-256 still matches)."""
        d = asdict(self)
        for item in d["items"]:
            if not item["framework"]:
                del item["framework"]
        return json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> NoticeContent:
        d = json.loads(text)
        d["items"] = tuple(
            Item(**{**i, "handling": tuple(Handling(**h) for h in i["handling"])})
            for i in d["items"]
        )
        d["inspectors"] = tuple(d["inspectors"])
        d["findings"] = tuple(d["findings"])
        return cls(**d)

    def validate(self) -> NoticeContent:
        """This content, or :class:`ContentError` naming every problem."""
        problems = []
        for name in ("fixmedins_code", "onsite_facts", "requirements", "issuing_unit"):
            if not str(getattr(self, name) or "").strip():
                problems.append(f"{name} is empty")
        try:
            date.fromisoformat(self.inspection_date)
        except (TypeError, ValueError):
            problems.append(f"inspection_date {self.inspection_date!r} is not YYYY-MM-DD")
        if not [n for n in self.inspectors if n.strip()]:
            problems.append("no inspector named (检查人员)")
        elif len([n for n in self.inspectors if n.strip()]) < 2:
            problems.append("an on-site check needs at least two inspectors (检查人员不少于2人)")
        if self.lang not in ("zh", "en"):
            problems.append(f"lang {self.lang!r} is not zh or en")
        if not 1 <= self.rectify_days <= 365:
            problems.append(f"rectify_days {self.rectify_days} is not 1–365")
        if not self.items:
            problems.append("no violation item (违约事项)")
        for n, item in enumerate(self.items, start=1):
            for name in ("rule", "facts", "legal_basis"):
                if not str(getattr(item, name) or "").strip():
                    problems.append(f"item {n}: {name} is empty")
            if not item.amount_involved >= 0:
                problems.append(f"item {n}: amount_involved {item.amount_involved} is negative")
            for h in item.handling:
                if h.measure not in MEASURES:
                    problems.append(f"item {n}: unknown measure {h.measure!r}")
                elif MEASURES[h.measure][2] and (h.amount is None or not h.amount >= 0):
                    problems.append(f"item {n}: {h.measure} needs an amount ≥ 0")
        if problems:
            raise ContentError("; ".join(problems))
        return self


def measure_code(text: str) -> str:
    """A measure's code from its code or Chinese label."""
    key = text.strip()
    code = key if key in MEASURES else MEASURE_ALIASES.get(key)
    if code is None:
        known = ", ".join(f"{c} {zh}" for c, (zh, _, _) in MEASURES.items())
        msg = f"unknown measure {text!r}; one of: {known}"
        raise ContentError(msg)
    return code
