"""The latest version per natural key of a lake table, as SQL over its ``{table}_all`` view:
what the lake's views (:mod:`.views`), the superseded-row index (:mod:`.superseded`) and
the engine's scoring database read."""

from __future__ import annotations

from hrss_fraud.lake.sqltext import ident
from hrss_fraud.model.schema import Table


def latest_sql(
    table: Table, columns: str = "*", keys_where: str | None = None, *, superseded: bool = False
) -> str:
    """``columns`` of the latest version per natural key (highest batch, then the last row
    within it) of ``{table}_all``; with ``keys_where``, only of the keys that have a stored
    version matching it (every version of those keys is ranked, so a later version that no
    longer matches still wins): much less to rank when few keys are wanted. With
    ``superseded``, every version *but* the latest (what :mod:`.superseded` lists)."""
    keys = ", ".join(ident(k) for k in table.key)
    source = ident(table.name + "_all")
    where = ""
    if keys_where is not None:
        where = f" WHERE ({keys}) IN (SELECT ({keys}) FROM {source} WHERE {keys_where})"
    kept = "> 1" if superseded else "= 1"
    return (
        f"SELECT {columns} FROM {source}{where} QUALIFY row_number() OVER "
        f"(PARTITION BY {keys} ORDER BY _batch_seq DESC, _row DESC) {kept}"
    )
