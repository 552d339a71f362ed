"""Accounts and one labour case walked to a given step, for the labour-inspection tests.

The walk runs across National Day 2026 (1–7 October off, Sunday 20 September and Saturday
10 October worked), so its deadlines are counted across a holiday.
"""

from __future__ import annotations

from datetime import date

from hrss_fraud.cases import CaseStore
from hrss_fraud.cases.users import add_user
from hrss_fraud.registers import labour_cases as lc

PASSWORD = "Labour-2026-check"
HANDLER, HANDLER2, HEAD, HEAD2, AUDITOR = "wang", "li", "zhao", "sun", "qian"
EMPLOYER = {
    "employer_code": "91130123MA0LABOUR1",
    "employer_name": "县宏达建筑劳务有限公司",
    "employer_kind": "enterprise",
}
WAGES, CONTRIBUTIONS, FINE = "12,345.67", "5000", "20000"


NAMES = {HANDLER: "王立新", HANDLER2: "李静", HEAD: "赵国强", HEAD2: "孙明", AUDITOR: "钱文"}


def accounts(store: CaseStore) -> None:
    roles = {HANDLER: "reviewer", HANDLER2: "reviewer", HEAD: "supervisor"}
    roles |= {HEAD2: "supervisor", AUDITOR: "auditor"}
    for name, role in roles.items():
        add_user(store, name, role=role, password=PASSWORD, by="os:test", display_name=NAMES[name])


def new_case(store: CaseStore, on: date = date(2026, 9, 24), **kw: object) -> int:
    args = {
        **EMPLOYER,
        "source": "complaint",
        "source_ref": "TS-2026-031",
        "areas": ["wages", "social_insurance"],
        "summary": "职工23人投诉该公司拖欠2026年6月至8月工资，且未为其缴纳社会保险费。",
    }
    return lc.register_case(store, **{**args, **kw}, by=HANDLER, on=on)


STEPS_TO = (
    "register",
    "preliminary",
    "file",
    "investigate",
    "notify",
    "hearing_request",
    "hearing",
    "review",
    "decide",
    "payment",
    "execute",
    "close",
)


def walk(store: CaseStore, to: str = "close") -> int:
    """A case with a hearing, taken up to and including ``to`` (a name of STEPS_TO)."""
    case = new_case(store)
    acts = {
        "preliminary": lambda: lc.preliminary_check(
            store, case, findings="初步核查属实，工资表显示欠薪。", open_case=True,
            by=HANDLER, on=date(2026, 9, 25),
        ),
        "file": lambda: lc.file_case(store, case, by=HEAD, on=date(2026, 9, 28)),
        "investigate": lambda: lc.investigate(
            store, case, facts="查明拖欠23名职工工资12,345.67元，未缴社会保险费5,000元。",
            by=HANDLER, on=date(2026, 9, 29),
        ),
        "notify": lambda: lc.notify(
            store, case, kind="hearing", proposal="责令支付拖欠工资、补缴社会保险费，并处罚款",
            amounts={"back_wages": WAGES, "contributions": CONTRIBUTIONS, "fine": FINE},
            by=HANDLER, on=date(2026, 9, 30),
        ),
        "hearing_request": lambda: lc.request_hearing(
            store, case, text="当事人书面申请听证", by=HANDLER, on=date(2026, 10, 9)
        ),
        "hearing": lambda: lc.hold_hearing(
            store, case, record="当事人对欠薪事实无异议，请求减轻罚款。", by=HEAD2,
            on=date(2026, 10, 15),
        ),
        "review": lambda: lc.review(
            store, case, conclusion="事实清楚，证据确凿，同意拟定处理意见。", by=HEAD,
            on=date(2026, 10, 16),
        ),
        "decide": lambda: lc.decide(
            store, case, decision="责令支付拖欠工资、补缴社会保险费，并处罚款",
            amounts={"back_wages": WAGES, "contributions": CONTRIBUTIONS, "fine": FINE},
            by=HEAD, on=date(2026, 10, 19),
        ),
        "payment": lambda: [
            lc.record_payment(store, case, kind=k, amount=a, by=HANDLER, on=date(2026, 11, 2),
                              reference="银行回单")
            for k, a in (("back_wages", WAGES), ("contributions", CONTRIBUTIONS), ("fine", FINE))
        ],
        "execute": lambda: lc.conclude_execution(
            store, case, how="complied", text="已全部履行", by=HEAD, on=date(2026, 11, 3)
        ),
        "close": lambda: lc.close_case(
            store, case, summary="处理决定已履行完毕，结案归档。", by=HEAD, on=date(2026, 11, 4)
        ),
    }  # fmt: skip
    for step in STEPS_TO[1 : STEPS_TO.index(to) + 1]:
        acts[step]()
    return case
