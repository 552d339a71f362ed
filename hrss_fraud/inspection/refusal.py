"""A refusal that a screen can say in its own language.

Every refusal of the inspection package keeps its English one-line message (what the
command line prints) and carries a message ``key`` with the ``fields`` that fill it, so
the dashboard says it in Chinese or English from its text catalogue, naming the form's
fields by their labels, never by a command-line option.
"""

from __future__ import annotations


class Refusal(ValueError):
    """A change or a draw that cannot be made: ``str()`` is the English message, ``key``
    and ``fields`` the same for a translated screen (``key`` is ``None`` when no screen
    can cause it)."""

    def __init__(self, message: str, key: str | None = None, **fields: object) -> None:
        super().__init__(message)
        self.key = key
        self.fields = fields
