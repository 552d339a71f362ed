"""Injected schemes with their ground truth, and the legitimate look-alikes they must not
be confused with.

Most fraud sits in a minority of institutions (``fraud_rate``); institution-driven schemes
are assigned to fraudulent institutions of a fitting kind, and a scheme's *rate* is the
chance that an eligible encounter (or line) there is affected. Person-driven schemes happen
at honest institutions; their rate is the share of eligible persons affected. Every
scheme records how many were eligible and how many affected, so tests can check rates.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from hrss_fraud.knowledge import quantity_cap, unrestricted
from hrss_fraud.synth import plan
from hrss_fraud.synth.persons import CHRONIC_BITS
from hrss_fraud.synth.world import EXTRA_SCHEMA, World

INPATIENT_KINDS = ("A2", "B1")
DRUG_TYPES = ("101", "102", "103", "104")
SERVICE_TYPES = ("201", "301")
CLINIC_KINDS = ("A2", "B1", "C1", "C2")
PHARMACY_KINDS = ("D1",)
ELDERLY_DAYS = 65 * 365


@dataclass(frozen=True)
class Scheme:
    name: str
    zh: str
    family: str  # rule: fixed rules should catch it; beyond: rules alone miss it
    driver: str  # institution or person
    entity: str  # fee_line, settlement, person, institution, doctor
    rate: float
    kinds: tuple[str, ...] = ()
    phase: str = "plan"


SCHEMES: dict[str, Scheme] = {}
_INJECT: dict[str, Callable[..., object]] = {}


def scheme(
    name: str,
    zh: str,
    family: str,
    driver: str,
    entity: str,
    rate: float,
    kinds: tuple[str, ...] = (),
    phase: str = "plan",
) -> Callable:
    def register(fn: Callable) -> Callable:
        SCHEMES[name] = Scheme(name, zh, family, driver, entity, rate, kinds, phase)
        _INJECT[name] = fn
        return fn

    return register


def rate(world: World, name: str) -> float:
    return float(world.cfg.scheme_rates.get(name, SCHEMES[name].rate))


# --------------------------------------------------------------------------------------
# The injection context: the plan, added encounters and extra lines.


class Ctx:
    """What plan-phase injectors read and write."""

    def __init__(self, world: World, enc: pl.DataFrame) -> None:
        self.world = world
        self.rng = world.rng
        self.enc = enc
        self.next_key = int(enc["enc_key"].max()) + 1 if enc.height else 0
        self.new: list[pl.DataFrame] = []
        self.extra: list[pl.DataFrame] = []
        cat = world.kb.catalogue
        self.cat = cat
        dx = world.kb.diagnosis
        self.dx_code = dx["dise_codg"].to_numpy().astype(str)
        self.dx_catalog = dx["catalog"].fill_null("").to_numpy().astype(str)
        self.dx_pregnancy = dx["pregnancy"].fill_null("0").to_numpy().astype(str) == "1"
        self._cols: dict[str, np.ndarray] = {}
        self.restrictions = self._restrictions()
        self.refresh()

    def refresh(self) -> None:
        e = self.enc
        w = self.world
        psn = e["psn"].to_numpy()
        self._cols = {
            "psn": psn,
            "inst": e["inst"].to_numpy(),
            "setting": e["setting"].to_numpy().astype(str),
            "med_type": e["med_type"].to_numpy().astype(str),
            "dept": e["dept"].to_numpy().astype(str),
            "group": e["group"].to_numpy().astype(str),
            "kind": e["kind"].to_numpy().astype(str),
            "day": e["day"].to_numpy(),
            "los": e["los"].to_numpy(),
            "key": e["enc_key"].to_numpy(),
            "gend": w.pop.person["gend"].to_numpy()[psn],
            "age_days": (w.pop.age_years[psn] * 365.25 + e["day"].to_numpy()),
            "insutype": np.where(
                (e["group"].to_numpy() == "DELIV")
                & (w.pop.person["insutype"].to_numpy()[psn] == "310"),
                "510",
                w.pop.person["insutype"].to_numpy()[psn],
            ),
            "level": w.inst_level[e["inst"].to_numpy()],
            "inst_kind": w.inst_kind[e["inst"].to_numpy()],
        }

    def __getitem__(self, col: str) -> np.ndarray:
        return self._cols[col]

    def at(self, name: str, setting: str | tuple[str, ...] | None = None) -> np.ndarray:
        """Ordinary encounters at the institutions this scheme was assigned to."""
        insts = self.world.scheme_inst.get(name, np.zeros(0, dtype=np.int64))
        m = np.isin(self["inst"], insts) & (self["kind"] == "")
        if setting is not None:
            m &= np.isin(self["setting"], np.atleast_1d(setting))
        return m

    def choose_rows(self, name: str, rows: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.enc.height, dtype=bool)
        mask[rows] = True
        return self.choose(name, mask)

    def choose(self, name: str, mask: np.ndarray, r: float | None = None) -> np.ndarray:
        """Pick each eligible row with the scheme's rate; record eligible and affected."""
        eligible = np.flatnonzero(mask)
        p = rate(self.world, name) if r is None else r
        picked = eligible[self.rng.random(len(eligible)) < p]
        stat = self.world.stats.setdefault(name, [0, 0])
        stat[0] += len(eligible)
        stat[1] += len(picked)
        return picked

    def add_extra(
        self,
        rows: np.ndarray,
        item: np.ndarray,
        name: str | None,
        *,
        cnt: np.ndarray | int = 1,
        day: np.ndarray | int | None = None,
        pric_fen: np.ndarray | int = -1,
    ) -> None:
        rows = np.asarray(rows)
        keep = np.asarray(item) >= 0
        if day is None:
            los = np.maximum(self["los"][rows], 1)
            day = np.where(
                self["setting"][rows] == "ip",
                (self.rng.random(len(rows)) * los).astype(np.int64),
                0,
            )
        n = len(rows)
        df = pl.DataFrame(
            {
                "enc_key": self["key"][rows],
                "item": np.broadcast_to(item, n),
                "cnt": np.broadcast_to(cnt, n),
                "day": np.broadcast_to(day, n),
                "pric_fen": np.broadcast_to(pric_fen, n),
                "scheme": pl.Series([name] * n, dtype=pl.String),
            },
            schema=EXTRA_SCHEMA,
        )
        self.extra.append(df.filter(pl.Series(np.broadcast_to(keep, n))))

    def add_encounters(self, frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns(
            enc_key=pl.int_range(self.next_key, self.next_key + frame.height, dtype=pl.Int64)
        )
        self.next_key += frame.height
        self.new.append(frame)
        return frame

    # -- catalogue helpers ------------------------------------------------------------
    def items(self, expr: pl.Expr) -> np.ndarray:
        return self.cat.with_row_index("i").filter(expr)["i"].to_numpy().astype(np.int64)

    def col(self, name: str) -> np.ndarray:
        return self.cat[name].to_numpy()

    def _restrictions(self) -> dict[str, np.ndarray]:
        """The catalogue's restriction columns as arrays, read once."""
        c = self.cat

        def text(name: str, default: str = "") -> np.ndarray:
            return c[name].fill_null(default).to_numpy().astype(str)

        return {
            "gend": text("lmt_gend"),
            "age_lo": c["lmt_age_min_days"].fill_null(-1).to_numpy(),
            "age_hi": c["lmt_age_max_days"].fill_null(10**8).to_numpy(),
            "forbid": c["forbid_age_max_days"].fill_null(-1).to_numpy(),
            "elderly": text("caution_elderly", "0") == "1",
            "pregnancy": text("caution_pregnancy", "0") == "1",
            "lmt_insutype": text("lmt_insutype"),
            "lmt_dept": text("lmt_dept"),
            "lmt_med_type": text("lmt_med_type"),
            "level": text("lmt_hosp_lv", "0").astype(int),
            "tier": text("antibiotic_tier", "1"),
            "indications": text("indications"),
            "contraindications": text("contraindications"),
            "catalogue": text("lmt_dise_catalog"),
            "nopay": text("herb_nopay"),
            "second": text("first_line_class"),
        }

    def compatible(
        self, rows: np.ndarray, items: np.ndarray, ignore: tuple[str, ...] = ()
    ) -> np.ndarray:
        """[rows × items]: the item breaks none of its restrictions except ``ignore``."""
        k = self.restrictions
        ok = np.ones((len(rows), len(items)), dtype=bool)
        if len(rows) == 0 or len(items) == 0:
            return ok
        gend, age = self["gend"][rows][:, None], self["age_days"][rows][:, None]
        if "sex" not in ignore:
            lg = k["gend"][items][None, :]
            ok &= (lg == "") | (lg == gend)
        if "age" not in ignore:
            ok &= (age >= k["age_lo"][items]) & (age <= k["age_hi"][items])
            ok &= age > k["forbid"][items]
        if "elderly" not in ignore:
            ok &= ~(k["elderly"][items][None, :] & (age >= ELDERLY_DAYS))
        dise = np.maximum(self.enc["dise"].to_numpy()[rows], 0)
        code = self.dx_code[dise]
        if "pregnancy" not in ignore:
            preg = np.isin(self["med_type"][rows], ["51", "52"]) | self.dx_pregnancy[dise]
            ok &= ~(k["pregnancy"][items][None, :] & preg[:, None])
        for name, key, value in (
            ("insutype", "lmt_insutype", self["insutype"]),
            ("dept", "lmt_dept", self["dept"]),
            ("setting", "lmt_med_type", self["med_type"]),
        ):
            if name not in ignore:
                for j, allowed in enumerate(k[key][items]):
                    if allowed:
                        ok[:, j] &= np.isin(value[rows], allowed.split(";"))
        lv = self["level"][rows]
        have = np.where(np.isin(lv, ["1", "2", "3"]), lv, "0").astype(int)
        if "level" not in ignore:
            ok &= have[:, None] >= k["level"][items][None, :]
        if "antibiotic" not in ignore:
            tier = k["tier"][items][None, :]
            not_ward = ((have < 2) | (self["setting"][rows] != "ip"))[:, None]
            ok &= ~((tier == "3") & not_ward) & ~((tier == "2") & (have < 1)[:, None])
        for name, key, want in (
            ("indication", "indications", True),
            ("contraindication", "contraindications", False),
        ):
            if name not in ignore:
                for j, prefixes in enumerate(k[key][items]):
                    if prefixes:
                        hit = _starts(code, prefixes)
                        ok[:, j] &= hit if want else ~hit
        if "catalogue" not in ignore:
            cat_of = self.dx_catalog[dise]
            for j, d in enumerate(k["catalogue"][items]):
                if d:
                    ok[:, j] &= cat_of == d
        if "herb_nopay" not in ignore:
            ok &= (k["nopay"][items] == "")[None, :]
        if "second_line" not in ignore:
            ok &= (k["second"][items] == "")[None, :]
        return ok

    def pick_items(
        self,
        rows: np.ndarray,
        items: np.ndarray,
        ignore: tuple[str, ...] = (),
        violates: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """For each row an item compatible except for ``ignore`` (and, when given, one that
        ``violates`` the targeted restriction); -1 where none fits."""
        if len(items) == 0:
            return np.full(len(rows), -1)
        ok = self.compatible(rows, items, ignore)
        if violates is not None:
            ok &= violates(rows, items)
        r = self.rng.random(ok.shape) * ok
        pick = r.argmax(axis=1)
        return np.where(ok.any(axis=1), items[pick], -1)


# --------------------------------------------------------------------------------------
# Assigning schemes to fraudulent institutions.


def assign(world: World) -> None:
    """Choose the fraudulent institutions (about ``fraud_rate`` of them, at least one of each
    kind that schemes need) and give each institution-driven scheme one or more of them.

    Larger institutions are likelier picks (more claims, more to gain), and every scheme gets
    at least the busiest fraudulent institution of a fitting kind."""
    if world.cfg.fraud_rate == 0:
        return
    rng = world.rng
    kinds = world.inst_kind
    share = world.county.townships["share"].to_numpy()[world.inst_town]
    weight = share * np.select([np.isin(kinds, ["A2", "B1"]), kinds == "D1"], [4.0, 2.0], 1.0)
    target = max(4, round(world.cfg.fraud_rate * len(kinds)))
    chosen: list[int] = []
    for k in ("B1", "D1", "A2", "C1", "C2"):
        pool = np.flatnonzero(kinds == k)
        if len(pool) and len(chosen) < target:
            chosen.append(int(rng.choice(pool, p=weight[pool] / weight[pool].sum())))
    rest = np.setdiff1d(np.flatnonzero(~np.isin(kinds, ["A1", "A3"])), chosen)
    more = max(0, min(len(rest), target - len(chosen)))
    chosen += rng.choice(rest, more, replace=False, p=weight[rest] / weight[rest].sum()).tolist()
    world.fraud_inst[chosen] = True
    fraud = np.array(sorted(chosen))
    for s in SCHEMES.values():
        if s.driver != "institution":
            continue
        # bill-phase schemes draw from their own streams (see bill_phase)
        draw = own_rng(world, s.name, -1) if s.phase == "bill" else rng
        fit = fraud[np.isin(kinds[fraud], s.kinds)]
        fit = fit[np.argsort(-weight[fit], kind="stable")]
        take = fit[1:][draw.random(max(0, len(fit) - 1)) < 0.5]
        world.scheme_inst[s.name] = np.r_[fit[:1], take].astype(np.int64)


# --------------------------------------------------------------------------------------
# Restriction breaches: an item billed where one of its restrictions forbids it.


def _restriction(
    ctx: Ctx,
    name: str,
    restriction: str,
    items: np.ndarray,
    violates: Callable[[np.ndarray, np.ndarray], np.ndarray],
    setting: str | tuple[str, ...] = ("op", "ip"),
    mask: np.ndarray | None = None,
) -> None:
    """Eligible: encounters where some item breaks this restriction and no other. Each is
    affected with the scheme's rate and gets one such item."""
    cand = np.flatnonzero(ctx.at(name, setting) & (True if mask is None else mask))
    ok = ctx.compatible(cand, items, (restriction,)) & violates(cand, items)
    fits = ok.any(axis=1)
    picked = ctx.choose_rows(name, cand[fits])
    sub = ok[fits][np.isin(cand[fits], picked)]
    pick = (ctx.rng.random(sub.shape) * sub).argmax(axis=1)
    ctx.add_extra(picked, items[pick] if len(items) else np.zeros(0, np.int64), name)


def _prefix_hit(ctx: Ctx, rows: np.ndarray, items: np.ndarray, column: str) -> np.ndarray:
    code = ctx.dx_code[np.maximum(ctx.enc["dise"].to_numpy()[rows], 0)]
    prefixes = ctx.cat[column].fill_null("").to_numpy().astype(str)[items]
    return (
        np.stack([_starts(code, p) for p in prefixes], axis=1)
        if len(items)
        else (np.zeros((len(rows), 0), dtype=bool))
    )


R = "rule"
B = "beyond"
I_ = "institution"
P_ = "person"


@scheme("restriction_sex", "限性别项目用于异性", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _sex(ctx: Ctx) -> None:
    items = ctx.items(pl.col("lmt_gend").is_not_null())
    lg = ctx.col("lmt_gend")
    _restriction(
        ctx, "restriction_sex", "sex", items, lambda r, i: lg[i][None, :] != ctx["gend"][r][:, None]
    )


@scheme("restriction_age", "限年龄项目超范围使用", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _age(ctx: Ctx) -> None:
    items = ctx.items(
        pl.col("lmt_age_max_days").is_not_null()
        | pl.col("lmt_age_min_days").is_not_null()
        | pl.col("forbid_age_max_days").is_not_null()
    )
    lo = ctx.cat["lmt_age_min_days"].fill_null(-1).to_numpy()
    hi = ctx.cat["lmt_age_max_days"].fill_null(10**8).to_numpy()
    fb = ctx.cat["forbid_age_max_days"].fill_null(-1).to_numpy()

    def violates(r: np.ndarray, i: np.ndarray) -> np.ndarray:
        a = ctx["age_days"][r][:, None]
        return (a < lo[i][None, :]) | (a > hi[i][None, :]) | (a <= fb[i][None, :])

    _restriction(ctx, "restriction_age", "age", items, violates)


@scheme("restriction_insutype", "限险种项目超范围使用", R, I_, "fee_line", 0.3, INPATIENT_KINDS)
def _insutype(ctx: Ctx) -> None:
    items = ctx.items(pl.col("lmt_insutype").is_not_null())
    allowed = ctx.cat["lmt_insutype"].fill_null("").to_numpy().astype(str)

    def violates(r: np.ndarray, i: np.ndarray) -> np.ndarray:
        return np.stack([~np.isin(ctx["insutype"][r], allowed[j].split(";")) for j in i], axis=1)

    _restriction(ctx, "restriction_insutype", "insutype", items, violates, "ip")


@scheme(
    "restriction_level", "限医疗机构级别项目超级别使用", R, I_, "fee_line", 0.02, ("B1", "C1", "C2")
)
def _level(ctx: Ctx) -> None:
    items = ctx.items(pl.col("lmt_hosp_lv").is_in(["2", "3"]))
    _restriction(
        ctx, "restriction_level", "level", items, lambda r, i: np.ones((len(r), len(i)), dtype=bool)
    )


@scheme("restriction_dept", "限科室项目超科室使用", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _dept(ctx: Ctx) -> None:
    items = ctx.items(pl.col("lmt_dept").is_not_null() & pl.col("lmt_hosp_lv").is_null())
    allowed = ctx.cat["lmt_dept"].fill_null("").to_numpy().astype(str)

    def violates(r: np.ndarray, i: np.ndarray) -> np.ndarray:
        return np.stack([~np.isin(ctx["dept"][r], allowed[j].split(";")) for j in i], axis=1)

    _restriction(ctx, "restriction_dept", "dept", items, violates)


@scheme("restriction_setting", "限就医方式项目超范围使用", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _setting(ctx: Ctx) -> None:
    items = ctx.items(pl.col("lmt_med_type").is_not_null())
    allowed = ctx.cat["lmt_med_type"].fill_null("").to_numpy().astype(str)

    def violates(r: np.ndarray, i: np.ndarray) -> np.ndarray:
        return np.stack([~np.isin(ctx["med_type"][r], allowed[j].split(";")) for j in i], axis=1)

    _restriction(ctx, "restriction_setting", "setting", items, violates, "op")


@scheme("indication", "超适应症使用", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _indication(ctx: Ctx) -> None:
    items = ctx.items(pl.col("indications").is_not_null())
    _restriction(
        ctx, "indication", "indication", items, lambda r, i: ~_prefix_hit(ctx, r, i, "indications")
    )


@scheme("contraindication", "禁忌症用药", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _contraindication(ctx: Ctx) -> None:
    """A drug given to a patient whose recorded diagnosis forbids it."""
    items = ctx.items(pl.col("contraindications").is_not_null())
    _with_diagnosis(
        ctx,
        "contraindication",
        items,
        "contraindication",
        lambda code, i: _starts(code, ctx.cat["contraindications"][int(i)]),
    )


def _starts(code: np.ndarray, prefixes: str | None) -> np.ndarray:
    hit = np.zeros(len(code), dtype=bool)
    for p in (prefixes or "").split(";"):
        if p:
            hit |= np.char.startswith(code, p)
    return hit


def _with_diagnosis(
    ctx: Ctx,
    name: str,
    items: np.ndarray,
    restriction: str,
    dx_fits: Callable[[np.ndarray, int], np.ndarray],
    mask: np.ndarray | None = None,
    setting: str = "op",
) -> None:
    """Record a diagnosis that makes the item a breach, then bill the item: for restrictions
    that need a particular diagnosis on the claim (contraindications, pregnancy)."""
    rows = ctx.choose(name, ctx.at(name, setting) & (True if mask is None else mask))
    if not len(rows) or not len(items):
        return
    dx = ctx.world.kb.diagnosis
    age = ctx["age_days"][rows][:, None]
    sex = dx["lmt_gend"].fill_null("").to_numpy().astype(str)[None, :]
    dx_ok = (
        (age >= dx["lmt_age_min_days"].fill_null(-1).to_numpy()[None, :])
        & (age <= dx["lmt_age_max_days"].fill_null(10**8).to_numpy()[None, :])
        & ((sex == "") | (sex == ctx["gend"][rows][:, None]))
    )
    item_dx = np.stack([dx_fits(ctx.dx_code, int(i)) for i in items])  # items × dx
    feasible = ctx.compatible(rows, items, (restriction, "indication"))
    feasible &= (dx_ok.astype(np.int32) @ item_dx.T.astype(np.int32)) > 0
    pick = (ctx.rng.random(feasible.shape) * feasible).argmax(axis=1)
    item = np.where(feasible.any(axis=1), items[pick], -1)
    choice = dx_ok & item_dx[pick]
    new_dx = (ctx.rng.random(choice.shape) * choice).argmax(axis=1)
    dise = ctx.enc["dise"].to_numpy().copy()
    dise[rows[item >= 0]] = new_dx[item >= 0]
    ctx.enc = ctx.enc.with_columns(dise=pl.Series(dise, dtype=pl.Int64))
    ctx.add_extra(rows, item, name)


@scheme("disease_catalogue", "超限定病种目录使用", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _catalogue(ctx: Ctx) -> None:
    items = ctx.items(pl.col("lmt_dise_catalog").is_not_null())
    dc = ctx.cat["lmt_dise_catalog"].fill_null("").to_numpy().astype(str)

    def violates(r: np.ndarray, i: np.ndarray) -> np.ndarray:
        have = ctx.dx_catalog[np.maximum(ctx.enc["dise"].to_numpy()[r], 0)]
        return have[:, None] != dc[i][None, :]

    _restriction(ctx, "disease_catalogue", "catalogue", items, violates)


@scheme("herb_nopay", "不予支付饮片纳入报销", R, I_, "fee_line", 0.05, ("A2", "B1", "C2"))
def _herb(ctx: Ctx) -> None:
    items = ctx.items(pl.col("herb_nopay") == "all")
    _restriction(
        ctx,
        "herb_nopay",
        "herb_nopay",
        items,
        lambda r, i: np.ones((len(r), len(i)), dtype=bool),
        "op",
    )


@scheme("restriction_elderly", "老年人慎用药品", R, I_, "fee_line", 0.03, CLINIC_KINDS)
def _elderly(ctx: Ctx) -> None:
    items = ctx.items(pl.col("caution_elderly") == "1")
    _restriction(
        ctx,
        "restriction_elderly",
        "elderly",
        items,
        lambda r, i: np.repeat((ctx["age_days"][r] >= ELDERLY_DAYS)[:, None], len(i), 1),
    )


@scheme("restriction_pregnancy", "妊娠期禁用药品", R, I_, "fee_line", 0.1, CLINIC_KINDS)
def _pregnancy(ctx: Ctx) -> None:
    """A drug forbidden in pregnancy prescribed at a pregnant woman's visit."""
    items = ctx.items(pl.col("caution_pregnancy") == "1")
    women = (ctx["gend"] == "2") & (ctx["age_days"] >= 20 * 365) & (ctx["age_days"] < 40 * 365)
    _with_diagnosis(
        ctx,
        "restriction_pregnancy",
        items,
        "pregnancy",
        lambda code, i: ctx.dx_pregnancy,
        mask=women,
    )


@scheme("antibiotic_tier", "抗菌药物越级使用", R, I_, "fee_line", 0.02, ("B1", "C1", "C2"))
def _antibiotic(ctx: Ctx) -> None:
    items = ctx.items(pl.col("antibiotic_tier").is_in(["2", "3"]))
    _restriction(
        ctx,
        "antibiotic_tier",
        "antibiotic",
        items,
        lambda r, i: np.ones((len(r), len(i)), dtype=bool),
        "op",
    )


# --------------------------------------------------------------------------------------
# Pairs, quantities and prices.


def _pairs(
    ctx: Ctx,
    name: str,
    pair_type: str,
    tag_a: bool = False,
    add_b: bool = True,
    setting: str | tuple[str, ...] = ("op", "ip"),
) -> None:
    idx = {c: i for i, c in enumerate(ctx.cat["med_list_codg"].to_list())}
    pairs = ctx.world.kb.knowledge_pair.filter(pl.col("pair_type") == pair_type)
    a = np.array([idx.get(x, -1) for x in pairs["item_a"].to_list()], dtype=np.int64)
    b = np.array([idx.get(x, -1) for x in pairs["item_b"].to_list()], dtype=np.int64)
    ok_pair = (a >= 0) & (b >= 0)
    a, b = a[ok_pair], b[ok_pair]
    rows = ctx.choose(name, ctx.at(name, setting))
    if not len(a) or not len(rows):
        return
    both = np.unique(np.r_[a, b])
    fit = ctx.compatible(rows, both)
    pos = {int(x): j for j, x in enumerate(both)}
    ok = np.stack(
        [fit[:, pos[int(x)]] & fit[:, pos[int(y)]] for x, y in zip(a, b, strict=True)], axis=1
    )
    pick = (ctx.rng.random(ok.shape) * ok).argmax(axis=1)
    has = ok.any(axis=1)
    rows, pick = rows[has], pick[has]
    day = np.where(
        ctx["setting"][rows] == "ip",
        (ctx.rng.random(len(rows)) * np.maximum(ctx["los"][rows], 1)).astype(int),
        0,
    )
    ctx.add_extra(rows, a[pick], name if tag_a else None, day=day)
    if add_b:
        ctx.add_extra(rows, b[pick], None if tag_a else name, day=day)


@scheme("duplicate_billing", "重复收费", R, I_, "fee_line", 0.03, CLINIC_KINDS)
def _duplicate(ctx: Ctx) -> None:
    _pairs(ctx, "duplicate_billing", "duplicate")


@scheme("unbundling", "分解收费", R, I_, "fee_line", 0.03, CLINIC_KINDS)
def _unbundle(ctx: Ctx) -> None:
    _pairs(ctx, "unbundling", "unbundle")


@scheme("drug_interaction", "药品相互作用", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _interaction(ctx: Ctx) -> None:
    _pairs(ctx, "drug_interaction", "interaction")


@scheme(
    "herb_incompatibility",
    "中药饮片配伍禁忌(十八反十九畏)",
    R,
    I_,
    "fee_line",
    0.03,
    ("A2", "B1", "C2"),
)
def _herbs(ctx: Ctx) -> None:
    _pairs(ctx, "herb_incompatibility", "herb", setting="op")


@scheme("drug_service_mismatch", "药品与医疗服务项目不符", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _drug_service(ctx: Ctx) -> None:
    """A drug billed without any of the services that administer it."""
    _pairs(ctx, "drug_service_mismatch", "drug_service", tag_a=True, add_b=False)


@scheme("companion_missing", "缺少必需伴随项目", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _companion(ctx: Ctx) -> None:
    _pairs(ctx, "companion_missing", "companion", tag_a=True, add_b=False)


@scheme("second_line", "限二线用药未用一线", R, I_, "fee_line", 0.05, CLINIC_KINDS)
def _second_line(ctx: Ctx) -> None:
    """A second-line drug for a person who never had the first line (no diabetes history
    for a second-line antidiabetic, for instance)."""
    items = ctx.items(pl.col("first_line_class").is_not_null())
    diabetic = (ctx.world.pop.chronic[ctx["psn"]] & CHRONIC_BITS["DM"]) > 0
    _restriction(
        ctx,
        "second_line",
        "second_line",
        items,
        lambda r, i: np.ones((len(r), len(i)), dtype=bool),
        mask=~diabetic,
    )


@scheme("quantity_over_cap", "超限量收费", R, I_, "fee_line", 0.03, CLINIC_KINDS)
def _quantity(ctx: Ctx) -> None:
    cap = quantity_cap(ctx.cat)
    items = np.flatnonzero(np.isfinite(cap))
    rows = ctx.choose("quantity_over_cap", ctx.at("quantity_over_cap", ("op", "ip")))
    item = ctx.pick_items(rows, items)
    extra = ctx.rng.integers(1, 4, len(rows))
    cnt = np.where(item >= 0, np.floor(cap[np.maximum(item, 0)]).astype(np.int64) + extra, 1)
    ctx.add_extra(rows, item, "quantity_over_cap", cnt=cnt)


@scheme("frequency_over_cap", "超限定频次收费", R, I_, "fee_line", 0.3, CLINIC_KINDS)
def _frequency(ctx: Ctx) -> None:
    """An item capped per period billed at more visits of one person than the cap allows."""
    items = ctx.items(pl.col("max_cnt_period").is_not_null() & pl.col("period_days").is_not_null())
    if not len(items):
        return
    cap_n = ctx.cat["max_cnt_period"].cast(pl.Float64).fill_null(0).to_numpy().astype(int)
    period = ctx.cat["period_days"].fill_null(0).to_numpy()
    m = ctx.at("frequency_over_cap", "op")
    visits = (
        pl.DataFrame(
            {
                "row": np.flatnonzero(m),
                "psn": ctx["psn"][m],
                "inst": ctx["inst"][m],
                "day": ctx["day"][m],
            }
        )
        .sort("psn", "inst", "day")
        .with_columns(
            run=(pl.col("psn").cast(pl.Int64) * 100_000 + pl.col("inst"))
            .rank("dense")
            .cast(pl.Int64)
            - 1
        )
        .with_columns(
            k=pl.int_range(pl.len()).over("run"),
            since=pl.col("day") - pl.col("day").first().over("run"),
        )
    )
    run = visits["run"].to_numpy()
    n_runs = int(run.max()) + 1 if len(run) else 0
    first = visits.filter(pl.col("k") == 0)["row"].to_numpy()
    since = visits["since"].to_numpy()
    # Visits of each run within each item's period: the item fits when it exceeds the cap.
    within = np.stack(
        [np.bincount(run, weights=since < period[i], minlength=n_runs) for i in items], axis=1
    )
    ok = ctx.compatible(first, items) & (within > cap_n[items][None, :])
    eligible = np.flatnonzero(ok.any(axis=1))
    picked = ctx.choose_rows("frequency_over_cap", first[eligible])
    runs = eligible[np.isin(first[eligible], picked)]
    sub = ok[runs]
    item_of_run = np.full(n_runs, -1)
    item_of_run[runs] = items[(ctx.rng.random(sub.shape) * sub).argmax(axis=1)]
    it = item_of_run[run]
    billed = (
        (it >= 0)
        & (since < period[np.maximum(it, 0)])
        & (visits["k"].to_numpy() <= cap_n[np.maximum(it, 0)])
    )
    over = billed & (visits["k"].to_numpy() == cap_n[np.maximum(it, 0)])
    rows = visits["row"].to_numpy()
    ctx.add_extra(rows[billed & ~over], it[billed & ~over], None)
    ctx.add_extra(rows[over], it[over], "frequency_over_cap")


@scheme("course_over_cap", "超限定支付疗程", R, I_, "fee_line", 0.3, INPATIENT_KINDS)
def _course(ctx: Ctx) -> None:
    """A drug billed every day of a stay longer than its payable course."""
    items = ctx.items(pl.col("max_course_days").is_not_null())
    course = ctx.cat["max_course_days"].to_numpy()
    cand = np.flatnonzero(ctx.at("course_over_cap", "ip"))
    ok = ctx.compatible(cand, items, ("indication",)) & (
        ctx["los"][cand][:, None] > course[items][None, :]
    )
    fits = ok.any(axis=1)
    rows = ctx.choose_rows("course_over_cap", cand[fits])
    sub = ok[fits][np.isin(cand[fits], rows)]
    item = items[(ctx.rng.random(sub.shape) * sub).argmax(axis=1)] if len(rows) else rows
    los = ctx["los"][rows]
    r = np.repeat(np.arange(len(rows)), los)
    d = np.arange(len(r)) - np.repeat(np.cumsum(los) - los, los)
    over = d >= course[item][r]
    ctx.add_extra(rows[r][~over], item[r][~over], None, day=d[~over])
    ctx.add_extra(rows[r][over], item[r][over], "course_over_cap", day=d[over])


@scheme("amount_over_total", "超限定报销总额", R, I_, "fee_line", 0.2, INPATIENT_KINDS)
def _amount_total(ctx: Ctx) -> None:
    items = ctx.items(pl.col("max_amt_total").is_not_null())
    rows = ctx.choose("amount_over_total", ctx.at("amount_over_total", "ip"))
    item = ctx.pick_items(rows, items)
    limit = ctx.cat["max_amt_total"].cast(pl.Float64).fill_null(0).to_numpy() * 100
    price = ctx.cat["pric"].cast(pl.Float64).to_numpy() * 100
    safe = np.maximum(item, 0)
    cnt = np.floor(limit[safe] / np.maximum(price[safe], 1)).astype(np.int64) + 1
    ctx.add_extra(rows, item, "amount_over_total", cnt=cnt)


@scheme("too_many_drugs", "药品种类超标", R, I_, "fee_line", 0.02, CLINIC_KINDS)
def _too_many(ctx: Ctx) -> None:
    """Six more drugs on an outpatient prescription, beyond the five 《处方管理办法》 allows
    whatever the honest ones were (they carry at most four)."""
    rows = ctx.choose("too_many_drugs", ctx.at("too_many_drugs", "op"))
    drugs = ctx.items(pl.col("list_type").is_in(["101"]))
    for _ in range(6):
        ctx.add_extra(rows, ctx.pick_items(rows, drugs), "too_many_drugs")


@scheme("surgery_discount", "手术未按规定折价", R, I_, "fee_line", 0.5, INPATIENT_KINDS)
def _surgery(ctx: Ctx) -> None:
    """A second, cheaper surgery in the same session billed at full price (the dearest one
    is the main surgery and keeps its price; the other should be at 50 %)."""
    items = ctx.items(pl.col("oprn_discount").is_not_null())
    m = ctx.at("surgery_discount", "ip") & np.isin(ctx["group"], plan.SURGICAL)
    rows = ctx.choose("surgery_discount", m)
    price = ctx.cat["pric"].cast(pl.Float64).to_numpy()
    main = (
        ctx.world.usage.filter((pl.col("setting") == "ip") & (pl.col("role") == "surgery"))
        .join(ctx.cat.select("med_list_codg", "pric"), on="med_list_codg")
        .group_by("dise_group")
        .agg(pl.col("pric").cast(pl.Float64).min())
    )
    cheapest = dict(zip(main["dise_group"].to_list(), main["pric"].to_list(), strict=True))
    limit = np.array([cheapest.get(g, 0.0) for g in ctx["group"][rows]])

    def cheaper(r: np.ndarray, it: np.ndarray) -> np.ndarray:  # r is rows
        return price[it][None, :] < limit[:, None]

    ctx.add_extra(
        rows,
        ctx.pick_items(rows, items, violates=cheaper),
        "surgery_discount",
        day=np.minimum(1, ctx["los"][rows] - 1),
    )


# --------------------------------------------------------------------------------------
# Behaviour over time.


def _clone(
    ctx: Ctx, rows: np.ndarray, name: str, kind: str = "fraud", **set_: object
) -> pl.DataFrame:
    base = ctx.enc[rows.tolist()].drop("enc_key") if len(rows) else ctx.enc.clear().drop("enc_key")
    base = base.with_columns(tag=pl.lit(name), kind=pl.lit(kind))
    for k, v in set_.items():
        base = base.with_columns(
            pl.Series(k, np.broadcast_to(v, base.height), dtype=base.schema[k])
        )
    return ctx.add_encounters(base)


@scheme("split_admission", "分解住院", R, I_, "settlement", 0.3, INPATIENT_KINDS)
def _split(ctx: Ctx) -> None:
    m = ctx.at("split_admission", "ip") & (ctx["los"] >= 6)
    rows = ctx.choose("split_admission", m)
    los = ctx["los"][rows]
    first = los // 2
    gap = ctx.rng.integers(1, 8, len(rows))
    new_day = ctx["day"][rows] + first + gap
    ok = new_day + (los - first) < ctx.world.days
    rows, first, los, new_day = rows[ok], first[ok], los[ok], new_day[ok]
    ctx.enc = ctx.enc.with_columns(
        los=pl.Series(_set(ctx.enc["los"].to_numpy(), rows, first), dtype=pl.Int32)
    )
    _clone(ctx, rows, "split_admission", day=new_day, los=los - first)
    ctx.refresh()


def _set(arr: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = arr.copy()
    out[rows] = values
    return out


def _new_visits(
    ctx: Ctx,
    name: str,
    psn: np.ndarray,
    day: np.ndarray,
    inst: np.ndarray,
    group: np.ndarray,
    setting: str,
    med_type: str,
    *,
    los: np.ndarray | int = 0,
    mode: str = "normal",
    sec: np.ndarray | None = None,
    dr: np.ndarray | None = None,
    honest: bool = False,
) -> pl.DataFrame:
    """New encounters for scheme ``name`` (``honest``: legitimate ones it builds on)."""
    w = ctx.world
    keep = (
        plan._alive(w, psn, day)
        if name not in ("claim_after_death",)
        else ((day >= 0) & (day < w.days))
    )
    psn, day, inst, group = psn[keep], day[keep], inst[keep], group[keep]
    los = np.broadcast_to(los, len(keep))[keep]
    dept = (
        np.array([plan.GROUP_DEPT.get(g, "A03") for g in group])
        if setting != "ph"
        else np.full(len(psn), "D01")
    )
    dr_pick, dept = w.doctors(inst, dept)
    if dr is not None:
        dr_pick = np.broadcast_to(dr, len(keep))[keep]
    sec = (
        np.broadcast_to(sec, len(keep))[keep]
        if sec is not None
        else (8 * 3600 + ctx.rng.integers(0, 9 * 3600, len(psn)))
    )
    f = plan.frame(
        psn=psn,
        inst=inst,
        dr=dr_pick,
        dept=dept,
        setting=setting,
        med_type=np.full(len(psn), med_type),
        day=day,
        sec=sec,
        los=los,
        group=group,
        tag="" if honest else name,
        kind="" if honest else "fraud",
        mode=mode,
    )
    return ctx.add_encounters(f)


@scheme("frequent_admission", "频繁住院", R, I_, "person", 0.03, INPATIENT_KINDS)
def _frequent_admission(ctx: Ctx) -> None:
    """诱导住院: the same elderly people admitted every three to four weeks."""
    w = ctx.world
    for inst in w.scheme_inst.get("frequent_admission", []):
        local = np.flatnonzero(
            (w.pop.town == w.inst_town[inst]) & (w.pop.age_years >= 60) & (w.pop.die_day < 0)
        )
        people = local[ctx.choose("frequent_admission", np.ones(len(local), dtype=bool))]
        stays = w.days // 25
        p = np.repeat(people, stays)
        day = np.tile(np.arange(stays) * 25, len(people)) + ctx.rng.integers(0, 5, len(p))
        los = ctx.rng.integers(4, 8, len(p))
        g = ctx.rng.choice(np.array(["PNEU", "COPD", "HTN"]), len(p))
        _new_visits(
            ctx, "frequent_admission", p, day, np.full(len(p), inst), g, "ip", "21", los=los
        )


@scheme("low_threshold_admission", "低标准入院", R, I_, "settlement", 0.1, INPATIENT_KINDS)
def _low_threshold(ctx: Ctx) -> None:
    """Short stays with only oral drugs and tests, for people who needed no bed."""
    m = ctx.at("low_threshold_admission", "op") & (ctx["age_days"] >= 50 * 365)
    rows = ctx.choose("low_threshold_admission", m)
    _clone(
        ctx,
        rows,
        "low_threshold_admission",
        setting="ip",
        med_type="21",
        los=ctx.rng.integers(2, 4, len(rows)),
        mode="lowthr",
    )


@scheme("fee_outside_stay", "计费日期与住院时间不符", R, I_, "fee_line", 0.15, INPATIENT_KINDS)
def _outside(ctx: Ctx) -> None:
    rows = ctx.choose("fee_outside_stay", ctx.at("fee_outside_stay", "ip"))
    items = ctx.items(pl.col("item_group").is_in(["lab", "treatment", "exam"]))
    day = ctx["los"][rows] + ctx.rng.integers(1, 4, len(rows))
    ctx.add_extra(rows, ctx.pick_items(rows, items), "fee_outside_stay", day=day)


@scheme("bed_days_over_los", "床位天数超住院天数", R, I_, "fee_line", 0.2, INPATIENT_KINDS)
def _bed_days(ctx: Ctx) -> None:
    rows = ctx.choose("bed_days_over_los", ctx.at("bed_days_over_los", "ip"))
    beds = ctx.items(pl.col("item_group") == "bed")
    price = ctx.cat["pric"].cast(pl.Float64).to_numpy()[beds]
    cheapest = beds[np.argsort(price, kind="stable")]
    bed = np.where(ctx["level"][rows] == "1", cheapest[0], cheapest[min(1, len(cheapest) - 1)])
    ctx.add_extra(
        rows,
        bed,
        "bed_days_over_los",
        cnt=ctx.rng.integers(2, 5, len(rows)),
        day=np.maximum(ctx["los"][rows] - 1, 0),
    )


@scheme("frequent_outpatient", "频繁门诊", R, P_, "person", 0.0015)
def _frequent_op(ctx: Ctx) -> None:
    """A person who visits the township centre or clinics every day or two for months."""
    w = ctx.world
    adults = np.flatnonzero((w.pop.age_years >= 30) & (w.pop.die_day < 0))
    people = adults[ctx.choose("frequent_outpatient", np.ones(len(adults), dtype=bool))]
    months = min(3, w.cfg.months)
    per = 45 * months
    p = np.repeat(people, per)
    start = np.repeat(ctx.rng.integers(0, max(1, w.days - 30 * months), len(people)), per)
    day = start + np.tile(np.sort(ctx.rng.integers(0, 30 * months, per)), len(people))
    town = w.pop.town[p]
    thc = np.array([w.insts("B1", town=t)[0] for t in range(len(w.county.townships))])
    inst = thc[town]
    g = ctx.rng.choice(np.array(["GASTR", "LUMBAR", "GENERAL"]), len(p))
    _new_visits(ctx, "frequent_outpatient", p, day, inst, g, "op", "11")


@scheme("frequent_purchase", "频繁购药", R, P_, "person", 0.0015)
def _frequent_purchase(ctx: Ctx) -> None:
    w = ctx.world
    adults = np.flatnonzero((w.pop.age_years >= 30) & (w.pop.die_day < 0))
    people = adults[ctx.choose("frequent_purchase", np.ones(len(adults), dtype=bool))]
    months = min(3, w.cfg.months)
    per = 40 * months
    p = np.repeat(people, per)
    start = np.repeat(ctx.rng.integers(0, max(1, w.days - 30 * months), len(people)), per)
    day = start + np.tile(np.sort(ctx.rng.integers(0, 30 * months, per)), len(people))
    shops = w.insts("D1")
    inst = shops[ctx.rng.integers(0, len(shops), len(p))]
    g = ctx.rng.choice(np.array(["URTI", "GASTR", "GENERAL"]), len(p))
    _new_visits(ctx, "frequent_purchase", p, day, inst, g, "ph", "41")


@scheme("claim_during_stay", "住院期间门诊或购药", R, P_, "settlement", 0.05)
def _during_stay(ctx: Ctx) -> None:
    """Someone uses an inpatient's card at a pharmacy while they are in a bed."""
    m = (ctx["setting"] == "ip") & (ctx["kind"] == "") & (ctx["los"] >= 3)
    rows = ctx.choose("claim_during_stay", m)
    day = ctx["day"][rows] + 1 + (ctx.rng.random(len(rows)) * (ctx["los"][rows] - 2)).astype(int)
    shops = ctx.world.insts("D1")
    inst = shops[ctx.rng.integers(0, len(shops), len(rows))]
    _new_visits(
        ctx,
        "claim_during_stay",
        ctx["psn"][rows],
        day,
        inst,
        np.full(len(rows), "GENERAL"),
        "ph",
        "41",
    )


@scheme("claim_after_death", "死亡后就医结算", R, P_, "settlement", 0.3)
def _after_death(ctx: Ctx) -> None:
    w = ctx.world
    dead = np.flatnonzero((w.pop.die_day >= 0) & (w.pop.die_day < w.days - 10))
    people = dead[ctx.choose("claim_after_death", np.ones(len(dead), dtype=bool))]
    n_claims = ctx.rng.integers(1, 4, len(people))
    p = np.repeat(people, n_claims)
    day = w.pop.die_day[p] + ctx.rng.integers(3, 60, len(p))
    shops = w.insts("D1")
    inst = shops[ctx.rng.integers(0, len(shops), len(p))]
    _new_visits(ctx, "claim_after_death", p, day, inst, np.full(len(p), "HTN"), "ph", "41")


@scheme("overlapping_supply", "重复开药(药量重叠)", R, P_, "settlement", 0.03)
def _overlap(ctx: Ctx) -> None:
    """Chronic patients collecting a 30-day supply every 8–12 days, across pharmacies.

    They are people without on-time refills of their own (whose refills would overlap the
    scheme's purchases untagged), and their first purchase is an honest one: only the
    refills that come while the previous supply lasts are the scheme's."""
    w = ctx.world
    refilling = np.zeros(len(w.pop.chronic), dtype=bool)
    refilling[ctx.enc.filter(pl.col("tag") == "chronic_refill")["psn"].to_numpy()] = True
    chronic = np.flatnonzero(
        ((w.pop.chronic & (CHRONIC_BITS["HTN"] | CHRONIC_BITS["DM"])) > 0)
        & (w.pop.die_day < 0)
        & ~refilling
    )
    people = chronic[ctx.choose("overlapping_supply", np.ones(len(chronic), dtype=bool))]
    per = max(3, w.days // 10)
    p = np.repeat(people, per)
    gaps = ctx.rng.integers(8, 13, (len(people), per))
    day = (
        np.repeat(ctx.rng.integers(0, 20, len(people)), per)
        + (np.cumsum(gaps, axis=1) - gaps[:, :1]).ravel()
    )
    shops = w.insts("D1")
    inst = shops[ctx.rng.integers(0, len(shops), len(p))]
    group = np.where((w.pop.chronic[p] & CHRONIC_BITS["DM"]) > 0, "DM", "HTN")
    first = (np.arange(len(p)) % per) == 0
    for honest in (True, False):
        m = first if honest else ~first
        _new_visits(
            ctx, "overlapping_supply", p[m], day[m], inst[m], group[m], "ph", "41", honest=honest
        )


# --------------------------------------------------------------------------------------
# Schemes that fixed rules miss.


@scheme("ring", "参保人团伙结伴就医", B, P_, "person", 0.0025)
def _ring(ctx: Ctx) -> None:
    """Groups of 8–12 people from different villages who visit together, repeatedly, moving
    between institutions."""
    w = ctx.world
    adults = np.flatnonzero((w.pop.age_years >= 25) & (w.pop.age_years < 75) & (w.pop.die_day < 0))
    size = 10
    n_rings = max(1, round(rate(w, "ring") * len(adults) / size))
    members = ctx.rng.choice(adults, n_rings * size, replace=False)
    stat = w.stats.setdefault("ring", [0, 0])
    stat[0] += len(adults)
    stat[1] += len(members)
    groups = [members[i : i + size] for i in range(0, len(members), size)]
    places = np.r_[w.insts("A1", "A2"), w.insts("B1"), w.insts("C2")]
    for g in groups:
        outings = max(6, w.days // 12)
        day = np.sort(ctx.rng.choice(w.days, outings, replace=False))
        inst = places[ctx.rng.integers(0, len(places), outings)]
        sec = 9 * 3600 + ctx.rng.integers(0, 6 * 3600, outings)
        p = np.tile(g, outings)
        d = np.repeat(day, len(g))
        s = np.repeat(sec, len(g)) + ctx.rng.integers(0, 1800, len(p))
        _new_visits(
            ctx,
            "ring",
            p,
            d,
            np.repeat(inst, len(g)),
            ctx.rng.choice(np.array(["LUMBAR", "GASTR", "GENERAL"]), len(p)),
            "op",
            "11",
            sec=s,
        )


@scheme("doctor_volume", "医师日接诊量异常", B, I_, "doctor", 0.4, ("A2", "B1"))
def _doctor_volume(ctx: Ctx) -> None:
    """One doctor billing 50–90 extra visits a day on many working days: more patients
    than a person can see."""
    w = ctx.world
    pr_inst = w.county.practitioner["fixmedins_code"].to_numpy()
    codes = w.county.institution["fixmedins_code"].to_numpy()
    for inst in w.scheme_inst.get("doctor_volume", []):
        doctors = np.flatnonzero(pr_inst == codes[inst])
        doctor = int(ctx.rng.choice(doctors))
        weekday = (np.datetime64(w.start, "D").astype(int) + 3 + np.arange(w.days)) % 7
        days = np.flatnonzero(weekday < 5)
        days = days[ctx.choose("doctor_volume", np.ones(len(days), dtype=bool))]
        per = ctx.rng.integers(50, 91, len(days))
        d = np.repeat(days, per)
        local = np.flatnonzero(w.pop.town == w.inst_town[inst])
        p = local[ctx.rng.integers(0, len(local), len(d))]
        g = ctx.rng.choice(np.array(["URTI", "GASTR", "GENERAL", "HTN"]), len(d))
        _new_visits(
            ctx,
            "doctor_volume",
            p,
            d,
            np.full(len(d), inst),
            g,
            "op",
            "11",
            dr=np.full(len(d), doctor),
        )


@scheme("card_swiping", "药店刷卡套现", B, I_, "settlement", 0.25, PHARMACY_KINDS)
def _card_swiping(ctx: Ctx) -> None:
    """Bursts of employees' cards swiped seconds apart, paid wholly from personal accounts,
    heavier at month end."""
    w = ctx.world
    employees = np.flatnonzero((w.pop.person["insutype"].to_numpy() == "310") & (w.pop.die_day < 0))
    month_day = (np.datetime64(w.start, "D") + np.arange(w.days)).astype("datetime64[D]")
    end_of_month = (month_day + 3).astype("datetime64[M]") != month_day.astype("datetime64[M]")
    for inst in w.scheme_inst.get("card_swiping", []):
        weight = np.where(end_of_month, 4.0, 1.0)
        days = ctx.choose("card_swiping", np.ones(w.days, dtype=bool))
        days = days[ctx.rng.random(len(days)) < weight[days] / 4.0]
        size = ctx.rng.integers(3, 7, len(days))
        d = np.repeat(days, size)
        start = np.repeat(9 * 3600 + ctx.rng.integers(0, 10 * 3600, len(days)), size)
        offset = (
            np.concatenate([np.sort(ctx.rng.integers(0, 60, k)) for k in size])
            if len(size)
            else np.zeros(0, dtype=np.int64)
        )
        p = employees[ctx.rng.integers(0, len(employees), len(d))]
        _new_visits(
            ctx,
            "card_swiping",
            p,
            d,
            np.full(len(d), inst),
            ctx.rng.choice(np.array(["HTN", "DM", "GENERAL"]), len(d)),
            "ph",
            "41",
            sec=start + offset,
        )


@scheme("abnormal_frequency", "就诊次数异常(多处就医)", B, P_, "person", 0.002)
def _shopping(ctx: Ctx) -> None:
    """Doctor shopping: three to five visits a month spread over many institutions, below
    any single institution's frequent-visit rule."""
    w = ctx.world
    adults = np.flatnonzero((w.pop.age_years >= 30) & (w.pop.die_day < 0))
    people = adults[ctx.choose("abnormal_frequency", np.ones(len(adults), dtype=bool))]
    per = max(4, round(4.5 * w.days / 30))
    p = np.repeat(people, per)
    day = ctx.rng.integers(0, w.days, len(p))
    places = np.r_[w.insts("A1", "A2"), w.insts("B1"), w.insts("C1"), w.insts("C2")]
    inst = places[ctx.rng.integers(0, len(places), len(p))]
    g = ctx.rng.choice(np.array(["LUMBAR", "GASTR", "HTN"]), len(p))
    _new_visits(ctx, "abnormal_frequency", p, day, inst, g, "op", "11")


# Line-phase schemes change the lines of a month at fraudulent institutions.


@scheme("phantom_service", "虚记诊疗服务", B, I_, "fee_line", 0.35, CLINIC_KINDS, "line")
def _phantom(ctx: LineCtx) -> pl.DataFrame:
    """Tests and treatments billed on real visits but never done."""
    rows = ctx.choose_enc("phantom_service")
    lm = ctx.maker
    seg_t = lm.pools.segment("op", "test", ctx.enc["group"].to_numpy()[rows])
    seg_r = lm.pools.segment("op", "treat", ctx.enc["group"].to_numpy()[rows])
    seg = np.where(seg_t >= 0, seg_t, seg_r)
    rows, seg = rows[seg >= 0], seg[seg >= 0]
    item, cnt = lm.pools.sample(ctx.world.rng, seg)
    return ctx.append(rows, item, cnt, "phantom_service")


@scheme(
    "inflated_quantity", "多记数量", B, I_, "fee_line", 0.3, CLINIC_KINDS + PHARMACY_KINDS, "line"
)
def _inflate(ctx: LineCtx) -> pl.DataFrame:
    """Double quantities on drug and treatment lines, staying under every cap."""
    lines = ctx.lines
    at = ctx.line_mask("inflated_quantity")
    grp = ctx.maker.group[lines["item"].to_numpy()]
    cap = ctx.caps[lines["item"].to_numpy()]
    cnt = lines["cnt"].to_numpy()
    m = at & np.isin(grp, ["drug", "treatment", "infusion"]) & (cnt * 2 <= cap)
    m &= lines["scheme"].is_null().to_numpy()
    rows = ctx.choose_lines("inflated_quantity", m)
    new_cnt = _set(cnt, rows, cnt[rows] * 2)
    return lines.with_columns(
        cnt=pl.Series(new_cnt, dtype=pl.Int32),
        orig_cnt=pl.Series(_set(np.full(len(cnt), -1), rows, cnt[rows]), dtype=pl.Int32),
        scheme=(_tag(lines["scheme"].to_numpy(), rows, "inflated_quantity")),
    )


def _tag(arr: np.ndarray, rows: np.ndarray, name: str) -> pl.Series:
    out = arr.astype(object).copy()
    out[rows] = name
    return pl.Series("scheme", out.tolist(), dtype=pl.String)


@scheme("upcoding", "串换高价项目", B, I_, "fee_line", 0.4, INPATIENT_KINDS, "line")
def _upcode(ctx: LineCtx) -> pl.DataFrame:
    """Bill the dearer item of the same group: higher nursing grade, dearer bed or exam."""
    lines = ctx.lines
    lm = ctx.maker
    item = lines["item"].to_numpy()
    grp = lm.group[item]
    at = ctx.line_mask("upcoding") & lines["scheme"].is_null().to_numpy()
    # Items capped per period are left alone: another scheme may have set up their repeats.
    m = at & np.isin(grp, ["nursing", "bed", "CT", "exam"]) & ~lm.periodic[item]
    rows = ctx.choose_lines("upcoding", m)
    price = lm.pric_fen
    new = item.copy()
    for g in ("nursing", "bed", "CT", "exam"):
        members = np.flatnonzero((lm.group == g) & ~lm.periodic)
        members = members[np.argsort(price[members], kind="stable")]
        if len(members) < 2:
            continue
        r = rows[grp[rows] == g]
        pos = np.searchsorted(price[members], price[item[r]], side="right")
        new[r] = members[np.minimum(pos + 1, len(members) - 1)]
    changed = rows[new[rows] != item[rows]]
    return lines.with_columns(
        item=pl.Series(new, dtype=pl.Int32),
        orig_item=pl.Series(_set(np.full(len(item), -1), changed, item[changed]), dtype=pl.Int32),
        scheme=(_tag(lines["scheme"].to_numpy(), changed, "upcoding")),
    )


@scheme("price_over_cap", "超限价收费", R, I_, "fee_line", 0.3, CLINIC_KINDS, "line")
def _price(ctx: LineCtx) -> pl.DataFrame:
    """A service or consumable priced 20–60 % above its cap (drugs: drug_price_over_cap)."""
    lines = ctx.lines
    item = lines["item"].to_numpy()
    service = np.isin(ctx.world.kb.catalogue["list_type"].to_numpy().astype(str), SERVICE_TYPES)
    has_cap = (ctx.maker.cap_fen[0, item] > 0) & service[item]
    m = ctx.line_mask("price_over_cap") & has_cap & lines["scheme"].is_null().to_numpy()
    rows = ctx.choose_lines("price_over_cap", m)
    level = ctx.world.inst_level[ctx.line_inst()]
    honest = ctx.maker.price(item, level)
    factor = ctx.world.rng.uniform(1.2, 1.6, len(rows))
    pric = (
        lines["pric_fen"].fill_null(-1).to_numpy()
        if "pric_fen" in lines.columns
        else np.full(len(item), -1)
    )
    pric = _set(pric, rows, np.round(honest[rows] * factor).astype(np.int64))
    return lines.with_columns(
        pric_fen=pl.Series(pric, dtype=pl.Int64),
        scheme=(_tag(lines["scheme"].to_numpy(), rows, "price_over_cap")),
    )


@scheme("institution_drift", "机构费用结构漂移", B, I_, "institution", 0.8, CLINIC_KINDS, "line")
def _drift(ctx: LineCtx) -> pl.DataFrame:
    """From the middle of the period on, most visits carry two extra drugs."""
    half = ctx.world.days // 2
    m = ctx.enc_mask("institution_drift") & (ctx.enc["day"].to_numpy() >= half)
    rows = ctx.choose_enc("institution_drift", m)
    lm = ctx.maker
    out = ctx.lines
    for _ in range(2):
        setting = ctx.enc["setting"].to_numpy()[rows]
        seg = np.where(
            setting == "ip",
            lm.pools.segment("ip", "drug", ctx.enc["group"].to_numpy()[rows]),
            lm.pools.segment("op", "drug", ctx.enc["group"].to_numpy()[rows]),
        )
        ok = seg >= 0
        item, cnt = lm.pools.sample(ctx.world.rng, seg[ok])
        ctx.lines = out
        out = ctx.append(rows[ok], item, cnt, "institution_drift")
    return out


@scheme("high_cost_outpatient", "门诊高额费用", B, I_, "settlement", 0.04, CLINIC_KINDS, "line")
def _high_cost(ctx: LineCtx) -> pl.DataFrame:
    """A few outpatient visits loaded with the dearest unrestricted drugs and exams."""
    rows = ctx.choose_enc("high_cost_outpatient", ctx.enc_mask("high_cost_outpatient", "op"))
    c = ctx.world.kb.catalogue
    free = (
        unrestricted(c)
        & (
            (c["chrgitm_lv"] != "03") & c["item_group"].is_in(["drug", "exam", "CT", "treatment"])
        ).to_numpy()
    )
    items = np.flatnonzero(free)
    price = ctx.maker.pric_fen[items]
    dear = items[price >= np.quantile(price, 0.85)] if len(items) else items
    out = ctx.lines
    cap = ctx.caps
    for _ in range(4):
        if not len(dear):
            break
        item = dear[ctx.world.rng.integers(0, len(dear), len(rows))]
        cnt = np.minimum(3, np.floor(np.where(np.isfinite(cap[item]), cap[item], 3))).astype(int)
        ctx.lines = out
        out = ctx.append(rows, item, np.maximum(cnt, 1), "high_cost_outpatient")
    return out.unique(["enc_key", "item", "day", "dscg"], keep="first", maintain_order=True)


class LineCtx:
    """What line-phase injectors read: one month's encounters and lines."""

    def __init__(self, world: World, maker: object, enc: pl.DataFrame, lines: pl.DataFrame) -> None:
        self.world = world
        self.maker = maker
        self.enc = enc
        self.lines = lines
        self.caps = quantity_cap(world.kb.catalogue)
        self._inst_of_line: np.ndarray | None = None

    def enc_mask(self, name: str, setting: str | None = None) -> np.ndarray:
        insts = self.world.scheme_inst.get(name, np.zeros(0, dtype=np.int64))
        m = np.isin(self.enc["inst"].to_numpy(), insts) & (self.enc["kind"].to_numpy() == "")
        if setting:
            m &= self.enc["setting"].to_numpy() == setting
        return m

    def choose_enc(self, name: str, mask: np.ndarray | None = None) -> np.ndarray:
        m = self.enc_mask(name) if mask is None else mask
        eligible = np.flatnonzero(m)
        picked = eligible[self.world.rng.random(len(eligible)) < rate(self.world, name)]
        stat = self.world.stats.setdefault(name, [0, 0])
        stat[0] += len(eligible)
        stat[1] += len(picked)
        return picked

    def line_inst(self) -> np.ndarray:
        inst = dict(zip(self.enc["enc_key"].to_list(), self.enc["inst"].to_list(), strict=True))
        return np.array([inst[k] for k in self.lines["enc_key"].to_list()], dtype=np.int64)

    def line_mask(self, name: str) -> np.ndarray:
        ordinary = self.enc.filter(pl.col("kind") == "").select("enc_key", "inst")
        insts = self.world.scheme_inst.get(name, np.zeros(0, dtype=np.int64))
        keys = ordinary.filter(pl.col("inst").is_in(insts.tolist()))["enc_key"]
        return self.lines["enc_key"].is_in(keys.implode()).to_numpy()

    def choose_lines(self, name: str, mask: np.ndarray) -> np.ndarray:
        eligible = np.flatnonzero(mask)
        picked = eligible[self.world.rng.random(len(eligible)) < rate(self.world, name)]
        stat = self.world.stats.setdefault(name, [0, 0])
        stat[0] += len(eligible)
        stat[1] += len(picked)
        return picked

    def append(
        self, rows: np.ndarray, item: np.ndarray, cnt: np.ndarray, name: str
    ) -> pl.DataFrame:
        keys = self.enc["enc_key"].to_numpy()[rows]
        los = self.enc["los"].to_numpy()[rows]
        day = (self.world.rng.random(len(rows)) * np.maximum(los, 1)).astype(np.int64)
        add = pl.DataFrame(
            {"enc_key": keys, "item": item, "cnt": cnt, "day": day},
            schema={"enc_key": pl.Int64, "item": pl.Int32, "cnt": pl.Int32, "day": pl.Int32},
        ).with_columns(dscg=pl.lit(False), scheme=pl.lit(name))
        return pl.concat([self.lines, add], how="diagonal_relaxed")


# --------------------------------------------------------------------------------------
# Bill-phase schemes change the finished lines of a month (priced, timed, serial-numbered,
# refunded) at fraudulent institutions. Each draws from its own random stream, seeded by
# the county's seed, the month and the scheme, so that adding one leaves every other line
# of the county as it was: the recall of the schemes before it can be compared as is.


def own_rng(world: World, name: str, month: int) -> np.random.Generator:
    """The random stream of a bill-phase scheme in one month (month -1: its institutions)."""
    return np.random.default_rng([world.cfg.seed, 7000 + month, zlib.crc32(name.encode())])


class BillCtx:
    """What bill-phase injectors read: one month's encounters and finished lines."""

    def __init__(self, world: World, maker: object, enc: pl.DataFrame, lines: pl.DataFrame) -> None:
        self.world = world
        self.maker = maker
        self.enc = enc
        self.lines = lines
        self.month = int(enc["month"][0]) if enc.height else 0
        cat = world.kb.catalogue
        self.list_type = cat["list_type"].to_numpy().astype(str)
        self.payable = (cat["chrgitm_lv"].to_numpy().astype(str) != "03") & (
            cat["herb_nopay"].fill_null("").to_numpy().astype(str) != "all"
        )

    def clean(self, name: str) -> np.ndarray:
        """Lines a scheme may change: billed at one of its institutions in an ordinary
        encounter, payable, not another scheme's, neither a refund nor refunded."""
        lines = self.lines
        insts = self.world.scheme_inst.get(name, np.zeros(0, dtype=np.int64))
        ordinary = self.enc.filter((pl.col("kind") == "") & pl.col("inst").is_in(insts.tolist()))
        refunded = lines.filter(pl.col("init_feedetl_sn").is_not_null()).select(
            "enc_key", feedetl_sn="init_feedetl_sn"
        )
        m = lines.select(
            pl.col("enc_key").is_in(ordinary["enc_key"].implode())
            & pl.col("scheme").is_null()
            & pl.col("init_feedetl_sn").is_null()
            & (pl.col("cnt") > 0)
            & ~pl.struct("enc_key", "feedetl_sn").is_in(
                refunded.select(pl.struct("enc_key", "feedetl_sn")).to_series().implode()
            )
        ).to_series()
        return m.to_numpy() & self.payable[lines["item"].to_numpy()]

    def choose(self, name: str, mask: np.ndarray) -> np.ndarray:
        eligible = np.flatnonzero(mask)
        draw = own_rng(self.world, name, self.month)
        picked = eligible[draw.random(len(eligible)) < rate(self.world, name)]
        stat = self.world.stats.setdefault(name, [0, 0])
        stat[0] += len(eligible)
        stat[1] += len(picked)
        return picked


@scheme(
    "drug_price_over_cap",
    "药品超限价（医保支付标准）收费",
    R,
    I_,
    "fee_line",
    0.3,
    CLINIC_KINDS + PHARMACY_KINDS,
    "bill",
)
def _drug_price(ctx: BillCtx) -> pl.DataFrame:
    """A drug with a price cap (集采 price, payment standard) billed 20–60 % above it, the
    excess claimed in scope."""
    lines = ctx.lines
    drug = np.isin(ctx.list_type[lines["item"].to_numpy()], DRUG_TYPES)
    m = ctx.clean("drug_price_over_cap") & drug & (lines["cap_fen"].to_numpy() > 0)
    rows = ctx.choose("drug_price_over_cap", m)
    draw = own_rng(ctx.world, "drug_price_over_cap:price", ctx.month)
    cap = lines["cap_fen"].to_numpy()[rows]
    pric = _set(
        lines["pric_fen"].to_numpy(), rows, np.round(cap * draw.uniform(1.2, 1.6, len(rows)))
    )
    return lines.with_columns(
        pric_fen=pl.Series(pric, dtype=pl.Int64),
        scheme=_tag(lines["scheme"].to_numpy(), rows, "drug_price_over_cap"),
    )


@scheme(
    "duplicate_line",
    "同一明细重复收费",
    R,
    I_,
    "fee_line",
    0.01,
    CLINIC_KINDS + PHARMACY_KINDS,
    "bill",
)
def _duplicate_line(ctx: BillCtx) -> pl.DataFrame:
    """A line billed a second time under a new serial number: the same item, quantity,
    price and time (a re-sent upload, or a charge entered twice). The copy is the scheme's
    line; the original stays clean (this scheme runs after the price scheme, so neither is
    changed afterwards and the copy stays exact)."""
    rows = ctx.choose("duplicate_line", ctx.clean("duplicate_line"))
    lines = ctx.lines
    last = lines.group_by("enc_key").agg(n=pl.col("feedetl_sn").cast(pl.Int64).max())
    copies = (
        lines[rows]
        .join(last, on="enc_key", how="left", maintain_order="left")
        .with_columns(
            feedetl_sn=(pl.col("n") + pl.int_range(pl.len()).over("enc_key") + 1).cast(pl.String),
            scheme=pl.lit("duplicate_line"),
        )
        .drop("n")
    )
    return pl.concat([lines, copies], how="diagonal_relaxed")


# --------------------------------------------------------------------------------------
# Entry points used by the generator.


def plan_phase(world: World, enc: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Assign schemes, then let every plan-phase scheme add encounters and extra lines."""
    assign(world)

    ctx = Ctx(world, plan.diagnoses(world, enc))
    for s in SCHEMES.values():
        if s.phase == "plan" and rate(world, s.name) > 0:
            _INJECT[s.name](ctx)
    new = [plan.diagnoses(world, f).select(ctx.enc.columns) for f in ctx.new if f.height]
    enc = pl.concat([ctx.enc, *new], how="vertical_relaxed") if new else ctx.enc
    extra = pl.concat(ctx.extra) if ctx.extra else pl.DataFrame(schema=EXTRA_SCHEMA)
    return enc, extra


def keep_diagnoses(world: World, enc: pl.DataFrame, extra: pl.DataFrame) -> pl.DataFrame:
    """Encounters whose schemes hinge on the diagnosis keep it (noise blanks only others)."""
    return enc.with_columns(
        dise_missing=pl.col("dise_missing") & ~pl.col("enc_key").is_in(extra["enc_key"].implode())
    )


def extra_for(extra: pl.DataFrame, enc_m: pl.DataFrame) -> pl.DataFrame:
    return extra.filter(pl.col("enc_key").is_in(enc_m["enc_key"].implode())).with_columns(
        dscg=pl.lit(False)
    )


def line_phase(world: World, maker: object, enc: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    ctx = LineCtx(world, maker, enc, lines)
    for s in SCHEMES.values():
        if s.phase == "line" and rate(world, s.name) > 0:
            ctx.lines = _INJECT[s.name](ctx)
    return ctx.lines


def bill_phase(world: World, maker: object, enc: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Let every bill-phase scheme change the month's finished lines (after refunds)."""
    ctx = BillCtx(world, maker, enc, lines)
    for s in SCHEMES.values():
        if s.phase == "bill" and rate(world, s.name) > 0:
            ctx.lines = _INJECT[s.name](ctx)
    return ctx.lines


def truth_lines(fee: pl.DataFrame) -> pl.DataFrame:
    """Every line a scheme touched, with the amount at risk by DOMAIN.md §3's conventions."""
    t = fee.filter(pl.col("scheme").is_not_null())
    cols = t.columns
    orig_cnt = pl.col("orig_cnt") if "orig_cnt" in cols else pl.lit(-1)
    risk = (
        pl.when(pl.col("scheme") == "inflated_quantity")
        .then(pl.col("inscp_fen") * (pl.col("cnt") - orig_cnt) / pl.col("cnt"))
        .when(pl.col("scheme").is_in(["price_over_cap", "drug_price_over_cap"]))
        .then((pl.col("pric_fen") - pl.col("cap_fen")) * pl.col("cnt"))
        .when(pl.col("scheme") == "surgery_discount")
        .then(pl.col("inscp_fen") / 2)
        .otherwise(pl.col("inscp_fen"))
    )
    return t.select(
        "scheme",
        "fixmedins_code",
        "psn_no",
        "mdtrt_id",
        "setl_id",
        "feedetl_sn",
        "bilg_dr_codg",
        "med_list_codg",
        "det_item_fee_sumamt",
        "inscp_amt",
        amount_at_risk=(risk.round(0) / 100).round(2),
    )


def entities(world: World, lines: pl.DataFrame) -> pl.DataFrame:
    """One row per injected entity in the unit its scheme is judged at."""
    if lines.height == 0:
        return pl.DataFrame(
            schema={
                "scheme": pl.String,
                "family": pl.String,
                "entity_type": pl.String,
                "entity_id": pl.String,
                "fixmedins_code": pl.String,
                "n_lines": pl.UInt32,
                "amount_at_risk": pl.Float64,
            }
        )
    meta = pl.DataFrame(
        [{"scheme": s.name, "family": s.family, "entity_type": s.entity} for s in SCHEMES.values()]
    )
    t = lines.join(meta, on="scheme", how="left").with_columns(
        entity_id=pl.when(pl.col("entity_type") == "fee_line")
        .then(pl.format("{}|{}|{}", "fixmedins_code", "mdtrt_id", "feedetl_sn"))
        .when(pl.col("entity_type") == "settlement")
        .then(pl.col("setl_id"))
        .when(pl.col("entity_type") == "person")
        .then(pl.col("psn_no"))
        .when(pl.col("entity_type") == "doctor")
        .then(pl.col("bilg_dr_codg"))
        .otherwise(pl.col("fixmedins_code"))
    )
    return (
        t.group_by("scheme", "family", "entity_type", "entity_id")
        .agg(
            fixmedins_code=pl.col("fixmedins_code").first(),
            n_lines=pl.len(),
            amount_at_risk=pl.col("amount_at_risk").sum().round(2),
        )
        .sort("scheme", "entity_id")
    )


def noise(setl: pl.DataFrame, enc: pl.DataFrame) -> pl.DataFrame:
    """Data-quality noise: not fraud, but what data-quality rules rightly report."""
    late = enc.filter(pl.col("late")).select("enc_key")
    return pl.concat(
        [
            setl.filter(pl.col("dise_missing")).select(
                pl.lit("missing_diagnosis").alias("noise"), "fixmedins_code", "setl_id", "mdtrt_id"
            ),
            setl.join(late, on="enc_key").select(
                pl.lit("late_upload").alias("noise"), "fixmedins_code", "setl_id", "mdtrt_id"
            ),
        ]
    )


def lookalikes(world: World, enc: pl.DataFrame) -> pl.DataFrame:
    """Legitimate patterns that look like schemes: none may appear in the truth."""
    return enc.filter(pl.col("kind") == "lookalike").select(
        pl.col("tag").alias("lookalike"),
        psn_no=pl.Series(
            world.pop.person["psn_no"].to_numpy()[
                enc.filter(pl.col("kind") == "lookalike")["psn"].to_numpy()
            ]
        ),
        mdtrt_id=pl.format(
            "MD{}{}", pl.lit(world.cfg.id_prefix), pl.col("enc_key").cast(pl.String).str.zfill(12)
        ),
    )


def summary(world: World) -> pl.DataFrame:
    """Each scheme's configured rate against what was eligible and affected."""
    rows = []
    for s in SCHEMES.values():
        eligible, affected = world.stats.get(s.name, [0, 0])
        rows.append(
            {
                "scheme": s.name,
                "zh": s.zh,
                "family": s.family,
                "driver": s.driver,
                "entity_type": s.entity,
                "rate": rate(world, s.name),
                "eligible": eligible,
                "affected": affected,
                "institutions": ";".join(
                    world.county.institution["fixmedins_code"]
                    .to_numpy()[world.scheme_inst.get(s.name, np.zeros(0, dtype=np.int64))]
                    .tolist()
                ),
            }
        )
    return pl.DataFrame(rows)
