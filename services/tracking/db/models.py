"""The tracking service's task tables, as SQLAlchemy 2.0 typed declarative models.

These are the declared schema; the Alembic migrations under `services/tracking/migrations/` must
produce exactly this (a test compares them). The directory tables (jurisdictions, teams, users,
tokens) and the audit log live in `directory_models`, imported here so that `Base.metadata` is
always the whole schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.tracking.db.base import Base, JSONDocument, SerialKey, UTCDateTime
from services.tracking.db.directory_models import (
    ApiToken,
    AuditEntry,
    Jurisdiction,
    Team,
    TeamCoverage,
    User,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "ConsumedRecord",
    "Jurisdiction",
    "OutboxRecord",
    "Person",
    "ScreeningTask",
    "TaskHistory",
    "TaskNote",
    "Team",
    "TeamCoverage",
    "User",
]

# Claimable rows come from two small partial indexes: the open queue, ordered as it is claimed,
# and the live claims by lease expiry, where an expired one is found without scanning the rest.
OPEN = "status = 'open'"
CLAIMED = "status = 'claimed'"
# What the deadline watch looks at: tasks still being worked and not yet marked overdue.
WATCHED = "status IN ('open', 'claimed') AND overdue_at IS NULL"


class ScreeningTask(Base):
    """A screening task (排查任务): who must be screened, by when, by which team, and why.

    Upstream fields (kind, deadlines, evidence, ``version``) come from ``screening-tasks``; the
    tracking service adds routing (``jurisdiction``, its ancestors, ``team``) and the tracer side
    (claim, lease, outcome). ``version`` is the upstream version last applied, not an ORM lock
    counter; ``round`` counts re-openings after completion (see ``transitions``).

    ``province_code`` .. ``street_code`` are the ancestors of ``jurisdiction`` (``codes.ancestry``)
    so that "the tasks under X" is one equality on an indexed column.
    """

    __tablename__ = "screening_tasks"

    task_id: Mapped[str] = mapped_column(Text, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    jurisdiction: Mapped[str | None] = mapped_column(Text)
    province_code: Mapped[str | None] = mapped_column(Text, index=True)
    city_code: Mapped[str | None] = mapped_column(Text, index=True)
    district_code: Mapped[str | None] = mapped_column(Text, index=True)
    street_code: Mapped[str | None] = mapped_column(Text, index=True)
    team: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    round: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The deadline watch's marks (``watch``): set once per round, cleared when a task re-opens.
    at_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "jurisdiction", "status", "due_at"),
        # The queue a team works and claims from: most urgent deadline first. Claimed rows leave
        # it, so a claim never walks past the ones taken before it.
        Index(
            "ix_screening_tasks_open_queue",
            "team",
            "due_at",
            postgresql_where=text(OPEN),
            sqlite_where=text(OPEN),
        ),
        # Expired claims are claimable again: claim-next looks for its team's (migration 0007).
        Index(
            "ix_screening_tasks_leases",
            "team",
            "lease_expires_at",
            postgresql_where=text(CLAIMED),
            sqlite_where=text(CLAIMED),
        ),
        Index(
            "ix_screening_tasks_watched",
            "due_at",
            postgresql_where=text(WATCHED),
            sqlite_where=text(WATCHED),
        ),
    )


class TaskHistory(Base):
    """Append-only history of every change to a task: who (``actor``; None: upstream or the
    system), when, what (``action`` and ``details``). The migration adds triggers that refuse
    UPDATE and DELETE on this table."""

    __tablename__ = "task_history"

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("screening_tasks.task_id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)


class TaskNote(Base):
    """A progress note (流调记录) a tracer or supervisor wrote on a task."""

    __tablename__ = "task_notes"

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("screening_tasks.task_id"), index=True)
    author: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)


class Person(Base):
    """The person registry as the ``persons`` topic last said it: residence and contact details.

    Personal data: shown only to the tracer holding a claim and to supervisors, and every read is
    audited.
    """

    __tablename__ = "persons"

    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    residence_code: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsumedRecord(Base):
    """A record the tracking service has already applied, for idempotent ingestion.

    Written in the same transaction as the record's effect, under a primary key that rejects a
    replay (the consumed-ids pattern of INFRA-NOTES.md): Kafka delivers at least once, and a re-sent
    or re-delivered record must change nothing. `record_id` is the consumer's choice of identity:
    ``<task_id>:v<version>`` for a task, ``<partition>:<offset>`` for a persons record.
    Partition and offset are kept either way, to trace an effect back to its record.
    """

    __tablename__ = "consumed_records"

    topic: Mapped[str] = mapped_column(Text, primary_key=True)
    record_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kafka_partition: Mapped[int | None] = mapped_column(Integer)
    kafka_offset: Mapped[int | None] = mapped_column(BigInteger)
    consumed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxRecord(Base):
    """A record to publish (a new case, a dead letter), written in the transaction that caused it.

    The transactional outbox: a completion with ``tested_positive`` and its ``cases`` record
    commit together or not at all; a relay publishes pending rows afterwards and stamps
    ``published_at``. A crash between publish and stamp re-publishes, which is harmless because
    the record's ``event_id`` is deterministic.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
