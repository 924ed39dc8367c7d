"""GB/T 2260 administrative codes, and the township/community codes that extend them.

A code names its own ancestors: ``140105001001`` is community 001 of street (街道) 001 of
district (区) ``140105``, in city (地级市) ``140100``, in province (省) ``140000``. The tracking
service leans on that: a task stores the code of every level above it (``ancestry``), so "the
tasks in the subtree of X" is one equality on an indexed column, whatever the database's collation.

    level       digits  example
    province    6       140000   (ends in 0000)
    city        6       140100   (ends in 00)
    district    6       140105
    street      9       140105001
    community   12      140105001001
"""

from __future__ import annotations

import re
from typing import Literal

Level = Literal["province", "city", "district", "street", "community"]
LEVELS: tuple[Level, ...] = ("province", "city", "district", "street", "community")
_CODE = re.compile(r"[0-9]{6}(?:[0-9]{3}(?:[0-9]{3})?)?")


def is_code(value: str) -> bool:
    """Whether ``value`` is a 6-, 9- or 12-digit code."""
    return _CODE.fullmatch(value) is not None


def level_of(code: str) -> Level:
    """The level a code names. Raises ValueError for anything that is not a code."""
    if not is_code(code):
        raise ValueError(f"{code!r} is not a 6, 9 or 12 digit GB/T 2260 code")
    if len(code) == 12:
        return "community"
    if len(code) == 9:
        return "street"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "district"


def ancestry(code: str) -> dict[Level, str]:
    """The code of every level from the province down to ``code`` itself.

    >>> ancestry("140105001001")["city"]
    '140100'
    """
    level = level_of(code)
    chain: dict[Level, str] = {"province": code[:2] + "0000"}
    if level != "province":
        chain["city"] = code[:4] + "00"
    if level in ("district", "street", "community"):
        chain["district"] = code[:6]
    if level in ("street", "community"):
        chain["street"] = code[:9]
    if level == "community":
        chain["community"] = code
    return chain


def parent_of(code: str) -> str | None:
    """The code one level up, or None for a province."""
    chain = list(ancestry(code).values())
    return chain[-2] if len(chain) > 1 else None


def contains(outer: str, inner: str) -> bool:
    """Whether ``inner`` lies in the subtree of ``outer`` (a code contains itself)."""
    if not (is_code(outer) and is_code(inner)):
        return False
    return ancestry(inner).get(level_of(outer)) == outer


def city_of(code: str) -> str | None:
    """The city a code lies in, or None for a province."""
    return ancestry(code).get("city") if is_code(code) else None
