"""What supervisors watch beside the figures: the tasks at risk and overdue, right now.

The lists carry no personal data (no person id, no contact), only what a supervisor needs to
act (kind, team, deadline, who holds the claim), so a dashboard polling them every few seconds
does not fill the audit log; opening a task (``queries.task_detail``) is audited as always.
The thresholds are those of ``deadlines``, the same the watch marks with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.tracking import present
from services.tracking.access import Caller, require_role
from services.tracking.codes import contains
from services.tracking.compliance.read import Scope
from services.tracking.db.models import ScreeningTask, Team
from services.tracking.db.repository import in_scope
from services.tracking.db.sqltime import share_elapsed
from services.tracking.deadlines import ACTIVE_STATUSES, DEFAULT_AT_RISK_FRACTION, Level
from services.tracking.errors import NotFound


def deadline_list(
    session: Session,
    caller: Caller,
    level: Level,
    scope: Scope,
    *,
    now: datetime,
    fraction: float = DEFAULT_AT_RISK_FRACTION,
    limit: int = 100,
) -> dict[str, Any]:
    """The caller's tasks at ``level`` now, most urgent first, and how many there are in all."""
    require_role(caller, "supervisor", action="watching deadlines")
    task = ScreeningTask
    query = select(task).where(in_scope(caller), task.status.in_(ACTIVE_STATUSES))
    if level == "overdue":
        query = query.where(task.due_at <= now)
    else:
        query = query.where(
            task.due_at > now, share_elapsed(task.detected_at, task.due_at, fraction, now)
        )
    if scope.jurisdiction is not None:
        if not contains(caller.jurisdiction, scope.jurisdiction):
            raise NotFound(f"no jurisdiction {scope.jurisdiction}")
        query = query.where(
            (task.jurisdiction == scope.jurisdiction)
            | (task.street_code == scope.jurisdiction)
            | (task.district_code == scope.jurisdiction)
            | (task.city_code == scope.jurisdiction)
            | (task.province_code == scope.jurisdiction)
        )
    if scope.team is not None:
        query = query.where(task.team == scope.team)
    if scope.kind is not None:
        query = query.where(task.kind == scope.kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(task.due_at, task.task_id).limit(limit))
    return {"level": level, "total": total, "items": [_row(t, now) for t in rows]}


def _row(task: ScreeningTask, now: datetime) -> dict[str, Any]:
    summary = present.task_summary(task, now=now)
    return {
        "task_id": task.task_id,
        "kind": task.kind,
        "status": summary["status"],
        "team": task.team,
        "jurisdiction": task.jurisdiction,
        "claimed_by": summary["claimed_by"],
        "detected_at": task.detected_at,
        "due_at": task.due_at,
        "seconds_left": (task.due_at - now).total_seconds(),
        "at_risk_at": task.at_risk_at,
        "overdue_at": task.overdue_at,
        "round": task.round,
    }


def teams_in_scope(session: Session, caller: Caller) -> list[dict[str, str]]:
    """The teams a supervisor may reassign to (those working inside their jurisdiction)."""
    return [
        {"team_id": team.team_id, "name": team.name, "jurisdiction": team.jurisdiction}
        for team in session.scalars(select(Team).order_by(Team.team_id))
        if contains(caller.jurisdiction, team.jurisdiction)
    ]
