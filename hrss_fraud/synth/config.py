"""Settings of a synthetic county: size, period, seed, fraud and scheme rates."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from hrss_fraud.synth import names

#: Named sizes. ``tiny`` runs in seconds for tests; ``county-year`` is the benchmark scale.
PRESETS: dict[str, dict[str, object]] = {
    "tiny": {"persons": 10_000, "months": 3},
    "small": {"persons": 30_000, "months": 6},
    "county-year": {"persons": 400_000, "months": 12},
}


@dataclass(frozen=True)
class SynthConfig:
    """Everything that decides a generated county; the same config gives the same files."""

    out: Path
    persons: int = 10_000
    months: int = 3
    start: date = date(2025, 1, 1)
    seed: int = 42
    fraud_rate: float = 0.10
    scheme_rates: dict[str, float] = field(default_factory=dict)
    malformed: bool = True
    #: The county's six-digit area code and name (a province sample generates several).
    county_admdvs: str = names.COUNTY_ADMDVS
    county_name: str = names.COUNTY_NAME

    def __post_init__(self) -> None:
        if self.persons < 500:
            msg = (
                f"--persons must be at least 500 (got {self.persons}): a county needs a population"
            )
            raise ValueError(msg)
        if not 1 <= self.months <= 36:
            msg = f"--months must be between 1 and 36 (got {self.months})"
            raise ValueError(msg)
        if not 0.0 <= self.fraud_rate <= 0.5:
            msg = f"--fraud-rate must be between 0 and 0.5 (got {self.fraud_rate})"
            raise ValueError(msg)
        if self.start.day != 1:
            msg = f"--start must be the first day of a month (got {self.start.isoformat()})"
            raise ValueError(msg)

    @classmethod
    def preset(cls, name: str, **overrides: object) -> SynthConfig:
        try:
            base = PRESETS[name]
        except KeyError:
            msg = f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}"
            raise ValueError(msg) from None
        values = {**base, **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**values)  # type: ignore[arg-type]

    def with_out(self, out: Path) -> SynthConfig:
        return replace(self, out=out)

    @property
    def id_prefix(self) -> str:
        """Put before visit and settlement numbers: empty for the sample county (its numbers
        stay as they were), the area code for the others, so that counties never clash."""
        return "" if self.county_admdvs == names.COUNTY_ADMDVS else self.county_admdvs

    @property
    def end(self) -> date:
        """First day after the period."""
        y, m = divmod(self.start.month - 1 + self.months, 12)
        return date(self.start.year + y, m + 1, 1)
