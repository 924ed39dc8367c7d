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
    """What was sent, less the overlaps that ended before the horizon (none needs retracting).

    Trimmed overlap by overlap, not only key by key: a pair evaluated again after its older stays
    were pruned finds just the overlaps still in retention, and that must read as no change, not
    as news that shrank. The task policy forgets those overlaps itself, when its own horizon
    gets there; told of them first, it would send a task record that only aging caused.
    """
    kept: dict[K, tuple[Interval, ...]] = {}
    for key, overlaps in sent.items():
        live = tuple(iv for iv in overlaps if iv[1] >= horizon)
        if live:
            kept[key] = live
    return kept
