"""The field types every topic shares: event times, ids, coordinates, codes.

Times get their own parser rather than pydantic's datetime coercion, which would also take a bare
Unix number or a time without an offset; a feed whose clock has no zone would then shift every
ping by hours without anyone noticing. ``parse_time`` is also what the trajectories fast path in
``paicha.feeds`` calls, so both paths accept exactly the same strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import h3
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

# RFC 3339 section 5.6 date-time. Lower-case t/z and a space separator are allowed, as the RFC
# allows; seconds are not optional, as they are not in the RFC.
_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
_OFFSET = r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
RFC3339_PATTERN = f"^{_DATE_TIME}{_OFFSET}$"
RFC3339_WITH_OFFSET = re.compile(f"{_DATE_TIME}{_OFFSET}\\Z")
# The same with the offset optional, so that a naive time gets a message of its own.
_MAYBE_NAIVE = re.compile(f"{_DATE_TIME}({_OFFSET})?\\Z")
EXAMPLE_TIME = "2021-12-07T08:30:00+08:00"


class TimeFormatError(ValueError):
    """A time that is not RFC 3339 with an offset; the message names the field."""


def parse_time(value: object, field: str) -> datetime:
    """An RFC 3339 string with an offset (or an aware datetime) as an aware datetime in UTC.

    Raises ``TimeFormatError`` naming ``field`` for anything else, naive times above all.
    """
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise TimeFormatError(f"{field} is a naive time: it must carry a UTC offset")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise TimeFormatError(
            f"{field} must be an RFC 3339 time string like {EXAMPLE_TIME}, "
            f"not {type(value).__name__}"
        )
    match = _MAYBE_NAIVE.match(value)
    if match is None:
        raise TimeFormatError(
            f"{field} must be an RFC 3339 time with an offset, like {EXAMPLE_TIME}; "
            f"got {_shorten(value)}"
        )
    if match.group(1) is None:
        raise TimeFormatError(
            f"{field} has no UTC offset: {_shorten(value)} is a naive time; "
            f"send it with its offset, like {EXAMPLE_TIME}"
        )
    try:
        # fromisoformat wants upper-case T and Z; it drops digits past the microsecond.
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise TimeFormatError(f"{field} is not a valid time: {_shorten(value)} ({exc})") from exc


def _shorten(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _validate_time(value: Any, info: ValidationInfo) -> datetime:
    try:
        return parse_time(value, info.field_name or "time")
    except TimeFormatError as exc:
        raise PydanticCustomError("rfc3339_time", str(exc)) from exc


def _validate_cell(value: str) -> str:
    if not h3.is_valid_cell(value):
        raise PydanticCustomError("h3_cell", "not a valid H3 cell index")
    return value


Time = Annotated[
    datetime,
    BeforeValidator(_validate_time),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": RFC3339_PATTERN,
            "description": "RFC 3339 with an offset, e.g. 2021-12-07T08:30:00+08:00; stored in UTC",
        }
    ),
]
"""An event time: RFC 3339 with an offset, normalised to UTC."""

Id = Annotated[str, Field(strict=True, min_length=1)]
"""An identifier chosen by a feed: any non-empty string."""

Text = Annotated[str, Field(strict=True)]
Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, description="WGS84 degrees north")]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, description="WGS84 degrees east")]
CityCode = Annotated[
    str,
    Field(
        strict=True,
        pattern=r"^[0-9]{6}$",
        description="6-digit GB/T 2260 code of a prefecture-level city, e.g. 330100 (Hangzhou)",
        examples=["330100"],
    ),
]
Cell = Annotated[
    str,
    Field(strict=True, pattern=r"^8[0-9a-f]{14}$", description="H3 cell index, hex"),
    AfterValidator(_validate_cell),
]
