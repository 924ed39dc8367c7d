"""What every tracking table shares: the declarative base, its naming convention, portable types.

The same tables run on PostgreSQL (production) and SQLite (the embedded runtime), so the types
are portable: JSON becomes JSONB on PostgreSQL only, times go through ``UTCDateTime``, which hands
back aware UTC datetimes from both, and surrogate keys are BIGINT on PostgreSQL but INTEGER on
SQLite (the only type SQLite auto-increments).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
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

# An auto-incrementing surrogate key on both databases.
SerialKey = BigInteger().with_variant(Integer(), "sqlite")


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
