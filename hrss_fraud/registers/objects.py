"""Which register an inspection, a rectification order or a sanction belongs to.

The command line and the dashboard both take an object's id and must hand its register's
file to the step they run (the step then checks the object is of that register again, in
its transaction); this is the one lookup they share.
"""

from __future__ import annotations

from hrss_fraud.cases.store import CaseStore

OBJECTS: dict[str, tuple[str, str, str]] = {
    "inspection": (
        "SELECT register FROM register_inspection WHERE inspection_id = ?",
        "检查记录",
        "inspection",
    ),
    "rectification": (
        "SELECT i.register FROM register_rectification r JOIN register_inspection i "
        "USING (inspection_id) WHERE r.rectification_id = ?",
        "整改单",
        "rectification order",
    ),
    "sanction": (
        "SELECT i.register FROM register_sanction s JOIN register_rectification r "
        "USING (rectification_id) JOIN register_inspection i USING (inspection_id) "
        "WHERE s.sanction_id = ?",
        "处理决定",
        "sanction",
    ),
}
"""Object kind → (SQL of its register, Chinese name, English name)."""


class UnknownObject(ValueError):
    """No such inspection, order or sanction."""


def register_of(store: CaseStore, what: str, object_id: int) -> str:
    """The register code of the ``what`` (a key of :data:`OBJECTS`) numbered ``object_id``."""
    sql, zh, en = OBJECTS[what]
    rows = store.query(sql, (int(object_id),))
    if not rows:
        msg = f"无此{zh} {object_id} (no {en} {object_id})"
        raise UnknownObject(msg)
    return str(rows[0][0])
