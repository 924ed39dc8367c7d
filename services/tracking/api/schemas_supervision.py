"""Response bodies of the supervisors' routes (compliance figures, deadline lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Figures(BaseModel):
    """Counts of one group. ``open``/``at_risk``/``overdue``: now; the rest: in the window."""

    open: int = Field(description="tasks still being worked (open or claimed)")
    at_risk: int = Field(description="of those, past the at-risk threshold, before the deadline")
    overdue: int = Field(description="of those, past the deadline")
    completed_on_time: int
    completed_late: int
    missed: int = Field(description="deadlines in the window not met, completed later or not")
    decided: int = Field(description="completed_on_time + missed: the on-time rate's base")
    on_time_rate: float | None = Field(
        description="share of contacts screened within the deadline (WHO); null: none decided"
    )


class TeamFigures(Figures):
    team: str


class AreaFigures(Figures):
    jurisdiction: str
    name: str | None


class KindFigures(Figures):
    kind: str


class Spread(BaseModel):
    """Nearest-rank percentiles in seconds (null when there is nothing to measure)."""

    count: int
    p50: float | None
    p90: float | None
    p95: float | None = None
    p99: float | None = None
    max: float | None


class Hour(BaseModel):
    hour: datetime = Field(description="start of the UTC hour")
    pushed: int
    completed_on_time: int
    completed_late: int
    missed: int
    on_time_rate: float | None
    backlog: int = Field(description="tasks being worked at the hour's end (or now)")
    backlog_at_risk: int
    backlog_overdue: int
    time_to_complete_p50: float | None = Field(description="seconds, of the hour's completions")
    push_latency_p50: float | None = Field(description="seconds, of the hour's pushes")


class Compliance(BaseModel):
    as_of: datetime
    from_: datetime = Field(alias="from")
    to: datetime
    jurisdiction: str
    at_risk_fraction: float
    totals: Figures
    by_team: list[TeamFigures]
    by_jurisdiction: list[AreaFigures]
    by_kind: list[KindFigures]
    time_to_complete_seconds: Spread = Field(description="from push (detected_at) to completion")
    push_latency_seconds: Spread = Field(description="from detection to the task in the queue")
    hourly: list[Hour]


class DeadlineRow(BaseModel):
    """A task at risk or overdue, without personal data."""

    task_id: str
    kind: str
    status: str
    team: str | None
    jurisdiction: str | None
    claimed_by: str | None
    detected_at: datetime
    due_at: datetime
    seconds_left: float = Field(description="negative: overdue by that much")
    at_risk_at: datetime | None = Field(description="when the watch marked it at risk")
    overdue_at: datetime | None = Field(description="when the watch marked it overdue")
    round: int


class DeadlineList(BaseModel):
    level: Literal["at_risk", "overdue"]
    total: int
    items: list[DeadlineRow]
