"""Who may see and do what: jurisdictions, teams, users and their tokens, and the audit log.

Jurisdictions form the GB/T 2260 tree (``codes``): each row knows its ``parent_code`` and
``level``; "the subtree of X" is ``code LIKE prefix%`` over a small table, or, for tasks, one
equality on the ancestor column of X's level. A team covers jurisdictions (``team_coverage``),
each covered by at most one team, so routing is never ambiguous.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.tracking.db.base import Base, JSONDocument, SerialKey, UTCDateTime


class Jurisdiction(Base):
    """A province, city, district, street or community (社区), by its code."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"), index=True)


class Team(Base):
    """A screening team (排查专班), filed under the jurisdiction it works in."""

    __tablename__ = "teams"

    team_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)


class TeamCoverage(Base):
    """A jurisdiction a team screens; the primary key makes one team per jurisdiction."""

    __tablename__ = "team_coverage"

    jurisdiction_code: Mapped[str] = mapped_column(
        ForeignKey("jurisdictions.code"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id"), index=True)


class User(Base):
    """A person who calls the API: a tracer (of a team), a supervisor, an admin, or a feed.

    ``jurisdiction`` bounds everything the user can see; a revoked user keeps the row (the audit
    log names it) but no token of theirs works.
    """

    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.team_id"))
    jurisdiction: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token, stored only as its SHA-256: the database never holds a usable secret.

    A plain hash suffices (no bcrypt): tokens are 256 random bits, not guessable passwords.
    """

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only: every read of personal data and every change, by whom and when.

    Written in the same transaction as what it records, so nothing happens unaudited; the
    migration adds triggers that refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str | None] = mapped_column(Text, index=True)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
