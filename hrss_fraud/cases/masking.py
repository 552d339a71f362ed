"""Mask ID numbers, names, phone numbers and addresses for roles that may not see them
(PIPL: personal data only to those who need it; DOMAIN.md §1).

Each rule keeps a fixed head and tail of the value and turns every other character into
``*``, so a masked value keeps its length (tables stay aligned, and a reader sees that
something is there) and masking it again changes nothing. The rules are polars
expressions, so a whole page or export is masked in one pass; the scalar helpers run
the same expressions on one value, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import polars as pl

from hrss_fraud.cases.users import can
from hrss_fraud.model.schema import PERSON

STAR = "*"
_COMPOUND = (
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 "
    "公羊 赫连 澹台 皇甫 宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 "
    "长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 司寇 巫马 公西 颛孙 壤驷 "
    "公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 东郭 "
    "南门 羊舌 微生 梁丘 左丘 东门 西门 第五 即墨 达奚 褚师"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND.split())
"""Two-character surnames kept whole (欧阳** rather than 欧***)."""

_NOT_UNIT = "省市州区县旗镇乡*"
ADDRESS_PREFIX = (
    rf"^((?:[^{_NOT_UNIT}]{{0,9}}?"
    rf"(?:[^{_NOT_UNIT}小社园校景营]区|[^{_NOT_UNIT}](?:省|市|州|县|旗|镇|乡|街道))){{0,6}})"
)
"""The administrative part of an address: up to six units ending in 省/市/州/区/县/旗/镇/乡/
街道, each of 2–11 characters, from the start. Below the township (村, roads, numbers) is
masked; so is a 小区/社区/园区 that only looks like a 区, and anything after a ``*``."""

KINDS = ("id_number", "name", "phone", "address")

FIELDS: dict[str, str] = {
    "certno": "id_number",
    "psn_name": "name",
    "tel": "phone",
    "addr": "address",
}
"""The NHSA person fields (hrss_fraud.model.schema.PERSON) that identify someone, and
how each is masked. ``addr`` is masked wherever it appears, an institution's included:
masking a public address costs little, missing a person's costs much."""
COLUMNS: dict[str, str] = FIELDS | {PERSON[f].zh: kind for f, kind in FIELDS.items()}
""":data:`FIELDS` and the same fields under their Chinese headers (证件号码, 姓名, …), as
an export labels them."""

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def _keep(value: pl.Expr, head: pl.Expr, tail: pl.Expr) -> pl.Expr:
    """``value`` with its first ``head`` and last ``tail`` characters, the rest starred."""
    n = value.str.len_chars()
    middle = (n - head - tail).clip(lower_bound=0)
    return pl.concat_str(
        value.str.head(head),
        value.str.slice(head, middle).str.replace_all(r"(?s).", STAR),
        value.str.slice(head + middle),
    )


def id_number_expr(value: pl.Expr) -> pl.Expr:
    """18-digit 身份证: first 6 (the area) and last 4 (``110105********1234``); 15-digit
    (old card): first 6 and last 3; any other document number: all starred."""
    n = value.str.len_chars()
    head = pl.when(n.is_in([15, 18])).then(6).otherwise(0)
    tail = pl.when(n == 18).then(4).when(n == 15).then(3).otherwise(0)
    return _keep(value, head, tail)


def name_expr(value: pl.Expr) -> pl.Expr:
    """The surname only (张**, 欧阳**); a one-character name is all starred."""
    n = value.str.len_chars()
    compound = (n > 2) & value.str.head(2).is_in(list(COMPOUND_SURNAMES))
    head = pl.when(compound).then(2).when(n >= 2).then(1).otherwise(0)
    return _keep(value, head, pl.lit(0))


def phone_expr(value: pl.Expr) -> pl.Expr:
    """A mobile number (11 characters starting with 1): first 3 and last 4
    (``138****5678``); any other number of 7 or more characters: the last 4 only."""
    n = value.str.len_chars()
    mobile = (n == 11) & value.str.starts_with("1")
    head = pl.when(mobile).then(3).otherwise(0)
    tail = pl.when(n >= 7).then(4).otherwise(0)
    return _keep(value, head, tail)


def address_expr(value: pl.Expr) -> pl.Expr:
    """Up to the county and township (``永宁县城关镇*****``), see :data:`ADDRESS_PREFIX`."""
    head = value.str.extract(ADDRESS_PREFIX, 1).str.len_chars()
    return _keep(value, head, pl.lit(0))


EXPRESSIONS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "id_number": id_number_expr,
    "name": name_expr,
    "phone": phone_expr,
    "address": address_expr,
}


def mask_frame(df: Frame, role: str | None, *, columns: Mapping[str, str] | None = None) -> Frame:
    """``df`` as ``role`` may see it: unchanged for a role allowed to view identities,
    otherwise with every identifying column present masked (any other role, or none).

    ``columns`` maps column → kind (:data:`KINDS`); default :data:`COLUMNS`. Masked
    columns become text: an ID number read as a number is masked too."""
    if role is not None and can(role, "view_identity"):
        return df
    mapping = COLUMNS if columns is None else columns
    unknown = sorted(set(mapping.values()) - set(KINDS))
    if unknown:
        msg = f"unknown masking kind(s) {unknown}; use one of {', '.join(KINDS)}"
        raise ValueError(msg)
    present = [c for c in df.collect_schema().names() if c in mapping]
    return df.with_columns(
        EXPRESSIONS[mapping[c]](pl.col(c).cast(pl.String)).alias(c) for c in present
    )


def _scalar(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    return pl.select(EXPRESSIONS[kind](pl.lit(str(value), dtype=pl.String))).item()


def mask_id_number(value: str | None) -> str | None:
    return _scalar("id_number", value)


def mask_name(value: str | None) -> str | None:
    return _scalar("name", value)


def mask_phone(value: str | None) -> str | None:
    return _scalar("phone", value)


def mask_address(value: str | None) -> str | None:
    return _scalar("address", value)
