"""What tracers and supervisors do to tasks: plain functions over a session (cosmicpython's
handlers). Each runs inside the caller's transaction, checks the role, finds the task inside the
caller's jurisdiction (404 otherwise), asks ``transitions`` whether the change is allowed (409
otherwise), applies it, and appends history and audit entries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from paicha.errors import InvalidInput, Problem
from schemas.feeds import CaseRecord
from services.tracking import present, transitions
from services.tracking.access import Caller, require_role
from services.tracking.audit import audit, record_history
from services.tracking.codes import city_of, contains
from services.tracking.db import repository
from services.tracking.db.models import ScreeningTask, TaskNote, Team
from services.tracking.db.session import Database
from services.tracking.errors import Conflict
from services.tracking.lookup import find_task, view_of
from services.tracking.outbox import enqueue
from services.tracking.routing import exposure_cities

TaskView = dict[str, Any]


def claim_next(
    database: Database, caller: Caller, *, now: datetime, lease: timedelta
) -> TaskView | None:
    """The team's most urgent claimable task, claimed for the caller; None when the team's queue
    holds nothing claimable. The one handler that takes the database instead of a session: the
    claim is its own unit of work (one autocommit statement on PostgreSQL, committed with its
    history and audit rows), then the claimed task is read for the tracer."""
    require_role(caller, "tracer", action="claiming a task")
    if caller.team_id is None:
        raise Conflict(f"{caller.user_id} belongs to no team, so has no queue to claim from")
    task_id = repository.claim_next(database, caller, now=now, until=now + lease)
    if task_id is None:
        return None
    with database.transaction() as session:
        task = session.get_one(ScreeningTask, task_id)
        person = repository.person(session, task.person_id)
        return present.task_detail(task, now=now, person=person, show_contact=True)


def claim(
    session: Session, caller: Caller, task_id: str, *, now: datetime, lease: timedelta
) -> TaskView:
    """Claim one chosen task, or renew the caller's own claim on it."""
    require_role(caller, "tracer", action="claiming a task")
    task = find_task(session, caller, task_id, lock=True)
    view = view_of(task)
    transitions.check_claimable(view, caller.user_id, caller.team_id, now)
    renewing = transitions.holds_claim(view, caller.user_id, now)
    task.status, task.claimed_by, task.lease_expires_at = "claimed", caller.user_id, now + lease
    if not renewing:
        task.claimed_at = now
    task.updated_at = now
    details = {"lease_expires_at": task.lease_expires_at.isoformat(), "round": task.round}
    action = "renewed" if renewing else "claimed"
    record_history(
        session, task_id=task_id, at=now, actor=caller.user_id, action=action, details=details
    )
    audit(
        session,
        at=now,
        actor=caller.user_id,
        action="claim",
        target=task_id,
        details={"person_id": task.person_id, "contact_shown": True},
    )
    return present.task_detail(
        task, now=now, person=repository.person(session, task.person_id), show_contact=True
    )


def add_note(
    session: Session, caller: Caller, task_id: str, text: str, *, now: datetime
) -> dict[str, Any]:
    """A progress note, by the tracer holding the claim or by a supervisor."""
    require_role(caller, "tracer", "supervisor", action="writing a note")
    task = find_task(session, caller, task_id, lock=True)
    if caller.role == "tracer":
        transitions.check_holder(view_of(task), caller.user_id, now, "write a note on")
    note = TaskNote(task_id=task_id, author=caller.user_id, at=now, text=text)
    session.add(note)
    session.flush()
    record_history(
        session,
        task_id=task_id,
        at=now,
        actor=caller.user_id,
        action="note_added",
        details={"note_id": note.id},
    )
    audit(
        session,
        at=now,
        actor=caller.user_id,
        action="add_note",
        target=task_id,
        details={"note_id": note.id},
    )
    return {"id": note.id, "author": note.author, "at": note.at, "text": note.text}


def release(
    session: Session, caller: Caller, task_id: str, *, now: datetime, reason: str | None
) -> TaskView:
    """Give a claim back to the queue: the holder, or a supervisor on anyone's claim."""
    require_role(caller, "tracer", "supervisor", action="releasing a task")
    task = find_task(session, caller, task_id, lock=True)
    view = view_of(task)
    if caller.role == "tracer":
        transitions.check_holder(view, caller.user_id, now, "release")
    else:
        transitions.check_releasable_by_supervisor(view)
    released_from = task.claimed_by
    _unclaim(task, now)
    record_history(
        session,
        task_id=task_id,
        at=now,
        actor=caller.user_id,
        action="released",
        details={"from": released_from, "reason": reason},
    )
    audit(
        session,
        at=now,
        actor=caller.user_id,
        action="release",
        target=task_id,
        details={"from": released_from},
    )
    return present.task_summary(task, now=now)


def complete(
    session: Session,
    caller: Caller,
    task_id: str,
    *,
    outcome: str,
    note: str | None,
    classification: str,
    now: datetime,
) -> TaskView:
    """Record the outcome. ``tested_positive`` also publishes a ``cases`` record (outbox)."""
    require_role(caller, "tracer", action="completing a task")
    task = find_task(session, caller, task_id, lock=True)
    transitions.check_holder(view_of(task), caller.user_id, now, "complete")
    task.status, task.outcome, task.completed_at = "completed", outcome, now
    task.lease_expires_at, task.updated_at = None, now
    if note:
        session.add(TaskNote(task_id=task_id, author=caller.user_id, at=now, text=note))
    record_history(
        session,
        task_id=task_id,
        at=now,
        actor=caller.user_id,
        action="completed",
        details={"outcome": outcome, "round": task.round},
    )
    audit(
        session,
        at=now,
        actor=caller.user_id,
        action="complete",
        target=task_id,
        details={"outcome": outcome},
    )
    if outcome == "tested_positive":
        case = _case_record(session, task, classification, now)
        enqueue(session, topic="cases", key=task.person_id, value=case, now=now)
        record_history(
            session,
            task_id=task_id,
            at=now,
            actor=caller.user_id,
            action="case_reported",
            details={"case_id": case["case_id"]},
        )
    return present.task_summary(task, now=now)


def reassign(
    session: Session,
    caller: Caller,
    task_id: str,
    team_id: str,
    *,
    now: datetime,
    reason: str | None,
) -> TaskView:
    """Move a task to another team of the supervisor's subtree that covers its jurisdiction."""
    require_role(caller, "supervisor", action="reassigning a task")
    task = find_task(session, caller, task_id, lock=True)
    transitions.check_reassignable(view_of(task))
    team = session.get(Team, team_id)
    if team is None or not contains(caller.jurisdiction, team.jurisdiction):
        raise InvalidInput([Problem("team_id", f"no team {team_id} in your jurisdiction")])
    if task.jurisdiction is None or not contains(team.jurisdiction, task.jurisdiction):
        raise InvalidInput(
            [
                Problem(
                    "team_id",
                    f"team {team_id} works in {team.jurisdiction}, outside the task's "
                    f"jurisdiction {task.jurisdiction}",
                )
            ]
        )
    previous = task.team
    task.team = team_id
    if task.status == "claimed":
        _unclaim(task, now)
    task.updated_at = now
    record_history(
        session,
        task_id=task_id,
        at=now,
        actor=caller.user_id,
        action="reassigned",
        details={"from": previous, "to": team_id, "reason": reason},
    )
    audit(
        session,
        at=now,
        actor=caller.user_id,
        action="reassign",
        target=task_id,
        details={"from": previous, "to": team_id},
    )
    return present.task_summary(task, now=now)


def _unclaim(task: ScreeningTask, now: datetime) -> None:
    task.status, task.claimed_by, task.claimed_at, task.lease_expires_at = "open", None, None, None
    task.updated_at = now


def _case_record(
    session: Session, task: ScreeningTask, classification: str, now: datetime
) -> dict[str, Any]:
    """The new case as the ``cases`` contract has it; the event id makes re-publishing harmless."""
    person = repository.person(session, task.person_id)
    residence_city = city_of(person.residence_code[:6]) if person else None
    city = residence_city or task.city_code or next(iter(exposure_cities(task.evidence)), None)
    case_id = f"tracking-{task.task_id}-r{task.round}"
    record = CaseRecord.model_validate(
        {
            "event_id": case_id,
            "case_id": case_id,
            "person_id": task.person_id,
            "classification": classification,
            "reported_at": now.isoformat(),
            "city_code": city,
            "source": "tracking",
            "task_id": task.task_id,
        }
    )
    return record.model_dump(mode="json", exclude_none=True)
