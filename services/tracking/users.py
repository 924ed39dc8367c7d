"""Users, roles and bearer tokens: what ``paicha users ...`` and the admin API both call.

A token is 256 random bits shown once at issue; the database keeps only its SHA-256, which is
enough for a secret nobody can guess (a slow password hash buys nothing here). A revoked user
keeps the row, so the audit log's names stay meaningful, and every token of theirs stops working.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from paicha.errors import InvalidInput, Problem
from services.tracking.access import ROLES, Caller, Role
from services.tracking.audit import audit
from services.tracking.codes import contains, is_code
from services.tracking.db.models import ApiToken, Jurisdiction, Team, User
from services.tracking.errors import NotFound

TOKEN_PREFIX = "pch_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: Session,
    *,
    user_id: str,
    role: str,
    jurisdiction: str | None,
    team_id: str | None,
    name: str | None,
    actor: Caller | None,
    now: datetime,
) -> dict[str, Any]:
    """Create a user. A tracer needs a team; its jurisdiction defaults to the team's.

    ``actor`` None is the operator at the command line; an admin may only add users inside
    their own subtree.
    """
    if role not in ROLES:
        raise InvalidInput([Problem("role", f"must be one of {', '.join(ROLES)}")])
    if session.get(User, user_id) is not None:
        raise InvalidInput([Problem("user_id", f"user {user_id} already exists")])
    team = None
    if team_id is not None:
        team = session.get(Team, team_id)
        if team is None or (
            actor is not None and not contains(actor.jurisdiction, team.jurisdiction)
        ):
            raise InvalidInput([Problem("team_id", f"no team {team_id}")])
    elif role == "tracer":
        raise InvalidInput([Problem("team_id", "a tracer must belong to a team")])
    code = jurisdiction or (team.jurisdiction if team is not None else None)
    if code is None:
        raise InvalidInput([Problem("jurisdiction", "required unless a team gives it")])
    if not is_code(code) or session.get(Jurisdiction, code) is None:
        raise InvalidInput(
            [
                Problem(
                    "jurisdiction",
                    f"unknown jurisdiction {code}; "
                    "load jurisdictions first (paicha users jurisdictions)",
                )
            ]
        )
    if actor is not None and not contains(actor.jurisdiction, code):
        raise InvalidInput([Problem("jurisdiction", f"unknown jurisdiction {code}")])
    if (
        team is not None
        and not contains(code, team.jurisdiction)
        and not contains(team.jurisdiction, code)
    ):
        raise InvalidInput([Problem("team_id", f"team {team_id} works outside {code}")])
    user = User(
        user_id=user_id, name=name, role=role, team_id=team_id, jurisdiction=code, created_at=now
    )
    session.add(user)
    session.flush()
    audit(
        session,
        at=now,
        actor=_who(actor),
        action="add_user",
        target=user_id,
        details={"role": role, "jurisdiction": code, "team_id": team_id},
    )
    return user_view(user)


def issue_token(
    session: Session, user_id: str, *, label: str | None, actor: Caller | None, now: datetime
) -> str:
    """A new bearer token for an active user; the plaintext is returned once, never stored."""
    user = _visible_user(session, user_id, actor)
    if user.revoked_at is not None:
        raise InvalidInput([Problem("user_id", f"user {user_id} is revoked")])
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(token_hash=hash_token(token), user_id=user_id, label=label, created_at=now)
    )
    audit(
        session,
        at=now,
        actor=_who(actor),
        action="issue_token",
        target=user_id,
        details={"label": label},
    )
    return token


def revoke_user(session: Session, user_id: str, *, actor: Caller | None, now: datetime) -> None:
    """Revoke the user and every token they hold."""
    user = _visible_user(session, user_id, actor)
    user.revoked_at = user.revoked_at or now
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit(session, at=now, actor=_who(actor), action="revoke_user", target=user_id)


def list_users(session: Session, *, actor: Caller | None) -> list[dict[str, Any]]:
    """Users inside the actor's subtree (all of them for the operator)."""
    users = session.scalars(select(User).order_by(User.user_id))
    return [
        user_view(user)
        for user in users
        if actor is None or contains(actor.jurisdiction, user.jurisdiction)
    ]


def authenticate(session: Session, token: str) -> Caller | None:
    """The caller a bearer token belongs to, or None when unknown or revoked."""
    row = session.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.user_id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.revoked_at.is_(None),
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return Caller(
        user_id=row.user_id,
        role=cast(Role, row.role),
        jurisdiction=row.jurisdiction,
        team_id=row.team_id,
    )


def user_view(user: User) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "name": user.name,
        "role": user.role,
        "team_id": user.team_id,
        "jurisdiction": user.jurisdiction,
        "created_at": user.created_at,
        "revoked_at": user.revoked_at,
    }


def _visible_user(session: Session, user_id: str, actor: Caller | None) -> User:
    user = session.get(User, user_id)
    if user is None or (actor is not None and not contains(actor.jurisdiction, user.jurisdiction)):
        raise NotFound(f"no user {user_id}")
    return user


def _who(actor: Caller | None) -> str | None:
    return None if actor is None else actor.user_id
