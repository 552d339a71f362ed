"""Working days on the State Council's calendar: holidays, 调休 weekends, a year before the
calendar refused, a year after it counted on weekdays and marked provisional."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hrss_fraud.registers.workdays import (
    CalendarError,
    add_working_days,
    is_working_day,
    load_calendar,
    parse_calendar,
    provisional_note,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 30), True),  # Wednesday before National Day
        (date(2026, 10, 1), False),
        (date(2026, 10, 5), False),  # a Monday inside the holiday
        (date(2026, 10, 8), True),
        (date(2026, 9, 20), True),  # Sunday worked (调休)
        (date(2026, 10, 10), True),  # Saturday worked (调休)
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2025, 10, 8), False),  # 2025: National Day and Mid-Autumn together, 8 days
        (date(2025, 10, 11), True),
        (date(2024, 2, 18), True),
        (date(2026, 2, 23), False),  # 2026 Spring Festival ends on a Monday
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_counting_across_national_day_2026() -> None:
    start = date(2026, 9, 30)
    assert add_working_days(start, 0) == start
    assert add_working_days(start, 1) == date(2026, 10, 8)
    assert add_working_days(start, 3) == date(2026, 10, 10)  # the 调休 Saturday counts
    assert add_working_days(start, 4) == date(2026, 10, 12)
    assert working_days_between(start, date(2026, 10, 7)) == 0
    assert working_days_between(start, date(2026, 10, 12)) == 4
    assert working_days_between(date(2026, 10, 12), start) == -4


def test_a_three_day_window_served_before_the_holiday_ends_after_it() -> None:
    """An advance notice served on Tuesday 29 September 2026: three working days are 30
    September, 8 and 9 October."""
    assert add_working_days(date(2026, 9, 29), 3) == date(2026, 10, 9)


def test_sixty_working_days_from_a_filing_before_spring_festival() -> None:
    filed = date(2026, 1, 30)
    due = add_working_days(filed, 60)
    # February 2026: 2–13 (10) + 14 Sat 调休 (1) + 24–27 (4) + 28 Sat 调休 (1) = 16
    # March: 22; April: 4 Sat – 6 Mon off, so 22 − 1 = 21 → 59 by 30 April; then May 1–5
    # are off, so the 60th is Wednesday 6 May.
    assert due == date(2026, 5, 6)
    assert working_days_between(filed, due) == 60


def test_a_year_before_the_calendar_is_refused_with_its_first_year() -> None:
    with pytest.raises(CalendarError, match="2023-12-29 早于工作日日历的起始年份 2024 年"):
        is_working_day(date(2023, 12, 29))
    with pytest.raises(CalendarError, match="comes before 2024, the first year"):
        add_working_days(date(2023, 12, 29), 5)
    with pytest.raises(CalendarError, match="2023"):
        working_days_between(date(2023, 12, 29), date(2024, 1, 5))


def test_a_year_after_the_calendar_counts_weekdays_and_is_provisional() -> None:
    cal = load_calendar()
    assert 2027 not in cal.years
    # 2027 is not in the file: 1 January (a Friday) counts as a working day, weekends not
    assert is_working_day(date(2027, 1, 1))
    assert not is_working_day(date(2027, 1, 2))
    filed = date(2026, 12, 7)  # a Monday, nothing off in the rest of December 2026
    due = add_working_days(filed, 60)
    # December 8–31: 18; January 2027: 21 (39); February 1–26: 20 (59); Monday 1 March: 60
    assert due == date(2027, 3, 1)
    assert working_days_between(filed, due) == 60
    assert cal.provisional_years(filed, due) == (2027,)
    assert cal.provisional_years(date(2026, 9, 28), date(2026, 12, 25)) == ()
    assert provisional_note([2027]) == "暂按周末推算，待国务院公布2027年放假安排后更新"
    assert provisional_note([2027], "en") == (
        "provisional: weekends only until the 2027 holiday arrangement is published"
    )
    assert provisional_note([]) == ""


def test_a_workspace_calendar_replaces_the_shipped_one(tmp_path: Path) -> None:
    folder = tmp_path / "registers" / "calendar"
    folder.mkdir(parents=True)
    (folder / "cn_holidays.toml").write_text(
        'years = [2027]\n[[holiday]]\nname = "元旦"\nfrom = 2027-01-01\nto = 2027-01-01\n'
        "work = [2027-01-09]\n",
        encoding="utf-8",
    )
    assert is_working_day(date(2027, 1, 9), workspace=tmp_path)
    assert add_working_days(date(2027, 1, 8), 1, workspace=tmp_path) == date(2027, 1, 9)
    with pytest.raises(CalendarError, match="2026"):
        is_working_day(date(2026, 10, 8), workspace=tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("years = []\n", "`years` must list"),
        (
            'years = [2026]\n[[holiday]]\nname = "x"\nfrom = 2026-10-01\nto = 2026-10-07\n'
            "work = [2026-10-09]\n",
            r"holiday\[0\] \(x\): work day 2026-10-09 is a weekday",
        ),
        (
            'years = [2026]\n[[holiday]]\nname = "x"\nfrom = 2026-10-07\nto = 2026-10-01\n',
            r"holiday\[0\] \(x\): `to` 2026-10-01 comes before",
        ),
        (
            'years = [2026]\n[[holiday]]\nname = "x"\nfrom = "10/1"\nto = 2026-10-01\n',
            r"holiday\[0\]\.from: expected a date",
        ),
        (
            'years = [2026]\n[[holiday]]\nname = "x"\nfrom = 2027-01-01\nto = 2027-01-01\n',
            "outside the years covered",
        ),
    ],
)
def test_a_bad_calendar_file_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cal.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=message) as e:
        parse_calendar(path)
    assert "cal.toml" in str(e.value)


def test_the_shipped_calendar_covers_2024_to_2026_with_every_holiday() -> None:
    cal = load_calendar()
    assert cal.years == {2024, 2025, 2026}
    for year in (2024, 2025, 2026):
        names = {n for d, n in cal.holidays.items() if d.year == year}
        assert {"元旦", "春节", "清明节", "劳动节", "端午节"} <= names
        assert any("国庆节" in n for n in names)
        assert any("中秋节" in n for n in names)
    assert len([d for d in cal.holidays if d.year == 2026 and cal.holidays[d] == "春节"]) == 9
