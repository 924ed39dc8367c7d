"""The tracking service's tables, as SQLAlchemy 2.0 typed declarative models.

These are the declared schema; the Alembic migrations under `services/tracking/migrations/` must
produce exactly this (a test compares them). The same tables run on PostgreSQL (production) and
SQLite (the embedded runtime), so types are portable: JSON becomes JSONB on PostgreSQL only, and
times go through `UTCDateTime`, which hands back aware UTC datetimes from both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Index, Integer, MetaData, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Deterministic constraint and index names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON documents: JSONB on PostgreSQL (indexable, compact), plain JSON (text) elsewhere.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """`timestamptz` on PostgreSQL; on SQLite, which keeps no zone, stored and read back as UTC.

    Naive datetimes are refused on the way in: CONTRACTS.md times always carry an offset, and a
    naive one is a bug that would silently shift deadlines by the server's zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: task times must carry an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the tracking service; its `metadata` is what migrations must match."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ScreeningTask(Base):
    """A screening task (排查任务): who must be screened, by when, by which team, and why.

    Fields as CONTRACTS.md names them (and `schemas.tasks.ScreeningTask` validates them). One open
    task per person; `version` is the task's own version as the stream processors push it (a later
    record for the same person replaces an earlier one), not an ORM lock counter.
    """

    __tablename__ = "screening_tasks"

    task_id: Mapped[str] = mapped_column(Text, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    jurisdiction: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        # The queue a team works: its jurisdiction's open tasks, most urgent deadline first.
        Index(None, "jurisdiction", "status", "due_at"),
    )


class ConsumedRecord(Base):
    """A record the tracking service has already applied, for idempotent ingestion.

    Written in the same transaction as the record's effect, under a primary key that rejects a
    replay (the consumed-ids pattern of INFRA-NOTES.md): Kafka delivers at least once, and a re-sent
    or re-delivered record must change nothing. `record_id` is the consumer's choice of identity:
    the record's event or task version id when it has one, else `"<partition>:<offset>"`.
    Partition and offset are kept either way, to trace an effect back to its record.
    """

    __tablename__ = "consumed_records"

    topic: Mapped[str] = mapped_column(Text, primary_key=True)
    record_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kafka_partition: Mapped[int | None] = mapped_column(Integer)
    kafka_offset: Mapped[int | None] = mapped_column(BigInteger)
    consumed_at: Mapped[datetime] = mapped_column(UTCDateTime)
