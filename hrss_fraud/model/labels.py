"""Chinese labels that the platform and hospital exports use for the data model's fields,
beyond each field's own label (``schema.Field.zh``, what screens and exports show).

``PLATFORM_LABELS`` holds the labels of the domain guide (DOMAIN.md §2) where they differ
from the model's own, per table: 开单医师 for ``bilg_dr_codg`` (the model says 开单医师编码),
开始时间(入院) for ``begntime``. Ingest recognises every label of :func:`labels`; a label
given to two fields of one table (单位, for ``emp_no`` and ``emp_name``) is ambiguous and
ingest says so rather than choosing.
"""

from __future__ import annotations

from hrss_fraud.model.schema import TABLES

PLATFORM_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "settlement": {
        "begntime": ("开始时间(入院)",),
        "endtime": ("结束时间(出院)",),
        # The fee detail's label for the same amount, seen on settlement exports too.
        "inscp_amt": ("符合范围金额",),
    },
    "fee_detail": {
        "medins_list_name": ("名称",),
        "bilg_dept_codg": ("开单科室",),
        "bilg_dr_codg": ("开单医师",),
        "inscp_amt": ("符合政策范围金额",),
    },
    "person": {
        # The guide labels the employer's number and name together: ambiguous alone.
        "emp_no": ("单位",),
        "emp_name": ("单位",),
    },
    "institution": {
        "admdvs": ("区划",),
    },
}


def labels(table: str, field: str) -> tuple[str, ...]:
    """Every Chinese label of ``field`` in ``table``: the model's first, then the platform's."""
    own = TABLES[table][field].zh
    extra = PLATFORM_LABELS.get(table, {}).get(field, ())
    return (own, *(x for x in extra if x != own))
