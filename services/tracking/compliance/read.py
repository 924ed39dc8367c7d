"""Compliance figures of the caller's jurisdiction, read from the database.

One scoped query (``repository.in_scope``: a supervisor sees their subtree, never more) fetches
the times of every task that can count in the window, without personal data; ``figures`` does
the arithmetic in Python, so the same code runs on PostgreSQL and SQLite and needs no
``date_trunc``. The read is not audited: it returns counts, never a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from paicha.errors import InvalidInput, Problem
from services.tracking.access import Caller, require_role
from services.tracking.codes import LEVELS, Level, ancestry, contains, level_of
from services.tracking.compliance import figures as calc
from services.tracking.db.models import Jurisdiction, ScreeningTask
from services.tracking.db.repository import in_scope
from services.tracking.deadlines import ACTIVE_STATUSES, DEFAULT_AT_RISK_FRACTION
from services.tracking.errors import NotFound

MAX_WINDOW = timedelta(days=31)
UNROUTED = "(unrouted)"


@dataclass(frozen=True, slots=True)
class Scope:
    """What the figures are narrowed to, inside the caller's jurisdiction; None means all."""

    jurisdiction: str | None = None
    team: str | None = None
    kind: str | None = None


def check_window(start: datetime, end: datetime) -> None:
    """422 unless ``start < end`` and the window spans at most ``MAX_WINDOW``."""
    if end <= start:
        raise InvalidInput([Problem("from", "must be before 'to'")])
    if end - start > MAX_WINDOW:
        raise InvalidInput([Problem("from", f"the window may span at most {MAX_WINDOW.days} days")])


def compliance(
    session: Session,
    caller: Caller,
    scope: Scope,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    fraction: float = DEFAULT_AT_RISK_FRACTION,
) -> dict[str, Any]:
    """The compliance report of the caller's subtree (narrowed by ``scope``) over a window."""
    require_role(caller, "supervisor", action="reading compliance figures")
    check_window(start, end)
    focus = scope.jurisdiction or caller.jurisdiction
    if not contains(caller.jurisdiction, focus):
        # The same answer as for a task outside the subtree, or one that does not exist.
        raise NotFound(f"no jurisdiction {focus}")
    tasks = task_times(session, caller, scope, start=start, end=end)
    window = calc.Window(start=start, end=end, as_of=now)
    child = _child_level(focus)
    names = _names(session, focus)

    def area(task: calc.TaskTimes) -> str | None:
        if task.jurisdiction is None:
            return None
        return ancestry(task.jurisdiction).get(child, task.jurisdiction)

    return {
        "as_of": now,
        "from": start,
        "to": end,
        "jurisdiction": focus,
        "at_risk_fraction": fraction,
        "totals": calc.figures(tasks, window, fraction),
        "by_team": [
            {"team": team or UNROUTED, **values}
            for team, values in calc.grouped(tasks, lambda t: t.team, window, fraction).items()
        ],
        "by_jurisdiction": [
            {"jurisdiction": code or UNROUTED, "name": names.get(code or ""), **values}
            for code, values in calc.grouped(tasks, area, window, fraction).items()
        ],
        "by_kind": [
            {"kind": kind, **values}
            for kind, values in calc.grouped(tasks, lambda t: t.kind, window, fraction).items()
        ],
        "time_to_complete_seconds": calc.time_to_complete(tasks, window),
        "push_latency_seconds": calc.push_latency(tasks, window),
        "hourly": calc.hourly(tasks, window, fraction),
    }


def task_times(
    session: Session, caller: Caller, scope: Scope, *, start: datetime, end: datetime
) -> list[calc.TaskTimes]:
    """The tasks that can count in ``[start, end)``: queued before its end, and still worked or
    finished (completed, closed, or due) no earlier than its start."""
    task = ScreeningTask
    query = (
        select(
            task.task_id,
            task.kind,
            task.team,
            task.jurisdiction,
            task.status,
            task.detected_at,
            task.due_at,
            task.created_at,
            task.completed_at,
            task.updated_at,
        )
        .where(in_scope(caller))
        .where(or_(task.created_at < end, task.created_at.is_(None)))
        .where(
            or_(
                task.status.in_(ACTIVE_STATUSES),
                task.due_at >= start,
                task.completed_at >= start,
                task.updated_at >= start,
            )
        )
    )
    if scope.jurisdiction is not None:
        column = getattr(task, _column_of(level_of(scope.jurisdiction)))
        query = query.where(column == scope.jurisdiction)
    if scope.team is not None:
        query = query.where(task.team == scope.team)
    if scope.kind is not None:
        query = query.where(task.kind == scope.kind)
    return [
        calc.TaskTimes(
            task_id=row.task_id,
            kind=row.kind,
            team=row.team,
            jurisdiction=row.jurisdiction,
            status=row.status,
            detected_at=row.detected_at,
            due_at=row.due_at,
            created_at=row.created_at,
            completed_at=row.completed_at,
            closed_at=row.updated_at if row.status in ("closed", "withdrawn") else None,
        )
        for row in session.execute(query)
    ]


def _column_of(level: Level) -> str:
    return "jurisdiction" if level == "community" else f"{level}_code"


def _child_level(code: str) -> Level:
    """The level one below ``code``'s (a community groups by itself)."""
    index = LEVELS.index(level_of(code))
    return LEVELS[min(index + 1, len(LEVELS) - 1)]


def _names(session: Session, focus: str) -> dict[str, str]:
    rows = session.execute(select(Jurisdiction.code, Jurisdiction.name))
    return {code: name for code, name in rows if contains(focus, code)}
