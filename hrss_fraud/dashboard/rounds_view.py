"""The rounds page's logic (检查轮次): the rounds with their status and counts, one round's
targets, planning a round from a form, reproducing a draw, and a group's Excel list.

Plain functions of a case store and the logged-in user, so the page's callbacks stay a
line or two and tests need no browser. Anyone who may view leads sees the rounds and
reproduces a draw; planning and downloading the lists needs ``manage_inspections``
(审核负责人). The work itself is :mod:`hrss_fraud.inspection`'s.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from hrss_fraud.cases.audit import record
from hrss_fraud.complaints.register import round_targets
from hrss_fraud.dashboard.complaints_view import _allow as allow
from hrss_fraud.inspection.exports import _safe, export_round
from hrss_fraud.inspection.rounds import (
    SOURCES,
    STATUS_MOVES,
    Round,
    RoundError,
    load_round,
    plan_round,
    reproduce,
    rounds,
    set_status,
)

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User

VIEW = "view_leads"
MANAGE = "manage_inspections"
STATUSES: dict[str, tuple[str, str]] = {
    "planned": ("已计划", "planned"),
    "in_progress": ("检查中", "in progress"),
    "closed": ("已结束", "closed"),
    "cancelled": ("已取消", "cancelled"),
}
LIST_COLUMNS = (
    "round_id",
    "name",
    "status_label",
    "n_targets",
    "n_risk",
    "n_complaint",
    "n_random",
    "created_by",
    "created_at",
)
TARGET_COLUMNS = (
    "fixmedins_code",
    "fixmedins_name",
    "zone_name",
    "group_code",
    "source_label",
    "risk_rank",
    "amount_at_risk",
    "reasons_shown",
)
LABELS: dict[str, tuple[str, str]] = {
    "round_id": ("编号", "id"),
    "name": ("轮次名称", "round"),
    "status_label": ("状态", "status"),
    "n_targets": ("检查对象", "targets"),
    "n_risk": ("重点检查", "risk"),
    "n_complaint": ("投诉举报", "complaints"),
    "n_random": ("随机抽查", "random"),
    "created_by": ("抽取人", "drawn by"),
    "created_at": ("抽取时间", "drawn at"),
    "fixmedins_code": ("机构编号", "institution"),
    "fixmedins_name": ("机构名称", "name"),
    "zone_name": ("区域", "zone"),
    "group_code": ("检查组", "group"),
    "source_label": ("确定方式", "chosen by"),
    "risk_rank": ("风险排名", "risk rank"),
    "amount_at_risk": ("疑点金额", "amount at risk"),
    "reasons_shown": ("理由", "reasons"),
}


def round_rows(store: CaseStore, user: User | None, *, lang: str = "zh") -> pl.DataFrame:
    """Every round, newest first, with its status in ``lang`` and targets per kind."""
    allow(user, VIEW, "查看检查轮次", "view inspection rounds")
    i = 1 if lang == "en" else 0
    kinds = {
        rid: json.loads(k) for rid, k in store.query("SELECT round_id, kinds FROM inspection_round")
    }
    df = rounds(store)
    return df.with_columns(
        status_label=pl.col("status").replace_strict(
            {k: v[i] for k, v in STATUSES.items()}, default=pl.col("status")
        ),
        **{
            f"n_{s}": pl.col("round_id").replace_strict(
                {rid: int(k.get(s, 0)) for rid, k in kinds.items()},
                default=0,
                return_dtype=pl.Int64,
            )
            for s in SOURCES
        },
    )


def targets(store: CaseStore, user: User | None, round_id: int, *, lang: str = "zh") -> Round:
    """One round; its targets gain ``source_label`` (with the complaint reference) and
    ``reasons_shown`` in ``lang``."""
    allow(user, VIEW, "查看检查轮次", "view inspection rounds")
    rnd = load_round(store, int(round_id))
    i = 1 if lang == "en" else 0
    label = pl.col("source").replace_strict({k: v[i] for k, v in SOURCES.items()})
    shown = rnd.targets.with_columns(
        source_label=pl.when(pl.col("source_ref").fill_null("") != "")
        .then(pl.concat_str(label, pl.lit(" "), pl.col("source_ref")))
        .otherwise(label),
        reasons_shown=pl.col("reasons_en" if lang == "en" else "reasons"),
    )
    return Round(**{**rnd.__dict__, "targets": shown})


def complaint_targets(store: CaseStore) -> list[tuple[str, str]]:
    """Institutions named by open complaints as ``(code, "2025-0001, …")``; none when the
    complaint register is absent."""
    return round_targets(store)


def _count(text: str | int | None, what: str) -> int:
    try:
        n = int(str(text if text is not None else "").strip())
    except ValueError:
        msg = f"{what} 应为整数 (must be a whole number, not {text!r})"
        raise RoundError(msg) from None
    if n < 0:
        msg = f"{what} 不能为负数 (must not be negative)"
        raise RoundError(msg)
    return n


def plan_from_form(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    *,
    name: str | None,
    top: str | int | None,
    n_random: str | int | None,
    seed: str | int | None = None,
    with_complaints: bool = True,
) -> Round:
    """Draw and record a round from the form's fields as the logged-in user; the
    complaint register's open institutions join it when ``with_complaints``."""
    user = allow(user, MANAGE, "抽取检查轮次", "plan inspection rounds")
    seed_text = str(seed).strip() if seed is not None else ""
    return plan_round(
        store,
        workspace,
        name=name or "",
        top=_count(top, "重点检查家数 top"),
        n_random=_count(n_random, "随机抽查家数 random"),
        seed=_count(seed_text, "随机种子 seed") if seed_text else None,
        complaints=complaint_targets(store) if with_complaints else (),
        by=user.username,
    )


def status_options(status: str, lang: str = "zh") -> list[dict[str, str]]:
    """The statuses a round in ``status`` may move to, labelled in ``lang``."""
    i = 1 if lang == "en" else 0
    return [{"label": STATUSES[s][i], "value": s} for s in STATUS_MOVES.get(status, ())]


def status_from_page(
    store: CaseStore, user: User | None, round_id: int, status: str | None, reason: str | None
) -> str:
    """Move the round on (or cancel it) with the reason given; return the new status."""
    user = allow(user, MANAGE, "变更检查轮次状态", "change a round's status")
    if not status:
        msg = "选择新状态 (choose the new status)"
        raise RoundError(msg)
    set_status(store, int(round_id), status, by=user.username, reason=reason or "")
    return status


@dataclass(frozen=True)
class Check:
    """What reproducing a draw found, as the page says it."""

    ok: bool
    text: str


def reproduce_text(
    store: CaseStore, user: User | None, round_id: int, *, lang: str = "zh"
) -> Check:
    """Recompute the round's draw from its stored seed and inputs and say whether it
    matches what was recorded, naming every difference."""
    allow(user, VIEW, "核验检查轮次", "verify inspection rounds")
    r = reproduce(store, int(round_id))
    if r.ok:
        zh = (
            f"轮次 {r.round_id} 可复现：种子 {r.seed}，"
            f"输入 SHA-256 {r.inputs_sha256[:16]}…，结果一致"
        )
        en = (
            f"Round {r.round_id} reproduces: seed {r.seed}, inputs SHA-256 "
            f"{r.inputs_sha256[:16]}…, same result"
        )
    else:
        zh = f"轮次 {r.round_id} 无法复现：" + "；".join(r.problems)
        en = f"Round {r.round_id} does not reproduce: " + "; ".join(r.problems)
    return Check(r.ok, en if lang == "en" else zh)


def groups(store: CaseStore, round_id: int) -> list[str]:
    """The groups a round's targets went to, sorted."""
    return [
        g
        for (g,) in store.query(
            "SELECT DISTINCT group_code FROM round_target WHERE round_id = ? ORDER BY 1",
            (int(round_id),),
        )
    ]


def group_workbook(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    round_id: int,
    group: str,
    *,
    lang: str = "zh",
) -> tuple[str, bytes]:
    """The Excel list of one group of the round: file name and bytes; the download is
    audited (``export.download``)."""
    user = allow(user, MANAGE, "下载检查清单", "download inspection lists")
    with tempfile.TemporaryDirectory(prefix="round-export-") as tmp:
        paths = export_round(store, workspace, int(round_id), Path(tmp), lang=lang)
        wanted = [p for p in paths if p.stem.endswith(f"_{_safe(group)}")]
        if not wanted:
            msg = f"round {round_id} has no group {group!r}"
            raise RoundError(msg)
        data = wanted[0].read_bytes()
    record(
        store,
        user.username,
        "export.download",
        "inspection_round",
        str(round_id),
        {"group": group, "file": wanted[0].name, "lang": lang},
    )
    return wanted[0].name, data
