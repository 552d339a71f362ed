"""What a settlement treats: its *treatment class* (dialysis, chemotherapy, maternity …),
from codes every county has.

Legitimate planned care looks like abuse to a rule that counts or prices every visit
alike: dialysis three times a week, chemotherapy readmitted every three weeks, antenatal
visits, a rehabilitation course, a special drug bought each month, a pharmacy purchase paid
from the personal account for a family member. Rules and detectors compare like with like,
or leave the planned treatment to a check of its own schedule, by this class.

The classes are policy, in ``analytics/knowledge/treatment_class.csv`` (a centre adjusts it
like the rest of its knowledge base). Each row is one way of recognising a class from what
every county uploads: the care setting, ``med_type``, ICD-10 prefixes of the main
diagnosis, the diagnosis table's ``chronic``/``pregnancy`` flags, national catalogue code
prefixes of a fee line of the settlement (antineoplastic drugs XL01, a dialysis session …),
our item groups where the catalogue has them, and whether the pooled fund paid. Every
condition a row fills must hold; the rows of a class are alternatives; the first matching
row in file order gives the class, so the most specific classes come first. A settlement no
row matches has no class.

A class recognised from its treatment lines, not from a code alone (chemotherapy needs an
antineoplastic drug, chemotherapy or radiotherapy on the bill), keeps the exemption from
being a place to hide: a readmission coded Z51.1 without any chemotherapy is no planned
cycle. Where a row asks for both a diagnosis and treatment lines, the diagnosis confirms
the lines: a visit uploaded with no main diagnosis at all (reported by the data-quality
rules) is told by its lines alone — a stay billing cisplatin and its intravenous
administration is chemotherapy — while one whose diagnosis no row names (a chemotherapy
service billed for gallstones) is not of the class. A pharmacy sale, of which no diagnosis
is asked, is not told by a drug it sold.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.knowledge._reader import read_table
from hrss_fraud.lake.sqltext import sql_array
from hrss_fraud.model import codes as C
from hrss_fraud.model import schema as S
from hrss_fraud.resources import policy_dir

FILE = "treatment_class.csv"
SETTINGS = frozenset({"op", "ip", "ph"})
DISE_FLAGS = frozenset({"chronic", "pregnancy"})
CONDITIONS = (
    "setting",
    "med_type",
    "dise_prefix",
    "dise_flag",
    "item_prefix",
    "item_group",
    "fund_paid",
)
_CLASS_NAME = re.compile(r"[a-z][a-z0-9_]*")

TREATMENT_CLASS = S.Table(
    "treatment_class",
    "诊疗类别",
    grain="one row per way of recognising a treatment class (rows of a class are alternatives)",
    key=(),
    fields=(
        S.Field("treatment_class", pl.String, "诊疗类别", "treatment class", required=True),
        S.Field("name_zh", pl.String, "名称", "Chinese name", required=True),
        S.Field("name_en", pl.String, "英文名称", "English name", required=True),
        S.Field("setting", pl.String, "就医场景", "care setting: op, ip or ph"),
        S.Field("med_type", pl.String, "医疗类别", "med_type codes, ';'-separated"),
        S.Field("dise_prefix", pl.String, "主诊断前缀", "ICD-10 prefixes, ';'-separated"),
        S.Field("dise_flag", pl.String, "诊断标志", "diagnosis table flag: chronic, pregnancy"),
        S.Field("item_prefix", pl.String, "项目编码前缀", "national code prefixes of a line"),
        S.Field("item_group", pl.String, "项目分组", "item groups of a line, where known"),
        S.Field("fund_paid", pl.String, "统筹支付", "1: the pooled fund paid; 0: it did not"),
        S.Field("note", pl.String, "说明", "why this is the class"),
    ),
)


def default_path() -> Path:
    """The shipped ``treatment_class.csv`` (checkout, or the copy in the wheel)."""
    return policy_dir("analytics") / "knowledge" / FILE


def load_treatment_classes(path: Path | None = None) -> pl.DataFrame:
    """Load and validate the treatment classes (default: :func:`default_path`).

    Raises:
        ValueError: naming the file, line and column of the first problem: an unknown
            setting, ``med_type`` or flag, a class name that is not a lower-case
            identifier, a row with no condition, or names that differ between the rows of
            one class.
    """
    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        msg = f"{path}: treatment classes ({TREATMENT_CLASS.zh}) not found"
        raise ValueError(msg)
    frame, lines = read_table(
        path,
        TREATMENT_CLASS,
        list_codes={
            "setting": SETTINGS,
            "med_type": frozenset(C.MED_TYPE.values()),
            "dise_flag": DISE_FLAGS,
            "fund_paid": frozenset({"0", "1"}),
        },
    )
    names: dict[str, tuple[str, str, int]] = {}
    for line, row in zip(lines, frame.iter_rows(named=True), strict=True):
        cls = row["treatment_class"]
        if not _CLASS_NAME.fullmatch(cls):
            msg = (
                f"{path}: line {line}, column 'treatment_class': {cls!r} is not a lower-case "
                "identifier (letters, digits, _)"
            )
            raise ValueError(msg)
        if all(row[c] is None for c in CONDITIONS):
            msg = (
                f"{path}: line {line}: class {cls!r} has no condition; fill at least one of "
                f"{', '.join(CONDITIONS)}"
            )
            raise ValueError(msg)
        first = names.setdefault(cls, (row["name_zh"], row["name_en"], line))
        if first[:2] != (row["name_zh"], row["name_en"]):
            msg = (
                f"{path}: line {line}: class {cls!r} is named {row['name_zh']!r}/"
                f"{row['name_en']!r} here but {first[0]!r}/{first[1]!r} on line {first[2]}"
            )
            raise ValueError(msg)
    return frame


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in value.split(";") if p.strip()] if value else []


def _any_prefix(column: str, prefixes: list[str]) -> str:
    return (
        f"len(list_filter({sql_array(prefixes)}, "
        f"lambda p: starts_with(coalesce({column}, ''), p))) > 0"
    )


def _line_condition(row: dict[str, str | None]) -> str | None:
    """SQL true for a fee line (alias ``i``) that this class row looks for, or None when
    the row asks nothing of the lines."""
    parts = []
    if row["item_prefix"]:
        parts.append(_any_prefix("i.med_list_codg", _split(row["item_prefix"])))
    if row["item_group"]:
        parts.append(f"i.item_group IN ({sql_array(_split(row['item_group']))[1:-1]})")
    return " AND ".join(parts) or None


def line_flags_sql(classes: pl.DataFrame, lines: str) -> str | None:
    """A query over ``lines`` (``fixmedins_code``, ``setl_id``, ``med_list_codg``,
    ``item_group``) giving, per settlement that has any, ``line_<k>``: whether one of its
    lines is what class row ``k`` looks for. None when no row looks at lines."""
    conds = {
        k: c
        for k, row in enumerate(classes.iter_rows(named=True))
        if (c := _line_condition(row)) is not None
    }
    if not conds:
        return None
    flags = ", ".join(f"bool_or({c}) AS line_{k}" for k, c in conds.items())
    wanted = " OR ".join(f"({c})" for c in conds.values())
    return (
        f"SELECT i.fixmedins_code, i.setl_id, {flags} FROM {lines} i "
        f"WHERE {wanted} GROUP BY i.fixmedins_code, i.setl_id"
    )


def class_names(con: duckdb.DuckDBPyConnection, lang: str) -> dict[str, str]:
    """Each class's name in ``lang`` (zh or en), from the scoring database's
    ``kb_treatment_class``."""
    col = "name_zh" if lang == "zh" else "name_en"
    rows = con.sql(f"SELECT DISTINCT treatment_class, {col} FROM kb_treatment_class").fetchall()
    return dict(rows)


def outside(classes: list[str], column: str = "treatment_class") -> str:
    """A SQL condition true for a settlement of none of ``classes`` (or of no class)."""
    return f"NOT coalesce(list_contains({sql_array(classes)}, {column}), false)"


def row_condition(row: dict[str, str | None], k: int) -> str:
    """SQL true for a ``visit`` row (alias ``v``, its line flags as alias ``t``: see
    :func:`line_flags_sql`) that class row ``k`` recognises."""
    parts = []
    if row["setting"]:
        parts.append(f"v.setting IN ({sql_array(_split(row['setting']))[1:-1]})")
    if row["med_type"]:
        parts.append(f"v.med_type IN ({sql_array(_split(row['med_type']))[1:-1]})")
    diagnosis = []
    if row["dise_prefix"]:
        diagnosis.append(_any_prefix("v.dise_codg", _split(row["dise_prefix"])))
    if row["dise_flag"]:
        diagnosis.append(f"coalesce(CAST(v.{row['dise_flag']} AS VARCHAR), '') IN ('1', 'true')")
    if diagnosis and _line_condition(row) is not None:
        # the diagnosis confirms what the lines show; a visit uploaded without one (a
        # data-quality finding of its own) is told by its treatment lines alone. Not a
        # pharmacy sale: none is asked of it, and a purchase is no treatment session
        missing = "(v.setting <> 'ph' AND nullif(v.dise_codg, '') IS NULL)"
        parts.append(f"({missing} OR ({' AND '.join(diagnosis)}))")
    else:
        parts.extend(diagnosis)
    if row["fund_paid"] == "0":
        parts.append("coalesce(v.fund_pay_sumamt, 0) = 0")
    elif row["fund_paid"] == "1":
        parts.append("coalesce(v.fund_pay_sumamt, 0) > 0")
    if _line_condition(row) is not None:
        parts.append(f"coalesce(t.line_{k}, false)")
    return " AND ".join(parts)


def class_sql(classes: pl.DataFrame) -> str:
    """A SQL ``CASE`` giving each ``visit`` row (alias ``v``, line flags ``t``) its class:
    the first row of ``classes`` that recognises it, NULL when none."""
    if classes.is_empty():
        return "CAST(NULL AS VARCHAR)"
    whens = " ".join(
        f"WHEN {row_condition(row, k)} THEN '{row['treatment_class']}'"
        for k, row in enumerate(classes.iter_rows(named=True))
    )
    return f"CASE {whens} END"


def class_line_sql(classes: pl.DataFrame, column: str = "v.treatment_class") -> str:
    """SQL true for a fee line (alias ``i``) by which its visit's class (``column``) is
    recognised: the rehabilitation therapy of a rehabilitation visit, the dialysis of a
    dialysis session, the anticancer drug of a chemotherapy visit. A visit's other lines
    (the consultation and drugs at a course's first session) are not the class's own."""
    conds = [
        f"({column} = '{row['treatment_class']}' AND {cond})"
        for row in classes.iter_rows(named=True)
        if (cond := _line_condition(row)) is not None
    ]
    return " OR ".join(conds) or "false"


def base_class_sql(classes: pl.DataFrame) -> str:
    """A SQL ``CASE`` giving each ``visit`` row (alias ``v``) the class it has without
    looking at its lines: what the rest of a session visit is (a stroke survivor's
    consultation is chronic care whether or not a therapy session was booked that day)."""
    lineless = [row for row in classes.iter_rows(named=True) if _line_condition(row) is None]
    return class_sql(pl.DataFrame(lineless, schema=classes.schema))
