"""Hand-made notice content and confirmed leads for the notice tests."""

from __future__ import annotations

from pathlib import Path

from hrss_fraud.cases import open_store
from hrss_fraud.notices import Handling, Item, NoticeContent

CONFIRMED = {"F-001": ("H0001", 1234.5), "F-002": ("H0001", 300.0), "F-009": ("H0002", 50.0)}


def make_content(**changes: object) -> NoticeContent:
    """A notice on F-001 and F-002 of 城关镇卫生院 with two items."""
    fields: dict[str, object] = {
        "fixmedins_code": "H0001",
        "fixmedins_name": "城关镇卫生院",
        "agreement_no": "XY-2026-017",
        "inspection_date": "2026-03-02",
        "inspectors": ("李明", "王芳"),
        "onsite_facts": "抽查2026年1月住院病历30份，其中5份无对应检查报告。",
        "items": (
            Item(
                "重复收费",
                "同一次住院中同时收取静脉输液费与其包含的注射费，共12人次。",
                "《医疗保障基金使用监督管理条例》第三十八条第（一）项",
                1234.5,
                (Handling("recover", 1234.5), Handling("penalty", 2469.0), Handling("interview")),
            ),
            Item(
                "超标准收费",
                "床位费高于本级医院限价。",
                "医疗服务协议第二十条",
                300.0,
                (Handling("suspend", None, "暂停结算3个月"),),
            ),
        ),
        "requirements": "立即停止违规收费行为，完善收费核对制度",
        "rectify_days": 30,
        "issuing_unit": "某县医疗保障中心",
        "representative": "张院长",
        "round_ref": "2026-R1",
        "findings": ("F-001", "F-002"),
    }
    fields.update(changes)
    return NoticeContent(**fields)  # type: ignore[arg-type]


def confirm_leads(ws: Path) -> None:
    with open_store(ws) as store:
        for finding_id, (code, amount) in CONFIRMED.items():
            lead = {"fixmedins_code": code, "rule_id": "dup_billing", "amount_at_risk": amount}
            store.record_decision(
                finding_id,
                step="first_review",
                decision="confirmed",
                reason="病历无对应记录",
                by="li",
                lead=lead,
            )
        store.record_decision(
            "F-005", step="first_review", decision="dismissed", reason="有病历", by="li"
        )
