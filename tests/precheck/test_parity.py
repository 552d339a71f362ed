"""Parity: the checker gives, on one visit and the person's history, the hits the batch run
gave on that visit, for the tiny county.

Which visits: every in-scope rule the batch fired gets up to ``PER_RULE`` of the visits it
flagged (drawn with seed ``SEED``), and ``UNFLAGGED`` visits the batch flagged under no
in-scope rule are drawn likewise. With ``PRECHECK_PARITY_ALL=1`` every flagged visit is
checked (about 4,500 on the tiny county; a check costs tens to hundreds of milliseconds,
so that run is long and left to be asked for).

How a visit is checked: rebuilt from the lake's prepared rows (its net lines, its sex and
birth left to the person record), with history = every other claim of the person, before
and after it (``all_history``): the batch saw them all. What is compared, per visit, is the
multiset of (rule, the visit's violating lines, the amount at risk on the visit) and each
hit's content. A hit belongs to a visit when one of its violating rows is on it: a forbidden
pair billed across two visits of one day names the forbidden item's line, so it is a hit
of the visit holding that line on both sides and of neither on the other visit; a stay
that an outpatient claim falls in is violating with amount 0 and counts as the stay's hit
too, with no line named (the rule flags the settlement as a whole).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.engine.runs import open_run
from hrss_fraud.precheck.checker import Checker
from hrss_fraud.precheck.replay import replay_visit
from hrss_fraud.precheck.visit import CheckHit
from hrss_fraud.precheck.workdb import WorkDb

SEED = 21
PER_RULE = 2
UNFLAGGED = 12

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checker(scored_tiny_county: Path) -> Checker:
    return Checker(scored_tiny_county, all_history=True)


@pytest.fixture(scope="module")
def batch(scored_tiny_county: Path, checker: Checker) -> pl.DataFrame:
    """The batch's in-scope hits per visit: one row per (visit, finding) with the
    finding's violating lines on that visit and their amount."""
    run = open_run(scored_tiny_county)
    findings = pl.concat(
        [
            run.findings().select("finding_id", "rule_id", "evidence"),
            run.quality_findings().select("finding_id", "rule_id", "evidence"),
        ]
    )
    lines = pl.concat([run.lines(), run.quality_lines()], how="diagonal_relaxed")
    return (
        lines.filter(pl.col("role") == "violating")
        .join(findings, on="finding_id")
        .filter(pl.col("rule_id").is_in(checker.rules))
        .group_by("fixmedins_code", "setl_id", "finding_id", "rule_id", "evidence")
        .agg(
            sns=pl.col("feedetl_sn").drop_nulls().unique().sort(),
            amount=pl.col("amount_at_risk").fill_null(0).sum().round(2),
        )
    )


def _visits(checker: Checker, batch: pl.DataFrame) -> list[tuple[str, str]]:
    keys = ["fixmedins_code", "setl_id"]
    if os.environ.get("PRECHECK_PARITY_ALL") == "1":
        flagged = batch.select(keys).unique()
    else:
        flagged = (
            batch.select(*keys, "rule_id")
            .unique()
            .sort(*keys, "rule_id")
            .filter(pl.int_range(pl.len()).shuffle(seed=SEED).over("rule_id") < PER_RULE)
            .select(keys)
            .unique()
        )
    unflagged = (
        checker.snapshot.visit.select(keys)
        .join(batch.select(keys), on=keys, how="anti")
        .sort(keys)
        .sample(UNFLAGGED, seed=SEED)
    )
    return sorted(pl.concat([flagged, unflagged]).unique().iter_rows())


def _got(hits: list[CheckHit]) -> Counter[tuple[str, tuple[str, ...], float, str]]:
    return Counter((h.rule_id, h.violating, h.amount, h.content) for h in hits)


def test_the_checker_gives_the_batchs_hits_on_each_visit(
    checker: Checker, batch: pl.DataFrame
) -> None:
    visits = _visits(checker, batch)
    fired = set(batch["rule_id"])
    keys = ["fixmedins_code", "setl_id"]
    drawn = pl.DataFrame(visits, orient="row", schema=keys)
    covered = set(batch.join(drawn, on=keys)["rule_id"])
    assert covered == fired, "the sample leaves out a rule the batch fired"
    assert len(visits) >= len(fired)
    mismatches = []
    for code, setl_id in visits:
        want = Counter(
            (r["rule_id"], tuple(r["sns"]), r["amount"], r["evidence"])
            for r in batch.filter(
                (pl.col("fixmedins_code") == code) & (pl.col("setl_id") == setl_id)
            ).iter_rows(named=True)
        )
        got = _got(checker.check(replay_visit(checker.snapshot, code, setl_id)))
        if got != want:
            mismatches.append((code, setl_id, sorted(want - got), sorted(got - want)))
    assert not mismatches, "\n".join(map(str, mismatches[:10]))


def test_the_checked_visit_is_prepared_as_the_batch_prepared_it(checker: Checker) -> None:
    """The checked visit's ``visit`` and ``line_base`` rows equal the batch's, but for the
    settlement's own fields a visit before settlement does not carry."""
    not_carried = {
        *("setl_time", "dise_name", "chfpdr_code", "ipt_days", "medfee_sumamt", "inscp_amt"),
        *("hifp_pay", "acct_pay", "psn_cash_pay", "crte_time"),
    }
    db = WorkDb(checker.snapshot, checker.knowledge)
    try:
        sample = checker.snapshot.visit.sample(40, seed=SEED)
        for code, setl_id in sample.select("fixmedins_code", "setl_id").iter_rows():
            db.load(replay_visit(checker.snapshot, code, setl_id))
            key = (pl.col("fixmedins_code") == code) & (pl.col("setl_id") == setl_id)
            want_v = checker.snapshot.visit.filter(key)
            got_v = db.con.sql("SELECT * FROM visit").pl().filter(key)
            assert set(got_v.columns) == set(want_v.columns)
            same = [c for c in want_v.columns if c not in not_carried]
            assert got_v.select(same).rows() == want_v.select(same).rows(), (code, setl_id)
            _, hist = checker.snapshot.rows(want_v["psn_no"][0])
            want_l = hist.filter(key).sort("feedetl_sn")
            got_l = db.con.sql("SELECT * FROM line_base").pl().filter(key).sort("feedetl_sn")
            assert got_l.select(want_l.columns).rows() == want_l.rows(), (code, setl_id)
    finally:
        db.close()


def test_concurrent_checks_give_what_one_at_a_time_gives(
    checker: Checker, batch: pl.DataFrame
) -> None:
    visits = [
        replay_visit(checker.snapshot, *k)
        for k in batch.select("fixmedins_code", "setl_id").unique().sort(pl.all()).head(6).rows()
    ]
    alone = [_got(checker.check(v)) for v in visits]
    results: dict[tuple[int, int], Counter[tuple[str, tuple[str, ...], float, str]]] = {}
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in (*range(t, len(visits)), *range(t)):
                results[(t, i)] = _got(checker.check(visits[i]))
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert all(results[(t, i)] == alone[i] for t in range(3) for i in range(len(visits)))
    assert any(alone), "the visits drawn carry no hit: the comparison would prove nothing"
