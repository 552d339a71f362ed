"""Upload layouts: how an export names its columns and writes its dates and codes.

Layouts are TOML files in ``ingest/layouts`` (an operator adds one without Python). Every
layout also understands the canonical field names and the data model's Chinese labels, so a
layout file lists only the variants. A file's layout and table are detected from its header.
"""

from __future__ import annotations

import difflib
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hrss_fraud.ingest.errors import UNKNOWN_LAYOUT, UploadError
from hrss_fraud.model.schema import TABLES
from hrss_fraud.resources import policy_dir


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
        """Every header this layout understands → canonical field name (case-folded keys)."""
        return _vocabulary(self.name, tuple(sorted(self.aliases.items())))


@functools.lru_cache(maxsize=64)
def _vocabulary(_name: str, aliases: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Built once per layout (detection runs for each of thousands of files); read-only."""
    vocab: dict[str, str] = {}
    for table in TABLES.values():
        for f in table.fields:
            vocab[_fold(f.name)] = f.name
            vocab.setdefault(_fold(f.zh), f.name)
    vocab.update({_fold(k): v for k, v in aliases})
    return vocab


@dataclass(frozen=True)
class Detected:
    """What a header means: the layout, the table and each column's canonical name."""

    layout: Layout
    table: str
    mapping: dict[str, str]  # original header → canonical field
    ignored: tuple[str, ...]


def _fold(name: str) -> str:
    return name.strip().lstrip("\ufeff").casefold()


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
            ignore=frozenset(_fold(c) for c in spec.get("ignore", [])),
            aliases=dict(spec.get("aliases", {})),
            header_style=spec.get("header_style", "field_names"),
        )
    if not layouts:
        msg = f"no layouts found in {root / 'layouts'}"
        raise ValueError(msg)
    return layouts


def _known_field(name: str) -> bool:
    return any(name in t for t in TABLES.values())


def _map(header: list[str], layout: Layout) -> tuple[dict[str, str], list[str], list[str]]:
    vocab = layout.vocabulary()
    mapping, unmatched, ignored = {}, [], []
    for col in header:
        key = _fold(col)
        if key in vocab:
            mapping[col] = vocab[key]
        elif key in layout.ignore:
            ignored.append(col)
        else:
            unmatched.append(col)
    return mapping, unmatched, ignored


def _table_for(mapped: set[str], table: str | None) -> tuple[str | None, list[str]]:
    """The table whose required fields are all present, matching the most columns."""
    best, best_score, missing_best = None, -1, []
    for name, t in TABLES.items():
        if table and name != table:
            continue
        missing = [f for f in t.required if f not in mapped]
        score = sum(1 for f in mapped if f in t)
        if not missing and score > best_score:
            best, best_score = name, score
        elif best is None and (not missing_best or len(missing) < len(missing_best)):
            missing_best = missing
    return best, missing_best


def detect(
    path: Path,
    header: list[str],
    layouts: dict[str, Layout],
    *,
    layout: str | None = None,
    table: str | None = None,
) -> Detected:
    """Pick the layout that explains every column, and the table the columns describe."""
    if layout is not None and layout not in layouts:
        msg = f"unknown layout {layout!r}; known: {', '.join(layouts)}"
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    candidates = [layouts[layout]] if layout else list(layouts.values())
    ranked = []
    for lay in candidates:
        mapping, unmatched, ignored = _map(header, lay)
        style = sum(col.isascii() == (lay.header_style == "field_names") for col in header)
        ranked.append((len(unmatched), -style, lay.name, lay, mapping, unmatched, ignored))
    ranked.sort(key=lambda r: r[:3])
    n_unmatched, _, _, lay, mapping, unmatched, ignored = ranked[0]
    if unmatched:
        vocab = list(lay.vocabulary())
        hints = []
        for col in unmatched[:8]:
            near = difflib.get_close_matches(_fold(col), vocab, n=2, cutoff=0.6)
            shown = col if len(col) <= 40 else col[:40] + "…"
            hints.append(f"{shown!r}" + (f" (nearest: {', '.join(near)})" if near else ""))
        msg = (
            f"{n_unmatched} column(s) match no layout: {'; '.join(hints)}"
            f"{' …' if len(unmatched) > 8 else ''}; add them to a layout in ingest/layouts"
        )
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    dupes = {v for v in mapping.values() if list(mapping.values()).count(v) > 1}
    if dupes:
        msg = f"several columns map to the same field: {', '.join(sorted(dupes))}"
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    name, missing = _table_for(set(mapping.values()), table)
    if name is None:
        what = f"table {table!r}" if table else "any table"
        msg = f"the columns fit {what} but lack required field(s): {', '.join(missing)}"
        raise UploadError(path, UNKNOWN_LAYOUT, msg)
    return Detected(lay, name, mapping, tuple(ignored))
