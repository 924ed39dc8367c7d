"""What the tracking service publishes for supervisors and other consumers: ``task-events`` and
``escalations``.

Kept deliberately loose (few required fields, unknown fields kept) until the tracking service's
dashboards settle what they need; tighten here, then re-export with ``python -m schemas``.
"""

from __future__ import annotations

from typing import Annotated

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
    """``escalations``: a task about to breach its deadline, or past it, for supervisors."""

    model_config = ConfigDict(extra="allow")

    escalation_id: Id
    task_id: Id
    person_id: Id | None = None
    kind: TaskKind | None = None
    jurisdiction: Text | None = None
    team: Text | None = None
    due_at: Time
    escalated_at: Time
    reason: Annotated[str, Field(strict=True, min_length=1, examples=["due_soon", "breached"])]
