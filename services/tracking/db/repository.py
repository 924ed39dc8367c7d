"""The SQL of the queue: scoping, listing, locking, and claiming in one statement.

Every task query goes through ``scoped()``, so no query can forget the caller's jurisdiction.
Claiming the next task is one statement on PostgreSQL (procrastinate's pattern): pick the most
urgent claimable row of the team with ``FOR UPDATE SKIP LOCKED``, update it, and append its
history and audit rows in the same statement, so 64 tracers never wait on each other's rows and
never get the same one. SQLite (the embedded runtime) has no SKIP LOCKED, and serialises writers
anyway: there a guarded UPDATE retried on a lost race does the same job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text, update
from sqlalchemy.orm import Session

from services.tracking.access import Caller
from services.tracking.db.models import AuditEntry, Person, ScreeningTask, TaskHistory
from services.tracking.db.session import Database

CLAIMABLE = "status IN ('open', 'claimed') AND (status = 'open' OR lease_expires_at <= :now)"

# One statement: the function (migration 0004) picks the head of the open queue or of the
# expired claims with SKIP LOCKED, claims it, and appends history and audit, with a cached plan.
# Atomic by itself, so it runs in autocommit on a bare DBAPI cursor (psycopg2's paramstyle).
_CLAIM_NEXT_POSTGRES = "SELECT tracking_claim_next_v1(%s, %s, %s, %s, %s)"


@dataclass(frozen=True, slots=True)
class TaskFilters:
    """What a queue listing may be narrowed by; None means any."""

    status: str | None = None
    kind: str | None = None
    jurisdiction: str | None = None
    team: str | None = None


def in_scope(caller: Caller) -> ColumnElement[bool]:
    """The caller's jurisdiction subtree, as one equality on an indexed column."""
    column = getattr(ScreeningTask, caller.scope_column)
    return column == caller.jurisdiction


def scoped(caller: Caller) -> Select[ScreeningTask]:
    """``SELECT`` of the tasks the caller may see at all."""
    return select(ScreeningTask).where(in_scope(caller))


def get_task(
    session: Session, caller: Caller, task_id: str, *, lock: bool = False
) -> ScreeningTask | None:
    """The task if it exists inside the caller's scope; ``lock`` holds its row to commit."""
    query = scoped(caller).where(ScreeningTask.task_id == task_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def list_tasks(
    session: Session,
    caller: Caller,
    filters: TaskFilters,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> tuple[list[ScreeningTask], int]:
    """One page of the caller's tasks, most urgent deadline first, and how many match in all.

    ``open`` includes claims whose lease ran out (they are claimable again) and ``claimed`` only
    live claims, so the listing agrees with what claim-next would do.
    """
    query = scoped(caller)
    if filters.status == "open":
        query = query.where(text(CLAIMABLE).bindparams(now=now))
    elif filters.status == "claimed":
        query = query.where(ScreeningTask.status == "claimed", ScreeningTask.lease_expires_at > now)
    elif filters.status is not None:
        query = query.where(ScreeningTask.status == filters.status)
    if filters.kind is not None:
        query = query.where(ScreeningTask.kind == filters.kind)
    if filters.team is not None:
        query = query.where(ScreeningTask.team == filters.team)
    if filters.jurisdiction is not None:
        code = filters.jurisdiction
        # Inside the caller's own scope already; narrow to the subtree of `code`.
        query = query.where(
            (ScreeningTask.jurisdiction == code)
            | (ScreeningTask.street_code == code)
            | (ScreeningTask.district_code == code)
            | (ScreeningTask.city_code == code)
            | (ScreeningTask.province_code == code)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(ScreeningTask.due_at, ScreeningTask.task_id).limit(limit).offset(offset)
    )
    return list(page), total


def claim_next(database: Database, caller: Caller, *, now: datetime, until: datetime) -> str | None:
    """Claim the team's most urgent claimable task for the caller, committed when this returns;
    its id, or None if none. Its own unit of work: on PostgreSQL one autocommit statement."""
    if database.dialect == "postgresql":
        row = database.autocommit_fetchone(_CLAIM_NEXT_POSTGRES, _claim_params(caller, now, until))
        return None if row is None else row[0]
    params: dict[str, Any] = {"now": now, "until": until}
    with database.transaction() as session:
        return _claim_next_serialised(session, caller, params)


def claim_next_on(cursor: Any, caller: Caller, *, now: datetime, until: datetime) -> str | None:
    """``claim_next`` on PostgreSQL, on a cursor in autocommit (``Database.autocommit_cursor``)."""
    cursor.execute(_CLAIM_NEXT_POSTGRES, _claim_params(caller, now, until))
    row = cursor.fetchone()
    return None if row is None else row[0]


def _claim_params(caller: Caller, now: datetime, until: datetime) -> tuple[Any, ...]:
    return (caller.team_id, caller.jurisdiction, caller.user_id, now, until)


def _claim_next_serialised(session: Session, caller: Caller, params: dict[str, Any]) -> str | None:
    """Databases without SKIP LOCKED: pick, then a guarded UPDATE; retry if someone won."""
    candidates = (
        select(ScreeningTask.task_id)
        .where(ScreeningTask.team == caller.team_id, in_scope(caller), text(CLAIMABLE))
        .order_by(ScreeningTask.due_at)
        .limit(1)
    )
    while True:
        task_id = session.scalar(candidates, {"now": params["now"]})
        if task_id is None:
            return None
        won = session.execute(
            update(ScreeningTask)
            .where(ScreeningTask.task_id == task_id, text(CLAIMABLE))
            .values(
                status="claimed",
                claimed_by=caller.user_id,
                claimed_at=params["now"],
                lease_expires_at=params["until"],
                updated_at=params["now"],
            ),
            {"now": params["now"]},
        )
        if won.rowcount == 1:  # type: ignore[attr-defined]
            task = session.get_one(ScreeningTask, task_id)
            session.add(
                TaskHistory(
                    task_id=task_id,
                    at=params["now"],
                    actor=caller.user_id,
                    action="claimed",
                    details={"lease_expires_at": params["until"].isoformat(), "round": task.round},
                )
            )
            session.add(
                AuditEntry(
                    at=params["now"],
                    actor=caller.user_id,
                    action="claim_next",
                    target=task_id,
                    details={"person_id": task.person_id, "contact_shown": True},
                )
            )
            return task_id


def person(session: Session, person_id: str) -> Person | None:
    return session.get(Person, person_id)


def history(session: Session, task_id: str) -> list[TaskHistory]:
    return list(
        session.scalars(
            select(TaskHistory).where(TaskHistory.task_id == task_id).order_by(TaskHistory.id)
        )
    )
