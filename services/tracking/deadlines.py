"""Where a task stands against its deadline, as pure decisions over times (no database).

The notice gives 24 hours for companions and 48 hours for area visitors, counted from the push
(``detected_at``). A task still being worked is

- ``on_track`` before ``at_risk_fraction`` of its time has run (default 75 %),
- ``at_risk`` from then until its deadline,
- ``overdue`` from its deadline on (``now >= due_at``: at the deadline itself it is late).

The watch (``watch``) marks the last two once each; the compliance figures (``compliance``) and
the supervisors' lists use the same thresholds, so every screen agrees on what "at risk" means.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

DEFAULT_AT_RISK_FRACTION = 0.75
ACTIVE_STATUSES = ("open", "claimed")

Standing = Literal["on_track", "at_risk", "overdue"]
Level = Literal["at_risk", "overdue"]
LEVELS: tuple[Level, ...] = ("at_risk", "overdue")


def at_risk_from(
    detected_at: datetime, due_at: datetime, fraction: float = DEFAULT_AT_RISK_FRACTION
) -> datetime:
    """The moment ``fraction`` of the task's time has run."""
    return detected_at + (due_at - detected_at) * fraction


def standing(
    detected_at: datetime,
    due_at: datetime,
    now: datetime,
    fraction: float = DEFAULT_AT_RISK_FRACTION,
) -> Standing:
    """Where a task still being worked stands at ``now``."""
    if now >= due_at:
        return "overdue"
    if now >= at_risk_from(detected_at, due_at, fraction):
        return "at_risk"
    return "on_track"


def check_fraction(fraction: float) -> float:
    """The at-risk fraction must lie strictly between 0 and 1."""
    if not 0 < fraction < 1:
        raise ValueError(f"the at-risk fraction must lie between 0 and 1, not {fraction}")
    return fraction
