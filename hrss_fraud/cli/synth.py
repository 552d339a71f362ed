"""``hrss-fraud synth`` and ``profile``: generate a synthetic county, and describe one."""

from __future__ import annotations

from pathlib import Path

import click

from hrss_fraud.cli.common import Fail, current_workspace
from hrss_fraud.synth.config import PRESETS, SynthConfig
from hrss_fraud.synth.generate import generate
from hrss_fraud.synth.profile import write_profile
from hrss_fraud.synth.province import PROVINCE_PRESETS, generate_province, province_config
from hrss_fraud.synth.schemes import SCHEMES


def _scheme_rates(values: tuple[str, ...]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for v in values:
        name, sep, number = v.partition("=")
        if not sep or name not in SCHEMES:
            msg = (
                f"--scheme-rate {v!r}: expected NAME=RATE with NAME one of "
                f"{', '.join(sorted(SCHEMES))}"
            )
            raise Fail(msg)
        try:
            rates[name] = float(number)
        except ValueError:
            msg = f"--scheme-rate {v!r}: {number!r} is not a number"
            raise Fail(msg) from None
        if not 0 <= rates[name] <= 1:
            msg = f"--scheme-rate {v!r}: the rate must be between 0 and 1"
            raise Fail(msg)
    return rates


@click.command()
@click.option(
    "--preset",
    type=click.Choice([*PRESETS, *PROVINCE_PRESETS]),
    default="tiny",
    show_default=True,
    help="A named size; the options below override it. province-sample: four counties of "
    "one prefecture with persons crossing counties (--persons is per county).",
)
@click.option("--persons", type=int, help="Number of insured persons.")
@click.option("--months", type=int, help="Number of months to generate.")
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m"]),
    help="First month (YYYY-MM or YYYY-MM-01). Default 2025-01.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--fraud-rate", type=float, help="Share of institutions that commit fraud.")
@click.option(
    "--scheme-rate",
    multiple=True,
    metavar="NAME=RATE",
    help="Override one scheme's rate; repeatable. See --list-schemes.",
)
@click.option(
    "--out", type=click.Path(file_okay=False), help="Output folder (default: WORKSPACE/synth)."
)
@click.option("--no-malformed", is_flag=True, help="Do not write the malformed test files.")
@click.option("--list-schemes", is_flag=True, help="List the injectable schemes and exit.")
@click.option("--quiet", is_flag=True)
@click.pass_context
def synth(
    ctx: click.Context,
    preset: str,
    persons: int | None,
    months: int | None,
    start: object,
    seed: int,
    fraud_rate: float | None,
    scheme_rate: tuple[str, ...],
    out: str | None,
    no_malformed: bool,
    list_schemes: bool,
    quiet: bool,
) -> None:
    """Generate a synthetic county: uploads, reference tables and the truth kept apart."""
    if list_schemes:
        for s in SCHEMES.values():
            click.echo(
                f"{s.name:26} {s.family:6} {s.driver:11} {s.entity:11} rate={s.rate:<7} {s.zh}"
            )
        return
    target = Path(out) if out else current_workspace(ctx) / "synth"
    make = province_config if preset in PROVINCE_PRESETS else SynthConfig.preset
    try:
        cfg = make(
            preset,
            out=target,
            persons=persons,
            months=months,
            seed=seed,
            fraud_rate=fraud_rate,
            scheme_rates=_scheme_rates(scheme_rate),
            start=start.date().replace(day=1) if start else None,  # type: ignore[attr-defined]
            malformed=not no_malformed,
        )
    except ValueError as exc:
        raise Fail(str(exc)) from None
    say = (lambda _m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        run = generate_province if preset in PROVINCE_PRESETS else generate
        summary = run(cfg, progress=say)
        write_profile(summary.out)
    except OSError as exc:
        raise Fail(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(
        f"wrote {summary.out}: {summary.institutions} institutions, {summary.persons} persons, "
        f"{summary.settlements} settlements, {summary.fee_lines} fee lines in "
        f"{summary.files} files ({summary.seconds} s)"
    )


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def profile(folder: str) -> None:
    """Write the profile report (profile.md) of a generated county."""
    path = write_profile(Path(folder))
    click.echo(f"wrote {path}")
