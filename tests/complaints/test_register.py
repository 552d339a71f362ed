"""The complaints register: numbering, transitions, the 30-day deadline, masking, targets."""

from __future__ import annotations

import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from importlib import resources
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.complaints.register import (
    OUTCOMES,
    SOURCES,
    STATUSES,
    ComplaintError,
    assign,
    complaints,
    get,
    institutions_for_round,
    link,
    record_outcome,
    register,
    reveal_complainant,
    round_targets,
)

TODAY = date(2025, 6, 30)


def _add(store: CaseStore, received: date = date(2025, 3, 1), **kw: object) -> str:
    args = {"source": "电话", "content": "卫生院挂床住院", "by": "张三", "today": TODAY} | kw
    return register(store, received_on=received, **args)  # type: ignore[arg-type]


def test_numbers_are_year_and_serial_per_year_of_receipt(store: CaseStore) -> None:
    numbers = [
        _add(store, date(2024, 12, 30)),
        _add(store, date(2025, 1, 2)),
        _add(store, date(2025, 1, 3)),
        _add(store, date(2024, 11, 1)),
    ]
    assert numbers == ["2024-0001", "2025-0001", "2025-0002", "2024-0002"]


def test_a_registration_sets_the_deadline_30_days_from_receipt(store: CaseStore) -> None:
    c = get(store, _add(store, date(2025, 1, 31), source="letter"))
    assert (c.received_on, c.due_on, c.status, c.source) == (
        date(2025, 1, 31),
        date(2025, 3, 2),
        "registered",
        "letter",
    )


@pytest.mark.parametrize(
    ("today", "overdue", "days_left"),
    [(date(2025, 3, 30), False, 1), (date(2025, 3, 31), False, 0), (date(2025, 4, 1), True, -1)],
)
def test_overdue_only_after_the_due_day(
    store: CaseStore, today: date, overdue: bool, days_left: int
) -> None:
    _add(store, date(2025, 3, 1))  # due 2025-03-31
    row = complaints(store, today=today).row(0, named=True)
    assert (row["overdue"], row["days_left"]) == (overdue, days_left)
    assert complaints(store, today=today, overdue_only=True).height == int(overdue)


def test_a_handled_complaint_is_never_overdue_but_may_be_late(store: CaseStore) -> None:
    n = _add(store, date(2025, 3, 1), institutions=["H13012300001"])
    assign(store, n, "王五", by="张三")
    record_outcome(
        store, n, outcome="不属实", text="查无实据", by="王五", handled_on=date(2025, 4, 2)
    )
    row = complaints(store, today=date(2025, 6, 1)).row(0, named=True)
    assert (row["overdue"], row["late"], row["days_left"]) == (False, True, None)
    assert (row["status_zh"], row["outcome_zh"]) == ("已办结", "不属实")


def test_the_status_moves_forward_and_a_handled_complaint_is_final(store: CaseStore) -> None:
    n = _add(store)
    with pytest.raises(ComplaintError, match="still registered: check it first"):
        record_outcome(store, n, outcome="属实", text="x", by="王五")
    assign(store, n, "王五", by="张三")
    assert get(store, n).status == "checking"
    c = record_outcome(store, n, outcome="partly", text="部分查实", by="王五", handled_on=TODAY)
    assert (c.status, c.outcome, c.handler) == ("handled", "partly", "王五")
    for change in (
        lambda: assign(store, n, "赵六", by="张三"),
        lambda: link(store, n, institutions=["H13012300009"], by="张三"),
        lambda: record_outcome(store, n, outcome="属实", text="再办", by="王五"),
    ):
        with pytest.raises(ComplaintError, match="is final"):
            change()


def test_a_registered_complaint_may_be_referred_on_without_a_check(store: CaseStore) -> None:
    n = _add(store)
    c = record_outcome(store, n, outcome="转办", text="转卫健部门", by="王五", handled_on=TODAY)
    assert (c.status, c.outcome) == ("handled", "referred")


def test_the_database_refuses_a_step_back_and_a_delete(store: CaseStore) -> None:
    n = _add(store)
    assign(store, n, "王五", by="张三")
    with (
        pytest.raises(sqlite3.IntegrityError, match="only moves forward"),
        store.transaction() as con,
    ):
        con.execute("UPDATE complaint SET status = 'registered'")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"), store.transaction() as con:
        con.execute("DELETE FROM complaint")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"), store.transaction() as con:
        con.execute("UPDATE complaint SET status = 'handled', outcome = 'partly'")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": "微信"}, "source '微信' is not one of"),
        ({"content": "  "}, "content"),
        ({"by": ""}, "by"),
        ({"received": date(2025, 7, 1)}, "in the future"),
    ],
)
def test_an_invalid_registration_writes_nothing(
    store: CaseStore, change: dict, message: str
) -> None:
    change = dict(change)  # the parameter is shared by both backends' runs: not popped
    received = change.pop("received", date(2025, 3, 1))
    with pytest.raises(ComplaintError, match=message):
        _add(store, received, **change)
    assert store.query("SELECT count(*) FROM complaint")[0][0] == 0
    assert store.audit_log().is_empty()


def test_invalid_outcomes_and_dates_are_refused(store: CaseStore) -> None:
    n = _add(store, date(2025, 3, 1))
    assign(store, n, "王五", by="张三")
    with pytest.raises(ComplaintError, match="outcome '查实' is not one of"):
        record_outcome(store, n, outcome="查实", text="x", by="王五")
    with pytest.raises(ComplaintError, match="outcome text"):
        record_outcome(store, n, outcome="属实", text=" ", by="王五")
    with pytest.raises(ComplaintError, match="precedes the receipt date"):
        record_outcome(store, n, outcome="属实", text="x", by="王五", handled_on=date(2025, 2, 1))
    with pytest.raises(ComplaintError, match="no complaint numbered '2025-0099'"):
        assign(store, "2025-0099", "王五", by="张三")
    assert get(store, n).status == "checking"


def test_links_add_only_what_is_new_and_are_audited(store: CaseStore) -> None:
    n = _add(store, institutions=["H13012300002", "H13012300001"], persons=["130123000000000001"])
    leads = pl.DataFrame({"finding_id": ["f1"], "rule_id": ["r"], "amount_at_risk": [5.0]})
    added = link(
        store,
        n,
        institutions=["H13012300001", "H13012300003"],
        persons=["130123000000000001"],
        leads=leads,
        by="王五",
    )
    assert added == {"institutions": ["H13012300003"], "persons": [], "leads": ["f1"]}
    assert get(store, n).institutions == ("H13012300001", "H13012300002", "H13012300003")
    with pytest.raises(ComplaintError, match="nothing to link"):
        link(store, n, by="王五")
    actions = store.audit_log(n)["action"].to_list()
    assert actions == ["complaint.register", "complaint.link"]
    assert complaints(store, today=TODAY)["n_leads"].to_list() == [1]


def test_the_complainant_is_masked_unless_the_role_may_see_and_revealing_is_audited(
    store: CaseStore,
) -> None:
    n = _add(store, complainant="欧阳小明", contact="13912345678")
    _add(store)  # anonymous
    masked = complaints(store, today=TODAY).select("complainant", "contact").rows()
    assert masked == [(None, None), ("欧阳**", "139****5678")]
    shown = complaints(store, today=TODAY, role="reviewer")["complainant"].to_list()
    assert shown == [None, "欧阳小明"]
    assert reveal_complainant(store, n, by="王五") == ("欧阳小明", "13912345678")
    assert store.audit_log(n)["action"].to_list()[-1] == "complaint.reveal"


def test_institutions_for_round_lists_open_complaints_targets(store: CaseStore) -> None:
    a = _add(store, date(2025, 3, 1), institutions=["H13012300001", "H13012300002"])
    b = _add(store, date(2025, 3, 5), institutions=["H13012300002"])
    c = _add(store, date(2025, 3, 6), institutions=["H13012300003"], persons=["130123000000000001"])
    record_outcome(store, c, outcome="转办", text="转办", by="王五", handled_on=TODAY)
    got = institutions_for_round(store)
    assert got["fixmedins_code"].to_list() == ["H13012300002", "H13012300001"]
    assert got["complaint_numbers"].to_list() == [[a, b], [a]]
    assert got["due_on"].to_list() == [date(2025, 3, 31)] * 2
    assert round_targets(store) == [("H13012300002", f"{a}, {b}"), ("H13012300001", a)]


def test_the_vocabularies_equal_the_migration_seeds(store: CaseStore) -> None:
    for table, key, vocab in (
        ("complaint_source", "source", SOURCES),
        ("complaint_status", "status", STATUSES),
        ("complaint_outcome", "outcome", OUTCOMES),
    ):
        rows = store.query(f"SELECT {key}, label_zh, label_en FROM {table} ORDER BY seq")
        assert rows == [(k, zh, en) for k, (zh, en) in vocab.items()]


def test_the_migration_is_independent_of_the_others() -> None:
    """0005 may apply before 0003 and 0004: it names none of their tables."""
    folder = resources.files("hrss_fraud.cases").joinpath("migrations")
    sql = folder.joinpath("0005_complaints.sql").read_text(encoding="utf-8")
    referenced = set(re.findall(r"REFERENCES\s+(\w+)", sql))
    own = set(re.findall(r"CREATE TABLE (\w+)", sql))
    assert referenced and referenced <= own


def test_registrations_at_once_never_share_a_number(tmp_path: Path) -> None:
    """Each thread has its own connection, as in the dashboard; the serial is taken under
    the write lock."""

    def add_five(_: int) -> list[str]:
        with open_store(tmp_path) as s:
            return [_add(s) for _ in range(5)]

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for batch in pool.map(add_five, range(4)) for n in batch]
    assert sorted(numbers) == [f"2025-{i:04d}" for i in range(1, 21)]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"content": "举" * 2_000_000}, "content (举报内容): 2,000,000 characters, at most 4,000"),
        (
            {"content": "挂床\x07住院"},
            "content (举报内容): control character U+0007 at character 3",
        ),
        ({"content": "\u202e院医民人"}, "control character U+202E"),
        ({"complainant": "李" * 101}, "complainant (举报人): 101 characters, at most 100"),
        ({"contact": "138\n1234"}, "contact (联系方式): control character U+000A"),
        ({"by": "张\x00三"}, "by (登记人): control character U+0000"),
        ({"institutions": ["H1"]}, "institution (机构编号) 'H1' is not a code: a capital letter"),
        ({"institutions": ["H1301230000４"]}, "is not a code"),
        ({"institutions": ["H13012300001; DROP"]}, "is not a code"),
        ({"persons": ["nobody"]}, "person (人员编号) 'nobody' is not a code: 10 to 30 digits"),
        ({"persons": ["1" * 31]}, "is not a code"),
        ({"source": "wechat"}, "source 'wechat' is not one of"),
    ],
)
def test_fields_are_checked_before_anything_is_written(
    store: CaseStore, kw: dict[str, object], message: str
) -> None:
    with pytest.raises(ComplaintError) as err:
        _add(store, **kw)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert store.query("SELECT count(*) FROM complaint") == [(0,)]
    assert store.audit_log().is_empty()


def test_long_texts_keep_their_lines_and_codes_are_upper_cased(store: CaseStore) -> None:
    content = "第一段\n第二段\t附表\r\n" + "字" * (4000 - 12)
    n = _add(store, content=content, institutions=["h13012300001"], persons=["13012300000000000x"])
    c = get(store, n)
    assert c.content == content.strip() and len(c.content) == 4000
    assert (c.institutions, c.persons) == (("H13012300001",), ("13012300000000000X",))
    with pytest.raises(ComplaintError, match="outcome text"):
        record_outcome(store, n, outcome="转办", text="x" * 4001, by="王五", handled_on=TODAY)
    with pytest.raises(ComplaintError, match="handler"):
        assign(store, n, "王\x1b[31m五", by="张三")
    with pytest.raises(ComplaintError, match="is not a code"):
        link(store, n, institutions=["H-1"], by="张三")
