"""What makes a look-alike's encounters the care they are: the diagnosis each kind is for,
and the lines peculiar to it (therapy sessions, dressing changes, the prenatal check, a
twelve weeks' supply) on top of the ordinary lines of its diagnosis group."""

from __future__ import annotations

import numpy as np
import polars as pl

from hrss_fraud.synth.lines import LineMaker
from hrss_fraud.synth.lookalike_visits import LOOKALIKE, stream
from hrss_fraud.synth.lookalikes import LONG_SUPPLY_DAYS, POLYPHARMACY_GROUPS
from hrss_fraud.synth.persons import CHRONIC_BITS
from hrss_fraud.synth.world import World

#: The main diagnosis of a kind's encounters in one setting and group (None: any group),
#: where its group's random code would not do: rehabilitation is for stroke sequelae,
#: prenatal checks for the scarred uterus, the planned delivery is a caesarean, and a
#: township centre refers up an acute stroke, coronary syndrome or exacerbation.
FIXED_DIAGNOSIS: dict[tuple[str, str, str | None], tuple[str, ...]] = {
    ("rehab_course", "op", None): ("I69.3",),
    ("maternity_care", "op", None): ("O34.2",),
    ("maternity_care", "ip", None): ("O82.9",),
    ("referral_transfer", "ip", "STROKE"): ("I63.9", "I63.5"),
    ("referral_transfer", "ip", "CHD"): ("I21.9", "I20.0"),
    ("referral_transfer", "ip", "COPD"): ("J44.1", "J44.0"),
}
#: Kinds whose encounters are one episode of one condition: each takes the diagnosis of the
#: person's first encounter of the kind and group.
EPISODES = ("referral_transfer", "emergency_return", "tcm_course", "wound_care")

#: Lines of each session: (kind, item name, probability, most units). Items of one
#: alternative group (``|``) are exclusive: electro-acupuncture includes needling.
SESSION_ITEMS: dict[str, list[tuple[str, float, int]]] = {
    "rehab_course": [
        ("偏瘫肢体综合训练", 1.0, 1),
        ("运动疗法", 0.9, 2),
        ("作业疗法", 0.5, 1),
        ("中频脉冲电治疗", 0.5, 1),
    ],
    "tcm_course": [
        ("电针|普通针刺", 1.0, 1),
        ("拔罐", 0.4, 1),
        ("艾灸", 0.3, 1),
        ("推拿治疗(颈腰部)", 0.4, 1),
    ],
}
#: A fracture's dressing is a medium one; a laparoscopic wound's a small one.
DRESSING = {"FRACT": "换药(中)"}
SMALL_DRESSING = "换药(小)"
PRENATAL_CHECK = "产前检查"
EMERGENCY_CONSULTATION = "急诊诊察费"
#: Drugs per condition at an elderly patient's one-stop visit, and the prescription they go
#: on: cardio-cerebrovascular (1), endocrine and respiratory (2) — five drugs at most each.
REGIMEN = {"HTN": (2, 1), "CHD": (2, 1), "STROKE": (1, 1), "DM": (2, 2), "COPD": (2, 2)}
MONTH_SUPPLY_DAYS = 30
DRUG_TYPES = ("101", "102", "103", "104")
#: Kinds with two visits of one person at one hospital on one day: the later one reads the
#: earlier one's results (检查检验结果互认) and repeats neither its tests nor its drugs.
SAME_DAY = ("same_day_departments", "emergency_return")
MATERNITY_INSUTYPE = "510"


def diagnoses(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """Set the look-alikes' diagnoses (``dise``, an index into the diagnosis table)."""
    codes = world.kb.diagnosis["dise_codg"].to_list()
    rng = stream(world, "diagnoses")
    look = pl.col("kind") == LOOKALIKE
    for (tag, setting, group), fixed in FIXED_DIAGNOSIS.items():
        hit = look & (pl.col("tag") == tag) & (pl.col("setting") == setting)
        if group is not None:
            hit &= pl.col("group") == group
        pick = np.array([codes.index(c) for c in fixed])[rng.integers(0, len(fixed), enc.height)]
        enc = enc.with_columns(
            dise=pl.when(hit).then(pl.Series(pick, dtype=pl.Int64)).otherwise(pl.col("dise"))
        )
    first = pl.col("dise").sort_by("day", "sec").first().over("psn", "tag", "group")
    return enc.with_columns(
        dise=pl.when(look & pl.col("tag").is_in(EPISODES)).then(first).otherwise(pl.col("dise"))
    )


def _item(names: list[str], name: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        msg = f"the catalogue has no item named {name!r}; the look-alikes need it"
        raise ValueError(msg) from None


def _added(
    rng: np.random.Generator, names: list[str], keys: np.ndarray, spec: list[tuple[str, float, int]]
) -> list[pl.DataFrame]:
    out = []
    for name, p, most in spec:
        choices = [_item(names, n) for n in name.split("|")]
        take = rng.random(len(keys)) < p
        item = np.array(choices)[rng.integers(0, len(choices), take.sum())]
        out.append(
            pl.DataFrame(
                {"enc_key": keys[take], "item": item, "cnt": rng.integers(1, most + 1, take.sum())}
            )
        )
    return out


def lines(
    world: World, maker: LineMaker, enc: pl.DataFrame, lines: pl.DataFrame, month: int
) -> pl.DataFrame:
    """The month's lines with the look-alikes' own: sessions keep only the registration
    fee and bill their therapy; wound visits a dressing; employees' prenatal checks the
    check itself; long prescriptions twelve weeks of each chronic drug; an emergency
    visit the emergency consultation; a same-day second visit nothing the first billed
    but its own fees; an elderly patient's one-stop visit a month of every drug they take,
    on two prescriptions (column ``rx``, null elsewhere)."""
    look = enc.filter(pl.col("kind") == LOOKALIKE)
    if look.height == 0:
        return lines.with_columns(rx=pl.lit(None, pl.Int8))
    cat = world.kb.catalogue
    names = cat["med_list_name"].to_list()
    session = look.filter(pl.col("mode") == "session")["enc_key"].implode()
    fee_only = pl.col("enc_key").is_in(session) & ~pl.col("item").is_in(
        [maker.registration, maker.general_fee]
    )
    lines = _same_day(look, lines.filter(~fee_only), maker)
    emergency = look.filter(pl.col("med_type") == "13")["enc_key"].implode()
    lines = lines.with_columns(
        item=pl.when(pl.col("enc_key").is_in(emergency) & (pl.col("item") == maker.consultation))
        .then(pl.lit(_item(names, EMERGENCY_CONSULTATION), pl.Int32))
        .otherwise(pl.col("item"))
    )

    added: list[pl.DataFrame] = []
    for tag, spec in SESSION_ITEMS.items():
        keys = look.filter(pl.col("tag") == tag)["enc_key"].to_numpy()
        added += _added(stream(world, tag, month), names, keys, spec)
    wounds = look.filter(pl.col("tag") == "wound_care")
    dressing = [_item(names, DRESSING.get(g, SMALL_DRESSING)) for g in wounds["group"].to_list()]
    added.append(pl.DataFrame({"enc_key": wounds["enc_key"], "item": dressing, "cnt": 1}))
    checks = look.filter(
        (pl.col("tag") == "maternity_care")
        & (pl.col("setting") == "op")
        & (pl.col("insutype") == MATERNITY_INSUTYPE)
    )
    added.append(
        pl.DataFrame({"enc_key": checks["enc_key"], "item": _item(names, PRENATAL_CHECK), "cnt": 1})
    )
    extra = pl.concat(
        [
            a.select(
                pl.col("enc_key").cast(pl.Int64),
                pl.col("item").cast(pl.Int32),
                pl.col("cnt").cast(pl.Int32),
                day=pl.lit(0, pl.Int32),
                dscg=pl.lit(False),
                scheme=pl.lit(None, pl.String),
            )
            for a in added
        ]
    )
    regimen = _regimen(world, look, stream(world, "elderly_polypharmacy", month))
    drugs = np.flatnonzero(cat["list_type"].is_in(DRUG_TYPES).to_numpy()).tolist()
    pooled = pl.col("enc_key").is_in(regimen["enc_key"].implode()) & pl.col("item").is_in(drugs)
    lines = pl.concat([lines.filter(~pooled), extra, regimen.drop("rx")], how="vertical_relaxed")
    lines = _long_supply(world, look, lines)
    # The added items obey the same pair rules as the rest (electro-acupuncture includes
    # needling: the needling goes).
    mine = pl.col("enc_key").is_in(look["enc_key"].implode())
    own = lines.filter(mine).unique(
        ["enc_key", "item", "day", "dscg"], keep="first", maintain_order=True
    )
    return pl.concat([lines.filter(~mine), maker.clean(own)], how="vertical_relaxed").join(
        regimen.select("enc_key", "item", "rx"),
        on=["enc_key", "item"],
        how="left",
        maintain_order="left",
    )


def _suitable(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Drugs an elderly patient may take for years unsupervised by a rule: no indication,
    disease-catalogue, first-line, age, sex or elderly-caution restriction; and, per
    condition, whether a drug is contraindicated for any of its diagnoses."""
    cat = world.kb.catalogue
    free = pl.all_horizontal(
        pl.col(c).is_null()
        for c in (
            "indications",
            "lmt_dise_catalog",
            "first_line_class",
            "lmt_gend",
            "lmt_age_min_days",
            "lmt_age_max_days",
            "lmt_med_type",
            "lmt_dept",
        )
    ) & pl.col("caution_elderly").fill_null("0").eq("0")
    ok = cat.select(free & pl.col("list_type").eq("101")).to_series().to_numpy()
    dx = world.kb.diagnosis
    contra = cat["contraindications"].fill_null("").to_list()
    bad = np.zeros((len(contra), len(POLYPHARMACY_GROUPS)), dtype=bool)
    for j, g in enumerate(POLYPHARMACY_GROUPS):
        codes = dx.filter(pl.col("dise_group") == g)["dise_codg"].to_list()
        for i, prefixes in enumerate(contra):
            bad[i, j] = any(c.startswith(p) for p in prefixes.split(";") if p for c in codes)
    return ok, bad


def _regimen(world: World, look: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Each one-stop visit's drugs: per condition of the person, drugs of its usual pool
    that suit the elderly and none of their conditions contraindicates, a month's supply."""
    poly = look.filter(pl.col("tag") == "elderly_polypharmacy")
    ok, bad = _suitable(world)
    usage = world.usage.filter((pl.col("setting") == "op") & (pl.col("role") == "drug"))
    cat = world.kb.catalogue
    index = {c: i for i, c in enumerate(cat["med_list_codg"].to_list())}
    days = cat["days_per_unit"].cast(pl.Float64).fill_null(0).to_numpy()
    # a month, or the shorter course a drug may be given for
    most = cat["max_days_supply"].cast(pl.Float64).fill_null(MONTH_SUPPLY_DAYS).to_numpy()
    supply = np.minimum(MONTH_SUPPLY_DAYS, most)
    rows: list[tuple[int, int, int, int]] = []
    for key, psn in poly.select("enc_key", "psn").iter_rows():
        has = [(world.pop.chronic[psn] & CHRONIC_BITS[g]) > 0 for g in POLYPHARMACY_GROUPS]
        unfit = bad[:, np.array(has)].any(axis=1)
        for g, have in zip(POLYPHARMACY_GROUPS, has, strict=True):
            if not have:
                continue
            pool = usage.filter(pl.col("dise_group") == g)
            item = np.array([index[c] for c in pool["med_list_codg"].to_list()], dtype=np.int64)
            fit = ok[item] & ~unfit[item]
            item, w = item[fit], pool["weight"].to_numpy()[fit]
            k, rx = REGIMEN[g]
            for i in rng.choice(item, min(k, len(item)), replace=False, p=w / w.sum()):
                rows.append((key, int(i), max(1, int(supply[i] // max(days[i], 1))), rx))
    return pl.DataFrame(
        rows,
        schema={"enc_key": pl.Int64, "item": pl.Int32, "cnt": pl.Int32, "rx": pl.Int8},
        orient="row",
    ).with_columns(day=pl.lit(0, pl.Int32), dscg=pl.lit(False), scheme=pl.lit(None, pl.String))


def _same_day(look: pl.DataFrame, lines: pl.DataFrame, maker: LineMaker) -> pl.DataFrame:
    """Drop from a same-day second visit what the first visit already billed (fees aside)."""
    later = (
        look.filter(pl.col("tag").is_in(SAME_DAY))
        .sort("sec")
        .with_columns(first=pl.col("enc_key").first().over("psn", "tag", "day"))
        .filter(pl.col("enc_key") != pl.col("first"))
        .select("first", later="enc_key")
    )
    fees = [maker.registration, maker.consultation, maker.general_fee]
    repeated = (
        lines.filter(~pl.col("item").is_in(fees))
        .join(later, left_on="enc_key", right_on="first")
        .select(enc_key="later", item="item")
        .unique()
    )
    return lines.join(repeated, on=["enc_key", "item"], how="anti", maintain_order="left")


def _long_supply(world: World, look: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Up to twelve weeks of every drug with a daily course on a long prescription."""
    cat = world.kb.catalogue
    days = cat["days_per_unit"].cast(pl.Float64).fill_null(0).to_numpy()
    keys = look.filter(pl.col("tag") == "long_prescription")["enc_key"].implode()
    dpu = pl.col("item").replace_strict(
        dict(enumerate(days.tolist())), return_dtype=pl.Float64, default=0.0
    )
    # Whole packs, never beyond twelve weeks.
    packs = (LONG_SUPPLY_DAYS / dpu.clip(lower_bound=1)).floor().clip(lower_bound=1).cast(pl.Int32)
    return lines.with_columns(
        cnt=pl.when(pl.col("enc_key").is_in(keys) & (dpu > 0)).then(packs).otherwise("cnt")
    )
