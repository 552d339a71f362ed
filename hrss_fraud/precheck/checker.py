"""The checking core: the catalogue's claim-level rules on one visit and the person's
history, with the parameters (and their change log), knowledge and white lists the batch
uses, and each rule's own SQL or kernel (:mod:`.plan`).

The history is a :class:`~.history.Snapshot` of the lake prepared the batch's way, kept
in memory; :meth:`Checker.refresh` swaps in a new one after a nightly while checks in
flight finish on the old. Each thread checks in its own DuckDB (:class:`~.workdb.WorkDb`),
so concurrent checks share nothing but read-only frames.
"""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl

from hrss_fraud.engine import hits as H
from hrss_fraud.engine import kernels
from hrss_fraud.engine.catalogue import CatalogueError, Rule
from hrss_fraud.engine.needs import Inactive, inactive_rules, lake_inactive
from hrss_fraud.engine.params import changes
from hrss_fraud.engine.whitelist import load_whitelist, suppressed_keys
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.precheck.history import Snapshot, load_snapshot
from hrss_fraud.precheck.plan import Planned, not_checked, plan
from hrss_fraud.precheck.visit import CheckHit, Visit
from hrss_fraud.precheck.workdb import WorkDb
from hrss_fraud.scoring.score import Policy

_SORT = ("line_time", "fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn", "entity_id")


def _line_key() -> pl.Expr:
    return pl.concat_str(
        "fixmedins_code",
        "mdtrt_id",
        pl.col("feedetl_sn").fill_null(pl.lit(None, pl.String)),
        separator="|",
        ignore_nulls=True,
    ).alias("line_key")


def _lake_inactive(workspace: Path, rules: list[Rule]) -> dict[str, Inactive]:
    """The rules the lake cannot drive (a cross-county rule on one county's lake), as the
    batch skips them."""
    con = Workspace.of(workspace).lake.connect()
    try:
        return lake_inactive(con, rules)
    finally:
        con.close()


class Checker:
    """Checks visits against the rules; :attr:`rules` lists those it evaluates and
    :attr:`skipped` why the others are not (rule id → Chinese, English)."""

    def __init__(
        self, workspace: Path, rule_ids: list[str] | None = None, *, all_history: bool = False
    ) -> None:
        """``all_history`` keeps every claim of the lake as history instead of the rules'
        longest look-back before the lake's newest claim."""
        self.workspace = Path(workspace)
        policy = Policy.load(self.workspace, None)
        self.knowledge = load_knowledge(policy.knowledge_dir)
        inactive = inactive_rules(policy.rules, self.knowledge)
        inactive.update(_lake_inactive(self.workspace, policy.rules))
        self.skipped: dict[str, tuple[str, str]] = {}
        for rule in policy.rules:
            why = not_checked(rule)
            if why is None and rule.id in inactive:
                why = (inactive[rule.id].reason_zh, inactive[rule.id].reason_en)
            if why is not None:
                self.skipped[rule.id] = why
        wanted = rule_ids or [r.id for r in policy.rules if r.id not in self.skipped]
        unknown = [r for r in wanted if r not in policy.catalogue.rules]
        if unknown:
            msg = f"unknown rule(s): {', '.join(unknown)}; see `hrss-fraud rules list`"
            raise CatalogueError(msg)
        excluded = [r for r in wanted if r in self.skipped]
        if excluded:
            reasons = "; ".join(f"{r}: {self.skipped[r][1]}" for r in excluded)
            msg = f"rule(s) not checked on one visit: {reasons}"
            raise CatalogueError(msg)
        selected = [policy.catalogue.rules[r] for r in wanted]
        for rule in selected:
            if rule.kernel:
                kernels.get(rule.kernel)  # a kernel nobody registered fails here, not later
        self._planned: list[Planned] = plan(
            policy.catalogue, selected, changes(policy.catalogue, self.workspace)
        )
        self.rules: list[str] = [p.rule.id for p in self._planned]
        self._whitelist = load_whitelist(policy.catalogue, self.workspace)
        self._lookback = max((r.lookback_days for r in selected), default=0)
        self._all_history = all_history
        self._lock = threading.Lock()
        self._local = threading.local()
        self._snapshot = self._load()

    def _load(self) -> Snapshot:
        lake = Workspace.of(self.workspace).lake
        return load_snapshot(lake, self.knowledge, None if self._all_history else self._lookback)

    def refresh(self) -> None:
        """Reload the history from the lake (after a nightly). Checks in flight finish on
        the snapshot they started with; later ones use the new one."""
        snapshot = self._load()
        with self._lock:
            self._snapshot = snapshot

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def _db(self, snapshot: Snapshot) -> WorkDb:
        db: WorkDb | None = getattr(self._local, "db", None)
        if db is None or db.snapshot is not snapshot:
            if db is not None:
                db.close()
            db = WorkDb(snapshot, self.knowledge)
            for i, p in enumerate(self._planned):
                if p.sql is not None:
                    db.con.execute(f"PREPARE rule_{i} AS\n{p.sql}")
            self._local.db = db
        return db

    def check(self, visit: Visit) -> list[CheckHit]:
        """The hits of the rules on ``visit``: those with a violating line (or the visit
        as a whole) in it, in rule order."""
        db = self._db(self._snapshot)
        db.load(visit)
        raw = self.raw_hits(db)
        current = (pl.col("fixmedins_code") == visit.fixmedins_code) & (
            pl.col("setl_id") == visit.settlement
        )
        out: list[CheckHit] = []
        for p in self._planned:
            frame = raw.get(p.rule.id)
            if frame is None:
                continue
            out.extend(_hits_of(p, frame, current))
        return out

    def raw_hits(self, db: WorkDb) -> dict[str, pl.DataFrame]:
        """Every rule's hit lines on ``db``'s loaded visit and history, conformed and
        white-list filtered, by rule id (rules without a hit left out)."""
        found: dict[str, pl.DataFrame] = {}
        for i, p in enumerate(self._planned):
            if p.sql is not None:
                # most rules find nothing: rows are cheaper to fetch than a frame
                cursor = db.con.execute(f"EXECUTE rule_{i}")
                rows = cursor.fetchall()
                if not rows:
                    continue
                names = [d[0] for d in cursor.description or ()]
                part = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
            else:
                part = kernels.get(str(p.rule.kernel))(db.con, p.values, p.rule.args)
            if part.height:
                found[p.rule.id] = part
        out = {}
        for rid, part in found.items():
            part = H.conform(part, rid)
            drop = suppressed_keys(db.con, rid, part, self._whitelist)
            if drop:
                dropped = pl.DataFrame({"hit_key": list(drop)}, schema={"hit_key": pl.String})
                part = part.join(dropped, on="hit_key", how="anti")
            if part.height:
                out[rid] = part
        return out


def _hits_of(p: Planned, frame: pl.DataFrame, current: pl.Expr) -> list[CheckHit]:
    """``frame``'s hits with a violating row on the checked settlement, as the batch would
    report them: the content is the evidence of the hit's first violating row with money
    at risk (:func:`hrss_fraud.engine.hits.aggregate`'s choice)."""
    mine = (pl.col("role") == "violating") & current
    frame = frame.with_columns(mine=mine.fill_null(False))
    frame = frame.filter(pl.col("mine").any().over("hit_key")).sort(
        "hit_key", pl.col("amount").fill_null(0) <= 0, *_SORT, nulls_last=True
    )
    rule = p.rule
    out = []
    for (_key,), g in frame.group_by("hit_key", maintain_order=True):
        own = g.filter(pl.col("mine"))
        other = g.filter(~pl.col("mine"))
        first = g.filter(pl.col("role") == "violating")["evidence"][0]
        out.append(
            CheckHit(
                rule_id=rule.id,
                rule_name=rule.name_zh,
                rule_name_en=rule.name_en,
                framework=";".join(rule.framework),
                severity=rule.severity,
                severity_zh=rule.severity_zh,
                behaviour=rule.behaviour,
                content=str(first or ""),
                amount=round(float(own["amount"].fill_null(0).sum()), 2),
                violating=tuple(sorted(own["feedetl_sn"].drop_nulls().unique().to_list())),
                involved=tuple(sorted(other.select(_line_key())["line_key"].unique())),
            )
        )
    return out
