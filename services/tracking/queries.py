"""Reading tasks: a tracer's queue, a supervisor's view, one task's detail. Every read of
personal data is audited in the same transaction as the read."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tracking import present, transitions
from services.tracking.access import Caller, require_role, sees_contact_details
from services.tracking.audit import audit
from services.tracking.db import repository
from services.tracking.db.models import TaskNote
from services.tracking.lookup import find_task, view_of


def list_queue(
    session: Session,
    caller: Caller,
    filters: repository.TaskFilters,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> dict[str, Any]:
    """A tracer's queue (their team's tasks) or a supervisor's view of the whole subtree."""
    require_role(caller, "tracer", "supervisor", action="listing tasks")
    if caller.role == "tracer":
        filters = repository.TaskFilters(
            status=filters.status,
            kind=filters.kind,
            jurisdiction=filters.jurisdiction,
            team=caller.team_id or "",
        )
    tasks, total = repository.list_tasks(
        session, caller, filters, limit=limit, offset=offset, now=now
    )
    audit(
        session,
        at=now,
        actor=caller.user_id,
        action="list_tasks",
        details={"filters": _plain(filters), "returned": len(tasks)},
    )
    return {
        "items": [present.task_summary(task, now=now) for task in tasks],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


def task_detail(session: Session, caller: Caller, task_id: str, *, now: datetime) -> dict[str, Any]:
    """A task with its evidence, notes and history; contact details only when allowed."""
    require_role(caller, "tracer", "supervisor", action="reading a task")
    task = find_task(session, caller, task_id, lock=False)
    holds = transitions.holds_claim(view_of(task), caller.user_id, now)
    show = sees_contact_details(caller, holds_claim=holds)
    notes = session.scalars(
        select(TaskNote).where(TaskNote.task_id == task_id).order_by(TaskNote.id)
    )
    audit(
        session,
        at=now,
        actor=caller.user_id,
        action="read_task",
        target=task_id,
        details={"person_id": task.person_id, "contact_shown": show},
    )
    return present.task_detail(
        task,
        now=now,
        person=repository.person(session, task.person_id) if show else None,
        show_contact=show,
        notes=list(notes),
        history=repository.history(session, task_id),
    )


def _plain(filters: repository.TaskFilters) -> dict[str, Any]:
    return {key: value for key, value in asdict(filters).items() if value is not None}
