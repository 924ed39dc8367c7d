"""A task as the API shows it: the CONTRACTS.md fields, plus contact details only when allowed.

Kept apart from the routes so the handlers can return the same shape to HTTP and to the CLI, and
so that the one place deciding what personal data leaves the service is easy to review.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.tracking.db.models import Person, ScreeningTask, TaskHistory, TaskNote


def task_summary(task: ScreeningTask, *, now: datetime) -> dict[str, Any]:
    """The queue row: no evidence, no contact details."""
    status = task.status
    if status == "claimed" and task.lease_expires_at is not None and task.lease_expires_at <= now:
        status = "open"  # the lease ran out: back in the queue, whatever the row still says
    return {
        "task_id": task.task_id,
        "person_id": task.person_id,
        "kind": task.kind,
        "status": status,
        "detected_at": task.detected_at,
        "due_at": task.due_at,
        "jurisdiction": task.jurisdiction,
        "team": task.team,
        "claimed_by": task.claimed_by if status == "claimed" else None,
        "claimed_at": task.claimed_at if status == "claimed" else None,
        "lease_expires_at": task.lease_expires_at if status == "claimed" else None,
        "completed_at": task.completed_at,
        "outcome": task.outcome,
        "close_reason": task.close_reason,
        "version": task.version,
        "round": task.round,
    }


def task_detail(
    task: ScreeningTask,
    *,
    now: datetime,
    person: Person | None,
    show_contact: bool,
    notes: list[TaskNote] | None = None,
    history: list[TaskHistory] | None = None,
) -> dict[str, Any]:
    """The whole task: evidence, notes, history; ``contact`` only when ``show_contact``."""
    view = task_summary(task, now=now)
    view["evidence"] = task.evidence
    view["contact"] = (
        {
            "name": person.name if person else None,
            "phone": person.phone if person else None,
            "residence_code": person.residence_code if person else None,
        }
        if show_contact
        else None
    )
    view["notes"] = [
        {"id": note.id, "author": note.author, "at": note.at, "text": note.text}
        for note in notes or []
    ]
    view["history"] = [
        {"at": entry.at, "actor": entry.actor, "action": entry.action, "details": entry.details}
        for entry in history or []
    ]
    return view
