"""Load the knowledge base (catalogue, pairs, diagnoses, procedures) and the generator's recipe.

The rule templates are generic; these tables instantiate them. They are policy, edited by
analysts without Python, so loading validates every cell and names the file and line of the
first bad one instead of letting a typo switch a rule off silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from hrss_fraud.knowledge._reader import read_table
from hrss_fraud.knowledge.treatment import FILE as TREATMENT_FILE
from hrss_fraud.knowledge.treatment import default_path as default_treatment_path
from hrss_fraud.knowledge.treatment import load_treatment_classes
from hrss_fraud.model import codes as C
from hrss_fraud.model import schema as S
from hrss_fraud.model.codes import Code, CodeList
from hrss_fraud.resources import policy_dir

__all__ = [
    "PAIR_TYPES",
    "RECIPE_GROUP_DEPT",
    "RECIPE_GROUP_MIN_HOSP_LV",
    "USAGE",
    "Knowledge",
    "default_knowledge_dir",
    "default_recipe_dir",
    "load_knowledge",
    "load_usage",
]

PAIR_TYPES = CodeList(
    "pair_type",
    "配对类型",
    (
        Code("duplicate", "重复收费", "item_a includes item_b: item_b billed twice"),
        Code("unbundle", "分解收费", "item_a is a bundle; item_b one of its parts"),
        Code("interaction", "药品相互作用", "drugs not to be used together"),
        Code("herb", "十八反十九畏", "incompatible herbal pieces"),
        Code("companion", "需伴随项目", "item_a needs one of its item_b in the same scope"),
        Code("drug_service", "药品与项目不符", "drug needs one of its item_b services"),
    ),
)
PAIR_SCOPES = CodeList(
    "scope",
    "时间范围",
    (Code("visit", "同一次就诊", "same visit"), Code("day", "同一天", "same calendar day")),
)
HERB_NOPAY = CodeList(
    "herb_nopay",
    "饮片不予支付",
    (
        Code("all", "单复方均不予支付", "never payable"),
        Code("single", "单方不予支付", "not payable when prescribed alone"),
    ),
)
OPRN_DISCOUNT = CodeList(
    "oprn_discount",
    "手术折价规则",
    (Code("second_50", "第二台手术按50%收费", "second surgery in a session at 50 %"),),
)
ANTIBIOTIC_TIER = CodeList(
    "antibiotic_tier",
    "抗菌药物级别",
    (
        Code("1", "非限制使用级", "unrestricted"),
        Code("2", "限制使用级", "restricted"),
        Code("3", "特殊使用级", "special use"),
    ),
)
SETTING = CodeList(
    "setting",
    "就医场景",
    (
        Code("op", "门诊", "outpatient"),
        Code("ip", "住院", "inpatient"),
        Code("ph", "定点药店", "retail pharmacy"),
    ),
)
ROLE = CodeList(
    "role",
    "用途",
    (
        Code("drug", "药品", "op/ph: packs per visit; ip: units per day of the stay"),
        Code("test", "检验检查", "once per visit or on admission"),
        Code("treat", "治疗", "op: per visit; ip: per day of the stay"),
        Code("surgery", "手术", "exactly one per stay, chosen by weight"),
        Code("anaesthesia", "麻醉", "exactly one per stay, chosen by weight"),
        Code("consumable", "耗材", "per visit or per stay"),
        Code("discharge_drug", "出院带药", "packs on the discharge day"),
    ),
)
#: What the sample recipe assumes of the generator, for the few recipe items that carry a
#: department or institution-level restriction: visits of these groups are billed by this
#: department, and only at institutions of at least this level. Other groups may go anywhere.
RECIPE_GROUP_DEPT: dict[str, str] = {
    "CANCER": "A51",
    "CHEMO": "A51",
    "DIALYSIS": "A52",
    "CATAR": "A10",
}
RECIPE_GROUP_MIN_HOSP_LV: dict[str, str] = {
    "CANCER": "2",
    "CHEMO": "2",
    "DIALYSIS": "2",
    "KNEE_OA": "2",
}

#: Roles that only make sense for an inpatient stay.
IP_ONLY_ROLES = frozenset({"surgery", "anaesthesia", "discharge_drug"})

USAGE = S.Table(
    "usage",
    "生成器用药用项配方",
    grain="one row per (diagnosis group, care setting, role, item) the generator may bill",
    key=("dise_group", "setting", "role", "med_list_codg"),
    fields=(
        S.Field(
            "dise_group",
            pl.String,
            "诊断分组",
            "diagnosis group ('*' = every group)",
            required=True,
        ),
        S.Field("setting", pl.String, "就医场景", "care setting", required=True, codes=SETTING),
        S.Field("role", pl.String, "用途", "role", required=True, codes=ROLE),
        S.Field(
            "med_list_codg", pl.String, "医疗目录编码", "national catalogue code", required=True
        ),
        S.Field("weight", pl.Float64, "权重", "probability of use", required=True),
        S.Field("cnt_min", pl.Float64, "最小数量", "minimum quantity", required=True),
        S.Field("cnt_max", pl.Float64, "最大数量", "maximum quantity", required=True),
    ),
)

_CATALOGUE_LIST_CODES = {
    "lmt_med_type": frozenset(C.MED_TYPE.values()),
    "lmt_dept": frozenset(C.DEPT.values()),
    "lmt_insutype": frozenset(C.INSUTYPE.values()),
}
_CATALOGUE_CODES = {
    "herb_nopay": HERB_NOPAY,
    "oprn_discount": OPRN_DISCOUNT,
    "antibiotic_tier": ANTIBIOTIC_TIER,
}
_PAIR_CODES = {"pair_type": PAIR_TYPES, "scope": PAIR_SCOPES}


@dataclass(frozen=True)
class Knowledge:
    """The four knowledge tables, each typed as its canonical schema table, and the
    treatment classes (:mod:`hrss_fraud.knowledge.treatment`).

    ``absent`` names, per table, the optional columns its file left out (read as empty):
    a centre's own catalogue has the platform's columns but not our internal groupings.
    Rules that need what is missing say so (:mod:`hrss_fraud.engine.needs`)."""

    catalogue: pl.DataFrame
    knowledge_pair: pl.DataFrame
    diagnosis: pl.DataFrame
    procedure: pl.DataFrame
    treatment_class: pl.DataFrame
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)


def default_knowledge_dir() -> Path:
    """The ``analytics/knowledge`` policy folder (checkout, or the copy in the wheel)."""
    return policy_dir("analytics") / "knowledge"


def default_recipe_dir() -> Path:
    """The generator's recipe: the checkout's ``sample_data/recipe``, or the wheel's copy."""
    package = Path(__file__).resolve().parents[1]
    for path in (package.parent / "sample_data" / "recipe", package / "defaults" / "recipe"):
        if path.is_dir():
            return path
    msg = f"no generator recipe found (looked in {package.parent / 'sample_data' / 'recipe'})"
    raise FileNotFoundError(msg)


def load_knowledge(root: Path | None = None) -> Knowledge:
    """Load and validate ``catalogue``, ``knowledge_pair``, ``diagnosis``, ``procedure`` CSVs.

    ``root`` is the folder holding the four files (default: :func:`default_knowledge_dir`).
    Besides each cell, checks that keys are unique and that every pair names catalogue items.
    A file may leave out optional columns (a centre's catalogue without our item groups):
    they are read as empty and listed in :attr:`Knowledge.absent`; every required column
    must be there. The treatment classes are read from ``root/treatment_class.csv`` when
    the folder has its own, else the shipped ones apply (a centre's catalogue rarely
    comes with them).

    Raises:
        ValueError: naming the file, line and column of the first problem.
    """
    root = Path(root) if root is not None else default_knowledge_dir()
    frames: dict[str, pl.DataFrame] = {}
    absent: dict[str, tuple[str, ...]] = {}
    pair_lines: list[int] = []
    for table in (S.CATALOGUE, S.KNOWLEDGE_PAIR, S.DIAGNOSIS, S.PROCEDURE):
        path = root / f"{table.name}.csv"
        if not path.is_file():
            msg = f"{path}: knowledge table {table.name} ({table.zh}) not found"
            raise ValueError(msg)
        codes = {"catalogue": _CATALOGUE_CODES, "knowledge_pair": _PAIR_CODES}.get(table.name)
        list_codes = _CATALOGUE_LIST_CODES if table is S.CATALOGUE else None
        left_out: list[str] = []
        frame, lines = read_table(path, table, codes=codes, list_codes=list_codes, absent=left_out)
        _check_unique(path, lines, frame, table.key)
        frames[table.name] = frame
        if left_out:
            absent[table.name] = tuple(left_out)
        if table is S.KNOWLEDGE_PAIR:
            pair_lines = lines
    known = set(frames["catalogue"]["med_list_codg"].to_list())
    pair_path = root / "knowledge_pair.csv"
    _check_known(pair_path, pair_lines, frames["knowledge_pair"], ("item_a", "item_b"), known)
    own = root / TREATMENT_FILE
    treatment = load_treatment_classes(own if own.is_file() else default_treatment_path())
    return Knowledge(**frames, treatment_class=treatment, absent=absent)


def load_usage(root: Path | None = None, *, catalogue: pl.DataFrame | None = None) -> pl.DataFrame:
    """Load the generator's recipe ``usage.csv`` from ``root`` (default: the sample recipe).

    Pass ``catalogue`` to also check that every ``med_list_codg`` is a catalogue item.

    Raises:
        ValueError: naming the file, line and column of the first problem.
    """
    root = Path(root) if root is not None else default_recipe_dir()
    path = root / "usage.csv"
    if not path.is_file():
        msg = f"{path}: usage recipe not found"
        raise ValueError(msg)
    frame, lines = read_table(path, USAGE)
    _check_unique(path, lines, frame, USAGE.key)
    for i, row in enumerate(frame.iter_rows(named=True)):
        problem = _usage_problem(row)
        if problem:
            msg = f"{path}: line {lines[i]}: {problem}"
            raise ValueError(msg)
    if catalogue is not None:
        known = set(catalogue["med_list_codg"].to_list())
        _check_known(path, lines, frame, ("med_list_codg",), known)
    return frame


def _usage_problem(row: dict[str, object]) -> str | None:
    weight, lo, hi = (float(row[k]) for k in ("weight", "cnt_min", "cnt_max"))  # type: ignore[arg-type]
    if not 0 < weight <= 1:
        return f"column 'weight': {weight} is not a probability in (0, 1]"
    if not 0 < lo <= hi:
        return f"columns 'cnt_min'/'cnt_max': need 0 < cnt_min <= cnt_max, got {lo}/{hi}"
    if row["role"] in IP_ONLY_ROLES and row["setting"] != "ip":
        return f"column 'role': {row['role']!r} is only for setting 'ip'"
    return None


def _check_unique(path: Path, lines: list[int], frame: pl.DataFrame, key: tuple[str, ...]) -> None:
    seen: dict[tuple[object, ...], int] = {}
    for i, values in enumerate(frame.select(key).iter_rows()):
        if values in seen:
            msg = (
                f"{path}: line {lines[i]}: duplicate key {', '.join(key)} = {values} "
                f"(first on line {seen[values]})"
            )
            raise ValueError(msg)
        seen[values] = lines[i]


def _check_known(
    path: Path,
    lines: list[int],
    frame: pl.DataFrame,
    columns: tuple[str, ...],
    known: set[str],
) -> None:
    for column in columns:
        for i, code in enumerate(frame[column].to_list()):
            if code not in known:
                msg = (
                    f"{path}: line {lines[i]}, column {column!r}: {code!r} is not in the catalogue"
                )
                raise ValueError(msg)


#: Catalogue columns that restrict who, where or with what an item may be billed.
RESTRICTION_COLUMNS = (
    "lmt_gend",
    "lmt_age_min_days",
    "lmt_age_max_days",
    "forbid_age_max_days",
    "lmt_insutype",
    "lmt_hosp_lv",
    "lmt_dept",
    "lmt_med_type",
    "indications",
    "contraindications",
    "lmt_dise_catalog",
    "herb_nopay",
    "first_line_class",
)


def unrestricted(catalogue: pl.DataFrame) -> np.ndarray:
    """Items any patient may get anywhere: no restriction, no caution, a first-tier
    antibiotic at most. The generator bills these where a scheme must break nothing else."""
    mask = pl.all_horizontal(pl.col(c).is_null() for c in RESTRICTION_COLUMNS)
    mask &= pl.col("antibiotic_tier").fill_null("1").eq("1")
    mask &= pl.col("caution_elderly").fill_null("0").eq("0")
    mask &= pl.col("caution_pregnancy").fill_null("0").eq("0")
    return catalogue.select(mask).to_series().to_numpy()


def quantity_cap(catalogue: pl.DataFrame) -> np.ndarray:
    """The tightest of each item's per-line, per-day and per-visit caps (inf where none)."""
    caps = catalogue.select(
        pl.min_horizontal(
            pl.col(c).cast(pl.Float64).fill_null(float("inf"))
            for c in ("max_cnt_line", "max_cnt_day", "max_cnt_visit")
        )
    )
    return caps.to_series().to_numpy()
