"""Applying what the stream processors and the registry publish: ``screening-tasks``, ``persons``.

Plain handlers over a session. Each records what it consumed (``consumed_records``) in the same
transaction as its effect, under a key that rejects a replay, so a record delivered twice, or a
whole topic replayed, changes nothing. A task record is identified by ``<task_id>:v<version>``;
on top of that only a version newer than the stored one does anything (``transitions``).

Routing is decided when a task arrives, re-decided when the person's residence becomes known
(a ``persons`` record) while the task is still unclaimed, and never overrides a supervisor's
reassignment otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.feeds import PersonRecord
from schemas.tasks import ScreeningTask as TaskRecord
from services.tracking import transitions
from services.tracking.audit import record_history
from services.tracking.codes import Level, ancestry, is_code
from services.tracking.db.models import ConsumedRecord, Person, ScreeningTask
from services.tracking.lookup import view_of
from services.tracking.routing import Route, exposure_cities, route, routing_candidates


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from, kept with what it did."""

    topic: str
    partition: int | None = None
    offset: int | None = None


def already_consumed(session: Session, topic: str, record_id: str) -> bool:
    return session.get(ConsumedRecord, (topic, record_id)) is not None


def mark_consumed(session: Session, source: Source, record_id: str, now: datetime) -> None:
    session.add(
        ConsumedRecord(
            topic=source.topic,
            record_id=record_id,
            kafka_partition=source.partition,
            kafka_offset=source.offset,
            consumed_at=now,
        )
    )


def apply_task(
    session: Session,
    record: TaskRecord,
    *,
    source: Source,
    coverage: Mapping[str, str],
    now: datetime,
) -> transitions.UpstreamAction | None:
    """Upsert one task by id when its version is newer; None when this record was seen before."""
    record_id = f"{record.task_id}:v{record.version}"
    if already_consumed(session, source.topic, record_id):
        return None
    mark_consumed(session, source, record_id, now)
    task = session.get(ScreeningTask, record.task_id, with_for_update=True)
    evidence = [item.model_dump(mode="json", exclude_none=True) for item in record.evidence]
    latest = max((item.detected_at for item in record.evidence), default=None)
    incoming = transitions.Upstream(record.version, record.status, latest)
    action = transitions.merge_upstream(None if task is None else view_of(task), incoming)
    origin = {"version": record.version, "partition": source.partition, "offset": source.offset}
    if action == "stale":
        return action
    if task is None:
        task = ScreeningTask(
            task_id=record.task_id,
            person_id=record.person_id,
            round=1,
            created_at=now,
            status=record.status,
        )
        _set_upstream_fields(task, record, evidence)
        _set_route(task, _route_for(session, task, record.jurisdiction, coverage))
        task.close_reason = record.close_reason
        session.add(task)
        session.flush()
        _history(session, task, now, "created", origin)
    elif action == "update":
        before = (task.kind, task.due_at)
        _set_upstream_fields(task, record, evidence)
        if task.team is None:
            _set_route(task, _route_for(session, task, record.jurisdiction, coverage))
        _history(
            session, task, now, transitions.describe_update(*before, task.kind, task.due_at), origin
        )
    elif action == "close":
        task.status, task.close_reason, task.version = (
            record.status,
            record.close_reason,
            (record.version),
        )
        task.lease_expires_at = None
        _history(session, task, now, record.status, {**origin, "reason": record.close_reason})
    elif action == "reopen":
        previous = {
            "previous_status": task.status,
            "previous_outcome": task.outcome,
            "previous_claimed_by": task.claimed_by,
            "previous_completed_at": _iso(task.completed_at),
        }
        task.status, task.round, task.close_reason = "open", task.round + 1, None
        task.claimed_by = task.claimed_at = task.lease_expires_at = task.completed_at = None
        task.outcome = None
        task.at_risk_at = task.overdue_at = None  # a new round gets its own deadline watch
        _set_upstream_fields(task, record, evidence)
        _set_route(task, _route_for(session, task, record.jurisdiction, coverage))
        _history(session, task, now, "reopened", {**origin, **previous})
    else:  # "record": the queue keeps its state (a completion is never undone upstream)
        task.version = record.version
        _history(
            session,
            task,
            now,
            "upstream_noted",
            {**origin, "upstream_status": record.status, "reason": record.close_reason},
        )
    task.updated_at = now
    return action


def apply_person(
    session: Session,
    record: PersonRecord,
    *,
    source: Source,
    record_id: str,
    coverage: Mapping[str, str],
    now: datetime,
) -> bool:
    """Replace the person's registry entry; re-route their unclaimed open task. False: a replay."""
    if already_consumed(session, source.topic, record_id):
        return False
    mark_consumed(session, source, record_id, now)
    person = session.get(Person, record.person_id)
    if person is None:
        person = Person(person_id=record.person_id)
        session.add(person)
    person.residence_code, person.name, person.phone = (
        record.residence_code,
        record.name,
        record.phone,
    )
    person.updated_at = now
    session.flush()
    tasks = session.scalars(
        select(ScreeningTask)
        .where(ScreeningTask.person_id == record.person_id, ScreeningTask.status == "open")
        .with_for_update()
    )
    for task in tasks:
        new_route = _route_for(session, task, task.jurisdiction, coverage)
        if (new_route.jurisdiction, new_route.team) != (task.jurisdiction, task.team):
            before = {"from_jurisdiction": task.jurisdiction, "from_team": task.team}
            _set_route(task, new_route)
            task.updated_at = now
            _history(
                session,
                task,
                now,
                "rerouted",
                {**before, "to_jurisdiction": task.jurisdiction, "to_team": task.team},
            )
    return True


def _route_for(
    session: Session,
    task: ScreeningTask,
    task_jurisdiction: str | None,
    coverage: Mapping[str, str],
) -> Route:
    person = session.get(Person, task.person_id)
    residence = person.residence_code if person is not None else None
    cities = exposure_cities(task.evidence or [])
    return route(routing_candidates(residence, task_jurisdiction, cities), coverage)


def _set_route(task: ScreeningTask, chosen: Route) -> None:
    task.jurisdiction, task.team = chosen.jurisdiction, chosen.team
    chain: Mapping[Level, str] = (
        ancestry(chosen.jurisdiction)
        if chosen.jurisdiction and is_code(chosen.jurisdiction)
        else {}
    )
    task.province_code = chain.get("province")
    task.city_code = chain.get("city")
    task.district_code = chain.get("district")
    task.street_code = chain.get("street")


def _set_upstream_fields(task: ScreeningTask, record: TaskRecord, evidence: list[Any]) -> None:
    task.kind, task.detected_at, task.due_at = record.kind, record.detected_at, record.due_at
    task.evidence, task.version = evidence, record.version


def _history(
    session: Session, task: ScreeningTask, now: datetime, action: str, details: dict[str, Any]
) -> None:
    record_history(
        session, task_id=task.task_id, at=now, actor=None, action=action, details=details
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
