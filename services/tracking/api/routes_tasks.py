"""Task routes for tracers and supervisors: each opens one transaction and calls one handler."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from services.tracking import queries, work
from services.tracking.api.auth import CallerDep, ServiceDep
from services.tracking.api.schemas import (
    Code,
    CompleteIn,
    ErrorOut,
    Kind,
    Me,
    Note,
    NoteIn,
    Page,
    ReassignIn,
    ReleaseIn,
    StatusFilter,
    TaskDetail,
    TaskSummary,
)
from services.tracking.db.repository import TaskFilters

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422)
}
router = APIRouter(prefix="/v1", responses=ERRORS)


@router.get("/me", response_model=Me, tags=["access"])
def me(caller: CallerDep) -> dict[str, Any]:
    """Who the token belongs to: role, jurisdiction, team."""
    return {
        "user_id": caller.user_id,
        "role": caller.role,
        "jurisdiction": caller.jurisdiction,
        "team_id": caller.team_id,
    }


@router.get("/tasks", response_model=Page, tags=["tasks"])
def list_tasks(
    caller: CallerDep,
    tracking: ServiceDep,
    status: StatusFilter = "open",
    kind: Kind | None = None,
    jurisdiction: Code | None = None,
    team: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The queue, most urgent deadline first: a tracer's team's tasks, or a supervisor's whole
    jurisdiction. ``open`` (the default) includes claims whose lease ran out; ``any``: all."""
    filters = TaskFilters(
        status=None if status == "any" else status, kind=kind, jurisdiction=jurisdiction, team=team
    )
    with tracking.database.transaction() as session:
        return queries.list_queue(
            session, caller, filters, limit=limit, offset=offset, now=tracking.clock()
        )


@router.post(
    "/tasks/claim-next",
    response_model=TaskDetail,
    tags=["tasks"],
    responses={204: {"description": "the team's queue has nothing to claim"}},
)
def claim_next(caller: CallerDep, tracking: ServiceDep) -> Any:
    """Claim the team's most urgent open task, with a lease; contact details included."""
    task = work.claim_next(tracking.database, caller, now=tracking.clock(), lease=tracking.lease)
    return Response(status_code=204) if task is None else task


@router.get("/tasks/{task_id}", response_model=TaskDetail, tags=["tasks"])
def task_detail(task_id: str, caller: CallerDep, tracking: ServiceDep) -> dict[str, Any]:
    """Evidence, notes and history; contact details only for the claim holder and supervisors."""
    with tracking.database.transaction() as session:
        return queries.task_detail(session, caller, task_id, now=tracking.clock())


@router.post("/tasks/{task_id}/claim", response_model=TaskDetail, tags=["tasks"])
def claim(task_id: str, caller: CallerDep, tracking: ServiceDep) -> dict[str, Any]:
    """Claim this task (or renew your own claim on it)."""
    with tracking.database.transaction() as session:
        return work.claim(session, caller, task_id, now=tracking.clock(), lease=tracking.lease)


@router.post("/tasks/{task_id}/notes", response_model=Note, status_code=201, tags=["tasks"])
def add_note(task_id: str, body: NoteIn, caller: CallerDep, tracking: ServiceDep) -> dict[str, Any]:
    """A progress note, by the claim holder or a supervisor."""
    with tracking.database.transaction() as session:
        return work.add_note(session, caller, task_id, body.text, now=tracking.clock())


@router.post("/tasks/{task_id}/release", response_model=TaskSummary, tags=["tasks"])
def release(
    task_id: str,
    caller: CallerDep,
    tracking: ServiceDep,
    body: Annotated[ReleaseIn | None, Body()] = None,
) -> dict[str, Any]:
    """Return a claimed task to the queue (the holder, or a supervisor)."""
    with tracking.database.transaction() as session:
        return work.release(
            session, caller, task_id, now=tracking.clock(), reason=body.reason if body else None
        )


@router.post("/tasks/{task_id}/complete", response_model=TaskSummary, tags=["tasks"])
def complete(
    task_id: str, body: CompleteIn, caller: CallerDep, tracking: ServiceDep
) -> dict[str, Any]:
    """Record the outcome; ``tested_positive`` publishes a ``cases`` record."""
    with tracking.database.transaction() as session:
        result = work.complete(
            session,
            caller,
            task_id,
            outcome=body.outcome,
            note=body.note,
            classification=body.classification,
            now=tracking.clock(),
        )
    tracking.after_commit()
    return result


@router.post("/tasks/{task_id}/reassign", response_model=TaskSummary, tags=["tasks"])
def reassign(
    task_id: str, body: ReassignIn, caller: CallerDep, tracking: ServiceDep
) -> dict[str, Any]:
    """Move a task to another team (supervisors)."""
    with tracking.database.transaction() as session:
        return work.reassign(
            session, caller, task_id, body.team_id, now=tracking.clock(), reason=body.reason
        )
