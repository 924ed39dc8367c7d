"""Finding a task for a caller, and the view of it that ``transitions`` decides on."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.tracking import transitions
from services.tracking.access import Caller
from services.tracking.db import repository
from services.tracking.db.models import ScreeningTask
from services.tracking.errors import NotFound


def view_of(task: ScreeningTask) -> transitions.QueueView:
    return transitions.QueueView(
        status=task.status,  # type: ignore[arg-type]
        version=task.version,
        team=task.team,
        claimed_by=task.claimed_by,
        lease_expires_at=task.lease_expires_at,
        completed_at=task.completed_at,
        outcome=task.outcome,
        close_reason=task.close_reason,
    )


def find_task(session: Session, caller: Caller, task_id: str, *, lock: bool) -> ScreeningTask:
    task = repository.get_task(session, caller, task_id, lock=lock)
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task
