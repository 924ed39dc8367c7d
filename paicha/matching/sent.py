"""What a join last told the task policy about each (person, source), so it tells only changes.

Both joins re-evaluate pairs far more often than the overlaps of a pair change (every stay that
grows re-evaluates its person). Remembering what was sent turns most evaluations into nothing
downstream, and makes every message a full replacement: re-sending one changes nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

from paicha.matching.model import Interval

K = TypeVar("K", bound=Hashable)


def news(
    sent: dict[K, tuple[Interval, ...]], key: K, overlaps: Iterable[Interval]
) -> tuple[Interval, ...] | None:
    """The overlaps to send for ``key`` (empty: retract), or None when they are what was sent.

    Records them as sent.
    """
    now = tuple(sorted(set(overlaps)))
    if sent.get(key, ()) == now:
        return None
    if now:
        sent[key] = now
    else:
        sent.pop(key, None)
    return now


def forget_before(
    sent: dict[K, tuple[Interval, ...]], horizon: int
) -> dict[K, tuple[Interval, ...]]:
    """What was sent about overlaps still within retention (the rest need no retraction)."""
    return {k: ovs for k, ovs in sent.items() if max(e for _, e in ovs) >= horizon}
