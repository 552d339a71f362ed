"""The review steps and outcomes (DOMAIN.md §4), as the first migration seeds them.

Kept in Python too so that validation can name the valid values without a database round
trip and the CLI can list them in its help; a test holds the two copies equal.
"""

from __future__ import annotations

STEPS: dict[str, tuple[str, str]] = {
    "first_review": ("初审", "first review"),
    "second_review": ("复审", "second review"),
    "appeal": ("申诉", "appeal"),
    "investigation": ("调查核实", "investigation"),
    "sanction": ("违规处理", "sanction"),
}
"""Step code → (Chinese, English), in workflow order."""

DECISIONS: dict[str, tuple[str, str, int | None]] = {
    "confirmed": ("确认违规", "confirmed", 1),
    "dismissed": ("排除疑点", "dismissed", 0),
    "pending": ("待定", "pending", None),
    "needs_info": ("需补充材料", "needs more information", None),
}
"""Decision code → (Chinese, English, the lead's label for learning: 1, 0, or None when the
decision is not final)."""


def normalise(value: str, vocabulary: dict[str, tuple], what: str) -> str:
    """The code for ``value`` given as a code or its Chinese label; ``ValueError`` naming
    the valid values otherwise."""
    v = value.strip()
    if v in vocabulary:
        return v
    for code, labels in vocabulary.items():
        if v == labels[0]:
            return code
    valid = ", ".join(f"{code} ({labels[0]})" for code, labels in vocabulary.items())
    msg = f"{what} {value!r} is not one of: {valid}"
    raise ValueError(msg)


def help_list(vocabulary: dict[str, tuple]) -> str:
    return ", ".join(f"{code} {labels[0]}" for code, labels in vocabulary.items())
