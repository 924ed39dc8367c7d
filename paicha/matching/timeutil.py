"""Event time as integer microseconds since the Unix epoch, UTC.

Integers keep every comparison in the rules exact (an overlap of exactly ``min_overlap`` is an
overlap of ``min_overlap``), which floats near 1.6e9 seconds would not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MICROSECOND = 1
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
FOREVER = 2**62  # an interval end that never comes (a risk area not yet lifted)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: event times must carry an offset")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=micros)


def isoformat(micros: int | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``, or None for None and for ``FOREVER``."""
    if micros is None or micros >= FOREVER:
        return None
    return from_micros(micros).isoformat().replace("+00:00", "Z")
