"""A column of event times parsed at once: the ``observed_at`` of a slice of pings.

``paicha match`` reads millions of pings. A Python step per time (a dictionary look-up of the
spelling, and the full parse of each spelling not met yet, once per decoding process) cost a
third of decoding a ping. Here the times written in the one layout feeds send,
``YYYY-MM-DDTHH:MM:SS+HH:MM`` (or ``-HH:MM``), are checked byte by byte and converted as numpy
columns: numpy's ISO parser does the calendar and refuses a month, day, hour, minute or second out
of range; the offset is subtracted here.

Only answers, never refuses: a time in any other spelling (fractions of a second, ``Z``, lower
case, a space), or one this cannot vouch for, is left to the one-at-a-time parser, which decides
(``paicha.feeds._fast_micros``). Where both answer they are equal (a property test holds them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

LAYOUT = "0000-00-00T00:00:00+00:00"  # 0: a digit; the sign may also be "-"
_WIDTH = len(LAYOUT)
_DIGITS = [i for i, c in enumerate(LAYOUT) if c == "0"]
_SEPARATORS = [(i, ord(c)) for i, c in enumerate(LAYOUT) if c in "-T:"]
_SIGN = LAYOUT.index("+")
_LOCAL = slice(0, _SIGN)  # the local date and time, as numpy's datetime64 parses it
_ZERO = ord("0")
_SECOND = 1_000_000


def fixed_layout_micros(spellings: Sequence[str], until: int) -> tuple[Ints, Flags]:
    """Each time as UTC microseconds since the epoch, and where that answer holds: the times in
    ``LAYOUT`` that fall in ``[0, until)``. Elsewhere the micros are meaningless."""
    count = len(spellings)
    micros, nowhere = np.zeros(count, np.int64), np.zeros(count, np.bool_)
    try:
        text = np.array(spellings, dtype=f"S{_WIDTH}").reshape(count)
    except UnicodeEncodeError:  # not ASCII: not the layout
        return micros, nowhere
    raw = text.view(np.uint8).reshape(count, _WIDTH)
    # Lengths from the strings themselves: numpy cuts a longer one to the width, and a byte
    # string's trailing NULs do not show in it.
    fits = np.fromiter(map(len, spellings), np.int64, count) == _WIDTH
    digits = raw[:, _DIGITS] - _ZERO  # wraps for bytes below "0": large, so not a digit
    fits &= (digits <= 9).all(axis=1)
    for at, separator in _SEPARATORS:
        fits &= raw[:, at] == separator
    sign = raw[:, _SIGN]
    fits &= (sign == ord("+")) | (sign == ord("-"))
    offset_hours = _number(raw, _SIGN + 1)
    offset_minutes = _number(raw, _SIGN + 4)
    fits &= (offset_hours <= 23) & (offset_minutes <= 59)  # else datetime's own rules decide
    if not fits.any():
        return micros, nowhere
    local = np.ascontiguousarray(raw[fits, _LOCAL]).view(f"S{_SIGN}").reshape(-1)
    try:
        seconds = local.astype("datetime64[s]").astype(np.int64)
    except ValueError:  # a date or time out of range somewhere: each decided one at a time
        return micros, nowhere
    east = np.where(sign[fits] == ord("+"), 1, -1)
    seconds -= east * (offset_hours[fits] * 3600 + offset_minutes[fits] * 60)
    micros[fits] = seconds * _SECOND
    fits[fits] = (seconds >= 0) & (micros[fits] < until)
    return micros, fits


def _number(raw: npt.NDArray[np.uint8], at: int) -> Ints:
    """The two-digit number at ``at`` (garbage where those are not digits)."""
    return (raw[:, at].astype(np.int64) - _ZERO) * 10 + (raw[:, at + 1].astype(np.int64) - _ZERO)
