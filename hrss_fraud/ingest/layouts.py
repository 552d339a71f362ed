"""Upload layouts: how an export names its columns and writes its dates and codes.

Layouts are TOML files in ``ingest/layouts`` (an operator adds one without Python). Every
layout also understands the canonical field names, the data model's Chinese labels and the
platform's labels (:mod:`hrss_fraud.model.labels`), so a layout file lists only the
variants. A file's layout and table are detected from its header.

Headers are matched per table (科室编码 is a settlement's ``adm_dept_codg`` and a
practitioner's ``dept_codg``), in two steps:

1. **exact**, after normalising: Unicode NFKC (full-width brackets, letters, digits and
   spaces become ASCII), every space removed, case folded. The layout's aliases come first
   (an operator's explicit word), then field names and labels.
2. **tolerant**: brackets with what they enclose dropped (``单价(元)`` → 单价); the code
   suffixes 编码, 代码, 编号, 号码, ID and 号 interchangeable (开单医师, 开单医师编码 and
   开单医师代码 are all ``bilg_dr_codg``); 日期 and 时间 interchangeable (结算日期 is
   ``setl_time``); ``_codg`` and ``_code`` interchangeable in field names. A bare stem
   whose table also has a name field for it (主诊断: 主诊断编码 or 主诊断名称?) is
   ambiguous.

A header that fits two fields, a column that fits no field of the table, a field of
another table, and a second column for a field already filled are *set aside*: kept with
each row (``validate.SET_ASIDE``) and named in the reports, never a reason to reject the
file (unless ``strict``). A file is rejected only when a required field cannot be found.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hrss_fraud.ingest.errors import UNKNOWN_LAYOUT, UploadError
from hrss_fraud.model.labels import labels
from hrss_fraud.model.schema import TABLES
from hrss_fraud.resources import policy_dir

#: Suffixes that say "the code of": a header with one may use any of them for any other.
CODE_SUFFIXES = ("编码", "代码", "编号", "号码", "id", "号")
#: The suffixes a bare stem stands for (开单医师 = 开单医师编码); not ID or 号: a bare
#: 结算 is no settlement ID.
BARE_STEM_SUFFIXES = ("编码", "代码", "编号")
#: Fields a bare stem never names alone: keys and references. A column headed 人员 may
#: hold names; taken as ``psn_no`` it would quarantine every row as unknown_person.
IDENTIFIERS = frozenset(
    {k for t in TABLES.values() for k in t.key}
    | {"psn_no", "fixmedins_code", "setl_id", "mdtrt_id", "init_feedetl_sn", "certno"}
)
#: The candidate that makes a bare stem naming an identifier ambiguous.
SOME_TEXT = "(a name or other text)"
#: Suffixes of a name field: a bare stem that has one of these and a code is ambiguous.
NAME_SUFFIXES = ("名称", "姓名")
#: Suffixes of a date or time: exports write 日期 and 时间 for the same field.
TIME_SUFFIXES = ("日期", "时间")
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_SPACE = re.compile(r"\s+")

#: Why a column was set aside.
UNKNOWN = "unknown"  # fits no field of any table
OTHER_TABLE = "other_table"  # a field of another table, not of the file's
AMBIGUOUS = "ambiguous"  # fits two fields, or two columns fit one field equally well
DUPLICATE = "duplicate"  # fits a field that a better-matching column already fills


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    datetime_formats: tuple[str, ...]
    code_map: dict[str, dict[str, str]]
    ignore: frozenset[str]
    aliases: dict[str, str] = field(default_factory=dict)
    header_style: str = "field_names"  # or "chinese": breaks ties between layouts

    def vocabulary(self) -> dict[str, str]:
        """Every header this layout matches exactly → canonical field name (normalised
        keys; a header that names two fields of different tables maps to the first)."""
        return _vocabulary(self.name, tuple(sorted(self.aliases.items())))


@dataclass(frozen=True)
class SetAside:
    """A column the file's table does not use: kept with each row, named in the reports."""

    column: str
    why: str  # UNKNOWN | OTHER_TABLE | AMBIGUOUS | DUPLICATE
    detail: str
    candidates: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{_shown(self.column)}: {self.detail}"


@dataclass(frozen=True)
class Detected:
    """What a header means: the layout, the table and each column's canonical name."""

    layout: Layout
    table: str
    mapping: dict[str, str]  # original header → canonical field
    ignored: tuple[str, ...]
    set_aside: tuple[SetAside, ...] = ()
    #: (header, field) of the columns matched by the tolerant step (reported, not refused).
    tolerant: tuple[tuple[str, str], ...] = ()


def normalise(name: str) -> str:
    """A header as matched: NFKC (full-width to ASCII), no spaces at all, case folded."""
    text = unicodedata.normalize("NFKC", name.replace("\ufeff", ""))
    text = text.replace("【", "[").replace("】", "]")
    return _SPACE.sub("", text).casefold()


def _loose(key: str) -> str:
    """A normalised key with bracketed parts dropped (``单价(元)`` → ``单价``)."""
    while True:
        stripped = _BRACKETS.sub("", key)
        if stripped == key:
            return key
        key = stripped


def _stem(key: str, suffixes: tuple[str, ...] = CODE_SUFFIXES) -> tuple[str, bool]:
    """The key without one of ``suffixes``, and whether it had one."""
    for s in suffixes:
        if key.endswith(s) and len(key) > len(s):
            return key[: -len(s)], True
    return key, False


def _shown(col: str) -> str:
    return repr(col if len(col) <= 40 else col[:40] + "…")


@functools.lru_cache(maxsize=64)
def _vocabulary(_name: str, aliases: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Built once per layout; read-only."""
    vocab: dict[str, str] = {}
    for table in TABLES.values():
        for f in table.fields:
            vocab[normalise(f.name)] = f.name
            for label in labels(table.name, f.name):
                vocab.setdefault(normalise(label), f.name)
    vocab.update({normalise(k): v for k, v in aliases})
    return vocab


@dataclass(frozen=True)
class _TableVocab:
    exact: dict[str, frozenset[str]]
    loose: dict[str, frozenset[str]]


@functools.lru_cache(maxsize=256)
def _table_vocab(table: str, aliases: tuple[tuple[str, str], ...]) -> _TableVocab:
    """Exact and loose keys of one table under one layout's aliases (aliases win)."""
    t = TABLES[table]
    base: dict[str, set[str]] = defaultdict(set)
    for f in t.fields:
        for text in (f.name, *labels(table, f.name)):
            base[normalise(text)].add(f.name)
    alias: dict[str, set[str]] = defaultdict(set)
    for k, v in aliases:
        if v in t:
            alias[normalise(k)].add(v)
    exact = {k: frozenset(v) for k, v in base.items()}
    exact.update({k: frozenset(v) for k, v in alias.items()})
    loose: dict[str, set[str]] = defaultdict(set)
    for k, v in exact.items():
        loose[_loose(k)] |= v
    return _TableVocab(exact, {k: frozenset(v) for k, v in loose.items()})


def match(header: str, table: str, layout: Layout) -> tuple[frozenset[str], int]:
    """The fields of ``table`` that ``header`` may name, and how: 0 exact, 1 tolerant.
    No field: it names none; two or more: it is ambiguous."""
    vocab = _table_vocab(table, tuple(sorted(layout.aliases.items())))
    key = normalise(header)
    if key in vocab.exact:
        return vocab.exact[key], 0
    if key.isascii():
        found: set[str] = set()
        for a, b in (("_codg", "_code"), ("_code", "_codg")):
            if key.endswith(a):
                found |= vocab.exact.get(key[: -len(a)] + b, frozenset())
        return frozenset(found), 1
    loose = _loose(key)
    if loose in vocab.loose:
        return vocab.loose[loose], 1
    stem, had_suffix = _stem(loose)
    found = set()
    for s in CODE_SUFFIXES if had_suffix else BARE_STEM_SUFFIXES:
        found |= vocab.loose.get(stem + s, frozenset())
    if found and not had_suffix:
        # 主诊断 could be 主诊断编码 or 主诊断名称: say so rather than choose.
        for s in NAME_SUFFIXES:
            found |= vocab.loose.get(stem + s, frozenset())
        if len(found) == 1 and found & IDENTIFIERS:
            found.add(SOME_TEXT)
    if not found and had_suffix:
        found |= vocab.loose.get(stem, frozenset())  # 开单科室代码 → 开单科室
    if not found:
        stem, had_suffix = _stem(loose, TIME_SUFFIXES)
        if had_suffix:
            for s in TIME_SUFFIXES:
                found |= vocab.loose.get(stem + s, frozenset())
    return frozenset(found), 1


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML ({exc})"
        raise ValueError(msg) from None


def load_layouts(root: Path | None = None) -> dict[str, Layout]:
    """All layouts under ``root`` (default: the ingest policy folder), by name."""
    root = root or policy_dir("ingest")
    layouts: dict[str, Layout] = {}
    for path in sorted((root / "layouts").glob("*.toml")):
        spec = _read_toml(path)
        name = spec.get("name") or path.stem
        codes_file = root / "codes" / f"{spec.get('code_map', 'default')}.toml"
        if not codes_file.exists():
            msg = f"{path}: code_map {spec.get('code_map')!r} has no file {codes_file}"
            raise ValueError(msg)
        unknown = {v for v in spec.get("aliases", {}).values() if not _known_field(v)}
        if unknown:
            msg = f"{path}: aliases point to unknown fields: {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        layouts[name] = Layout(
            name=name,
            description=spec.get("description", ""),
            datetime_formats=tuple(spec.get("datetime_formats", ["%Y-%m-%d %H:%M:%S"])),
            code_map={
                k: {str(a): str(b) for a, b in v.items()} for k, v in _read_toml(codes_file).items()
            },
            ignore=frozenset(normalise(c) for c in spec.get("ignore", [])),
            aliases=dict(spec.get("aliases", {})),
            header_style=spec.get("header_style", "field_names"),
        )
    if not layouts:
        msg = f"no layouts found in {root / 'layouts'}"
        raise ValueError(msg)
    return layouts


def _known_field(name: str) -> bool:
    return any(name in t for t in TABLES.values())


@dataclass
class _Mapped:
    """One header read as one table under one layout."""

    layout: Layout
    table: str
    mapping: dict[str, str]
    ignored: list[str]
    set_aside: list[SetAside]
    tolerant: list[tuple[str, str]]

    @property
    def missing(self) -> list[str]:
        got = set(self.mapping.values())
        return [f for f in TABLES[self.table].required if f not in got]


def _map(header: list[str], layout: Layout, table: str) -> _Mapped:
    """Map each column to a field of ``table``; set aside what does not fit one field."""
    claims: dict[str, list[tuple[int, str]]] = defaultdict(list)
    ignored: list[str] = []
    aside: list[SetAside] = []
    for col in header:
        fields, quality = match(col, table, layout)
        if len(fields) == 1:
            claims[next(iter(fields))].append((quality, col))
        elif fields:
            names = sorted(fields)
            detail = f"ambiguous: could be {' or '.join(names)}; add an alias to say which"
            aside.append(SetAside(col, AMBIGUOUS, detail, tuple(names)))
        elif normalise(col) in layout.ignore:
            ignored.append(col)
        else:
            aside.append(SetAside(col, UNKNOWN, ""))  # detail filled in once chosen
    mapping: dict[str, str] = {}
    tolerant: list[tuple[str, str]] = []
    for name, cols in claims.items():
        best = min(q for q, _ in cols)
        top = [c for q, c in cols if q == best]
        if len(top) > 1:
            shown = " and ".join(_shown(c) for c in top)
            for c in top:
                detail = f"ambiguous: columns {shown} all name {name}"
                aside.append(SetAside(c, AMBIGUOUS, detail, (name,)))
        else:
            mapping[top[0]] = name
            if best:
                tolerant.append((top[0], name))
        for q, c in cols:
            if q != best:
                detail = f"duplicate: names {name}, already taken from {_shown(top[0])}"
                aside.append(SetAside(c, DUPLICATE, detail, (name,)))
    order = {c: i for i, c in enumerate(header)}
    mapping = dict(sorted(mapping.items(), key=lambda kv: order[kv[0]]))
    aside.sort(key=lambda s: order[s.column])
    return _Mapped(layout, table, mapping, ignored, aside, tolerant)


def _explain(m: _Mapped) -> list[SetAside]:
    """The set-aside columns with their detail: another table's field, or the nearest
    known names."""
    out = []
    vocab = _table_vocab(m.table, tuple(sorted(m.layout.aliases.items())))
    keys = list(vocab.exact)
    for s in m.set_aside:
        if s.why != UNKNOWN:
            out.append(s)
            continue
        elsewhere = sorted(
            f"{t}.{next(iter(fields))}"
            for t in TABLES
            if t != m.table
            for fields in [match(s.column, t, m.layout)[0]]
            if len(fields) == 1
        )
        if elsewhere:
            detail = f"a field of another table ({', '.join(elsewhere[:3])}), not of {m.table}"
            out.append(SetAside(s.column, OTHER_TABLE, detail, tuple(elsewhere)))
            continue
        near = difflib.get_close_matches(normalise(s.column), keys, n=2, cutoff=0.6)
        shown = [
            k if vocab.exact[k] == {k} else f"{k}={'|'.join(sorted(vocab.exact[k]))}" for k in near
        ]
        detail = "matches no field" + (f" (nearest: {', '.join(shown)})" if shown else "")
        out.append(SetAside(s.column, UNKNOWN, detail))
    return out


def _style(header: list[str], layout: Layout) -> int:
    return sum(col.isascii() == (layout.header_style == "field_names") for col in header)


def detect(
    path: Path,
    header: list[str],
    layouts: dict[str, Layout],
    *,
    layout: str | None = None,
    table: str | None = None,
    strict: bool = False,
) -> Detected:
    """Pick the layout and table that explain the most columns with every required field
    found; the other columns are set aside (``strict``: the file is rejected instead)."""
    if layout is not None and layout not in layouts:
        msg = f"unknown layout {layout!r}; known: {', '.join(layouts)}"
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    if table is not None and table not in TABLES:
        msg = f"unknown table {table!r}; known: {', '.join(TABLES)}"
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    lays = [layouts[layout]] if layout else list(layouts.values())
    tables = [table] if table else list(TABLES)
    ranked = []
    for lay in lays:
        style = _style(header, lay)
        for i, t in enumerate(tables):
            m = _map(header, lay, t)
            rank = (len(m.missing) > 0, -len(m.mapping), len(m.set_aside), -style, lay.name, i)
            ranked.append((rank, m))
    ranked.sort(key=lambda r: r[0])
    best = ranked[0][1]
    if best.missing:
        # The nearest table: fewest required fields missing, then most columns explained.
        near = min(ranked, key=lambda r: (len(r[1].missing), r[0]))[1]
        aside = _explain(near)
        what = f"table {table!r}" if table else "any table"
        msg = (
            f"the columns fit {what} only without required field(s) "
            f"(nearest: {near.table}, lacking {', '.join(near.missing)})"
        )
        if aside:
            msg += f"; column(s) not used: {_list(aside)}"
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    aside = _explain(best)
    if strict and aside:
        msg = (
            f"{len(aside)} column(s) match no field of {best.table} (--strict): {_list(aside)}; "
            "add them to a layout in ingest/layouts"
        )
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    return Detected(
        best.layout,
        best.table,
        best.mapping,
        tuple(best.ignored),
        tuple(aside),
        tuple(best.tolerant),
    )


def _list(aside: list[SetAside], limit: int = 8) -> str:
    shown = "; ".join(s.describe() for s in aside[:limit])
    return shown + (f"; … {len(aside) - limit} more" if len(aside) > limit else "")
