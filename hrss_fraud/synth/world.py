"""The generator's shared state: the county, its people, the knowledge base and lookups
that both the care model and the scheme injectors index into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from hrss_fraud.knowledge import Knowledge
from hrss_fraud.synth.config import SynthConfig
from hrss_fraud.synth.institutions import County
from hrss_fraud.synth.persons import Population

#: Columns of the encounter plan: one row per visit, purchase or admission.
ENCOUNTER_SCHEMA = {
    "psn": pl.Int32,
    "inst": pl.Int32,
    "dr": pl.Int32,
    "dept": pl.String,
    "setting": pl.String,
    "med_type": pl.String,
    "day": pl.Int32,
    "sec": pl.Int32,
    "los": pl.Int32,
    "group": pl.String,
    "tag": pl.String,
    "kind": pl.String,
    "mode": pl.String,
}

#: Columns of extra lines that schemes add to chosen encounters.
EXTRA_SCHEMA = {
    "enc_key": pl.Int64,
    "item": pl.Int32,
    "cnt": pl.Int32,
    "day": pl.Int32,
    "pric_fen": pl.Int64,
    "scheme": pl.String,
}


@dataclass
class World:
    cfg: SynthConfig
    rng: np.random.Generator
    county: County
    pop: Population
    kb: Knowledge
    usage: pl.DataFrame
    days: int
    inst_kind: np.ndarray = field(init=False)
    inst_town: np.ndarray = field(init=False)
    inst_level: np.ndarray = field(init=False)
    fraud_inst: np.ndarray = field(init=False)
    item_code: np.ndarray = field(init=False)
    _doctor_keys: np.ndarray = field(init=False)
    _doctor_start: np.ndarray = field(init=False)
    _doctor_count: np.ndarray = field(init=False)
    _doctor_index: np.ndarray = field(init=False)
    dept_codes: list[str] = field(init=False)
    #: Institutions each institution-driven scheme was assigned to.
    scheme_inst: dict[str, np.ndarray] = field(default_factory=dict)
    #: Per scheme: [eligible, affected] — what its configured rate applied to.
    stats: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        inst = self.county.institution
        self.inst_kind = inst["medins_type"].to_numpy().astype(str)
        towns = self.county.townships["admdvs"].to_list()
        self.inst_town = np.array([towns.index(a) for a in inst["admdvs"].to_list()])
        self.inst_level = inst["hosp_lv"].fill_null("0").to_numpy().astype(str)
        self.fraud_inst = np.zeros(inst.height, dtype=bool)
        self.item_code = self.kb.catalogue["med_list_codg"].to_numpy().astype(str)
        pr = self.county.practitioner
        codes = inst["fixmedins_code"].to_list()
        pos = {c: i for i, c in enumerate(codes)}
        self.dept_codes = sorted(set(pr["dept_codg"].to_list()))
        dr_inst = np.array([pos[c] for c in pr["fixmedins_code"].to_list()])
        dr_dept = np.array([self.dept_codes.index(d) for d in pr["dept_codg"].to_list()])
        keys = dr_inst * 100 + dr_dept
        order = np.argsort(keys, kind="stable")
        self._doctor_index = order
        uniq, start, count = np.unique(keys[order], return_index=True, return_counts=True)
        self._doctor_keys, self._doctor_start, self._doctor_count = uniq, start, count
        self.inst_first_dept = np.array(
            [
                self.dept_codes.index(d)
                for d in pr.group_by("fixmedins_code", maintain_order=True)
                .first()
                .join(inst.select("fixmedins_code").with_row_index("i"), on="fixmedins_code")
                .sort("i")["dept_codg"]
                .to_list()
            ]
        )

    @property
    def start(self) -> date:
        return self.cfg.start

    def insts(self, *kinds: str, town: int | None = None) -> np.ndarray:
        """Indices of institutions of the given kinds, optionally in one township."""
        hit = np.isin(self.inst_kind, kinds)
        if town is not None:
            hit &= self.inst_town == town
        return np.flatnonzero(hit)

    def doctors(self, inst: np.ndarray, dept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A doctor of each (institution, department); falls back to the institution's first
        department when it has no such department. Returns (doctor index, department code)."""
        codes = np.array(self.dept_codes)
        dept_idx = np.clip(np.searchsorted(codes, dept), 0, len(codes) - 1)
        dept_idx = np.where(codes[dept_idx] == dept, dept_idx, -1)
        keys = inst.astype(np.int64) * 100 + dept_idx
        pos = np.searchsorted(self._doctor_keys, keys)
        pos = np.clip(pos, 0, len(self._doctor_keys) - 1)
        missing = self._doctor_keys[pos] != keys
        dept_idx = np.where(missing, self.inst_first_dept[inst], dept_idx)
        keys = inst.astype(np.int64) * 100 + dept_idx
        pos = np.searchsorted(self._doctor_keys, keys)
        pick = self._doctor_start[pos] + (
            self.rng.random(len(keys)) * self._doctor_count[pos]
        ).astype(np.int64)
        return self._doctor_index[pick], np.array(self.dept_codes)[dept_idx]
