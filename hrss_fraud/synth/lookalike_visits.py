"""What every look-alike planner shares: a random stream per kind, and encounters tagged
``kind="lookalike"`` with the kind's name, in a given department, as courses of sessions."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

import numpy as np
import polars as pl

from hrss_fraud.synth.plan import _alive, _encounters
from hrss_fraud.synth.world import World

LOOKALIKE = "lookalike"
HOUR = 3600


def stream(world: World, name: str, month: int = -1) -> np.random.Generator:
    """The random stream of one kind (month -1: its plan; else the lines of a month)."""
    return np.random.default_rng([world.cfg.seed, 8100 + month, zlib.crc32(name.encode())])


P = ParamSpec("P")
R = TypeVar("R")


def own_stream(planner: Callable[P, R]) -> Callable[P, R]:
    """Run a kind's planner (named as the kind, the world its first argument) on the kind's
    own stream, also as ``world.rng`` while it plans — doctors and hours are drawn there —
    so that the county's other draws, the schemes' among them, stay as they were."""

    @functools.wraps(planner)
    def planned(*args: P.args, **kwargs: P.kwargs) -> R:
        world = cast("World", args[0])
        saved = world.rng
        world.rng = stream(world, planner.__name__)
        try:
            return planner(*args, **kwargs)
        finally:
            world.rng = saved

    return planned


def weekday(world: World, day: np.ndarray) -> np.ndarray:
    """0 = Monday, as in :func:`~hrss_fraud.synth.plan.day_weights`."""
    return (np.datetime64(world.start, "D").astype(int) + 3 + day) % 7


def thc(world: World, psn: np.ndarray) -> np.ndarray:
    """Each person's township health centre."""
    towns = len(world.county.townships)
    return np.array([world.insts("B1", town=t)[0] for t in range(towns)])[world.pop.town[psn]]


def visits(
    world: World,
    name: str,
    psn: np.ndarray,
    day: np.ndarray,
    inst: np.ndarray,
    group: np.ndarray | str,
    med_type: np.ndarray | str,
    *,
    setting: str = "op",
    los: np.ndarray | int = 0,
    dept: np.ndarray | str | None = None,
    mode: np.ndarray | str = "normal",
) -> pl.DataFrame:
    """Encounters of the look-alike ``name``; scalars apply to every one. ``mode`` is
    ``"session"`` for a course's later sessions, which bill their therapy and the
    registration fee only (:func:`hrss_fraud.synth.lookalike_care.lines`)."""
    n = len(psn)
    return _encounters(
        world,
        psn,
        day,
        inst,
        np.broadcast_to(group, n),
        setting,
        np.broadcast_to(med_type, n),
        los=los,
        tag=name,
        kind=LOOKALIKE,
        mode=np.broadcast_to(mode, n) if n else "normal",
        dept=None if dept is None else np.broadcast_to(dept, n),
    )


def _sessions(
    world: World, start: np.ndarray, count: np.ndarray, step: np.ndarray, weekdays_only: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The session days of courses that begin on ``start`` and hold ``count`` sessions
    every ``step`` days (on weekdays only, if so): (course index, day, first session?)."""
    span = int(count.max(initial=0) * step.max(initial=1) * 2)
    days = start[:, None] + np.arange(span)[None, :]
    on = (np.arange(span)[None, :] % step[:, None]) == 0
    if weekdays_only:
        on &= weekday(world, days) < 5
    nth = np.cumsum(on, axis=1)
    on &= nth <= count[:, None]
    course, col = np.nonzero(on)
    return course, days[course, col], nth[course, col] == 1


def course_visits(
    world: World,
    name: str,
    people: np.ndarray,
    start: np.ndarray,
    count: np.ndarray,
    step: np.ndarray,
    *,
    weekdays_only: bool,
    inst: np.ndarray,
    group: str,
    med_type: np.ndarray,
    dept: str,
) -> pl.DataFrame:
    """One course per person (per-person ``start``, ``count``, ``step``, ``inst`` and
    ``med_type``): the first session is an ordinary visit, the later ones sessions."""
    course, day, first = _sessions(world, start, count, step, weekdays_only)
    p = people[course]
    keep = _alive(world, p, day)
    return visits(
        world,
        name,
        p[keep],
        day[keep],
        inst[course][keep],
        group,
        med_type[course][keep],
        dept=dept,
        mode=np.where(first, "normal", "session")[keep],
    )
