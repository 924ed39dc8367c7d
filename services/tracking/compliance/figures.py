"""Compliance figures from task times: pure arithmetic, no database, so a hand-computed fixture
can check every number.

Definitions (the README's supervisors section says the same):

- ``open``: tasks still being worked (open or claimed) at ``as_of``; ``at_risk`` and ``overdue``
  are the parts of it past the at-risk threshold but before the deadline, and past the deadline
  (``deadlines.standing``). Those three are a snapshot; everything else counts events inside the
  window ``[start, end)``.
- ``completed_on_time`` / ``completed_late``: completions in the window, by whether
  ``completed_at <= due_at``.
- ``missed``: deadlines that fell in the window (and before ``as_of``) without a completion by
  then, whether the task was completed later or is still open.
- ``on_time_rate``: the WHO indicator, the share of contacts screened within the deadline, as
  ``completed_on_time / (completed_on_time + missed)``. Each task counts once, when its
  timeliness is decided: at its completion if that beat the deadline, else at the deadline. Tasks
  not yet due and not yet done are undecided and left out; so are closed and withdrawn tasks (the
  person became a case, or the exposure was retracted upstream), which are nobody's to screen.
  Counting only completions would hide the worst cases, the tasks nobody touched. None when
  nothing was decided.
- ``time_to_complete``: ``completed_at - detected_at`` of the window's completions (the deadline
  runs from ``detected_at``); ``push_latency``: ``created_at - detected_at`` of the tasks that
  entered the queue in the window, i.e. from the exposure's detection by the stream processors
  to the task in the tracking service's queue. Percentiles are nearest-rank (a value that
  occurred; p50 of 1, 2, 3, 4 is 2).
- ``hourly``: the same event counts and medians per UTC hour (every China Standard Time hour
  boundary is one), with the backlog (``open``) and its at-risk and overdue parts at each hour's
  end (or ``as_of`` for the hours after it). A closed or withdrawn task leaves the backlog at
  ``closed_at`` (its last update).

Figures are of each task's current round; an earlier round of a re-opened task survives only in
its history.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.tracking.deadlines import (
    ACTIVE_STATUSES,
    DEFAULT_AT_RISK_FRACTION,
    at_risk_from,
    standing,
)

HOUR = timedelta(hours=1)
TIME_TO_COMPLETE_QUANTILES = (50, 90, 95)
PUSH_LATENCY_QUANTILES = (50, 90, 99)


@dataclass(frozen=True, slots=True)
class TaskTimes:
    """What the figures need of one task: no personal data."""

    task_id: str
    kind: str
    team: str | None
    jurisdiction: str | None
    status: str
    detected_at: datetime
    due_at: datetime
    created_at: datetime | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def queued_at(self) -> datetime:
        """When the task entered the queue (older rows without ``created_at``: its push)."""
        return self.created_at or self.detected_at

    @property
    def counted(self) -> bool:
        """Whether the task is anybody's to screen (closed and withdrawn ones are not)."""
        return self.status not in ("closed", "withdrawn")

    @property
    def left_at(self) -> datetime | None:
        """When the task left the backlog: completed or closed; None while still worked."""
        if self.status in ACTIVE_STATUSES:
            return None
        resolved = self.completed_at if self.status == "completed" else self.closed_at
        return max(resolved, self.queued_at) if resolved is not None else None


@dataclass(frozen=True, slots=True)
class Window:
    """The period the event counts cover, ``[start, end)``, and the moment of the snapshot."""

    start: datetime
    end: datetime
    as_of: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def figures(
    tasks: Iterable[TaskTimes], window: Window, fraction: float = DEFAULT_AT_RISK_FRACTION
) -> dict[str, Any]:
    """Snapshot and window counts, and the on-time rate, of ``tasks``."""
    counts = dict.fromkeys(
        ("open", "at_risk", "overdue", "completed_on_time", "completed_late", "missed"), 0
    )
    for task in tasks:
        if task.status in ACTIVE_STATUSES:
            counts["open"] += 1
            where = standing(task.detected_at, task.due_at, window.as_of, fraction)
            if where != "on_track":
                counts[where] += 1
        if task.status == "completed" and window.holds(task.completed_at):
            on_time = task.completed_at is not None and task.completed_at <= task.due_at
            counts["completed_on_time" if on_time else "completed_late"] += 1
        if _missed(task, window.start, min(window.end, window.as_of)):
            counts["missed"] += 1
    decided = counts["completed_on_time"] + counts["missed"]
    rate = counts["completed_on_time"] / decided if decided else None
    return {**counts, "decided": decided, "on_time_rate": rate}


def _missed(task: TaskTimes, start: datetime, until: datetime) -> bool:
    """A counted task whose deadline fell in ``[start, until)`` and was not met."""
    if not task.counted or not start <= task.due_at < until:
        return False
    met = task.completed_at is not None and task.completed_at <= task.due_at
    return not (task.status == "completed" and met)


def grouped(
    tasks: Sequence[TaskTimes],
    key: Callable[[TaskTimes], str | None],
    window: Window,
    fraction: float = DEFAULT_AT_RISK_FRACTION,
) -> dict[str | None, dict[str, Any]]:
    """``figures`` for each value of ``key``, in key order (None last)."""
    groups: dict[str | None, list[TaskTimes]] = defaultdict(list)
    for task in tasks:
        groups[key(task)].append(task)
    order = sorted(groups, key=lambda value: (value is None, value or ""))
    return {value: figures(groups[value], window, fraction) for value in order}


def percentiles(values: Sequence[float], quantiles: Sequence[int]) -> dict[str, Any]:
    """Nearest-rank percentiles, the count and the maximum; None for each when empty."""
    ordered = sorted(values)
    out: dict[str, Any] = {"count": len(ordered)}
    for q in quantiles:
        out[f"p{q}"] = ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1] if ordered else None
    out["max"] = ordered[-1] if ordered else None
    return out


def time_to_complete(tasks: Iterable[TaskTimes], window: Window) -> dict[str, Any]:
    """Seconds from push to completion, of the window's completions."""
    return percentiles(
        [
            (task.completed_at - task.detected_at).total_seconds()
            for task in tasks
            if task.status == "completed" and task.completed_at and window.holds(task.completed_at)
        ],
        TIME_TO_COMPLETE_QUANTILES,
    )


def push_latency(tasks: Iterable[TaskTimes], window: Window) -> dict[str, Any]:
    """Seconds from detection to the task in the queue, of tasks queued in the window."""
    return percentiles(
        [
            (task.created_at - task.detected_at).total_seconds()
            for task in tasks
            if task.created_at is not None and window.holds(task.created_at)
        ],
        PUSH_LATENCY_QUANTILES,
    )


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def hourly(
    tasks: Sequence[TaskTimes], window: Window, fraction: float = DEFAULT_AT_RISK_FRACTION
) -> list[dict[str, Any]]:
    """One row per hour of the window: events in it, and the backlog at its end.

    One pass over the tasks plus a binary search per hour, so a month of hours over a city's
    tasks stays cheap: the backlog at ``m`` is (queued by ``m``) minus (left by ``m``); its part
    past a threshold (the deadline, or the at-risk point) counts ``max(queued, threshold)``
    instead of ``queued``, and ``max(left, threshold)`` instead of ``left``.
    """
    hours: list[datetime] = []
    hour = hour_floor(window.start)
    while hour < window.end:
        hours.append(hour)
        hour += HOUR
    events: dict[str, dict[datetime, int]] = {
        name: defaultdict(int)
        for name in ("pushed", "completed_on_time", "completed_late", "missed")
    }
    durations: dict[str, dict[datetime, list[float]]] = {
        "time_to_complete": defaultdict(list),
        "push_latency": defaultdict(list),
    }
    until = min(window.end, window.as_of)
    entered: dict[str, list[datetime]] = {"all": [], "due": [], "risk": []}
    exited: dict[str, list[datetime]] = {"all": [], "due": [], "risk": []}
    for task in tasks:
        if task.created_at is not None and window.holds(task.created_at):
            events["pushed"][hour_floor(task.created_at)] += 1
            latency = (task.created_at - task.detected_at).total_seconds()
            durations["push_latency"][hour_floor(task.created_at)].append(latency)
        if task.status == "completed" and task.completed_at and window.holds(task.completed_at):
            in_time = task.completed_at <= task.due_at
            name = "completed_on_time" if in_time else "completed_late"
            events[name][hour_floor(task.completed_at)] += 1
            taken = (task.completed_at - task.detected_at).total_seconds()
            durations["time_to_complete"][hour_floor(task.completed_at)].append(taken)
        if _missed(task, window.start, until):
            events["missed"][hour_floor(task.due_at)] += 1
        thresholds = {
            "all": task.queued_at,
            "due": task.due_at,
            "risk": at_risk_from(task.detected_at, task.due_at, fraction),
        }
        for name, threshold in thresholds.items():
            entered[name].append(max(task.queued_at, threshold))
            if task.left_at is not None:
                exited[name].append(max(task.left_at, threshold))
    for series in (*entered.values(), *exited.values()):
        series.sort()
    rows = []
    for hour in hours:
        moment = min(hour + HOUR, window.as_of)
        on_time, missed = events["completed_on_time"][hour], events["missed"][hour]
        inside = {
            name: _upto(entered[name], moment) - _upto(exited[name], moment) for name in entered
        }
        rows.append(
            {
                "hour": hour,
                "pushed": events["pushed"][hour],
                "completed_on_time": on_time,
                "completed_late": events["completed_late"][hour],
                "missed": missed,
                "on_time_rate": on_time / (on_time + missed) if on_time + missed else None,
                "backlog": inside["all"],
                "backlog_at_risk": inside["risk"] - inside["due"],
                "backlog_overdue": inside["due"],
                "time_to_complete_p50": _median(durations["time_to_complete"][hour]),
                "push_latency_p50": _median(durations["push_latency"][hour]),
            }
        )
    return rows


def _median(values: list[float]) -> float | None:
    return percentiles(values, (50,))["p50"] if values else None


def _upto(ordered: list[datetime], moment: datetime) -> int:
    """How many of ``ordered`` are at or before ``moment``."""
    return bisect_right(ordered, moment)
