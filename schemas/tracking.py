"""What the tracking service publishes for supervisors and other consumers: ``task-events`` and
``escalations``.

Kept deliberately loose (few required fields, unknown fields kept) until the tracking service's
dashboards settle what they need; tighten here, then re-export with ``python -m schemas``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.fields import Id, Text, Time
from schemas.tasks import ScreeningTask, TaskKind


class TaskEvent(BaseModel):
    """``task-events``: something happened to a task (created, upgraded, claimed, completed...).

    Keyed by task_id, so one task's events stay in order. ``task`` is the task as it stands after
    the event, so a consumer needs no other source to rebuild the queue.
    """

    model_config = ConfigDict(extra="allow")

    event_id: Id
    task_id: Id
    type: Annotated[str, Field(strict=True, min_length=1, examples=["claimed", "completed"])]
    at: Time
    actor: Text | None = Field(default=None, description="who did it; absent: the system")
    task: ScreeningTask | None = None


class Escalation(BaseModel):
    """``escalations``: a task crossed its at-risk threshold (by default 75 % of its time gone) or
    its deadline, for supervisors. Published once per task, round and level by the tracking
    service's deadline watch, through its outbox; keyed by task_id.

    ``escalation_id`` (``<task_id>:r<round>:<level>``) is the same if the record is ever
    published twice, so a consumer can drop the repeat. No personal data: the task id leads a
    supervisor to the task, where reading the person is audited.
    """

    model_config = ConfigDict(extra="allow")

    escalation_id: Id
    task_id: Id
    level: Literal["at_risk", "overdue"] = Field(
        description="at_risk: the threshold share of the task's time has run; overdue: the "
        "deadline has passed"
    )
    kind: TaskKind
    team: Text | None = Field(description="the team the task is assigned to; null: unrouted")
    jurisdiction: Text | None = Field(description="the task's jurisdiction code; null: unrouted")
    detected_at: Time = Field(description="when the task was pushed: its time runs from here")
    due_at: Time
    threshold_at: Time = Field(description="when the level was reached (due_at for overdue)")
    escalated_at: Time = Field(description="when the watch saw it (at or after threshold_at)")
    round: Annotated[int, Field(strict=True, ge=1)] = Field(
        description="the task's round: a re-opened task is watched anew"
    )
