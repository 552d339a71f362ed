"""Counties by area code (县级行政区划代码, the first six digits of an ``admdvs``): what a
province's screens name a county by. The platform's code lists carry no names of places, so
a deployment lists its own here; the provincial sample's (invented) prefecture and counties
are listed first."""

from __future__ import annotations

COUNTY_NAMES: dict[str, tuple[str, str]] = {
    "130123": ("永宁县", "Yongning County"),
    "130124": ("安丰县", "Anfeng County"),
    "130125": ("平川县", "Pingchuan County"),
    "130126": ("石门县", "Shimen County"),
}
"""Six-digit county code → (Chinese, English) name."""
PREFECTURE_NAMES: dict[str, tuple[str, str]] = {"1301": ("永安市", "Yong'an City")}
"""Four-digit prefecture code → (Chinese, English) name."""


def county_of(admdvs: str | None) -> str | None:
    """The county code of an area code of any depth (a township's nine or twelve digits)."""
    if admdvs is None or len(admdvs) < 6 or not admdvs[:6].isdigit():
        return None
    return admdvs[:6]


def county_name(code: str, lang: str = "zh") -> str:
    """A county's name in ``lang``, or its code when the list does not know it."""
    names = COUNTY_NAMES.get(code)
    if names is None:
        return code
    return names[1] if lang == "en" else names[0]
