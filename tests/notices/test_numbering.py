"""Numbers (year + serial) under concurrent issuance: distinct, consecutive, and a number
whose issuance failed is void and never handed out again."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from helpers.notice_fixtures import make_content

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.notices import NoticeContent, NoticeError, create, issue, notices
from hrss_fraud.notices.store import get


def _fake_render(content: NoticeContent) -> tuple[bytes, bytes]:
    """Cheap documents: these tests are about the numbers, not the rendering."""
    return f"docx {content.number}".encode(), f"pdf {content.number}".encode()


def _drafts(store: CaseStore, n: int) -> list[int]:
    return [create(store, make_content(), by="li") for _ in range(n)]


def _issue_in_process(ws: str, notice_ids: list[int]) -> list[str]:
    numbers = []
    with open_store(Path(ws)) as store:
        for notice_id in notice_ids:
            out = issue(
                store, notice_id, Path(ws), by="p", on=date(2026, 6, 1), render=_fake_render
            )
            numbers.append(out.number)
    return numbers


def _numbers(store: CaseStore) -> list[tuple[str, int, str]]:
    return store.query("SELECT number, serial, status FROM notice_number ORDER BY serial")


def test_numbers_are_per_year_and_sequential(store: CaseStore, ws: Path) -> None:
    a, b, c = _drafts(store, 3)
    assert issue(store, a, ws, by="li", on=date(2026, 12, 31), render=_fake_render).number == (
        "2026-0001"
    )
    assert issue(store, b, ws, by="li", on=date(2026, 12, 31), render=_fake_render).number == (
        "2026-0002"
    )
    assert issue(store, c, ws, by="li", on=date(2027, 1, 1), render=_fake_render).number == (
        "2027-0001"
    )


def test_processes_issuing_at_once_get_distinct_consecutive_numbers(
    store: CaseStore, ws: Path
) -> None:
    ids = _drafts(store, 12)
    batches = [ids[i::4] for i in range(4)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=ctx) as pool:
        results = list(pool.map(_issue_in_process, [str(ws)] * 4, batches))
    issued = sorted(n for batch in results for n in batch)
    assert issued == [f"2026-{i:04d}" for i in range(1, 13)]
    assert [s for _, s, _ in _numbers(store)] == list(range(1, 13))
    by_notice = dict(store.query("SELECT notice_id, number FROM notice"))
    assert sorted(by_notice) == sorted(ids) and len(set(by_notice.values())) == 12


def test_a_failed_issuance_voids_its_number_which_is_never_reused(
    store: CaseStore, ws: Path
) -> None:
    ids = _drafts(store, 6)
    doomed = ids[2]

    numbers_of: dict[int, str] = {}
    errors: list[str] = []

    def worker(notice_id: int) -> None:
        with open_store(ws) as s:

            def render_one(content: NoticeContent) -> tuple[bytes, bytes]:
                if notice_id == doomed:
                    raise OSError("disk full")
                return _fake_render(content)

            try:
                numbers_of[notice_id] = issue(
                    s, notice_id, ws, by="t", on=date(2026, 6, 1), render=render_one
                ).number
            except NoticeError as e:
                errors.append(str(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1 and "is void: OSError: disk full" in errors[0]
    rows = _numbers(store)
    assert [s for _, s, _ in rows] == list(range(1, 7))
    void = [n for n, _, st in rows if st == "void"]
    assert len(void) == 1 and void[0] not in numbers_of.values()
    assert not (ws / "notices" / void[0]).exists()
    with pytest.raises(NoticeError, match="void"):
        get(store, void[0])
    assert store.query("SELECT status FROM notice WHERE notice_id = ?", (doomed,)) == [("draft",)]
    again = issue(store, doomed, ws, by="li", on=date(2026, 6, 2), render=_fake_render)
    assert again.number == "2026-0007"
    listed = notices(store, today=date(2026, 6, 3))
    assert listed["number"].drop_nulls().n_unique() == 6


def test_an_interrupted_issuance_is_voided_when_the_draft_is_issued_again(
    store: CaseStore, ws: Path
) -> None:
    (notice_id,) = _drafts(store, 1)
    with store.transaction() as con:  # as a process killed after taking its number leaves it
        con.execute(
            "INSERT INTO notice_number (number, year, serial, notice_id, status, allocated_at, "
            "allocated_by) VALUES ('2026-0001', 2026, 1, ?, 'allocated', 'now', 'x')",
            (notice_id,),
        )
    out = issue(store, notice_id, ws, by="li", on=date(2026, 6, 1), render=_fake_render)
    assert out.number == "2026-0002"
    assert _numbers(store) == [("2026-0001", 1, "void"), ("2026-0002", 2, "issued")]


def test_only_a_draft_is_issued(store: CaseStore, ws: Path) -> None:
    (notice_id,) = _drafts(store, 1)
    out = issue(store, notice_id, ws, by="li", on=date(2026, 6, 1), render=_fake_render)
    with pytest.raises(NoticeError, match=r"is issued .* not a draft"):
        issue(store, out.number, ws, by="li", render=_fake_render)
    assert len(_numbers(store)) == 1
