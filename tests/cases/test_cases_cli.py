"""``hrss-fraud cases``: decide, import, list, train-model, on the scored tiny county."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts

from hrss_fraud.cases import open_store, store_path
from hrss_fraud.cli.cases import cases
from hrss_fraud.engine.runs import open_run

REVIEWERS = {"li": "reviewer", "wang": "supervisor", "李明": "reviewer", "zhao": "supervisor"}


def _cli(ws: Path, *args: str) -> Result:
    return CliRunner().invoke(cases, list(args), obj={"workspace": ws})


@pytest.fixture
def leads(run_ws: Path) -> pl.DataFrame:
    add_accounts(run_ws, REVIEWERS)
    return open_run(run_ws).findings().sort("finding_id").head(6)


def test_help_is_in_chinese_and_english(run_ws: Path) -> None:
    out = _cli(run_ws, "--help").output
    assert "案件库" in out and "Review decisions" in out
    decide_help = _cli(run_ws, "decide", "--help").output
    assert "first_review 初审" in decide_help and "confirmed 确认违规" in decide_help


def test_decide_records_the_lead_as_the_reviewer_saw_it(run_ws: Path, leads: pl.DataFrame) -> None:
    lead = leads.row(0, named=True)
    r = _cli(
        run_ws,
        *("decide", lead["finding_id"], "--step", "first_review", "--decision", "confirmed"),
        *("--reason", "处方与病历不符", "--by", "li"),
    )
    assert r.exit_code == 0, r.output
    with open_store(run_ws) as store:
        row = store.current_decisions().row(0, named=True)
        assert store.audit_log(lead["finding_id"]).height == 1
    assert row["finding_id"] == lead["finding_id"] and row["decided_by"] == "li"
    for c in ("rule_id", "fixmedins_code", "entity_type", "amount_at_risk", "run_id"):
        assert row[c] == lead[c], c


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--finding", "NO-SUCH-LEAD"), "not a finding of run"),
        (("--reason", "  "), "reason is empty"),
        (("--step", "终审"), "step '终审' is not one of"),
    ],
)
def test_a_bad_decide_exits_1_with_one_line_and_writes_nothing(
    run_ws: Path, leads: pl.DataFrame, args: tuple[str, str], message: str
) -> None:
    given = dict(zip(args[::2], args[1::2], strict=True))
    finding = given.pop("--finding", leads["finding_id"][0])
    opts = {"--step": "first_review", "--decision": "dismissed", "--reason": "ok", "--by": "li"}
    opts |= given
    r = _cli(run_ws, "decide", finding, *(x for kv in opts.items() for x in kv))
    assert r.exit_code == 1
    assert message in r.output and len(r.output.strip().splitlines()) == 1
    if store_path(run_ws).exists():
        with open_store(run_ws) as store:
            assert store.history().is_empty()


def test_decide_without_a_run_explains(tmp_path: Path) -> None:
    r = _cli(tmp_path, *("decide", "F1", "--step", "初审", "--decision", "待定"), "--reason", "x")
    assert r.exit_code == 2  # --by is missing: click's usage error
    r = _cli(
        tmp_path,
        "decide",
        "F1",
        "--step",
        "初审",
        "--decision",
        "待定",
        "--reason",
        "x",
        "--by",
        "li",
    )
    assert r.exit_code == 1 and "hrss-fraud score" in r.output


def test_import_csv_with_chinese_headers_and_a_default_step(
    run_ws: Path, leads: pl.DataFrame, tmp_path: Path
) -> None:
    ids = leads["finding_id"].to_list()
    f = tmp_path / "decisions.csv"
    pl.DataFrame(
        {
            "疑点编号": ids[:4],
            "审核结论": ["confirmed", "排除疑点", "pending", "confirmed"],
            "理由": ["超限价", "合理用药", "待补病历", "重复收费"],
            "审核人": ["wang"] * 4,
        }
    ).write_csv(f)
    r = _cli(run_ws, "import", str(f), "--step", "second_review")
    assert r.exit_code == 0, r.output
    assert "4 decisions recorded" in r.output
    with open_store(run_ws) as store:
        current = store.current_decisions()
        audit = store.audit_log()
    assert current.height == 4 and set(current["step"]) == {"second_review"}
    assert current.filter(pl.col("finding_id") == ids[1])["decision"].item() == "dismissed"
    assert current["rule_id"].null_count() == 0  # snapshots from the run
    batch = audit.filter(pl.col("action") == "decision.import")
    assert batch.height == 1 and batch["actor"].item() == "wang"


def test_import_parquet_keeps_history(run_ws: Path, leads: pl.DataFrame, tmp_path: Path) -> None:
    fid = leads["finding_id"][0]
    rows = {
        "finding_id": [fid],
        "step": ["first_review"],
        "decision": ["confirmed"],
        "reason": ["查实"],
        "by": ["li"],
    }
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pl.DataFrame(rows).write_parquet(first)
    appeal = {"step": ["appeal"], "decision": ["dismissed"], "by": ["wang"]}  # a supervisor's
    pl.DataFrame(rows | appeal).write_parquet(second)
    assert _cli(run_ws, "import", str(first)).exit_code == 0
    assert _cli(run_ws, "import", str(second)).exit_code == 0
    r = _cli(run_ws, "list", "--history", fid)
    assert r.exit_code == 0 and "初审" in r.output and "申诉" in r.output
    with open_store(run_ws) as store:
        assert store.current_decisions()["decision"].to_list() == ["dismissed"]
        assert store.history(fid).height == 2


def test_import_refuses_the_whole_file_for_one_bad_row(
    run_ws: Path, leads: pl.DataFrame, tmp_path: Path
) -> None:
    ids = leads["finding_id"].to_list()
    f = tmp_path / "bad.csv"
    f.write_text(
        "finding_id,step,decision,reason,by\n"
        f"{ids[0]},first_review,confirmed,ok,li\n"
        f"{ids[1]},first_review,maybe,ok,li\n",
        encoding="utf-8",
    )
    r = _cli(run_ws, "import", str(f))
    assert r.exit_code == 1
    assert (
        "line 3" in r.output and "decision 'maybe'" in r.output and "nothing recorded" in r.output
    )
    if store_path(run_ws).exists():
        with open_store(run_ws) as store:
            assert store.history().is_empty()


def test_import_names_missing_columns_and_unknown_leads(
    run_ws: Path, leads: pl.DataFrame, tmp_path: Path
) -> None:
    f = tmp_path / "few.csv"
    f.write_text(f"finding_id,decision,reason\n{leads['finding_id'][0]},confirmed,ok\n")
    r = _cli(run_ws, "import", str(f))
    assert r.exit_code == 1 and "missing column(s) step, by" in r.output
    g = tmp_path / "unknown.csv"
    g.write_text("finding_id,decision,reason\nNOPE,confirmed,ok\n")
    r = _cli(run_ws, "import", str(g), "--step", "first_review", "--by", "li")
    assert r.exit_code == 1 and "NOPE" in r.output


def test_import_reads_a_gbk_export(run_ws: Path, leads: pl.DataFrame, tmp_path: Path) -> None:
    f = tmp_path / "gbk.csv"
    row = f"{leads['finding_id'][0]},初审,确认违规,超量开药,李明"
    text = f"疑点编号,审核环节,审核结论,理由,审核人\n{row}\n"
    f.write_bytes(text.encode("gbk"))
    r = _cli(run_ws, "import", str(f))
    assert r.exit_code == 0, r.output
    with open_store(run_ws) as store:
        row = store.current_decisions().row(0, named=True)
    assert (row["decision"], row["reason"], row["decided_by"]) == ("confirmed", "超量开药", "李明")


def test_list_filters_and_exports(run_ws: Path, leads: pl.DataFrame, tmp_path: Path) -> None:
    ids = leads["finding_id"].to_list()
    for fid, d in zip(ids[:3], ["confirmed", "dismissed", "confirmed"], strict=True):
        base = ("decide", fid, "--step", "first_review", "--decision", d)
        assert _cli(run_ws, *base, "--reason", "r", "--by", "li").exit_code == 0
    r = _cli(run_ws, "list", "--decision", "确认违规")
    assert r.exit_code == 0
    assert ids[0] in r.output and ids[2] in r.output and ids[1] not in r.output
    out = tmp_path / "d.csv"
    assert _cli(run_ws, "list", "--out", str(out)).exit_code == 0
    assert pl.read_csv(out)["finding_id"].sort().to_list() == sorted(ids[:3])
    assert _cli(run_ws, "list", "--decision", "maybe").exit_code == 1


def test_train_model_below_the_minimum_says_why(run_ws: Path, leads: pl.DataFrame) -> None:
    for fid in leads["finding_id"][:3]:
        base = ("decide", fid, "--step", "first_review", "--decision", "confirmed")
        assert _cli(run_ws, *base, "--reason", "r", "--by", "li").exit_code == 0
    r = _cli(run_ws, "train-model")
    assert r.exit_code == 0, r.output
    assert "审核学习未启用" in r.output and "已有3条" in r.output and "至少200条" in r.output
    r = _cli(run_ws, "train-model", "--lang", "en", "--min-labels", "2", "--min-per-class", "1")
    assert "it needs at least 2, with at least 1 of each" in r.output  # no dismissed lead yet
    assert not (run_ws / "models" / "review_weights.json").exists()


def _decide(ws: Path, finding: str, step: str, by: str) -> Result:
    args = ("decide", finding, "--step", step, "--decision", "confirmed", "--reason", "查实")
    return _cli(ws, *args, "--by", by)


def test_decide_records_the_account_as_stored_whatever_the_case(
    run_ws: Path, leads: pl.DataFrame
) -> None:
    r = _decide(run_ws, leads["finding_id"][0], "first_review", "LI")
    assert r.exit_code == 0, r.output
    with open_store(run_ws) as store:
        assert store.history()["decided_by"].to_list() == ["li"]
        assert store.audit_log()["actor"].to_list() == ["li"]


@pytest.mark.parametrize(
    ("step", "by", "message"),
    [
        ("first_review", "nobody", "--by 'nobody': no such account"),
        ("second_review", "li", "li (reviewer 审核员) may not decide second review"),
        ("first_review", "gone", "the account gone is disabled"),
        ("first_review", "auditor1", "may not decide first review"),
    ],
)
def test_decide_refuses_an_operator_who_may_not_decide(
    run_ws: Path, leads: pl.DataFrame, step: str, by: str, message: str
) -> None:
    add_accounts(run_ws, {"gone": "reviewer", "auditor1": "auditor"})
    with open_store(run_ws) as store, store.transaction() as con:
        con.execute("UPDATE users SET active = 0 WHERE username = 'gone'")
    r = _decide(run_ws, leads["finding_id"][0], step, by)
    assert r.exit_code == 1 and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1
    with open_store(run_ws) as store:
        assert store.history().is_empty()


def test_the_second_review_needs_someone_else_in_any_case(
    run_ws: Path, leads: pl.DataFrame
) -> None:
    fid = leads["finding_id"][0]
    assert _decide(run_ws, fid, "first_review", "zhao").exit_code == 0
    r = _decide(run_ws, fid, "second_review", "ZHAO")
    assert r.exit_code == 1 and "复审须由他人进行" in r.output
    assert _decide(run_ws, fid, "second_review", "wang").exit_code == 0


def test_import_names_the_lines_of_reviewers_who_may_not_decide(
    run_ws: Path, leads: pl.DataFrame, tmp_path: Path
) -> None:
    ids = leads["finding_id"].to_list()
    f = tmp_path / "who.csv"
    f.write_text(
        "finding_id,step,decision,reason,by\n"
        f"{ids[0]},first_review,confirmed,ok,li\n"
        f"{ids[1]},first_review,confirmed,ok,ghost\n"
        f"{ids[2]},second_review,confirmed,ok,li\n",
        encoding="utf-8",
    )
    r = _cli(run_ws, "import", str(f))
    assert r.exit_code == 1
    assert "line 3: by 'ghost': no such account" in r.output
    assert "line 4: by 'li': li (reviewer 审核员) may not decide second review" in r.output
    with open_store(run_ws) as store:
        assert store.history().is_empty()


def test_import_refuses_a_first_and_second_review_by_one_person(
    run_ws: Path, leads: pl.DataFrame, tmp_path: Path
) -> None:
    fid = leads["finding_id"][0]
    f = tmp_path / "both.csv"
    f.write_text(
        "finding_id,step,decision,reason,by\n"
        f"{fid},first_review,confirmed,ok,wang\n"
        f"{fid},second_review,confirmed,ok,Wang\n",
        encoding="utf-8",
    )
    r = _cli(run_ws, "import", str(f))
    assert r.exit_code == 1 and "复审须由他人进行" in r.output


def test_import_checks_the_actor_and_records_the_stored_names(
    run_ws: Path, leads: pl.DataFrame, tmp_path: Path
) -> None:
    f = tmp_path / "ok.csv"
    f.write_text(
        f"finding_id,step,decision,reason,by\n{leads['finding_id'][0]},初审,确认违规,ok,LI\n",
        encoding="utf-8",
    )
    r = _cli(run_ws, "import", str(f), "--actor", "intruder")
    assert r.exit_code == 1 and "--actor 'intruder': no such account" in r.output
    r = _cli(run_ws, "import", str(f), "--actor", "WANG")
    assert r.exit_code == 0, r.output
    with open_store(run_ws) as store:
        assert store.history()["decided_by"].to_list() == ["li"]
        batch = store.audit_log().filter(pl.col("action") == "decision.import")
        assert batch["actor"].to_list() == ["wang"]
