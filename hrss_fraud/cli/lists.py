"""Lists given on the command line as one option: ``a,b,c``, with the Chinese comma and
enumeration comma accepted too (``李明，王芳``, ``李明、王芳``), as users type them."""

from __future__ import annotations


def split_list(text: str | None) -> list[str]:
    """The non-empty, stripped items of ``text`` (none for ``None`` or blank)."""
    if not text:
        return []
    return [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()]
