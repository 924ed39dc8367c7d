"""The deadline watch: marks tasks at risk (75 % of their time gone) and overdue, once each.

``sweep(session, now)`` is one pass, inside the caller's transaction; ``paicha serve`` runs it
every ``PAICHA_WATCH_INTERVAL_SECONDS`` (``bootstrap``), tests call it with the clock they want.

Why it can neither miss nor double a mark:

- A mark is a conditional ``UPDATE … SET at_risk_at = :now WHERE at_risk_at IS NULL AND …
  RETURNING``: only the statement that changes the row learns about it. A second instance
  sweeping at the same moment blocks on the row, re-checks the condition after the first commits,
  and skips it (PostgreSQL's read committed); the candidates are picked with ``SKIP LOCKED``, so
  it usually does not even wait. SQLite serialises writers, which gives the same.
- The history entry and the ``escalations`` outbox row are written in the same transaction as
  the mark: all three commit or none does, so a crash before the commit leaves the task unmarked
  for the next sweep, and a crash after it leaves nothing to redo.
- The watch keeps no state of its own, so a restart, or a watch that was down for a day, picks up
  exactly the tasks whose thresholds passed meanwhile (marked with the time the watch saw them;
  the record also carries the threshold itself).

A task found already overdue gets both marks in one sweep, at-risk first: every overdue task was
at risk, and supervisors' counts rely on it. Completed, closed and withdrawn tasks are not
watched. A re-opened task (a new round, ``upstream``) has its marks cleared and is watched anew;
``escalation_id`` names the round, so a re-published record is recognisably the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from schemas.tracking import Escalation
from services.tracking.db.models import OutboxRecord, ScreeningTask, TaskHistory
from services.tracking.db.session import Database
from services.tracking.db.sqltime import share_elapsed
from services.tracking.deadlines import (
    ACTIVE_STATUSES,
    DEFAULT_AT_RISK_FRACTION,
    Level,
    at_risk_from,
    check_fraction,
)

TOPIC = "escalations"
DEFAULT_BATCH = 500

_MARK = {"at_risk": ScreeningTask.at_risk_at, "overdue": ScreeningTask.overdue_at}


@dataclass(frozen=True, slots=True)
class Marked:
    """One mark the sweep set (what it returns, for logs, metrics and tests)."""

    task_id: str
    level: Level
    escalation: dict[str, Any]


def sweep(
    session: Session,
    now: datetime,
    *,
    at_risk_fraction: float = DEFAULT_AT_RISK_FRACTION,
    batch: int = DEFAULT_BATCH,
) -> list[Marked]:
    """Mark every watched task whose threshold has passed by ``now``; return the new marks."""
    check_fraction(at_risk_fraction)
    marked: list[Marked] = []
    for level in ("at_risk", "overdue"):
        while True:
            rows = _mark(session, level, now, at_risk_fraction, batch)
            marked.extend(_escalate(session, rows, level, now, at_risk_fraction))
            if len(rows) < batch:
                break
    return marked


def _mark(session: Session, level: Level, now: datetime, fraction: float, batch: int) -> list[Any]:
    """Set ``level``'s mark on up to ``batch`` due tasks; the rows it changed."""
    mark = _MARK[level]
    task = ScreeningTask
    if level == "overdue":
        due = task.due_at <= now
    else:
        due = share_elapsed(task.detected_at, task.due_at, fraction, now)
    watched = (task.status.in_(ACTIVE_STATUSES), mark.is_(None), due)
    candidates = (
        select(task.task_id)
        .where(*watched)
        .order_by(task.due_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(task)
        .where(task.task_id.in_(candidates.scalar_subquery()), *watched)
        .values({mark: now})
        .returning(
            task.task_id,
            task.kind,
            task.team,
            task.jurisdiction,
            task.detected_at,
            task.due_at,
            task.round,
        )
        .execution_options(synchronize_session=False)
    )
    return list(session.execute(statement))


def _escalate(
    session: Session, rows: list[Any], level: Level, now: datetime, fraction: float
) -> list[Marked]:
    """The history entries and ``escalations`` outbox rows of one batch of marks.

    Written as two multi-row INSERTs rather than one ORM object each: a watch catching up after
    an outage may mark thousands of tasks in one sweep.
    """
    marked = []
    for row in rows:
        threshold = row.due_at
        if level == "at_risk":
            threshold = at_risk_from(row.detected_at, row.due_at, fraction)
        record = Escalation(
            escalation_id=f"{row.task_id}:r{row.round}:{level}",
            task_id=row.task_id,
            level=level,
            kind=row.kind,
            team=row.team,
            jurisdiction=row.jurisdiction,
            detected_at=row.detected_at.isoformat(),
            due_at=row.due_at.isoformat(),
            threshold_at=threshold.isoformat(),
            escalated_at=now.isoformat(),
            round=row.round,
        ).model_dump(mode="json")
        marked.append(Marked(task_id=row.task_id, level=level, escalation=record))
    if marked:
        session.execute(
            insert(TaskHistory),
            [
                {
                    "task_id": mark.task_id,
                    "at": now,
                    "actor": None,
                    "action": level,
                    "details": {
                        "due_at": mark.escalation["due_at"],
                        "threshold_at": mark.escalation["threshold_at"],
                    },
                }
                for mark in marked
            ],
        )
        session.execute(
            insert(OutboxRecord),
            [
                {"topic": TOPIC, "key": mark.task_id, "payload": mark.escalation, "created_at": now}
                for mark in marked
            ],
        )
    return marked


def watch_once(
    database: Database,
    now: datetime,
    *,
    at_risk_fraction: float = DEFAULT_AT_RISK_FRACTION,
) -> list[Marked]:
    """One sweep in its own transaction (what the periodic loop and ``paicha serve`` run)."""
    with database.transaction() as session:
        return sweep(session, now, at_risk_fraction=at_risk_fraction)
