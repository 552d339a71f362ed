"""The case store's hash chain: each append-only record is linked to the one before it, so
an edited, replaced, deleted or smuggled-in record shows (migration 0007).

The links are written by SQL triggers; the hash is this module's function, registered on
every connection :func:`hrss_fraud.cases.store.connect` opens.
"""

from __future__ import annotations

import hashlib
import sqlite3

HASH_FUNCTION = "hrss_chain_hash"


def link_hash(prev_hash: str, table: str, row_id: str, row_json: str) -> str:
    """SHA-256 of one link: the previous link's hash, the table, the row's key and the
    row as JSON, separated by a byte none of them holds."""
    text = "\x1f".join((prev_hash or "", table, row_id, row_json))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def register(con: sqlite3.Connection) -> None:
    """Make :func:`link_hash` callable from SQL (the triggers) on ``con``."""
    con.create_function(HASH_FUNCTION, 4, link_hash, deterministic=True)
