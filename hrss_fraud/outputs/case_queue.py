"""The case queue: one page of a run's cases (an institution × rule family × month, a
person's pattern, a doctor's pattern; ``Run.cases``), filtered and sorted, each with the
review progress of its leads, in the shape dash-ag-grid's infinite row model asks for.

A county year holds hundreds of thousands of cases, so their filter and sort columns are
held once per run in a :class:`CaseIndex`: a narrow frame in rank order (loaded from the
``case_index`` mart when the run has marts), which a page filters and sorts by rank
without a sort. Only the page's titles are read from the Parquet (the ``case_rows`` mart,
in small row groups, or the run's own file). A case's progress (how many of its leads
someone has decided) is counted per request from the case store's decisions through the
lead index, which knows each lead's case, the same way the lead queue shows status.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import numpy as np
import polars as pl

from hrss_fraud.engine.catalogue import SEVERITIES
from hrss_fraud.engine.grouping import CASE_SCHEMA
from hrss_fraud.outputs.labels import (
    CASE_KINDS,
    FAMILIES,
    PROGRESS,
    case_kind_labels,
    family_labels,
    progress_labels,
    severity_labels,
)
from hrss_fraud.outputs.leads import (
    SEVERITY_RANK,
    FilterError,
    LeadFilter,
    LeadIndex,
    RowsFile,
    amount_bounds,
    check_lang,
    combined,
    date_bounds,
    dense_key,
    directed_key,
    lead_index,
    narrowed,
    review_status,
    stable_order,
)
from hrss_fraud.outputs.overview import rule_names

if TYPE_CHECKING:
    from pathlib import Path

    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

INDEX_COLUMNS = tuple(c for c in CASE_SCHEMA if not c.startswith(("title_", "evidence_")))
"""The case columns a page filters and sorts on, held in memory; titles and evidence stay
in the Parquet."""

ROW_COLUMNS = (
    "case_id",
    "case_rank",
    "title",
    "case_kind",
    "case_kind_label",
    "fixmedins_code",
    "fixmedins_name",
    "psn_no",
    "doctor",
    "family",
    "family_label",
    "months",
    "rule_ids",
    "rules",
    "n_findings",
    "n_lines",
    "amount_at_risk",
    "expected_recovery",
    "severity",
    "severity_label",
    "n_decided",
    "progress",
    "progress_label",
)
"""A case row of the grid: the title and labels in the requested language, ``months`` the
months its leads span, ``rules`` their names, ``progress`` ``decided/total``."""


@dataclass(frozen=True)
class CaseFilter:
    """What the auditor narrowed the case queue to; ``None`` is no constraint, a tuple
    keeps the cases whose value is in it (``rule_ids``: a case with any of the rules;
    ``progress``: :data:`labels.PROGRESS` states). Dates keep cases whose period overlaps
    the range, as the lead queue's do."""

    case_ids: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    fixmedins_codes: tuple[str, ...] | None = None
    rule_ids: tuple[str, ...] | None = None
    families: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    progress: tuple[str, ...] | None = None
    psn_no: str | None = None
    doctor: str | None = None
    amount_min: float | None = None
    amount_max: float | None = None
    recovery_min: float | None = None
    recovery_max: float | None = None
    date_from: date | None = None
    date_to: date | None = None

    def narrowed(self, other: CaseFilter) -> CaseFilter:
        """Both filters at once (AND): sets intersect, bounds tighten."""
        return narrowed(self, other)


SORTABLE = (
    "case_rank",
    "fixmedins_code",
    "fixmedins_name",
    "case_kind_label",
    "months",
    "n_findings",
    "n_lines",
    "amount_at_risk",
    "expected_recovery",
    "severity_label",
    "progress",
)
"""The grid columns a page can be sorted by; the rank breaks every tie."""


class CaseIndex:
    """A run's cases as a narrow frame in ``case_rank`` order (``pos`` is the place in
    it, ``rn`` the row in the run's Parquet), built once per run (:func:`case_index`)
    and shared by the web process's threads. A page is a mask and a sort order over it
    (orders that do not depend on review decisions are kept for the next pages); only the
    page's rows are gathered, their titles read from the Parquet.

    Read-only after it is built but for the small caches, which a lock guards."""

    MAX_ORDERS = 8

    def __init__(self, path: Path, cases: pl.DataFrame, rows_path: Path | None = None) -> None:
        self.path = path
        if not cases["case_rank"].is_sorted():
            cases = cases.sort("case_rank")
        self.frame = cases.with_columns(
            pos=pl.int_range(pl.len(), dtype=pl.Int64),
            severity_rank=pl.col("severity").replace_strict(
                SEVERITY_RANK, default=None, return_dtype=pl.Int32
            ),
        )
        self.n = self.frame.height
        self.rows_file = RowsFile(rows_path) if rows_path is not None else None
        self._places: tuple[int, np.ndarray] | None = None
        self._orders: OrderedDict[tuple[Any, ...], np.ndarray] = OrderedDict()
        self._keys: dict[tuple[str, str | None], np.ndarray] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(cls, view: RunView) -> CaseIndex:
        """The index read off the run's cases (institution names from the lake where
        grouping left them out)."""
        return cls(view.cases_path, index_frame(view))

    # --- which case a lead is in ------------------------------------------------------

    def _place(self, leads: LeadIndex) -> np.ndarray:
        """Each code of the lead index's ``case_id`` vocabulary → the case's ``pos``
        (-1: a case the run's cases do not hold), by a binary search of the vocabulary
        (sorted) for every case id."""
        coded = leads.coded["case_id"]
        with self._lock:
            if self._places is not None and self._places[0] == id(coded):
                return self._places[1]
        place = np.full(coded.values.len(), -1, dtype=np.int64)
        at = coded.values.search_sorted(self.frame["case_id"]).to_numpy()
        inside = at < coded.values.len()
        ids = self.frame["case_id"].to_numpy()
        hit = np.zeros(self.n, dtype=bool)
        hit[inside] = coded.values.gather(at[inside]).to_numpy() == ids[inside]
        place[at[hit]] = np.flatnonzero(hit)
        with self._lock:
            self._places = (id(coded), place)
        return place

    def cases_of(self, leads: LeadIndex, positions: np.ndarray) -> np.ndarray:
        """The case (``pos``; -1: none) of the leads at ``positions`` of the lead index."""
        keys = leads.coded["case_id"].keys[positions]
        place = self._place(leads)
        if not len(place):
            return np.full(len(keys), -1, dtype=np.int64)
        return np.where(keys < 0, -1, place[np.maximum(keys, 0)])

    def leads_of(self, leads: LeadIndex, at: int) -> np.ndarray:
        """Positions in the lead index of the leads of the case at ``pos`` ``at``."""
        coded = leads.coded["case_id"]
        code = np.flatnonzero(self._place(leads) == at)
        return np.flatnonzero(coded.keys == code[0]) if len(code) else np.arange(0)

    def decided(self, leads: LeadIndex, decisions: pl.DataFrame) -> np.ndarray:
        """How many leads of each case (by ``pos``) have a decision in ``decisions``."""
        at = leads.positions(decisions["finding_id"])
        case = self.cases_of(leads, at[at >= 0])
        return np.bincount(case[case >= 0], minlength=self.n)

    # --- which cases, in which order ----------------------------------------------------

    def select(
        self, flt: CaseFilter, sort: list[dict[str, str]] | None, lang: str, n_decided: np.ndarray
    ) -> np.ndarray:
        """Positions (``pos``) of the cases ``flt`` keeps, in ``sort`` order (the rank
        breaks ties); ``n_decided`` is each case's decided leads (progress)."""
        keep = None
        if flt != CaseFilter():
            frame = self.frame
            if flt.progress is not None:
                frame = frame.with_columns(n_decided=pl.Series(n_decided, dtype=pl.Int64))
            keep = frame.select(_conditions(flt)).to_series().to_numpy()
        order = self._order(_sort_keys(sort), lang, n_decided)
        if order is None:
            return np.arange(self.n) if keep is None else np.flatnonzero(keep)
        return order if keep is None else order[keep[order]]

    def _order(
        self, keys: list[tuple[str, bool]], lang: str, n_decided: np.ndarray
    ) -> np.ndarray | None:
        """Every case's position in the order of ``keys`` (None: the rank's own), kept
        for the next pages unless it depends on review decisions. Ties stay in position
        order, which is the rank's."""
        if not keys:
            return None
        by_decision = any(col == "progress" for col, _ in keys)
        cache_key = (tuple(keys), lang)
        with self._lock:
            if not by_decision and cache_key in self._orders:
                self._orders.move_to_end(cache_key)
                return self._orders[cache_key]
        columns = [directed_key(self._key(col, lang, n_decided), d) for col, d in keys]
        order = stable_order(columns, self.n)
        if not by_decision:
            with self._lock:
                self._orders[cache_key] = order
                while len(self._orders) > self.MAX_ORDERS:
                    self._orders.popitem(last=False)
        return order

    def _key(self, column: str, lang: str, n_decided: np.ndarray) -> np.ndarray:
        """A sort key of ``column`` (each case's place among its distinct values, -1 for
        null), kept per column and language; progress's is computed per request."""
        if column == "progress":
            ratio = pl.Series(n_decided, dtype=pl.Float64) / self.frame["n_findings"]
            return dense_key(ratio)
        cache_key = (column, lang if column in _SORT_EXPR else None)
        with self._lock:
            if cache_key in self._keys:
                return self._keys[cache_key]
        expr = _SORT_EXPR[column](lang) if column in _SORT_EXPR else pl.col(column)
        key = dense_key(self.frame.select(expr).to_series())
        with self._lock:
            self._keys[cache_key] = key
        return key

    def rows(self, positions: np.ndarray, n_decided: np.ndarray) -> pl.DataFrame:
        """The index rows of the cases at ``positions``, in that order, with ``n_decided``."""
        picked = self.frame[positions]
        return picked.with_columns(n_decided=pl.Series(n_decided[positions], dtype=pl.Int64))

    def titles(self, positions: np.ndarray, columns: list[str]) -> pl.DataFrame:
        """``columns`` of the cases at ``positions`` (in that order), read from the
        Parquet: the ``case_rows`` mart by position, or the run's file by row."""
        if len(positions) == 0:
            return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
        if self.rows_file is not None:
            return pl.from_arrow(self.rows_file.take(positions, columns))  # type: ignore[return-value]
        rn = self.frame["rn"].gather(positions)
        wanted = pl.DataFrame({"rn": rn, "order": np.arange(len(positions))})
        rows = (
            pl.scan_parquet(self.path)
            .select(columns)
            .with_row_index("rn")
            .join(wanted.lazy().cast({"rn": pl.UInt32}), on="rn")
            .sort("order")
            .collect()
        )
        return rows.select(columns)

    def position(self, case_id: str) -> int | None:
        found = self.frame.filter(pl.col("case_id") == case_id)["pos"]
        return int(found[0]) if found.len() else None


def index_frame(view: RunView) -> pl.DataFrame:
    """The :data:`INDEX_COLUMNS` of the run's cases and each one's row in its Parquet
    (``rn``), in rank order: what the ``case_index`` mart keeps."""
    names = view.institutions.select("fixmedins_code", lake_name="fixmedins_name")
    return (
        pl.scan_parquet(view.cases_path)
        .with_row_index("rn")
        .select("rn", *INDEX_COLUMNS)
        .join(names.lazy(), on="fixmedins_code", how="left")
        .with_columns(pl.col("fixmedins_name").fill_null(pl.col("lake_name")))
        .drop("lake_name")
        .sort("case_rank")
        .collect()
    )


def case_index(view: RunView) -> CaseIndex:
    """The run's :class:`CaseIndex`, loaded from its marts or built on first use, and
    kept with the run's view."""

    def load() -> CaseIndex:
        index, rows = view.mart("case_index"), view.mart("case_rows")
        if index is None or rows is None:
            return CaseIndex.build(view)
        return CaseIndex(view.cases_path, pl.read_parquet(index), rows)

    return view.memo("case_index", load)


def _sort_keys(sort: list[dict[str, str]] | None) -> list[tuple[str, bool]]:
    """``(column, descending)`` of ag-grid's ``sortModel``, the rank last to break ties;
    empty when the order asked for is the rank's own (the frame's order)."""
    asked: list[tuple[str, bool]] = []
    for item in sort or ():
        col, direction = item.get("colId"), str(item.get("sort") or "asc").lower()
        if col not in SORTABLE:
            msg = f"cannot sort cases by {col!r}; sortable: {', '.join(SORTABLE)}"
            raise FilterError(msg)
        if direction not in ("asc", "desc"):
            msg = f"sort direction {direction!r} of {col!r} is neither asc nor desc"
            raise FilterError(msg)
        asked.append((col, direction == "desc"))
        if col == "case_rank":  # unique: nothing after it can matter
            break
    if not asked or asked == [("case_rank", False)]:
        return []
    return asked if asked[-1][0] == "case_rank" else [*asked, ("case_rank", False)]


_SORT_EXPR = {
    "case_kind_label": lambda lang: pl.col("case_kind").replace_strict(
        case_kind_labels(lang), default=pl.col("case_kind")
    ),
    "months": lambda _lang: pl.col("period_start"),
    "severity_label": lambda _lang: pl.col("severity_rank"),
}
"""Grid columns that sort by something other than a frame column of their name (and
``progress``: the share of a case's leads decided, :meth:`CaseIndex._key`)."""


def _progress_state() -> pl.Expr:
    """Each case's review state (:data:`labels.PROGRESS`) from ``n_decided``."""
    return (
        pl.when(pl.col("n_decided") == 0)
        .then(pl.lit("untouched"))
        .when(pl.col("n_decided") < pl.col("n_findings"))
        .then(pl.lit("in_progress"))
        .otherwise(pl.lit("done"))
    )


def _conditions(flt: CaseFilter) -> pl.Expr:
    """``flt`` as one polars condition over the index frame."""
    parts: list[pl.Expr] = []
    for attr, column in (
        ("case_ids", "case_id"),
        ("kinds", "case_kind"),
        ("fixmedins_codes", "fixmedins_code"),
        ("families", "family"),
        ("severities", "severity"),
    ):
        values = getattr(flt, attr)
        if values is not None:
            parts.append(pl.col(column).is_in(list(values)))
    if flt.rule_ids is not None:
        wanted = list(flt.rule_ids)
        parts.append(pl.col("rule_ids").list.eval(pl.element().is_in(wanted)).list.any())
    if flt.progress is not None:
        parts.append(_progress_state().is_in(list(flt.progress)))
    if flt.psn_no is not None:
        parts.append(pl.col("psn_no") == flt.psn_no)
    if flt.doctor is not None:
        parts.append(pl.col("doctor") == flt.doctor)
    for column, low, high in (
        ("amount_at_risk", flt.amount_min, flt.amount_max),
        ("expected_recovery", flt.recovery_min, flt.recovery_max),
    ):
        if low is not None:
            parts.append(pl.col(column) >= low)
        if high is not None:
            parts.append(pl.col(column) <= high)
    if flt.date_from is not None:
        parts.append(pl.col("period_end") >= flt.date_from)
    if flt.date_to is not None:
        parts.append(pl.col("period_start") <= flt.date_to)
    return pl.all_horizontal(parts).fill_null(False) if parts else pl.lit(True)


def progress(view: RunView, case_store: CaseStore | None) -> tuple[CaseIndex, np.ndarray]:
    """The run's case index and each case's number of decided leads (by ``pos``)."""
    index = case_index(view)
    return index, index.decided(lead_index(view), review_status(case_store))


def page(
    view: RunView,
    flt: CaseFilter | None,
    sort: list[dict[str, str]] | None,
    start_row: int,
    end_row: int,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> tuple[list[dict[str, Any]], int]:
    """Rows ``start_row`` (inclusive) to ``end_row`` (exclusive) of the filtered, sorted
    case queue as :data:`ROW_COLUMNS` dicts, and how many cases the whole queue has."""
    if start_row < 0 or end_row < start_row:
        msg = f"rows {start_row}..{end_row}: need 0 <= startRow <= endRow"
        raise FilterError(msg)
    check_lang(lang)
    index, n_decided = progress(view, case_store)
    chosen = index.select(flt or CaseFilter(), sort, lang, n_decided)
    rows = shown(view, index, index.rows(chosen[start_row:end_row], n_decided), lang)
    return rows.to_dicts(), len(chosen)


def case_frame(
    view: RunView,
    flt: CaseFilter | None = None,
    sort: list[dict[str, str]] | None = None,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
    limit: int | None = None,
) -> pl.DataFrame:
    """Every case ``flt`` keeps (up to ``limit``), sorted, in :data:`ROW_COLUMNS` with
    its evidence: what an export works on."""
    index, n_decided = progress(view, case_store)
    chosen = index.select(flt or CaseFilter(), sort, lang, n_decided)[:limit]
    return shown(view, index, index.rows(chosen, n_decided), lang, evidence=True)


def shown(
    view: RunView, index: CaseIndex, chosen: pl.DataFrame, lang: str, *, evidence: bool = False
) -> pl.DataFrame:
    """The grid rows of the ``chosen`` cases (index rows with ``n_decided``), their
    titles (and evidence) read for them alone; dates as ISO text, as a grid shows them."""
    en = "en" if lang == "en" else "zh"
    columns = [f"title_{en}", *([f"evidence_{en}"] if evidence else [])]
    texts = index.titles(chosen["pos"].to_numpy(), columns)
    names = dict(
        rule_names(view).select("rule_id", f"rule_name{'_en' if en == 'en' else ''}").rows()
    )
    sep = ", " if lang == "en" else "、"
    first, last = (
        pl.col("period_start").dt.strftime("%Y-%m"),
        pl.col("period_end").dt.strftime("%Y-%m"),
    )
    rows = chosen.with_columns(
        title=texts[f"title_{en}"],
        case_kind_label=pl.col("case_kind").replace_strict(
            case_kind_labels(lang), default=pl.col("case_kind")
        ),
        family_label=pl.col("family").replace_strict(family_labels(lang), default=pl.col("family")),
        months=pl.when(first == last).then(first).otherwise(pl.format("{}–{}", first, last)),
        rules=pl.col("rule_ids")
        .list.eval(pl.element().replace_strict(names, default=pl.element()))
        .list.join(sep),
        severity_label=pl.col("severity").replace_strict(
            severity_labels(lang), default=pl.col("severity")
        ),
        progress=pl.format("{}/{}", "n_decided", "n_findings"),
        progress_label=_progress_state().replace_strict(progress_labels(lang)),
    )
    if evidence:
        rows = rows.with_columns(evidence=texts[f"evidence_{en}"])
    out = rows.select(*ROW_COLUMNS, *(["evidence"] if evidence else []))
    return out.with_columns(pl.col(pl.Date).cast(pl.String))


def one_case(
    view: RunView, case_id: str, case_store: CaseStore | None = None, *, lang: str = "zh"
) -> dict[str, Any]:
    """Every :data:`ROW_COLUMNS` field of one case, its evidence, its period, and its leads'
    review statuses (``statuses``: status → count); :class:`LookupError` if the run has
    no such case."""
    check_lang(lang)
    index = case_index(view)
    at = index.position(case_id)
    if at is None:
        msg = f"case {case_id!r} is not in run {view.run_id}"
        raise LookupError(msg)
    leads = lead_index(view)
    decisions = review_status(case_store)
    chosen = index.rows(np.array([at]), index.decided(leads, decisions))
    row = shown(view, index, chosen, lang, evidence=True).row(0, named=True)
    row["period_start"], row["period_end"] = (
        str(index.frame["period_start"][at]),
        str(index.frame["period_end"][at]),
    )
    mine = index.leads_of(leads, at)
    decided = leads.decided(decisions)
    counts = np.bincount(decided.status[mine], minlength=len(decided.statuses))
    row["statuses"] = {s: int(c) for s, c in zip(decided.statuses, counts, strict=True) if c}
    return row


# --- ag-grid's filterModel -------------------------------------------------------------

FILTER_OPTIONS: dict[str, tuple[str, ...]] = {
    "case_id": ("equals",),
    "case_kind_label": ("equals",),
    "fixmedins_code": ("equals",),
    "rules": ("equals",),
    "family_label": ("equals",),
    "severity_label": ("equals",),
    "progress_label": ("equals",),
    "psn_no": ("equals",),
    "doctor": ("equals",),
    "amount_at_risk": (
        "equals",
        "greaterThan",
        "greaterThanOrEqual",
        "lessThan",
        "lessThanOrEqual",
        "inRange",
    ),
    "months": ("equals", "greaterThan", "lessThan", "inRange"),
}
"""The ``filterParams.filterOptions`` each filterable case column supports (set filters
work on the set-like ones with ``equals``); ``expected_recovery`` takes the same number
filters as ``amount_at_risk``; ``months`` keeps cases whose period overlaps the dates."""
FILTER_OPTIONS["expected_recovery"] = FILTER_OPTIONS["amount_at_risk"]

_SET_FIELDS = {
    "case_id": "case_ids",
    "case_kind_label": "kinds",
    "fixmedins_code": "fixmedins_codes",
    "rules": "rule_ids",
    "family_label": "families",
    "severity_label": "severities",
    "progress_label": "progress",
}

_VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    "case_kind_label": CASE_KINDS,
    "severity_label": SEVERITIES,
    "progress_label": PROGRESS,
}


def _code(column: str, value: str) -> str:
    """A kind, severity, review state or family given as its code or a label in either
    language → its code; other columns' values as given."""
    if column == "family_label":
        for code, (zh, en) in FAMILIES.items():
            if value in (code, zh, en):
                return code
        return value
    vocab = _VOCABULARIES.get(column)
    if vocab is None:
        return value
    for code, names in vocab.items():
        if value == code or value in names:
            return code
    msg = f"{column}: {value!r} is not one of {', '.join(vocab)}"
    raise FilterError(msg)


def _condition(column: str, cond: dict[str, Any]) -> CaseFilter:
    kind = cond.get("filterType")
    if kind == "set":
        if column not in _SET_FIELDS:
            msg = f"cannot filter cases by a set of {column!r} values"
            raise FilterError(msg)
        values = tuple(_code(column, str(v)) for v in cond.get("values") or ())
        return CaseFilter(**{_SET_FIELDS[column]: values})
    op = cond.get("type")
    if op not in FILTER_OPTIONS.get(column, ()):
        allowed = ", ".join(FILTER_OPTIONS.get(column, ())) or "none"
        msg = f"cannot filter cases by {column!r} with {op!r}; allowed: {allowed}"
        raise FilterError(msg)
    if kind == "number":
        low, high = amount_bounds(column, str(op), cond)
        if column == "expected_recovery":
            return CaseFilter(recovery_min=low, recovery_max=high)
        return CaseFilter(amount_min=low, amount_max=high)
    if kind == "date":
        start, end = date_bounds(column, str(op), cond)
        return CaseFilter(date_from=start, date_to=end)
    text = str(cond.get("filter") or "").strip()
    if column in ("psn_no", "doctor"):
        return CaseFilter(**{column: text})
    if column not in _SET_FIELDS:
        msg = f"cannot filter cases by {column!r} as text"
        raise FilterError(msg)
    return CaseFilter(**{_SET_FIELDS[column]: (_code(column, text),)})


def filter_from_ag_grid(filter_model: dict[str, Any] | None) -> CaseFilter:
    """ag-grid's ``filterModel`` as a :class:`CaseFilter` (conditions combined with AND;
    OR only among values of one set-like column); :class:`FilterError` for what the case
    queue cannot apply (see :data:`FILTER_OPTIONS`)."""
    return combined(filter_model, _condition, _SET_FIELDS, CaseFilter())


# --- the queue's own toolbar: what the URL says, and how it narrows both grids ----------

QUEUE_VIEWS = ("cases", "leads")
PRESETS = ("severe", "amount", "overdue", "flagged")
"""The toolbar's presets: most severe first, largest amount first, overdue only (the
leads whose review deadline has passed, largest amount first), flagged for review only
(提请审核, largest amount first)."""
KEEPING_PRESETS = ("overdue", "flagged")
"""The presets that keep some leads (the others only order them)."""

QUERY_KEYS = ("view", "case", "institution", "doctor", "person", "preset")
"""The query string of ``/leads`` (in this order): a link with them opens the same view."""

_PRESET_SORT: dict[str, list[dict[str, str]]] = {
    "severe": [
        {"colId": "severity_label", "sort": "desc"},
        {"colId": "amount_at_risk", "sort": "desc"},
    ],
    "amount": [{"colId": "amount_at_risk", "sort": "desc"}],
    "overdue": [{"colId": "amount_at_risk", "sort": "desc"}],
    "flagged": [{"colId": "amount_at_risk", "sort": "desc"}],
}


@dataclass(frozen=True)
class QueueQuery:
    """What the queue's toolbar narrows to, as the URL carries it: the grid shown, an
    open case, an institution (its code), a person (their number) and a preset."""

    view: str = "cases"
    case: str | None = None
    institution: str | None = None
    person: str | None = None
    preset: str | None = None
    doctor: str | None = None
    """A doctor's code (``dr_codg``) of ``institution``: the leads the doctor answers for
    (those the doctor's profile lists, a few of them billed by another institution)."""

    def is_empty(self) -> bool:
        return (self.institution, self.person, self.preset, self.doctor) == (None,) * 4


def _one(value: Any) -> str | None:
    """A query value (a list when the key was repeated: the first) as stripped text."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


def parse_query(
    params: Mapping[str, Any], resolve: Callable[[str], str | None] | None = None
) -> QueueQuery:
    """The toolbar's state from ``/leads``'s query parameters; unknown keys and values
    are dropped (a bad link opens the whole queue, not an error). ``resolve`` turns an
    institution given by name (or part of it) into its code (:func:`resolve_institution`);
    ``inst`` and ``psn_no`` are accepted as short forms."""
    view = _one(params.get("view"))
    case = _one(params.get("case"))
    inst = _one(params.get("institution")) or _one(params.get("inst"))
    if inst is not None and resolve is not None:
        inst = resolve(inst)
    preset = _one(params.get("preset"))
    return QueueQuery(
        view="leads" if case or view == "leads" else "cases",
        case=case,
        institution=inst,
        person=_one(params.get("person")) or _one(params.get("psn_no")),
        preset=preset if preset in PRESETS else None,
        doctor=_one(params.get("doctor")) if inst else None,
    )


def query_string(query: QueueQuery) -> str:
    """``query`` as ``/leads``'s query string (``?view=leads&institution=…``; empty for
    the default view), what the page writes to the address bar."""
    pairs = [
        (key, value)
        for key, value in (
            ("view", query.view if query.view != "cases" else None),
            ("case", query.case),
            ("institution", query.institution),
            ("doctor", query.doctor if query.institution else None),
            ("person", query.person),
            ("preset", query.preset),
        )
        if value
    ]
    return ("?" + urlencode(pairs)) if pairs else ""


def queue_link(
    *, institution: str | None = None, person: str | None = None, doctor: str | None = None
) -> str:
    """The address of the lead queue showing every lead of one unit (a profile's link): an
    institution, a person, or a doctor of an institution."""
    q = QueueQuery(view="leads", institution=institution, person=person, doctor=doctor)
    return "/leads" + query_string(q)


def resolve_institution(institutions: pl.DataFrame, text: str | None) -> str | None:
    """The code of the institution ``text`` names: its code, its full name, or a part of
    its name or code that only one institution has (case-insensitive); None when nothing
    or more than one matches."""
    text = (text or "").strip()
    if not text:
        return None
    codes = institutions["fixmedins_code"].cast(pl.String)
    names = institutions["fixmedins_name"].cast(pl.String).fill_null("")
    for exact in (codes == text, names == text):
        hit = codes.filter(exact)
        if hit.len() >= 1:
            return str(hit[0])
    low = text.lower()
    part = codes.filter(
        codes.str.to_lowercase().str.contains(low, literal=True)
        | names.str.to_lowercase().str.contains(low, literal=True)
    ).unique()
    return str(part[0]) if part.len() == 1 else None


def preset_sort(preset: str | None) -> list[dict[str, str]] | None:
    """The grid sort (ag-grid's ``sortModel``, columns both grids have) of a preset;
    None for no preset (the grid's own order)."""
    return [dict(s) for s in _PRESET_SORT[preset]] if preset in _PRESET_SORT else None


def lead_filter(
    query: QueueQuery,
    preset_leads: tuple[str, ...] | None = None,
    doctor_leads: tuple[str, ...] | None = None,
) -> LeadFilter:
    """The toolbar's narrowing of the lead grid (``preset_leads``: the ids of the leads a
    keeping preset keeps, the overdue or the flagged ones; ``doctor_leads``: the ids of
    the leads the query's doctor answers for)."""
    flt = LeadFilter(
        fixmedins_codes=(query.institution,) if query.institution else None,
        psn_no=query.person,
        finding_ids=preset_leads if query.preset in KEEPING_PRESETS else None,
    )
    if query.doctor and query.institution:
        # the doctor's leads as their profile counts them, some billed elsewhere
        flt = flt.narrowed(LeadFilter(finding_ids=doctor_leads or ()))
        flt = replace(flt, fixmedins_codes=None)
    return flt


def case_filter(
    query: QueueQuery,
    preset_cases: tuple[str, ...] | None = None,
    doctor_cases: tuple[str, ...] | None = None,
) -> CaseFilter:
    """The toolbar's narrowing of the case grid (``preset_cases``: the cases holding a
    lead a keeping preset keeps, an overdue or a flagged one; ``doctor_cases``: the cases
    holding a lead the query's doctor answers for)."""
    flt = CaseFilter(
        fixmedins_codes=(query.institution,) if query.institution else None,
        psn_no=query.person,
        case_ids=preset_cases if query.preset in KEEPING_PRESETS else None,
    )
    if query.doctor and query.institution:
        # the doctor's leads as their profile counts them, some billed elsewhere
        flt = flt.narrowed(CaseFilter(case_ids=doctor_cases or ()))
        flt = replace(flt, fixmedins_codes=None)
    return flt


def chips(query: QueueQuery, institutions: pl.DataFrame) -> list[tuple[str, str]]:
    """The active toolbar filters as ``(field, value shown)``: an institution by its name
    and code, a person by their number, the preset by its key (the page labels it)."""
    out: list[tuple[str, str]] = []
    if query.institution:
        named = institutions.filter(pl.col("fixmedins_code") == query.institution)
        name = named["fixmedins_name"][0] if named.height else None
        out.append(("institution", f"{name} ({query.institution})" if name else query.institution))
        if query.doctor:
            out.append(("doctor", query.doctor))
    if query.person:
        out.append(("person", query.person))
    if query.preset:
        out.append(("preset", query.preset))
    return out


def cases_of_leads(view: RunView, finding_ids: tuple[str, ...]) -> tuple[str, ...]:
    """The cases (ids, sorted) that hold any of the leads ``finding_ids`` of the run."""
    index = lead_index(view)
    at = index.positions(pl.Series(list(finding_ids), dtype=pl.String))
    coded = index.coded["case_id"]
    keys = coded.keys[at[at >= 0]]
    keys = np.unique(keys[keys >= 0])
    return tuple(coded.values.gather(keys).to_list()) if len(keys) else ()
