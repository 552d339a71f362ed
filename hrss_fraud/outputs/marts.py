"""Dashboard marts: what the dashboard's first page and callbacks need, computed once per
run after scoring and kept as Parquet beside the run, so no request waits for a sort of a
million leads, a scan of the lake or a risk ranking.

``build_marts`` opens the run with marts off and calls the data layer's own functions
(:mod:`~hrss_fraud.outputs.leads`, :mod:`~hrss_fraud.outputs.overview`, …), so a mart
holds exactly what those functions would compute on the fly; the readers
(:meth:`RunView.mart <hrss_fraud.outputs.runs_view.RunView.mart>`) use a mart when the
run's marts are complete and compute on the fly otherwise.

The marts are written into ``runs/.<run_id>.marts.<pid>.tmp/`` and renamed to
``runs/<run_id>.marts/`` with their ``marts.json`` last: a crash leaves only a dot-folder
that no reader looks at (removed by the next build), and the published run folder is
never touched. Marts of another :data:`MARTS_VERSION` are ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.runs import RunError, latest_run, previous_run, runs_dir
from hrss_fraud.lake.fsutil import fsync_dir, replace_dir, write_bytes_atomic
from hrss_fraud.lake.views import literal
from hrss_fraud.outputs import marts_lines, overview
from hrss_fraud.outputs.case_queue import index_frame
from hrss_fraud.outputs.doctor_view import DOCTOR_LEADS_SQL, doctor_days, mix_rows
from hrss_fraud.outputs.institution_view import (
    header_rows,
    top_sql,
    trends,
    unit_indicators,
)
from hrss_fraud.outputs.lead_detail import visits_sql
from hrss_fraud.outputs.leads import LeadIndex
from hrss_fraud.outputs.marts_carry import (
    Carry,
    carried_rows,
    lead_hashes,
    merge_into,
    plan_carry,
    timeline_redo,
)
from hrss_fraud.outputs.person_view import timeline_sql
from hrss_fraud.outputs.profile_data import peer_groups
from hrss_fraud.outputs.quality_view import by_rule, quality_rows, settlements_touched
from hrss_fraud.outputs.ranking import FINDING_COLUMNS, LINE_COLUMNS, risk_rankings
from hrss_fraud.outputs.runs_view import (
    MARTS_MANIFEST,
    MARTS_VERSION,
    RunView,
    marts_dir,
    open_view,
    read_marts_manifest,
)

RANKING_LEVELS = ("institution", "doctor", "person")
LANGS = ("zh", "en")

LINES_ROW_GROUP = 8192
"""Rows per row group of the ``lead_lines`` mart: sorted by lead, so one lead's lines are
in one or two row groups, which DuckDB picks by their ``finding_id`` min/max."""

PERSONS_ROW_GROUP = 8192

PROFILE_ROW_GROUP = 64
"""Rows per row group of the per-institution marts (a month, an item or a doctor a row,
some with a long list of lead ids): one institution's rows span one or two groups."""

ROWS_ROW_GROUP = 512
"""Rows per row group of the ``lead_rows`` mart: a page's rows are scattered over the run,
so each costs the decoding of its group."""


class _Writer:
    """Writes marts into the temporary folder and remembers their names and times."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, str] = {}
        self.seconds: dict[str, float] = {}
        self.fresh_persons: int | None = None
        """Persons whose ``person_timeline`` rows were recomputed (None: all of them)."""
        self.lead_line_files: dict[str, int] = {}
        """``lead_lines`` files linked from the previous run's marts and written."""

    def frame(self, name: str, df: pl.DataFrame, row_group_size: int | None = None) -> None:
        start = time.perf_counter()
        path = self.path(name)
        df.write_parquet(path, statistics=True, row_group_size=row_group_size)
        self._done(name, path, start)

    def query(self, name: str, con: duckdb.DuckDBPyConnection, sql: str, row_group: int) -> None:
        """``sql``'s rows, in its order, written by DuckDB without passing through Python."""
        start = time.perf_counter()
        path = self.path(name)
        con.execute(
            f"COPY ({sql}) TO {literal(str(path))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {row_group})"
        )
        self._done(name, path, start)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.parquet"

    def merge(self, name: str, carried: pl.LazyFrame, fresh: str, key: str, row_group: int) -> None:
        """Mart ``name``: ``carried`` rows merged in ``key`` order with the mart ``fresh``
        just written (which is then dropped: it is part of ``name``)."""
        start = time.perf_counter()
        fresh_path = self.path(fresh)
        merge_into(carried, pl.scan_parquet(fresh_path), key, self.path(name), row_group)
        fresh_path.unlink()
        del self.files[fresh]
        self._done(name, self.path(name), start)

    def _done(self, name: str, path: Path, start: float) -> None:
        with path.open("rb") as f:
            os.fsync(f.fileno())
        self.files[name] = path.name
        self.seconds[name] = round(time.perf_counter() - start, 3)


@contextmanager
def _timed(into: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    into[name] = round(time.perf_counter() - start, 1)


def _memoised(view: RunView, key: str) -> Any:
    """What the data layer memoised under ``key`` (it has just been computed)."""

    def missing() -> Any:
        msg = f"the dashboard did not compute {key!r}"
        raise KeyError(msg)

    return view.memo(key, missing)


def _lead_marts(view: RunView, out: _Writer) -> None:
    index = LeadIndex.build(view)
    frame, vocab = index.to_frames()
    out.frame("lead_index", frame)
    out.frame("lead_vocab", vocab)
    rows = pl.read_parquet(view.findings_path)[index.rn]  # every column, in index order
    out.frame("lead_rows", rows, row_group_size=ROWS_ROW_GROUP)
    del rows
    con = duckdb.connect()
    try:  # the evidence lowered once, in index order, so a search's rows are positions
        order = pl.DataFrame({"rn": index.rn, "pos": range(index.n)})
        con.register("index_order", order)
        sql = f"""SELECT lower(q.evidence) AS zh, lower(q.evidence_en) AS en
                  FROM read_parquet({literal(str(view.findings_path))}, file_row_number = true) q
                  JOIN index_order o ON q.file_row_number = o.rn ORDER BY o.pos"""
        out.query("lead_text", con, sql, 65536)
    finally:
        con.close()


def _case_marts(view: RunView, out: _Writer) -> None:
    """The case queue's index (rank order) and every case's row in the same order, in
    small row groups: a page's titles are a read by position (:mod:`case_queue`)."""
    frame = index_frame(view)
    out.frame("case_index", frame)
    rows = pl.read_parquet(view.cases_path)[frame["rn"]]
    out.frame("case_rows", rows, row_group_size=ROWS_ROW_GROUP)


def _quality_marts(view: RunView, out: _Writer) -> None:
    """The data-quality report's per rule summary (in each language: rule names) and the
    settlements each institution's findings touch."""
    for lang in LANGS:
        out.frame(f"quality_summary_{lang}", by_rule(view, lang=lang))
    out.frame("quality_settlements", settlements_touched(view))


def _overview_marts(view: RunView, previous: RunView | None, out: _Writer) -> None:
    overview.fund_spending(view)
    out.frame("fund_spending", _memoised(view, "fund_spending"))
    for by in overview.BREAKDOWNS:
        out.frame(f"leads_by_{by}", overview.grouped_leads(view, by))
    out.frame("rule_names", overview.rule_names(view))
    overview.lead_totals(view)
    out.frame("lead_totals", _memoised(view, "lead_totals"))
    for name, df in overview.change_frames(overview.changes(view, previous)).items():
        out.frame(name, df)


def _detail_marts(view: RunView, out: _Writer, carry: Carry | None) -> None:
    con = view.lake.connect()
    try:
        tmp = literal(str(out.folder))
        con.execute(f"SET temp_directory = {tmp}")  # sorting the run's lines may spill
        _lead_lines(view, con, out, carry)
        _person_visits(view, con, out, carry)
        mart = literal(str(out.folder / marts_lines.FILES))
        # one chunk: DuckDB hands over many, and the rankings' joins and groupings over
        # ten million lines ran ~30 % slower on them
        lines = con.sql(_LINE_DOCTORS_SQL.format(mart=mart)).pl().rechunk()
        con.register("line_doctors", lines)
        file = literal(str(view.findings_path))
        out.query("doctor_leads", con, DOCTOR_LEADS_SQL.format(findings=file), 65536)
    finally:
        con.close()
    findings = pl.read_parquet(view.findings_path, columns=list(FINDING_COLUMNS))
    for level in RANKING_LEVELS:
        ranked = risk_rankings(
            view.files_run, view.lake, level, LANGS, lines=lines, findings=findings
        )
        for lang, frame in ranked.items():
            out.frame(f"ranking_{level}_{lang}", frame)


_LINE_DOCTORS_SQL = f"""
SELECT {", ".join(LINE_COLUMNS)}, bilg_dr_codg AS doctor
FROM read_parquet({{mart}}) WHERE feedetl_sn IS NOT NULL
UNION ALL
SELECT {", ".join(f"l.{c}" for c in LINE_COLUMNS)}, s.chfpdr_code AS doctor
FROM read_parquet({{mart}}) l LEFT JOIN settlement s USING (fixmedins_code, setl_id)
WHERE l.feedetl_sn IS NULL
"""
"""The run's lines read off the ``lead_lines`` mart (which has joined every line with the
lake's fee line already) for the risk rankings, with the doctor each belongs to: the
billing doctor of a fee line, the attending doctor of a settlement row."""


def _lead_lines(
    view: RunView, con: duckdb.DuckDBPyConnection, out: _Writer, carry: Carry | None
) -> None:
    """Every lead's lines with the lake's context, one file per rule sorted by lead (see
    :mod:`marts_lines` for what an increment links or copies from the previous run's)."""
    start = time.perf_counter()
    out.lead_line_files = marts_lines.build(view, con, out.folder, carry, LINES_ROW_GROUP)
    out.files[marts_lines.NAME] = marts_lines.FILES
    out.seconds[marts_lines.NAME] = round(time.perf_counter() - start, 3)


def _person_visits(
    view: RunView, con: duckdb.DuckDBPyConnection, out: _Writer, carry: Carry | None
) -> None:
    """Visit counts and spending of every person of the run's leads, sorted by person; an
    increment copies the persons no upload since the previous run touched."""
    findings = literal(str(view.findings_path))
    persons = con.sql(
        f"SELECT DISTINCT psn_no FROM read_parquet({findings}) WHERE psn_no IS NOT NULL"
    ).pl()
    keep = None
    if carry is not None:
        before = carried_rows(carry, "person_visits", "psn_no", persons).select("psn_no")
        keep = before.join(carry.touched_persons.lazy(), on="psn_no", how="anti").collect()
        persons = persons.join(keep, on="psn_no", how="anti")
    con.register("run_persons", persons)
    sql = f"{visits_sql(all_persons=True)} ORDER BY psn_no"
    if keep is None:
        out.query("person_visits", con, sql, PERSONS_ROW_GROUP)
        return
    out.query("person_visits.fresh", con, sql, PERSONS_ROW_GROUP)
    out.merge(
        "person_visits",
        carried_rows(carry, "person_visits", "psn_no", keep),
        "person_visits.fresh",
        "psn_no",
        PERSONS_ROW_GROUP,
    )


def _person_timeline(
    view: RunView, con: duckdb.DuckDBPyConnection, out: _Writer, carry: Carry | None
) -> None:
    """Every person's settlements, sorted by person; an increment recomputes the persons
    :func:`timeline_redo` names and copies the others' rows."""
    redo = None
    if carry is not None and carry.mart("person_timeline") is not None:
        redo = timeline_redo(view, carry)
    if redo is None:
        out.query("person_timeline", con, timeline_sql(view), PERSONS_ROW_GROUP)
        return
    con.register("redo_persons", redo)
    out.fresh_persons = redo.height
    sql = timeline_sql(view, among="redo_persons")
    out.query("person_timeline.fresh", con, sql, PERSONS_ROW_GROUP)
    path = carry.mart("person_timeline")
    assert path is not None
    redone = pl.col("psn_no").is_in(redo["psn_no"].implode()).fill_null(False)
    kept = pl.scan_parquet(path).filter(~redone)
    out.merge("person_timeline", kept, "person_timeline.fresh", "psn_no", PERSONS_ROW_GROUP)


def _profile_marts(view: RunView, out: _Writer, carry: Carry | None) -> None:
    out.frame("peer_groups", peer_groups(view))
    out.frame("institution_indicators", unit_indicators(view))
    out.frame("doctor_days", doctor_days(view))
    out.frame("institution_headers", header_rows(view), row_group_size=PROFILE_ROW_GROUP)
    out.frame("institution_trend", trends(view), row_group_size=PROFILE_ROW_GROUP)
    out.frame("institution_quality", quality_rows(view), row_group_size=PROFILE_ROW_GROUP)
    out.frame("doctor_mix", mix_rows(view), row_group_size=PERSONS_ROW_GROUP)
    con = view.lake.connect()
    try:
        con.execute(f"SET temp_directory = {literal(str(out.folder))}")
        _person_timeline(view, con, out, carry)
        lines = literal(str(out.folder / marts_lines.FILES))
        con.execute(f"CREATE VIEW lead_context AS SELECT * FROM read_parquet({lines})")
        for kind in ("items", "doctors"):  # small: DuckDB would write one row group
            top = con.sql(top_sql(kind)).pl()
            out.frame(f"institution_{kind}", top, row_group_size=PROFILE_ROW_GROUP)
    finally:
        con.close()


def _clean_stale(workspace: Path, run_id: str) -> None:
    """Remove temporary folders of earlier builds of ``run_id`` whose process is gone."""
    for tmp in runs_dir(workspace).glob(f".{run_id}.marts.*.*.tmp"):
        pid = tmp.name.split(".")[-3]  # .<run_id>.marts.<pid>.<thread>.tmp
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_marts(workspace: Path, run_id: str | None = None, *, force: bool = False) -> Path:
    """Build the marts of ``run_id`` (default: the latest complete run) unless they are
    complete already (``force``: rebuild anyway); return their folder. Atomic: readers see
    all of them or none. :class:`RunError` if there is no such run."""
    workspace = Path(workspace)
    run_id = run_id or latest_run(workspace)
    if run_id is None:
        msg = f"no complete scoring run in {runs_dir(workspace)}; run `hrss-fraud score`"
        raise RunError(msg)
    final = marts_dir(workspace, run_id)
    if not force and read_marts_manifest(workspace, run_id) is not None:
        return final
    started = time.perf_counter()
    view = open_view(workspace, run_id)
    view.use_marts = False
    prev_id = previous_run(workspace, run_id)
    previous = open_view(workspace, prev_id) if prev_id else None
    if previous is not None:
        previous.use_marts = False
    _clean_stale(workspace, run_id)
    tmp = runs_dir(workspace) / f".{run_id}.marts.{os.getpid()}.{threading.get_ident()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        out = _Writer(tmp)
        phases: dict[str, float] = {}
        with _timed(phases, "leads"):
            _lead_marts(view, out)
            _case_marts(view, out)
        with _timed(phases, "overview"):
            _overview_marts(view, previous, out)
        with _timed(phases, "carry_plan"):
            hashes = lead_hashes(view, previous)
            out.frame("lead_hashes", hashes)
            carry = plan_carry(view, previous, hashes)
        with _timed(phases, "detail"):
            _detail_marts(view, out, carry)
        with _timed(phases, "profiles"):
            _profile_marts(view, out, carry)
            _quality_marts(view, out)
        manifest = {
            "version": MARTS_VERSION,
            "run_id": run_id,
            "previous_run_id": prev_id,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "carried_from": carry.previous.run_id if carry else None,
            "fresh_leads": carry.fresh.height if carry else None,
            "fresh_persons": out.fresh_persons,
            "lead_line_files": out.lead_line_files,
            "files": out.files,
            "seconds_per_phase": phases,
            "seconds_per_mart": out.seconds,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        write_bytes_atomic(tmp / MARTS_MANIFEST, data, label="marts manifest")
        fsync_dir(tmp)
        _publish(tmp, final, replace=force)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _publish(tmp: Path, final: Path, *, replace: bool) -> None:
    """Rename ``tmp`` to ``final``. Complete marts already there (another build won the
    race) are kept unless ``replace``; older ones are moved aside first, removed after."""
    if final.exists():
        workspace, run_id = final.parent.parent, final.name.removesuffix(".marts")
        if not replace and read_marts_manifest(workspace, run_id) is not None:
            return
    replace_dir(tmp, final)


def ensure_marts(workspace: Path, run_id: str | None = None) -> Path | None:
    """The marts of ``run_id`` (default: the latest run), built if missing; None when the
    workspace has no run yet."""
    run_id = run_id or latest_run(Path(workspace))
    return build_marts(workspace, run_id) if run_id else None


def build_in_background(workspace: Path) -> threading.Thread:
    """Build the latest run's missing marts in a daemon thread (what ``serve`` does at
    start; it also imports the rule catalogue's kernels, which the first lead panel
    would otherwise wait for); the dashboard computes on the fly until they are
    published. A failure is reported on standard error and never stops the server."""

    def work() -> None:
        try:
            # import the rule kernels now, not in the first lead panel's request
            load_catalogue(workspace=Path(workspace))
            run_id = latest_run(Path(workspace))
            if run_id is None or read_marts_manifest(Path(workspace), run_id) is not None:
                return
            started = time.perf_counter()
            folder = build_marts(workspace, run_id)
            took = time.perf_counter() - started
            print(f"marts: built {folder} in {took:.1f} s", file=sys.stderr, flush=True)
        except Exception as e:  # the server keeps serving on the fly
            print(f"marts: not built ({e}); computing on the fly", file=sys.stderr, flush=True)

    thread = threading.Thread(target=work, name="build-marts", daemon=True)
    thread.start()
    return thread
