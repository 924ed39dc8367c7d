"""The tracer's page: my claims and my team's queue, claim next, a task's evidence, and the
outcome in a few clicks. Every read and change goes through the API's handlers, so a tracer sees
contact details only while holding the claim, and every read of them is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paicha.errors import InvalidInput, Problem
from services.tracking import queries, work
from services.tracking.access import Caller
from services.tracking.api.auth import ServiceDep
from services.tracking.api.service import TrackingService
from services.tracking.db.repository import TaskFilters
from services.tracking.errors import TrackingError
from services.tracking.transitions import OUTCOMES
from services.tracking.web.dashboard import error_page
from services.tracking.web.render import page
from services.tracking.web.session import check_csrf, page_caller_as

router = APIRouter(include_in_schema=False)
QUEUE_PAGE = 50


def _tracer(request: Request, tracking: TrackingService) -> Caller:
    return page_caller_as(request, tracking, "tracer", page="the tracer's page")


@router.get("/tracer")
def queue(request: Request, tracking: ServiceDep, done: str = "") -> HTMLResponse:
    caller = _tracer(request, tracking)
    now = tracking.clock()
    with tracking.database.transaction() as session:
        mine = queries.list_queue(
            session, caller, TaskFilters(status="claimed"), limit=QUEUE_PAGE, offset=0, now=now
        )
        waiting = queries.list_queue(
            session, caller, TaskFilters(status="open"), limit=QUEUE_PAGE, offset=0, now=now
        )
    claims = [task for task in mine["items"] if task["claimed_by"] == caller.user_id]
    return page(request, "tracer.html", caller, now=now, claims=claims, queue=waiting, done=done)


@router.post("/tracer/claim-next")
def claim_next(
    request: Request, tracking: ServiceDep, csrf_token: Annotated[str, Form()]
) -> Response:
    caller = _tracer(request, tracking)
    try:
        check_csrf(request, csrf_token)
        task = work.claim_next(
            tracking.database, caller, now=tracking.clock(), lease=tracking.lease
        )
    except (TrackingError, InvalidInput) as error:
        return error_page(request, caller, error)
    if task is None:
        return RedirectResponse("/tracer?done=the+queue+is+empty", status_code=303)
    return RedirectResponse(f"/tracer/tasks/{task['task_id']}", status_code=303)


@router.get("/tracer/tasks/{task_id}")
def task(task_id: str, request: Request, tracking: ServiceDep, done: str = "") -> Response:
    caller = _tracer(request, tracking)
    try:
        with tracking.database.transaction() as session:
            detail = queries.task_detail(session, caller, task_id, now=tracking.clock())
    except TrackingError as error:
        return error_page(request, caller, error)
    holds = detail["status"] == "claimed" and detail["claimed_by"] == caller.user_id
    return page(
        request,
        "task.html",
        caller,
        task=detail,
        holds=holds,
        outcomes=OUTCOMES,
        now=tracking.clock(),
        done=done,
    )


@router.post("/tracer/tasks/{task_id}/claim")
def claim(
    task_id: str, request: Request, tracking: ServiceDep, csrf_token: Annotated[str, Form()]
) -> Response:
    caller = _tracer(request, tracking)
    try:
        check_csrf(request, csrf_token)
        with tracking.database.transaction() as session:
            work.claim(session, caller, task_id, now=tracking.clock(), lease=tracking.lease)
    except (TrackingError, InvalidInput) as error:
        return error_page(request, caller, error)
    return RedirectResponse(f"/tracer/tasks/{task_id}", status_code=303)


@router.post("/tracer/tasks/{task_id}/complete")
def complete(
    task_id: str,
    request: Request,
    tracking: ServiceDep,
    outcome: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    note: Annotated[str | None, Form(max_length=4000)] = None,
) -> Response:
    """Record the outcome (``tested_positive`` publishes a ``cases`` record, as in the API)."""
    caller = _tracer(request, tracking)
    try:
        check_csrf(request, csrf_token)
        if outcome not in OUTCOMES:
            raise InvalidInput([Problem("outcome", f"must be one of {', '.join(OUTCOMES)}")])
        with tracking.database.transaction() as session:
            work.complete(
                session,
                caller,
                task_id,
                outcome=outcome,
                note=note or None,
                classification="confirmed",
                now=tracking.clock(),
            )
    except (TrackingError, InvalidInput) as error:
        return error_page(request, caller, error)
    tracking.after_commit()
    return RedirectResponse(f"/tracer?done=recorded+{outcome}", status_code=303)


@router.post("/tracer/tasks/{task_id}/release")
def release(
    task_id: str, request: Request, tracking: ServiceDep, csrf_token: Annotated[str, Form()]
) -> Response:
    caller = _tracer(request, tracking)
    try:
        check_csrf(request, csrf_token)
        with tracking.database.transaction() as session:
            work.release(session, caller, task_id, now=tracking.clock(), reason=None)
    except (TrackingError, InvalidInput) as error:
        return error_page(request, caller, error)
    return RedirectResponse("/tracer?done=released", status_code=303)
