"""Working days (工作日) on the State Council's holiday calendar, for deadlines counted in
working days (a labour-inspection case is concluded within 60 working days of filing).

The calendar is data, ``registers/calendar/cn_holidays.toml`` (a workspace's own copy
replaces it): the holidays as from–to ranges and the weekend days worked instead (调休).
A day is a working day when it is such a 调休 day, or Monday to Friday outside every
holiday.

A year after the file's first year that the file does not hold (next year, before the
State Council has published its arrangement, usually in November) counts Monday to Friday
as working days, with no holidays and no 调休: a deadline counted through such a year is
*provisional* (:meth:`Calendar.provisional_years`, :func:`provisional_note`) and moves
when the year is added to the file, since deadlines are computed from the file each time
they are read. A date before the file's first year is an error: the calendar never held
that past year.

Counting follows the rule for periods in administrative procedure: the day an event
happens is not counted, so the deadline ``n`` working days after a filing on ``day`` is
the ``n``-th working day after it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from hrss_fraud.resources import policy_path

CALENDAR_FILE = "calendar/cn_holidays.toml"
"""Under the ``registers`` policy folder."""


class CalendarError(ValueError):
    """A calendar file that cannot be used, or a date before the years it covers."""


PROVISIONAL_ZH = "暂按周末推算，待国务院公布{year}年放假安排后更新"
PROVISIONAL_EN = "provisional: weekends only until the {year} holiday arrangement is published"


def provisional_note(years: Iterable[int], lang: str = "zh") -> str:
    """What a deadline counted through ``years`` (not in the calendar file) is marked with;
    ``""`` when there are none."""
    held = sorted(set(years))
    if not held:
        return ""
    if lang == "zh":
        return PROVISIONAL_ZH.format(year="、".join(map(str, held)))
    return PROVISIONAL_EN.format(year=", ".join(map(str, held)))


@dataclass(frozen=True)
class Calendar:
    """The holidays and 调休 working days of the years a calendar file covers."""

    years: frozenset[int]
    holidays: dict[date, str]
    """Day off → the holiday's name."""
    work: dict[date, str]
    """Weekend day worked → the holiday it makes up for."""
    source: str = ""

    @property
    def first_year(self) -> int:
        return min(self.years)

    def _covered(self, day: date) -> None:
        if day.year < self.first_year:
            span = "、".join(str(y) for y in sorted(self.years))
            msg = (
                f"{day} 早于工作日日历的起始年份 {self.first_year} 年（已有：{span}），无法按"
                f"工作日计算期限；如需计算，请在 {self.source} 中补充 {day.year} 年的节假日安排 "
                f"({day} comes before {self.first_year}, the first year of the working-day "
                f"calendar ({span}): add {day.year}'s holidays to {self.source} to count it)"
            )
            raise CalendarError(msg)

    def provisional_years(self, start: date, end: date) -> tuple[int, ...]:
        """The years from ``start`` to ``end`` the file does not hold, counted as Monday to
        Friday only: a deadline counted over them is provisional."""
        first, last = sorted((start.year, end.year))
        return tuple(y for y in range(first, last + 1) if y not in self.years)

    def is_working_day(self, day: date) -> bool:
        """A 调休 day, or Monday to Friday outside every holiday; Monday to Friday in a year
        after the first that the file does not hold (provisional)."""
        self._covered(day)
        if day.year not in self.years:
            return day.weekday() < 5
        if day in self.work:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself not counted); ``day``
        for ``n == 0``."""
        if n < 0:
            msg = f"working days to add must be 0 or more, not {n}"
            raise CalendarError(msg)
        self._covered(day)
        current = day
        while n:
            current += timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when ``end``
        comes first), so ``working_days_between(d, add_working_days(d, n)) == n``."""
        if end < start:
            return -self.working_days_between(end, start)
        self._covered(start)
        self._covered(end)
        days = (end - start).days
        return sum(self.is_working_day(start + timedelta(days=i)) for i in range(1, days + 1))


def _day(value: object, where: str) -> date:
    if type(value) is not date:
        msg = f"{where}: expected a date written as 2026-10-01, not {value!r}"
        raise CalendarError(msg)
    return value


def parse_calendar(path: Path) -> Calendar:
    """Read and check a calendar file; :class:`CalendarError` naming the file and the entry."""
    name = Path(path).name
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        msg = f"{name}: cannot read the working-day calendar: {e}"
        raise CalendarError(msg) from e
    years = data.get("years")
    if not years or not all(isinstance(y, int) for y in years):
        msg = f"{name}: `years` must list the years covered, e.g. years = [2025, 2026]"
        raise CalendarError(msg)
    holidays: dict[date, str] = {}
    work: dict[date, str] = {}
    for i, entry in enumerate(data.get("holiday", [])):
        where = f"{name}: holiday[{i}]"
        label = str(entry.get("name", "")).strip()
        if not label:
            msg = f"{where}.name is missing"
            raise CalendarError(msg)
        first = _day(entry.get("from"), f"{where}.from")
        last = _day(entry.get("to"), f"{where}.to")
        if last < first:
            msg = f"{where} ({label}): `to` {last} comes before `from` {first}"
            raise CalendarError(msg)
        days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
        worked = [_day(w, f"{where}.work") for w in entry.get("work", [])]
        for d in (*days, *worked):
            if d.year not in years:
                msg = f"{where} ({label}): {d} is outside the years covered {years}"
                raise CalendarError(msg)
        for d in worked:
            if d.weekday() < 5:
                msg = f"{where} ({label}): work day {d} is a weekday; 调休 days are weekends"
                raise CalendarError(msg)
        holidays.update(dict.fromkeys(days, label))
        work.update(dict.fromkeys(worked, label))
    both = sorted(set(holidays) & set(work))
    if both:
        msg = f"{name}: {both[0]} is both a holiday and a 调休 working day"
        raise CalendarError(msg)
    return Calendar(frozenset(years), holidays, work, str(path))


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int) -> Calendar:
    return parse_calendar(Path(path))


def load_calendar(workspace: Path | None = None) -> Calendar:
    """The workspace's calendar file if it keeps one, else the shipped one (read once per
    version of the file)."""
    path = policy_path("registers", CALENDAR_FILE, workspace)
    if not path.is_file():
        msg = f"no working-day calendar at {path}"
        raise CalendarError(msg)
    return _cached(str(path), path.stat().st_mtime_ns)


def is_working_day(day: date, *, workspace: Path | None = None) -> bool:
    return load_calendar(workspace).is_working_day(day)


def add_working_days(day: date, n: int, *, workspace: Path | None = None) -> date:
    """The ``n``-th working day after ``day`` (see :meth:`Calendar.add_working_days`)."""
    return load_calendar(workspace).add_working_days(day, n)


def working_days_between(start: date, end: date, *, workspace: Path | None = None) -> int:
    """Working days after ``start`` up to ``end`` (see :meth:`Calendar.working_days_between`)."""
    return load_calendar(workspace).working_days_between(start, end)
