"""The chronic diagnosis groups the detectors model, from the ICD-10 code where the
knowledge base gives none.

Our diagnosis table groups each code (``dise_group``: HTN, DM, DIALYSIS, …); a centre's own
table may not, and a code it does not list has no group either. The visit-frequency model
and the person features would then see no chronic patient at all, and flag every dialysis
patient's thrice-weekly sessions. The ICD-10 chapters say as much: these prefixes stand in
for the groups where ``dise_group`` is empty.
"""

from __future__ import annotations

CHRONIC_PREFIXES: dict[str, tuple[str, ...]] = {
    "HTN": ("I10", "I11", "I12", "I13", "I15"),
    "DM": ("E10", "E11", "E12", "E13", "E14"),
    "CHD": ("I20", "I21", "I22", "I23", "I24", "I25", "I50"),
    "COPD": ("J43", "J44"),
    "CKD": ("N03", "N18", "Z94.0"),
    "CANCER": ("C",),
    "STROKE": ("I69",),
    "DIALYSIS": ("Z49", "Z99.2"),
    "CHEMO": ("Z51.0", "Z51.1"),
}
"""Chronic group → ICD-10 code prefixes (stroke: its sequelae, the follow-up years)."""


def group_sql(group: str, code: str) -> str:
    """SQL for a visit's chronic group: column ``group`` where set, else the group whose
    prefix column ``code`` starts with (NULL when none)."""
    cases = " ".join(
        f"WHEN starts_with(coalesce({code}, ''), '{p}') THEN '{g}'"
        for g, prefixes in CHRONIC_PREFIXES.items()
        for p in prefixes
    )
    return f"coalesce({group}, CASE {cases} END)"
