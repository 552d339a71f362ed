"""The truth-judging code (``hrss_fraud.evaluation.judge``) on tiny hand-made runs and truths,
each expected number worked out by hand in a comment: which finding is true and why,
recall per scheme (injected entities, found, rules, institution recall), precision per
rule and overall, the monitoring counts, and the inspection list's precision at k, ROC-AUC
(ties count one half) and false-alarm rates. Every threshold the detectors are tuned to
goes through these functions, so a swapped label, a lost ``~``, an involved line counted
as violating or a duplicate counted twice must fail here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import duckdb
import polars as pl
import pytest

from hrss_fraud.engine.catalogue import Catalogue, load_catalogue
from hrss_fraud.evaluation import judge as ev
from hrss_fraud.evaluation.judge import Truth

S = pl.String


def _frame(rows: list[dict[str, Any]], columns: dict[str, pl.DataType]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=columns, orient="row") if rows else pl.DataFrame(schema=columns)
    )


_LINE = {
    "finding_id": S,
    "role": S,
    "fixmedins_code": S,
    "psn_no": S,
    "setl_id": S,
    "mdtrt_id": S,
    "feedetl_sn": S,
}
_FINDING = {"finding_id": S, "rule_id": S, "entity_type": S, "entity_id": S, "fixmedins_code": S}


def line(
    fid: str,
    inst: str,
    setl: str,
    mdtrt: str,
    sn: str | None,
    psn: str = "P0",
    role: str = "violating",
) -> dict[str, Any]:
    return {
        "finding_id": fid,
        "role": role,
        "fixmedins_code": inst,
        "psn_no": psn,
        "setl_id": setl,
        "mdtrt_id": mdtrt,
        "feedetl_sn": sn,
    }


def finding(fid: str, rule: str, etype: str, eid: str, inst: str) -> dict[str, Any]:
    return {
        "finding_id": fid,
        "rule_id": rule,
        "entity_type": etype,
        "entity_id": eid,
        "fixmedins_code": inst,
    }


def truth(
    *,
    lines: list[tuple[str, str, str, str, str, str]],
    entities: list[tuple[str, str, str, str, str]],
    schemes: list[tuple[str, str, str]],
    noise: Sequence[tuple[str, str]] = (),
    lookalikes: Sequence[str] = (),
    fraud: Sequence[str] = (),
) -> Truth:
    """``lines``: (scheme, institution, person, settlement, visit, line number);
    ``entities``: (scheme, family, entity_type, entity_id, institution); ``schemes``:
    (scheme, family, institutions joined by ';'); ``noise``: (institution, settlement)."""
    return Truth(
        lines=_frame(
            [dict(zip(("scheme", *_LINE_T), r, strict=True)) for r in lines],
            {"scheme": S, **dict.fromkeys(_LINE_T, S)},
        ),
        entities=_frame(
            [dict(zip(_ENTITY_T, r, strict=True)) for r in entities],
            dict.fromkeys(_ENTITY_T, S),
        ),
        schemes=_frame(
            [dict(zip(("scheme", "family", "institutions"), r, strict=True)) for r in schemes],
            {"scheme": S, "family": S, "institutions": S},
        ),
        noise=_frame(
            [{"noise": "missing_diagnosis", "fixmedins_code": i, "setl_id": s} for i, s in noise],
            {"noise": S, "fixmedins_code": S, "setl_id": S},
        ),
        lookalikes=_frame(
            [{"lookalike": "chronic_refill", "mdtrt_id": m} for m in lookalikes],
            {"lookalike": S, "mdtrt_id": S},
        ),
        fraud_institutions=_frame([{"fixmedins_code": c} for c in fraud], {"fixmedins_code": S}),
    )


_LINE_T = ("fixmedins_code", "psn_no", "setl_id", "mdtrt_id", "feedetl_sn")
_ENTITY_T = ("scheme", "family", "entity_type", "entity_id", "fixmedins_code")


# judge ----------------------------------------------------------------------------------

# Injected: lines H1|M1|1 and H1|M1|2 (settlement S1, person P1) and H1|M9|1 (S9, P9) of
# scheme "lines"; person P2, settlement S7 at H2, doctor D1 as entities of their own;
# noise: settlement S8 at H2 lost its diagnosis; look-alike: visit M3.
JUDGE_TRUTH = dict(
    lines=[
        ("lines", "H1", "P1", "S1", "M1", "1"),
        ("lines", "H1", "P1", "S1", "M1", "2"),
        ("lines", "H1", "P9", "S9", "M9", "1"),
    ],
    entities=[
        ("lines", "rule", "fee_line", "H1|M1|1", "H1"),
        ("lines", "rule", "fee_line", "H1|M1|2", "H1"),
        ("lines", "rule", "fee_line", "H1|M9|1", "H1"),
        ("persons", "beyond", "person", "P2", "H2"),
        ("settlements", "beyond", "settlement", "S7", "H2"),
        ("doctors", "beyond", "doctor", "D1", "H1"),
    ],
    schemes=[
        ("lines", "rule", "H1"),
        ("persons", "beyond", "H2"),
        ("settlements", "beyond", "H2"),
        ("doctors", "beyond", "H1"),
    ],
    noise=[("H2", "S8")],
    lookalikes=["M3"],
    fraud=["H1"],
)

# finding -> (true, lookalike), and why
JUDGED = {
    "F01": (True, False),  # its violating line H1|M1|1 is injected
    "F02": (False, False),  # H1|M1|3: same visit, other line; P1 is guilty but not a person lead
    "F03": (False, False),  # H2|M1|1: the injected line's numbers at another institution
    "F04": (True, False),  # a settlement-level line (no line number) of injected settlement S1
    "F05": (True, False),  # settlement lead on S7 at H2, an injected settlement entity
    "F06": (False, False),  # settlement lead on S7 at H1: S7 is injected at H2 only
    "F07": (True, False),  # person lead on P2, an injected person
    "F08": (False, False),  # person lead on P4, nobody's
    "F09": (True, False),  # doctor lead on D1, an injected doctor
    "F10": (False, False),  # doctor lead on D2
    "F11": (True, False),  # data-quality rule on S8, the injected noise
    "F12": (False, False),  # S8 again, but not a data-quality rule
    "F13": (True, False),  # clean violating line, injected line H1|M1|2 among its involved
    "F14": (False, True),  # clean, and its line is on look-alike visit M3
    "F15": (True, False),  # injected line and a look-alike visit: true, so no look-alike
    "F16": (False, False),  # no lines at all
    "F17": (True, False),  # a clean line twice and injected H1|M9|1 once: one row, true
    "F18": (True, False),  # involved settlement-level line of S1
    "F19": (False, True),  # clean; an involved line on look-alike M3 counts as a touch
    "F20": (True, False),  # person lead on P9: no person entity, but an injected line's
}


def judge_inputs() -> tuple[pl.DataFrame, pl.DataFrame, Truth]:
    f = [
        finding("F01", "r_a", "fee_line", "H1|M1|1", "H1"),
        finding("F02", "r_a", "fee_line", "H1|M1|3", "H1"),
        finding("F03", "r_a", "fee_line", "H2|M1|1", "H2"),
        finding("F04", "r_a", "institution", "H1", "H1"),
        finding("F05", "r_s", "settlement", "S7", "H2"),
        finding("F06", "r_s", "settlement", "S7", "H1"),
        finding("F07", "r_p", "person", "P2", "H2"),
        finding("F08", "r_p", "person", "P4", "H2"),
        finding("F09", "r_d", "doctor", "D1", "H1"),
        finding("F10", "r_d", "doctor", "D2", "H1"),
        finding("F11", "dq_x", "settlement", "S8", "H2"),
        finding("F12", "r_a", "settlement", "S8", "H2"),
        finding("F13", "r_a", "fee_line", "H2|M6|2", "H2"),
        finding("F14", "r_a", "fee_line", "H2|M3|1", "H2"),
        finding("F15", "r_a", "fee_line", "H1|M1|1", "H1"),
        finding("F16", "r_a", "institution", "H3", "H3"),
        finding("F17", "r_a", "fee_line", "H2|M6|3", "H2"),
        finding("F18", "r_a", "fee_line", "H2|M6|4", "H2"),
        finding("F19", "r_a", "fee_line", "H2|M6|5", "H2"),
        finding("F20", "r_p", "person", "P9", "H2"),
    ]
    ln = [
        line("F01", "H1", "S1", "M1", "1", "P1"),
        line("F02", "H1", "S1", "M1", "3", "P1"),
        line("F03", "H2", "S1", "M1", "1", "P1"),
        line("F04", "H1", "S1", "M1", None, "P1"),
        line("F05", "H2", "S7", "M7", "4"),
        line("F06", "H1", "S7", "M7", "4"),
        line("F07", "H2", "S6", "M6", "1", "P2"),
        line("F08", "H2", "S6", "M6", "1", "P4"),
        line("F09", "H1", "S5", "M5", "1"),
        line("F10", "H1", "S5", "M5", "1"),
        line("F11", "H2", "S8", "M8", "1"),
        line("F12", "H2", "S8", "M8", "1"),
        line("F13", "H2", "S6", "M6", "2"),
        line("F13", "H1", "S1", "M1", "2", "P1", role="involved"),
        line("F14", "H2", "S3", "M3", "1"),
        line("F15", "H1", "S1", "M1", "1", "P1"),
        line("F15", "H2", "S3", "M3", "1"),
        line("F17", "H2", "S6", "M6", "3"),
        line("F17", "H2", "S6", "M6", "3"),
        line("F17", "H1", "S9", "M9", "1", "P9"),
        line("F18", "H2", "S6", "M6", "4"),
        line("F18", "H1", "S1", "M1", None, "P1", role="involved"),
        line("F19", "H2", "S6", "M6", "5"),
        line("F19", "H2", "S3", "M3", "2", role="involved"),
        line("F20", "H2", "S6", "M6", "6", "P9"),
    ]
    return _frame(f, _FINDING), _frame(ln, _LINE), truth(**JUDGE_TRUTH)


def test_judge_marks_each_finding_true_or_a_lookalike_for_the_reason_given() -> None:
    findings, lines, t = judge_inputs()
    judged = ev.judge(findings, lines, t, {"dq_x"})
    # one row per finding, whatever the duplicates among its lines (F17)
    assert judged.height == findings.height == len(JUDGED)
    got = {r["finding_id"]: (r["true"], r["lookalike"]) for r in judged.iter_rows(named=True)}
    assert got == JUDGED
    # 11 true of 20; look-alike hits: F14 and F19
    assert (judged["true"].sum(), judged["lookalike"].sum()) == (11, 2)


def test_judge_counts_noise_only_for_data_quality_rules() -> None:
    findings, lines, t = judge_inputs()
    judged = ev.judge(findings, lines, t, set())  # no data-quality rules: F11 is not true
    got = dict(zip(judged["finding_id"], judged["true"], strict=True))
    assert got["F11"] is False and got["F12"] is False
    assert sum(got.values()) == 10


# recall ---------------------------------------------------------------------------------

# Scheme A (rule, fee lines at H1, carried by H1 and H3): lines H1|M1|1, H1|M1|2, H1|M2|1,
# H1|M2|2.
# Scheme B (beyond, persons P1 and P2 at H2), C (beyond, settlement S5 at H2), D (beyond,
# doctor D1 at H1), E (beyond, institution H2).
RECALL_TRUTH = dict(
    lines=[
        ("A", "H1", "P9", "S1", "M1", "1"),
        ("A", "H1", "P9", "S1", "M1", "2"),
        ("A", "H1", "P9", "S2", "M2", "1"),
        ("A", "H1", "P9", "S2", "M2", "2"),
        ("B", "H2", "P1", "S3", "M3", "1"),
        ("B", "H2", "P2", "S4", "M4", "1"),
    ],
    entities=[
        ("A", "rule", "fee_line", "H1|M1|1", "H1"),
        ("A", "rule", "fee_line", "H1|M1|2", "H1"),
        ("A", "rule", "fee_line", "H1|M2|1", "H1"),
        ("A", "rule", "fee_line", "H1|M2|2", "H1"),
        ("B", "beyond", "person", "P1", "H2"),
        ("B", "beyond", "person", "P2", "H2"),
        ("C", "beyond", "settlement", "S5", "H2"),
        ("D", "beyond", "doctor", "D1", "H1"),
        ("E", "beyond", "institution", "H2", "H2"),
    ],
    schemes=[
        ("A", "rule", "H1;H3"),
        ("B", "beyond", "H2"),
        ("C", "beyond", "H2"),
        ("D", "beyond", "H1"),
        ("E", "beyond", "H2"),
    ],
    fraud=["H1", "H2"],
)


def recall_inputs() -> tuple[pl.DataFrame, pl.DataFrame, Truth]:
    f = [
        finding("G1", "rb", "fee_line", "H1|M1|1", "H1"),
        finding("G2", "ra", "fee_line", "H1|M1|1", "H1"),
        finding("G3", "rc", "institution", "H1", "H1"),
        finding("G4", "rd", "person", "P1", "H2"),
        finding("G5", "re", "doctor", "D1", "H1"),
        finding("G6", "rf", "institution", "H2", "H2"),
    ]
    ln = [
        line("G1", "H1", "S1", "M1", "1", "P9"),
        line("G1", "H1", "S1", "M1", "1", "P9"),  # the same line twice
        line("G2", "H1", "S1", "M1", "1", "P9"),  # found again, by another rule
        line("G2", "H1", "S1", "M1", "2", "P9", role="involved"),  # involved: not found
        line("G3", "H1", "S2", "M2", "1", "P9"),  # an institution lead on A's own lines
        line("G3", "H1", "S2", "M2", "2", "P9"),
        line("G4", "H2", "S3", "M3", "1", "P1"),
        line("G5", "H1", "S8", "M8", "1", "P8"),
        line("G6", "H2", "S6", "M6", "1", "P7"),  # names H2, but on no injected line
    ]
    return _frame(f, _FINDING), _frame(ln, _LINE), truth(**RECALL_TRUTH)


# scheme: (entity_type, injected, found, rules, recall, institutions, institutions found,
# institution recall)
RECALL = {
    # H1|M1|1 (rb, ra: found twice, counted once), H1|M2|1 and H1|M2|2 (both rc, named
    # once, rules sorted); H1|M1|2 only involved: 3 / 4 = 0.75; institutions H1 (G3 on A's
    # lines) of H1, H3: 1 / 2 = 0.5
    "A": ("fee_line", 4, 3, "ra,rb,rc", 0.75, 2, 1, 0.5),
    # P1 by rd's line; P2 by none: 1 / 2; no institution lead on B's lines: 0 / 1
    "B": ("person", 2, 1, "rd", 0.5, 1, 0, 0.0),
    # nothing reaches settlement S5: 0 / 1, no rules
    "C": ("settlement", 1, 0, "", 0.0, 1, 0, 0.0),
    # the doctor lead on D1: 1 / 1
    "D": ("doctor", 1, 1, "re", 1.0, 1, 0, 0.0),
    # G6 names H2: the entity is found (1 / 1), but not on E's lines, so H2 does not count
    # for institution recall: 0 / 1
    "E": ("institution", 1, 1, "rf", 1.0, 1, 0, 0.0),
}


def test_recall_per_scheme_counts_each_entity_once_and_only_through_violating_lines() -> None:
    findings, lines, t = recall_inputs()
    rec = ev.recall(findings, lines, t)
    # sorted by family, then scheme: beyond B, C, D, E, then rule A
    assert rec["scheme"].to_list() == ["B", "C", "D", "E", "A"]
    cols = [
        "entity_type",
        "injected",
        "found",
        "rules",
        "recall",
        "institutions",
        "institutions_found",
        "institution_recall",
    ]
    got = {r["scheme"]: tuple(r[c] for c in cols) for r in rec.iter_rows(named=True)}
    assert got == RECALL


def test_institution_recall_needs_the_schemes_own_lines() -> None:
    findings, lines, t = recall_inputs()
    violating = lines.filter(pl.col("role") == "violating").join(
        findings.drop("fixmedins_code"), on="finding_id", how="left"
    )
    got = ev.institution_recall(violating, t).sort("scheme")
    # A: H1 reached by G3 of {H1, H3}; B, C, D, E: 0 of 1
    assert got.select("scheme", "institutions", "institutions_found").rows() == [
        ("A", 2, 1),
        ("B", 1, 0),
        ("C", 1, 0),
        ("D", 1, 0),
        ("E", 1, 0),
    ]
    # the lead on H2 moved onto B's injected line H2|M4|1: B's H2 is reached, 1 / 1
    moved = violating.with_columns(
        mdtrt_id=pl.when(pl.col("finding_id") == "G6").then(pl.lit("M4")).otherwise("mdtrt_id"),
        setl_id=pl.when(pl.col("finding_id") == "G6").then(pl.lit("S4")).otherwise("setl_id"),
    )
    b = ev.institution_recall(moved, t).filter(pl.col("scheme") == "B").row(0, named=True)
    assert (b["institutions_found"], b["institution_recall"]) == (1, 1.0)


# evaluate: precision per rule and overall, monitoring, recall of the rule schemes --------


class FakeRun:
    def __init__(self, findings: pl.DataFrame, lines: pl.DataFrame) -> None:
        self._f, self._l = findings, lines

    def findings(self) -> pl.DataFrame:
        return self._f

    def lines(self) -> pl.DataFrame:
        return self._l

    def catalogue(self) -> Catalogue:
        """The shipped catalogue, as a run scored with it records."""
        return load_catalogue()


DQ = "dq_diagnosis_code"  # a data-quality rule of the catalogue
ZB = "zb_drug_share"  # a monitoring indicator
ZB2 = "zb_ct_share"


def evaluate_inputs() -> tuple[FakeRun, Truth]:
    f = [
        finding("E1", "r_a", "fee_line", "H1|M1|1", "H1"),  # true: injected line
        finding("E2", "r_a", "fee_line", "H1|M1|7", "H1"),  # false
        finding("E3", "r_a", "fee_line", "H1|M2|1", "H1"),  # true: injected line
        finding("E4", "r_b", "fee_line", "H2|M3|1", "H2"),  # false, on look-alike M3
        finding("E5", "r_b", "fee_line", "H2|M6|1", "H2"),  # false
        finding("E6", DQ, "settlement", "S8", "H2"),  # true: noise S8
        finding("E7", DQ, "settlement", "S6", "H2"),  # false
        finding("E8", ZB, "institution", "H1", "H1"),  # monitoring, on injected H1|M1|2
        finding("E9", ZB, "institution", "H1", "H1"),  # monitoring again at H1
        finding("E10", ZB2, "institution", "H3", "H3"),  # monitoring at clean H3
    ]
    ln = [
        line("E1", "H1", "S1", "M1", "1"),
        line("E2", "H1", "S1", "M1", "7"),
        line("E3", "H1", "S2", "M2", "1"),
        line("E4", "H2", "S3", "M3", "1"),
        line("E5", "H2", "S6", "M6", "1"),
        line("E6", "H2", "S8", "M8", None),
        line("E7", "H2", "S6", "M6", None),
        line("E8", "H1", "S1", "M1", "2"),
        line("E9", "H1", "S5", "M5", "1"),
        line("E10", "H3", "S9", "M9", "1"),
    ]
    t = truth(
        lines=[
            ("A", "H1", "P0", "S1", "M1", "1"),
            ("A", "H1", "P0", "S1", "M1", "2"),
            ("A", "H1", "P0", "S2", "M2", "1"),
            ("A", "H1", "P0", "S2", "M2", "2"),
        ],
        entities=[
            ("A", "rule", "fee_line", "H1|M1|1", "H1"),
            ("A", "rule", "fee_line", "H1|M1|2", "H1"),
            ("A", "rule", "fee_line", "H1|M2|1", "H1"),
            ("A", "rule", "fee_line", "H1|M2|2", "H1"),
            ("B", "beyond", "person", "P5", "H2"),
        ],
        schemes=[("A", "rule", "H1"), ("B", "beyond", "H2")],
        noise=[("H2", "S8")],
        lookalikes=["M3"],
        fraud=["H1", "H2"],
    )
    return FakeRun(_frame(f, _FINDING), _frame(ln, _LINE)), t


def test_evaluate_precision_per_rule_and_overall_and_the_monitoring_counts() -> None:
    run, t = evaluate_inputs()
    result = ev.evaluate(run, t)
    # leads: E1..E5 (the data-quality findings E6, E7 are a report of their own and the
    # three ZB flags are monitoring, both judged apart); true: E1, E3: 2 / 5
    assert result["findings"] == 5
    assert result["precision"] == result["precision_fraud_rules"] == 0.4
    assert result["lookalike_hits"] == 1  # E4
    per_rule = {r["rule_id"]: r for r in result["per_rule"]}
    assert list(per_rule) == ["r_a", "r_b"]  # sorted, no monitoring or data-quality rule
    assert {
        k: (r["findings"], r["true"], r["lookalike_hits"], r["precision"])
        for k, r in per_rule.items()
    } == {
        "r_a": (3, 2, 0, 0.6667),  # E1, E3 of E1..E3: 2 / 3 = 0.66667 -> 0.6667
        "r_b": (2, 0, 1, 0.0),  # E4 the look-alike
    }
    # the data-quality findings: E6 true (noise S8), E7 not: 1 / 2; this run (scored before
    # they were kept apart) still holds both among its findings, so both are "in the queue"
    assert (result["quality_findings"], result["quality_precision"]) == (2, 0.5)
    assert result["dq_in_queue"] == 2
    # the look-alike M3: one encounter, touched by the false lead E4 of r_b
    assert result["lookalikes"] == [
        {"lookalike": "chronic_refill", "encounters": 1, "flagged": 1, "rate": 1.0, "rules": "r_b"}
    ]
    # a run without cases has no case figures
    assert result["cases"] is None and result["precision_top_200_cases"] is None
    # monitoring: three flags at two institutions (H1 twice, H3), of which H1 is fraudulent
    assert result["monitoring"] == {"flags": 3, "institutions": 2, "fraud_institutions_flagged": 1}
    # scheme A's four lines: H1|M1|1 (E1), H1|M2|1 (E3) and H1|M1|2 (the monitoring flag E8:
    # indicators count for recall); H1|M2|2 by none: 3 / 4; scheme B is not a rule scheme
    assert result["recall_rule_schemes"] == 0.75
    per_scheme = {r["scheme"]: (r["injected"], r["found"]) for r in result["per_scheme"]}
    assert per_scheme == {"A": (4, 3), "B": (1, 0)}


def test_evaluate_on_some_rules_only() -> None:
    run, t = evaluate_inputs()
    result = ev.evaluate(run, t, ["r_a"])
    # E1..E3: true E1, E3 -> 2 / 3 = 0.6667 overall and without data quality
    assert (result["findings"], result["precision"], result["precision_fraud_rules"]) == (
        3,
        0.6667,
        0.6667,
    )
    assert result["lookalike_hits"] == 0
    assert result["monitoring"] == {"flags": 0, "institutions": 0, "fraud_institutions_flagged": 0}
    assert result["recall_rule_schemes"] == 0.5  # H1|M1|1, H1|M2|1 of four


def test_evaluate_with_no_findings_says_none_rather_than_dividing_by_zero() -> None:
    run, t = evaluate_inputs()
    result = ev.evaluate(run, t, ["no_such_rule"])
    assert result["findings"] == 0 and result["per_rule"] == []
    assert result["precision"] is None and result["precision_fraud_rules"] is None
    assert result["recall_rule_schemes"] == 0.0  # A still has 4 injected, 0 found


# ranking metrics: precision at k, ROC-AUC with ties, false-alarm rates --------------------


class FakeLake:
    def __init__(self, persons: list[str]) -> None:
        self.persons = persons

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("CREATE TABLE person (psn_no VARCHAR)")
        con.executemany("INSERT INTO person VALUES (?)", [[p] for p in self.persons])
        return con


# the ranking, riskiest first; fraudulent: H01, H03, H06, H09 (4 positives, 6 negatives)
RANKING = [
    ("H01", 0.9),
    ("H02", 0.8),
    ("H03", 0.8),
    ("H04", 0.7),
    ("H05", 0.6),
    ("H06", 0.6),
    ("H07", 0.5),
    ("H08", 0.4),
    ("H09", 0.3),
    ("H10", 0.3),
]
FRAUD = ["H01", "H03", "H06", "H09"]


def ranking_inputs(
    monkeypatch: pytest.MonkeyPatch, ranking: list[tuple[str, float]], fraud: list[str]
) -> tuple[FakeRun, FakeLake, Truth]:
    import hrss_fraud.outputs.ranking as ranking_module

    frame = pl.DataFrame(
        ranking, schema={"fixmedins_code": S, "risk_score": pl.Float64}, orient="row"
    )
    monkeypatch.setattr(ranking_module, "institution_ranking", lambda run, lake: frame)
    f = [
        finding("L1", "r_p", "person", "P1", "H01"),  # guilty P1
        finding("L2", "r_p", "person", "P4", "H02"),  # clean P4
        finding("L3", "r_q", "person", "P4", "H02"),  # P4 again: one person
        finding("L4", "r_p", "person", "P9", "H02"),  # not in the lake
        finding("L5", "r_a", "fee_line", "H02|M1|1", "H02"),  # no person lead
    ]
    lf = _frame(f, _FINDING).with_columns(psn_no=pl.Series(["P1", "P4", "P4", "P9", "P5"], dtype=S))
    t = truth(
        lines=[("A", "H01", "P3", "S1", "M1", "1")],
        entities=[("B", "beyond", "person", "P1", "H01"), ("B", "beyond", "person", "P2", "H01")],
        schemes=[("A", "rule", "H01"), ("B", "beyond", "H01")],
        fraud=fraud,
    )
    # persons P1..P8: guilty P1, P2 (entities) and P3 (an injected line's person); clean P4..P8
    lake = FakeLake([f"P{i}" for i in range(1, 9)])
    return FakeRun(lf, _frame([], _LINE)), lake, t


def test_ranking_metrics_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    run, lake, t = ranking_inputs(monkeypatch, RANKING, FRAUD)
    m = ev.ranking_metrics(run, lake, t, share=0.3)
    # ROC-AUC = P(positive scores above negative), ties count 1/2, over 4 x 6 = 24 pairs:
    #   H01 0.9 beats all six                           6
    #   H03 0.8 beats 0.7 0.6 0.5 0.4 0.3, ties H02 0.8  5 + 0.5
    #   H06 0.6 beats 0.5 0.4 0.3, ties H05 0.6          3 + 0.5
    #   H09 0.3 beats none, ties H10 0.3                 0 + 0.5
    # (6 + 5.5 + 3.5 + 0.5) / 24 = 15.5 / 24 = 0.645833 -> 0.6458
    # k = round(0.3 x 10) = 3: H01 H02 H03 -> 2 fraudulent / 3 = 0.6667; the clean H02 is
    # 1 of the 6 clean institutions in the top k: 1 / 6 = 0.1667
    # persons: clean P4..P8 (5); person leads name P1 (guilty), P4 (twice), P9 (not in
    # the lake); the fee-line lead's P5 is no person lead: 1 / 5 = 0.2
    assert m == {
        "institutions": 10,
        "fraudulent_institutions": 4,
        "k": 3,
        "precision_at_k": 0.6667,
        "roc_auc": 0.6458,
        "fp_rate_clean_persons": 0.2,
        "fp_rate_clean_institutions": 0.1667,
    }


def test_ranking_metrics_default_share_keeps_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    run, lake, t = ranking_inputs(monkeypatch, RANKING, FRAUD)
    m = ev.ranking_metrics(run, lake, t)  # share 0.1 of 10 = 1: H01, fraudulent
    assert (m["k"], m["precision_at_k"], m["fp_rate_clean_institutions"]) == (1, 1.0, 0.0)
    m = ev.ranking_metrics(run, lake, t, share=0.01)  # 0.1 rounds to 0: still one
    assert (m["k"], m["precision_at_k"]) == (1, 1.0)


def test_roc_auc_of_a_perfect_a_reversed_and_an_all_tied_ranking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codes = ["H1", "H2", "H3", "H4"]
    # fraudulent H1, H2 ranked above clean H3, H4: all 4 pairs right -> 1.0
    perfect = list(zip(codes, [0.9, 0.8, 0.2, 0.1], strict=True))
    run, lake, t = ranking_inputs(monkeypatch, perfect, ["H1", "H2"])
    assert ev.ranking_metrics(run, lake, t)["roc_auc"] == 1.0
    # fraudulent H3, H4 at the bottom: all 4 pairs wrong -> 0.0 (a swapped label gives 1.0)
    run, lake, t = ranking_inputs(monkeypatch, perfect, ["H3", "H4"])
    m = ev.ranking_metrics(run, lake, t, share=0.5)
    # k = 2: H1, H2 both clean -> precision 0, and 2 of the 2 clean institutions flagged
    assert (m["roc_auc"], m["precision_at_k"], m["fp_rate_clean_institutions"]) == (0.0, 0.0, 1.0)
    # every score the same: each of the 4 pairs is a tie -> 4 x 0.5 / 4 = 0.5
    tied = [(c, 0.5) for c in codes]
    run, lake, t = ranking_inputs(monkeypatch, tied, ["H1", "H4"])
    assert ev.ranking_metrics(run, lake, t)["roc_auc"] == 0.5


@pytest.mark.parametrize("fraud", [[], ["H01", "H02", "H03"]], ids=["no-positives", "no-negatives"])
def test_roc_auc_is_none_without_both_classes(monkeypatch: pytest.MonkeyPatch, fraud) -> None:
    ranking = RANKING[:3]
    run, lake, t = ranking_inputs(monkeypatch, ranking, fraud)
    m = ev.ranking_metrics(run, lake, t)
    assert m["roc_auc"] is None
    assert m["fraudulent_institutions"] == len(fraud)
    # k = max(1, round(0.3)) = 1; no positives: precision 0, the clean H01 is 1 of 3 clean;
    # no negatives: precision 1, no clean institution (the denominator is kept at 1) -> 0
    expected = (0.0, round(1 / 3, 4)) if not fraud else (1.0, 0.0)
    assert (m["precision_at_k"], m["fp_rate_clean_institutions"]) == expected


# look-alike rates and the case list ------------------------------------------------------


def test_lookalike_rates_count_encounters_a_false_lead_touches_once_per_kind() -> None:
    # dialysis: M3, M4; maternity: M5. F1 (r_a, false) and F3 (r_c, false) both touch M3:
    # one encounter; F2 is true, so its involved line on M4 is no false alarm.
    t = replace(
        truth(lines=[], entities=[], schemes=[]),
        lookalikes=pl.DataFrame(
            {"lookalike": ["dialysis", "dialysis", "maternity"], "mdtrt_id": ["M3", "M4", "M5"]}
        ),
    )
    judged = pl.DataFrame(
        {"finding_id": ["F1", "F2", "F3"], "rule_id": ["r_a", "r_b", "r_c"]}
    ).with_columns(true=pl.Series([False, True, False]))
    ln = _frame(
        [
            line("F1", "H1", "S3", "M3", "1"),
            line("F2", "H1", "S4", "M4", "1", role="involved"),
            line("F3", "H1", "S3", "M3", None),
        ],
        _LINE,
    )
    got = ev.lookalike_rates(judged, ln, t).to_dicts()
    assert got == [
        {"lookalike": "dialysis", "encounters": 2, "flagged": 1, "rate": 0.5, "rules": "r_a,r_c"},
        {"lookalike": "maternity", "encounters": 1, "flagged": 0, "rate": 0.0, "rules": ""},
    ]


def _case_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, Truth]:
    cases = pl.DataFrame({"case_id": ["C3", "C1", "C2"], "case_rank": [3, 1, 2]})
    judged = pl.DataFrame(
        {
            "finding_id": ["F1", "F2", "F3", "F4", "F5", "F6"],
            "case_id": ["C1", "C1", "C2", "C2", "C3", "C3"],
            "true": [True, False, True, False, False, True],
            "amount_at_risk": [100.0, 50.0, 40.0, 60.0, 0.0, 0.0],
        }
    )
    ln = _frame(
        [
            line("F1", "H1", "S1", "M1", "1"),
            line("F3", "H1", "S2", "M2", "1"),
            line("F3", "H1", "S9", "M9", "1", role="involved"),  # shown, not violating
        ],
        _LINE,
    )
    t = replace(
        truth(lines=[], entities=[], schemes=[]),
        lines=pl.DataFrame(
            {
                "scheme": ["A", "A", "A"],
                "fixmedins_code": ["H1", "H1", "H1"],
                "psn_no": ["P0", "P0", "P0"],
                "setl_id": ["S1", "S2", "S9"],
                "mdtrt_id": ["M1", "M2", "M9"],
                "feedetl_sn": ["1", "1", "1"],
                "amount_at_risk": [100.0, 40.0, 60.0],
            }
        ),
    )
    return cases, judged, ln, t


def test_case_metrics_judge_each_case_by_where_its_amount_lies() -> None:
    cases, judged, ln, t = _case_inputs()
    got = ev.case_metrics(cases, judged, ln, t, tops=(1, 3))
    # C1 (rank 1): 100 of 150 on true findings >= half: true. C2: 40 of 100: false.
    # C3: no amount, one of its two findings true (>= half by count): true.
    assert got["cases"] == 3
    assert got["precision_top_1_cases"] == 1.0
    assert got["precision_top_3_cases"] == round(2 / 3, 4) == 0.6667
    # injected 100 + 40 + 60 = 200; violating lines of C1..C3 cover 100 and 40 (the M9
    # line is only involved): 0.7
    assert got["injected_share_top_3_cases"] == 0.7


def test_case_metrics_cover_only_the_top_cases() -> None:
    cases, judged, ln, t = _case_inputs()
    got = ev.case_metrics(cases, judged, ln, t, tops=(1,))
    assert got["precision_top_1_cases"] == 1.0
    assert got["injected_share_top_1_cases"] == 0.5  # C1's 100 of 200


# edge cases: nothing found, a scheme with nothing injected, duplicates, k past the list --


def _nothing() -> tuple[pl.DataFrame, pl.DataFrame]:
    """A run with no findings and no lines (schema only, as an empty parquet reads)."""
    return _frame([], _FINDING), _frame([], _LINE)


def test_a_run_with_nothing_found_has_zero_recall_and_no_precision() -> None:
    # scheme A: two injected lines at H1; look-alike visit M3
    t = truth(
        lines=[("A", "H1", "P1", "S1", "M1", "1"), ("A", "H1", "P1", "S1", "M1", "2")],
        entities=[
            ("A", "rule", "fee_line", "H1|M1|1", "H1"),
            ("A", "rule", "fee_line", "H1|M1|2", "H1"),
        ],
        schemes=[("A", "rule", "H1")],
        lookalikes=["M3"],
    )
    findings, lines = _nothing()
    judged = ev.judge(findings, lines, t, {"dq_x"})
    assert judged.height == 0 and {"true", "lookalike"} <= set(judged.columns)
    # A: 2 injected, 0 found, no rules: 0 / 2 = 0.0 (not NaN, not dropped); its one
    # carrier H1 not reached: 0 / 1
    rec = ev.recall(findings, lines, t)
    assert rec.select(
        "scheme", "injected", "found", "rules", "recall", "institutions", "institutions_found"
    ).rows() == [("A", 2, 0, "", 0.0, 1, 0)]
    # M3: one encounter, no lead touches it
    assert ev.lookalike_rates(judged, lines, t).rows() == [("chronic_refill", 1, 0, 0.0, "")]
    result = ev.evaluate(FakeRun(findings, lines), t)
    assert (result["findings"], result["precision"], result["lookalike_hits"]) == (0, None, 0)
    assert (result["quality_findings"], result["quality_precision"]) == (0, None)
    assert result["recall_rule_scheme_min"] == result["recall_rule_schemes"] == 0.0


# Scheme A (rule, H1): lines H1|M1|1, H1|M1|2, its first entity listed twice in the truth.
# Scheme C (rule, H2): line H2|M4|1. Scheme Z (rule, H2): in the scheme table, but the
# generator found nowhere to inject it: no entity, no line. Scheme N (beyond): person P5,
# no carrier institution recorded.
EDGE_TRUTH = dict(
    lines=[
        ("A", "H1", "P1", "S1", "M1", "1"),
        ("A", "H1", "P1", "S1", "M1", "2"),
        ("C", "H2", "P2", "S4", "M4", "1"),
    ],
    entities=[
        ("A", "rule", "fee_line", "H1|M1|1", "H1"),
        ("A", "rule", "fee_line", "H1|M1|1", "H1"),  # the same entity twice
        ("A", "rule", "fee_line", "H1|M1|2", "H1"),
        ("C", "rule", "fee_line", "H2|M4|1", "H2"),
        ("N", "beyond", "person", "P5", "H3"),
    ],
    schemes=[("A", "rule", "H1"), ("C", "rule", "H2"), ("Z", "rule", "H2"), ("N", "beyond", "")],
    lookalikes=["M3", "M3"],  # one encounter listed twice
    fraud=["H1", "H2"],
)


def edge_inputs() -> tuple[FakeRun, Truth]:
    f = [
        finding("K1", "r_a", "fee_line", "H1|M1|1", "H1"),
        finding("K2", "r_b", "fee_line", "H2|M4|1", "H2"),
        finding("K3", "r_b", "fee_line", "H2|M3|1", "H2"),
    ]
    ln = [
        line("K1", "H1", "S1", "M1", "1", "P1"),
        line("K2", "H2", "S4", "M4", "1", "P2"),
        line("K3", "H2", "S3", "M3", "1", "P3"),  # clean, on look-alike M3
    ]
    return FakeRun(_frame(f, _FINDING), _frame(ln, _LINE)), truth(**EDGE_TRUTH)


def test_recall_skips_a_scheme_with_nothing_injected_and_counts_a_duplicate_entity_once() -> None:
    run, t = edge_inputs()
    rec = ev.recall(run.findings(), run.lines(), t)
    got = {
        r["scheme"]: (r["injected"], r["found"], r["recall"], r["institutions"])
        for r in rec.iter_rows(named=True)
    }
    # A: H1|M1|1 (listed twice: one entity) and H1|M1|2; K1 finds the first: 1 / 2 = 0.5
    #    (counting the duplicate: 2 / 3 or 1 / 3). C: H2|M4|1 by K2: 1 / 1.
    # N: P5 found by no lead: 0 / 1, and with no carrier its institution count is unknown
    #    (None), not a 0 / 0.
    # Z: nothing injected, so nothing to find: no row (not recall 0, not NaN, not 1).
    assert got == {"A": (2, 1, 0.5, 1), "C": (1, 1, 1.0, 1), "N": (1, 0, 0.0, None)}
    assert not rec["recall"].is_nan().any()


def test_the_weakest_rule_scheme_ignores_an_empty_scheme_and_the_other_families() -> None:
    run, t = edge_inputs()
    result = ev.evaluate(run, t)
    # rule schemes A 0.5 and C 1.0: the weakest is 0.5 (not Z's NaN or 0, not N's 0.0,
    # beyond the rules); found over injected across them: (1 + 1) / (2 + 1) = 0.6667
    assert result["recall_rule_scheme_min"] == 0.5
    assert result["recall_rule_schemes"] == 0.6667
    # leads K1, K2 true, K3 false on the look-alike: 2 / 3; M3 listed twice is one encounter
    assert (result["findings"], result["precision"], result["lookalike_hits"]) == (3, 0.6667, 1)
    assert result["lookalikes"] == [
        {"lookalike": "chronic_refill", "encounters": 1, "flagged": 1, "rate": 1.0, "rules": "r_b"}
    ]


def test_precision_at_k_past_the_end_of_the_ranking_is_over_the_whole_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run, lake, t = ranking_inputs(monkeypatch, RANKING, FRAUD)
    # share 1: k = 10, the whole list: 4 fraudulent / 10 = 0.4; all 6 clean institutions
    # are in it: 6 / 6 = 1.0
    m = ev.ranking_metrics(run, lake, t, share=1.0)
    assert (m["k"], m["precision_at_k"], m["fp_rate_clean_institutions"]) == (10, 0.4, 1.0)
    # share 3: k = 30 asks for more institutions than there are; the precision is still
    # over the 10 there are (4 / 10), not diluted by the 20 missing (4 / 30 = 0.1333)
    m = ev.ranking_metrics(run, lake, t, share=3.0)
    assert (m["precision_at_k"], m["fp_rate_clean_institutions"]) == (0.4, 1.0)
    assert m["roc_auc"] == 0.6458  # the ranking's own, whatever k


def test_case_metrics_past_the_list_with_refunds_empty_cases_and_stray_findings() -> None:
    _, _, _, t = _case_inputs()  # injected H1|M1|1 100, H1|M2|1 40, H1|M9|1 60: 200
    cases = pl.DataFrame({"case_id": ["C4", "C2", "C1"], "case_rank": [3, 2, 1]})
    judged = pl.DataFrame(
        {
            "finding_id": ["F1", "F2", "F3", "F4", "F5", "F6", "F9"],
            "case_id": ["C1", "C1", "C2", "C2", "C2", "C2", None],
            "true": [True, False, True, False, False, False, True],
            "amount_at_risk": [100.0, -500.0, 40.0, None, -500.0, 30.0, 60.0],
        }
    )
    ln = _frame(
        [
            line("F1", "H1", "S1", "M1", "1"),
            line("F6", "H1", "S1", "M1", "1"),  # the same injected line again
            line("F3", "H1", "S2", "M2", "1"),
            line("F9", "H1", "S9", "M9", "1"),  # a finding in no case
        ],
        _LINE,
    )
    got = ev.case_metrics(cases, judged, ln, t, tops=(2, 5))
    # amounts clipped at 0 (a refund is no amount at risk) and missing ones 0:
    # C1 (rank 1): 100 of 100 + 0 true: true. C2: 40 of 40 + 0 + 0 + 30 = 70 >= 35: true
    # (unclipped, -430 <= 0 would fall back to counting: 1 of 4 < 2, false). C4 (rank 3)
    # has no finding: false.
    assert got["cases"] == 3
    assert got["precision_top_2_cases"] == 1.0
    # 5 > 3 cases: over the 3 there are, 2 / 3 (not 2 / 5 = 0.4)
    assert got["precision_top_5_cases"] == 0.6667
    # covered: H1|M1|1 (F1 and F6, once) 100 + H1|M2|1 40; F9's M9 is in no case:
    # 140 / 200 = 0.7 (counting M1 twice 0.9, counting F9 1.0)
    assert got["injected_share_top_5_cases"] == 0.7


def test_case_metrics_without_cases_say_none() -> None:
    cases, judged, ln, t = _case_inputs()
    keys = ["precision_top_1_cases", "injected_share_top_1_cases"]
    none = ev.case_metrics(None, judged, ln, t, tops=(1,))
    assert none == {"cases": None, **dict.fromkeys(keys)}
    empty = ev.case_metrics(cases.clear(), judged, ln, t, tops=(1,))
    assert empty == {"cases": 0, **dict.fromkeys(keys)}
    # leads never grouped (no case_id): the case list cannot be judged
    ungrouped = ev.case_metrics(cases, judged.drop("case_id"), ln, t, tops=(1,))
    assert ungrouped == {"cases": 3, **dict.fromkeys(keys)}


class CaseRun(FakeRun):
    """A run that keeps its data-quality findings apart and has a case list."""

    def __init__(self, findings, lines, quality, quality_lines, cases) -> None:
        super().__init__(findings, lines)
        self._q, self._ql, self._c = quality, quality_lines, cases

    def quality_findings(self) -> pl.DataFrame:
        return self._q

    def quality_lines(self) -> pl.DataFrame:
        return self._ql

    def cases(self) -> pl.DataFrame:
        if self._c is None:
            raise FileNotFoundError("cases.parquet")
        return self._c


def case_run(cases: pl.DataFrame | None) -> tuple[CaseRun, Truth]:
    amount = {"L1": 100.0, "L2": 300.0, "L3": 50.0, "L4": 10.0}
    case_of = {"L1": "C1", "L2": "C1", "L3": "C2", "L4": "C3"}
    f = _frame(
        [
            finding("L1", "r_a", "fee_line", "H1|M1|1", "H1"),  # true: injected line
            finding("L2", "r_a", "fee_line", "H1|M1|7", "H1"),  # false
            finding("L3", ZB, "institution", "H1", "H1"),  # monitoring at fraudulent H1
            finding("L4", "r_b", "fee_line", "H2|M6|1", "H2"),  # false
        ],
        _FINDING,
    ).with_columns(
        amount_at_risk=pl.col("finding_id").replace_strict(amount),
        case_id=pl.col("finding_id").replace_strict(case_of),
    )
    ln = _frame(
        [
            line("L1", "H1", "S1", "M1", "1"),
            line("L2", "H1", "S1", "M1", "7"),
            line("L3", "H1", "S5", "M5", "1"),
            line("L4", "H2", "S6", "M6", "1"),
        ],
        _LINE,
    )
    q = _frame(
        [
            finding("Q1", DQ, "settlement", "S8", "H2"),  # true: noise S8
            finding("Q2", DQ, "settlement", "S6", "H2"),  # false
            finding("Q3", DQ, "settlement", "S8", "H2"),  # true: noise S8 again
        ],
        _FINDING,
    )
    ql = _frame(
        [
            line("Q1", "H2", "S8", "M8", None),
            line("Q2", "H2", "S6", "M6", None),
            line("Q3", "H2", "S8", "M8", None),
        ],
        _LINE,
    )
    t = truth(
        lines=[("A", "H1", "P0", "S1", "M1", "1"), ("A", "H1", "P0", "S1", "M1", "2")],
        entities=[
            ("A", "rule", "fee_line", "H1|M1|1", "H1"),
            ("A", "rule", "fee_line", "H1|M1|2", "H1"),
        ],
        schemes=[("A", "rule", "H1")],
        noise=[("H2", "S8")],
        fraud=["H1"],
    )
    t = replace(t, lines=t.lines.with_columns(amount_at_risk=pl.Series([100.0, 50.0])))
    return CaseRun(f, ln, q, ql, cases), t


def test_evaluate_judges_the_case_list_with_the_monitoring_flags_and_quality_apart() -> None:
    cases = pl.DataFrame({"case_id": ["C1", "C2", "C3"], "case_rank": [1, 2, 3]})
    run, t = case_run(cases)
    result = ev.evaluate(run, t)
    # leads L1, L2, L4 (L3 is a monitoring flag): L1 true: 1 / 3
    assert (result["findings"], result["precision"]) == (3, 0.3333)
    assert result["monitoring"] == {"flags": 1, "institutions": 1, "fraud_institutions_flagged": 1}
    # the data-quality report the run keeps apart: Q1, Q3 on noise S8, Q2 not: 2 / 3;
    # none of them among the findings
    assert (result["quality_findings"], result["quality_precision"], result["dq_in_queue"]) == (
        3,
        0.6667,
        0,
    )
    # C1: 100 true of 400 < 200: false. C2: the monitoring flag names fraudulent H1, so it
    # is true: 50 of 50. C3: 0 of 10: false. 3 cases, all within the top 50: 1 / 3
    assert result["cases"] == 3
    assert result["precision_top_50_cases"] == result["precision_top_200_cases"] == 0.3333
    # injected 100 + 50; the cases' violating lines cover H1|M1|1 only: 100 / 150
    assert result["injected_share_top_200_cases"] == 0.6667


def test_evaluate_on_a_run_scored_before_cases_existed() -> None:
    run, t = case_run(None)  # cases() raises FileNotFoundError
    result = ev.evaluate(run, t)
    assert result["cases"] is None and result["precision_top_50_cases"] is None
    assert result["findings"] == 3
