"""Fee lines from encounters: fixed fees, drugs, tests, treatments, daily bed and nursing
lines of a stay, surgery, discharge medication — drawn from the usage recipe."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hrss_fraud.knowledge import unrestricted
from hrss_fraud.synth.plan import REFILL_GROUPS, SURGICAL
from hrss_fraud.synth.world import World

REQUIRED_PAIRS = ("companion", "drug_service")


@dataclass
class Pools:
    """Weighted item pools per (setting, role, group), sampled without Python loops.

    Each pool is a segment of one array; cumulative weights are normalised within the
    segment and offset by its number, so one ``searchsorted`` serves every pool at once."""

    keys: dict[str, int]
    cum: np.ndarray
    item: np.ndarray
    cnt_min: np.ndarray
    cnt_max: np.ndarray

    @classmethod
    def build(cls, usage: pl.DataFrame, item_index: dict[str, int], groups: list[str]) -> Pools:
        star = usage.filter(pl.col("dise_group") == "*")
        expanded = pl.concat(
            [usage.filter(pl.col("dise_group") != "*")]
            + [star.with_columns(dise_group=pl.lit(g)) for g in groups]
        )
        df = (
            expanded.with_columns(
                key=pl.concat_str("setting", "role", "dise_group", separator="|"),
                item=pl.col("med_list_codg").replace_strict(item_index, return_dtype=pl.Int32),
            )
            .sort("key", "item")
            .unique(["key", "item"], keep="first", maintain_order=True)
        )
        keys = df["key"].unique(maintain_order=True).to_list()
        seg = df["key"].rank("dense").cast(pl.Int64).to_numpy() - 1
        w = df["weight"].cast(pl.Float64).to_numpy()
        total = np.bincount(seg, weights=w)
        cum = np.zeros(len(w))
        for s in range(len(keys)):
            m = seg == s
            cum[m] = np.cumsum(w[m]) / total[s]
        return cls(
            keys={k: i for i, k in enumerate(keys)},
            cum=seg + np.minimum(cum, 1 - 1e-12),
            item=df["item"].to_numpy(),
            cnt_min=df["cnt_min"].cast(pl.Int64).to_numpy(),
            cnt_max=df["cnt_max"].cast(pl.Int64).to_numpy(),
        )

    def segment(self, setting: str, role: str, groups: np.ndarray) -> np.ndarray:
        """Segment number of each group's pool, -1 where there is none. A group with no
        pool of its own in this setting borrows the GENERAL group's (an OTC cold remedy
        bought at a pharmacy is still a cold remedy)."""
        series = pl.Series(groups, dtype=pl.String)
        uniq = series.unique(maintain_order=True).to_list()
        codes = {
            g: self.keys.get(
                f"{setting}|{role}|{g}", self.keys.get(f"{setting}|{role}|GENERAL", -1)
            )
            for g in uniq
        }
        return series.replace_strict(codes, return_dtype=pl.Int64).to_numpy()

    def sample(
        self,
        rng: np.random.Generator,
        seg: np.ndarray,
        u: np.ndarray | None = None,
        fixed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """An item and a count per row; where ``fixed``, ``u`` holds uniforms fixed per
        person and slot: the item is the person's usual one and the count the pool's full
        supply."""
        draw = rng.random(len(seg)) if u is None else u
        pos = np.searchsorted(self.cum, seg + draw, side="right")
        pos = np.minimum(pos, len(self.cum) - 1)
        lo, hi = self.cnt_min[pos], self.cnt_max[pos]
        cnt = lo + (rng.random(len(seg)) * (hi - lo + 1)).astype(np.int64)
        if fixed is not None:
            cnt = np.where(fixed, hi, cnt)
        return self.item[pos], cnt


class LineMaker:
    """Turns a month's encounters into lines; holds the fixed items and pools."""

    def __init__(self, world: World) -> None:
        self.world = world
        cat = world.kb.catalogue
        self.item_index = {c: i for i, c in enumerate(cat["med_list_codg"].to_list())}
        groups = world.kb.diagnosis["dise_group"].unique().to_list()
        self.pools = Pools.build(world.usage, self.item_index, groups)
        self.group = cat["item_group"].fill_null("").to_numpy().astype(str)
        pric = (cat["pric"].cast(pl.Float64) * 100).round().cast(pl.Int64).to_numpy()
        self.pric_fen = pric
        self.cap_fen = np.stack(
            [
                (cat[c].cast(pl.Float64) * 100).round().fill_null(-1).cast(pl.Int64).to_numpy()
                for c in ("pric_uplmt_lv1", "pric_uplmt_lv2", "pric_uplmt_lv3")
            ]
        )

        def first(group: str, cheapest: int = 0) -> int:
            idx = np.flatnonzero(self.group == group)
            if len(idx) == 0:
                msg = f"the catalogue has no item in item_group {group!r}; the generator needs one"
                raise ValueError(msg)
            return int(idx[np.argsort(pric[idx], kind="stable")][min(cheapest, len(idx) - 1)])

        self.registration = first("registration")
        self.consultation = first("consultation")
        self.general_fee = first("general_fee")
        self.drug_class = cat["drug_class"].fill_null("").to_numpy().astype(str)
        pairs = world.kb.knowledge_pair.with_columns(
            item_a=pl.col("item_a").replace_strict(self.item_index, return_dtype=pl.Int32),
            item_b=pl.col("item_b").replace_strict(self.item_index, return_dtype=pl.Int32),
        )
        needs = pl.col("pair_type").is_in(REQUIRED_PAIRS)
        self.forbidden = pairs.filter(~needs).select("item_a", "item_b")
        # An item that needs one of its partners gets the first unrestricted one (so an adult's
        # infusion is not completed with the children's scalp-vein infusion).
        required = pairs.filter(needs)
        restricted = ~unrestricted(cat)[required["item_b"].to_numpy()]
        self.companion = required.select(
            "item_a",
            "item_b",
            rank=pl.struct(restricted=pl.Series(restricted), order=pl.int_range(pl.len())).rank(
                "ordinal"
            ),
        )
        caps = np.stack(
            [
                cat[k].cast(pl.Float64).fill_null(1e9).to_numpy()
                for k in ("max_cnt_line", "max_cnt_day", "max_cnt_visit")
            ]
        )
        self.cap_cnt = np.floor(caps.min(axis=0)).astype(np.int64)
        # Packs one outpatient prescription may supply: max_days_supply / days_per_unit.
        days = cat["days_per_unit"].cast(pl.Float64).to_numpy()
        most = cat["max_days_supply"].cast(pl.Float64).to_numpy()
        self.cap_supply = np.where(
            (days > 0) & (most > 0), np.floor(np.nan_to_num(most / days, nan=1e9)), 1e9
        ).astype(np.int64)
        names = cat["med_list_name"].to_list()

        def named(word: str) -> int:
            for i, name in enumerate(names):
                if word in name:
                    return i
            msg = f"the catalogue has no item named like {word!r}; the generator needs one"
            raise ValueError(msg)

        self.bed = (first("bed", 0), first("bed", 1))
        self.nursing = (named("Ⅱ级护理"), named("Ⅰ级护理"))
        self.ward_round = named("住院诊查费")
        # Imaging a county outpatient may get: unrestricted exams and CT.
        free = unrestricted(cat)
        # Not the ones capped per period (bone density once a year): a random draw would
        # repeat them.
        periodic = cat["max_cnt_period"].is_not_null().to_numpy()
        self.exams = np.flatnonzero(free & np.isin(self.group, ["exam", "CT"]) & ~periodic)
        self.periodic = periodic

    def scale(
        self, item: np.ndarray, cnt: np.ndarray, factor: np.ndarray, *, supply: bool = False
    ) -> np.ndarray:
        """Multiply quantities without ever crossing an item's per-line or per-day cap (and,
        with ``supply``, the most days one outpatient prescription may supply)."""
        cap = self.cap_cnt[item]
        if supply:
            cap = np.minimum(cap, np.maximum(self.cap_supply[item], 1))
        return np.maximum(np.minimum(cnt * factor, cap), np.minimum(cnt, cap)).astype(np.int64)

    def cap_at(self, item: np.ndarray, level: np.ndarray) -> np.ndarray:
        """Each item's price cap at the institution's level, in fen (-1 where none)."""
        lv = np.select([level == "2", level == "3"], [1, 2], 0)
        return self.cap_fen[lv, item]

    def price(self, item: np.ndarray, level: np.ndarray) -> np.ndarray:
        """What an honest institution charges: the cap at its level where there is one."""
        cap = self.cap_at(item, level)
        return np.where(cap > 0, cap, self.pric_fen[item])

    def _draw(
        self,
        enc: pl.DataFrame,
        setting: str,
        role: str,
        n_per: np.ndarray,
        day: np.ndarray | int = 0,
        *,
        regimen: np.ndarray | None = None,
    ) -> list[tuple[np.ndarray, ...]]:
        """n_per lines per encounter drawn from its group's pool for (setting, role).

        ``regimen`` (per encounter): a person's k-th drug of a group is always the same
        one, in a full supply, as chronic refills at a pharmacy are (so an early refill
        overlaps its own drug); other purchases are drawn afresh."""
        keys = enc["enc_key"].to_numpy()
        seg = self.pools.segment(setting, role, enc["group"].to_numpy())
        n_per = np.where(seg >= 0, n_per, 0)
        rows = np.repeat(np.arange(len(keys)), n_per)
        fixed = None
        u = None
        if regimen is not None and regimen.any():
            fixed = regimen[rows]
            slot = np.arange(len(rows)) - np.repeat(np.cumsum(n_per) - n_per, n_per)
            psn = enc["psn"].to_numpy().astype(np.uint64)[rows]
            h = (psn * np.uint64(2654435761) + slot.astype(np.uint64) * np.uint64(40503)) % (
                np.uint64(1) << np.uint64(32)
            )
            u = np.where(
                fixed, h.astype(np.float64) / float(1 << 32), self.world.rng.random(len(rows))
            )
        item, cnt = self.pools.sample(self.world.rng, seg[rows], u, fixed)
        d = np.broadcast_to(day, len(keys))[rows] if np.ndim(day) else np.full(len(rows), day)
        return [(keys[rows], item, cnt, d)]

    def outpatient(self, enc: pl.DataFrame) -> list[tuple[np.ndarray, ...]]:
        rng = self.world.rng
        n = enc.height
        kind = self.world.inst_kind[enc["inst"].to_numpy()]
        keys = enc["enc_key"].to_numpy()
        setting = enc["setting"][0] if n else "op"
        parts: list[tuple[np.ndarray, ...]] = []
        if setting == "op":
            county = np.isin(kind, ["A1", "A2", "A3"])
            fee = np.where(county, self.registration, self.general_fee)
            parts.append((keys, fee, np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)))
            c = county
            parts.append(
                (
                    keys[c],
                    np.full(c.sum(), self.consultation),
                    np.ones(c.sum(), np.int64),
                    np.zeros(c.sum(), np.int64),
                )
            )
        county = np.isin(kind, ["A1", "A2", "A3"])
        n_drug = 1 + rng.binomial(np.select([kind == "C1", county], [1, 3], 2), 0.5)
        refill = np.isin(enc["group"].to_numpy(), REFILL_GROUPS) & (setting == "ph")
        [(k, item, cnt, day)] = self._draw(enc, setting, "drug", n_drug, regimen=refill)
        # County hospitals prescribe longer courses: more packs per drug.
        more = np.isin(k, keys[county])
        parts.append((k, item, self.scale(item, cnt, np.where(more, 3, 1), supply=True), day))
        p_test = np.select(
            [kind == "C1", kind == "B1", kind == "C2", kind == "D1"], [0.05, 0.35, 0.1, 0.0], 0.7
        )
        n_test = (rng.random(n) < p_test) * (1 + rng.binomial(2, 0.5, n) * county)
        parts += self._draw(enc, setting, "test", n_test)
        p_treat = np.select([kind == "D1", county], [0.0, 0.2], 0.3)
        parts += self._draw(enc, setting, "treat", (rng.random(n) < p_treat).astype(np.int64))
        if setting == "op":
            exam = county & (rng.random(n) < 0.35)
            parts.append(
                (
                    keys[exam],
                    self.exams[rng.integers(0, len(self.exams), exam.sum())],
                    np.ones(exam.sum(), np.int64),
                    np.zeros(exam.sum(), np.int64),
                )
            )
        return parts

    def inpatient(self, enc: pl.DataFrame) -> list[tuple[np.ndarray, ...]]:
        rng = self.world.rng
        n = enc.height
        keys = enc["enc_key"].to_numpy()
        los = enc["los"].to_numpy().astype(np.int64)
        level = self.world.inst_level[enc["inst"].to_numpy()]
        low = enc["mode"].to_numpy() == "lowthr"
        parts: list[tuple[np.ndarray, ...]] = []
        # Daily lines: bed and nursing every night of the stay.
        rows = np.repeat(np.arange(n), los)
        day = np.arange(len(rows)) - np.repeat(np.cumsum(los) - los, los)
        bed = np.where(level == "1", self.bed[0], self.bed[1])[rows]
        nurse = np.where(rng.random(n) < 0.75, self.nursing[0], self.nursing[1])[rows]
        ones = np.ones(len(rows), dtype=np.int64)
        ward = np.full(len(rows), self.ward_round)
        parts += [
            (keys[rows], bed, ones, day),
            (keys[rows], nurse, ones, day),
            (keys[rows], ward, ones, day),
        ]
        county = level == "2"
        # Drugs given every day: 4–9 per stay at county hospitals, 3–6 at township centres;
        # oral only for low-threshold admissions.
        n_drug = np.where(county, 4 + rng.binomial(5, 0.5, n), 3 + rng.binomial(3, 0.5, n))
        drug_rows = np.repeat(np.arange(n), n_drug)
        role_setting = np.where(low, "op", "ip")
        for setting in ("ip", "op"):
            sel = drug_rows[role_setting[drug_rows] == setting]
            seg = self.pools.segment(setting, "drug", enc["group"].to_numpy()[sel])
            sel, seg = sel[seg >= 0], seg[seg >= 0]
            item, cnt = self.pools.sample(rng, seg)
            # Inpatient doses run higher than the recipe's minimum: two to four units a day.
            cnt = self.scale(
                item, cnt, rng.integers(np.where(county[sel], 3, 2), np.where(county[sel], 7, 6))
            )
            # Each drug runs from its first day to the end of the stay.
            first_day = (rng.random(len(sel)) * np.minimum(los[sel], 3)).astype(np.int64)
            span = los[sel] - first_day
            r = np.repeat(np.arange(len(sel)), span)
            d = first_day[r] + np.arange(len(r)) - np.repeat(np.cumsum(span) - span, span)
            parts.append((keys[sel][r], item[r], cnt[r], d))
        # Treatments on most days: one to three per stay (infusion, monitoring, oxygen).
        n_treat = np.where(low, 0, 1 + rng.binomial(2, np.where(county, 0.6, 0.3), n))
        seg_all = self.pools.segment("ip", "treat", enc["group"].to_numpy())
        sel = np.repeat(np.arange(n), np.where(seg_all >= 0, n_treat, 0))
        item, cnt = self.pools.sample(rng, seg_all[sel])
        # Hourly items (monitoring, oxygen) run most of the day.
        hourly = self.cap_cnt[item] >= 12
        cnt = np.where(hourly, self.scale(item, cnt, rng.integers(12, 25, len(item))), cnt)
        span = np.ceil(los[sel] * 0.7).astype(np.int64)
        r = np.repeat(np.arange(len(sel)), span)
        d = np.arange(len(r)) - np.repeat(np.cumsum(span) - span, span)
        parts.append((keys[sel][r], item[r], cnt[r], d))
        # Tests on admission, and again mid-stay for longer stays.
        parts += self._draw(enc, "ip", "test", np.where(county, 6, 4) + rng.binomial(4, 0.5, n))
        exam = county & (rng.random(n) < 0.5) & ~low
        parts.append(
            (
                keys[exam],
                self.exams[rng.integers(0, len(self.exams), exam.sum())],
                np.ones(exam.sum(), np.int64),
                np.zeros(exam.sum(), np.int64),
            )
        )
        again = np.where(los >= 6, 3, 0)
        parts += self._draw(enc, "ip", "test", again, day=np.maximum(los // 2, 1))
        # Surgery on the day after admission (same day for one-day stays).
        surgical = np.isin(enc["group"].to_numpy(), SURGICAL) & ~low
        op_day = np.minimum(1, los - 1)
        for role, k in (("surgery", 1), ("anaesthesia", 1), ("consumable", 2)):
            parts += self._draw(enc, "ip", role, surgical * k, day=op_day)
        return parts

    def discharge_drugs(self, enc: pl.DataFrame) -> pl.DataFrame:
        n = enc.height
        take = (self.world.rng.random(n) < 0.4) & (enc["mode"].to_numpy() != "lowthr")
        [(k, item, cnt, _)] = self._draw(enc, "ip", "discharge_drug", take.astype(np.int64))
        los = dict(zip(enc["enc_key"].to_list(), enc["los"].to_list(), strict=True))
        day = np.array([los[x] for x in k.tolist()], dtype=np.int64)
        return self.frame([(k, item, cnt, day)], dscg=True)

    def frame(self, parts: list[tuple[np.ndarray, ...]], *, dscg: bool = False) -> pl.DataFrame:
        cols = [
            np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, np.int64)
            for i in range(4)
        ]
        return pl.DataFrame(
            {"enc_key": cols[0], "item": cols[1], "cnt": cols[2], "day": cols[3]},
            schema={"enc_key": pl.Int64, "item": pl.Int32, "cnt": pl.Int32, "day": pl.Int32},
        ).with_columns(dscg=pl.lit(dscg), scheme=pl.lit(None, pl.String))

    def make(self, enc: pl.DataFrame) -> pl.DataFrame:
        """All ordinary lines of these encounters (not yet priced or timed)."""
        frames = []
        for setting in ("op", "ph"):
            sub = enc.filter(pl.col("setting") == setting)
            if sub.height:
                frames.append(self.frame(self.outpatient(sub)))
        ip = enc.filter(pl.col("setting") == "ip")
        if ip.height:
            frames.append(self.frame(self.inpatient(ip)))
            frames.append(self.discharge_drugs(ip))
        lines = pl.concat(frames) if frames else self.frame([])
        # One drug or test appears once a day in a visit: collapse accidental repeats.
        lines = lines.unique(["enc_key", "item", "day", "dscg"], keep="first", maintain_order=True)
        return self.clean(lines)

    def clean(self, lines: pl.DataFrame) -> pl.DataFrame:
        """Honest care breaks no pair rule: one drug of a pharmacological class per visit,
        never both items of a forbidden pair, and an item that needs a companion service
        (a consumable, or a drug its administering service) billed beside one of them."""
        one_per_class = (
            lines.with_columns(cls=pl.Series(self.drug_class[lines["item"].to_numpy()]))
            .with_columns(first=pl.col("item").first().over("enc_key", "cls"))
            .filter((pl.col("cls") == "") | (pl.col("item") == pl.col("first")))
            .drop("cls", "first")
        )
        present = one_per_class.select("enc_key", "item").unique()
        clash = (
            present.join(self.forbidden, left_on="item", right_on="item_a")
            .join(present, left_on=["enc_key", "item_b"], right_on=["enc_key", "item"])
            .select("enc_key", item="item_b")
            .unique()
        )
        kept = one_per_class.join(clash, on=["enc_key", "item"], how="anti")
        have = kept.select("enc_key", "item").unique()
        wanted = kept.group_by("enc_key", "item", maintain_order=True).agg(pl.col("day").min())
        wanted = wanted.join(self.companion, left_on="item", right_on="item_a")
        satisfied = wanted.join(
            have, left_on=["enc_key", "item_b"], right_on=["enc_key", "item"], how="semi"
        ).select("enc_key", "item")
        need = (
            wanted.join(satisfied, on=["enc_key", "item"], how="anti")
            .sort("rank")
            .group_by("enc_key", "item", maintain_order=True)
            .agg(pl.col("item_b", "day").first())
            .group_by("enc_key", "item_b", maintain_order=True)
            .agg(pl.col("day").min())
        )
        add = need.select(
            "enc_key",
            item=pl.col("item_b"),
            cnt=pl.lit(1, pl.Int32),
            day="day",
            dscg=pl.lit(False),
            scheme=pl.lit(None, pl.String),
        )
        return pl.concat([kept, add], how="vertical_relaxed")
