"""The two append-only records: a task's history, and the audit log of who read or changed what.

Both are written through the caller's session, so they commit with the change they describe, or
not at all. History says what happened to a task; the audit log says who looked at personal data
and who changed anything (tasks, users, tokens, jurisdictions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.tracking.db.models import AuditEntry, TaskHistory


def record_history(
    session: Session,
    *,
    task_id: str,
    at: datetime,
    actor: str | None,
    action: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry to a task's history; ``actor`` None means upstream or the system."""
    session.add(
        TaskHistory(task_id=task_id, at=at, actor=actor, action=action, details=details or {})
    )


def audit(
    session: Session,
    *,
    at: datetime,
    actor: str | None,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log (a read of personal data, or a change)."""
    session.add(AuditEntry(at=at, actor=actor, action=action, target=target, details=details or {}))
