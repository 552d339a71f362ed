"""Chart axes in the screen's language: months and amounts as a reader of that language
writes them, so no chart says "Jan 2025" or "1.2M" on a Chinese screen.

Every function takes a figure either as a ``plotly.graph_objects.Figure`` or as the plain
dict ``dcc.Graph`` draws (``{"data": [...], "layout": {...}}``, which the profile pages
build because figure objects validate every property), changes it in place and returns it:

- :func:`month_labels` — month values (dates, ``"2025-01"``) as category labels
  (``2025年1月`` / ``Jan 2025``); use them as the data, so the hover says the same;
- :func:`month_axis` — a date axis whose ticks and hover read ``2025年1月``,
  ``1月5日`` when zoomed in (Chinese), and hover to the minute (both languages);
- :func:`amount_axis` — an axis of yuan amounts: in Chinese, ticks in 万元 (亿元 past a
  hundred million) with the unit in the axis title; in English, ``¥120k`` and ``¥1.2M``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import plotly.graph_objects as go

Figure = go.Figure | dict[str, Any]

EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = re.compile(r"^(\d{4})-?(\d{2})(?:-\d{2}.*)?$")

_DAY_MS = 86_400_000
_WEEK_MS = 7 * _DAY_MS
ZH_DATE_TICKS = (
    {"dtickrange": [None, _DAY_MS], "value": "%-m月%-d日 %H:%M"},
    {"dtickrange": [_DAY_MS, "M1"], "value": "%-m月%-d日"},
    {"dtickrange": ["M1", "M12"], "value": "%Y年%-m月"},
    {"dtickrange": ["M12", None], "value": "%Y年"},
)
HOVER_TIME = {"zh": "%Y年%-m月%-d日 %H:%M", "en": "%Y-%m-%d %H:%M"}

# (smallest top, divisor, tick suffix) per language, largest first; Chinese puts the unit
# in the axis title (万元), English on each tick (¥1.2M)
_SCALES: dict[str, tuple[tuple[float, float, str], ...]] = {
    "zh": ((1e8, 1e8, "亿元"), (1e4, 1e4, "万元"), (0.0, 1.0, "元")),
    "en": ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e3, 1e3, "k"), (0.0, 1.0, "")),
}


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        msg = f"unknown language {lang!r}; expected zh or en"
        raise ValueError(msg)


def month_label(value: date | str, lang: str) -> str:
    """The month of ``value`` (a date or datetime, or text ``2025-01``, ``202501``,
    ``2025-01-31``) as ``2025年1月`` (zh) or ``Jan 2025`` (en)."""
    _check_lang(lang)
    if isinstance(value, date):
        year, month = value.year, value.month
    else:
        found = _MONTH.match(str(value).strip())
        if not found or not 1 <= int(found[2]) <= 12:
            msg = f"{value!r} is not a month (expected a date or text like 2025-01)"
            raise ValueError(msg)
        year, month = int(found[1]), int(found[2])
    return f"{year}年{month}月" if lang == "zh" else f"{EN_MONTHS[month - 1]} {year}"


def month_labels(values: Iterable[date | str | None], lang: str) -> list[str | None]:
    """:func:`month_label` of each value (a missing one stays missing)."""
    return [None if v is None else month_label(v, lang) for v in values]


def _layout(fig: Figure) -> Mapping[str, Any]:
    return fig["layout"] if isinstance(fig, dict) else fig.layout


def _set_axis(fig: Figure, axis: str, props: dict[str, Any]) -> Figure:
    if isinstance(fig, dict):
        fig.setdefault("layout", {}).setdefault(axis, {}).update(props)
    else:
        fig.update_layout({axis: props})
    return fig


def month_axis(fig: Figure, lang: str, *, axis: str = "xaxis") -> Figure:
    """``axis`` of ``fig`` (a date axis) with ticks and hover in ``lang``: Chinese months
    (``2025年1月``; days and hours as one zooms in), the hover to the minute."""
    _check_lang(lang)
    props: dict[str, Any] = {"type": "date", "hoverformat": HOVER_TIME[lang]}
    if lang == "zh":
        props["tickformatstops"] = [dict(stop) for stop in ZH_DATE_TICKS]
    return _set_axis(fig, axis, props)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else obj[key]


def axis_values(fig: Figure, axis: str = "yaxis") -> list[float]:
    """The numbers ``fig`` draws on ``axis``: each trace's values on it, bars stacked
    (``barmode`` stack or relative) summed per position, positives and negatives apart."""
    letter, other = axis[0], "y" if axis[0] == "x" else "x"
    ref = letter + axis.removeprefix(f"{letter}axis")
    stacked = _get(_layout(fig), "barmode") in ("stack", "relative")
    values: list[float] = []
    stacks: dict[tuple[Any, bool], float] = defaultdict(float)
    for trace in fig["data"] if isinstance(fig, dict) else fig.data:
        if (_get(trace, f"{letter}axis") or letter) != ref or _get(trace, letter) is None:
            continue
        numbers = [v if isinstance(v, int | float) else None for v in _get(trace, letter)]
        if stacked and _get(trace, "type") == "bar":
            places = _get(trace, other) or range(len(numbers))
            for at, v in zip(places, numbers, strict=False):
                if v is not None:
                    stacks[(at, v >= 0)] += v
        else:
            values += [v for v in numbers if v is not None and math.isfinite(v)]
    return values + list(stacks.values())


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def amount_ticks(values: Iterable[float], lang: str) -> tuple[list[float], list[str], str]:
    """Ticks for amounts in yuan spanning ``values`` (zero included): their positions,
    their texts in ``lang`` and the unit the axis title names (``万元``; empty in English,
    whose ticks say ``¥``)."""
    _check_lang(lang)
    numbers = [float(v) for v in values]
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    top = max(abs(low), abs(high))
    divisor, unit = next((d, u) for floor, d, u in _SCALES[lang] if top >= floor)
    step = _nice_step(high - low) if high > low else 1.0
    first, last = math.floor(low / step), math.ceil(high / step)
    positions = [i * step for i in range(first, last + 1)]

    def tick(v: float) -> str:
        if lang == "zh":
            return _number(v / divisor)
        sign = "-" if v < 0 else ""
        return f"{sign}¥{_number(abs(v) / divisor)}{unit if v else ''}"

    return positions, [tick(v) for v in positions], unit if lang == "zh" else ""


def amount_axis(fig: Figure, lang: str, *, axis: str = "yaxis", title: str | None = None) -> Figure:
    """``axis`` of ``fig`` (amounts in yuan) with ticks in ``lang`` from the amounts the
    figure draws there (:func:`amount_ticks`), its range from zero (or the lowest amount)
    to the top tick, and ``title`` (the quantity, without a unit: 基金支付, fund paid)
    with the unit: ``基金支付（万元）``. Hover stays to the fen. Call it once the
    figure holds all its traces."""
    positions, texts, unit = amount_ticks(axis_values(fig, axis), lang)
    props: dict[str, Any] = {
        "tickmode": "array",
        "tickvals": positions,
        "ticktext": texts,
        "hoverformat": ",.2f",
    }
    if len(positions) > 1:  # every tick shown: a line's own range may hold only one
        props["range"] = [positions[0], positions[-1]]
    if title or unit:
        named = f"{title}（{unit}）" if title and unit else title or unit
        props["title"] = {"text": named}
    return _set_axis(fig, axis, props)
