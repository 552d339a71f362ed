"""The lead queue: one page of a run's findings, filtered, sorted and joined with their
review status, in the shape dash-ag-grid's infinite row model asks for.

The grid sends ``startRow``, ``endRow``, ``sortModel`` and ``filterModel``; the callback
answers ``{"rowData": rows, "rowCount": n}`` with :func:`page`. A million findings page in
well under a second because the run's filter and sort columns are held once, narrow and
as numbers, in a :class:`LeadIndex` kept with the run's view: a page is a mask and a
(cached) sort order over them, and only the page's rows, with their long evidence text,
are read from the run's Parquet, each call on its own DuckDB connection (a connection
must not be shared across threads). When the run has dashboard marts
(:mod:`hrss_fraud.outputs.marts`) the index is loaded from them instead of built, and
evidence searches scan their pre-lowered text; without them everything is computed here.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from hrss_fraud.engine.catalogue import SEVERITIES
from hrss_fraud.lake.views import literal
from hrss_fraud.outputs.labels import (
    LANGS,
    STATUSES,
    severity_labels,
    status_labels,
    step_labels,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

ROW_COLUMNS = (
    "finding_id",
    "rule_id",
    "rule_name",
    "severity",
    "severity_label",
    "fixmedins_code",
    "fixmedins_name",
    "zone",
    "zone_name",
    "psn_no",
    "period_start",
    "period_end",
    "amount_at_risk",
    "status",
    "status_label",
    "step",
    "step_label",
    "evidence",
    "case_id",
    "case_rank",
)
"""The columns of a lead row, in display order; ``rule_name`` and ``evidence`` in the
requested language, ``period_*`` as ISO dates so a row is plain JSON for the grid."""

SEVERITY_RANK = {"definite": 3, "high": 2, "suspicious": 1}
"""Sorting by severity means by this rank: descending puts definite violations first."""


class FilterError(ValueError):
    """A sort or filter the lead queue cannot apply; the message names the column and type."""


class SortItem(TypedDict):
    colId: str
    sort: str


SortModel = list[SortItem]
"""ag-grid's ``sortModel``: ``[{"colId": "amount_at_risk", "sort": "desc"}, …]``, first
key first."""

DEFAULT_SORT: SortModel = [
    {"colId": "amount_at_risk", "sort": "desc"},
    {"colId": "severity", "sort": "desc"},
]


@dataclass(frozen=True)
class LeadFilter:
    """What the auditor narrowed the queue to. ``None`` is no constraint; a tuple keeps the
    leads whose value is in it (an empty tuple keeps none, as an empty set filter does).

    ``date_from``/``date_to`` keep leads whose period overlaps the range (a lead "in March"
    is any lead with part of its period in March); ``text`` is a case-insensitive
    substring of the evidence in either language."""

    rule_ids: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    fixmedins_codes: tuple[str, ...] | None = None
    zones: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    finding_ids: tuple[str, ...] | None = None
    case_ids: tuple[str, ...] | None = None
    psn_no: str | None = None
    amount_min: float | None = None
    amount_max: float | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None

    def narrowed(self, other: LeadFilter) -> LeadFilter:
        """Both filters at once (AND): sets intersect, bounds tighten."""
        return narrowed(self, other)


Filter = TypeVar("Filter")
"""A frozen dataclass of constraints shaped like :class:`LeadFilter` (it, or the case
queue's filter)."""


def narrowed(a: Filter, b: Filter) -> Filter:
    """Both filters at once (AND): sets intersect, ``*_min``/``*_from`` and
    ``*_max``/``*_to`` bounds tighten, other values must be equal (:class:`FilterError`
    otherwise)."""
    out: dict[str, Any] = {}
    for f in fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x is None or y is None:
            out[f.name] = y if x is None else x
        elif isinstance(x, tuple):
            out[f.name] = tuple(v for v in x if v in y)
        elif f.name.endswith(("_min", "_from")):
            out[f.name] = max(x, y)
        elif f.name.endswith(("_max", "_to")):
            out[f.name] = min(x, y)
        elif x != y:
            msg = f"cannot combine {f.name}={x!r} and {f.name}={y!r} in one filter"
            raise FilterError(msg)
        else:
            out[f.name] = x
    return type(a)(**out)


def _case(expr: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in mapping.items())
    return f"CASE {expr} {whens} ELSE {expr} END"


def check_lang(lang: str) -> None:
    if lang not in LANGS:
        msg = f"unknown language {lang!r}; expected one of {', '.join(LANGS)}"
        raise ValueError(msg)


def _select(lang: str, *, cases: bool = True) -> str:
    """The row columns over ``f`` (the findings), ``i`` and ``d``; a run scored before
    findings were grouped into cases (``cases`` False) has null case columns."""
    check_lang(lang)
    en = "_en" if lang == "en" else ""
    status = "coalesce(d.decision, 'new')"
    case = "f.case_id, f.case_rank"
    if not cases:
        case = "NULL::VARCHAR AS case_id, NULL::BIGINT AS case_rank"
    return f"""
        f.finding_id, f.rule_id, f.rule_name{en} AS rule_name, f.severity,
        {_case("f.severity", severity_labels(lang))} AS severity_label,
        f.fixmedins_code, i.fixmedins_name, i.zone, i.zone_name, f.psn_no,
        strftime(f.period_start, '%Y-%m-%d') AS period_start,
        strftime(f.period_end, '%Y-%m-%d') AS period_end,
        f.amount_at_risk, {status} AS status,
        {_case(status, status_labels(lang))} AS status_label,
        d.step, {_case("d.step", step_labels(lang))} AS step_label,
        f.evidence{en} AS evidence, {case}"""


_SORTABLE = {
    "finding_id": "finding_id",
    "rule_id": "rule_id",
    "rule_name": "rule_name",
    "severity": "severity_rank",
    "severity_label": "severity_rank",
    "fixmedins_code": "fixmedins_code",
    "fixmedins_name": "fixmedins_name",
    "zone": "zone",
    "zone_name": "zone_name",
    "psn_no": "psn_no",
    "period_start": "period_start",
    "period_end": "period_end",
    "amount_at_risk": "amount_at_risk",
    "status": "status",
    "status_label": "status_label",
    "step": "step",
    "step_label": "step_label",
    "evidence": "evidence",
    "case_id": "case_id",
    "case_rank": "case_rank",
}
"""Each sortable column → the key it sorts by (severity and its label both by
:data:`SEVERITY_RANK`; names, labels and evidence in the requested language)."""

_BY_DECISION = ("status", "status_label", "step", "step_label")
"""Keys that come from the case store, so an order by them is not kept between calls."""

_TEXT_SQL = """SELECT file_row_number FROM read_parquet(?, file_row_number = true)
               WHERE contains(lower(evidence), ?) OR contains(lower(evidence_en), ?)"""

_ROW_SOURCE = (
    "finding_id",
    "rule_id",
    "severity",
    "fixmedins_code",
    "psn_no",
    "period_start",
    "period_end",
    "amount_at_risk",
)
"""The findings' columns a queue row is made of, besides the rule name and evidence in
the requested language and the case columns (:func:`_select`)."""

CASE_COLUMNS = ("case_id", "case_rank")
"""The case a lead belongs to and the case's rank (1 = open first): what grouping the
findings into cases added to them; absent from runs scored before."""

_PICKED_SQL = """SELECT {select} FROM picked AS f
                 LEFT JOIN institutions AS i ON i.fixmedins_code = f.fixmedins_code
                 LEFT JOIN decisions AS d ON d.finding_id = f.finding_id
                 ORDER BY f.pos"""

_ROWS_SQL = """SELECT {select} FROM (
                   SELECT q.*, w.pos FROM read_parquet({path}, file_row_number = true) AS q
                   JOIN wanted AS w ON q.file_row_number = w.rn {where}) AS f
               LEFT JOIN institutions AS i ON i.fixmedins_code = f.fixmedins_code
               LEFT JOIN decisions AS d ON d.finding_id = f.finding_id
               ORDER BY f.pos"""


def _sort_keys(sort: SortModel | None) -> tuple[tuple[str, bool], ...]:
    """``(key, descending)`` for ``sort``, then risk (:data:`DEFAULT_SORT`) among ties;
    ``finding_id`` breaks the remaining ties, so pages never overlap or skip a row."""
    keys = []
    chosen = {_SORTABLE.get(str(item.get("colId"))) for item in sort or ()}
    defaults = [d for d in DEFAULT_SORT if _SORTABLE[d["colId"]] not in chosen]
    for item in [*(sort or ()), *defaults]:
        col, direction = item.get("colId"), str(item.get("sort") or "asc").lower()
        if col not in _SORTABLE:
            msg = f"cannot sort leads by {col!r}; sortable: {', '.join(_SORTABLE)}"
            raise FilterError(msg)
        if direction not in ("asc", "desc"):
            msg = f"sort direction {direction!r} of {col!r} is neither asc nor desc"
            raise FilterError(msg)
        keys.append((_SORTABLE[col], direction == "desc"))
    return tuple(keys)


def review_status(case_store: CaseStore | None) -> pl.DataFrame:
    """``finding_id, decision, step`` of every decided lead (its latest decision); none
    without a case store, so every lead is ``new``."""
    if case_store is None:
        return pl.DataFrame(
            schema={"finding_id": pl.String, "decision": pl.String, "step": pl.String}
        )
    return case_store.current_decisions().select("finding_id", "decision", "step")


def dense_key(values: pl.Series) -> np.ndarray:
    """Each value's place among the distinct values in ascending order (0, 1, …), -1 for
    null: a sort key that orders like the values themselves (strings by their bytes, as
    DuckDB compares them)."""
    return (values.rank("dense") - 1).fill_null(-1).cast(pl.Int32).to_numpy()


def directed_key(key: np.ndarray, descending: bool) -> np.ndarray:
    """``key`` (-1 for null) turned so that ascending order is the wanted one, nulls last."""
    top = int(key.max(initial=-1)) + 1
    return np.where(key < 0, top, top - 1 - key if descending else key)


@dataclass(frozen=True)
class _Coded:
    """A column as sorted distinct ``values`` and each lead's index into them (-1: null)."""

    values: pl.Series
    keys: np.ndarray

    @classmethod
    def of(cls, column: pl.Series) -> _Coded:
        # a hash unique and a binary search: far cheaper than ranking by a full sort
        values = column.drop_nulls().unique().sort()
        keys = values.search_sorted(column.fill_null(values[0] if values.len() else ""))
        keys = keys.cast(pl.Int32).to_numpy().copy()
        keys[column.is_null().to_numpy()] = -1
        return cls(values, keys)

    def codes(self, wanted: tuple[str, ...] | list[str]) -> np.ndarray:
        """The codes of the ``wanted`` values this column holds."""
        asked = pl.Series(list(wanted), dtype=pl.String).drop_nulls()
        at = self.values.search_sorted(asked).to_numpy()
        ok = at < self.values.len()
        found = at[ok]
        return found[self.values.gather(found).to_numpy() == asked.to_numpy()[ok]]

    def isin(self, wanted: tuple[str, ...] | list[str]) -> np.ndarray:
        return np.isin(self.keys, self.codes(wanted))


@dataclass(frozen=True)
class _Decided:
    """The review status of every lead, as codes into sorted vocabularies."""

    statuses: list[str]
    status: np.ndarray
    steps: list[str]
    step: np.ndarray
    fingerprint: int

    def key(self, name: str, lang: str) -> np.ndarray:
        if name.startswith("status"):
            names, codes = self.statuses, self.status
            labels = status_labels(lang)
        else:
            names, codes = self.steps, self.step
            labels = step_labels(lang)
        if name.endswith("_label"):
            names = [labels.get(n, n) for n in names]
        ranks = dense_key(pl.Series(names, dtype=pl.String))
        return np.where(codes < 0, -1, ranks[codes]) if len(ranks) else codes


class LeadIndex:
    """A run's leads as narrow in-memory arrays, in ``finding_id`` order: the filter and
    sort columns as numbers, built once per run (:func:`lead_index`). A page is a mask
    and a cached sort order over them; only the page's rows are read from the Parquet,
    so the long evidence text is never carried through a sort.

    Everything is read-only after it is built except the small caches, which a lock
    guards; so the web process's threads share one index."""

    MAX_ORDERS = 8
    MAX_TEXTS = 16

    def __init__(self, path: Path, findings: pl.DataFrame, institutions: pl.DataFrame) -> None:
        f = (
            findings.join(institutions, on="fixmedins_code", how="left")
            .sort("finding_id", "rn")
            .with_columns(
                severity_rank=pl.col("severity").replace_strict(
                    SEVERITY_RANK, default=None, return_dtype=pl.Int32
                )
            )
        )
        self.path = path
        self.has_cases = has_cases(path)
        self.n = f.height
        self.finding_id = f["finding_id"]
        self.rn = f["rn"].cast(pl.Int64).to_numpy()
        self.position = np.empty(self.n, dtype=np.int64)
        self.position[self.rn] = np.arange(self.n)
        self.amount = f["amount_at_risk"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        self.period = {
            c: f[c].cast(pl.Date).cast(pl.Int32).fill_null(_NO_DAY).to_numpy()
            for c in ("period_start", "period_end")
        }
        self.coded = {
            c: _Coded.of(f[c])
            for c in (
                "rule_id",
                "severity",
                "fixmedins_code",
                "zone",
                "psn_no",
                "rule_name",
                "rule_name_en",
                "fixmedins_name",
                "zone_name",
                "case_id",
            )
        }
        self.keys: dict[str, np.ndarray] = {
            "finding_id": np.arange(self.n),
            "case_rank": dense_key(f["case_rank"]),
            "severity_rank": dense_key(f["severity_rank"]),
            "amount_at_risk": dense_key(f["amount_at_risk"]),
            "period_start": dense_key(f["period_start"]),
            "period_end": dense_key(f["period_end"]),
        }
        self._init_caches()

    def _init_caches(self, text_path: Path | None = None, rows_path: Path | None = None) -> None:
        self.text_path = text_path
        self._text_frame: pl.DataFrame | None = None
        self._text_lock = threading.Lock()
        self.rows_file = RowsFile(rows_path) if rows_path is not None else None
        self.connect: Callable[[], duckdb.DuckDBPyConnection] = duckdb.connect
        self._orders: OrderedDict[tuple[Any, ...], np.ndarray] = OrderedDict()
        self._rank: tuple[np.ndarray, np.ndarray] | None = None
        self._texts: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    # --- kept as a mart -----------------------------------------------------------------

    def to_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The index as two frames a mart keeps: one row per lead (codes, keys, and the
        default order's positions) and the coded columns' vocabularies (``column, value``,
        in code order). Both evidence keys are computed first so none is left to build."""
        for lang in LANGS:
            self._evidence_key(lang)
        default = self.order(_sort_keys(None), "zh", None)
        cols: dict[str, Any] = {
            "finding_id": self.finding_id,
            "rn": self.rn,
            "amount": self.amount,
            "day_start": self.period["period_start"],
            "day_end": self.period["period_end"],
            "default_order": default,
        }
        cols |= {f"key_{k}": v for k, v in self.keys.items() if k != "finding_id"}
        cols |= {f"code_{k}": c.keys for k, c in self.coded.items()}
        vocab = pl.concat(
            [
                pl.DataFrame({"column": [k] * c.values.len(), "value": c.values})
                for k, c in self.coded.items()
            ],
            how="vertical",
        ).cast({"column": pl.String, "value": pl.String})
        return pl.DataFrame(cols), vocab

    @classmethod
    def from_frames(
        cls,
        path: Path,
        index: pl.DataFrame,
        vocab: pl.DataFrame,
        text_path: Path | None = None,
        rows_path: Path | None = None,
    ) -> LeadIndex:
        """The index :meth:`to_frames` wrote, without sorting or ranking anything."""
        self = cls.__new__(cls)
        self.path = path
        self.has_cases = has_cases(path)
        self.n = index.height
        self.finding_id = index["finding_id"]
        self.rn = index["rn"].to_numpy().astype(np.int64)
        self.position = np.empty(self.n, dtype=np.int64)
        self.position[self.rn] = np.arange(self.n)
        self.amount = index["amount"].to_numpy().astype(np.float64)
        self.period = {
            "period_start": index["day_start"].to_numpy(),
            "period_end": index["day_end"].to_numpy(),
        }
        values = vocab.partition_by("column", as_dict=True, maintain_order=True)
        self.coded = {}
        for c in (n.removeprefix("code_") for n in index.columns if n.startswith("code_")):
            part = values.get((c,))
            vals = part["value"] if part is not None else pl.Series("value", [], pl.String)
            self.coded[c] = _Coded(vals, index[f"code_{c}"].to_numpy().astype(np.int32))
        self.keys = {"finding_id": np.arange(self.n)}
        for n in index.columns:
            if n.startswith("key_"):
                self.keys[n.removeprefix("key_")] = index[n].to_numpy()
        self._init_caches(text_path, rows_path)
        default = index["default_order"].to_numpy().astype(np.int64)
        self._orders[(_sort_keys(None), None, None)] = default
        return self

    @classmethod
    def build(cls, view: RunView) -> LeadIndex:
        columns = [
            "finding_id",
            "rule_id",
            "rule_name",
            "rule_name_en",
            "severity",
            "fixmedins_code",
            "psn_no",
            "period_start",
            "period_end",
            "amount_at_risk",
        ]
        findings = pl.scan_parquet(view.findings_path)
        if not has_cases(view.findings_path):  # scored before cases: no lead is in one
            findings = findings.with_columns(
                case_id=pl.lit(None, pl.String), case_rank=pl.lit(None, pl.Int64)
            )
        findings = findings.select([*columns, *CASE_COLUMNS]).with_row_index("rn")
        return cls(view.findings_path, findings.collect(), view.institutions)

    # --- which leads --------------------------------------------------------------------

    def decided(self, decisions: pl.DataFrame) -> _Decided:
        """Every lead's status (``new`` unless decided) and step, from ``decisions``."""
        at = self.positions(decisions["finding_id"])
        mine = at >= 0
        statuses = sorted({"new", *decisions["decision"].drop_nulls()})
        steps = sorted(set(decisions["step"].drop_nulls()))
        status = np.full(self.n, statuses.index("new"), dtype=np.int32)
        step = np.full(self.n, -1, dtype=np.int32)
        lookup = {s: i for i, s in enumerate(statuses)}
        picked = pl.Series(mine)
        status[at[mine]] = [
            lookup[s] if s else lookup["new"] for s in decisions["decision"].filter(picked)
        ]
        step_of = {s: i for i, s in enumerate(steps)}
        step[at[mine]] = [step_of.get(s, -1) if s else -1 for s in decisions["step"].filter(picked)]
        fingerprint = hash(tuple(decisions.select("finding_id", "decision", "step").rows()))
        return _Decided(statuses, status, steps, step, fingerprint)

    def positions(self, finding_ids: pl.Series) -> np.ndarray:
        """Each id's position in the index, -1 where the run has no such lead."""
        ids = finding_ids.cast(pl.String)
        at = self.finding_id.search_sorted(ids).to_numpy().astype(np.int64)
        inside = at < self.n
        hit = np.zeros(len(at), dtype=bool)
        hit[inside] = self.finding_id.gather(at[inside]).to_numpy() == ids.to_numpy()[inside]
        return np.where(hit, at, -1)

    def _text(self, text: str) -> np.ndarray:
        """Where ``text`` occurs in either evidence, case-insensitively (scans the
        evidence once per text; kept for the next pages)."""
        needle = text.lower()
        with self._lock:
            if needle in self._texts:
                self._texts.move_to_end(needle)
                return self._texts[needle]
        if self.text_path is not None:  # pre-lowered, in index order: rows are positions
            text = self._lowered()
            found = text["zh"].str.contains(needle, literal=True) | text["en"].str.contains(
                needle, literal=True
            )
            hit = found.fill_null(False).to_numpy()
        else:
            con = self.connect()
            try:
                rows = con.execute(_TEXT_SQL, [str(self.path), needle, needle])
                at = self.position[rows.fetchnumpy()["file_row_number"].astype(np.int64)]
            finally:
                con.close()
            hit = np.zeros(self.n, dtype=bool)
            hit[at] = True
        with self._lock:
            self._texts[needle] = hit
            while len(self._texts) > self.MAX_TEXTS:
                self._texts.popitem(last=False)
        return hit

    def _lowered(self) -> pl.DataFrame:
        """The ``lead_text`` mart in memory, read on the first search: a scan of the
        Parquet per search took most of a second on a million leads, a search of the
        loaded text a tenth of that (the price: its size in memory, ~330 bytes a lead)."""
        with self._text_lock:  # not the cache lock: other requests' sorts need not wait
            if self._text_frame is None:
                assert self.text_path is not None
                self._text_frame = pl.read_parquet(self.text_path, columns=["zh", "en"])
            return self._text_frame

    def mask(self, flt: LeadFilter, decided: _Decided | None) -> np.ndarray | None:
        """The leads ``flt`` keeps (None: all of them); ``decided`` is needed for a
        status filter."""
        if flt == LeadFilter():
            return None
        keep = np.ones(self.n, dtype=bool)
        for attr, column in (
            ("rule_ids", "rule_id"),
            ("severities", "severity"),
            ("fixmedins_codes", "fixmedins_code"),
            ("zones", "zone"),
            ("case_ids", "case_id"),
        ):
            values = getattr(flt, attr)
            if values is not None:
                keep &= self.coded[column].isin(values)
        if flt.statuses is not None:
            assert decided is not None
            codes = [i for i, s in enumerate(decided.statuses) if s in flt.statuses]
            keep &= np.isin(decided.status, codes)
        if flt.finding_ids is not None:
            at = self.positions(pl.Series(flt.finding_ids, dtype=pl.String))
            chosen = np.zeros(self.n, dtype=bool)
            chosen[at[at >= 0]] = True
            keep &= chosen
        if flt.psn_no is not None:
            keep &= self.coded["psn_no"].isin((flt.psn_no,))
        with np.errstate(invalid="ignore"):
            if flt.amount_min is not None:
                keep &= self.amount >= flt.amount_min
            if flt.amount_max is not None:
                keep &= self.amount <= flt.amount_max
        if flt.date_from is not None:
            end = self.period["period_end"]
            keep &= (end != _NO_DAY) & (end >= _days(flt.date_from))
        if flt.date_to is not None:
            start = self.period["period_start"]
            keep &= (start != _NO_DAY) & (start <= _days(flt.date_to))
        if flt.text:
            keep &= self._text(flt.text)
        return keep

    # --- in which order -----------------------------------------------------------------

    def _evidence_key(self, lang: str) -> np.ndarray:
        """Sort key of the evidence (read from the Parquet on first use per language)."""
        column = "evidence_en" if lang == "en" else "evidence"
        with self._lock:
            if column in self.keys:
                return self.keys[column]
        text = pl.read_parquet(self.path, columns=[column])[column]
        key = dense_key(text)[self.rn]
        with self._lock:
            self.keys[column] = key
        return key

    def _key(self, name: str, lang: str, decided: _Decided | None) -> np.ndarray:
        if name in _BY_DECISION:
            assert decided is not None
            return decided.key(name, lang)
        if name == "evidence":
            return self._evidence_key(lang)
        if name == "rule_name" and lang == "en":
            name = "rule_name_en"
        if name in self.coded:
            return self.coded[name].keys
        return self.keys[name]

    @staticmethod
    def _order_key(
        keys: tuple[tuple[str, bool], ...], lang: str, decided: _Decided | None
    ) -> tuple[Any, ...]:
        by_decision = any(name in _BY_DECISION for name, _ in keys)
        label = any(
            name.endswith("_label") or name in ("rule_name", "evidence") for name, _ in keys
        )
        return (
            keys,
            lang if label else None,
            decided.fingerprint if by_decision and decided is not None else None,
        )

    def _cached_order(self, cache_key: tuple[Any, ...]) -> np.ndarray | None:
        with self._lock:
            if cache_key in self._orders:
                self._orders.move_to_end(cache_key)
                return self._orders[cache_key]
        return None

    def _sorted(
        self,
        keys: tuple[tuple[str, bool], ...],
        lang: str,
        decided: _Decided | None,
        at: np.ndarray | None = None,
    ) -> np.ndarray:
        """Positions ``at`` (ascending; None: every lead) in the order of ``keys``. The
        default order's tail of ``keys`` is one ready key, each lead's place in the default
        order: it breaks every tie the same way, and saves packing two or three keys."""
        head = _head_before_default(keys)
        picked = slice(None) if at is None else at

        def directed(by: tuple[tuple[str, bool], ...]) -> list[np.ndarray]:
            return [directed_key(self._key(n, lang, decided)[picked], d) for n, d in by]

        # (the default order itself is sorted key by key: it is what the rank is made of)
        if len(head) == len(keys) or (not head and at is None):
            order = stable_order(directed(keys), self.n if at is None else len(at))
            return order if at is None else at[order]
        rank, default = self._default_rank()
        return default[_ranks_in_order(directed(head), rank[picked])]

    def _default_rank(self) -> tuple[np.ndarray, np.ndarray]:
        """Each lead's place in the default order, and that order (computed once)."""
        if self._rank is None:
            default = self.order(_sort_keys(None), "zh", None)
            rank = np.empty(self.n, dtype=np.int64)
            rank[default] = np.arange(self.n)
            self._rank = rank, default
        return self._rank

    def order(
        self, keys: tuple[tuple[str, bool], ...], lang: str, decided: _Decided | None
    ) -> np.ndarray:
        """Positions of every lead in the order of ``keys`` (:func:`_sort_keys`), kept for
        the next pages unless it depends on review decisions that have changed since."""
        cache_key = self._order_key(keys, lang, decided)
        cached = self._cached_order(cache_key)
        if cached is not None:
            return cached
        order = self._sorted(keys, lang, decided)
        with self._lock:
            self._orders[cache_key] = order
            while len(self._orders) > self.MAX_ORDERS:
                self._orders.popitem(last=False)
        return order

    def select(
        self,
        flt: LeadFilter,
        sort: SortModel | None,
        lang: str,
        decisions: pl.DataFrame,
    ) -> np.ndarray:
        """Positions of the leads ``flt`` keeps, in ``sort`` order."""
        check_lang(lang)
        keys = _sort_keys(sort)
        needs = flt.statuses is not None or any(name in _BY_DECISION for name, _ in keys)
        decided = self.decided(decisions) if needs else None
        keep = self.mask(flt, decided)
        if keep is not None and self._cached_order(self._order_key(keys, lang, decided)) is None:
            at = np.flatnonzero(keep)
            if len(at) * _SUBSET_SORT < self.n:  # sort only the few leads kept
                return self._sorted(keys, lang, decided, at)
        order = self.order(keys, lang, decided)
        return order if keep is None else order[keep[order]]

    # --- the rows -----------------------------------------------------------------------

    def rows(
        self,
        con: duckdb.DuckDBPyConnection,
        chosen: np.ndarray,
        lang: str,
    ) -> duckdb.DuckDBPyRelation:
        """The :data:`ROW_COLUMNS` of the leads at ``chosen`` positions, in that order; only
        their rows are read from the Parquet (``con`` has ``institutions`` and
        ``decisions``)."""
        wanted = pl.DataFrame(
            {"rn": self.rn[chosen], "pos": np.arange(len(chosen))},
            schema={"rn": pl.Int64, "pos": pl.Int64},
        )
        select = _select(lang, cases=self.has_cases)
        if self.rows_file is not None and len(chosen) <= _PUSHED_ROWS:
            en = "_en" if lang == "en" else ""
            source = [*_ROW_SOURCE, *(CASE_COLUMNS if self.has_cases else ())]
            picked = self.rows_file.take(chosen, [*source, f"rule_name{en}", f"evidence{en}"])
            con.register("picked", picked.append_column("pos", pa.array(np.arange(len(chosen)))))
            return con.sql(_PICKED_SQL.format(select=select))
        con.register("wanted", wanted)
        where = ""
        if len(chosen) <= _PUSHED_ROWS:  # a literal list prunes the Parquet's row groups
            where = f"WHERE q.file_row_number IN ({', '.join(map(str, self.rn[chosen])) or -1})"
        sql = _ROWS_SQL.format(select=select, path=literal(str(self.path)), where=where)
        return con.sql(sql)

    def finding(self, finding_id: str) -> dict[str, Any] | None:
        """Every column of one lead as the run wrote it; None if the run has none."""
        at = int(self.positions(pl.Series([finding_id], dtype=pl.String))[0])
        if at < 0:
            return None
        if self.rows_file is not None:
            return self.rows_file.take(np.array([at])).to_pylist()[0]
        con = self.connect()
        try:
            cur = con.execute(
                "SELECT * EXCLUDE (file_row_number) FROM read_parquet(?, file_row_number = true) "
                "WHERE file_row_number = ?",
                [str(self.path), int(self.rn[at])],
            )
            names = [c[0] for c in cur.description or []]
            return dict(zip(names, cur.fetchall()[0], strict=True))
        finally:
            con.close()


class RowsFile:
    """The ``lead_rows`` mart: the run's findings in index order in small row groups,
    read by position with the footer parsed once. A page's hundred rows decode a hundred
    small groups instead of the run's whole evidence columns."""

    def __init__(self, path: Path) -> None:
        self.file = pq.ParquetFile(path)
        meta = self.file.metadata
        self.sizes = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self._lock = threading.Lock()  # one reader of the file object at a time

    def take(self, positions: np.ndarray, columns: list[str] | None = None) -> pa.Table:
        """The rows at ``positions``, in that order (only ``columns``, if given: each
        column costs its decoding in every group read)."""
        positions = np.asarray(positions, dtype=np.int64)
        groups = np.searchsorted(self.starts, positions, side="right") - 1
        used = np.unique(groups)
        with self._lock:
            table = self.file.read_row_groups(used.tolist(), columns=columns)
        base = np.concatenate([[0], np.cumsum(self.sizes[used])[:-1]]).astype(np.int64)
        local = positions - self.starts[groups] + base[np.searchsorted(used, groups)]
        return table.take(pa.array(local))


def stable_order(columns: list[np.ndarray], n: int) -> np.ndarray:
    """Positions in the order of ``columns`` (first key first, each ascending from 0),
    ties in position (``finding_id``) order. Keys that fit together in 63 bits are packed
    into one integer and sorted once, several times faster than ``np.lexsort``."""
    if not columns:
        return np.arange(n)
    widths = [int(c.max(initial=0)).bit_length() for c in columns]
    if sum(widths) > 63:  # np.lexsort is stable and its last key is the first
        return np.lexsort(columns[::-1])
    packed = np.zeros(n, dtype=np.int64)
    for column, width in zip(columns, widths, strict=True):
        packed = (packed << width) | column.astype(np.int64)
    return np.argsort(packed, kind="stable")


def _head_before_default(keys: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
    """The shortest head of ``keys`` after which they go on as the default order does
    (its keys not in the head, in its order and directions): sorting by the head and then
    by the place in the default order (which ends with ``finding_id``) is then sorting by
    ``keys`` and ``finding_id``."""
    default = _sort_keys(None)
    for i in range(len(keys) + 1):
        named = {name for name, _ in keys[:i]}
        if keys[i:] == tuple(k for k in default if k[0] not in named):
            return keys[:i]
    return keys


def _ranks_in_order(columns: list[np.ndarray], rank: np.ndarray) -> np.ndarray:
    """The values of ``rank`` (distinct, from 0) in the order of ``columns`` (first key
    first, each ascending from 0) and then ``rank``. Packed into one integer when they fit,
    the keys are sorted as values (twice as fast as an argsort: the rank in the low bits
    says which lead each is)."""
    place = int(rank.max(initial=0)).bit_length()
    widths = [int(c.max(initial=0)).bit_length() for c in columns]
    if sum(widths) + place > 63:
        return rank[np.lexsort([rank, *columns[::-1]])]
    packed = np.zeros(len(rank), dtype=np.int64)
    for column, width in zip(columns, widths, strict=True):
        packed <<= width
        packed |= column
    packed <<= place
    packed |= rank
    return pl.Series(packed).sort().to_numpy() & ((1 << place) - 1)


_SUBSET_SORT = 4
"""A filter keeping fewer than 1/this of the leads sorts just them (in the same stable
order) rather than sorting, and caching, the whole run."""

_PUSHED_ROWS = 1000
"""Up to this many rows are fetched by a literal ``file_row_number IN (…)``, which DuckDB
pushes into the Parquet scan; more are joined (a page is 100 rows)."""

_NO_DAY = np.iinfo(np.int32).min
"""A null period day in :attr:`LeadIndex.period` (no comparison keeps it)."""


def _days(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def has_cases(findings_path: Path) -> bool:
    """Whether a run's findings carry :data:`CASE_COLUMNS` (runs scored before findings
    were grouped into cases do not); read from the Parquet footer."""
    return set(CASE_COLUMNS) <= set(pq.read_schema(findings_path).names)


def lead_index(view: RunView) -> LeadIndex:
    """The run's :class:`LeadIndex`, loaded from its marts or built on first use, and kept
    with the run's view."""

    def load() -> LeadIndex:
        index, vocab = view.mart("lead_index"), view.mart("lead_vocab")
        if index is None or vocab is None:
            return LeadIndex.build(view)
        frames = pl.read_parquet(index), pl.read_parquet(vocab)
        text, rows = view.mart("lead_text"), view.mart("lead_rows")
        return LeadIndex.from_frames(view.findings_path, *frames, text, rows)

    def loaded() -> LeadIndex:
        index = load()
        index.connect = view.cursor  # the run's footers cached across requests
        return index

    return view.memo("lead_index", loaded)


def _connect(view: RunView, decisions: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    con = view.cursor()
    con.register("institutions", view.institutions)
    con.register("decisions", decisions)
    return con


def _rows(cur: duckdb.DuckDBPyRelation) -> list[dict[str, Any]]:
    names = cur.columns
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def count(view: RunView, flt: LeadFilter | None = None, case_store: CaseStore | None = None) -> int:
    """How many leads ``flt`` keeps."""
    return totals(view, flt, case_store)[0]


def totals(
    view: RunView, flt: LeadFilter | None = None, case_store: CaseStore | None = None
) -> tuple[int, float]:
    """How many leads ``flt`` keeps and their amount at risk (rounded to the fen)."""
    flt = flt or LeadFilter()
    index = lead_index(view)
    decided = index.decided(review_status(case_store)) if flt.statuses is not None else None
    keep = index.mask(flt, decided)
    amounts = index.amount if keep is None else index.amount[keep]
    return len(amounts), round(float(np.nansum(amounts)), 2)


def page(
    view: RunView,
    flt: LeadFilter | None,
    sort: SortModel | None,
    start_row: int,
    end_row: int,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> tuple[list[dict[str, Any]], int]:
    """Rows ``start_row`` (inclusive) to ``end_row`` (exclusive) of the filtered, sorted
    queue, as :data:`ROW_COLUMNS` dicts, and how many rows the whole queue has."""
    if start_row < 0 or end_row < start_row:
        msg = f"rows {start_row}..{end_row}: need 0 <= startRow <= endRow"
        raise FilterError(msg)
    index = lead_index(view)
    decisions = review_status(case_store)
    chosen = index.select(flt or LeadFilter(), sort, lang, decisions)
    con = _connect(view, decisions)
    try:
        return _rows(index.rows(con, chosen[start_row:end_row], lang)), len(chosen)
    finally:
        con.close()


def lead_frame(
    view: RunView,
    flt: LeadFilter | None = None,
    sort: SortModel | None = None,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
    limit: int | None = None,
) -> pl.DataFrame:
    """Every lead ``flt`` keeps (up to ``limit``), sorted, in :data:`ROW_COLUMNS`: what an
    export or an overview breakdown works on."""
    index = lead_index(view)
    decisions = review_status(case_store)
    chosen = index.select(flt or LeadFilter(), sort, lang, decisions)
    con = _connect(view, decisions)
    try:
        return index.rows(con, chosen[:limit], lang).pl()
    finally:
        con.close()


def lead_tally(
    view: RunView,
    flt: LeadFilter | None = None,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> pl.DataFrame:
    """``finding_id, rule_id, rule_name, amount_at_risk, status`` of every lead ``flt``
    keeps, in ``finding_id`` order, from the in-memory index alone: what a profile counts
    per rule, for a hospital's hundreds of thousands of leads without reading their rows."""
    check_lang(lang)
    index = lead_index(view)
    decided = index.decided(review_status(case_store))
    keep = index.mask(flt or LeadFilter(), decided)
    at = np.arange(index.n) if keep is None else np.flatnonzero(keep)

    def decode(column: str) -> pl.Series:
        coded = index.coded[column]
        keys = coded.keys[at]
        values = coded.values.gather(np.where(keys < 0, 0, keys)) if coded.values.len() else None
        if values is None:
            return pl.Series(column, [None] * len(at), dtype=pl.String)
        return values.set(pl.Series(keys < 0), None)

    statuses = pl.Series(decided.statuses, dtype=pl.String)
    return pl.DataFrame(
        {
            "finding_id": index.finding_id.gather(at),
            "rule_id": decode("rule_id"),
            "rule_name": decode("rule_name_en" if lang == "en" else "rule_name"),
            "amount_at_risk": pl.Series(index.amount[at]).fill_nan(None),
            "status": statuses.gather(decided.status[at]),
        }
    )


def lead_frames(
    view: RunView,
    wanted: list[tuple[LeadFilter, int | None]],
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> list[pl.DataFrame]:
    """:func:`lead_frame` of each ``(filter, limit)`` in default order, with one read of
    the run's Parquet for all of them (what the lead panel asks for at once)."""
    index = lead_index(view)
    decisions = review_status(case_store)
    parts = [index.select(flt, None, lang, decisions)[:limit] for flt, limit in wanted]
    con = _connect(view, decisions)
    try:
        rows = index.rows(con, np.concatenate(parts) if parts else np.arange(0), lang).pl()
    finally:
        con.close()
    bounds = np.cumsum([0, *(len(p) for p in parts)])
    return [rows.slice(int(a), int(b - a)) for a, b in itertools.pairwise(bounds)]


def finding(view: RunView, finding_id: str) -> dict[str, Any] | None:
    """Every column of one lead of ``view``'s run as scoring wrote it; None if the run
    has no such lead."""
    return lead_index(view).finding(finding_id)


# --- ag-grid's filterModel -------------------------------------------------------------

FILTER_OPTIONS: dict[str, tuple[str, ...]] = {
    "rule_id": ("equals",),
    "severity": ("equals",),
    "severity_label": ("equals",),
    "fixmedins_code": ("equals",),
    "zone": ("equals",),
    "status": ("equals",),
    "status_label": ("equals",),
    "finding_id": ("equals",),
    "psn_no": ("equals",),
    "case_id": ("equals",),
    "evidence": ("contains",),
    "amount_at_risk": (
        "equals",
        "greaterThan",
        "greaterThanOrEqual",
        "lessThan",
        "lessThanOrEqual",
        "inRange",
    ),
    "period_start": ("equals", "greaterThan", "lessThan", "inRange"),
    "period_end": ("equals", "greaterThan", "lessThan", "inRange"),
}
"""The ``filterParams.filterOptions`` each filterable column supports: give them to the
grid's column definitions so an auditor cannot pick one the queue would refuse. Set
filters (``filterType: "set"``) work on every column with ``equals``. Number ranges are
inclusive (set ``filterParams.inRangeInclusive``); date filters on either period column
keep leads whose period overlaps the range."""

_SET_FIELDS = {
    "rule_id": "rule_ids",
    "severity": "severities",
    "severity_label": "severities",
    "fixmedins_code": "fixmedins_codes",
    "zone": "zones",
    "status": "statuses",
    "status_label": "statuses",
    "finding_id": "finding_ids",
    "case_id": "case_ids",
}
_CENT = Decimal("0.01")


def _code(column: str, value: str) -> str:
    """A severity or status given as its code or its label in either language → its code."""
    if column.startswith("severity"):
        vocab = SEVERITIES
    elif column.startswith("status"):
        vocab = STATUSES
    else:
        return value
    for code, names in vocab.items():
        if value == code or value in names:
            return code
    msg = f"{column}: {value!r} is not one of {', '.join(vocab)}"
    raise FilterError(msg)


def _day(value: object, column: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        msg = f"{column}: {value!r} is not a date (YYYY-MM-DD)"
        raise FilterError(msg) from None


def _cents(value: object, column: str, rounding: str) -> float:
    try:
        return float(Decimal(str(value)).quantize(_CENT, rounding=rounding))
    except ArithmeticError:
        msg = f"{column}: {value!r} is not a number"
        raise FilterError(msg) from None


def amount_bounds(column: str, kind: str, cond: dict[str, Any]) -> tuple[float | None, ...]:
    """``(min, max)`` (inclusive, None: open) of an ag-grid number condition on an amount.
    Amounts are in fen (two decimals), so a strict bound is the next cent inclusive."""
    x = cond.get("filter")
    if kind == "equals":
        return _cents(x, column, ROUND_CEILING), _cents(x, column, ROUND_FLOOR)
    if kind == "greaterThanOrEqual":
        return _cents(x, column, ROUND_CEILING), None
    if kind == "greaterThan":
        return _cents(Decimal(str(x)) + Decimal("0.001"), column, ROUND_CEILING), None
    if kind == "lessThanOrEqual":
        return None, _cents(x, column, ROUND_FLOOR)
    if kind == "lessThan":
        return None, _cents(Decimal(str(x)) - Decimal("0.001"), column, ROUND_FLOOR)
    lo, hi = sorted((Decimal(str(x)), Decimal(str(cond.get("filterTo")))))
    return _cents(lo, column, ROUND_CEILING), _cents(hi, column, ROUND_FLOOR)


def date_bounds(column: str, kind: str, cond: dict[str, Any]) -> tuple[date | None, ...]:
    """``(from, to)`` (inclusive, None: open) of an ag-grid date condition."""
    start = _day(cond.get("dateFrom"), column)
    if kind == "equals":
        return start, start
    if kind == "greaterThan":
        return start + timedelta(days=1), None
    if kind == "lessThan":
        return None, start - timedelta(days=1)
    end = _day(cond.get("dateTo"), column)
    return min(start, end), max(start, end)


def _number(column: str, kind: str, cond: dict[str, Any]) -> LeadFilter:
    low, high = amount_bounds(column, kind, cond)
    return LeadFilter(amount_min=low, amount_max=high)


def _date(column: str, kind: str, cond: dict[str, Any]) -> LeadFilter:
    start, end = date_bounds(column, kind, cond)
    return LeadFilter(date_from=start, date_to=end)


def _condition(column: str, cond: dict[str, Any]) -> LeadFilter:
    """One ag-grid condition on one column as a filter."""
    kind = cond.get("filterType")
    if kind == "set":
        if column not in _SET_FIELDS:
            msg = f"cannot filter leads by a set of {column!r} values"
            raise FilterError(msg)
        values = tuple(_code(column, str(v)) for v in cond.get("values") or ())
        return LeadFilter(**{_SET_FIELDS[column]: values})
    op = cond.get("type")
    if op not in FILTER_OPTIONS.get(column, ()):
        allowed = ", ".join(FILTER_OPTIONS.get(column, ())) or "none"
        msg = f"cannot filter leads by {column!r} with {op!r}; allowed: {allowed}"
        raise FilterError(msg)
    if kind == "number":
        return _number(column, str(op), cond)
    if kind == "date":
        return _date(column, str(op), cond)
    text = str(cond.get("filter") or "").strip()
    if column == "evidence":
        return LeadFilter(text=text or None)
    if column == "psn_no":
        return LeadFilter(psn_no=text)
    return LeadFilter(**{_SET_FIELDS[column]: (_code(column, text),)})


def combined(
    filter_model: dict[str, Any] | None,
    condition: Callable[[str, dict[str, Any]], Filter],
    set_fields: dict[str, str],
    empty: Filter,
) -> Filter:
    """ag-grid's ``filterModel`` read column by column with ``condition`` (one condition
    on one column as a filter), conditions combined with AND (bounds tighten, sets
    intersect) or OR (only among the values of a set-like column of ``set_fields``:
    column → the filter's field, whose values unite); ``empty`` is no constraint."""
    out = empty
    for column, model in (filter_model or {}).items():
        conditions = model.get("conditions")
        if conditions is None and "condition1" in model:  # ag-grid before v29
            conditions = [model["condition1"], model["condition2"]]
        if conditions is None:
            part = condition(column, model)
        else:
            kind = model.get("filterType")
            parts = [condition(column, {"filterType": kind, **c}) for c in conditions]
            if str(model.get("operator", "AND")).upper() == "OR":
                field_name = set_fields.get(column)
                if field_name is None:
                    msg = f"cannot OR conditions on {column!r}; use AND or a range"
                    raise FilterError(msg)
                values: list[str] = []
                for p in parts:
                    values += [v for v in getattr(p, field_name) or () if v not in values]
                part = type(empty)(**{field_name: tuple(values)})
            else:
                part = empty
                for p in parts:
                    part = narrowed(part, p)
        out = narrowed(out, part)
    return out


def filter_from_ag_grid(filter_model: dict[str, Any] | None) -> LeadFilter:
    """ag-grid's ``filterModel`` (text, number, date and set filters, single or combined
    with ``operator``/``conditions``) as a :class:`LeadFilter`; :class:`FilterError` for a
    column or filter type the queue does not support (see :data:`FILTER_OPTIONS`)."""
    return combined(filter_model, _condition, _SET_FIELDS, LeadFilter())


def describe(flt: LeadFilter) -> dict[str, Any]:
    """The filter's constraints as plain JSON-able values: what an export or a figure
    records so anyone can reproduce its rows."""
    out: dict[str, Any] = {}
    for f in fields(flt):
        value = getattr(flt, f.name)
        if value is None:
            continue
        out[f.name] = (
            list(value)
            if isinstance(value, tuple)
            else (value.isoformat() if isinstance(value, date) else value)
        )
    return out
