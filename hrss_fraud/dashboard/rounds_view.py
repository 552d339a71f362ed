"""The rounds page's logic (检查轮次): the rounds with their status and counts, one round's
targets, planning a round from a form, reproducing a draw, and a group's Excel list.

Plain functions of a case store and the logged-in user, so the page's callbacks stay a
line or two and tests need no browser. Anyone who may view leads sees the rounds and
reproduces a draw; planning, downloading the lists and setting up the office (zones
synced from the lake, inspectors, groups, conflicts of interest) need
``manage_inspections`` (审核负责人): each function checks it itself. The work itself is
:mod:`hrss_fraud.inspection`'s, the same functions ``hrss-fraud rounds`` calls.

A refusal is said by :func:`say` in the screen's language from the ``[rounds]`` texts,
naming the form's fields by their labels and this page's buttons, never a command line.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from hrss_fraud.cases.audit import record
from hrss_fraud.cases.users import ROLES
from hrss_fraud.complaints.register import round_targets
from hrss_fraud.dashboard import i18n
from hrss_fraud.engine.runs import latest_run
from hrss_fraud.inspection import registry
from hrss_fraud.inspection.exports import _safe, export_round
from hrss_fraud.inspection.refusal import Refusal
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
from hrss_fraud.model.times import minute_expr

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User
    from hrss_fraud.lake import Lake

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
    "admdvs": ("区划代码", "area code"),
    "zone": ("乡镇", "township"),
    "n_institutions": ("机构数", "institutions"),
    "inspector_code": ("检查人员编号", "inspector code"),
    "inspector_name": ("检查人员", "inspector"),
    "state": ("状态", "state"),
    "groups": ("所在检查组", "groups"),
    "group_name": ("组名", "group name"),
    "members": ("组员", "members"),
    "formed_for": ("组建用途", "formed for"),
    "reason": ("回避理由", "reason"),
    "declared_by": ("登记人", "declared by"),
    "declared_at": ("登记时间", "declared at"),
    "fixmedins_code": ("机构编号", "institution"),
    "fixmedins_name": ("机构名称", "name"),
    "zone_name": ("区域", "zone"),
    "group_code": ("检查组", "group"),
    "source_label": ("确定方式", "chosen by"),
    "risk_rank": ("风险排名", "risk rank"),
    "amount_at_risk": ("疑点金额", "amount at risk"),
    "reasons_shown": ("理由", "reasons"),
}


FIELDS: dict[str, str] = {
    "round_name": "rounds.round_name",
    "top": "rounds.top_k",
    "random": "rounds.random_n",
    "seed": "rounds.seed_optional",
    "reason": "rounds.reason",
    "inspector_code": "rounds.inspector_code",
    "inspector_name": "rounds.inspector_name",
    "group_code": "rounds.group_code",
    "group_name": "rounds.group_name",
    "members": "rounds.members",
    "inspector": "rounds.inspector",
    "institution": "rounds.institution",
    "conflict_reason": "rounds.conflict_reason",
    "new_status": "rounds.new_status",
}
"""A refusal's ``field`` → the text key of that field's label on the page."""

MESSAGES: dict[str, str] = {
    "required": "rounds.err_required",
    "not_whole_number": "rounds.err_not_whole_number",
    "negative": "rounds.err_negative",
    "not_allowed": "rounds.err_not_allowed",
    "no_institutions_in_lake": "rounds.err_no_institutions_in_lake",
    "inspector_exists": "rounds.err_inspector_exists",
    "no_inspector": "rounds.err_no_inspector",
    "group_exists": "rounds.err_group_exists",
    "unknown_inspectors": "rounds.err_unknown_inspectors",
    "inactive_inspectors": "rounds.err_inactive_inspectors",
    "conflict_exists": "rounds.err_conflict_exists",
    "round_name_taken": "rounds.err_round_name_taken",
    "no_zones": "rounds.err_no_zones",
    "unzoned": "rounds.err_unzoned",
    "groups_missing": "rounds.err_groups_missing",
    "round_changed": "rounds.err_round_changed",
    "no_round": "rounds.err_no_round",
    "status_move": "rounds.err_status_move",
    "no_targets": "rounds.err_no_targets",
    "complaint_unzoned": "rounds.err_complaint_unzoned",
    "top_too_many": "rounds.err_top_too_many",
    "random_too_many": "rounds.err_random_too_many",
    "no_groups": "rounds.err_no_groups",
    "capacity": "rounds.err_capacity",
    "no_group_may_visit": "rounds.err_no_group_may_visit",
    "cannot_place": "rounds.err_cannot_place",
    "run_gone": "rounds.err_run_gone",
    "no_group_in_round": "rounds.err_no_group_in_round",
    "no_run": "rounds.err_no_run",
}
"""A refusal's ``key`` → its text in the ``[rounds]`` section."""

ACTIONS: dict[str, str] = {
    "view": "rounds.may_view",
    "plan": "rounds.may_plan",
    "status": "rounds.may_change_status",
    "download": "rounds.may_download",
    "set_up": "rounds.may_set_up",
}
"""What a refused user tried → its words (filling ``rounds.err_not_allowed``)."""


class NotAllowed(PermissionError):
    """The user's role may not do this; ``key``/``fields`` as a :class:`Refusal`'s."""

    def __init__(self, user: User | None, action: str) -> None:
        role = None if user is None else user.role
        super().__init__(f"{role or 'nobody logged in'} may not {action}")
        self.key = "not_allowed"
        self.fields: dict[str, object] = {"role": role, "action": action}


def _allow(user: User | None, permission: str, action: str) -> User:
    """``user`` if logged in, enabled and granted ``permission``; else :class:`NotAllowed`
    (default deny)."""
    if user is None or not user.can(permission):
        raise NotAllowed(user, action)
    return user


def say(err: Exception, lang: str = "zh", workspace: Path | None = None) -> str:
    """A refusal as the page says it in ``lang``: fields by their labels, statuses and
    roles in words; an error without a known key as its own text."""
    key = MESSAGES.get(getattr(err, "key", None) or "")
    if key is None:
        return str(err)
    i = 1 if lang == "en" else 0
    fields = dict(getattr(err, "fields", {}))
    if "field" in fields:
        name = str(fields["field"])
        fields["field"] = i18n.text(FIELDS[name], lang, workspace) if name in FIELDS else name
    if "action" in fields:
        fields["action"] = i18n.text(ACTIONS[str(fields["action"])], lang, workspace)
    if "role" in fields:
        role = fields["role"]
        fields["role"] = (
            ROLES[str(role)][i] if role in ROLES else i18n.text("rounds.nobody", lang, workspace)
        )
    for name in ("current", "wanted"):
        if name in fields:
            fields[name] = STATUSES.get(str(fields[name]), (fields[name],) * 2)[i]
    return i18n.text(key, lang, workspace, **fields)


def round_rows(store: CaseStore, user: User | None, *, lang: str = "zh") -> pl.DataFrame:
    """Every round, newest first, with its status in ``lang`` and targets per kind."""
    _allow(user, VIEW, "view")
    i = 1 if lang == "en" else 0
    kinds = {
        rid: json.loads(k) for rid, k in store.query("SELECT round_id, kinds FROM inspection_round")
    }
    df = rounds(store)
    return df.with_columns(
        created_at=minute_expr("created_at"),
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
    _allow(user, VIEW, "view")
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


def _count(text: str | int | None, field: str) -> int:
    """A whole number of 0 or more typed into ``field``; a :class:`RoundError` naming the
    field when it is empty, not a whole number or negative. ``field`` is a key of
    :data:`FIELDS` (the page says it by its label); other callers' own words for a field
    (the registers' draw form) get the former bilingual message, with no key."""
    if field not in FIELDS:
        return _count_named(text, field)
    typed = str(text if text is not None else "").strip()
    if not typed:
        msg = f"{field} is empty"
        raise RoundError(msg, "required", field=field)
    try:
        n = int(typed)
    except ValueError:
        msg = f"{field} must be a whole number, not {typed!r}"
        raise RoundError(msg, "not_whole_number", field=field, value=typed) from None
    if n < 0:
        msg = f"{field} must not be negative"
        raise RoundError(msg, "negative", field=field)
    return n


def _count_named(text: str | int | None, what: str) -> int:
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
    user = _allow(user, MANAGE, "plan")
    if not (name or "").strip():
        msg = "the round needs a name"
        raise RoundError(msg, "required", field="round_name")
    seed_text = str(seed).strip() if seed is not None else ""
    top_n, random_n = _count(top, "top"), _count(n_random, "random")
    seed_n = _count(seed_text, "seed") if seed_text else None
    if not store.query("SELECT 1 FROM inspection_institution LIMIT 1"):
        msg = "no zones yet"
        raise RoundError(msg, "no_zones")
    if not latest_run(workspace):
        msg = "no complete scoring run yet"
        raise RoundError(msg, "no_run")
    return plan_round(
        store,
        workspace,
        name=name or "",
        top=top_n,
        n_random=random_n,
        seed=seed_n,
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
    user = _allow(user, MANAGE, "status")
    if not status:
        msg = "choose the new status"
        raise RoundError(msg, "required", field="new_status")
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
    _allow(user, VIEW, "view")
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
    user = _allow(user, MANAGE, "download")
    with tempfile.TemporaryDirectory(prefix="round-export-") as tmp:
        paths = export_round(store, workspace, int(round_id), Path(tmp), lang=lang)
        wanted = [p for p in paths if p.stem.endswith(f"_{_safe(group)}")]
        if not wanted:
            msg = f"round {round_id} has no group {group!r}"
            raise RoundError(msg, "no_group_in_round", round_id=round_id, group=group)
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


ZONE_COLUMNS = ("admdvs", "zone", "n_institutions")
INSPECTOR_COLUMNS = ("inspector_code", "inspector_name", "state", "groups")
GROUP_COLUMNS = ("group_code", "group_name", "members", "formed_for")
CONFLICT_COLUMNS = (
    "inspector_code",
    "inspector_name",
    "fixmedins_code",
    "fixmedins_name",
    "reason",
    "declared_by",
    "declared_at",
)
_ACTIVE = {True: ("在岗", "active"), False: ("已停用", "disabled")}
_STANDING = ("常设", "standing")


def zone_rows(store: CaseStore, user: User | None) -> pl.DataFrame:
    """The zones synced from the lake, each with its number of institutions."""
    _allow(user, VIEW, "view")
    return registry.zones(store).rename({"name": "zone"})


def inspector_rows(store: CaseStore, user: User | None, *, lang: str = "zh") -> pl.DataFrame:
    """Every inspector, active or not, with the groups they belong to."""
    _allow(user, VIEW, "view")
    i = 1 if lang == "en" else 0
    return registry.inspectors(store).with_columns(
        inspector_name=pl.col("name"),
        state=pl.col("active").replace_strict({k: v[i] for k, v in _ACTIVE.items()}),
    )


def group_rows(store: CaseStore, user: User | None, *, lang: str = "zh") -> pl.DataFrame:
    """Every group with its members and whether it is standing or formed for one round."""
    _allow(user, VIEW, "view")
    return registry.groups(store).with_columns(
        group_name=pl.col("name"),
        formed_for=pl.when(pl.col("round_name") == "")
        .then(pl.lit(_STANDING[1 if lang == "en" else 0]))
        .otherwise(pl.col("round_name")),
    )


def conflict_rows(store: CaseStore, user: User | None) -> pl.DataFrame:
    """Every declared conflict of interest."""
    _allow(user, VIEW, "view")
    return registry.conflicts(store).with_columns(declared_at=minute_expr("declared_at"))


def inspector_options(store: CaseStore, *, active_only: bool = True) -> list[dict[str, str]]:
    """The inspectors as dropdown options ``code 姓名``."""
    df = registry.inspectors(store)
    if active_only:
        df = df.filter(pl.col("active"))
    return [
        {"label": f"{c} {n}", "value": c} for c, n in df.select("inspector_code", "name").rows()
    ]


def institution_options(store: CaseStore) -> list[dict[str, str]]:
    """The zoned institutions as dropdown options ``名称（编号）`` — searchable by either."""
    return [
        {"label": f"{n}（{c}）", "value": c}
        for c, n in registry.institutions(store).select("fixmedins_code", "fixmedins_name").rows()
    ]


def sync_zones_from_page(store: CaseStore, lake: Lake, user: User | None) -> registry.ZoneSync:
    """Fill or update the zones and each institution's zone from the lake."""
    user = _allow(user, MANAGE, "set_up")
    return registry.sync_zones(store, lake, by=user.username)


def add_inspector_from_page(
    store: CaseStore, user: User | None, code: str | None, name: str | None
) -> str:
    """Add an inspector; return the code."""
    user = _allow(user, MANAGE, "set_up")
    registry.add_inspector(store, code or "", name or "", by=user.username)
    return (code or "").strip()


def disable_inspector_from_page(store: CaseStore, user: User | None, code: str | None) -> str:
    """Make an inspector inactive (never deleted: past rounds name them); return the code."""
    user = _allow(user, MANAGE, "set_up")
    if not (code or "").strip():
        msg = "choose the inspector"
        raise registry.RegistryError(msg, "required", field="inspector")
    registry.set_inspector_active(store, code.strip(), False, by=user.username)
    return code.strip()


def add_group_from_page(
    store: CaseStore,
    user: User | None,
    code: str | None,
    name: str | None,
    members: list[str] | None,
) -> str:
    """Form a standing group of active inspectors (the name defaults to the code);
    return the code."""
    user = _allow(user, MANAGE, "set_up")
    code = (code or "").strip()
    registry.add_group(store, code, (name or "").strip() or code, members or [], by=user.username)
    return code


def add_conflict_from_page(
    store: CaseStore,
    user: User | None,
    inspector: str | None,
    institution: str | None,
    reason: str | None,
) -> tuple[str, str]:
    """Record that an inspector may not inspect an institution, and why (回避)."""
    user = _allow(user, MANAGE, "set_up")
    if not (inspector or "").strip():
        msg = "choose the inspector"
        raise registry.RegistryError(msg, "required", field="inspector")
    registry.add_conflict(store, inspector or "", institution or "", reason or "", by=user.username)
    return (inspector or "").strip(), (institution or "").strip()


ERRORS: tuple[type[Exception], ...] = (Refusal, NotAllowed)
"""What the page says with :func:`say` rather than failing."""
