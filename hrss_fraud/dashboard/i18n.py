"""The screens' text, as data: ``dashboards/i18n/zh.toml`` and ``en.toml``.

Each file holds the same keys, grouped by screen (``[leads] export = "导出"``); the code
asks for a text by its dotted key (``text("leads.export", "zh")``) and fills its
``{name}`` fields with :meth:`str.format`. A centre rewords a screen without Python by
dropping its own ``zh.toml`` or ``en.toml`` into ``WORKSPACE/dashboards/i18n/``: the keys
it holds replace the shipped ones, the rest stay as shipped. A key the shipped files lack,
in either language, is an error (:class:`MissingText`), never a blank on screen.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from hrss_fraud.outputs.labels import LANGS
from hrss_fraud.resources import policy_dir, policy_path

KIND, SUB = "dashboards", "i18n"


class MissingText(KeyError):
    """A key that is not in the text files, or not in one language's."""


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, key + "."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            msg = f"{key}: a screen text must be a string, not {type(value).__name__}"
            raise TypeError(msg)
    return flat


def read(folder: Path, lang: str) -> dict[str, str]:
    """``folder/<lang>.toml`` as ``{"screen.key": text}``; empty when there is none."""
    path = Path(folder) / f"{lang}.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        return _flatten(tomllib.load(f))


def shipped(lang: str) -> dict[str, str]:
    """The shipped texts of ``lang`` (not a workspace's)."""
    return read(policy_dir(KIND) / SUB, lang)


def _stamp(folder: Path, lang: str) -> int:
    path = folder / f"{lang}.toml"
    return path.stat().st_mtime_ns if path.is_file() else 0


@lru_cache(maxsize=32)
def _texts(workspace: Path | None, lang: str, stamps: tuple[int, int]) -> dict[str, str]:
    del stamps  # part of the cache key only: an edited file is read again
    texts = shipped(lang)
    folder = policy_path(KIND, SUB, workspace)
    if folder.resolve() != (policy_dir(KIND) / SUB).resolve():
        own = read(folder, lang)
        unknown = sorted(own.keys() - texts.keys())
        if unknown:
            msg = f"{folder / f'{lang}.toml'}: unknown keys {', '.join(unknown)}"
            raise MissingText(msg)
        texts.update(own)
    return texts


def texts(lang: str, workspace: Path | None = None) -> dict[str, str]:
    """Every text of ``lang``: the shipped ones with the workspace's own over them."""
    if lang not in LANGS:
        msg = f"unknown language {lang!r}; expected one of {', '.join(LANGS)}"
        raise ValueError(msg)
    folder = policy_path(KIND, SUB, workspace)
    default = policy_dir(KIND) / SUB
    ws = Path(workspace) if workspace is not None else None
    return _texts(ws, lang, (_stamp(default, lang), _stamp(folder, lang)))


def text(key: str, lang: str, workspace: Path | None = None, **fields: object) -> str:
    """The text ``key`` (``"screen.name"``) in ``lang``, its ``{fields}`` filled in."""
    known = texts(lang, workspace)
    try:
        template = known[key]
    except KeyError:
        msg = f"no screen text {key!r} in {lang}.toml (dashboards/{SUB})"
        raise MissingText(msg) from None
    return template.format(**fields)
